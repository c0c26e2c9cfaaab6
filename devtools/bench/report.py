"""The benchmark's report: targets and markdown tables from the results dict of run_bench.py (pure; no timing,
no models), and atomic file writes. The results dict is plain JSON data; run_bench.py documents its fields."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Targets: (key, description, comparison, threshold)
NODE_OVER_ORT_MAX = 1.2  # bottom-up node end to end / raw ONNX Runtime time, per photo
ULTRALYTICS_SPEEDUP_MIN = 2.0  # ultralytics predict() / our bottom-up pipeline, per photo
MEDIAPIPE_SPEEDUP_MIN = 1.0  # MediaPipe Pose / our top-down, per one-person photo (ours must be faster)
CROWD_BOTTOM_UP_MAX = 1.15  # bottom-up latency with 8 people / with 1
JITTER_REDUCTION_MIN = 0.5  # smoothing: std of a still, noisy pose's joints drops by at least half
LAG_FRAMES_MAX = 1.0  # smoothing: steady-state lag at walking speeds and above (>= 100 px/s at 30 Hz)
SOAK_RSS_GROWTH_MAX = 5.0  # %, node RSS after warm-up -> end of the soak

STAGES = ("detect", "preprocess", "infer", "decode")


def fmt_ms(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def fmt_ratio(value) -> str:
    return "–" if value is None else f"{value:.2f}x"


def md_table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A GitHub markdown table; ``align`` has one letter per column (l, r, c), default: first left, rest right."""
    align = align or "l" + "r" * (len(headers) - 1)
    if len(align) != len(headers) or any(len(row) != len(headers) for row in rows):
        raise ValueError("every row and the alignment need one entry per header")
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(rule[a] for a in align) + " |"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _verdict(met: bool, gap: str) -> str:
    return "met" if met else f"gap: {gap}"


def evaluate_targets(results: dict) -> list[dict]:
    """One entry per target: name, target, measured (text), met (bool), verdict ("met" / "gap: ...")."""
    targets = []

    node = [f for f in results.get("node", {}).get("frames", []) if f["config"] == "yolo11n_pose" and f.get("ratio_raw")]
    if node:
        ratios = [f["ratio_raw"] for f in node]
        worst = max(ratios)
        targets.append(dict(
            name="bottom-up node end to end / raw ORT (yolo11n_pose, every photo)",
            target=f"<= {NODE_OVER_ORT_MAX:.2f}x",
            measured=f"{min(ratios):.2f}x to {worst:.2f}x",
            met=worst <= NODE_OVER_ORT_MAX,
            gap=f"worst photo {worst:.2f}x, {worst / NODE_OVER_ORT_MAX:.2f}x over"))

    ultra = [r for r in results.get("peers", {}).get("ultralytics", []) if r.get("ratio")]
    if ultra:
        ratios = [r["ratio"] for r in ultra]
        worst = min(ratios)
        targets.append(dict(
            name="ultralytics predict() / our bottom-up pipeline (same ONNX, every photo)",
            target=f">= {ULTRALYTICS_SPEEDUP_MIN:.1f}x",
            measured=f"{worst:.2f}x to {max(ratios):.2f}x",
            met=worst >= ULTRALYTICS_SPEEDUP_MIN,
            gap=(f"ours is {worst:.2f}x faster at worst, not {ULTRALYTICS_SPEEDUP_MIN:.1f}x" if worst >= 1 else
                 f"ours is slower on some photos ({1 / worst:.2f}x slower at worst), not "
                 f"{ULTRALYTICS_SPEEDUP_MIN:.1f}x faster")))

    mp_rows = results.get("peers", {}).get("mediapipe", [])
    configs = list(dict.fromkeys(c for r in mp_rows for c in r.get("ratio", {})))
    for config in configs:
        ratios = [r["ratio"][config] for r in mp_rows if r.get("ratio", {}).get(config)]
        if not ratios:
            continue
        worst = min(ratios)
        targets.append(dict(
            name=f"MediaPipe Pose / our top-down {config} (1 person, every photo)",
            target=f"> {MEDIAPIPE_SPEEDUP_MIN:.1f}x (ours faster)",
            measured=f"{worst:.2f}x to {max(ratios):.2f}x",
            met=worst > MEDIAPIPE_SPEEDUP_MIN,
            gap=f"MediaPipe is {1 / worst:.2f}x faster on the worst photo"))

    crowd = {r["size"]: r for r in results.get("crowd", []) if r["config"] == "yolo11n_pose"}
    if 1 in crowd and 8 in crowd:
        ratio = crowd[8]["median_ms"] / crowd[1]["median_ms"]
        targets.append(dict(
            name="crowd: bottom-up latency 8 people / 1 person",
            target=f"<= {CROWD_BOTTOM_UP_MAX:.2f}x",
            measured=f"{ratio:.2f}x",
            met=ratio <= CROWD_BOTTOM_UP_MAX,
            gap=f"{ratio:.2f}x"))
    targets += _feature_targets(results)
    for t in targets:
        t["verdict"] = _verdict(t["met"], t.pop("gap"))
    return targets


