"""Where pose_ros keeps what it builds and downloads (models, sample photos, tool venvs): ``$POSE_ROS_CACHE``,
default ``~/.cache/pose_ros``. The one definition for Python (scripts/env.sh exports the same default for the
shell side; the scripts that run in the separate tool venvs get it in their environment)."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """``cache`` when given, else $POSE_ROS_CACHE, else ~/.cache/pose_ros; user-expanded, absolute."""
    if cache is None:
        cache = os.environ.get("POSE_ROS_CACHE") or "~/.cache/pose_ros"
    return Path(cache).expanduser().absolute()
