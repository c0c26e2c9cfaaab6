"""Command line, no ROS needed:

    python -m pose_ros infer PATH... [--profile NAME | --config FILE] [--json] [--draw DIR] [--out FILE.mp4]
                                     [--no-progress] [--any-setting VALUE]
    python -m pose_ros evaluate --annotations person_keypoints_val2017.json --images DIR [--profile NAME] ...

PATHs are images (one sequence, in the order given: tracked across them like a camera's frames) or videos
(each its own sequence). ``--out`` writes the drawn poses of a video as a video of the same size and rate;
``--draw`` writes one drawn image per frame; the JSON gives each result its frame index and, for videos, its time. Every setting of the node that concerns the poses is a flag of the same name
(--person-threshold for person_threshold), generated from the settings schema; a profile (config/NAME.yaml, as
``model:=NAME`` in the launch file) or a parameters file gives the starting values, flags override them.
The same PoseStream as the node's runs the frames, so the output is what the node would publish. ``evaluate``
scores a configuration's people against COCO keypoint ground truth (pose_ros/tools/evaluate.py, pycocotools);
it takes the PoseConfig flags (tracking and smoothing do not apply to single images).

Exit codes: 0 every file read; 1 some file could not be read (each reported on stderr, the rest still done);
2 bad arguments or configuration (nothing run).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from pose_ros.core.config import PoseConfig
from pose_ros.core.settings import ConfigError, Setting, build, settings_of

LOG = logging.getLogger("pose_ros")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")  # as pose_ros.tools.video (cv2 not imported here)


def _boolean(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean; use true or false")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _groups():
    from pose_ros.core.stream import StreamConfig

    return (PoseConfig, StreamConfig)


def add_config_arguments(parser: argparse.ArgumentParser, groups=None) -> None:
    """One flag per setting of ``groups`` (default: PoseConfig and StreamConfig), plus --profile and --config."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--profile", metavar="NAME", help="start from config/NAME.yaml (as model:=NAME at launch)")
    source.add_argument("--config", metavar="FILE", type=Path, help="start from a ROS 2 parameters file")
    for s in (s for cls in (groups or _groups()) for s in settings_of(cls)):
        parser.add_argument("--" + s.name.replace("_", "-"), dest=s.name, default=None, help=_help(s),
                            **_kind(s))


def _kind(s: Setting) -> dict:
    if s.type is bool:
        return {"type": _boolean, "metavar": "true|false"}
    if s.type is tuple:
        return {"nargs": "*"}
    return {"type": s.type}


def _help(s: Setting) -> str:
    return f"{s.help()}; default {s.default!r}".replace("%", "%%")


def _values(args: argparse.Namespace, cls, defaults: dict | None = None) -> dict:
    """A profile's or file's values, then ``defaults`` (a command's own, over the profile's), then the flags
    given, for the settings of ``cls``: what the user gave (as the node's start parameters), schema defaults left
    out."""
    from pose_ros.core.profiles import profile_values

    names = {s.name for s in settings_of(cls)}
    source = getattr(args, "profile", None) or getattr(args, "config", None)
    values = profile_values(source, cls) if source else {}
    values.update({k: v for k, v in (defaults or {}).items() if k in names})
    values.update({name: getattr(args, name) for name in names if getattr(args, name, None) is not None})
    return values


def config_from_args(args: argparse.Namespace, defaults: dict | None = None) -> PoseConfig:
    """The configuration as given (a lone mode/model not completed: :func:`configure_from_args` does that)."""
    return build(PoseConfig, _values(args, PoseConfig, defaults))


def configure_from_args(args: argparse.Namespace, defaults: dict | None = None):
    """The loaded models of the configuration given, by the node's configure path (``pipeline.configure``): a
    lone ``--model`` or ``--mode`` gets its partner, as ``model:=`` alone does for the node (logged).
    ``defaults``: a command's own values over the profile's (evaluate's thresholds)."""
    from pose_ros.core.pipeline import configure

    configured = configure(_values(args, PoseConfig, defaults))
    for note in configured.notes:
        LOG.info("%s", note)
    return configured.models


def stream_config_from_args(args: argparse.Namespace):
    from pose_ros.core.stream import StreamConfig

    return build(StreamConfig, _values(args, StreamConfig))


# --- infer ---------------------------------------------------------------------------------------------------------

class InputError(Exception):
    """A file that cannot be read (reported, and the others still done)."""


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise InputError(f"{path} is a directory: give image or video files (e.g. {path}/*.jpg)")
    if not path.exists():
        raise InputError(f"{path}: no such file")


def _read_image(path: Path):
    """BGR image of an image file. A truncated JPEG is decoded as far as it goes (libjpeg fills the rest grey),
    with a warning: its bottom rows hold no picture."""
    import cv2

    from pose_ros.core.imaging import jpeg_truncated

    _check_path(path)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"cannot read image {path}: not an image file OpenCV can decode")
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(max(path.stat().st_size - 64, 0))
        if jpeg_truncated(head + f.read()):
            LOG.warning("%s: JPEG data ends early (truncated file?): the bottom of the image is missing", path)
    return image