def _feature_targets(results: dict) -> list[dict]:
    """Targets of the tracking/smoothing section and of the stress run (docs/stress.json)."""
    targets = []
    ts = results.get("tracking_smoothing")
    if ts:
        designed = [r for r in ts["tracking"] if not r["sequence"].startswith("hard")]
        switches = sum(r["switches_motion"] for r in designed)
        targets.append(dict(name=f"tracking: id switches on the {len(designed)} designed sequences "
                                 f"({designed[0]['runs']} noisy runs each)",
                            target="0", measured=str(switches), met=switches == 0, gap=f"{switches} switches"))
        worst = min(j["reduction"] for j in ts["jitter"])
        targets.append(dict(name="smoothing: jitter (joint std) of a still pose, 2 px noise, default settings",
                            target=f"-{JITTER_REDUCTION_MIN:.0%} or better", measured=f"-{worst:.0%} at worst",
                            met=worst >= JITTER_REDUCTION_MIN, gap=f"only -{worst:.0%}"))
        walking = [g for g in ts["lag"] if g["speed_px_s"] >= 100]
        lag = max(g["lag_frames"] for g in walking)
        targets.append(dict(name="smoothing: lag at 100-400 px/s (30 Hz), default settings",
                            target=f"<= {LAG_FRAMES_MAX:.0f} frame", measured=f"{lag:.2f} frames at worst",
                            met=lag <= LAG_FRAMES_MAX, gap=f"{lag:.2f} frames"))
    stress = results.get("stress")
    if stress:
        soak = stress["soak"]
        targets.append(dict(name=f"soak: node RSS growth after warm-up over {soak['frames']} frames",
                            target=f"< {SOAK_RSS_GROWTH_MAX:.0f} %", measured=f"{soak['rss_growth_percent']:.2f} %",
                            met=soak["rss_growth_percent"] < SOAK_RSS_GROWTH_MAX,
                            gap=f"{soak['rss_growth_percent']:.2f} %"))
        lost = soak["frames"] - soak["answered"]
        targets.append(dict(name="soak: frames lost (each sent after the previous answer)", target="0",
                            measured=str(lost), met=lost == 0 and soak["alive"], gap=f"{lost} lost"))
        corpus = stress.get("corpus")
        if corpus:
            failed = sum(1 for _, outcome in corpus["cases"] if outcome != "passed")
            targets.append(dict(name=f"bad input and faults: cases where the node died or did not answer the next "
                                     f"frame ({len(corpus['cases'])} cases)", target="0", measured=str(failed),
                                met=failed == 0, gap=f"{failed} cases"))
    return targets


def _header(meta: dict) -> str:
    v = meta.get("versions", {})
    lines = [
        f"- date: {meta.get('date', '?')}; whole run {meta.get('duration_s', 0):.0f} s "
        f"({'quick: ' if meta.get('quick') else ''}{meta.get('warmup', '?')} warm-ups, then medians of "
        f"{meta.get('runs', '?')} runs per case, cases interleaved round by round)",
        f"- CPU: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores; ONNX Runtime threads: "
        f"{meta.get('ort_threads', '?')}",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"- load: {meta.get('load', '?')}",
    ]
    if meta.get("drift"):
        lines.append(f"- drift: {meta['drift']}")
    return "\n".join(lines)


def _raw_table(rows: list[dict]) -> str:
    return md_table(["model", "input", "median ms", "p10 ms", "p90 ms", "runs"],
                    [[r["model"], r["input"], fmt_ms(r["median_ms"]), fmt_ms(r["p10_ms"]), fmt_ms(r["p90_ms"]), r["n"]]
                     for r in rows])


def _stage_cells(stages: dict) -> list[str]:
    return [fmt_ms(stages.get(s)) for s in STAGES]


def _pipeline_table(rows: list[dict]) -> str:
    return md_table(["config", "photo", "people", "detect", "preprocess", "infer", "decode", "total ms", "p90 ms"],
                    [[r["config"], f"{r['photo']} ({r['image']})", r["people"], *_stage_cells(r["stages"]),
                      f"**{fmt_ms(r['total_ms'])}**", fmt_ms(r["total_p90_ms"])] for r in rows])


def _node_tables(node: dict) -> str:
    frames = node.get("frames", [])
    if not frames:
        return ""

    def internal(f):
        if f.get("e2e_ms") is None or f.get("transport_ms") is None:
            return None
        return f["e2e_ms"] - f["core_ms"] - f["transport_ms"]

    headers = ["config", "photo", "people node / core", "node e2e ms", "p90 ms", "core pipeline ms", "transport ms",
               "rest ms", "raw ORT ms", "e2e / raw ORT", "e2e / core", "unanswered"]

    def rows(frames):
        return [[f["config"], f"{f['photo']} ({f['image']})", f"{f['people']} / {f['people_core']}",
                 f"**{fmt_ms(f['e2e_ms'])}**", fmt_ms(f["e2e_p90_ms"]), fmt_ms(f["core_ms"]),
                 fmt_ms(f.get("transport_ms")), fmt_ms(internal(f)), fmt_ms(f.get("raw_ms")),
                 fmt_ratio(f.get("ratio_raw")), fmt_ratio(f["ratio_core"]), f["unanswered"]] for f in frames]

    text = md_table(headers, rows(frames))
    inside = [p for p in node.get("processes", []) if p.get("node_stages_ms")]
    if inside:
        known = ("convert", "detect", "preprocess", "infer", "decode", "track_3d", "publish")
        found = list(dict.fromkeys(k for p in inside for k in p["node_stages_ms"]))
        stages = [k for k in known if k in found] + [k for k in found if k not in known]
        text += ("\n\nInside the node, from its own `/diagnostics` (per stage, the median of the 5 s medians it "
                 "publishes every second during the timed rounds, all photos mixed; `convert` = Image -> array, `track_3d` = tracking/smoothing/depth, `publish` "
                 "= PoseArray building and publishing):\n\n"
                 + md_table(["config", *[f"{k} ms" for k in stages]],
                            [[p["config"], *[fmt_ms(p["node_stages_ms"].get(k)) for k in stages]] for p in inside]))
    variant = node.get("shm_variant")
    if variant and variant.get("frames"):
        text += (f"\n\nThe same for yolo11n_pose, every process (this probe, the node, the echo) loading a Fast DDS "
                 f"XML profile with a {variant['segment_mb']:g} MB shared-memory segment (Fast DDS' default is "
                 "512 KB: a larger raw image does not fit it and goes through UDP loopback in fragments); not "
                 "the shipped set-up, shown for the transport's share:\n\n" + md_table(headers, rows(variant["frames"])))
    return text


def _peer_tables(peers: dict) -> str:
    parts = []
    ultra = peers.get("ultralytics", [])
    if ultra:
        parts.append(md_table(
            ["photo", "people ultralytics / ours", "ultralytics predict ms", "(its pre / infer / post)",
             "ours bottom-up ms", "ultralytics / ours"],
            [[r["photo"], f"{r['people']} / {r['ours_people']}", fmt_ms(r["peer_ms"]),
              " / ".join(fmt_ms(r["peer_speed_ms"].get(k)) for k in ("preprocess", "inference", "postprocess")),
              fmt_ms(r["ours_ms"]), f"**{fmt_ratio(r['ratio'])}**"] for r in ultra]))
    mp_rows = peers.get("mediapipe", [])
    if mp_rows:
        configs = list(dict.fromkeys(c for r in mp_rows for c in r["ours"]))
        parts.append(md_table(
            ["photo", "MediaPipe ms (found)", *[f"ours {c} ms (people)" for c in configs],
             *[f"MediaPipe / {c}" for c in configs]],
            [[r["photo"], f"{fmt_ms(r['peer_ms'])} ({'yes' if r['found'] else 'no'})",
              *[f"{fmt_ms(r['ours'][c]['ms'])} ({r['ours'][c]['people']})" for c in configs],
              *[f"**{fmt_ratio(r['ratio'].get(c))}**" for c in configs]] for r in mp_rows]))
    return "\n\n".join(parts)


def _crowd_table(rows: list[dict]) -> str:
    configs = list(dict.fromkeys(r["config"] for r in rows))
    sizes = sorted({r["size"] for r in rows})
    by = {(r["config"], r["size"]): r for r in rows}
    table_rows = []
    for size in sizes:
        row = [size]
        for c in configs:
            r = by.get((c, size))
            row += ["–", "–"] if r is None else [r["people"], fmt_ms(r["median_ms"])]
        table_rows.append(row)
    ratio_row = ["8 / 1"]
    for c in configs:
        one, eight = by.get((c, 1)), by.get((c, 8))
        ratio_row += ["", fmt_ratio(eight["median_ms"] / one["median_ms"]) if one and eight else "–"]
    table_rows.append(ratio_row)
    headers = ["people in image"]
    for c in configs:
        headers += [f"{c} found", f"{c} ms"]
    return md_table(headers, table_rows)


def _auto_table(auto: dict) -> str:
    rows = auto["rows"]
    by = {(r["config"], r["size"]): r for r in rows}
    sizes = sorted({r["size"] for r in rows})
    table = []
    for n in sizes:
        a, td, bu = by[("auto", n)], by[("fixed top_down", n)], by[("fixed bottom_up", n)]
        table.append([n, f"{a['mode']}", a["people"], f"**{fmt_ms(a['median_ms'])}**", td["people"],
                      fmt_ms(td["median_ms"]), bu["people"], fmt_ms(bu["median_ms"]),
                      fmt_ratio(a["median_ms"] / min(td["median_ms"], bu["median_ms"]))])
    return md_table(["people in image", "auto runs", "auto found", "auto ms", "top_down found", "top_down ms",
                     "bottom_up found", "bottom_up ms", "auto / faster fixed"], table)


def _tracking_tables(ts: dict) -> str:
    tracking = md_table(
        ["sequence", "people", "frames", "noise px", "runs", "id switches (default, motion prediction)",
         "id switches without motion prediction"],
        [[r["sequence"], r["people"], r["frames"], f"{r['noise_px']:.0f}", r["runs"], f"**{r['switches_motion']}**",
          r["switches_no_motion"]] for r in ts["tracking"]])
    jitter = md_table(["seed", "raw joint std px", "smoothed px", "jitter change", "mean error vs truth px"],
                      [[j["seed"], f"{j['raw_std_px']:.2f}", f"{j['smooth_std_px']:.2f}", f"**-{j['reduction']:.0%}**",
                        f"{j['mean_error_px']:.2f}"] for j in ts["jitter"]])
    lag = md_table(["speed px/s", "px per frame", "lag px", "lag frames", "trails (no overshoot)"],
                   [[f"{g['speed_px_s']:.0f}", f"{g['speed_px_s'] / 30:.1f}", f"{g['lag_px']:.2f}",
                     f"**{g['lag_frames']:.2f}**", "yes" if g["trails"] else "no"] for g in ts["lag"]])
    c = ts["cost"]
    cost = (f"Cost of tracker + smoother together, {c['people']} people walking, {c['frames']} frames: median "
            f"{c['median_ms']:.2f} ms per frame, p95 {c['p95_ms']:.2f}, max {c['max_ms']:.2f}.")
    return "\n\n".join(["Tracking (`PoseTracker`, defaults):", tracking,
                         "Smoothing, still pose with N(0, 2 px) noise, 200 frames at 30 Hz (`PoseSmoother`, defaults):",
                         jitter, "Smoothing, constant-speed motion for 2 s at 30 Hz:", lag, cost])


def _latency(stats: dict) -> str:
    return f"{stats['median']:.0f} / {stats['p95']:.0f} / {stats['max']:.0f}" if stats else "–"


