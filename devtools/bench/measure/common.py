"""What every section of the benchmark shares: where things are, statistics, interleaved timing, the machine's
load. Nothing here starts a process (processes.py does) or writes the report (devtools/bench/report/)."""
from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pose_ros.core.config import PoseConfig
from pose_ros.core.profiles import load_profile
from pose_ros.core.stream import Frame
from pose_ros.tools.sample_data import cache_dir

REPO = Path(__file__).resolve().parents[3]
BENCH = REPO / "devtools" / "bench"
PHOTOS = ("astronaut.png", "camera.png", "grace_hopper.jpg", "bus.jpg", "zidane.jpg")
ONE_PERSON_PHOTOS = ("astronaut.png", "camera.png", "grace_hopper.jpg")
NODE_CONFIGS = ("yolo11n_pose", "blazepose_full", "blazepose_full_yolo")
STAGES = ("detect", "preprocess", "infer", "decode")
SETTLE_S = 0.05
TOOLS_PYTHON = cache_dir() / "venv-tools" / "bin" / "python"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def stats_ms(samples_s) -> dict:
    a = np.asarray(samples_s, np.float64) * 1e3
    if a.size == 0:
        return {"median_ms": None, "p10_ms": None, "p90_ms": None, "n": 0}
    return {"median_ms": float(np.median(a)), "p10_ms": float(np.percentile(a, 10)),
            "p90_ms": float(np.percentile(a, 90)), "n": int(a.size)}


def median_ms(samples_s) -> float | None:
    return stats_ms(samples_s)["median_ms"]



def median_of(values) -> float | None:
    """Median of the values that are not None (None if there are none)."""
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def round_robin(cases: dict, warmup: int, runs: int) -> dict:
    """Call every case once per round (warm-up rounds first, not kept); case -> list of samples it returned."""
    samples = {key: [] for key in cases}
    for round_ in range(warmup + runs):
        for key, fn in cases.items():
            sample = fn()
            if round_ >= warmup:
                samples[key].append(sample)
    return samples


def timed_call(estimator, image):
    def call() -> dict:
        t0 = time.perf_counter()
        poses = estimator(image)
        total = time.perf_counter() - t0
        return {"total": total, "people": len(poses), **estimator.timings}
    return call


def summarize_pipeline(samples: list[dict]) -> dict:
    stages = {s: median_ms([x[s] for x in samples]) for s in STAGES if s in samples[0]}
    total = stats_ms([x["total"] for x in samples])
    people = int(np.median([x["people"] for x in samples]))
    return {"people": people, "stages": stages, "total_ms": total["median_ms"], "total_p90_ms": total["p90_ms"],
            "n": total["n"]}


def image_label(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


def settled(sample):
    """Pause after a frame before the next engine's: ONNX Runtime's worker threads busy-wait for a while after
    a run when spinning is on (ultralytics' session keeps ORT's default, on), and would steal the cores from
    whatever runs next in another process."""
    time.sleep(SETTLE_S)
    return sample


class AutoStreamCall:
    """A PoseStream (mode auto) called like an estimator: image -> Poses, with ``timings`` and ``mode``."""

    def __init__(self, stream):
        self.stream, self.timings, self._frames = stream, {}, 0

    @property
    def mode(self) -> str:
        return self.stream.mode

    def __call__(self, image):
        self._frames += 1
        result = self.stream.process(Frame(image, self._frames * 0.1))
        self.timings = {k: v for k, v in result.stages.items() if k in STAGES}
        return result.poses


def loadavg() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


class CpuMonitor:
    """How busy the machine was with OTHER work: CPU time of the whole machine (/proc/stat) minus this
    process' and its waited-for children's (getrusage), over a span, as a share of all cores."""

    def __init__(self):
        self._tick = os.sysconf("SC_CLK_TCK")

    def snapshot(self) -> tuple[float, float, float, float]:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, irq, softirq, steal = [int(v) for v in f.readline().split()[1:9]]
        mine = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        return (time.monotonic(), (user + nice + system + irq + softirq) / self._tick, steal / self._tick,
                sum(r.ru_utime + r.ru_stime for r in mine))

    @staticmethod
    def others(before, after) -> dict:
        wall = max(after[0] - before[0], 1e-9) * (os.cpu_count() or 1)
        return {"others": max(after[1] - before[1] - (after[3] - before[3]), 0.0) / wall,
                "steal": (after[2] - before[2]) / wall, "ours": (after[3] - before[3]) / wall}


def wait_for_quiet(monitor: "CpuMonitor", threshold: float, max_wait_s: float, window_s: float = 3.0) -> float:
    """Wait (at most ``max_wait_s``) until other processes used less than ``threshold`` of the CPU over the
    last ``window_s``; returns their last measured share. The benchmark cannot stop others, only avoid their
    peaks (the report says how busy they kept the machine)."""
    deadline, last_log = time.monotonic() + max_wait_s, 0.0
    while True:
        before = monitor.snapshot()
        time.sleep(window_s)
        others = CpuMonitor.others(before, monitor.snapshot())["others"]
        if others < threshold or time.monotonic() > deadline:
            return others
        if time.monotonic() - last_log > 15:
            log(f"   waiting for a quieter machine: other processes use {others:.0%} of the CPU")
            last_log = time.monotonic()


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        found = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if found:
            return found.group(1).strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def proc_status_mb(pid: int) -> dict[str, float]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) / 1024
    return out


def named_config(name: str) -> PoseConfig:
    """The config a section row is named after: config/<name>.yaml on the CPU; "<name> (tiling off)" is the same
    with the BlazePose detector's tiles off (MediaPipe's own behaviour)."""
    base, tiling_off = (name[:-len(" (tiling off)")], True) if name.endswith(" (tiling off)") else (name, False)
    return load_profile(base, device="cpu", **({"detector_tiling": False} if tiling_off else {}))


@dataclass
class BenchContext:
    """What a section's ``measure(ctx)`` gets: the run's settings, the photos, a work folder, the results so far
    (read-only: a section returns its data, run_bench.py stores it), and estimators built once per config."""

    warmup: int
    runs: int
    photo_paths: dict[str, Path]
    images: dict[str, np.ndarray]
    work: Path
    node_configs: tuple[str, ...]
    shm_profile: Path | None
    results: dict = field(default_factory=dict)
    _estimators: dict = field(default_factory=dict)

    def estimator(self, name: str):
        """The core estimator of ``named_config(name)``, built on first use and kept for the run."""
        from pose_ros.core.pipeline import build_estimator

        if name not in self._estimators:
            self._estimators[name] = build_estimator(named_config(name))
        return self._estimators[name]

    def raw_floor_ms(self, model: str) -> float | None:
        """Section raw's median for ``model`` in this run, if it ran."""
        return next((r["median_ms"] for r in self.results.get("raw_ort", []) if r["model"] == model), None)
