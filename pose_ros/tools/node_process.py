"""Start the installed pose_node executable as its own process, as `ros2 launch` would (used by the
demo and the tests; `ros2 launch` itself may not be installed)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# colcon install of this checkout for the distro in use: scripts/env.sh sets POSE_ROS_INSTALL (install/<distro>).
INSTALL = Path(os.environ.get("POSE_ROS_INSTALL") or REPO / "install" / os.environ.get("POSE_ROS_DISTRO", "jazzy")) \
    / "pose_ros"
EXECUTABLE = INSTALL / "lib" / "pose_ros" / "pose_node"
SHARE = INSTALL / "share" / "pose_ros"


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGINT (a ROS node's clean shutdown), then SIGKILL if it is not gone within ``timeout`` s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class NodeProcess:
    """``pose_node --ros-args ...`` in a subprocess; its output is kept for assertions."""

    def __init__(self, ros_args: list[str], env: dict[str, str] | None = None, log_path: Path | None = None):
        if log_path is None:
            log_path = Path(tempfile.mkstemp(prefix="pose_node_", suffix=".log")[1])
        self.log_path = log_path
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, str(EXECUTABLE), "--ros-args", *ros_args],
                                     stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def output(self) -> str:
        if not self._log.closed:  # also after stop(), for the message of a failed exit code
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
        stop_process(self.proc)
        self._log.close()
        return self.proc.returncode
