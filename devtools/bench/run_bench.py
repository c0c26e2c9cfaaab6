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
            yolo11n_pose with a larger Fast DDS shared-memory segment (--shm-mb)
  peers     ultralytics YOLO(onnx).predict() (tool venv, devtools/bench/ultralytics_timing.py) and MediaPipe Pose
            (mediapipe venv, devtools/bench/mediapipe_timing.py) on the same photos and weights, their frames
            alternating with ours
  crowd     composite images with 1, 2, 4, 8 people (devtools/bench/crowd.py)
  features  mode auto against both fixed modes on the crowd images; tracking id switches, smoothing jitter
            and lag on synthetic sequences of real poses with exact ground truth; their cost per frame
  memory    peak RSS of the node (VmHWM, from the node section) and of `python -m pose_ros infer`

Writes docs/benchmark.md and docs/benchmark.png (devtools/bench/plot.py, in the tool venv), each atomically and
once everything ran, plus the raw results (out/bench/results.json), the node logs and the crowd images
(out/bench/). With --quick or --sections the report goes to out/bench/ unless --out is given, so a short or
partial run never replaces the committed one. Nothing here asserts a timing: targets are reported, met or not.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "devtools" / "reference")]

# A private ROS domain, discovery on this host only (as the tests do), set before rclpy loads.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from pose_ros.core.runtime.backend import BackendOptions, OrtBackend  # noqa: E402
from pose_ros.core.config import PoseConfig  # noqa: E402
from pose_ros.core.models import resolve_model  # noqa: E402
from pose_ros.core.pipeline import auto_parts, build_estimator, build_models  # noqa: E402
from pose_ros.core.stream import Frame, PoseStream, StreamConfig  # noqa: E402
from pose_ros.tools.node_process import stop_process  # noqa: E402
from pose_ros.tools.sample_data import cache_dir, ensure_photos  # noqa: E402
from devtools.bench import crowd, report  # noqa: E402

SECTIONS = ("raw", "pipeline", "node", "peers", "crowd", "features", "memory")
PHOTOS = ("astronaut.png", "camera.png", "grace_hopper.jpg", "bus.jpg", "zidane.jpg")
ONE_PERSON_PHOTOS = ("astronaut.png", "camera.png", "grace_hopper.jpg")
NODE_CONFIGS = ("yolo11n_pose", "blazepose_full", "blazepose_full_yolo")
CONFIG_DIR = REPO / "config"
TOOLS_PYTHON = cache_dir() / "venv-tools" / "bin" / "python"
HERE = Path(__file__).resolve().parent

IMAGE_TOPIC = "/pose_bench/image"
NODE_NAME = "pose_bench_node"
POSES_TOPIC = f"/{NODE_NAME}/poses"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- helpers

def stats_ms(samples_s) -> dict:
    a = np.asarray(samples_s, np.float64) * 1e3
    if a.size == 0:
        return {"median_ms": None, "p10_ms": None, "p90_ms": None, "n": 0}
    return {"median_ms": float(np.median(a)), "p10_ms": float(np.percentile(a, 10)),
            "p90_ms": float(np.percentile(a, 90)), "n": int(a.size)}


def median_ms(samples_s) -> float | None:
    return stats_ms(samples_s)["median_ms"]


def load_config(name: str, **overrides) -> PoseConfig:
    """PoseConfig of config/<name>.yaml (the node's shipped parameters), with overrides (device=cpu ...)."""
    params = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())["/**"]["ros__parameters"]
    fields = PoseConfig.field_names()
    return PoseConfig(**{**{k: v for k, v in params.items() if k in fields}, **overrides})


def pipeline_configs() -> dict[str, PoseConfig]:
    return {
        "yolo11n_pose": load_config("yolo11n_pose", device="cpu"),
        "blazepose_full": load_config("blazepose_full", device="cpu"),
        "blazepose_full (tiling off)": load_config("blazepose_full", device="cpu", detector_tiling=False),
        "blazepose_full_yolo": load_config("blazepose_full_yolo", device="cpu"),
    }


def round_robin(cases: dict, warmup: int, runs: int) -> dict:
    """Call every case once per round (warm-up rounds first, not kept); case -> list of samples it returned."""
    samples = {key: [] for key in cases}
    for round_ in range(warmup + runs):
        for key, fn in cases.items():
            sample = fn()
            if round_ >= warmup:
                samples[key].append(sample)
    return samples


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
        self.timings = {k: v for k, v in result.stages.items() if k in report.STAGES}
        return result.poses


def timed_call(estimator, image):
    def call() -> dict:
        t0 = time.perf_counter()
        poses = estimator(image)
        total = time.perf_counter() - t0
        return {"total": total, "people": len(poses), **estimator.timings}
    return call


def summarize_pipeline(samples: list[dict]) -> dict:
    stages = {s: median_ms([x[s] for x in samples]) for s in report.STAGES if s in samples[0]}
    total = stats_ms([x["total"] for x in samples])
    people = int(np.median([x["people"] for x in samples]))
    return {"people": people, "stages": stages, "total_ms": total["median_ms"], "total_p90_ms": total["p90_ms"],
            "n": total["n"]}


