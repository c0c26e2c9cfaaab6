# Source this to get the pose_ros environment in a shell:  source scripts/env.sh
# (Makefile targets do it for you.) With --no-setup it only sets the variables that name places,
# without sourcing the colcon install (used by setup_env.sh before anything is built).
_pose_ros_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export POSE_ROS_CACHE=${POSE_ROS_CACHE:-$HOME/.cache/pose_ros}
export POSE_ROS_MODEL_DIR=${POSE_ROS_MODEL_DIR:-$POSE_ROS_CACHE/models}

# A sourced system ROS 2 (as on a robot) wins over the PyPI wheels.
POSE_ROS_SYSTEM_ROS=""
if [[ -n "${ROS_DISTRO:-}" && -f "/opt/ros/${ROS_DISTRO}/setup.bash" && ":${AMENT_PREFIX_PATH:-}:" == *":/opt/ros/${ROS_DISTRO}:"* ]]; then
  POSE_ROS_SYSTEM_ROS="/opt/ros/${ROS_DISTRO}"
  export POSE_ROS_VENV=${POSE_ROS_VENV:-$POSE_ROS_CACHE/venv-system-${ROS_DISTRO}}
else
  export POSE_ROS_VENV=${POSE_ROS_VENV:-$POSE_ROS_CACHE/venv-jazzy}
fi
export POSE_ROS_SYSTEM_ROS

if [[ "${1:-}" != "--no-setup" ]]; then
  export PATH="$POSE_ROS_VENV/bin:$PATH"
  if [[ -z "$POSE_ROS_SYSTEM_ROS" ]]; then
    export AMENT_PREFIX_PATH="$POSE_ROS_VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
    export LD_LIBRARY_PATH="$POSE_ROS_VENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  if [[ -f "$_pose_ros_repo/install/setup.bash" ]]; then
    # shellcheck disable=SC1091
    source "$_pose_ros_repo/install/setup.bash"
  fi
fi
unset _pose_ros_repo
