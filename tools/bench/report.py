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
    for t in targets:
        t["verdict"] = _verdict(t["met"], t.pop("gap"))
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
           "Generated by `make bench` (`tools/bench/run_bench.py`); do not edit by hand. Every number below comes "
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
