"""The core must run without ROS: no module under pose_ros/core (recursively) imports rclpy or message packages; and
the model families stay independent: no family imports another (shared code lives in families/common)."""
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


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_ros(path):
    bad = {name for name in _imports(path) if name.startswith(ROS_MODULES)}
    assert not bad, f"{path.relative_to(CORE)} imports ROS modules: {sorted(bad)}"


FAMILIES = CORE / "families"
FAMILY_DIRS = sorted(d.name for d in FAMILIES.iterdir() if (d / "__init__.py").is_file() and d.name != "common")


def test_the_guards_see_every_family():
    from pose_ros.core.families import FAMILIES as REGISTRY

    assert {entry.build.__module__.split(".")[3] for entry in REGISTRY.values()} == set(FAMILY_DIRS)
    assert len(list(CORE.rglob("*.py"))) > len(list(CORE.glob("*.py")))


@pytest.mark.parametrize("family", FAMILY_DIRS)
def test_no_family_imports_another(family):
    others = tuple(f"pose_ros.core.families.{other}" for other in FAMILY_DIRS if other != family)
    for path in (FAMILIES / family).rglob("*.py"):
        bad = {name for name in _imports(path) if name.startswith(others) or name in
               {"pose_ros.core.families", "pose_ros.core.families.loading"}}
        assert not bad, f"{path.relative_to(CORE)} imports {sorted(bad)}: share code through families/common"


def test_core_and_cli_load_without_ros_modules():
    code = ("import sys, pose_ros.core.pipeline, pose_ros.core.annotators, pose_ros.cli; "
            "loaded = [m for m in sys.modules if m.split('.')[0] in ('rclpy', 'sensor_msgs', 'std_msgs')]; "
            "print(loaded); sys.exit(1 if loaded else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
