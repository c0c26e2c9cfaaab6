#!/usr/bin/env python3
"""make bench: how fast pose_ros is, and where its time goes, in one run on this machine.

    python devtools/bench/run_bench.py [--quick] [--warmup 3] [--runs 20] [--out docs] [--sections raw,node,...]
    python devtools/bench/run_bench.py --from-results out/bench/results.json   # re-render only, no measuring

Sections (all by default; every case is timed after its warm-ups, cases interleaved round by round so a
change of machine speed hits all of them alike; before each section the script waits up to --quiet-wait s
for other processes to calm down, and it reports how much CPU they took):

  raw       raw ONNX Runtime per model (OrtBackend of pose_ros, same threads as the node): the floor;
            plus yolo11n_pose with ORT's spinning threads on
  pipeline  the core pipeline per stage (detect, preprocess, infer, decode) per config on the sample photos
  node      the installed pose_node in its own process over DDS, one frame at a time, publish -> PoseArray
            (matched by stamp), interleaved with the core pipeline in this process and with a transport probe
            (devtools/bench/image_echo.py); the node's own stage times from its /diagnostics; then the same for
            yolo11n_pose with every process on the shipped shared-memory profile (config/fastdds_shm.xml)
  transport raw images (640x480 to 3840x2160) from a camera process to an echo process, the shipped profile on
            neither side, on the node side only, on the camera side only, on both; reliable (one frame at a time)
            and best effort (30 Hz): latency, frames delivered
  compressed  yolo11n_pose end to end through the node with raw Image against JPEG CompressedImage input
            (reduced JPEG decode on and off), 640x480 to 1920x1080
  viewer    a 10 Hz camera process, the node, a planner on ~/poses: no viewer, a viewer process on ~/debug_image,
            a slow one, interleaved: ~/poses latency p50/p99 and bursts (answers held back and released together)
  peers     ultralytics YOLO(onnx).predict() (tool venv, devtools/bench/ultralytics_timing.py) and MediaPipe Pose
            (mediapipe venv, devtools/bench/mediapipe_timing.py) on the same photos and weights, their frames
            alternating with ours
  crowd     composite images with 1, 2, 4, 8 people (devtools/bench/crowd.py)
  features  mode auto against both fixed modes on the crowd images; tracking id switches, smoothing jitter
            and lag on synthetic sequences of real poses with exact ground truth; their cost per frame
  memory    peak RSS of the node (VmHWM, from the node section) and of `python -m pose_ros infer`
  video     the real street clip vtest.avi through the node at 10 Hz and 30 Hz per profile (default, far_field,
            INT8, posenet, blazepose_full_yolo, auto): answered, dropped, latency, people per frame, ids, re-births
  accuracy  every profile's COCO keypoint AP (pycocotools) on ../shared/data/coco_minipose val2017 and train2017,
            top-down also on the ground-truth boxes; time per image; also written alone as accuracy.md + .png

Each section is a module of devtools/bench/measure/ returning data; devtools/bench/report/ turns the data into
the report's tables and prose.

Writes docs/benchmark.md and docs/benchmark.png (devtools/bench/plot.py, in the tool venv), each atomically and
once everything ran, plus the raw results (out/bench/results.json), the node logs and the crowd images
(out/bench/). With --quick or --sections the report goes to out/bench/ unless --out is given, so a short or
partial run never replaces the committed one. Nothing here asserts a timing: targets are reported, met or not.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "devtools" / "reference")]

# A private ROS domain, discovery on this host only (as the tests do), set before rclpy loads.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from pose_ros.tools.sample_data import ensure_photos  # noqa: E402
from devtools.bench import report  # noqa: E402
from devtools.bench.measure import (accuracy, compressed, crowd, features, memory, node, peers,  # noqa: E402
                                   pipeline, raw, steady, transport, video, viewer, zoo)
from devtools.bench.measure.common import (BENCH, NODE_CONFIGS, PHOTOS, TOOLS_PYTHON, BenchContext,  # noqa: E402
                                           CpuMonitor, cpu_model, loadavg, log, version, wait_for_quiet)

# Section name -> (results key, what the log calls it, measure(ctx)), in the order they run. A section may
# measure several things; a measure returning None stores nothing.
SECTIONS: dict[str, list[tuple]] = {
    "raw": [("raw_ort", "raw", raw.measure)],
    "pipeline": [("pipeline", "pipeline", pipeline.measure)],
    "node": [("node", "node", node.measure)],
    "steady": [("steady", "steady", steady.measure)],
    "transport": [("transport", "transport", transport.measure)],
    "compressed": [("compressed", "compressed", compressed.measure)],
    "viewer": [("viewer", "viewer", viewer.measure)],
    "peers": [("peers", "peers", peers.measure)],
    "zoo": [("zoo", "zoo", zoo.measure)],
    "crowd": [("crowd", "crowd", crowd.measure)],
    "features": [("auto_mode", "features: mode auto", features.measure_auto_mode),
                 ("tracking_smoothing", "features: tracking, smoothing", features.measure_tracking_smoothing)],
    "memory": [("cli_memory", "memory", memory.measure)],
    "video": [("video", "video", video.measure)],
    "accuracy": [("accuracy", "accuracy", accuracy.measure)],
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 warm-up and 5 runs per case (a smoke run)")
    parser.add_argument("--warmup", type=int, help="warm-up rounds per case (default 3, quick 1)")
    parser.add_argument("--runs", type=int, help="timed rounds per case (default 20, quick 5)")
    parser.add_argument("--sections", help=f"comma-separated subset of: {','.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, help="where benchmark.md/.png go (default docs/; out/bench/ with "
                                                 "--quick or --sections)")
    parser.add_argument("--quiet-wait", type=float, default=120.0, metavar="S",
                        help="before each section, wait up to S s for other processes to use < 15%% of the CPU "
                             "(0: do not wait)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG (needs the tool venv's matplotlib)")
    parser.add_argument("--node-configs", default=",".join(NODE_CONFIGS), help="configs of the node section")
    parser.add_argument("--no-shm", action="store_true",
                        help="skip the node section's second run on the shipped shared-memory profile")
    parser.add_argument("--fastdds-profile", type=Path, help=argparse.SUPPRESS)  # that second run itself
    parser.add_argument("--results-only", type=Path, help=argparse.SUPPRESS)  # write results JSON, no report
    parser.add_argument("--from-results", type=Path, metavar="JSON",
                        help="measure nothing: re-render the report from a results.json of an earlier run")
    args = parser.parse_args(argv)
    args.node_configs = tuple(c.strip() for c in args.node_configs.split(",") if c.strip())
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.runs = args.runs if args.runs is not None else (5 if args.quick else 20)
    args.sections = tuple(SECTIONS) if not args.sections else tuple(s.strip() for s in args.sections.split(","))
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; valid: {', '.join(SECTIONS)}")
    return args


def run_meta(args) -> dict:
    import onnxruntime

    distro = (os.environ.get("ROS_DISTRO") or os.environ.get("POSE_ROS_DISTRO", "jazzy")).title()
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu_model(), "cores": os.cpu_count(), "vnni": cpu_has_vnni(), "quick": args.quick, "warmup": args.warmup, "runs": args.runs,
        "ort_threads": f"0 in every config = ONNX Runtime's default ({os.cpu_count()} intra-op on this machine), "
                       "inter-op 1, spinning off",
        "versions": {"python": platform.python_version(), "onnxruntime": onnxruntime.__version__,
                     "numpy": np.__version__, "opencv": cv2.__version__,
                     "rclpy": f"{version('rclpy')} (ROS 2 {distro}, "
                              f"{'system' if os.environ.get('POSE_ROS_SYSTEM_ROS') else 'PyPI wheels'}, "
                              f"{os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')})"}}


def cpu_has_vnni() -> bool:
    """The CPU's int8 dot-product instructions (what makes INT8 inference fast on x86)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_vnni", "avx_vnni", "amx_int8"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Only a full run replaces the committed report by default.
    partial = args.quick or args.sections != tuple(SECTIONS)
    out_doc = args.out or (REPO / "out" / "bench" if partial else REPO / "docs")
    work = REPO / "out" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    if args.fastdds_profile:  # before rclpy loads, inherited by the node and echo processes
        os.environ["FASTRTPS_DEFAULT_PROFILES_FILE"] = os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = \
            str(args.fastdds_profile.resolve())
    if args.from_results:
        results = json.loads(args.from_results.read_text())
        if results["meta"].get("quick") and not args.out:
            out_doc = work
        finish_report(args, results, out_doc, work)
        log(f"re-rendered {out_doc / 'benchmark.md'} from {args.from_results}")
        return 0

    started, monitor = time.monotonic(), CpuMonitor()
    run_start, load_start = monitor.snapshot(), loadavg()
    log(f"sections {', '.join(args.sections)}; {args.warmup} warm-ups, {args.runs} runs per case; "
        f"ROS_DOMAIN_ID {os.environ['ROS_DOMAIN_ID']}; load {load_start}")
    photo_paths = ensure_photos()
    ctx = BenchContext(warmup=args.warmup, runs=args.runs, photo_paths=photo_paths,
                       images={p: cv2.imread(str(photo_paths[p]), cv2.IMREAD_COLOR) for p in PHOTOS}, work=work,
                       node_configs=args.node_configs, shm_profile=args.fastdds_profile)
    results = ctx.results
    results["meta"] = run_meta(args)
    section_load = {}
    plan = [entry for name in args.sections for entry in SECTIONS[name]]
    if "node" in args.sections and not (args.no_shm or args.fastdds_profile or args.results_only):
        plan.insert(plan.index(SECTIONS["node"][0]) + 1, ("node_shipped_shm", "node, shipped SHM profile",
                                                          node.measure_shipped_shm))
    for key, label, measure in plan:
        if args.quiet_wait > 0:
            wait_for_quiet(monitor, 0.15, args.quiet_wait)
        t0, before, cpu_before = time.monotonic(), loadavg(), monitor.snapshot()
        log(f"== {label} (load {before})")
        value = measure(ctx)
        section_load[label] = {"load_before": before, "load_after": loadavg(), "seconds": time.monotonic() - t0,
                               **CpuMonitor.others(cpu_before, monitor.snapshot())}
        log(f"   {label}: {section_load[label]['seconds']:.0f} s, other processes used "
            f"{section_load[label]['others']:.0%} of the CPU")
        if value is not None:
            store(results, key, value)

    if args.results_only:
        report.write_atomic(args.results_only, json.dumps(results, indent=1))
        return 0
    whole = CpuMonitor.others(run_start, monitor.snapshot())
    results["meta"]["duration_s"] = time.monotonic() - started
    results["meta"]["load"] = (
        f"other processes (not this benchmark) used {whole['others']:.0%} of the {os.cpu_count()} cores over the "
        f"run (CPU time of the machine minus ours), VM steal {whole['steal']:.1%}; 1-min load average "
        f"{load_start.split(' / ')[0]} at start, {loadavg().split(' / ')[0]} at the end. Per section, other "
        "processes' share: " + ", ".join(f"{k} {v['others']:.0%} ({v['seconds']:.0f} s)"
                                         for k, v in section_load.items()))
    results["sections"] = section_load
    finish_report(args, results, out_doc, work)
    log(f"wrote {out_doc / 'benchmark.md'} in {time.monotonic() - started:.0f} s")
    for t in results["targets"]:
        log(f"target {t['name']}: {t['measured']} -> {t['verdict']}")
    return 0


