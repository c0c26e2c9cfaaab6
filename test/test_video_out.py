"""Video out: `infer VIDEO --out FILE.mp4` (size, rate, frame count read back with cv2), `--draw DIR` (one image per
frame), the JSON's frame index and time, the progress line, readable labels, and the bag tool's --out-video."""
import io
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from pose_ros.core.annotators import LabelAnnotator, draw_poses
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import COCO17
from pose_ros.tools.video import ProgressPrinter, VideoError, VideoSink, read_video, video_info


def _clip(photos, path, frames=6, fps=8.0):
    image = cv2.resize(cv2.imread(str(photos["zidane.jpg"])), (320, 180))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (320, 180))
    for shift in range(frames):
        writer.write(np.roll(image, 3 * shift, axis=1))
    writer.release()
    return path


def _count(path):
    return sum(1 for _ in read_video(path))


def test_infer_out_writes_a_playable_video_of_the_same_size_rate_and_length(photos, tmp_path):
    clip = _clip(photos, tmp_path / "clip.avi")
    out, draw = tmp_path / "poses.mp4", tmp_path / "frames"
    result = subprocess.run([sys.executable, "-m", "pose_ros", "infer", clip, "--device", "cpu", "--json",
                             "--out", out, "--draw", draw], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    info = video_info(out)
    assert (info.width, info.height, info.fps) == (320, 180, 8.0) and _count(out) == 6
    assert sorted(p.name for p in draw.iterdir()) == [f"clip_{i:06d}_poses.jpg" for i in range(6)]
    frames = json.loads(result.stdout)["results"]
    assert [f["frame"] for f in frames] == list(range(6))
    assert [f["time_s"] for f in frames] == pytest.approx([i / 8.0 for i in range(6)], abs=1e-3)
    assert all(len(f["people"]) == 2 for f in frames)
    # The drawing is in the video: frame 0 read back differs from the input where the boxes are.
    (_, _, first), (_, _, drawn) = next(read_video(clip)), next(read_video(out))
    assert np.abs(first.astype(int) - drawn.astype(int)).mean() > 1.0


def test_out_needs_exactly_one_video(photos, tmp_path):
    result = subprocess.run([sys.executable, "-m", "pose_ros", "infer", photos["bus.jpg"], "--out",
                             tmp_path / "x.mp4"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "give exactly one video" in result.stderr


def test_video_sink_checks_type_and_size(tmp_path):
    with pytest.raises(VideoError, match="unknown video type"):
        VideoSink(tmp_path / "x.gif", 10, (64, 48))
    with VideoSink(tmp_path / "x.mp4", 10, (64, 48)) as sink:
        assert sink.fourcc in ("avc1", "mp4v")
        with pytest.raises(VideoError, match="does not fit"):
            sink.write(np.zeros((10, 10, 3), np.uint8))
        for _ in range(3):
            sink.write(np.zeros((48, 64, 3), np.uint8))
    assert _count(tmp_path / "x.mp4") == 3


def test_progress_waits_a_few_seconds_then_shows_frames_fps_eta():
    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=False, label="clip.avi", after_s=3.0)
    for done in range(1, 21):
        printer(done, 100, done * 0.1)  # 2 s in all: nothing shown
    assert stream.getvalue() == ""
    for done in range(21, 61):
        printer(done, 100, done * 0.1)
    assert stream.getvalue().splitlines()[0] == "clip.avi: 50/100 frames, 10.0 fps, ETA 5 s"


def test_labels_are_dark_on_light_and_neighbours_do_not_overlap():
    # Four people side by side, boxes touching: their labels must not print over each other.
    boxes = np.array([[40 + 30 * i, 100, 70 + 30 * i, 200] for i in range(4)], np.float32)
    poses = Poses(boxes, np.full(4, 0.87, np.float32), np.zeros((4, 17, 3), np.float32), COCO17,
                  np.arange(11, 15, dtype=np.int32))
    placed = []
    for box in boxes:
        rect = LabelAnnotator.place(tuple(box), 56, 18, 400, 300, placed)
        assert not any(rect[0] < o[2] and o[0] < rect[2] and rect[1] < o[3] and o[1] < rect[3] for o in placed)
        placed.append(rect)
    grass = np.zeros((300, 400, 3), np.uint8)
    grass[:] = (40, 160, 40)
    drawn = draw_poses(grass, poses)
    x0, y0, x1, y1 = placed[0]
    patch = drawn[y0 + 2:y1 - 1, x0 + 2:x1 - 1].reshape(-1, 3).astype(int)
    light, dark = patch.sum(1) > 600, patch.sum(1) < 200
    assert light.mean() > 0.5 and dark.any()  # a light box with dark text, not green on green


def test_annotate_writes_the_same_drawings_as_a_video(tmp_path):
    from pose_ros.core.config import PoseConfig
    from pose_ros.tools.annotate import annotate_bag
    from pose_ros.tools.bags import read_images, sample_bag

    bag = sample_bag(tmp_path / "sample", repeats=1)
    frames = list(read_images(bag, "/camera/image_raw"))
    summary = annotate_bag(bag, tmp_path / "out", "/camera/image_raw", PoseConfig(device="cpu"),
                           video=tmp_path / "poses.mp4", video_fps=5.0)
    assert summary.video_frames == len(frames) == _count(tmp_path / "poses.mp4")
    assert video_info(tmp_path / "poses.mp4").fps == 5.0
