"""`pip install .` as a user without ROS would run it: the wheel carries the profiles, and the installed
`pose-ros` finds them from any directory (`infer --profile posenet` failed with "valid: none found" when config/
was not in the wheel)."""
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(REPO)], check=True, timeout=300)
    return next(out.glob("pose_ros-*.whl"))


def test_the_wheel_carries_every_profile(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).stem for n in names if "/data/share/pose_ros/config/" in n and n.endswith(".yaml")}
    assert shipped == {p.stem for p in (REPO / "config").glob("*.yaml")}


def test_installed_cli_finds_the_profiles_outside_the_checkout(wheel, tmp_path, photos):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # The test environment's packages (numpy, onnxruntime, ...) seen through a .pth file; pose_ros itself comes
    # from the wheel, and nothing points at the checkout or the colcon install.
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("AMENT_PREFIX_PATH", "PYTHONPATH")}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300,
                   env=env)
    done = subprocess.run([str(venv / "bin" / "pose-ros"), "infer", "--profile", "posenet", "--json",
                           str(photos["bus.jpg"])], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"people"' in done.stdout or '"poses"' in done.stdout, done.stdout[:500]
    located = subprocess.run([str(python), "-c", "import pose_ros, sys; print(pose_ros.__file__)"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=60)
    assert str(venv) in located.stdout, located.stdout  # the installed package ran, not the checkout


def test_sourcing_the_environment_of_a_distro_not_built_says_so(tmp_path):
    """`POSE_ROS_DISTRO=kilted source scripts/env.sh` before a Kilted build was silent, and the messages then
    failed to import; it now says what to run."""
    done = subprocess.run(["bash", "-c", f"source {REPO}/scripts/env.sh"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "POSE_ROS_DISTRO": "kilted", "POSE_ROS_CACHE": str(tmp_path),
                               "POSE_ROS_INSTALL": str(tmp_path / "install"), "POSE_ROS_VENV": ""})
    assert done.returncode == 0
    assert "no environment for kilted yet" in done.stderr and "POSE_ROS_DISTRO=kilted make setup" in done.stderr
    assert "no colcon build for kilted" in done.stderr
