"""The processes the benchmark talks to, each behind one small class: this process' rclpy side (RosProbe), the
transport echo (EchoProcess) and the peer engines' timing helpers (PeerProcess). The node itself runs through
pose_ros.tools.node_process.NodeProcess, as in the tests."""
from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from pose_ros.core.message_fields import stamp_fields, stamp_ns
from pose_ros.tools.node_process import stop_process
from devtools.bench.measure.common import BENCH, log


class RosProbe:
    """This process' side of the DDS measurements: a node publishing images (reliable, depth 1, as the
    pose node subscribes) and receiving answers, matched by stamp, spun by an executor thread."""

    def __init__(self):
        from pose_ros.tools.spinner import RosSpinner

        self._spinner = RosSpinner("pose_bench_probe")
        self.node = self._spinner.node
        self._cond = threading.Condition()
        self._arrivals: dict[int, tuple[float, object]] = {}
        self._stamp = time.time_ns()
        self._channels = {}

    def channel(self, image_topic: str, answer_topic: str, answer_type, image_type=None):
        """(publisher, subscription) pair, made once per topic pair; the images are sensor_msgs/Image unless
        ``image_type`` says otherwise (CompressedImage)."""
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image

        key = (image_topic, answer_topic)
        if key not in self._channels:
            pub = self.node.create_publisher(image_type or Image, image_topic,
                                             QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
            sub = self.node.create_subscription(answer_type, answer_topic, self._on_answer, 10)
            self._channels[key] = (pub, sub)
        return self._channels[key]

    def _on_answer(self, msg) -> None:
        now = time.monotonic()
        header = getattr(msg, "header", msg)
        stamp = stamp_ns(header)
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

    def publish(self, pub, msg) -> tuple[int, float]:
        """Publish ``msg`` with a fresh stamp without waiting: (stamp, time sent); its answer, if any, is kept
        for :meth:`take_answers`."""
        from builtin_interfaces.msg import Time

        self._stamp += 1000
        stamp = self._stamp
        msg.header.stamp = Time(**stamp_fields(stamp))
        msg.header.frame_id = "camera"
        sent = time.monotonic()
        pub.publish(msg)
        return stamp, sent

    def take_answers(self) -> dict[int, float]:
        """Stamp -> arrival time of every answer received so far (and forgets them)."""
        with self._cond:
            answers = {stamp: arrived for stamp, (arrived, _) in self._arrivals.items()}
            self._arrivals.clear()
        return answers

    def frame(self, pub, msg, timeout: float = 30.0):
        """Publish ``msg`` with a fresh stamp and wait for its answer: (latency s, answer), or (None, None) on
        timeout."""
        stamp, sent = self.publish(pub, msg)
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

    def __enter__(self) -> "RosProbe":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._spinner.close()


class EchoProcess:
    """devtools/bench/image_echo.py in its own process: answers each image with its header (transport probe);
    optionally also a best-effort image topic, and its own environment (a Fast DDS profile or none)."""

    IMAGE, ANSWER = "/pose_bench/echo/image", "/pose_bench/echo/header"

    def __init__(self, image: str = IMAGE, answer: str = ANSWER, best_effort_image: str | None = None,
                 env: dict | None = None):
        extra = ["--best-effort-image", best_effort_image] if best_effort_image else []
        self.proc = subprocess.Popen([sys.executable, str(BENCH / "image_echo.py"), "--image", image,
                                      "--answer", answer, *extra], stdout=subprocess.PIPE, text=True, env=env)
        if self.proc.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("devtools/bench/image_echo.py did not start")

    def stop(self) -> None:
        stop_process(self.proc)


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


@contextlib.contextmanager
def pose_node(config: str, node_name: str, image_topic: str, log_dir: Path, parameters: tuple[str, ...] = ()):
    """The installed pose_node with config/<config>.yaml on the CPU (plus ``parameters``, "name:=value"), in its
    own process, ready; stopped (and a bad exit code logged) when the block ends. Yields the NodeProcess."""
    from pose_ros.tools.node_process import SHARE, NodeProcess

    args = ["--params-file", str(SHARE / "config" / f"{config}.yaml"), "-p", "device:=cpu"]
    for parameter in parameters:
        args += ["-p", parameter]
    node = NodeProcess([*args, "-r", f"image:={image_topic}", "-r", f"__node:={node_name}"],
                       log_path=log_dir / f"{node_name}_{config}.log")
    try:
        node.wait_ready(timeout=180)
        yield node
    finally:
        code = node.stop()
        if code not in (0, -signal.SIGINT):
            log(f"node {config} exited with {code}; log: {node.log_path}")
