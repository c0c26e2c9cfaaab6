# pose_ros: every target sets up whatever is missing first (scripts/setup_env.sh is idempotent).
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: setup models test demo clean bench

setup:
	bash scripts/setup_env.sh

# Models only (ARGS="--force" to rebuild them).
models:
	source scripts/env.sh --no-setup && python3 tools/models/prepare_models.py $(ARGS)

test: setup
	$(ENV) python -m pytest $(PYTEST_ARGS)

demo: setup
	$(ENV) python -m pose_ros.tools.demo $(ARGS)

clean:
	rm -rf build install log out

# Benchmark -> docs/benchmark.md + .png (~5 min on 2 cores; best on an idle machine). ARGS=--quick: short run, out/bench/.
bench: setup
	$(ENV) python tools/bench/run_bench.py $(ARGS)
