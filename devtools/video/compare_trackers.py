"""Side by side: pose_ros's PoseTracker and ByteTrack as the `trackers` package ships it (Roboflow's, Apache-2.0;
supervision's own ByteTrack moved there), on cached poses of a real video (devtools/video/poses_cache.py):
ids, re-births, people per frame, at the video's rate and with frames dropped (every Nth kept).

    python -m devtools.video.compare_trackers /tmp/vtest_yolo.npz --min-score 0.5 [--bytetrack] [--every 1 3]

``--bytetrack`` needs `trackers` importable (a scratch install: it pulls supervision, PyAV, matplotlib and
opencv-python, which the runtime does not want). Its thresholds are set relative to ``--min-score`` (the
profile's person_threshold): new tracks from people at or above it, its second pass below.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from devtools.video.metrics import TrackedFrame, VideoMetrics, video_metrics
from devtools.video.poses_cache import CachedPoses
from pose_ros.core.stream.tracking import PoseTracker, TrackerConfig


def run_pose_tracker(cache: CachedPoses, config: TrackerConfig, min_score: float, every: int = 1,
                     low_score: float | None = None) -> list[TrackedFrame]:
    """``low_score``: also give the tracker people down to this score (its second pass, as PoseStream does with
    track_low_score); only those that continue a track count as seen."""
    tracker, out = PoseTracker(config), []
    for f in range(0, len(cache), every):
        poses = cache.frame(f, min_score if low_score is None else low_score)
        result = tracker.update(poses, f / cache.fps, cache.image_hw, min_score)
        keep = (result.scores >= min_score) | (result.track_ids >= 0)
        out.append(TrackedFrame(f, result.track_ids[keep], result.boxes[keep]))
    return out


def run_bytetrack(cache: CachedPoses, min_score: float, every: int = 1, low_score: float = 0.1,
                  buffer_s: float = 1.0) -> list[TrackedFrame]:
    import supervision as sv
    from trackers import ByteTrackTracker

    tracker = ByteTrackTracker(lost_track_buffer=int(round(buffer_s * 30)), frame_rate=cache.fps / every,
                               track_activation_threshold=min_score, high_conf_det_threshold=min_score,
                               minimum_consecutive_frames=1)
    out = []
    for f in range(0, len(cache), every):
        poses = cache.frame(f, low_score)
        dets = sv.Detections(xyxy=poses.boxes.astype(np.float32).reshape(-1, 4), confidence=poses.scores,
                             class_id=np.zeros(len(poses), int))
        result = tracker.update(dets, timestamp=f / cache.fps)
        ids = np.asarray(result.tracker_id, np.int64).reshape(-1)
        conf = np.asarray(result.confidence).reshape(-1)
        keep = (conf >= min_score) | (ids >= 0)
        out.append(TrackedFrame(f, ids[keep], np.asarray(result.xyxy).reshape(-1, 4)[keep]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", nargs="+")
    parser.add_argument("--min-score", type=float, nargs="+", default=[0.5], help="per cache")
    parser.add_argument("--every", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--bytetrack", action="store_true")
    parser.add_argument("--low-score", type=float, help="also: PoseTracker given people down to this score "
                                                         "(second pass), new tracks from --min-score")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="TrackerConfig values")
    args = parser.parse_args(argv)
    values = {}
    for item in args.set:
        name, value = item.split("=", 1)
        values[name] = type(getattr(TrackerConfig(), name))(value) if name != "motion_prediction" else value == "true"
    config = TrackerConfig(**values)
    for path, min_score in zip(args.cache, args.min_score * len(args.cache) if len(args.min_score) == 1
                               else args.min_score):
        cache = CachedPoses.load(path)
        for every in args.every:
            rows: dict[str, VideoMetrics] = {
                "PoseTracker": video_metrics(run_pose_tracker(cache, config, min_score, every), cache.image_hw),
            }
            if args.low_score is not None:
                rows[f"PoseTracker low {args.low_score}"] = video_metrics(
                    run_pose_tracker(cache, config, min_score, every, low_score=args.low_score), cache.image_hw)
            if args.bytetrack:
                rows["ByteTrack (trackers)"] = video_metrics(run_bytetrack(cache, min_score, every), cache.image_hw)
            for name, m in rows.items():
                print(f"{path} score>={min_score} every {every}: {name:22s} {m.row()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