def store(results: dict, key: str, value) -> None:
    """Where a measure's data goes in results.json (the layout report/ reads)."""
    if key == "node_shipped_shm":
        results["node"]["shipped_shm"] = value
    elif key == "peers":
        results["peers"], versions = value
        results["meta"]["versions"].update(versions)
    elif key == "cli_memory":
        results.setdefault("memory", {})["cli"] = value
    else:
        results[key] = value
    if key == "node":
        results.setdefault("memory", {})["node"] = value["processes"]


def finish_report(args, results: dict, out_doc: Path, work: Path) -> None:
    """Targets, prose, results.json, then the PNG and the markdown (each written atomically)."""
    stress = REPO / "docs" / "stress.json"  # the last `make stress` run, shown as it is
    results["stress"] = json.loads(stress.read_text()) if stress.exists() else None
    results["meta"]["drift"] = report.drift(results)
    results["targets"] = report.evaluate_targets(results)
    results["notes"] = report.notes(results)
    gaps = report.analysis(results)
    if gaps:
        results["notes"]["targets"] = "Why the gaps:\n\n" + gaps

    report.write_atomic(work / "results.json", json.dumps(results, indent=1))
    plot_name = None
    accuracy_plot = "accuracy.png" if results.get("accuracy") else None
    if not args.no_plot:
        from mediapipe_env import clean_env

        plot_name = "benchmark.png"
        with tempfile.TemporaryDirectory() as tmp:
            pngs = [Path(tmp) / name for name in (plot_name, accuracy_plot) if name]
            subprocess.run([str(TOOLS_PYTHON), str(BENCH / "plot.py"), str(work / "results.json"), *map(str, pngs)],
                           check=True, env={**clean_env(), "MPLCONFIGDIR": str(Path(tmp) / "mpl")})
            for png in pngs:
                report.write_atomic(out_doc / png.name, png.read_bytes())
    report.write_atomic(out_doc / "benchmark.md", report.render(results, plot_name))
    if accuracy_plot:  # the accuracy section alone, for readers choosing a model (README links it)
        report.write_atomic(out_doc / "accuracy.md",
                            report.render_accuracy(results, None if args.no_plot else accuracy_plot))


if __name__ == "__main__":
    sys.exit(main())
