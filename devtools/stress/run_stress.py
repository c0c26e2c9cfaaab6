"""Overload and soak runs of the node, plus the bad-input and fault corpus, with figures written to
docs/stress.md and docs/stress.json (the benchmark report, docs/benchmark.md, shows them in its section 7).

    make stress                                             # all of it (~1 h on 2 cores)
    python devtools/stress/run_stress.py                       # the same
    python devtools/stress/run_stress.py --overload-s 3 --soak-frames 200 --no-corpus --no-report   # short versions

Overload: images published at ``--rate`` Hz for ``--overload-s`` seconds, far faster than the model: the
latency of the frames that are answered must stay bounded (newest-frame-only), the node's memory must not
grow (no queue), and the frames it skips are counted in /diagnostics.
Soak: ``--soak-frames`` frames, each published once the previous one was answered, with the node's RSS
sampled: growth after warm-up must stay under 5 %.
Corpus: the bad-input and model-fault tests (test/test_bad_input_corpus.py, test/test_model_faults.py) run
under pytest; every case is listed with its outcome (each asserts the node survived and answered after it).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "test")]

from pose_ros.core.message_fields import stamp_ns  # noqa: E402
from pose_ros.msg import PoseArray  # noqa: E402
from pose_ros.tools.node_process import SHARE, NodeProcess  # noqa: E402
from pose_ros.tools.sample_data import ensure_photos  # noqa: E402
from pose_ros.tools.spinner import RosSpinner  # noqa: E402


def rss_mb(pid: int) -> float:
    """Resident set size of a process, MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class OverloadResult:
    seconds: float
    rate_hz: float
    size: str
    published: int  # frames the probe published
    answered: int  # PoseArrays the probe received for them
    dropped_by_node: int  # frames the node received but skipped for a newer one (its /diagnostics)
    received_by_node: int = 0  # frames the node received (its /diagnostics); the rest never reached it
    published_by_node: int = 0  # PoseArrays the node says it published (its /diagnostics)
    latency_ms_first_half: dict = field(default_factory=dict)
    latency_ms_second_half: dict = field(default_factory=dict)
    rss_mb_start: float = 0.0
    rss_mb_end: float = 0.0
    alive: bool = True


@dataclass
class SoakResult:
    frames: int
    answered: int
    rss_mb_after_warmup: float
    rss_mb_end: float
    rss_growth_percent: float
    rss_samples: list = field(default_factory=list)
    alive: bool = True


def _stats(values_s: list[float]) -> dict:
    if not values_s:
        return {}
    ms = np.array(values_s) * 1e3
    return {"median": round(float(np.median(ms)), 1), "p95": round(float(np.percentile(ms, 95)), 1),
            "max": round(float(ms.max()), 1), "n": len(ms)}


_DROPPED = "frames dropped (newer frame arrived)"
_COUNTERS = ("frames received", "frames published", _DROPPED)


class Probe:
    """A private rclpy context with an image publisher and collectors for poses and diagnostics."""

    def __init__(self, image_topic: str = "/camera/image_raw"):
        # Single-threaded: the callbacks only store stamps. (rclpy's MultiThreadedExecutor polls its futures
        # while a callback runs, which took 60 % of a core here and slowed the node it measures.)
        self._spinner = RosSpinner("stress_probe", start=False)
        self.node = self._spinner.node
        self.pub = self.node.create_publisher(Image, image_topic, QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
        self.answers: dict[int, float] = {}  # stamp (ns) -> receive time (s, time.time)
        self.counts: dict[str, int] = {}  # the node's latest /diagnostics frame counters
        self._cond = threading.Condition()
        self.node.create_subscription(PoseArray, "/pose_node/poses", self._on_poses, 100)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)
        self._spinner.start()

    def _on_poses(self, msg: PoseArray) -> None:
        with self._cond:
            self.answers[stamp_ns(msg.header)] = time.time()
            self._cond.notify_all()

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if "frames received" in values:
                with self._cond:
                    self.counts = {key: int(values[key]) for key in _COUNTERS if key in values}
                    self._cond.notify_all()

    def wait_accounted(self, timeout: float) -> tuple[dict[str, int], dict[int, float]]:
        """Wait until the node's counters account for every frame it received (published or dropped for a
        newer one: the node guarantees that once it is idle; DDS may drop frames before they reach it) and
        every answer it counted has arrived here. Returns one consistent snapshot (counters, answers), taken
        under the lock: a frame still in transit may change the counters right after."""
        def accounted() -> bool:
            # Equal, not >=: a /diagnostics message built while the node was publishing its last answer counts
            # one answer fewer than have arrived here (the node counts a frame once it is published); the next
            # message counts it.
            c = self.counts
            return (bool(c) and c["frames received"] == c["frames published"] + c[_DROPPED]
                    and len(self.answers) == c["frames published"])
        with self._cond:
            self._cond.wait_for(accounted, timeout)
            return dict(self.counts), dict(self.answers)

    def wait_subscriber(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.pub.get_subscription_count() == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("pose_node never subscribed")
            time.sleep(0.05)

    def publish(self, msg: Image) -> int:
        """Stamp with the wall clock (the latency clock), publish, return the stamp (ns)."""
        now = time.time_ns()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 10**9)
        self.pub.publish(msg)
        return now

    def wait_answer(self, stamp: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: stamp in self.answers, timeout)

    def close(self) -> None:
        self._spinner.close()


