"""Profiles: the node's parameters files (config/<name>.yaml), read without ROS so the CLI and the bag tools run the
same configurations as ``ros2 launch pose_ros pose.launch.xml model:=<name>``."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from pose_ros.core.settings import ConfigError


def config_dirs() -> list[Path]:
    """Where profiles live: the source checkout's config/, each ament prefix's share/pose_ros/config (a colcon
    install), then this Python environment's share/pose_ros/config (``pip install .``: setup.cfg's data_files)."""
    dirs = [Path(__file__).resolve().parents[2] / "config"]
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            dirs.append(Path(prefix) / "share" / "pose_ros" / "config")
    dirs.append(Path(sys.prefix) / "share" / "pose_ros" / "config")
    unique = list(dict.fromkeys(dirs))
    return [d for d in unique if d.is_dir()]


def available_profiles() -> list[str]:
    return sorted({p.stem for d in config_dirs() for p in d.glob("*.yaml")})


def profile_path(name: str) -> Path:
    for directory in config_dirs():
        path = directory / f"{name}.yaml"
        if path.is_file():
            return path
    raise ConfigError(f"unknown profile {name!r}; valid: {', '.join(available_profiles()) or 'none found'}")


def load_parameters_file(path: Path | str) -> dict[str, Any]:
    """The parameters of a ROS 2 parameters file for pose_node (``/**:`` or ``pose_node:`` ->
    ``ros__parameters:``), flat by name. Read with yaml.safe_load: nothing in it is executed."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read parameters file {path}: {err}") from None
    values: dict[str, Any] = {}
    for node, section in (data or {}).items():
        if not isinstance(section, dict) or not isinstance(section.get("ros__parameters"), dict):
            raise ConfigError(f"{path}: {node!r} has no ros__parameters mapping")
        if node.strip("/") in ("**", "pose_node") or node.endswith("/pose_node"):
            values.update(section["ros__parameters"])
    return values


def profile_values(source: str | Path, cls=None) -> dict[str, Any]:
    """The values a profile name or a parameters file gives the settings of ``cls`` (PoseConfig by default), by
    name; settings of other classes in the file are left out (the node's QoS, say)."""
    from pose_ros.core.config import PoseConfig
    from pose_ros.core.settings import settings_of

    path = Path(source) if str(source).endswith((".yaml", ".yml")) else profile_path(str(source))
    names = {s.name for s in settings_of(cls or PoseConfig)}
    return {k: v for k, v in load_parameters_file(path).items() if k in names}


def load_profile(source: str | Path, cls=None, **overrides: Any):
    """A config (PoseConfig by default, or another settings class) from a profile name or a parameters file,
    with ``overrides``."""
    from pose_ros.core.config import PoseConfig
    from pose_ros.core.settings import build

    cls = cls or PoseConfig
    return build(cls, {**profile_values(source, cls), **overrides})
