"""Video files in and out, and a progress line: shared by ``python -m pose_ros infer``, the bag annotate tool
and the camera player (OpenCV's videoio; no ROS).

Writing: ``.mp4`` tries the H.264 fourcc ``avc1`` first and falls back to ``mp4v`` (MPEG-4 part 2): the
opencv-python wheels' FFmpeg has no H.264 encoder, so ``mp4v`` is what is written there; every player
(VLC, browsers but Safari, ffplay) and cv2 read it. ``.avi`` is written as Motion-JPEG. Both are checked by
opening the writer; a writer that cannot be opened is an error before any frame is processed.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")
FOURCCS = {".mp4": ("avc1", "mp4v"), ".m4v": ("avc1", "mp4v"), ".mov": ("avc1", "mp4v"), ".avi": ("MJPG",),
           ".mkv": ("MJPG", "mp4v")}


class VideoError(Exception):
    """A video that cannot be opened, read or written (the message says which and why)."""


@dataclass(frozen=True)
class VideoInfo:
    fps: float  # frames per second as the container says (0 when unknown)
    width: int
    height: int
    frames: int  # frame count as the container says (0 when unknown; a guess for some formats)


def video_info(path: Path | str) -> VideoInfo:
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoError(f"cannot open video {path}")
        return VideoInfo(float(capture.get(cv2.CAP_PROP_FPS) or 0.0), int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                         int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        capture.release()


def read_video(path: Path | str) -> Iterator[tuple[int, float, np.ndarray]]:
    """(frame index, time s, BGR frame) of every frame, in order. The time is the container's (the frame's
    presentation time), falling back to index / fps where the container gives none."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise VideoError(f"cannot open video {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            msec = capture.get(cv2.CAP_PROP_POS_MSEC)
            yield index, (msec / 1000.0 if msec > 0 or index == 0 or not fps else index / fps), frame
            index += 1
    finally:
        capture.release()


class VideoSink:
    """A video file being written: frames of one size at one rate. Use as a context manager (the file is only
    complete once closed)."""

    def __init__(self, path: Path | str, fps: float, size: tuple[int, int]):
        self.path, self.fps, self.size = Path(path), float(fps), (int(size[0]), int(size[1]))
        suffix = self.path.suffix.lower()
        if suffix not in FOURCCS:
            raise VideoError(f"cannot write {self.path}: unknown video type {suffix!r}; valid: "
                             f"{', '.join(FOURCCS)}")
        if self.fps <= 0:
            raise VideoError(f"cannot write {self.path}: frame rate {fps} is not positive")
        self.fourcc = ""
        self.frames = 0
        self._writer = None
        for code in FOURCCS[suffix]:
            writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*code), self.fps, self.size)
            if writer.isOpened():
                self._writer, self.fourcc = writer, code
                break
            writer.release()
        if self._writer is None:
            raise VideoError(f"cannot write {self.path}: OpenCV opened no encoder of {', '.join(FOURCCS[suffix])} "
                             f"(is the folder writable?)")

    def write(self, image: np.ndarray) -> None:
        if (image.shape[1], image.shape[0]) != self.size:
            raise VideoError(f"frame {image.shape[1]}x{image.shape[0]} does not fit the video's "
                             f"{self.size[0]}x{self.size[1]} ({self.path})")
        self._writer.write(np.ascontiguousarray(image))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> "VideoSink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ProgressPrinter:
    """Prints ``LABEL: 37/120 frames, 9.8 fps, ETA 8 s``: on a terminal one line updated in place (a few times a
    second), otherwise (logs, pipes) a new line every ``interval_s`` seconds. Nothing before ``after_s`` seconds:
    a run shorter than that shows no progress at all."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None, interval_s: float | None = None,
                 label: str = "annotate", after_s: float = 0.0):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval_s = interval_s if interval_s is not None else (0.25 if self.tty else 5.0)
        self.label = label
        self.after_s = after_s
        self._due = max(self.interval_s, after_s)
        self._drawn = False

    def format(self, done: int, total: int, elapsed_s: float) -> str:
        fps = done / elapsed_s if elapsed_s > 0 else 0.0
        if total <= 0:
            return f"{self.label}: {done} frames, {fps:.1f} fps"
        eta = f"ETA {max(total - done, 0) / fps:.0f} s" if fps > 0 else "ETA ?"
        return f"{self.label}: {done}/{total} frames, {fps:.1f} fps, {eta}"

    def __call__(self, done: int, total: int, elapsed_s: float) -> None:
        last = total > 0 and done >= total
        if last and not self.tty:
            return  # the final summary follows
        if elapsed_s < self._due and not (last and (self._drawn or elapsed_s >= self.after_s)):
            return
        while self._due <= elapsed_s:
            self._due += self.interval_s
        line = self.format(done, total, elapsed_s)
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
            self._drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the in-place line (so what follows starts on a fresh one)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
