"""What the reference environments' builders share (mediapipe_env.py, tfjs_env.py): run one logged build step,
and hold a lock so that two test processes never build the same environment at once."""
from __future__ import annotations

import contextlib
import fcntl
import logging
import subprocess
from pathlib import Path


def run_step(cmd: list, env: dict[str, str], error: type[Exception], log: logging.Logger,
             cwd: Path | None = None) -> str:
    """Run ``cmd``; its output is logged at debug level, and on failure its last lines go into ``error``.
    Returns stdout."""
    cmd = [str(c) for c in cmd]
    log.info("$ %s", " ".join(cmd))
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    for line in (proc.stdout + proc.stderr).splitlines():
        log.debug("  %s", line)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise error(f"command failed ({proc.returncode}){f' in {cwd}' if cwd else ''}: {' '.join(cmd)}\n{tail}")
    return proc.stdout


@contextlib.contextmanager
def exclusive(lock_file: Path, log: logging.Logger):
    """Hold an exclusive lock on ``lock_file`` for the block (waiting, and saying so, if another process has it)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process holds %s; waiting for it", lock_file)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock
