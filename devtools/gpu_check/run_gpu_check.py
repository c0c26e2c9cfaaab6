#!/usr/bin/env python3
"""make gpu-check: what pose_ros's GPU path does on this machine, in one command (under 10 minutes on a CUDA machine).

    python devtools/gpu_check/run_gpu_check.py [--out out/gpu_check] [--budget-s 540] [--runs 20] [--image PATH]
    python devtools/gpu_check/run_gpu_check.py --cpu-rehearsal   # every section on the CPU provider, 2 runs each:
                                                                  # checks this script, measures no GPU

Sections (run in the order providers, preprocess, cache, fp16, latency; each ends ok, skipped (why) or failed
(the error); the report lists them all):
  environment  GPU and driver, CUDA / cuDNN / TensorRT, the onnxruntime package and its providers, torch, what
               onnxruntime.preload_dlls() and the torch/ORT major check said
  providers    per model and device (cuda, tensorrt): the providers the session really started, seconds to start
               (for TensorRT: the engine build, into a fresh cache)
  latency      first run and steady median per batch: YOLO-pose at 1-4 frames, BlazePose landmarks at 1-6 people
               (max_batch 4: 5 and 6 run as two chunks under TensorRT); CUDA, TensorRT with the batch profile
               (engines from the providers section's cache), TensorRT without it (a fresh cache: TensorRT's own
               profile, rebuilt as batches grow)
  preprocess   torch on CUDA against OpenCV: YOLO letterbox and BlazePose rotated crops, differences in grey levels,
               and the time of each
  fp16         TensorRT FP16 against CUDA FP32: YOLO-pose keypoints on a photo, difference in pixels
  cache        the TensorRT cache directory: fresh (engine build), the same again (engine load), missing (created),
               read-only (/proc/self: cache off with a warning)

Without a CUDA device it writes a "no CUDA device" report and exits 0 at once. Where onnxruntime has no CUDA
provider (the CPU package: the onnxruntime-gpu wheel may not be installable there) it runs what needs only torch
(preprocess) and says what it skipped and why. Sections stop when --budget-s is spent (skipped: time budget).
Writes <out>/report.md and <out>/report.json. Nothing here asserts a timing: it reports.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import glob
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

LOG = logging.getLogger("gpu_check")
YOLO, DETECTOR, LANDMARKS = "yolo11n_pose", "blazepose_detector", "blazepose_landmark_full"


class Skip(Exception):
    """A section that cannot run here; the message says why."""


class Check:
    """What every section shares: the output folder, the time budget, the devices, the log it collects."""

    def __init__(self, args):
        self.out = Path(args.out)
        self.rehearsal = args.cpu_rehearsal
        self.runs = 2 if self.rehearsal else args.runs
        self.deadline = time.monotonic() + args.budget_s
        self.image_path = args.image
        self.cache_root = self.out / "trt_cache"
        self.messages = _Collector()
        logging.getLogger("pose_ros").addHandler(self.messages)
        logging.getLogger("pose_ros").setLevel(logging.INFO)

    def device(self, name: str) -> str:
        """The device setting a section asks for: itself, or "cpu" in a rehearsal."""
        return "cpu" if self.rehearsal else name

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def need(self, seconds: float, what: str) -> None:
        if self.left() < seconds:
            raise Skip(f"time budget: {self.left():.0f} s left, {what} needs about {seconds:.0f} s")


class _Collector(logging.Handler):
    """pose_ros's log lines (warnings say why a provider did not start or a cache is off)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")

    def since(self, start: int) -> list[str]:
        return self.lines[start:]


# --- environment -------------------------------------------------------------------------------------------------

