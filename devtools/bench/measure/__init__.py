"""The benchmark's measurements, one module per section of `make bench`; each has ``measure(ctx)`` returning plain
data (no prose: that is devtools/bench/report/). common.py holds what they share, processes.py the processes
they drive. run_bench.py runs them in order and keeps their data in results.json."""