def _frame(width: int, height: int) -> Image:
    image = cv2.resize(cv2.imread(str(ensure_photos()["zidane.jpg"])), (width, height))
    msg = Image(height=height, width=width, encoding="bgr8", step=width * 3)
    msg.header.frame_id = "camera"
    msg.data = image.tobytes()
    return msg


def start_node(config: str = "yolo11n_pose") -> NodeProcess:
    node = NodeProcess(["--params-file", str(SHARE / "config" / f"{config}.yaml"), "-p", "device:=cpu",
                        "-p", "diagnostics_period:=0.5", "-r", "image:=/camera/image_raw"])
    node.wait_ready()
    return node


def overload(node: NodeProcess, probe: Probe, seconds: float, rate_hz: float, width: int, height: int) -> OverloadResult:
    msg = _frame(width, height)
    probe.wait_subscriber()
    rss_start = rss_mb(node.proc.pid)
    sent: list[int] = []
    start = time.monotonic()
    period = 1.0 / rate_hz
    while (elapsed := time.monotonic() - start) < seconds:
        sent.append(probe.publish(msg))
        time.sleep(max(0.0, start + len(sent) * period - time.monotonic()))
    counts, answers = probe.wait_accounted(timeout=30.0)  # the last answer, and a diagnostics message after it
    answered = [(stamp, answers[stamp] - stamp / 1e9) for stamp in sent if stamp in answers]
    half = sent[0] + (sent[-1] - sent[0]) / 2 if sent else 0
    return OverloadResult(
        seconds=round(elapsed, 1), rate_hz=round(len(sent) / elapsed, 1), size=f"{width}x{height}",
        published=len(sent), answered=len(answered), dropped_by_node=counts.get(_DROPPED, 0),
        received_by_node=counts.get("frames received", 0),
        published_by_node=counts.get("frames published", 0),
        latency_ms_first_half=_stats([lat for stamp, lat in answered if stamp < half]),
        latency_ms_second_half=_stats([lat for stamp, lat in answered if stamp >= half]),
        rss_mb_start=round(rss_start, 1), rss_mb_end=round(rss_mb(node.proc.pid), 1),
        alive=node.proc.poll() is None)