def image_label(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


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


# ---------------------------------------------------------------------------------------------- sections

def bench_raw(args) -> list[dict]:
    """Each model's OrtBackend.run alone, on a tensor of its input shape (the work does not depend on the
    values; they are uniform noise in the model's input range); plus yolo11n_pose with ORT's spinning worker
    threads on (ORT's own default, which ultralytics keeps; pose_ros turns it off). Every run is followed by
    a short pause, so a spinning session's threads never steal the next run's cores."""
    rng = np.random.default_rng(0)
    models = {"yolo11n_pose": (0.0, 1.0), "blazepose_detector": (-1.0, 1.0), "blazepose_landmark_full": (0.0, 1.0)}
    variants = [(name, name, False, 1) for name in models] + [
        ("yolo11n_pose (spinning on)", "yolo11n_pose", True, 1),
        ("yolo11n_pose (2 cameras' frames, one batched call)", "yolo11n_pose", False, 2)]
    cases, inputs = {}, {}
    for label, name, spinning, batch in variants:
        backend = OrtBackend(resolve_model(name).path,
                             BackendOptions(device="cpu", threads=0, allow_spinning=spinning))
        shape = tuple(d if isinstance(d, int) else batch for d in backend.input_shapes[0])
        low, high = models[name]
        feed = {backend.input_names[0]: rng.uniform(low, high, shape).astype(np.float32)}
        inputs[label] = "x".join(map(str, shape))

        def call(backend=backend, feed=feed):
            t0 = time.perf_counter()
            backend.run(feed)
            return settled(time.perf_counter() - t0)
        cases[label] = call
    samples = round_robin(cases, args.warmup, args.runs)
    return [{"model": label, "input": inputs[label], **stats_ms(samples[label])} for label, _, _, _ in variants]


def bench_pipeline(args, images: dict[str, np.ndarray], estimators: dict) -> list[dict]:
    rows = []
    for config, estimator in estimators.items():
        log(f"pipeline: {config}")
        samples = round_robin({p: timed_call(estimator, images[p]) for p in PHOTOS}, args.warmup, args.runs)
        rows += [{"config": config, "photo": p, "image": image_label(images[p]), **summarize_pipeline(samples[p])}
                 for p in PHOTOS]
    return rows


class RosProbe:
    """This process' side of the DDS measurements: a node publishing images (reliable, depth 1, as the
    pose node subscribes) and receiving answers, matched by stamp, spun by an executor thread."""

    def __init__(self):
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor

        self._rclpy = rclpy
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("pose_bench_probe", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()
        self._cond = threading.Condition()
        self._arrivals: dict[int, tuple[float, object]] = {}
        self._stamp = time.time_ns()
        self._channels = {}

    def channel(self, image_topic: str, answer_topic: str, answer_type):
        """(publisher, subscription) pair, made once per topic pair."""
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image

        key = (image_topic, answer_topic)
        if key not in self._channels:
            pub = self.node.create_publisher(Image, image_topic,
                                             QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
            sub = self.node.create_subscription(answer_type, answer_topic, self._on_answer, 10)
            self._channels[key] = (pub, sub)
        return self._channels[key]

    def _on_answer(self, msg) -> None:
        now = time.monotonic()
        header = getattr(msg, "header", msg)
        stamp = header.stamp.sec * 10**9 + header.stamp.nanosec
        with self._cond:
            self._arrivals[stamp] = (now, msg)
            self._cond.notify_all()

    @staticmethod
    def wait_matched(pub, sub, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while pub.get_subscription_count() == 0 or sub.get_publisher_count() == 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no match on {pub.topic_name} / {sub.topic_name} after {timeout} s")
            time.sleep(0.05)

    @staticmethod
    def image_msg(image: np.ndarray):
        from sensor_msgs.msg import Image

        height, width = image.shape[:2]
        return Image(height=height, width=width, encoding="bgr8", step=width * 3,
                     data=np.ascontiguousarray(image).tobytes())

    def frame(self, pub, msg, timeout: float = 30.0):
        """Publish ``msg`` with a fresh stamp; (latency s, answer) or (None, None) on timeout."""
        from builtin_interfaces.msg import Time

        self._stamp += 1000
        stamp = self._stamp
        msg.header.stamp = Time(sec=stamp // 10**9, nanosec=stamp % 10**9)
        msg.header.frame_id = "camera"
        sent = time.monotonic()
        pub.publish(msg)
        with self._cond:
            if not self._cond.wait_for(lambda: stamp in self._arrivals, timeout):
                return None, None
            arrived, answer = self._arrivals.pop(stamp)
        return arrived - sent, answer

    def watch_diagnostics(self, node_name: str) -> list:
        """Every /diagnostics status of ``node_name``, as (arrival time, key/values), appended as they come."""
        from diagnostic_msgs.msg import DiagnosticArray

        received: list = []

        def on_diagnostics(msg) -> None:
            for status in msg.status:
                if status.name.split(":")[0].strip().lstrip("/") == node_name:
                    received.append((time.monotonic(), {kv.key: kv.value for kv in status.values}))

        self.node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
        return received

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=2.0)
        self.node.destroy_node()
        self._rclpy.try_shutdown(context=self.context)
        self._thread.join(timeout=5.0)


class EchoProcess:
    """devtools/bench/image_echo.py in its own process: answers each image with its header (transport probe)."""

    IMAGE, ANSWER = "/pose_bench/echo/image", "/pose_bench/echo/header"

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, str(HERE / "image_echo.py"), "--image", self.IMAGE,
                                      "--answer", self.ANSWER], stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("devtools/bench/image_echo.py did not start")

    def stop(self) -> None:
        stop_process(self.proc)


def node_diagnostics(received: list, start: float, end: float, window_s: float = 5.0) -> dict[str, float]:
    """The node's own per-stage times ("latency <stage> (ms)" in its /diagnostics, each a median over its last
    ``window_s``): the median over every message whose window lies inside [start, end] (the timed rounds,
    all photos mixed), waiting a little for the one that closes the span; {} if there is none."""
    deadline = time.monotonic() + 3.0
    while not any(t >= end for t, _ in received) and time.monotonic() < deadline:
        time.sleep(0.05)
    per_stage: dict[str, list[float]] = {}
    for t, values in list(received):
        if not start + window_s <= t <= end + 1.5:
            continue
        for key, value in values.items():
            found = re.fullmatch(r"latency (.+) \(ms\)", key)
            if found:
                try:
                    per_stage.setdefault(found.group(1), []).append(float(value))
                except ValueError:
                    pass
    return {stage: float(np.median(v)) for stage, v in per_stage.items()}


def bench_node(args, probe: RosProbe, images: dict[str, np.ndarray], estimators: dict, raw_floor: dict,
               out_dir: Path) -> dict:
    """Per config: start the node; then, photo after photo, round after round: one core pipeline call in this
    process, one image through the echo process (transport alone), one frame through the node."""
    from std_msgs.msg import Header

    from pose_ros.msg import PoseArray
    from pose_ros.tools.node_process import SHARE, NodeProcess

    frames, processes = [], []
    pub, sub = probe.channel(IMAGE_TOPIC, POSES_TOPIC, PoseArray)
    diagnostics = probe.watch_diagnostics(NODE_NAME)
    msgs = {p: probe.image_msg(images[p]) for p in PHOTOS}
    echo = EchoProcess()
    try:
        echo_pub, echo_sub = probe.channel(EchoProcess.IMAGE, EchoProcess.ANSWER, Header)
        probe.wait_matched(echo_pub, echo_sub)
        for config in args.node_configs:
            log(f"node: {config}")
            params = SHARE / "config" / f"{config}.yaml"
            started = time.monotonic()
            node = NodeProcess(["--params-file", str(params), "-p", "device:=cpu", "-r", f"image:={IMAGE_TOPIC}",
                                "-r", f"__node:={NODE_NAME}"], log_path=out_dir / f"node_{config}.log")
            try:
                node.wait_ready(timeout=180)
                startup = time.monotonic() - started
                probe.wait_matched(pub, sub)
                estimator = estimators[config]

                def case(photo):
                    def call() -> dict:
                        core = timed_call(estimator, images[photo])()
                        transport, _ = probe.frame(echo_pub, msgs[photo], 10.0)
                        latency, answer = probe.frame(pub, msgs[photo])
                        return {**core, "e2e": latency, "transport": transport,
                                "node_people": None if answer is None else len(answer.people)}
                    return call

                round_robin({p: case(p) for p in PHOTOS}, args.warmup, 0)
                timed_from = time.monotonic()
                samples = round_robin({p: case(p) for p in PHOTOS}, 0, args.runs)
                node_stages = node_diagnostics(diagnostics, timed_from, time.monotonic())
                status = proc_status_mb(node.proc.pid)
            finally:
                code = node.stop()
            if code not in (0, -signal.SIGINT):
                log(f"node {config} exited with {code}; log: {node.log_path}")
            processes.append({"config": config, "startup_s": startup, "vmhwm_mb": status["VmHWM"],
                              "vmrss_mb": status["VmRSS"], "node_stages_ms": node_stages})
            for photo in PHOTOS:
                s = samples[photo]
                answered = [x for x in s if x["e2e"] is not None]
                e2e = stats_ms([x["e2e"] for x in answered])
                core = summarize_pipeline(s)
                transport = stats_ms([x["transport"] for x in s if x["transport"] is not None])
                row = {"config": config, "photo": photo, "image": image_label(images[photo]),
                       "mb": images[photo].nbytes / 1e6,
                       "people": int(np.median([x["node_people"] for x in answered])) if answered else 0,
                       "people_core": core["people"], "n": e2e["n"], "unanswered": len(s) - len(answered),
                       "e2e_ms": e2e["median_ms"], "e2e_p90_ms": e2e["p90_ms"], "core_ms": core["total_ms"],
                       "transport_ms": transport["median_ms"], "transport_p90_ms": transport["p90_ms"],
                       "stages": core["stages"]}
                row["ratio_core"] = row["e2e_ms"] / row["core_ms"] if row["e2e_ms"] else None
                if config == "yolo11n_pose":  # one model, one 640x640 run: its infer stage is the raw ORT call
                    row["raw_ms"] = core["stages"]["infer"]
                    row["raw_floor_ms"] = raw_floor.get("yolo11n_pose")
                    row["ratio_raw"] = row["e2e_ms"] / row["raw_ms"] if row["e2e_ms"] else None
                frames.append(row)
    finally:
        echo.stop()
    return {"frames": frames, "processes": processes}


SETTLE_S = 0.05


def settled(sample):
    """Pause after a frame before the next engine's: ONNX Runtime's worker threads busy-wait for a while after
    a run when spinning is on (ultralytics' session keeps ORT's default, on), and would steal the cores from
    whatever runs next in another process."""
    time.sleep(SETTLE_S)
    return sample


class PeerProcess:
    """A peer engine's timing helper (devtools/bench/*_timing.py) in its own venv, driven line by line: send an
    image index, get its timing back. While it works, this process only waits on the pipe."""

    def __init__(self, cmd: list[str], env: dict):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self._stderr: list[str] = []
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr), daemon=True).start()
        hello = self._read()
        self.versions = hello["versions"]

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"{' '.join(self.proc.args[:2])} exited with {self.proc.returncode}:\n"
                               + "".join(self._stderr[-40:]))
        return json.loads(line)

    def run(self, index: int) -> dict:
        self.proc.stdin.write(f"{index}\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


FASTDDS_SHM_PROFILE = """<?xml version="1.0" encoding="UTF-8" ?>
<!-- pose_ros benchmark: Fast DDS with a larger shared-memory segment (the default is 512 KB), plus UDP -->
<profiles xmlns="http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles">
  <transport_descriptors>
    <transport_descriptor><transport_id>shm_large</transport_id><type>SHM</type>
      <segment_size>{segment}</segment_size></transport_descriptor>
    <transport_descriptor><transport_id>udp</transport_id><type>UDPv4</type></transport_descriptor>
  </transport_descriptors>
  <participant profile_name="pose_ros_bench" is_default_profile="true">
    <rtps>
      <userTransports><transport_id>shm_large</transport_id><transport_id>udp</transport_id></userTransports>
      <useBuiltinTransports>false</useBuiltinTransports>
    </rtps>
  </participant>
</profiles>
"""


def bench_node_variant(args) -> list[dict]:
    """The node section again, for yolo11n_pose only, in a child run of this script whose processes (its
    probe, the node, the echo) all load a Fast DDS profile with a larger shared-memory segment."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "node.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--sections", "node", "--node-configs", "yolo11n_pose",
               "--fastdds-shm-mb", f"{args.shm_mb:g}", "--results-only", str(out), "--warmup", str(args.warmup),
               "--runs", str(args.runs), "--quiet-wait", "0"]
        env = {**os.environ, "ROS_DOMAIN_ID": str(int(os.environ["ROS_DOMAIN_ID"]) % 100 + 1)}
        subprocess.run(cmd, check=True, env=env)
        return json.loads(out.read_text())["node"]["frames"]


def bench_peers(args, images: dict[str, np.ndarray], photo_paths: dict[str, Path], estimators: dict) -> tuple:
    """Peer frames alternate with ours on the same photo (peer, then ours, photo after photo, round after
    round), so both see the same machine load."""
    from mediapipe_env import clean_env, ensure_mediapipe_env

    versions = {}
    env = clean_env()
    log("peers: ultralytics predict() (tool venv), alternating with our bottom-up pipeline")
    if not TOOLS_PYTHON.exists():
        raise RuntimeError(f"{TOOLS_PYTHON} missing: run `make models` (it builds the tool venv)")
    peer = PeerProcess([str(TOOLS_PYTHON), str(HERE / "ultralytics_timing.py"), "--model",
                        str(resolve_model("yolo11n_pose").path), *(str(photo_paths[p]) for p in PHOTOS)], env)
    try:
        versions.update(ultralytics=peer.versions["ultralytics"], torch=peer.versions["torch"])
        ours = {p: timed_call(estimators["yolo11n_pose"], images[p]) for p in PHOTOS}
        samples = round_robin({p: (lambda i=i, p=p: {"peer": settled(peer.run(i)), **settled(ours[p]())})
                               for i, p in enumerate(PHOTOS)}, args.warmup, args.runs)
    finally:
        peer.close()
    ultra = []
    for photo in PHOTOS:
        s = samples[photo]
        mine = summarize_pipeline(s)
        peer_ms = median_ms([x["peer"]["seconds"] for x in s])
        speed = {k: _med([x["peer"]["speed_ms"][k] for x in s]) for k in s[0]["peer"]["speed_ms"]}
        ultra.append({"photo": photo, "image": image_label(images[photo]), "people": s[-1]["peer"]["people"],
                      "peer_ms": peer_ms, "peer_speed_ms": speed, "ours_ms": mine["total_ms"],
                      "ours_stages": mine["stages"], "ours_people": mine["people"], "ratio": peer_ms / mine["total_ms"]})

    log("peers: MediaPipe Pose (mediapipe venv), alternating with our top-down pipelines")
    mp_configs = ("blazepose_full", "blazepose_full (tiling off)", "blazepose_full_yolo")
    peer = PeerProcess([str(ensure_mediapipe_env()), str(HERE / "mediapipe_timing.py"),
                        *(str(photo_paths[p]) for p in ONE_PERSON_PHOTOS)], env)
    try:
        versions.update(mediapipe=peer.versions["mediapipe"])
        cases = {}
        for i, photo in enumerate(ONE_PERSON_PHOTOS):
            cases[("mediapipe", photo)] = lambda i=i: settled(peer.run(i))
            for c in mp_configs:
                cases[(c, photo)] = (lambda call=timed_call(estimators[c], images[photo]): settled(call()))
        samples = round_robin(cases, args.warmup, args.runs)
    finally:
        peer.close()
    mp_rows = []
    for photo in ONE_PERSON_PHOTOS:
        peer_ms = median_ms([x["seconds"] for x in samples[("mediapipe", photo)]])
        mine = {c: summarize_pipeline(samples[(c, photo)]) for c in mp_configs}
        mp_rows.append({"photo": photo, "image": image_label(images[photo]),
                        "found": samples[("mediapipe", photo)][-1]["found"], "peer_ms": peer_ms,
                        "ours": {c: {"ms": m["total_ms"], "people": m["people"], "stages": m["stages"]}
                                 for c, m in mine.items()},
                        "ratio": {c: peer_ms / m["total_ms"] for c, m in mine.items()}})
    return {"ultralytics": ultra, "mediapipe": mp_rows}, versions


def bench_crowd(args, photo_paths: dict[str, Path], estimators: dict, out_dir: Path) -> list[dict]:
    crops = crowd.load_person_crops(photo_paths)
    scenes = crowd.crowd_images(crops)
    for n, (image, _) in scenes.items():
        cv2.imwrite(str(out_dir / f"crowd_{n}.jpg"), image)
    rows = []
    for config in ("yolo11n_pose", "blazepose_full_yolo", "blazepose_full"):
        log(f"crowd: {config}")
        samples = round_robin({n: timed_call(estimators[config], scenes[n][0]) for n in scenes}, args.warmup,
                              args.runs)
        for n in scenes:
            s = summarize_pipeline(samples[n])
            rows.append({"config": config, "size": n, "intended": n, "people": s["people"],
                         "median_ms": s["total_ms"], "p90_ms": s["total_p90_ms"], "stages": s["stages"], "n": s["n"]})
    return rows


def bench_auto_mode(args, photo_paths: dict[str, Path]) -> list[dict]:
    """mode auto (config/auto.yaml) against its two fixed modes on the crowd images, interleaved. Each crowd size
    gets its own auto estimator, settled on its image first (auto_patience frames decide a switch), so the
    timing is that of the mode auto holds for that crowd."""
    scenes = crowd.crowd_images(crowd.load_person_crops(photo_paths))
    auto_cfg = load_config("auto", device="cpu")
    parts = auto_parts(auto_cfg)
    top_down_cfg, bottom_up_cfg = parts["top_down"], parts["bottom_up"]
    fixed = {"fixed top_down": build_estimator(top_down_cfg), "fixed bottom_up": build_estimator(bottom_up_cfg)}
    models = build_models(auto_cfg)  # one set of models, one stream per crowd (as one camera each)
    autos = {n: AutoStreamCall(PoseStream(models, StreamConfig(tracking=False))) for n in scenes}
    for n, estimator in autos.items():
        for _ in range(auto_cfg.auto_patience + 2):
            estimator(scenes[n][0])
    cases = {(name, n): timed_call(est, scenes[n][0]) for n in scenes for name, est in fixed.items()}
    cases.update({("auto", n): timed_call(autos[n], scenes[n][0]) for n in scenes})
    samples = round_robin(cases, args.warmup, args.runs)
    rows = []
    for (name, n), runs in samples.items():
        s = summarize_pipeline(runs)
        rows.append({"config": name, "size": n, "intended": n, "people": s["people"], "median_ms": s["total_ms"],
                     "p90_ms": s["total_p90_ms"], "mode": autos[n].mode if name == "auto" else name.split()[-1]})
    return {"rows": rows, "switch_up": auto_cfg.auto_switch_up, "switch_down": auto_cfg.auto_switch_down,
            "patience": auto_cfg.auto_patience, "top_down": f"{top_down_cfg.detector} + {top_down_cfg.model}",
            "bottom_up": bottom_up_cfg.model}


def bench_tracking_smoothing() -> dict:
    """Id switches, jitter and lag on devtools.fixtures.synthetic_motion's sequences (the ones the tests assert
    on, plus a harder one), and the per-frame cost of tracker + smoother. Exact ground truth, no model."""
    from pose_ros.core.stream.tracking import TrackerConfig
    from devtools.fixtures import synthetic_motion as sm

    seeds = range(10)
    sequences = {name: (actors, 30, 2.0) for name, actors in sm.SCENARIOS.items()}
    sequences["hard: 6 look-alikes crossing, 2 hidden, a runner"] = (sm.HARD_SCENARIO, 45, 4.0)
    tracking = []
    for name, (actors, frames, noise) in sequences.items():
        row = {"sequence": name, "people": len(actors), "frames": frames, "noise_px": noise, "runs": len(seeds)}
        for motion in (True, False):
            row["switches_motion" if motion else "switches_no_motion"] = sum(
                sm.id_switches(sm.run_scenario(actors, TrackerConfig(motion_prediction=motion), frames, seed,
                                               noise)[0]) for seed in seeds)
        tracking.append(row)
    jitter = [{"seed": seed, "raw_std_px": j.raw_std_px, "smooth_std_px": j.smooth_std_px,
               "reduction": j.reduction, "mean_error_px": j.mean_error_px}
              for seed in range(3) for j in [sm.still_pose_jitter(seed)]]
    lag = [{"speed_px_s": v, "lag_px": g.lag_px, "lag_frames": g.lag_frames, "trails": g.trails}
           for v in (30.0, 100.0, 200.0, 400.0) for g in [sm.steady_state_lag(v)]]
    ms = sm.tracking_time_per_frame(people=20) * 1e3
    return {"tracking": tracking, "jitter": jitter, "lag": lag,
            "cost": {"people": 20, "frames": len(ms), "median_ms": float(np.median(ms)),
                     "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max())}}


def load_stress(path: Path) -> dict | None:
    """The figures of the last `make stress` run (docs/stress.json), shown in the report as they are."""
    return json.loads(path.read_text()) if path.exists() else None


def bench_cli_memory(photo_paths: dict[str, Path]) -> list[dict]:
    """Peak RSS of `python -m pose_ros infer` on the five photos, read with getrusage(RUSAGE_CHILDREN) in a
    fresh wrapper process (so the maximum is that one child's)."""
    wrapper = ("import resource, subprocess, sys, time; t = time.monotonic(); "
               "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
               "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.monotonic() - t)")
    runs = {"bottom_up": [],
            "top_down": ["--mode", "top_down", "--model", "blazepose_landmark_full", "--max-people", "10"],
            "top_down, yolo detector": ["--mode", "top_down", "--model", "blazepose_landmark_full", "--detector",
                                        "yolo11n_pose", "--max-people", "10"]}
    rows = []
    for what, extra in runs.items():
        cmd = [sys.executable, "-m", "pose_ros", "infer", *(str(photo_paths[p]) for p in PHOTOS), "--device", "cpu",
               *extra]
        out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=True, cwd=REPO)
        code, maxrss_kb, wall = out.stdout.split()
        if code != "0":
            raise RuntimeError(f"{' '.join(cmd)} exited with {code}:\n{out.stderr[-2000:]}")
        shown = " ".join(["python -m pose_ros infer <5 photos> --device cpu", *extra])
        rows.append({"what": what, "cmd": shown, "maxrss_mb": int(maxrss_kb) / 1024, "wall_s": float(wall)})
    return rows


