#!/usr/bin/env python3
"""The OpenPifPaf reference environment: a test-only venv with openpifpaf 0.13.11 (its C++ decoder included), for
the CIF/CAF decoder parity tests (test/test_openpifpaf_parity.py) and the models step's ONNX export.

    python devtools/reference/openpifpaf_env.py [--rebuild] [-v]     # build if needed, print the venv's python

    from openpifpaf_env import ensure_openpifpaf_env, clean_env
    python = ensure_openpifpaf_env()         # Path of $POSE_ROS_CACHE/venv-openpifpaf/bin/python
    subprocess.run([python, "devtools/reference/openpifpaf_reference.py", ...], env=clean_env(), ...)

Standard library only. What it does, and why (each step was needed on Python 3.11):

1. A venv at $POSE_ROS_CACHE/venv-openpifpaf made with the base interpreter, whose site-packages holds one .pth line
   naming the tool venv's site-packages ($POSE_ROS_CACHE/venv-tools, built by the models step): that gives it torch
   2.14.1 + torchvision 0.29.1 without a second 6 GB copy. openpifpaf imports torchvision at import time
   (network/basenetworks.py, transforms/), and the CPU-only torch 2.13.0 wheel on this machine cannot load PyPI's
   torchvision 0.28.0 (its _C.so links libtorch_cuda.so: "operator torchvision::nms does not exist"), so the tool
   venv's CUDA build of 2.14.1 (run on the CPU) is the one torch that works with a torchvision here.
2. `pip install -r requirements-openpifpaf.txt`: openpifpaf's own dependencies by hand (its metadata pins
   torch==1.13.1, which has no cp311 wheel), and matplotlib 3.8 (openpifpaf calls matplotlib.cm.get_cmap, gone in 3.9).
3. The sdist: `pip download --no-deps --no-binary :all: --no-build-isolation openpifpaf==0.13.11` (sha256-pinned;
   without --no-build-isolation pip would try to install torch 1.13.1 just to read its metadata), unpacked, and
   setup.py's `-std=c++17` changed to `-std=c++20` (torch 2.14's headers refuse C++17).
4. `pip install --no-build-isolation --no-deps` of that folder: compiles the 9 C++ files (decoder included) against
   the tool venv's torch, ~3 minutes on one core.
5. A smoke test: import openpifpaf and build its CifCaf decoder.

Idempotent: a stamp in the venv records the sha256 of the requirements file, the sdist's sha256, the patch and the tool
venv's torch version; when they match, nothing runs. Anything else rebuilds from scratch (a changed tool venv torch
would break the compiled extension's ABI). Concurrent calls serialise on a file lock; the stamp is written only after
the smoke test, so an interrupted build is never taken as complete.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

# build_steps.py and mediapipe_env.py beside this file, also when a test loads this module by its path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_steps import exclusive, run_step  # noqa: E402
from mediapipe_env import base_interpreter, cache_dir, clean_env  # noqa: E402,F401  (same venv rules)

LOG = logging.getLogger("openpifpaf_env")

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-openpifpaf.txt"
VENV_NAME = "venv-openpifpaf"
TOOLS_VENV_NAME = "venv-tools"
STAMP_NAME = "pose_ros-stamp.json"
STAMP_FORMAT = 1

OPENPIFPAF_VERSION = "0.13.11"
# sha256 of openpifpaf-0.13.11.tar.gz as PyPI serves it (checked when this was written).
SDIST_SHA256 = "f15936201fe5180fddda9e42437d4c41d6884e6130387e9e67dfc79240dcc61b"
# The one source change: the C++ standard torch 2.14's headers need.
PATCHES = (("setup.py", "'-std=c++17' if not sys.platform.startswith('win') else '/std:c++17'",
            "'-std=c++20' if not sys.platform.startswith('win') else '/std:c++20'"),)

_SMOKE = ("import openpifpaf, torch, torchvision; "
          "from openpifpaf.plugins.coco import constants as c; "
          "import openpifpaf.decoder.cifcaf as d; "
          "torch.classes.openpifpaf_decoder.CifCaf(17, torch.LongTensor(c.COCO_PERSON_SKELETON) - 1); "
          "print(openpifpaf.__version__, torch.__version__, torchvision.__version__)")


class OpenpifpafEnvError(RuntimeError):
    """Building the reference venv failed, or the tool venv it needs is missing (the message says what to do)."""


def venv_python(cache: str | os.PathLike | None = None) -> Path:
    return cache_dir(cache) / VENV_NAME / "bin" / "python"


def _site_packages(venv: Path) -> Path:
    v = sys.version_info
    return venv / "lib" / f"python{v.major}.{v.minor}" / "site-packages"


def tools_torch(cache: Path) -> tuple[Path, str]:
    """The tool venv's site-packages and its torch version (from the dist-info name; nothing is imported)."""
    site = _site_packages(cache / TOOLS_VENV_NAME)
    found = sorted(site.glob("torch-*.dist-info"))
    if not found or not sorted(site.glob("torchvision-*.dist-info")):
        raise OpenpifpafEnvError(f"the tool venv {cache / TOOLS_VENV_NAME} with torch and torchvision is missing: "
                                 "run the models step first (`make models` or scripts/setup_env.sh)")
    return site, found[-1].name[len("torch-"):-len(".dist-info")]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _wanted_stamp(cache: Path) -> dict:
    _, torch_version = tools_torch(cache)
    return {"format": STAMP_FORMAT, "requirements": _sha256(REQUIREMENTS), "sdist": SDIST_SHA256,
            "patches": hashlib.sha256(repr(PATCHES).encode()).hexdigest(), "tools_torch": torch_version}


