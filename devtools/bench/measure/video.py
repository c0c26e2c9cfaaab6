"""Section video: a real street clip (../shared/data/video/vtest.avi, 768x576, 10 fps) published as a camera into
the node (its own process) at the clip's own 10 Hz and at 30 Hz (faster than a CPU serves most profiles), every
frame on time whether or not the node answered the previous one. Per profile and rate: frames answered and
dropped, latency p50/p99 of the answered ones, people per answered frame, track ids and re-births
(devtools/video/metrics.py: a track ending inside the image and a new id starting where it ended within 20
frames). The clip's first ``FRAMES`` frames (all 795 in a full run)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from devtools.bench.measure.common import BenchContext, log
from devtools.bench.measure.processes import RosProbe, pose_node
from devtools.bench.measure.steady import tails_ms
from devtools.video.metrics import TrackedFrame, video_metrics

VIDEO = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "video" / "vtest.avi"
# The walkway people cross in vtest (x 15-90 %, y 20-65 % of the frame), the region a user of this fixed camera would
# set (roi_*): the default model's one run a frame spent there.
WALKWAY = ("roi_x_min:=0.15", "roi_x_max:=0.9", "roi_y_min:=0.2", "roi_y_max:=0.65")
# Cases: a profile, or (label, profile, parameters "name:=value" on top of it).
PROFILES = ("yolo11n_pose", ("yolo11n_pose + roi walkway", "yolo11n_pose", WALKWAY), "far_field", "yolo11n_pose_int8",
            "posenet", "blazepose_full_yolo", "auto")
RATES_HZ = (10.0, 30.0)
FRAMES = 795
IMAGE_TOPIC = "/pose_bench/video/image"
NODE_NAME = "pose_bench_video"


class _Answers:
    """PoseArrays by stamp: arrival time, track ids and boxes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_stamp: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}

    def __call__(self, msg) -> None:
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        ids = np.array([p.track_id for p in msg.people], np.int64)
        boxes = np.array([list(p.box) for p in msg.people], np.float64).reshape(-1, 4)
        with self.lock:
            self.by_stamp[stamp] = (time.monotonic(), ids, boxes)

    def take(self) -> dict:
        with self.lock:
            out, self.by_stamp = self.by_stamp, {}
        return out


def _play(probe: RosProbe, pub, video: Path, rate_hz: float, frames: int) -> dict[int, tuple[int, float]]:
    """Publish the clip's first ``frames`` frames at ``rate_hz`` on an absolute schedule; stamp -> (frame index,
    time sent). Frames are decoded as they go (about 2 ms each), never all held in memory."""
    from pose_ros.tools.video import read_video

    sent, start = {}, time.monotonic()
    for index, _, image in read_video(video):
        if index >= frames:
            break
        msg = probe.image_msg(image)
        delay = start + index / rate_hz - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stamp, at = probe.publish(pub, msg)
        sent[stamp] = (index, at)
    return sent


def measure(ctx: BenchContext, frames: int | None = None, profiles=PROFILES, rates=RATES_HZ) -> dict | None:
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from pose_ros.msg import PoseArray

    if not VIDEO.is_file():
        log(f"video: {VIDEO} absent (shared test data): section skipped")
        return None
    frames = frames or (150 if ctx.runs < 10 else FRAMES)
    probe = RosProbe()
    answers = _Answers()
    rows = []
    try:
        pub = probe.node.create_publisher(Image, IMAGE_TOPIC, QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
        sub = probe.node.create_subscription(PoseArray, f"/{NODE_NAME}/poses", answers, 100)
        for case in profiles:
            label, config, parameters = (case, case, ()) if isinstance(case, str) else case
            for rate in rates:
                log(f"video: {label} at {rate:g} Hz, {frames} frames of {VIDEO.name}")
                with pose_node(config, NODE_NAME, IMAGE_TOPIC, ctx.work, parameters):
                    probe.wait_matched(pub, sub)
                    time.sleep(1.0)
                    answers.take()
                    sent = _play(probe, pub, VIDEO, rate, frames)
                    time.sleep(3.0)  # the last answers
                    got = answers.take()
                latencies = [got[s][0] - t for s, (_, t) in sent.items() if s in got]
                tracked = sorted((TrackedFrame(index, got[s][1], got[s][2]) for s, (index, _) in sent.items()
                                  if s in got), key=lambda f: f.index)
                metrics = video_metrics(tracked, (576, 768)) if tracked else None
                rows.append({"config": label, "rate_hz": rate, "published": len(sent), "answered": len(latencies),
                             "dropped": len(sent) - len(latencies),
                             "people_per_frame": metrics.people_per_frame if metrics else None,
                             "ids": metrics.ids if metrics else None,
                             "rebirths": metrics.rebirths if metrics else None, **tails_ms(latencies)})
    finally:
        probe.close()
    return {"rows": rows, "video": VIDEO.name, "frames": frames}
