# Source this to get the pose_ros environment in a shell:  source scripts/env.sh
# (Makefile targets do it for you.) With --no-setup it only sets the variables that name places,
# without sourcing the colcon install (used by setup_env.sh before anything is built).
#
# POSE_ROS_DISTRO=jazzy|kilted (default jazzy) picks the PyPI ROS 2 wheels; each distro has its own venv
# ($POSE_ROS_CACHE/venv-<distro>) and its own build/<distro>, install/<distro>. Models and sample data are shared.
_pose_ros_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export POSE_ROS_CACHE=${POSE_ROS_CACHE:-$HOME/.cache/pose_ros}
export POSE_ROS_MODEL_DIR=${POSE_ROS_MODEL_DIR:-$POSE_ROS_CACHE/models}
POSE_ROS_DISTROS="jazzy kilted"  # each has requirements/ros-<distro>.txt
export POSE_ROS_DISTRO=${POSE_ROS_DISTRO:-jazzy}
if [[ " $POSE_ROS_DISTROS " != *" $POSE_ROS_DISTRO "* ]]; then
  echo "pose_ros: unknown POSE_ROS_DISTRO '$POSE_ROS_DISTRO'; valid: ${POSE_ROS_DISTROS// /, }" >&2
  unset _pose_ros_repo
  return 2 2>/dev/null || exit 2
fi

# A sourced system ROS 2 (as on a robot) wins over the PyPI wheels.
POSE_ROS_SYSTEM_ROS=""
if [[ -n "${ROS_DISTRO:-}" && -f "/opt/ros/${ROS_DISTRO}/setup.bash" && ":${AMENT_PREFIX_PATH:-}:" == *":/opt/ros/${ROS_DISTRO}:"* ]]; then
  POSE_ROS_SYSTEM_ROS="/opt/ros/${ROS_DISTRO}"
  _pose_ros_env=system-${ROS_DISTRO}
else
  _pose_ros_env=$POSE_ROS_DISTRO
fi
export POSE_ROS_SYSTEM_ROS
export POSE_ROS_VENV=${POSE_ROS_VENV:-$POSE_ROS_CACHE/venv-$_pose_ros_env}
export POSE_ROS_BUILD=${POSE_ROS_BUILD:-$_pose_ros_repo/build/$_pose_ros_env}
export POSE_ROS_INSTALL=${POSE_ROS_INSTALL:-$_pose_ros_repo/install/$_pose_ros_env}
unset _pose_ros_env

if [[ "${1:-}" != "--no-setup" ]]; then
  export PATH="$POSE_ROS_VENV/bin:$PATH"
  if [[ -z "$POSE_ROS_SYSTEM_ROS" ]]; then
    export AMENT_PREFIX_PATH="$POSE_ROS_VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
    export LD_LIBRARY_PATH="$POSE_ROS_VENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  if [[ ! -x "$POSE_ROS_VENV/bin/python" ]]; then
    echo "pose_ros: no environment for ${POSE_ROS_DISTRO} yet ($POSE_ROS_VENV): run" \
         "'POSE_ROS_DISTRO=${POSE_ROS_DISTRO} make setup' first" >&2
  fi
  if [[ -f "$POSE_ROS_INSTALL/setup.bash" ]]; then
    # shellcheck disable=SC1091
    source "$POSE_ROS_INSTALL/setup.bash"
  else
    echo "pose_ros: no colcon build for ${POSE_ROS_DISTRO} ($POSE_ROS_INSTALL): the messages (pose_ros.msg) cannot" \
         "be imported until 'POSE_ROS_DISTRO=${POSE_ROS_DISTRO} make setup' builds it" >&2
  fi
fi
unset _pose_ros_repo
