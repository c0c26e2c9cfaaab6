"""Command line, no ROS needed:  python -m pose_ros infer IMAGE... [--model NAME] [--json]"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import fields
from pathlib import Path

from pose_ros.core.config import ConfigError, PoseConfig

LOG = logging.getLogger("pose_ros")


def _boolean(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean; use true or false")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per PoseConfig field (--person-threshold for person_threshold, ...)."""
    for f in fields(PoseConfig):
        kind = _boolean if isinstance(f.default, bool) else type(f.default)
        parser.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default,
                            help=f"default: {f.default!r}")


def config_from_args(args: argparse.Namespace) -> PoseConfig:
    return PoseConfig(**{f.name: getattr(args, f.name) for f in fields(PoseConfig)})


def _infer(args: argparse.Namespace) -> int:
    import cv2

    from pose_ros.core.annotators import draw_poses
    from pose_ros.core.pipeline import build_estimator

    estimator = build_estimator(config_from_args(args))
    results = []
    for path in args.images:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            LOG.error("cannot read image %s", path)
            return 1
        poses = estimator(image)
        results.append({"image": str(path), "model": args.model, **poses.to_dict()})
        if args.draw:
            Path(args.draw).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(Path(args.draw) / (Path(path).stem + "_poses.jpg")), draw_poses(image, poses))
        if not args.json:
            timing = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in estimator.timings.items())
            print(f"{path}: {len(poses)} people ({timing})")
            for box, score in zip(poses.boxes, poses.scores):
                print(f"  score {score:.2f} box [{', '.join(f'{v:.1f}' for v in box)}]")
    if args.json:
        json.dump({"results": results}, sys.stdout, indent=None if len(results) > 1 else 2)
        print()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pose_ros", description="Human pose estimation without ROS.")
    sub = parser.add_subparsers(dest="command", required=True)
    infer = sub.add_parser("infer", help="run the pipeline on image files")
    infer.add_argument("images", nargs="+", type=Path)
    infer.add_argument("--json", action="store_true", help="print the poses as JSON")
    infer.add_argument("--draw", metavar="DIR", help="write overlay images into DIR")
    add_config_arguments(infer)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(levelname)s: %(message)s", stream=sys.stderr)
    try:
        return _infer(args)
    except (ConfigError, RuntimeError) as err:  # ModelError and BackendError are RuntimeErrors
        LOG.error("%s", err)
        return 2
