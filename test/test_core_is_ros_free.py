"""The core must run without ROS: no module under pose_ros/core imports rclpy or message packages."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "pose_ros" / "core"
ROS_MODULES = ("rclpy", "rosidl_runtime_py", "sensor_msgs", "std_msgs", "geometry_msgs", "visualization_msgs",
               "diagnostic_msgs", "builtin_interfaces", "cv_bridge", "pose_ros.msg", "pose_ros.node")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_module_imports_no_ros(path):
    bad = {name for name in _imports(path) if name.startswith(ROS_MODULES)}
    assert not bad, f"{path.name} imports ROS modules: {sorted(bad)}"


def test_core_and_cli_load_without_ros_modules():
    code = ("import sys, pose_ros.core.pipeline, pose_ros.core.annotators, pose_ros.cli; "
            "loaded = [m for m in sys.modules if m.split('.')[0] in ('rclpy', 'sensor_msgs', 'std_msgs')]; "
            "print(loaded); sys.exit(1 if loaded else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