def cuda_device() -> str | None:
    """The CUDA device's name (nvidia-smi), or a note that device nodes exist (Jetson has no nvidia-smi), or None."""
    if shutil.which("nvidia-smi"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            run = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                                  "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
            if run.returncode == 0 and run.stdout.strip():
                return run.stdout.strip().splitlines()[0]
    nodes = glob.glob("/dev/nvidia[0-9]*") + glob.glob("/dev/nvhost-ctrl-gpu")
    return f"device nodes {', '.join(nodes)} (no nvidia-smi)" if nodes else None


def torch_cuda() -> dict:
    try:
        import torch
    except ImportError as err:
        return {"torch": f"not importable ({err})", "cuda": False}
    info = {"torch": torch.__version__, "torch_cuda": torch.version.cuda, "cuda": torch.cuda.is_available()}
    if info["cuda"]:
        info.update(device=torch.cuda.get_device_name(0), cudnn=torch.backends.cudnn.version(),
                    capability=".".join(map(str, torch.cuda.get_device_capability(0))))
    return info


def onnxruntime_info() -> dict:
    try:
        import onnxruntime as ort
    except ImportError as err:
        return {"onnxruntime": f"not importable ({err})", "providers": []}
    from pose_ros.core.runtime import gpu, trt_cache

    return {"onnxruntime": ort.__version__, "build": gpu.build_info(), "providers": ort.get_available_providers(),
            "tensorrt": trt_cache.tensorrt_version(), "gpu_build": "CUDAExecutionProvider" in
            ort.get_available_providers()}


def environment(check: Check, device: str | None) -> dict:
    from pose_ros.core.runtime import gpu

    out = {"gpu": device, "python": platform.python_version(), "machine": platform.machine(), **torch_cuda(),
           **onnxruntime_info()}
    if out.get("gpu_build"):
        out["library_warnings"] = list(gpu.prepare_libraries(True))
    return out


# --- helpers -----------------------------------------------------------------------------------------------------

def model_path(name: str) -> Path:
    from pose_ros.core.models import ModelError, resolve_model

    try:
        return resolve_model(name).path
    except ModelError as err:
        raise Skip(f"model {name} not installed ({err}); make models, or POSE_ROS_MODEL_DIR=<a copy>") from None


def backend(check: Check, name: str, device: str, cache: Path | None = None, **options):
    from pose_ros.core.runtime.backend import BackendOptions, OrtBackend

    opts = BackendOptions(device=check.device(device), trt_cache_dir=str(cache) if cache else "",
                          import_torch=True, **options)
    start = time.perf_counter()
    made = OrtBackend(model_path(name), opts)
    return made, time.perf_counter() - start


def feeds(made, batch: int) -> dict:
    rng = np.random.default_rng(batch)
    return {name: rng.random((batch, *shape[1:]), dtype=np.float32)
            for name, shape in zip(made.input_names, made.input_shapes)}


def timed(made, batch: int, runs: int) -> dict:
    x = feeds(made, batch)
    start = time.perf_counter()
    made.run(x)
    first = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        made.run(x)
        times.append(time.perf_counter() - start)
    return {"batch": batch, "first_ms": first * 1e3, "steady_ms": statistics.median(times) * 1e3,
            "max_ms": max(times) * 1e3}


def require_ort_gpu(check: Check, provider: str = "CUDAExecutionProvider") -> None:
    if check.rehearsal:
        return
    info = onnxruntime_info()
    if provider not in info["providers"]:
        need = "onnxruntime-gpu (requirements/runtime-gpu.txt)" + (
            " and TensorRT 10's libraries" if provider == "TensorrtExecutionProvider" else "")
        raise Skip(f"onnxruntime {info['onnxruntime']} has no {provider} (providers: "
                   f"{', '.join(info['providers']) or 'none'}): needs {need}")


def photo(check: Check) -> tuple[np.ndarray, str]:
    import cv2

    candidates = [check.image_path] if check.image_path else [
        os.path.join(os.environ.get("POSE_ROS_CACHE", os.path.expanduser("~/.cache/pose_ros")), "photos", "bus.jpg"),
        str(REPO.parent / "shared" / "data" / "coco_minipose")]
    for candidate in candidates:
        path = Path(candidate)
        if path.is_dir():
            path = next(iter(sorted(path.glob("**/*.jpg"))), path)
        if path.is_file():
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                return image, str(path)
    rng = np.random.default_rng(0)  # no photo: a textured synthetic frame (no people: fp16 then compares nothing)
    return cv2.GaussianBlur(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), (0, 0), 3), "synthetic 640x480"


# --- sections ----------------------------------------------------------------------------------------------------