# ---------------------------------------------------------------------------------------------- report

def _med(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def drift(results: dict) -> str:
    """The same work (one yolo11n_pose ORT run, 640x640, pose_ros' session) as measured in each section."""
    per = {
        "raw": _med([r["median_ms"] for r in results.get("raw_ort", []) if r["model"] == "yolo11n_pose"]),
        "pipeline": _med([r["stages"].get("infer") for r in results.get("pipeline", [])
                          if r["config"] == "yolo11n_pose"]),
        "node": _med([f.get("raw_ms") for f in results.get("node", {}).get("frames", [])]),
        "peers": _med([r["ours_stages"].get("infer") for r in results.get("peers", {}).get("ultralytics", [])]),
        "crowd": _med([r["stages"].get("infer") for r in results.get("crowd", []) if r["config"] == "yolo11n_pose"]),
    }
    per = {k: v for k, v in per.items() if v is not None}
    if len(per) < 2:
        return ""
    spread = max(per.values()) / min(per.values())
    return ("one yolo11n_pose ORT run (640x640, same session settings) took " + ", ".join(
        f"{v:.1f} ms ({k})" for k, v in per.items()) + f" in the sections below: a {spread:.2f}x spread between "
        "sections of one run; the machine's speed drifts (a VM; see the load line). Compare numbers within a "
        "section: every ratio in this report is taken within one section, from interleaved measurements.")


def notes(results: dict) -> dict:
    """The prose around the tables: definitions, and what the numbers say about where the time goes."""
    n = {}
    raw = {r["model"]: r["median_ms"] for r in results.get("raw_ort", [])}
    n["raw_ort"] = ("`OrtBackend.run` alone (pose_ros' session: CPU provider, graph optimisation ALL, intra-op "
                    "threads 0 = ONNX Runtime's default, one per core; inter-op 1; spinning off), on uniform noise "
                    "of the model's input shape (the work does not depend on the values).")
    batched = raw.get("yolo11n_pose (2 cameras' frames, one batched call)")
    if batched and raw.get("yolo11n_pose"):
        n["raw_ort_after"] = (
            f"Multi-camera batching (bottom-up): one call on two frames takes {batched:.1f} ms, "
            f"{batched / 2:.1f} ms per frame against {raw['yolo11n_pose']:.1f} ms alone "
            f"({2 * raw['yolo11n_pose'] / batched:.2f}x the throughput). On these 2 CPU cores a batch mostly "
            "saves per-call overhead; on a GPU, where one frame leaves most of the device idle, it is where "
            "batching pays.")
    n["pipeline"] = ("In-process `build_estimator(config)(image)` on the decoded BGR photo (config from "
                     "`config/<name>.yaml`, device cpu). Stage medians are taken separately, so they need not add "
                     "up to the total. `detect` (top-down) is the whole person detector: BlazePose's detector on "
                     "the image and, with tiling, on its overlapping tiles (each an ONNX run + decoding), or a "
                     "whole YOLO11n-pose pass; `infer` is then the landmark model, one run per person region.")
    frames = results.get("node", {}).get("frames", [])
    if frames:
        text = ("The installed `pose_node` in its own process (`NodeProcess`, `config/<name>.yaml`, `-p device:=cpu`), "
                "fed by this process one frame at a time: `sensor_msgs/Image` bgr8, reliable, depth 1; latency = "
                "its `PoseArray` (matched by stamp) received - image published (`time.monotonic()`). In every "
                "round each photo also goes once through the core pipeline in this process (\"core\") and once "
                "through `devtools/bench/image_echo.py`, an rclpy process that answers each image with its header "
                "(\"transport\": the same image over DDS with the same QoS, a tiny message back, no model), so all "
                "three see the same machine load. \"rest\" = e2e - core - transport: the node's own work around "
                "the pipeline (callback -> worker hand-off, tracking, PoseArray building and publishing), within "
                "the noise of three medians (the node's own stage timings are in the second table). For yolo11n_pose the core's `infer` stage is exactly one raw ORT run on the "
                "640x640 input (\"raw ORT\").")
        if raw.get("yolo11n_pose"):
            text += f" Section 1's floor for the same model: {raw['yolo11n_pose']:.1f} ms."
        n["node"] = text
        bu = [f for f in frames if f["config"] == "yolo11n_pose" and f.get("e2e_ms") is not None]
        if bu:
            small, big = min(bu, key=lambda f: f["mb"]), max(bu, key=lambda f: f["mb"])
            rest = _med([f["e2e_ms"] - f["core_ms"] - f["transport_ms"] for f in bu if f.get("transport_ms")])
            pre_post = _med([f["core_ms"] - f["raw_ms"] for f in bu])
            n["node_after"] = (
                f"Where the bottom-up node's time goes, beyond raw ORT: the core's preprocess + decode "
                f"(median {pre_post:.1f} ms), the image's trip over DDS ({small['transport_ms']:.1f} ms for "
                f"{small['mb']:.1f} MB ({small['photo']}) up to {big['transport_ms']:.1f} ms for {big['mb']:.1f} MB "
                f"({big['photo']}): it grows with the bytes of the raw image), and the node's own rest "
                f"(median {rest:.1f} ms).")
    from pose_ros.core.families.blazepose.detector import detection_windows

    counts = sorted({len(detection_windows(*(int(v) for v in r["image"].split("x")[::-1]), True)) - 1
                     for r in results.get("peers", {}).get("mediapipe", []) if "image" in r})
    tiles = " or ".join(map(str, counts)) if counts else "several"
    n["peers"] = ("Peers run in their own venvs on the decoded photos, timed inside their process with "
                  "`time.perf_counter()` around `YOLO(onnx).predict(image)` (the same `yolo11n_pose.onnx`, "
                  "onnxruntime CPU, conf 0.25; its own pre/infer/post breakdown in brackets) and around "
                  "`mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1).process(rgb)` (the TFLite "
                  "originals of our BlazePose ONNX, XNNPACK). The peer process is driven through a pipe so its "
                  "frames alternate with ours (in this process) on the same photo, frame by frame, with a "
                  f"{SETTLE_S * 1e3:.0f} ms pause between engines (ORT's spinning threads of the previous one go "
                  "idle). Ratio = peer / ours: above 1, ours is faster. MediaPipe's graph tracks one "
                  "person (one detector pass on the whole image); `blazepose_full` as shipped also scans "
                  f"overlapping tiles ({tiles} on these photos) to find smaller people; `(tiling off)` does the "
                  "same work as MediaPipe.")
    n["crowd"] = ("People cropped from the sample photos (`devtools/bench/crowd.py`: astronaut, bus x3 + one mirrored, "
                  "zidane, camera, grace_hopper), each scaled into a 320x360 cell of a grey 1280x720 canvas, so "
                  "the image and each person's size stay the same and only the count changes. \"found\" = people "
                  "the config reports; for bottom-up it must equal the intended count.")
    crowd_rows = results.get("crowd", [])
    if crowd_rows:
        bad = [r for r in crowd_rows if r["config"] == "yolo11n_pose" and r["people"] != r["intended"]]
        n["crowd_after"] = ("Bottom-up found exactly the intended number of people in every image." if not bad else
                            "Bottom-up count differs from the intended one: " +
                            ", ".join(f"{r['size']} -> {r['people']}" for r in bad) + ".")
        td = [r for r in crowd_rows if r["config"] != "yolo11n_pose" and r["people"] != r["intended"]]
        if td:
            n["crowd_after"] += (" Top-down misses some: " + ", ".join(
                f"{r['config']} {r['people']} of {r['intended']}" for r in td) + " (a person is lost when its "
                "detector does not find it, or when the landmark model's pose-presence score for its region is "
                "below 0.5).")
    stress = results.get("stress")
    if stress:
        n["stress"] = (f"From the last `make stress` run ({stress['date']}; `docs/stress.json`, details in "
                       "[stress.md](stress.md)), not from this benchmark's run: the installed node in its own "
                       "process (config/yolo11n_pose.yaml, device cpu). Overload: images published far faster than "
                       "the model runs; the node keeps only the newest frame, so answered frames' latency stays "
                       "one inference plus transport in both halves of the run, and what it skips is counted in "
                       "/diagnostics. Soak: each frame sent once the previous one was answered.")
    auto = results.get("auto_mode")
    if auto:
        n["auto_mode"] = (f"`config/auto.yaml`: top-down ({auto['top_down']}) while the crowd is small, bottom-up "
                          f"({auto['bottom_up']}) after {auto['patience']} frames with more than {auto['switch_up']} "
                          f"people, back after {auto['patience']} frames with at most {auto['switch_down']}. Each "
                          "crowd size has its own auto estimator, settled on its image before timing; the fixed "
                          "modes are the same two configurations, timed interleaved with it. Here the top-down "
                          "detector is the same YOLO11n-pose pass that bottom-up runs alone, so bottom-up is never "
                          "slower: auto buys the landmark model's accuracy (33 joints mapped to COCO-17, refined "
                          "per person) while the crowd is small and caps the cost when it grows.")
    if results.get("tracking_smoothing"):
        n["tracking_smoothing"] = (
            "`devtools.fixtures.synthetic_motion`: the three people of bus.jpg (as yolo11n_pose finds them) moved "
            "along known paths with Gaussian detector noise, in a random order each frame; the tests assert on "
            "the same sequences. An id switch = an actor's reported id changing between two of its appearances. "
            "The last sequence is beyond the design (look-alikes crossing through one spot while hidden, 4 px "
            "noise): its count is reported, not a target. Lag is measured in frames of motion: at 30 px/s (1 px per "
            "frame, nearly still) the One-Euro filter smooths hardest, so its lag exceeds a frame there while "
            "staying about 1 px; the one-frame target is for walking speed (100 px/s) and faster.")
    n["memory"] = ("Node: `VmHWM` from `/proc/<pid>/status` of the node process right after its e2e run (all five "
                   "photos). CLI: `ru_maxrss` of `python -m pose_ros infer` on the five photos, read with "
                   "`getrusage(RUSAGE_CHILDREN)` in a fresh wrapper process.")
    return n


def analysis(results: dict) -> str:
    """A number-driven paragraph about every target that is not met."""
    from pose_ros.core.families.blazepose.detector import detection_windows

    lines = []
    for t in results["targets"]:
        if t["met"]:
            continue
        if t["name"].startswith("bottom-up node"):
            node = results["node"]
            bu = [f for f in node["frames"] if f["config"] == "yolo11n_pose" and f.get("ratio_raw")]
            worst = max(bu, key=lambda f: f["ratio_raw"])
            over = [f["photo"] for f in bu if f["ratio_raw"] > report.NODE_OVER_ORT_MAX]
            parts = {"core preprocess + decode": worst["core_ms"] - worst["raw_ms"],
                     "DDS transport": worst["transport_ms"],
                     "node rest": worst["e2e_ms"] - worst["core_ms"] - worst["transport_ms"]}
            text = (f"- **node / raw ORT** ({', '.join(over)} over {report.NODE_OVER_ORT_MAX}x). Worst, "
                    f"{worst['photo']} ({worst['image']}, {worst['mb']:.1f} MB raw): e2e {worst['e2e_ms']:.1f} ms = "
                    f"raw ORT {worst['raw_ms']:.1f} + " + " + ".join(f"{k} {v:.1f}" for k, v in parts.items())
                    + f" ms, where a 1.2x budget leaves {0.2 * worst['raw_ms']:.1f} ms for all but the model.")
            own = next((p.get("node_stages_ms") for p in node["processes"] if p["config"] == "yolo11n_pose"), None) or {}
            extra = [k for k in ("convert", "track_3d", "publish") if k in own]
            biggest = max(parts, key=parts.get)
            others = results.get("sections", {}).get("node", {}).get("others", 0.0)
            if biggest == "DDS transport":
                text += (" The largest share is moving the raw image between processes (Python publish, Fast DDS, "
                         "Python receive), which the echo process pays too, without any model: it is not in the "
                         "node's code; fewer bytes (smaller or compressed frames) or no process boundary (an "
                         "in-process camera) would remove it.")
            elif biggest == "node rest":
                text += (" The largest share is the node's rest, yet its own stages outside the pipeline ("
                         + (f"{' + '.join(extra)} = {sum(own[k] for k in extra):.1f} ms by its diagnostics"
                            if extra else "convert, tracking, publish") +
                         ") are small: the remainder lies between the stages the node times, i.e. waiting "
                         "(subscription callback -> worker thread hand-off, executor wake-ups, the GIL) on 2 cores "
                         "shared with this probe" + (
                             f" and, in this run, other processes ({others:.0%} of the CPU)." if others > 0.05 else
                             " (no other process was busy)."))
            else:
                text += " The largest share is the core's own pre/post-processing."
            variant = node.get("shm_variant", {}).get("frames", [])
            tuned = {f["photo"]: f for f in variant if f.get("ratio_raw")}
            if worst["photo"] in tuned:
                v = tuned[worst["photo"]]
                default = {f["photo"]: f for f in bu}
                saved = _med([default[p]["transport_ms"] - f["transport_ms"] for p, f in tuned.items() if p in default])
                gained = _med([default[p]["e2e_ms"] - f["e2e_ms"] for p, f in tuned.items() if p in default])
                text += (f" With a {node['shm_variant']['segment_mb']:g} MB Fast DDS shared-memory segment (last node "
                         f"table) the echo's transport of {worst['photo']} falls to {v['transport_ms']:.1f} ms from "
                         f"{worst['transport_ms']:.1f} (median saving {saved:.1f} ms over the photos), and the node's "
                         f"e2e / raw ORT is {min(f['ratio_raw'] for f in tuned.values()):.2f}x to "
                         f"{max(f['ratio_raw'] for f in tuned.values()):.2f}x"
                         + (": the node gains it too." if gained >= 0.5 * saved else
                            f", yet the node's e2e does not follow (median change {-gained:+.1f} ms, e2e p90 up to "
                            f"{max(f['e2e_p90_ms'] for f in tuned.values()):.0f} ms): with that profile the node's "
                            "own delivery gets slower and erratic, so it is no drop-in fix and needs its own "
                            "investigation."))
            lines.append(text)
        elif t["name"].startswith("ultralytics"):
            ultra = results["peers"]["ultralytics"]
            peer = _med([r["peer_ms"] for r in ultra])
            their_infer = _med([r["peer_speed_ms"]["inference"] for r in ultra])
            ours = _med([r["ours_ms"] for r in ultra])
            our_infer = _med([r["ours_stages"]["infer"] for r in ultra])
            raw = {r["model"]: r["median_ms"] for r in results.get("raw_ort", [])}
            spin = ""
            if raw.get("yolo11n_pose") and raw.get("yolo11n_pose (spinning on)"):
                spin = (f" Section 1 measures that setting alone: yolo11n_pose takes {raw['yolo11n_pose']:.1f} ms "
                        f"with spinning off and {raw['yolo11n_pose (spinning on)']:.1f} ms with it on.")
            lines.append(
                f"- **ultralytics**: both run the same ONNX graph with the same onnxruntime. Median predict() "
                f"{peer:.1f} ms, of which its own inference {their_infer:.1f} ms; ours {ours:.1f} ms, of which "
                f"inference {our_infer:.1f} ms. What a pipeline can save around the model is ultralytics' "
                f"pre/post-processing, {peer - their_infer:.1f} ms: with equally fast inference, no pipeline can be "
                f"more than {peer / their_infer:.2f}x faster than predict(). Any further difference is the two ORT "
                "sessions' settings (ultralytics keeps ORT's defaults, spinning threads included; pose_ros turns "
                f"spinning off so two sessions and the ROS executor share 2 cores).{spin} A 2x gain needs a "
                "cheaper model (smaller input, int8), not a leaner pipeline.")
        elif t["name"].startswith("MediaPipe"):
            config = t["name"].split("top-down ", 1)[1].split(" (1 person")[0]
            mp_rows = results["peers"]["mediapipe"]
            rows = [dict(r["ours"][config], image=r["image"]) for r in mp_rows]
            detect = _med([r["stages"].get("detect") for r in rows])
            infer = _med([r["stages"].get("infer") for r in rows])
            peer = _med([r["peer_ms"] for r in mp_rows])
            untiled = _med([r["ours"].get("blazepose_full (tiling off)", {}).get("ms") for r in mp_rows])
            if config == "blazepose_full":
                windows = sorted({len(detection_windows(*(int(v) for v in r["image"].split("x")[::-1]), True))
                                  for r in rows})
                why = (f"`blazepose_full` as shipped runs the detector on {' or '.join(map(str, windows))} windows (the image + "
                       f"overlapping tiles, to find smaller people): detect {detect:.1f} ms median, and a "
                       f"person seen by several windows gets several landmark runs before de-duplication (infer "
                       f"{infer:.1f} ms)")
            else:
                why = (f"`blazepose_full_yolo`'s person detector is a whole 640x640 YOLO11n-pose pass (detect {detect:.1f} ms median) "
                       f"before the landmark run ({infer:.1f} ms)")
            lines.append(
                f"- **MediaPipe vs {config}** ({t['measured']}): MediaPipe runs one detector pass and one landmark "
                f"pass per image ({peer:.1f} ms median); {why}."
                + ("" if untiled is None else
                   f" Doing MediaPipe's work (`tiling off`, one detector pass), ours takes {untiled:.1f} ms: "
                   + ("faster than MediaPipe, so the gap is the extra search for people that MediaPipe does not "
                      "do, not the runtime." if untiled < peer else
                      "still slower than MediaPipe, so the runtime itself is behind too.")))
        elif t["name"].startswith("crowd"):
            lines.append(f"- **crowd**: {t['measured']}; see the stages in section 5's rows.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
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
    parser.add_argument("--shm-mb", type=float, default=16.0, metavar="MB",
                        help="the node section is run again for yolo11n_pose with a Fast DDS shared-memory segment "
                             "of MB (an XML profile for every process), to show the transport's share; 0: skip")
    parser.add_argument("--fastdds-shm-mb", type=float, default=0.0, help=argparse.SUPPRESS)  # the variant itself
    parser.add_argument("--results-only", type=Path, help=argparse.SUPPRESS)  # write results JSON, no report
    parser.add_argument("--from-results", type=Path, metavar="JSON",
                        help="measure nothing: re-render the report from a results.json of an earlier run")
    args = parser.parse_args(argv)
    args.node_configs = tuple(c.strip() for c in args.node_configs.split(",") if c.strip())
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.runs = args.runs if args.runs is not None else (5 if args.quick else 20)
    sections = SECTIONS if not args.sections else tuple(s.strip() for s in args.sections.split(","))
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; valid: {', '.join(SECTIONS)}")
    # Only a full run replaces the committed report by default.
    out_doc = args.out or (REPO / "out" / "bench" if args.sections or args.quick else REPO / "docs")
    work = REPO / "out" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    if args.fastdds_shm_mb:  # before rclpy loads (RosProbe), inherited by the node and echo processes
        profile = work / f"fastdds_shm_{args.fastdds_shm_mb:g}mb.xml"
        profile.write_text(FASTDDS_SHM_PROFILE.format(segment=int(args.fastdds_shm_mb * 2**20)))
        os.environ["FASTRTPS_DEFAULT_PROFILES_FILE"] = os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = str(profile)

    if args.from_results:
        results = json.loads(args.from_results.read_text())
        if results["meta"].get("quick") and not args.out:
            out_doc = work
        finish_report(args, results, out_doc, work)
        log(f"re-rendered {out_doc / 'benchmark.md'} from {args.from_results}")
        return 0

    started, monitor = time.monotonic(), CpuMonitor()
    run_start = monitor.snapshot()
    load_start = loadavg()
    log(f"sections {', '.join(sections)}; {args.warmup} warm-ups, {args.runs} runs per case; "
        f"ROS_DOMAIN_ID {os.environ['ROS_DOMAIN_ID']}; load {load_start}")
    photo_paths = ensure_photos()
    images = {p: cv2.imread(str(photo_paths[p]), cv2.IMREAD_COLOR) for p in PHOTOS}
    import onnxruntime

    results: dict = {"meta": {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu_model(), "cores": os.cpu_count(), "quick": args.quick, "warmup": args.warmup, "runs": args.runs,
        "ort_threads": f"0 in every config = ONNX Runtime's default ({os.cpu_count()} intra-op on this machine), "
                       "inter-op 1, spinning off",
        "versions": {"python": platform.python_version(), "onnxruntime": onnxruntime.__version__,
                     "numpy": np.__version__, "opencv": cv2.__version__,
                     "rclpy": f"{version('rclpy')} (ROS 2 {(os.environ.get('ROS_DISTRO') or os.environ.get('POSE_ROS_DISTRO', 'jazzy')).title()}, "
                              f"{'system' if os.environ.get('POSE_ROS_SYSTEM_ROS') else 'PyPI wheels'}, "
                              f"{os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')})"},
    }}
    section_load = {}

    def section(name, fn, key=None):
        if name not in sections:
            return None
        name = key or name
        if args.quiet_wait > 0:
            wait_for_quiet(monitor, 0.15, args.quiet_wait)
        t0, before, cpu_before = time.monotonic(), loadavg(), monitor.snapshot()
        log(f"== {name} (load {before})")
        value = fn()
        section_load[name] = {"load_before": before, "load_after": loadavg(), "seconds": time.monotonic() - t0,
                              **CpuMonitor.others(cpu_before, monitor.snapshot())}
        log(f"   {name}: {section_load[name]['seconds']:.0f} s, other processes used "
            f"{section_load[name]['others']:.0%} of the CPU")
        return value

    needed = set()
    for name, configs in (("pipeline", pipeline_configs()), ("node", args.node_configs),
                          ("peers", pipeline_configs()), ("crowd", NODE_CONFIGS)):
        if name in sections:
            needed |= set(configs)
    estimators = {name: build_estimator(cfg) for name, cfg in pipeline_configs().items() if name in needed}

    raw = section("raw", lambda: bench_raw(args))
    if raw:
        results["raw_ort"] = raw
    raw_floor = {r["model"]: r["median_ms"] for r in raw or []}
    pipe = section("pipeline", lambda: bench_pipeline(args, images, estimators))
    if pipe:
        results["pipeline"] = pipe
    if "node" in sections:
        probe = RosProbe()
        try:
            results["node"] = section("node", lambda: bench_node(args, probe, images, estimators, raw_floor, work))
        finally:
            probe.close()
        if args.shm_mb and not args.fastdds_shm_mb and not args.results_only:
            variant = section("node", lambda: bench_node_variant(args), key="node, big SHM segment")
            results["node"]["shm_variant"] = {"segment_mb": args.shm_mb, "frames": variant}
    peers = section("peers", lambda: bench_peers(args, images, photo_paths, estimators))
    if peers:
        results["peers"], versions = peers
        results["meta"]["versions"].update(versions)
    crowd_rows = section("crowd", lambda: bench_crowd(args, photo_paths, estimators, work))
    if crowd_rows:
        results["crowd"] = crowd_rows
    auto = section("features", lambda: bench_auto_mode(args, photo_paths), key="features: mode auto")
    if auto:
        results["auto_mode"] = auto
    motion = section("features", bench_tracking_smoothing, key="features: tracking, smoothing")
    if motion:
        results["tracking_smoothing"] = motion
    cli = section("memory", lambda: bench_cli_memory(photo_paths))
    memory = {}
    if "node" in results:
        memory["node"] = results["node"]["processes"]
    if cli:
        memory["cli"] = cli
    if memory:
        results["memory"] = memory

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


def finish_report(args, results: dict, out_doc: Path, work: Path) -> None:
    """Targets, prose, results.json, then the PNG and the markdown (each written atomically)."""
    results["stress"] = load_stress(REPO / "docs" / "stress.json")
    results["meta"]["drift"] = drift(results)
    results["targets"] = report.evaluate_targets(results)
    results["notes"] = notes(results)
    gaps = analysis(results)
    if gaps:
        results["notes"]["targets"] = "Why the gaps:\n\n" + gaps

    report.write_atomic(work / "results.json", json.dumps(results, indent=1))
    plot_name = None
    if not args.no_plot:
        from mediapipe_env import clean_env

        plot_name = "benchmark.png"
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "benchmark.png"
            subprocess.run([str(TOOLS_PYTHON), str(HERE / "plot.py"), str(work / "results.json"), str(png)],
                           check=True, env={**clean_env(), "MPLCONFIGDIR": str(Path(tmp) / "mpl")})
            report.write_atomic(out_doc / plot_name, png.read_bytes())
    report.write_atomic(out_doc / "benchmark.md", report.render(results, plot_name))


if __name__ == "__main__":
    sys.exit(main())
