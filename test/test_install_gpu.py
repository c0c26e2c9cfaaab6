"""The GPU install path, as far as a CPU machine can check it: the GPU requirement set and `pose_ros[gpu]` resolve
against PyPI with versions that exist, bring CUDA 13 / cuDNN 9 libraries, and never the CPU onnxruntime beside
onnxruntime-gpu (both install the same `onnxruntime` module directory and overwrite each other's files).

Resolution is pip's own (`pip install --dry-run --report`) with `--use-feature=fast-deps`: the onnxruntime-gpu
wheel (255 MB) and the nvidia-* wheels have no separate metadata on PyPI, so without it pip downloads ~1 GB to
read their dependencies; with it pip reads them by HTTP range requests (a few seconds). Skipped, with the reason,
when PyPI cannot be reached.
"""
from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pose_ros.core.runtime import gpu

REPO = Path(__file__).resolve().parents[1]
RUNTIME, RUNTIME_GPU = REPO / "requirements" / "runtime.txt", REPO / "requirements" / "runtime-gpu.txt"
CPU_PACKAGE, GPU_PACKAGE = "onnxruntime", "onnxruntime-gpu"


def requirement_lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


def name_of(requirement: str) -> str:
    return re.split(r"[\[=<>~!; ]", requirement, maxsplit=1)[0].lower()


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    return config


def test_the_gpu_set_is_the_cpu_set_with_onnxruntime_gpu_in_place_of_onnxruntime():
    cpu, gpu_set = requirement_lines(RUNTIME), requirement_lines(RUNTIME_GPU)
    assert [r for r in cpu if name_of(r) != CPU_PACKAGE] == [r for r in gpu_set if name_of(r) != GPU_PACKAGE]
    assert CPU_PACKAGE not in {name_of(r) for r in gpu_set}
    assert [r for r in gpu_set if name_of(r) == GPU_PACKAGE] == ["onnxruntime-gpu[cuda,cudnn]==1.31.1"]


def test_the_package_requires_no_onnxruntime_and_its_gpu_extra_has_the_gpu_sets_pin():
    config = setup_cfg()
    install_requires = {name_of(r) for r in config["options"]["install_requires"].split("\n") if r.strip()}
    assert not install_requires & {CPU_PACKAGE, GPU_PACKAGE}  # else pose_ros[gpu] pulls the CPU package back in
    extras = config["options.extras_require"]
    assert extras["gpu"].strip() == next(r for r in requirement_lines(RUNTIME_GPU) if name_of(r) == GPU_PACKAGE)
    assert name_of(extras["cpu"].strip()) == CPU_PACKAGE


def test_two_onnxruntime_distributions_installed_together_are_warned_about(caplog):
    assert gpu.check_distributions((CPU_PACKAGE,)) is None
    said = gpu.check_distributions((CPU_PACKAGE, GPU_PACKAGE))
    assert "overwrite each other's files" in said and "pip uninstall -y onnxruntime onnxruntime-gpu" in said


def pip_resolve(tmp_path: Path, *args: str) -> dict[str, str]:
    """{distribution: version} that pip would install for ``args`` into an empty environment."""
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                          "--use-feature=fast-deps", "--no-build-isolation", "--report", str(report), *args],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    if run.returncode != 0:
        if re.search(r"(?i)connection|network is unreachable|temporary failure|name resolution|timed out", run.stderr):
            pytest.skip(f"PyPI unreachable: {run.stderr.strip().splitlines()[-1]}")
        raise AssertionError(f"pip could not resolve {args}:\n{run.stderr[-3000:]}")
    return {item["metadata"]["name"].lower(): item["metadata"]["version"]
            for item in json.loads(report.read_text())["install"]}


@pytest.fixture(scope="module")
def pypi():
    run = subprocess.run([sys.executable, "-m", "pip", "index", "versions", GPU_PACKAGE], capture_output=True,
                         text=True, timeout=120)
    if "Available versions" not in run.stdout:
        pytest.skip(f"PyPI unreachable (pip index versions {GPU_PACKAGE}: "
                    f"{(run.stderr.strip().splitlines() or ['no answer'])[-1]})")
    return run.stdout


def test_the_pinned_onnxruntime_gpu_exists_and_no_1_32_does(pypi):
    versions = re.search(r"Available versions: (.*)", pypi).group(1).split(", ")
    assert "1.31.1" in versions and not any(v.startswith("1.32") for v in versions)


def test_the_gpu_requirement_set_resolves_with_cuda_13_and_cudnn_9_and_without_the_cpu_package(pypi, tmp_path):
    resolved = pip_resolve(tmp_path, "-r", str(RUNTIME_GPU))
    assert resolved[GPU_PACKAGE] == "1.31.1"
    assert CPU_PACKAGE not in resolved
    assert resolved["nvidia-cuda-runtime"].startswith("13.") and resolved["nvidia-cudnn-cu13"].startswith("9.")


@pytest.mark.parametrize("extra, present, absent", [("gpu", GPU_PACKAGE, CPU_PACKAGE),
                                                     ("cpu", CPU_PACKAGE, GPU_PACKAGE)])
def test_pose_ros_with_each_extra_resolves_to_one_onnxruntime(pypi, tmp_path, extra, present, absent):
    project = tmp_path / "project"  # a copy: building the metadata writes an egg-info next to setup.cfg
    project.mkdir()
    for name in ("setup.py", "setup.cfg"):
        shutil.copy(REPO / name, project / name)
    shutil.copytree(REPO / "pose_ros", project / "pose_ros", ignore=shutil.ignore_patterns("__pycache__"))
    resolved = pip_resolve(tmp_path, f"{project}[{extra}]")
    assert present in resolved and absent not in resolved
