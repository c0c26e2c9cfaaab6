"""Make the ROS 2 PyPI wheels in a venv usable for building packages with custom messages.

The wheels (Jazzy's `ros-jazzy-*` and Kilted's `ros-*` alike) were built in a manylinux container and their
CMake exports hard-code that container's
Python (``/opt/python/cp311-cp311/...``): the Python headers and numpy's headers. Rewrite those paths
to this interpreter's, so ``rosidl_generate_interfaces`` can compile the Python type support.
Idempotent: a second run finds nothing to rewrite.

    python scripts/fix_ros_wheels.py VENV
"""
import logging
import re
import sys
import sysconfig
from pathlib import Path

import numpy

LOG = logging.getLogger("fix_ros_wheels")
BUILD_PREFIX = re.compile(r"/opt/python/cp3\d+-cp3\d+")


def local_paths() -> dict[str, str]:
    """Map each hard-coded include directory to this machine's equivalent."""
    return {
        "include/python3.11": sysconfig.get_paths()["include"],
        "lib/python3.11/site-packages/numpy/_core/include": numpy.get_include(),
    }


def rewrite(text: str) -> str:
    for suffix, local in local_paths().items():
        text = re.sub(BUILD_PREFIX.pattern + "/" + re.escape(suffix), local, text)
    return text


def main(venv: Path) -> int:
    changed = 0
    for cmake_file in sorted((venv / "share").glob("*/cmake/*.cmake")):
        text = cmake_file.read_text()
        if not BUILD_PREFIX.search(text):
            continue
        new = rewrite(text)
        if BUILD_PREFIX.search(new):
            LOG.error("%s still names the build machine's Python after rewriting", cmake_file)
            return 1
        cmake_file.write_text(new)
        changed += 1
    LOG.info("rewrote %d CMake export file(s) under %s", changed, venv)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="[fix_ros_wheels] %(message)s")
    sys.exit(main(Path(sys.argv[1])))
