"""make bench: the benchmark of pose_ros (run_bench.py) and its pure helpers (crowd.py, report.py)."""