def _video_frames(path: Path) -> Iterator[tuple[int, float, object]]:
    """(frame index, time s, BGR frame) of a video file, in order."""
    from pose_ros.tools.video import VideoError, read_video

    _check_path(path)
    try:
        yield from read_video(path)
    except VideoError as err:
        raise InputError(str(err)) from None


def _check_draw_dir(draw: Path) -> None:
    try:
        draw.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"--draw {draw}: cannot create it ({err.strerror})") from None
    if not os.access(draw, os.W_OK):
        raise ConfigError(f"--draw {draw}: not writable")


class _Sequence:
    """One sequence of frames: all images (in order) or one video. A frame is
    (label, index, time s or None, image or InputError)."""

    def __init__(self, name: str, frames: Iterator, video: Path | None = None):
        self.name, self.frames, self.video = name, frames, video

    @property
    def total(self) -> int:
        """Frames expected (the video container's count; 0 when unknown)."""
        if self.video is None:
            return 0
        from pose_ros.tools.video import VideoError, video_info

        try:
            return max(video_info(self.video).frames, 0)
        except VideoError:
            return 0


def _sequences(paths: list[Path]) -> Iterator[_Sequence]:
    images = [p for p in paths if p.suffix.lower() not in VIDEO_SUFFIXES]

    def image_frames():
        for i, path in enumerate(images):
            try:
                yield str(path), i, None, _read_image(path)
            except InputError as err:
                yield str(path), i, None, err

    if images:
        yield _Sequence("images", image_frames())
    for video in (p for p in paths if p.suffix.lower() in VIDEO_SUFFIXES):
        def video_frames(video=video):
            try:
                for n, stamp, image in _video_frames(video):
                    yield f"{video}#{n}", n, stamp, image
            except InputError as err:
                yield str(video), 0, None, err
        yield _Sequence(str(video), video_frames(), video)


def _check_out(args: argparse.Namespace) -> None:
    """--out needs exactly one video among the PATHs and a video file type OpenCV writes."""
    from pose_ros.tools.video import FOURCCS

    videos = [p for p in args.images if p.suffix.lower() in VIDEO_SUFFIXES]
    if len(videos) != 1 or len(videos) != len(args.images):
        raise ConfigError(f"--out {args.out}: give exactly one video PATH (got {len(args.images)} paths, "
                          f"{len(videos)} videos)")
    if args.out.suffix.lower() not in FOURCCS:
        raise ConfigError(f"--out {args.out}: unknown video type; valid: {', '.join(FOURCCS)}")
    if args.out.resolve() == videos[0].resolve():
        raise ConfigError(f"--out {args.out} is the input video")


def _open_out(args: argparse.Namespace, video: Path, first_image):
    """The --out writer: the input's size and frame rate."""
    from pose_ros.tools.video import VideoError, VideoSink, video_info

    try:
        fps = video_info(video).fps or 10.0
        sink = VideoSink(args.out, fps, (first_image.shape[1], first_image.shape[0]))
    except VideoError as err:
        raise ConfigError(f"--out: {err}") from None
    LOG.info("writing %s (%s, %dx%d, %.2f fps)", args.out, sink.fourcc, *sink.size, fps)
    return sink


def _draw_name(label: str, index: int, video: Path | None) -> str:
    """One file per frame: ``<video stem>_<index>_poses.jpg`` for a video, ``<image stem>_poses.jpg`` for an image."""
    if video is not None:
        return f"{video.stem}_{index:06d}_poses.jpg"
    return Path(label).stem + "_poses.jpg"


