"""Start the installed pose_node executable as its own process, as `ros2 launch` would."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INSTALL = REPO / "install" / "pose_ros"
EXECUTABLE = INSTALL / "lib" / "pose_ros" / "pose_node"
SHARE = INSTALL / "share" / "pose_ros"


class NodeProcess:
    """``pose_node --ros-args ...`` in a subprocess; its output is kept for assertions."""

    def __init__(self, ros_args: list[str], env: dict[str, str] | None = None, log_path: Path | None = None):
        self.log_path = log_path or Path(os.environ.get("TMPDIR", "/tmp")) / f"pose_node_{os.getpid()}_{time.time_ns()}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, str(EXECUTABLE), "--ros-args", *ros_args],
                                     stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while "ready:" not in self.output():
            if self.proc.poll() is not None:
                raise AssertionError(f"pose_node exited with {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"pose_node not ready after {timeout} s:\n{self.output()}")
            time.sleep(0.1)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(subprocess.signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
