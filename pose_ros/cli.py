"""Command line, no ROS needed:

    python -m pose_ros infer PATH... [--profile NAME | --config FILE] [--json] [--draw DIR] [--any-setting VALUE]
    python -m pose_ros evaluate --annotations person_keypoints_val2017.json --images DIR [--profile NAME] ...

PATHs are images (one sequence, in the order given: tracked across them like a camera's frames) or videos
(each its own sequence). Every setting of the node that concerns the poses is a flag of the same name
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
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")


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
    given, for the settings of ``cls``."""
    from pose_ros.core.profiles import load_parameters_file, profile_path

    names = {s.name for s in settings_of(cls)}
    values = {}
    source = profile_path(args.profile) if getattr(args, "profile", None) else getattr(args, "config", None)
    if source is not None:
        values = {k: v for k, v in load_parameters_file(source).items() if k in names}
    values.update({k: v for k, v in (defaults or {}).items() if k in names})
    values.update({name: getattr(args, name) for name in names if getattr(args, name, None) is not None})
    return values


def config_from_args(args: argparse.Namespace, defaults: dict | None = None) -> PoseConfig:
    return build(PoseConfig, _values(args, PoseConfig, defaults))


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


def _video_frames(path: Path) -> Iterator[tuple[float, object]]:
    """(time s, BGR frame) of a video file, in order."""
    import cv2

    _check_path(path)
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise InputError(f"cannot open video {path}")
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0, frame
    finally:
        capture.release()


def _check_draw_dir(draw: Path) -> None:
    try:
        draw.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"--draw {draw}: cannot create it ({err.strerror})") from None
    if not os.access(draw, os.W_OK):
        raise ConfigError(f"--draw {draw}: not writable")


def _sequences(paths: list[Path]) -> Iterator[tuple[str, Iterator]]:
    """(name, frames) per sequence: all images as one (in order), each video alone. A frame is
    (label, stamp_s, image or InputError)."""
    images = [p for p in paths if p.suffix.lower() not in VIDEO_SUFFIXES]

    def image_frames():
        for i, path in enumerate(images):
            try:
                yield str(path), float(i), _read_image(path)
            except InputError as err:
                yield str(path), float(i), err

    if images:
        yield "images", image_frames()
    for video in (p for p in paths if p.suffix.lower() in VIDEO_SUFFIXES):
        def video_frames(video=video):
            try:
                for n, (stamp, image) in enumerate(_video_frames(video)):
                    yield f"{video}#{n}", stamp, image
            except InputError as err:
                yield str(video), 0.0, err
        yield str(video), video_frames()


def _infer(args: argparse.Namespace) -> int:
    import cv2

    from pose_ros.core.annotators import draw_poses
    from pose_ros.core.pipeline import build_models
    from pose_ros.core.stream import Frame, PoseStream

    config, stream_config = config_from_args(args), stream_config_from_args(args)
    if args.draw:
        _check_draw_dir(args.draw)
    models = build_models(config)
    results, failed = [], 0
    for name, frames in _sequences(args.images):
        stream = PoseStream(models, stream_config, name=name)
        for label, stamp, image in frames:
            if isinstance(image, InputError):
                LOG.error("%s", image)
                failed += 1
                continue
            result = stream.process(Frame(image, stamp, name))
            poses = result.poses
            results.append({"image": label, "model": result.model, "mode": result.mode, **poses.to_dict()})
            if args.draw:
                out = args.draw / (Path(label.replace("#", "_")).stem + "_poses.jpg")
                if not cv2.imwrite(str(out), draw_poses(image, poses)):
                    LOG.error("cannot write %s", out)
                    failed += 1
            if not args.json:
                timing = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in result.stages.items())
                print(f"{label}: {len(poses)} people ({timing})")
                for box, score, track in zip(poses.boxes, poses.scores, poses.track_ids):
                    ident = f"#{track} " if track >= 0 else ""
                    print(f"  {ident}score {score:.2f} box [{', '.join(f'{v:.1f}' for v in box)}]")
    if args.json:
        json.dump({"results": results}, sys.stdout, indent=None if len(results) > 1 else 2)
        print()
    return 1 if failed else 0


# --- evaluate ------------------------------------------------------------------------------------------------------

def _evaluate(args: argparse.Namespace) -> int:
    """COCO keypoint AP of the configuration (pose_ros/tools/evaluate.py); exit 2 on unusable input."""
    from pose_ros.core.pipeline import build_models
    from pose_ros.tools import evaluate as ev

    try:
        truth = ev.GroundTruth.load(args.annotations)
        config = config_from_args(args, ev.EVALUATION_SETTINGS)
        models = build_models(config)
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
    infer.add_argument("--draw", metavar="DIR", type=Path, help="write overlay images into DIR")
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