def _infer(args: argparse.Namespace) -> int:
    import time

    import cv2

    from pose_ros.core.annotators import draw_poses
    from pose_ros.core.stream import Frame, PoseStream
    from pose_ros.tools.video import ProgressPrinter

    stream_config = stream_config_from_args(args)
    if args.draw:
        _check_draw_dir(args.draw)
    if args.out:
        _check_out(args)
    models = configure_from_args(args)
    results, failed = [], 0
    # Progress on stderr, unless the per-frame listing goes to the same terminal.
    show_progress = not args.no_progress and (args.json or not sys.stdout.isatty())
    for sequence in _sequences(args.images):
        stream = PoseStream(models, stream_config, name=sequence.name)
        printer = ProgressPrinter(label=Path(sequence.name).name, after_s=3.0) if show_progress else None
        total, done, start, sink = sequence.total, 0, time.perf_counter(), None
        try:
            for label, index, time_s, image in sequence.frames:
                done += 1
                if isinstance(image, InputError):
                    LOG.error("%s", image)
                    failed += 1
                    continue
                result = stream.process(Frame(image, float(index) if time_s is None else time_s, sequence.name))
                poses = result.poses
                results.append({"image": label, "frame": index, "time_s": time_s, "model": result.model,
                                "mode": result.mode, **poses.to_dict()})
                drawn = draw_poses(image, poses, result.region) if args.draw or args.out else None
                if args.draw:
                    out = args.draw / _draw_name(label, index, sequence.video)
                    if not cv2.imwrite(str(out), drawn):
                        LOG.error("cannot write %s", out)
                        failed += 1
                if args.out:
                    sink = sink or _open_out(args, sequence.video, image)
                    sink.write(drawn)
                if not args.json:
                    timing = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in result.stages.items())
                    print(f"{label}: {len(poses)} people ({timing})")
                    for box, score, track in zip(poses.boxes, poses.scores, poses.track_ids):
                        ident = f"#{track} " if track >= 0 else ""
                        print(f"  {ident}score {score:.2f} box [{', '.join(f'{v:.1f}' for v in box)}]")
                if printer is not None:
                    printer(done, total, time.perf_counter() - start)
        finally:
            if printer is not None:
                printer.finish()
            if sink is not None:
                sink.close()
                LOG.info("wrote %s: %d frames", args.out, sink.frames)
    if args.json:
        json.dump({"results": results}, sys.stdout, indent=None if len(results) > 1 else 2)
        print()
    return 1 if failed else 0


# --- evaluate ------------------------------------------------------------------------------------------------------

def _evaluate(args: argparse.Namespace) -> int:
    """COCO keypoint AP of the configuration (pose_ros/tools/evaluate.py); exit 2 on unusable input."""
    from pose_ros.tools import evaluate as ev

    try:
        truth = ev.GroundTruth.load(args.annotations)
        models = configure_from_args(args, ev.EVALUATION_SETTINGS)
        config = models.config
        if args.gt_boxes:
            if "top_down" not in models.by_mode:
                raise ConfigError(f"--gt-boxes needs a top-down configuration; {config.model!r} runs {config.mode}")
            predict = ev.ground_truth_box_predictor(models.by_mode["top_down"])
        else:
            predict = ev.stream_predictor(models)
        ev.layout_indices(models.skeleton, truth.keypoint_names)
        scores = ev.evaluate(truth, args.images, predict, results_path=args.results, max_images=args.max_images,
                             progress=not args.no_progress)
    except ev.EvaluationError as err:
        LOG.error("%s", err)
        return 2
    what = (f"{args.profile or args.config or 'default configuration'}: {models.describe()}"
            f"{', on the ground-truth boxes' if args.gt_boxes else ''}; {truth.path.name}")
    if args.json:
        json.dump({**scores, "configuration": what, "person_threshold": config.person_threshold}, sys.stdout)
        print()
    else:
        print(ev.summary(scores, what))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pose_ros", description="Human pose estimation without ROS.")
    sub = parser.add_subparsers(dest="command", required=True)
    infer = sub.add_parser("infer", help="run the pose stream on image or video files")
    infer.add_argument("images", nargs="+", type=Path, metavar="PATH", help="image files (one sequence) or videos")
    infer.add_argument("--json", action="store_true", help="print the poses as JSON")
    infer.add_argument("--draw", metavar="DIR", type=Path,
                       help="write overlay images into DIR (one per frame: <video>_<frame>_poses.jpg)")
    infer.add_argument("--out", metavar="FILE", type=Path,
                       help="write the overlays of the (one) video PATH as a video of the same size and rate "
                            "(.mp4, .avi, ...)")
    infer.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    add_config_arguments(infer)
    evaluate = sub.add_parser("evaluate", help="COCO keypoint AP on a COCO-format set (needs pycocotools)",
                              description="Each image on its own (no tracking or smoothing); person threshold "
                              "0.05, keypoint threshold 0 and max people 20 (COCO's) unless given; scored by "
                              "pycocotools.")
    evaluate.add_argument("--annotations", type=Path, required=True, metavar="JSON",
                          help="COCO keypoint annotations (person_keypoints_*.json)")
    evaluate.add_argument("--images", type=Path, required=True, metavar="DIR", help="the annotated images")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    evaluate.add_argument("--results", type=Path, metavar="FILE", help="keep the COCO results file")
    evaluate.add_argument("--gt-boxes", action="store_true",
                          help="top-down: keypoints on the ground-truth person boxes (MMPose's protocol)")
    evaluate.add_argument("--max-images", type=_positive, metavar="N", help="only the first N images (by id)")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    add_config_arguments(evaluate, groups=(PoseConfig,))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(levelname)s: %(message)s", stream=sys.stderr)
    try:
        return _evaluate(args) if args.command == "evaluate" else _infer(args)
    except (ConfigError, RuntimeError) as err:  # ModelError and BackendError are RuntimeErrors
        LOG.error("%s", err)
        return 2
