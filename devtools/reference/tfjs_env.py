#!/usr/bin/env python3
"""The TF.js reference environment: @tensorflow-models/pose-detection 2.1.3 and @tensorflow/tfjs 4.22.0 for node.js,
for the parity tests of PoseNet, MoveNet MultiPose and the converted TF.js graphs (test/test_tfjs_parity.py).

    python devtools/reference/tfjs_env.py [--rebuild] [-v]     # install if needed, print the node_modules folder

    from tfjs_env import ensure_tfjs_env, node_env
    modules = ensure_tfjs_env()      # $POSE_ROS_CACHE/node-tfjs/node_modules
    subprocess.run(["node", "devtools/reference/tfjs/reference.js"], env=node_env(modules), ...)

Standard library and the machine's node/npm only (Debian: `apt-get install nodejs npm`). package.json and
package-lock.json beside reference.js pin every package; `npm ci --ignore-scripts` installs exactly the lockfile into
$POSE_ROS_CACHE/node-tfjs (default POSE_ROS_CACHE=~/.cache/pose_ros), never into the source tree. The pure-JS 'cpu'
backend needs no native build and no download beyond the npm registry (~90 packages, ~380 MB unpacked, seconds).

Idempotent: a stamp records the sha256 of both files and node's version; when it matches, nothing runs. A changed
file reinstalls from scratch. Concurrent calls serialise on a file lock; the stamp is written only after a smoke
test (both packages load), so an interrupted install is never taken as complete.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

# build_steps.py beside this file and the checkout's pose_ros (cache_dir), also when a test loads this module by its path.
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]
from build_steps import exclusive, run_step  # noqa: E402

from pose_ros.core.cache import cache_dir  # noqa: E402 - stdlib only

LOG = logging.getLogger("tfjs_env")

HERE = Path(__file__).resolve().parent / "tfjs"
LOCKED_FILES = ("package.json", "package-lock.json")
ENV_NAME = "node-tfjs"
STAMP_NAME = "pose_ros-stamp.json"
SMOKE = ("const tf = require('@tensorflow/tfjs'); require('@tensorflow-models/pose-detection');"
         "tf.setBackend('cpu').then(() => console.log(tf.version.tfjs, tf.getBackend()))")


class TfjsEnvError(RuntimeError):
    """node/npm missing or the install failed (the message says why and what to do)."""


def tool(name: str) -> str:
    """Absolute path of node or npm, or a TfjsEnvError saying how to get it."""
    path = shutil.which(name)
    if not path:
        raise TfjsEnvError(f"`{name}` not found on PATH: the TF.js reference needs node.js >= 18 and npm "
                           "(Debian/Ubuntu: `apt-get install nodejs npm`)")
    return path


def node_env(modules: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment to run reference.js with: NODE_PATH points at the installed node_modules."""
    env = dict(os.environ if base is None else base)
    env["NODE_PATH"] = str(modules)
    env.pop("NODE_OPTIONS", None)
    return env


def _wanted_stamp(node: str) -> dict:
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return {"node": version,
            "files": {name: hashlib.sha256((HERE / name).read_bytes()).hexdigest() for name in LOCKED_FILES}}


def _up_to_date(root: Path, want: dict) -> bool:
    try:
        have = json.loads((root / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return have == want and (root / "node_modules").is_dir()


def _run(cmd: list, cwd: Path) -> str:
    return run_step(cmd, node_env(cwd / "node_modules"), TfjsEnvError, LOG, cwd=cwd)


def ensure_tfjs_env(cache: str | os.PathLike | None = None, *, rebuild: bool = False) -> Path:
    """Make sure the locked packages are installed; return the node_modules folder."""
    node, npm = tool("node"), tool("npm")
    root = cache_dir(cache) / ENV_NAME
    want = _wanted_stamp(node)
    if not rebuild and _up_to_date(root, want):
        return root / "node_modules"
    with exclusive(root.parent / f".{ENV_NAME}.lock", LOG):
        if not rebuild and _up_to_date(root, want):
            return root / "node_modules"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        for name in LOCKED_FILES:
            shutil.copyfile(HERE / name, root / name)
        # --ignore-scripts: nothing in the lockfile needs an install script (pure JS; core-js' is an advert).
        _run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], root)
        LOG.info("TF.js reference: %s", _run([node, "-e", SMOKE], root).strip())
        (root / STAMP_NAME).write_text(json.dumps(want, indent=2) + "\n", encoding="utf-8")
    return root / "node_modules"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", help="cache directory (default $POSE_ROS_CACHE or ~/.cache/pose_ros)")
    parser.add_argument("--rebuild", action="store_true", help="reinstall even if up to date")
    parser.add_argument("-v", "--verbose", action="store_true", help="also log npm's output")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(name)s: %(message)s")
    try:
        print(ensure_tfjs_env(args.cache, rebuild=args.rebuild))
    except TfjsEnvError as exc:
        LOG.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