def _stress_tables(stress: dict) -> str:
    o, soak = stress["overload"], stress["soak"]
    parts = [md_table(
        ["overload", "published", "answered", "skipped by the node (counted)", "not delivered (publisher queue)",
         "latency 1st half median / p95 / max ms", "2nd half", "node RSS MB start -> end", "alive"],
        [[f"{o['size']} at {o['rate_hz']:.0f} Hz for {o['seconds']:.0f} s", o["published"], o["answered"],
          o["dropped_by_node"], stress["overload_not_delivered"], _latency(o["latency_ms_first_half"]),
          _latency(o["latency_ms_second_half"]), f"{o['rss_mb_start']:.0f} -> {o['rss_mb_end']:.0f}",
          "yes" if o["alive"] else "**no**"]])]
    parts.append(md_table(
        ["soak", "answered", "lost", "RSS after warm-up MB", "RSS at the end MB", "growth", "alive"],
        [[f"{soak['frames']} frames of 640x480", soak["answered"], soak["frames"] - soak["answered"],
          f"{soak['rss_mb_after_warmup']:.1f}", f"{soak['rss_mb_end']:.1f}", f"**{soak['rss_growth_percent']:.2f} %**",
          "yes" if soak["alive"] else "**no**"]]))
    corpus = stress.get("corpus")
    if corpus:
        passed = sum(1 for _, outcome in corpus["cases"] if outcome == "passed")
        parts.append(f"Bad-input and fault corpus: {len(corpus['cases'])} cases (plus {corpus['fuzz_examples']} "
                     f"fuzzed Image messages inside one of them), {passed} passed; each asserts the node is alive "
                     "and answers the next good frame. The list is in [stress.md](stress.md).")
    return "\n\n".join(parts)


def _memory_table(memory: dict) -> str:
    rows = [[f"node ({p['config']})", fmt_ms(p["vmhwm_mb"]), "VmHWM of the node process after its e2e run",
             f"ready in {p['startup_s']:.1f} s"] for p in memory.get("node", [])]
    rows += [[f"CLI ({c['what']})", fmt_ms(c["maxrss_mb"]), f"`{c['cmd']}` (ru_maxrss of the child)",
              f"{c['wall_s']:.1f} s wall"] for c in memory.get("cli", [])]
    return md_table(["process", "peak RSS MB", "how", "note"], rows, "lrll")


def render(results: dict, plot_name: str | None = "benchmark.png") -> str:
    """The whole report as markdown."""
    targets = results.get("targets") or evaluate_targets(results)
    notes = results.get("notes", {})
    out = ["# pose_ros benchmark", "",
           "Generated by `make bench` (`devtools/bench/run_bench.py`); do not edit by hand. Every number below comes "
           "from one run on one machine, on the same inputs; times are medians (ms) unless said otherwise.", "",
           _header(results.get("meta", {})), ""]
    if targets:
        out += ["## Targets", "",
                md_table(["target", "goal", "measured", "verdict"],
                         [[t["name"], t["target"], t["measured"], f"**{t['verdict']}**"] for t in targets], "llll"), ""]
        if notes.get("targets"):
            out += [notes["targets"], ""]
    if plot_name:
        out += [f"![benchmark]({plot_name})", ""]
    sections = [
        ("1. Raw ONNX Runtime (the floor)", "raw_ort", _raw_table),
        ("2. Core pipeline per stage (no ROS)", "pipeline", _pipeline_table),
        ("3. Node end to end over DDS", "node", _node_tables),
        ("4. Peer engines, same photos and weights", "peers", _peer_tables),
        ("5. Crowd scaling (composite 1280x720 images)", "crowd", _crowd_table),
        ("6. Peak memory", "memory", _memory_table),
        ("7. Overload, soak and bad input (`make stress`)", "stress", _stress_tables),
        ("8. mode auto against the fixed modes (crowd images of section 5)", "auto_mode", _auto_table),
        ("9. Tracking and smoothing (synthetic sequences, exact ground truth)", "tracking_smoothing",
         _tracking_tables),
    ]
    for title, key, table in sections:
        if not results.get(key):
            continue
        out += [f"## {title}", ""]
        if notes.get(key):
            out += [notes[key], ""]
        out += [table(results[key]), ""]
        if notes.get(key + "_after"):
            out += [notes[key + "_after"], ""]
    return "\n".join(out).rstrip() + "\n"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path`` (readers never see a
    half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
