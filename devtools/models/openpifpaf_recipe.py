"""The models step's OpenPifPaf recipes (``openpifpaf`` = shufflenetv2k16, ``openpifpaf_resnet50``).

OpenPifPaf's trained checkpoints are published only as GitHub release assets of openpifpaf/torchhub (no PyPI package
ships them), so this machine cannot fetch them; a robot or workstation with internet can. Where a model comes from:

1. ``POSE_ROS_OPENPIFPAF_CHECKPOINT=/path/to/file.pkl`` (for ``openpifpaf``): a checkpoint the user already has.
2. Otherwise, only when the model was asked for by name (``prepare_models.py --only openpifpaf``), a download of the
   release asset into $POSE_ROS_CACHE/downloads. A plain models step never contacts GitHub: machines without internet
   (CI, this one) would wait on it at every set-up.
3. Neither: one line saying how to get it, recorded in the manifest's ``unavailable`` section, and the step goes on;
   ``model:=openpifpaf`` then fails configure with that line.

Checking the file: the upstream sha256 values cannot be known here (the assets are unreachable), so
* the file name's 8 hex digits (torch.hub's convention, e.g. ``...-7189450a.pkl``; OpenPifPaf loads with
  ``check_hash``) must be the start of the downloaded file's sha256;
* ``POSE_ROS_OPENPIFPAF_CHECKPOINT_SHA256`` pins the full value when the user has it;
* otherwise trust on first use: the full sha256 of what was downloaded is recorded in the manifest entry
  (``checkpoint_sha256``) and in $POSE_ROS_CACHE/downloads/openpifpaf-checkpoints.json, and any later build of the
  same model (``--force``, another machine sharing the cache) must find the same bytes.

Export: in the OpenPifPaf venv (devtools/reference/openpifpaf_env.py: openpifpaf 0.13.11 built from its sdist on the
tool venv's torch), ``openpifpaf_reference.py export``, which is the only place a checkpoint (a pickle of the whole
network) is opened, with ``torch.load(weights_only=False)``. pose_ros' runtime only ever loads the ONNX file.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

LOG = logging.getLogger("prepare_models")

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "devtools" / "reference"
INPUT_HW = (481, 641)   # OpenPifPaf's eval size for 640x480 (CenterPadTight(16)): fields 31x41 at stride 16
CHECKPOINT_ENV = "POSE_ROS_OPENPIFPAF_CHECKPOINT"
CHECKPOINT_SHA_ENV = "POSE_ROS_OPENPIFPAF_CHECKPOINT_SHA256"
TOFU_FILE = "openpifpaf-checkpoints.json"
RELEASES = "https://github.com/openpifpaf/torchhub/releases/download/v0.13/"
# openpifpaf 0.13.11's openpifpaf/plugins/coco/__init__.py CHECKPOINT_URLS
CHECKPOINTS = {
    "openpifpaf": "shufflenetv2k16-210820-232500-cocokp-slurm726069-edge513-o10s-7189450a.pkl",
    "openpifpaf_resnet50": "resnet50-210830-150728-cocokp-slurm728641-edge513-o10s-ecd30da4.pkl",
}


class ModelUnavailable(RuntimeError):
    """The model cannot be built on this machine; the message says how to get it (one line)."""


def how_to_install(name: str) -> str:
    user = (f"set {CHECKPOINT_ENV}=/path/to/{CHECKPOINTS['openpifpaf']} (or another OpenPifPaf 0.13 cocokp "
            "checkpoint) and run `python3 devtools/models/prepare_models.py`, or " if name == "openpifpaf" else "")
    return ("OpenPifPaf weights are not installed (its checkpoints are GitHub release assets of openpifpaf/torchhub, "
            f"which this machine did not fetch): {user}run `python3 devtools/models/prepare_models.py --only {name}` "
            "on a machine that reaches github.com")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(url: str, dest: Path) -> None:
    tmp = dest.with_suffix(dest.suffix + ".part")
    LOG.info("downloading %s", url)
    with urllib.request.urlopen(url, timeout=30) as response, open(tmp, "wb") as f:  # noqa: S310 (https, fixed)
        shutil.copyfileobj(response, f)
    os.replace(tmp, dest)


def _checked(name: str, path: Path, downloads: Path) -> str:
    """sha256 of the checkpoint after the checks of the module docstring (name prefix, user pin, first use)."""
    digest = _sha256(path)
    prefix = re.search(r"-([0-9a-f]{8})\.pkl$", path.name)
    if prefix and not digest.startswith(prefix.group(1)):
        raise RuntimeError(f"{path}: sha256 {digest} does not start with {prefix.group(1)} (its name's hash)")
    pinned = os.environ.get(CHECKPOINT_SHA_ENV, "").strip().lower()
    if pinned and name == "openpifpaf" and digest != pinned:
        raise RuntimeError(f"{path}: sha256 {digest}, but {CHECKPOINT_SHA_ENV} pins {pinned}")
    record = downloads / TOFU_FILE
    seen = json.loads(record.read_text()) if record.exists() else {}
    if path.name in seen and seen[path.name] != digest:
        raise RuntimeError(f"{path}: sha256 {digest}, but the first use recorded {seen[path.name]} in {record}")
    if path.name not in seen:
        seen[path.name] = digest
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(seen, indent=2) + "\n")
        LOG.info("%s: sha256 %s recorded on first use in %s", path.name, digest, record)
    return digest


def checkpoint(name: str, downloads: Path, asked_for: bool) -> Path:
    """The checkpoint file to export for ``name``, or ModelUnavailable."""
    if name == "openpifpaf" and os.environ.get(CHECKPOINT_ENV):
        path = Path(os.environ[CHECKPOINT_ENV]).expanduser()
        if not path.is_file():
            raise ModelUnavailable(f"{CHECKPOINT_ENV}={path} is not a file")
        return path
    path = downloads / CHECKPOINTS[name]
    if path.is_file():
        return path
    if not asked_for:
        raise ModelUnavailable(how_to_install(name))
    downloads.mkdir(parents=True, exist_ok=True)
    try:
        _download(RELEASES + CHECKPOINTS[name], path)
    except OSError as exc:   # URLError, timeouts, refused connections
        raise ModelUnavailable(f"{how_to_install(name)} (download failed: {exc})") from None
    return path


def build(name: str, ctx, out: Path, asked_for: bool) -> dict:
    """Export ``name``'s checkpoint to ``out``; returns the manifest fields it observed."""
    ckpt = checkpoint(name, ctx.downloads, asked_for)
    digest = _checked(name, ckpt, ctx.downloads)
    sys.path.insert(0, str(REFERENCE))
    from openpifpaf_env import clean_env, ensure_openpifpaf_env  # the test-only env doubles as the build env

    python = ensure_openpifpaf_env(ctx.cache)
    tmp = out.with_suffix(".tmp.onnx")
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([str(python), str(REFERENCE / "openpifpaf_reference.py"), "export", str(tmp),
                           "--checkpoint", str(ckpt), "--width", str(INPUT_HW[1]), "--height", str(INPUT_HW[0])],
                          env=clean_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"OpenPifPaf export of {ckpt} failed:\n{proc.stderr[-2000:]}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    os.replace(tmp, out)
    return {"stride": info["stride"], "checkpoint": ckpt.name, "checkpoint_sha256": digest,
            "checkpoint_sha256_source": "pinned" if os.environ.get(CHECKPOINT_SHA_ENV) else "first use"}


def entry(name: str) -> dict:
    return {"file": f"{name}.onnx", "family": "openpifpaf", "input_size": list(INPUT_HW), "skeleton": "coco17",
            "licence": "AGPL-3.0 (OpenPifPaf code and weights)",
            "source": f"openpifpaf 0.13.11 checkpoint {CHECKPOINTS[name]} (exported by the models step)"}
