"""Installed models: the manifest written by the models step, and sha256-checked model files.

The models step (``make models``) writes ``manifest.json`` into the models directory
(``$POSE_ROS_MODEL_DIR``, default ``~/.cache/pose_ros/models``); each entry names the file, its sha256,
the model family (which decoder runs it), its input size, skeleton and licence. Weights never live in git.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pose_ros.core.cache import cache_dir

INSTALL_COMMAND = "make models  (or: scripts/setup_env.sh)"


class ModelError(RuntimeError):
    """A model is unknown, missing or does not match its manifest; the message says how to fix it."""


@dataclass(frozen=True)
class ModelSpec:
    """One manifest entry, with ``path`` resolved. ``options`` holds the entry's other fields (family-specific:
    e.g. an MMPose model's mean/std/refine, a converted model's output names), read by the family that runs it."""

    name: str
    path: Path
    sha256: str
    family: str
    input_size: tuple[int, int]  # (height, width) of the model input
    skeleton: str
    licence: str
    options: Mapping[str, Any] = field(default_factory=dict)


_REQUIRED = ("file", "sha256", "family", "input_size", "skeleton")


def default_model_dir() -> Path:
    if os.environ.get("POSE_ROS_MODEL_DIR"):
        return Path(os.environ["POSE_ROS_MODEL_DIR"])
    return cache_dir() / "models"


def load_manifest(model_dir: Path) -> dict[str, ModelSpec]:
    manifest = model_dir / "manifest.json"
    if not manifest.is_file():
        raise ModelError(f"no model manifest at {manifest}; install the models with: {INSTALL_COMMAND}")
    try:
        entries = json.loads(manifest.read_text())["models"]
        specs = {}
        for name, e in entries.items():
            missing = [key for key in _REQUIRED if key not in e]
            if missing:
                raise KeyError(f"{name}: missing {', '.join(missing)}")
            specs[name] = ModelSpec(name=name, path=model_dir / e["file"], sha256=e["sha256"], family=e["family"],
                                    input_size=(int(e["input_size"][0]), int(e["input_size"][1])),
                                    skeleton=e["skeleton"], licence=e.get("licence", "unknown"),
                                    options=MappingProxyType({k: v for k, v in e.items()
                                                              if k not in (*_REQUIRED, "licence")}))
        return specs
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise ModelError(f"model manifest {manifest} is malformed ({err!r}); "
                         f"reinstall the models with: {INSTALL_COMMAND}") from err


def unavailable_reason(model_dir: Path, name: str) -> str:
    """Why the models step could not build ``name`` here (its manifest's "unavailable" section), or ""."""
    try:
        reason = json.loads((model_dir / "manifest.json").read_text()).get("unavailable", {}).get(name, "")
    except (OSError, ValueError, AttributeError):
        return ""
    return reason if isinstance(reason, str) else ""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Catalogue:
    """The installed models as one configure sees them: ``manifest.json`` read once (on first use), each model
    file checked against its sha256 once (when first asked for), however many roles it plays (YOLO11n-pose as
    mode auto's bottom-up model and as its detector) and however many checks ask. Make a new one per configure:
    a file replaced since is then checked again."""

    def __init__(self, model_dir: Path | str | None = None):
        self.model_dir = Path(model_dir) if model_dir else default_model_dir()
        self._specs: dict[str, ModelSpec] | None = None
        self._verified: set[Path] = set()

    @property
    def specs(self) -> dict[str, ModelSpec]:
        if self._specs is None:
            self._specs = load_manifest(self.model_dir)
        return self._specs

    def entry(self, name: str) -> ModelSpec:
        """Model ``name``'s manifest entry (its file not checked); ModelError listing the installed ones."""
        if name not in self.specs:
            reason = unavailable_reason(self.model_dir, name)
            if reason:  # the models step said why it could not build it here (OpenPifPaf without its weights)
                raise ModelError(f"model {name!r} is not installed in {self.model_dir}: {reason}")
            raise ModelError(f"unknown model {name!r}; installed: {', '.join(sorted(self.specs)) or 'none'} "
                             f"(in {self.model_dir}). Install it with: make models ARGS=\"--only {name}\" (a "
                             f"profile's models: ARGS=\"--profile NAME\"; every model: {INSTALL_COMMAND})")
        return self.specs[name]

    def spec(self, name: str) -> ModelSpec:
        """Model ``name``'s entry, its file present and matching its sha256 (hashed once per catalogue)."""
        spec = self.entry(name)
        if spec.path not in self._verified:
            if not spec.path.is_file():
                raise ModelError(f"model file {spec.path} for {name!r} is missing; install it with: "
                                 f"{INSTALL_COMMAND}")
            actual = file_sha256(spec.path)
            if actual != spec.sha256:
                raise ModelError(f"model file {spec.path} has sha256 {actual}, the manifest expects "
                                 f"{spec.sha256}; reinstall it with: {INSTALL_COMMAND} (add --force)")
            self._verified.add(spec.path)
        return spec


def resolve_model(name: str, model_dir: Path | None = None, verify: bool = True) -> ModelSpec:
    """Find model ``name`` in the manifest and check its file exists and matches its sha256 (one look-up; a
    configure uses one :class:`Catalogue` for all its models)."""
    catalogue = Catalogue(model_dir)
    return catalogue.spec(name) if verify else catalogue.entry(name)