def providers(check: Check) -> dict:
    rows = []
    for device in ("cuda", "tensorrt"):
        try:
            require_ort_gpu(check, "CUDAExecutionProvider" if device == "cuda" else "TensorrtExecutionProvider")
        except Skip as why:
            rows.append({"device": device, "skipped": str(why)})
            continue
        for name in (YOLO, DETECTOR, LANDMARKS):
            check.need(60 if device == "tensorrt" else 5, f"{name} on {device}")
            mark = len(check.messages.lines)
            made, seconds = backend(check, name, device, check.cache_root / "profile")
            rows.append({"device": device, "model": name, "providers": list(made.providers),
                         "running_on": made.device, "start_s": seconds, "fallback": made.fallback,
                         "log": check.messages.since(mark)})
    return {"rows": rows}


def latency(check: Check) -> dict:
    require_ort_gpu(check)
    cases = [("cuda", {}, "profile"), ("tensorrt", {}, "profile"), ("tensorrt", {"trt_profile": False}, "noprofile")]
    rows = []
    for device, options, cache in cases:
        label = f"{device}{' no profile' if options else ''}"
        if device == "tensorrt":
            try:
                require_ort_gpu(check, "TensorrtExecutionProvider")
            except Skip as why:
                rows.append({"case": label, "skipped": str(why)})
                continue
        plan = ((YOLO, range(1, 3)), (LANDMARKS, range(1, 3))) if check.rehearsal else \
            ((YOLO, range(1, 5)), (LANDMARKS, range(1, 7)))
        for name, batches in plan:
            try:
                check.need(120 if options else 20, f"{name} {label}")
            except Skip as why:
                rows.append({"case": label, "model": name, "skipped": str(why)})
                continue
            made, seconds = backend(check, name, device, check.cache_root / cache, **options)
            for batch in batches:
                if check.left() < 30:  # without a profile each new batch may rebuild an engine (a minute)
                    rows.append({"case": label, "model": name, "batch": batch, "skipped": "time budget"})
                    continue
                rows.append({"case": label, "model": name, "providers": made.providers[0], "start_s": seconds,
                             **timed(made, batch, check.runs)})
    return {"rows": rows, "note": "first = the first call at that batch (engine build or cuDNN algorithm choice "
                                  "lands here); steady = median of the next runs; numpy inputs (IO binding "
                                  "copies them to the device)"}


def preprocess(check: Check) -> dict:
    import cv2

    from pose_ros.core.families.blazepose.landmarks import LANDMARK_SIZE, crop_matrices
    from pose_ros.core.families.blazepose.regions import PersonRegions
    from pose_ros.core.geometry import Letterbox, warp_affine_fixed_point
    from pose_ros.core.runtime.torch_ops import TorchPreprocessor, TorchUnavailable

    info = torch_cuda()
    if not check.rehearsal and not info["cuda"]:
        raise Skip(f"torch cannot use CUDA here (torch {info['torch']}, CUDA {info.get('torch_cuda')})")
    try:
        pre = TorchPreprocessor("cpu" if check.rehearsal else "cuda:0")
    except TorchUnavailable as err:
        raise Skip(str(err)) from None
    image, source = photo(check)
    letterbox = Letterbox.fit(image.shape[:2], (640, 640))
    start = time.perf_counter()
    reference = letterbox.apply(image)[..., ::-1].transpose(2, 0, 1).astype(np.float32) / 255
    opencv_ms = (time.perf_counter() - start) * 1e3
    out = pre.empty((3, 640, 640))
    pre.letterbox(image, letterbox, out)  # first call: kernels load
    start = time.perf_counter()
    pre.letterbox(image, letterbox, out)
    torch_ms = (time.perf_counter() - start) * 1e3
    diff = np.abs(out.cpu().numpy() - reference) * 255
    h, w = image.shape[:2]
    rng = np.random.default_rng(0)
    matrices = crop_matrices(PersonRegions(rng.uniform((0, 0), (w, h), (6, 2)).astype(np.float32),
                                           rng.uniform(0.2, 0.9, 6).astype(np.float32) * min(h, w),
                                           rng.uniform(-np.pi, np.pi, 6).astype(np.float32)))
    start = time.perf_counter()
    cv_crops = np.stack([warp_affine_fixed_point(image, m, (LANDMARK_SIZE, LANDMARK_SIZE), cv2.BORDER_REPLICATE)
                         for m in matrices])[..., ::-1].astype(np.float32) / 255
    crops_cv_ms = (time.perf_counter() - start) * 1e3
    pre.warp_crops(image, matrices, LANDMARK_SIZE)
    start = time.perf_counter()
    torch_crops = pre.warp_crops(image, matrices, LANDMARK_SIZE)
    crops_torch_ms = (time.perf_counter() - start) * 1e3
    crop_diff = np.abs(torch_crops.cpu().numpy() - cv_crops) * 255
    return {"image": source, "device": str(pre.device),
            "letterbox": {"max_grey": float(diff.max()), "mean_grey": float(diff.mean()), "torch_ms": torch_ms,
                          "opencv_ms": opencv_ms},
            "crops_6": {"max_grey": float(crop_diff.max()), "p99_grey": float(np.percentile(crop_diff, 99)),
                        "mean_grey": float(crop_diff.mean()), "torch_ms": crops_torch_ms,
                        "opencv_ms": crops_cv_ms},
            "note": "OpenCV rounds to uint8 and samples at 1/32 px: about one grey level apart is expected"}