def _up_to_date(venv: Path, want: dict) -> bool:
    try:
        have = json.loads((venv / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return {k: have.get(k) for k in want} == want and (venv / "bin" / "python").exists()


def _run(cmd: list, env: dict[str, str], cwd: Path | None = None) -> str:
    return run_step(cmd, env, OpenpifpafEnvError, LOG, cwd=cwd)


def _patched_source(python: Path, env: dict[str, str], work: Path) -> Path:
    """Download the sdist (sha256-checked), unpack it into ``work`` and apply PATCHES; return the source folder."""
    _run([python, "-m", "pip", "download", "--no-input", "--no-deps", "--no-binary", ":all:", "--no-build-isolation",
          "--progress-bar=off", "--dest", work, f"openpifpaf=={OPENPIFPAF_VERSION}"], env)
    sdist = work / f"openpifpaf-{OPENPIFPAF_VERSION}.tar.gz"
    got = _sha256(sdist)
    if got != SDIST_SHA256:
        raise OpenpifpafEnvError(f"{sdist.name}: sha256 {got}, expected {SDIST_SHA256}")
    with tarfile.open(sdist) as tar:
        tar.extractall(work, filter="data")
    source = work / f"openpifpaf-{OPENPIFPAF_VERSION}"
    for name, old, new in PATCHES:
        path = source / name
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            raise OpenpifpafEnvError(f"patch does not apply to {name}: {old!r} found {text.count(old)} times")
        path.write_text(text.replace(old, new), encoding="utf-8")
    return source


def _build(cache: Path, venv: Path, want: dict) -> None:
    base = base_interpreter()
    env = clean_env()
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.setdefault("MAX_JOBS", str(os.cpu_count() or 1))  # torch's BuildExtension (with ninja; else one file at a time)
    LOG.info("building %s with %s (compiles openpifpaf's C++ decoder: ~3 min on one core)", venv, base)
    t0 = time.monotonic()
    _run([base, "-m", "venv", "--clear", venv], env)
    tools_site, _ = tools_torch(cache)
    (_site_packages(venv) / "pose_ros_tools_torch.pth").write_text(f"{tools_site}\n", encoding="utf-8")
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--no-input", "--progress-bar=off"]
    _run([*pip, "-r", REQUIREMENTS], env)
    with tempfile.TemporaryDirectory(prefix="openpifpaf-sdist-") as tmp:
        source = _patched_source(python, env, Path(tmp))
        t_compile = time.monotonic()
        _run([*pip, "--no-build-isolation", "--no-deps", source], env)
        compile_s = time.monotonic() - t_compile
    versions = _run([python, "-c", _SMOKE], env).split()
    stamp = dict(want, python=str(base), versions=dict(zip(("openpifpaf", "torch", "torchvision"), versions)),
                 built_in_s=round(time.monotonic() - t0, 1), compile_s=round(compile_s, 1))
    fd, tmp_stamp = tempfile.mkstemp(dir=venv, prefix=".stamp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(stamp, f, indent=2)
        f.write("\n")
    os.replace(tmp_stamp, venv / STAMP_NAME)
    LOG.info("%s ready in %.0f s (openpifpaf %s, torch %s; compiling %.0f s)", venv, stamp["built_in_s"],
             stamp["versions"].get("openpifpaf"), stamp["versions"].get("torch"), compile_s)


def ensure_openpifpaf_env(cache: str | os.PathLike | None = None, *, rebuild: bool = False) -> Path:
    """Make sure the OpenPifPaf reference venv is built and current; return its python (not resolved)."""
    cache = cache_dir(cache)
    venv = cache / VENV_NAME
    want = _wanted_stamp(cache)
    if not rebuild and _up_to_date(venv, want):
        return venv / "bin" / "python"
    with exclusive(cache / f".{VENV_NAME}.lock", LOG):
        if not rebuild and _up_to_date(venv, want):  # built by whoever held the lock before us
            return venv / "bin" / "python"
        with contextlib.suppress(FileNotFoundError):
            (venv / STAMP_NAME).unlink()  # an interrupted build must not look complete
        _build(cache, venv, want)
    return venv / "bin" / "python"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", help="cache directory (default $POSE_ROS_CACHE or ~/.cache/pose_ros)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the venv even if it is up to date")
    parser.add_argument("-v", "--verbose", action="store_true", help="also log pip's and the compiler's output")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(name)s: %(message)s")
    try:
        python = ensure_openpifpaf_env(args.cache, rebuild=args.rebuild)
    except OpenpifpafEnvError as exc:
        LOG.error("%s", exc)
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
