"""Run one profile's model over a video once and keep the raw (untracked) poses in an .npz, so trackers and
metrics can be iterated on without running the model again (CPU is the scarce part).

    python -m devtools.video.poses_cache VIDEO PROFILE OUT.npz [--person-threshold 0.1] [--max-frames N]
        [--tiling true]   # any PoseConfig flag

The cache holds every frame's people concatenated: boxes (P, 4), scores (P,), keypoints (P, K, 3), and
``offsets`` (F + 1,): frame f's people are rows offsets[f]:offsets[f + 1]; plus the skeleton name, the image
size, the video's rate and the seconds per frame the model took. Cache with a low person threshold: the
metrics filter by score afterwards (so one run serves the default threshold and a tracker's low-score pass).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_ros.core.result import Poses
from pose_ros.core.skeletons import SKELETONS


@dataclass(frozen=True)
class CachedPoses:
    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray
    offsets: np.ndarray
    skeleton: str
    image_hw: tuple[int, int]
    fps: float
    seconds: np.ndarray  # model seconds per frame

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def frame(self, f: int, min_score: float = 0.0) -> Poses:
        a, b = self.offsets[f], self.offsets[f + 1]
        keep = self.scores[a:b] >= min_score
        return Poses(self.boxes[a:b][keep], self.scores[a:b][keep], self.keypoints[a:b][keep],
                     SKELETONS[self.skeleton])

    @classmethod
    def load(cls, path: Path | str) -> "CachedPoses":
        with np.load(path, allow_pickle=False) as z:
            return cls(z["boxes"], z["scores"], z["keypoints"], z["offsets"], str(z["skeleton"]),
                       tuple(int(v) for v in z["image_hw"]), float(z["fps"]), z["seconds"])


def cache_video(video: Path, models, out: Path, max_frames: int | None = None) -> CachedPoses:
    from pose_ros.tools.video import read_video, video_info

    info = video_info(video)
    model = next(iter(models.by_mode.values()))
    boxes, scores, kps, offsets, seconds = [], [], [], [0], []
    for f, _, image in read_video(video):
        if max_frames is not None and f >= max_frames:
            break
        t0 = time.perf_counter()
        poses = model(image)
        seconds.append(time.perf_counter() - t0)
        boxes.append(poses.boxes)
        scores.append(poses.scores)
        kps.append(poses.keypoints)
        offsets.append(offsets[-1] + len(poses))
        if f % 100 == 0:
            print(f"{video.name}: frame {f}, {len(poses)} people, {seconds[-1] * 1e3:.0f} ms", file=sys.stderr)
    k = model.skeleton.num_keypoints
    cached = CachedPoses(np.concatenate(boxes).reshape(-1, 4), np.concatenate(scores),
                         np.concatenate(kps).reshape(-1, k, 3), np.array(offsets, np.int64), model.skeleton.name,
                         (info.height, info.width), info.fps, np.array(seconds))
    np.savez_compressed(out, boxes=cached.boxes, scores=cached.scores, keypoints=cached.keypoints,
                        offsets=cached.offsets, skeleton=cached.skeleton, image_hw=np.array(cached.image_hw),
                        fps=cached.fps, seconds=cached.seconds)
    return cached


def main(argv: list[str] | None = None) -> int:
    from pose_ros.cli import add_config_arguments, config_from_args
    from pose_ros.core.pipeline import build_models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--max-frames", type=int)
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    models = build_models(config_from_args(args))
    cached = cache_video(args.video, models, args.out, args.max_frames)
    print(f"{args.out}: {len(cached)} frames, {len(cached.scores)} people, "
          f"{np.median(cached.seconds) * 1e3:.0f} ms/frame median")
    return 0


if __name__ == "__main__":
    sys.exit(main())