def fp16(check: Check) -> dict:
    from pose_ros.core.config import PoseConfig
    from pose_ros.core.pipeline import build_estimator

    require_ort_gpu(check, "TensorrtExecutionProvider")
    check.need(120, "an FP16 engine build")
    image, source = photo(check)
    common = dict(model=YOLO, person_threshold=0.25, keypoint_threshold=0.0, preprocess="opencv",
                  trt_cache_dir=str(check.cache_root / "fp16"))
    fp32 = build_estimator(PoseConfig(device=check.device("cuda"), **common))(image)
    half_model = build_estimator(PoseConfig(device=check.device("tensorrt"), gpu_fp16=True, **common))
    half = half_model(image)
    pairs = _match(fp32.boxes, half.boxes)
    errors = []
    for i, j in pairs:
        both = (fp32.keypoints[i, :, 2] > 0.5) & (half.keypoints[j, :, 2] > 0.5)
        errors += list(np.linalg.norm(fp32.keypoints[i, both, :2] - half.keypoints[j, both, :2], axis=1))
    return {"image": source, "people_fp32": len(fp32), "people_fp16": len(half), "matched": len(pairs),
            "providers_fp16": half_model.backend.providers[0],
            "keypoint_px": {"median": float(np.median(errors)) if errors else None,
                            "max": float(np.max(errors)) if errors else None, "joints": len(errors)},
            "score_max_diff": float(max((abs(fp32.scores[i] - half.scores[j]) for i, j in pairs), default=0.0))}


def _match(a: np.ndarray, b: np.ndarray, iou: float = 0.5) -> list[tuple[int, int]]:
    """Greedy pairs of boxes overlapping by more than ``iou``."""
    pairs, used = [], set()
    for i, box in enumerate(a):
        x0, y0 = np.maximum(box[:2], b[:, :2]).T
        x1, y1 = np.minimum(box[2:], b[:, 2:]).T
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        union = (box[2] - box[0]) * (box[3] - box[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-9), 0)
        for j in np.argsort(-overlap):
            if overlap[j] > iou and j not in used:
                pairs.append((i, int(j)))
                used.add(int(j))
                break
    return pairs


def cache(check: Check) -> dict:
    import onnxruntime as ort

    from pose_ros.core.models import file_sha256
    from pose_ros.core.runtime import trt_cache

    require_ort_gpu(check, "TensorrtExecutionProvider")
    root = check.out / "cache_case"
    shutil.rmtree(root, ignore_errors=True)
    rows = []
    for case, directory in (("fresh", root / "fresh"), ("again", root / "fresh"), ("missing", root / "a" / "b"),
                            ("read-only", Path("/proc/self"))):
        check.need(60, f"cache case {case}")
        mark = len(check.messages.lines)
        path = model_path(DETECTOR)
        prepared = trt_cache.prepare(str(directory), path, file_sha256(path), False, (1, 4), ort.__version__)
        made, seconds = backend(check, DETECTOR, "tensorrt", directory)
        made.run(feeds(made, 1))
        engines = glob.glob(str(directory / "**" / "*.engine"), recursive=True) if case != "read-only" else []
        rows.append({"case": case, "dir": str(directory), "versioned": prepared.path or prepared.problem,
                     "start_s": seconds, "providers": made.providers[0],
                     "engine_files": len(engines), "exists": directory.is_dir(),
                     "warnings": [line for line in check.messages.since(mark) if line.startswith("WARNING")]})
    return {"rows": rows}