def soak(node: NodeProcess, probe: Probe, frames: int, width: int = 640, height: int = 480,
         warmup: int = 100) -> SoakResult:
    msg = _frame(width, height)
    probe.wait_subscriber()
    samples, answered, after_warmup = [], 0, None
    for i in range(frames):
        answered += probe.wait_answer(probe.publish(msg), timeout=30.0)
        if i + 1 == min(warmup, frames):
            after_warmup = rss_mb(node.proc.pid)
        if i % max(frames // 50, 1) == 0:
            samples.append((i, round(rss_mb(node.proc.pid), 1)))
    end = rss_mb(node.proc.pid)
    after_warmup = after_warmup or end
    return SoakResult(frames=frames, answered=answered, rss_mb_after_warmup=round(after_warmup, 1),
                      rss_mb_end=round(end, 1), rss_growth_percent=round(100 * (end - after_warmup) / after_warmup, 2),
                      rss_samples=samples, alive=node.proc.poll() is None)


CORPUS_TESTS = ("test/test_bad_input_corpus.py", "test/test_model_faults.py")


@dataclass
class CorpusResult:
    cases: list  # [test id, outcome ("passed", "failed", "error", "skipped")]
    fuzz_examples: int  # hypothesis examples of the fuzzing test (its max_examples)
    seconds: float

    def count(self, outcome: str) -> int:
        return sum(1 for _, o in self.cases if o == outcome)


def corpus(junit: Path) -> CorpusResult:
    """Run the bad-input and fault tests; every case asserts the node is alive and answers the next frame."""
    start = time.monotonic()
    junit.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
                    *CORPUS_TESTS], cwd=REPO, check=False, stdout=subprocess.DEVNULL)
    cases = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = "failed" if tag == "failure" else tag
        cases.append([f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}", outcome])
    from test_bad_input_corpus import FUZZ_EXAMPLES
    return CorpusResult(cases, FUZZ_EXAMPLES, round(time.monotonic() - start, 1))


def _latency(stats: dict) -> str:
    return f"{stats['median']} / {stats['p95']} / {stats['max']} ({stats['n']} frames)" if stats else "none answered"


def _lost(over: OverloadResult) -> int:
    """Frames that never reached the node: the DDS queues (depth 1) replaced them on the way."""
    return over.published - over.received_by_node


def write_report(path: Path, over: OverloadResult, soaked: SoakResult, cases: CorpusResult | None) -> None:
    lines = [
        "# Overload, soak and bad input", "",
        f"Written by `make stress` (`devtools/stress/run_stress.py`) on {time.strftime('%Y-%m-%d %H:%M')} "
        f"({os.cpu_count()} cores, CPU only, node with config/yolo11n_pose.yaml, device cpu, in its own process).",
        "Figures also in `stress.json`, shown in section 7 of [the benchmark report](benchmark.md).", "",
        "## Overload", "",
        f"Images of {over.size} published at {over.rate_hz} Hz for {over.seconds} s (reliable, depth 1).", "",
        "| published | answered | skipped by the node (counted in /diagnostics) | not delivered (publisher queue) "
        "| latency of answered frames, first half: median / p95 / max ms | second half | node RSS start -> end (MB) | node alive |",
        "|---|---|---|---|---|---|---|---|",
        f"| {over.published} | {over.answered} | {over.dropped_by_node} | {_lost(over)} | "
        f"{_latency(over.latency_ms_first_half)} | {_latency(over.latency_ms_second_half)} | {over.rss_mb_start} -> {over.rss_mb_end} "
        f"| {over.alive} |", "",
        "Newest-frame-only: the node answers what it can and skips the rest; the latency of answered frames",
        "stays at one inference plus transport in both halves (bounded), and memory does not grow with the",
        "backlog because there is none. Frames the publisher could not hand over (DDS depth 1) are neither",
        "answered nor counted by the node: by design, nothing is queued for a model that cannot keep up.", "",
        "## Soak", "",
        f"{soaked.frames} frames of 640x480, each sent once the previous one was answered.", "",
        "| frames | answered | lost | node RSS after warm-up (MB) | at the end (MB) | growth | node alive |",
        "|---|---|---|---|---|---|---|",
        f"| {soaked.frames} | {soaked.answered} | {soaked.frames - soaked.answered} | {soaked.rss_mb_after_warmup} | "
        f"{soaked.rss_mb_end} | {soaked.rss_growth_percent} % (target < 5 %) | {soaked.alive} |", "",
        f"RSS samples (frame, MB): {soaked.rss_samples}", "",
    ]
    if cases is not None:
        lines += [
            "## Bad-input and fault corpus", "",
            f"{len(cases.cases)} cases ({', '.join(CORPUS_TESTS)}; the fuzzing case draws {cases.fuzz_examples} "
            f"Image messages with hypothesis), {cases.seconds:.0f} s: {cases.count('passed')} passed, "
            f"{cases.count('failed') + cases.count('error')} failed, {cases.count('skipped')} skipped. Every case "
            "asserts that the node is still alive and answers the next good frame correctly, so node crashes: "
            f"{cases.count('failed') + cases.count('error')} at most.", "",
            "| case | outcome |", "|---|---|",
            *[f"| `{name}` | {outcome} |" for name, outcome in cases.cases], "",
        ]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, path)
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), "overload": asdict(over), "overload_not_delivered": _lost(over),
               "soak": asdict(soaked), "corpus": asdict(cases) if cases is not None else None}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1))
    os.replace(tmp, path.with_suffix(".json"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overload-s", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--soak-frames", type=int, default=10_000)
    parser.add_argument("--report", type=Path, default=REPO / "docs" / "stress.md")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--no-corpus", action="store_true", help="skip the bad-input and fault tests")
    args = parser.parse_args(argv)
    node, probe = start_node(), Probe()
    try:
        over = overload(node, probe, args.overload_s, args.rate, args.width, args.height)
        print(json.dumps(asdict(over)), flush=True)
        soaked = soak(node, probe, args.soak_frames)
        print(json.dumps({k: v for k, v in asdict(soaked).items() if k != "rss_samples"}), flush=True)
    finally:
        probe.close()
        node.stop()
    cases = None if args.no_corpus else corpus(REPO / "out" / "stress" / "corpus.xml")
    if cases is not None:
        print(f"corpus: {len(cases.cases)} cases, {cases.count('passed')} passed", flush=True)
    if not args.no_report:
        write_report(args.report, over, soaked, cases)
        print(f"report: {args.report}")
    corpus_ok = cases is None or cases.count("passed") == len(cases.cases)
    return 0 if over.alive and soaked.alive and corpus_ok else 1


if __name__ == "__main__":
    sys.exit(main())
