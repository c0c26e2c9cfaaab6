"""make gpu-check (devtools/gpu_check/run_gpu_check.py) where there is no GPU: the "no CUDA device" report at once;
a CUDA machine without onnxruntime-gpu: what it skipped and why; and a CPU rehearsal of every section, so the script
that no GPU has run yet is at least known to run."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devtools.gpu_check import run_gpu_check  # noqa: E402

pytestmark = pytest.mark.skipif(run_gpu_check.cuda_device() is not None,
                                reason="a CUDA machine: run make gpu-check itself (these tests are its no-GPU cases)")


def test_make_gpu_check_without_a_cuda_device_says_so_and_exits_0_quickly(tmp_path):
    start = time.monotonic()
    run = subprocess.run(["make", "-s", "gpu-check", f"ARGS=--out {tmp_path}"], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - start < 60
    assert "no CUDA device" in run.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "no_cuda_device" and report["sections"] == {}
    assert "**no CUDA device**: nothing was measured" in (tmp_path / "report.md").read_text()


def test_a_cuda_machine_without_onnxruntime_gpu_runs_what_it_can_and_says_what_it_skipped(tmp_path, monkeypatch):
    """As on a machine with a GPU and torch but the CPU onnxruntime (the GPU wheel could not be installed)."""
    monkeypatch.setattr(run_gpu_check, "cuda_device", lambda: "simulated GPU, 80 GiB")
    assert run_gpu_check.main(["--out", str(tmp_path), "--sections", "providers,latency,fp16,cache,preprocess"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    sections = report["sections"]
    assert [r["skipped"] for r in sections["providers"]["data"]["rows"]] and all(
        "has no" in r["skipped"] and "onnxruntime-gpu" in r["skipped"] for r in sections["providers"]["data"]["rows"])
    for name in ("latency", "fp16", "cache"):
        assert sections[name]["status"] == "skipped" and "has no" in sections[name]["reason"]
    # torch pre-processing needs only torch with CUDA: here torch has none, and the report says so
    assert sections["preprocess"]["status"] == "skipped" and "torch cannot use CUDA" in \
        sections["preprocess"]["reason"]
    text = (tmp_path / "report.md").read_text()
    assert "## latency: skipped" in text and "## preprocess: skipped" in text


def test_a_cpu_rehearsal_runs_every_section(tmp_path, photos):
    run = subprocess.run([sys.executable, str(REPO / "devtools" / "gpu_check" / "run_gpu_check.py"),
                          "--cpu-rehearsal", "--out", str(tmp_path), "--image", str(photos["bus.jpg"])],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert {name: s["status"] for name, s in report["sections"].items()} == dict.fromkeys(
        ("providers", "latency", "preprocess", "fp16", "cache"), "ok"), report["sections"]
    latency = report["sections"]["latency"]["data"]["rows"]
    assert {row["case"] for row in latency} == {"cuda", "tensorrt", "tensorrt no profile"}
    assert report["sections"]["preprocess"]["data"]["letterbox"]["max_grey"] <= 2
    fp16 = report["sections"]["fp16"]["data"]
    assert fp16["matched"] >= 3 and fp16["keypoint_px"]["max"] == 0  # the same provider twice: identical
    cache = {row["case"]: row for row in report["sections"]["cache"]["data"]["rows"]}
    assert cache["missing"]["exists"] and "_fp32_b1-4" in cache["missing"]["versioned"]
    assert "cannot be used" in cache["read-only"]["versioned"]
    assert "**CPU rehearsal**" in (tmp_path / "report.md").read_text()