# Cheap and decisive first: the no-profile TensorRT latency case (an engine build per new batch) comes last.
SECTIONS = {"providers": providers, "preprocess": preprocess, "cache": cache, "fp16": fp16, "latency": latency}


# --- report ------------------------------------------------------------------------------------------------------

def render(result: dict) -> str:
    lines = [f"# pose_ros GPU check ({result['date']})", ""]
    if result.get("rehearsal"):
        lines += ["**CPU rehearsal**: every section ran on the CPU provider to check the script; nothing here "
                  "measures a GPU.", ""]
    if result["status"] == "no_cuda_device":
        lines += ["**no CUDA device**: nothing was measured (no nvidia-smi answer, no /dev/nvidia* or Jetson GPU "
                  "node). Run `make gpu-check` on a machine with a CUDA GPU.", ""]
    lines += ["## Environment", "", "```", json.dumps(result["environment"], indent=1, default=str), "```", ""]
    for name, section in result.get("sections", {}).items():
        lines += [f"## {name}: {section['status']}", ""]
        if section["status"] != "ok":
            lines += [section.get("reason", ""), ""]
            continue
        data = section["data"]
        rows = data.get("rows")
        if rows:
            keys = [k for k in rows[0] if k not in ("log", "warnings")] + \
                [k for k in ("skipped",) if any(k in r for r in rows) and k not in rows[0]]
            lines += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
            lines += ["| " + " | ".join(_cell(r.get(k, "")) for k in keys) + " |" for r in rows]
            notes = [f"- {r.get('model', r.get('case', ''))} {r.get('device', '')}: {w}" for r in rows
                     for w in r.get("warnings", []) + [x for x in r.get("log", []) if x.startswith("WARNING")]]
            lines += [""] + notes if notes else []
            if data.get("note"):
                lines += ["", data["note"]]
        else:
            lines += ["```", json.dumps(data, indent=1, default=str), "```"]
        lines.append("")
    lines += [f"Total {result['seconds']:.0f} s."]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value).replace("|", "/")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "out" / "gpu_check"))
    parser.add_argument("--budget-s", type=float, default=540, help="stop starting sections after this (default 540)")
    parser.add_argument("--runs", type=int, default=20, help="steady runs per batch (default 20)")
    parser.add_argument("--image", default="", help="a photo with people (default: the sample bus.jpg)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    parser.add_argument("--cpu-rehearsal", action="store_true", help="run the sections on the CPU provider")
    args = parser.parse_args(argv)
    start = time.monotonic()
    check = Check(args)
    check.out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(check.cache_root, ignore_errors=True)
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "rehearsal": check.rehearsal, "sections": {}}
    device = cuda_device()
    if device is None and not check.rehearsal:
        result.update(status="no_cuda_device", environment={"gpu": None, "python": platform.python_version(),
                                                             "machine": platform.machine()})
    else:
        result["status"] = "ran"
        result["environment"] = environment(check, device)
        for name in [s for s in args.sections.split(",") if s]:
            if name not in SECTIONS:
                parser.error(f"unknown section {name!r}; valid: {', '.join(SECTIONS)}")
            began = time.monotonic()
            try:
                result["sections"][name] = {"status": "ok", "data": SECTIONS[name](check)}
            except Skip as why:
                result["sections"][name] = {"status": "skipped", "reason": str(why)}
            except Exception as err:  # noqa: BLE001 - one failing section must not hide the others
                result["sections"][name] = {"status": "failed", "reason": f"{type(err).__name__}: {err}",
                                            "traceback": traceback.format_exc()}
            result["sections"][name]["seconds"] = time.monotonic() - began
            print(f"gpu-check: {name}: {result['sections'][name]['status']} "
                  f"({result['sections'][name]['seconds']:.0f} s)", flush=True)
    result["seconds"] = time.monotonic() - start
    result["log"] = check.messages.lines
    logging.getLogger("pose_ros").removeHandler(check.messages)
    (check.out / "report.json").write_text(json.dumps(result, indent=1, default=str))
    (check.out / "report.md").write_text(render(result))
    print(f"gpu-check: {'no CUDA device: nothing measured; ' if result['status'] == 'no_cuda_device' else ''}"
          f"report in {check.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
