#!/usr/bin/env python3
"""The MediaPipe reference environment: a test-only venv with mediapipe 0.10.14 for BlazePose parity tests.

    python devtools/reference/mediapipe_env.py [--rebuild] [-v]     # build if needed, print the venv's python

    from mediapipe_env import ensure_mediapipe_env, clean_env
    python = ensure_mediapipe_env()          # Path of $POSE_ROS_CACHE/venv-mediapipe/bin/python
    subprocess.run([python, "devtools/reference/mediapipe_pose.py", image], env=clean_env(), ...)

Standard library only. The venv lives at $POSE_ROS_CACHE/venv-mediapipe (default POSE_ROS_CACHE=~/.cache/pose_ros)
and is created with the *base* interpreter of the Python running this (so calling it from inside another venv, such
as the project's, still gives a venv of its own), then filled from two pinned files beside this one:
requirements-mediapipe.txt (`pip install -r`) and requirements-mediapipe-nodeps.txt (`pip install --no-deps -r`;
mediapipe's declared dependencies would add jax, jaxlib, opencv-contrib and sounddevice, ~1 GB, none of them used).

Idempotent: a stamp file in the venv records the sha256 of both requirement files; when it matches, nothing runs
but a few file reads (well under a second). When a file changed, the venv is rebuilt from scratch. Concurrent calls
on one cache serialise on a file lock (fcntl); the loser finds the venv ready and returns. The stamp is removed
before and written after a build that passed a smoke test, so an interrupted build is never taken as complete.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

# build_steps.py beside this file and the checkout's pose_ros (cache_dir), also when a test loads this module by its path.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]
from build_steps import exclusive, run_step  # noqa: E402

from pose_ros.core.cache import cache_dir  # noqa: E402 - stdlib only

LOG = logging.getLogger("mediapipe_env")

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-mediapipe.txt"
REQUIREMENTS_NODEPS = HERE / "requirements-mediapipe-nodeps.txt"
VENV_NAME = "venv-mediapipe"
STAMP_NAME = "pose_ros-stamp.json"
STAMP_FORMAT = 1

# Variables of the calling environment that must not leak into the reference venv: a sourced ROS / colcon install
# puts its own site-packages (numpy 2, ...) on PYTHONPATH and its libraries on LD_LIBRARY_PATH.
_LEAKY_VARS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
               "PIP_REQUIRE_VIRTUALENV", "PIP_TARGET", "PIP_PREFIX", "PIP_USER")

# What the smoke test of a fresh venv runs: everything mediapipe_pose.py needs, down to building the Pose graph.
_SMOKE = ("import cv2, numpy, mediapipe as mp; "
          "mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1).close(); "
          "print(mp.__version__, numpy.__version__, cv2.__version__)")


class MediapipeEnvError(RuntimeError):
    """Building the reference venv failed (the message says why)."""


def venv_python(cache: str | os.PathLike | None = None) -> Path:
    # Not resolved: bin/python is a symlink to the base interpreter and only works under its own path.
    return cache_dir(cache) / VENV_NAME / "bin" / "python"


def clean_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of `base` (default os.environ) fit to run the venv's python: no PYTHONPATH, LD_LIBRARY_PATH, ..."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _LEAKY_VARS}
    env["PYTHONNOUSERSITE"] = "1"
    env.setdefault("MPLBACKEND", "Agg")
    return env


def base_interpreter() -> Path:
    """The interpreter our venv is made with: the base of the running one (outside of any venv)."""
    candidates = [getattr(sys, "_base_executable", None), sys.executable]
    if sys.prefix != sys.base_prefix:  # in a venv: its base's bin/ holds pythonX.Y
        v = sys.version_info
        candidates[1:1] = [str(Path(sys.base_prefix) / "bin" / f"python{v.major}.{v.minor}"),
                           str(Path(sys.base_prefix) / "bin" / "python3")]
    for candidate in candidates:
        if not candidate:
            continue
        path = Path(candidate)
        # A venv's own python (a symlink inside some venv) is not a base: skip it unless nothing else exists.
        if path.exists() and not (path.parent.parent / "pyvenv.cfg").exists():
            return path
    return Path(sys.executable)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wanted_stamp() -> dict:
    return {"format": STAMP_FORMAT,
            "requirements": {p.name: _sha256(p) for p in (REQUIREMENTS, REQUIREMENTS_NODEPS)}}


def _read_stamp(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _up_to_date(venv: Path, want: dict) -> bool:
    have = _read_stamp(venv / STAMP_NAME)
    return bool(have) and {k: have.get(k) for k in want} == want and (venv / "bin" / "python").exists()


def _run(cmd: list, env: dict[str, str]) -> str:
    return run_step(cmd, env, MediapipeEnvError, LOG)


def _build(venv: Path, want: dict) -> None:
    base = base_interpreter()
    env = clean_env()
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    LOG.info("building %s with %s (under a minute with a fast link: ~120 MB of wheels)", venv, base)
    t0 = time.monotonic()
    _run([base, "-m", "venv", "--clear", venv], env)
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--no-input", "--only-binary=:all:", "--progress-bar=off"]
    _run([*pip, "-r", REQUIREMENTS], env)
    _run([*pip, "--no-deps", "-r", REQUIREMENTS_NODEPS], env)
    versions = _run([python, "-c", _SMOKE], env).split()
    stamp = dict(want, python=str(base), versions=dict(zip(("mediapipe", "numpy", "opencv"), versions)),
                 built_in_s=round(time.monotonic() - t0, 1))
    fd, tmp = tempfile.mkstemp(dir=venv, prefix=".stamp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(stamp, f, indent=2)
        f.write("\n")
    os.replace(tmp, venv / STAMP_NAME)
    LOG.info("%s ready in %.0f s (mediapipe %s)", venv, time.monotonic() - t0, stamp["versions"].get("mediapipe"))


def ensure_mediapipe_env(cache: str | os.PathLike | None = None, *, rebuild: bool = False) -> Path:
    """Make sure the MediaPipe reference venv is built and current; return its python (not resolved)."""
    cache = cache_dir(cache)
    venv = cache / VENV_NAME
    want = _wanted_stamp()
    if not rebuild and _up_to_date(venv, want):
        LOG.debug("%s up to date", venv)
        return venv / "bin" / "python"
    with exclusive(cache / f".{VENV_NAME}.lock", LOG):
        if not rebuild and _up_to_date(venv, want):  # built by whoever held the lock before us
            LOG.info("%s up to date", venv)
            return venv / "bin" / "python"
        with contextlib.suppress(FileNotFoundError):
            (venv / STAMP_NAME).unlink()  # an interrupted build must not look complete
        _build(venv, want)
    return venv / "bin" / "python"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", help="cache directory (default $POSE_ROS_CACHE or ~/.cache/pose_ros)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the venv even if it is up to date")
    parser.add_argument("-v", "--verbose", action="store_true", help="also log pip's output")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(name)s: %(message)s")
    try:
        python = ensure_mediapipe_env(args.cache, rebuild=args.rebuild)
    except MediapipeEnvError as exc:
        LOG.error("%s", exc)
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
