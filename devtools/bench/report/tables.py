"""The report's markdown tables, one function per section, from the results dict (pure)."""
from __future__ import annotations

import numpy as np

from devtools.bench.measure.common import STAGES


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


def header(meta: dict) -> str:
    v = meta.get("versions", {})
    lines = [
        f"- date: {meta.get('date', '?')}; whole run {meta.get('duration_s', 0):.0f} s "
        f"({'quick: ' if meta.get('quick') else ''}{meta.get('warmup', '?')} warm-ups, then medians of "
        f"{meta.get('runs', '?')} runs per case, cases interleaved round by round)",
        f"- CPU: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores"
        + ("" if meta.get("vnni") is None else f" ({'with' if meta['vnni'] else 'without'} VNNI int8 instructions)")
        + "; ONNX Runtime threads: "
        f"{meta.get('ort_threads', '?')}",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"- load: {meta.get('load', '?')}",
    ]
    if meta.get("crowd_rerun"):
        lines.append(f"- section 5 (crowd) was measured again on {meta['crowd_rerun']}, on the same machine with the same "
                     "timing code, once the report could name each person a profile misses")
    if meta.get("steady_rerun"):
        lines.append(f"- section 11 (steady) was measured again on {meta['steady_rerun']}, once the node counted its own "
                     "cost over the whole run (before, the bench read the largest p99 of its 5 s windows: nearly the "
                     "run's maximum)")
    if meta.get("drift"):
        lines.append(f"- drift: {meta['drift']}")
    return "\n".join(lines)


def raw_table(rows: list[dict]) -> str:
    return md_table(["model", "input", "median ms", "p10 ms", "p90 ms", "runs"],
                    [[r["model"], r["input"], fmt_ms(r["median_ms"]), fmt_ms(r["p10_ms"]), fmt_ms(r["p90_ms"]), r["n"]]
                     for r in rows])


def stage_cells(stages: dict) -> list[str]:
    return [fmt_ms(stages.get(s)) for s in STAGES]


def pipeline_table(rows: list[dict]) -> str:
    return md_table(["config", "photo", "people", "detect", "preprocess", "infer", "decode", "total ms", "p90 ms"],
                    [[r["config"], f"{r['photo']} ({r['image']})", r["people"], *stage_cells(r["stages"]),
                      f"**{fmt_ms(r['total_ms'])}**", fmt_ms(r["total_p90_ms"])] for r in rows])


def node_tables(node: dict) -> str:
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
    variant = node.get("shipped_shm")
    if variant and variant.get("frames"):
        text += (f"\n\nThe same for yolo11n_pose, every process (this probe, the node, the echo) loading the shipped "
                 f"Fast DDS profile `{variant['profile']}` (a 64 MB shared-memory segment; Fast DDS' default is "
                 "512 KB, and a larger raw image goes through UDP loopback in fragments instead; the launch file's "
                 "`shm:=true`):\n\n" + md_table(headers, rows(variant["frames"])))
    return text


def peer_tables(peers: dict) -> str:
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


def crowd_table(rows: list[dict]) -> str:
    """One row per profile: people found and latency at each crowd size, and the 8 / 1 latency ratio."""
    configs = list(dict.fromkeys(r["config"] for r in rows))
    sizes = sorted({r["size"] for r in rows})
    by = {(r["config"], r["size"]): r for r in rows}
    table_rows = []
    for c in configs:
        mine = [by.get((c, n)) for n in sizes]
        one, eight = by.get((c, 1)), by.get((c, 8))
        paradigm = next((r.get("paradigm", "") for r in mine if r), "")
        table_rows.append([c, paradigm.replace("_", "-"),
                           " / ".join("–" if r is None else str(r["people"]) for r in mine),
                           " / ".join("–" if r is None else fmt_ms(r["median_ms"]) for r in mine),
                           f"**{fmt_ratio(eight['median_ms'] / one['median_ms'])}**" if one and eight else "–"])
    sizes_text = "/".join(map(str, sizes))
    return md_table(["profile", "paradigm", f"found of {sizes_text}", f"ms at {sizes_text}", "8 / 1"], table_rows,
                    "llrrr")


def zoo_table(zoo: dict) -> str:
    """One row per profile: people found per photo, core latency, and its ratio to the reference profile."""
    rows = zoo["rows"]
    photos = list(rows[0]["photos"]) if rows else []
    ref = next((r for r in rows if r["config"] == zoo["reference"]), None)
    table = []
    for r in rows:
        ms = [r["photos"][p]["total_ms"] for p in photos]
        ratio = (float(np.median([r["photos"][p]["total_ms"] / ref["photos"][p]["total_ms"] for p in photos]))
                 if ref else None)
        same = [other for other, same_as in zoo.get("same_as", {}).items() if same_as == r["config"]]
        table.append([r["config"] + (f" (= {', '.join(same)})" if same else ""), r["paradigm"].replace("_", "-"),
                      f"{sum(r['photos'][p]['people'] for p in photos)} "
                      f"({' / '.join(str(r['photos'][p]['people']) for p in photos)})",
                      fmt_ms(float(np.median(ms))), f"**{fmt_ratio(ratio)}**", fmt_ms(max(r["photos"][p]["p90_ms"] for p in photos))])
    out = md_table(["profile", "paradigm", f"people found ({' / '.join(photos)})", "median ms over the photos",
                    f"latency / {zoo['reference']} (median over photos)", "worst photo's p90 ms"], table, "llrrrr")
    aspect = zoo.get("multipose_aspect") or []
    if aspect:
        out += ("\n\nmovenet_multipose per camera shape (zidane.jpg's centre cut to the shape; interleaved): the input "
                "as pose-detection makes it, aspect kept (longer side 256, the other a multiple of 32), against the "
                "square 256x256 letterbox pose_ros used before:\n\n" + md_table(
                    ["camera", "frame", "input now", "ms now (infer)", "input before", "ms before (infer)",
                     "before / now", "people now / before"],
                    [[r["shape"], r["frame"], r["inputs"]["aspect_kept"],
                      f"**{fmt_ms(r['aspect_kept']['total_ms'])}** ({fmt_ms(r['aspect_kept']['infer_ms'])})",
                      r["inputs"]["square"], f"{fmt_ms(r['square']['total_ms'])} ({fmt_ms(r['square']['infer_ms'])})",
                      f"**{fmt_ratio(r['speedup'])}**", f"{r['aspect_kept']['people']} / {r['square']['people']}"]
                     for r in aspect]))
    return out


def auto_table(auto: dict) -> str:
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


def tracking_tables(ts: dict) -> str:
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


def latency(stats: dict) -> str:
    return f"{stats['median']:.0f} / {stats['p95']:.0f} / {stats['max']:.0f}" if stats else "–"


def stress_tables(stress: dict) -> str:
    o, soak = stress["overload"], stress["soak"]
    parts = [md_table(
        ["overload", "published", "answered", "skipped by the node (counted)", "not delivered (publisher queue)",
         "latency 1st half median / p95 / max ms", "2nd half", "node RSS MB start -> end", "alive"],
        [[f"{o['size']} at {o['rate_hz']:.0f} Hz for {o['seconds']:.0f} s", o["published"], o["answered"],
          o["dropped_by_node"], stress["overload_not_delivered"], latency(o["latency_ms_first_half"]),
          latency(o["latency_ms_second_half"]), f"{o['rss_mb_start']:.0f} -> {o['rss_mb_end']:.0f}",
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


def memory_table(memory: dict) -> str:
    rows = [[f"node ({p['config']})", fmt_ms(p["vmhwm_mb"]), "VmHWM of the node process after its e2e run",
             f"ready in {p['startup_s']:.1f} s"] for p in memory.get("node", [])]
    rows += [[f"CLI ({c['what']})", fmt_ms(c["maxrss_mb"]), f"`{c['cmd']}` (ru_maxrss of the child)",
              f"{c['wall_s']:.1f} s wall"] for c in memory.get("cli", [])]
    return md_table(["process", "peak RSS MB", "how", "note"], rows, "lrll")


def steady_table(steady: dict) -> str:
    return md_table(
        ["profile", "frames", "answered", "skipped by the node (newer frame)", "p50 ms", "p90 ms", "p99 ms", "max ms",
         "p99 / p50", "node own cost p50 / p99 ms"],
        [[r["config"], f"{r['published']} ({r['image']}, {r['rate_hz']:g} Hz, {r['seconds']:g} s)", r["answered"],
          r["skipped_by_node"], fmt_ms(r["p50_ms"]), fmt_ms(r["p90_ms"]), fmt_ms(r["p99_ms"]), fmt_ms(r["max_ms"]),
          f"**{fmt_ratio(r['p99_ms'] / r['p50_ms'])}**" if r["p50_ms"] else "–",
          f"{fmt_own(r['own_p50_ms'])} / {fmt_own(r['own_p99_ms'])}"] for r in steady["rows"]])


def video_table(video: dict) -> str:
    def num(value, spec):
        return "–" if value is None else format(value, spec)

    return md_table(
        ["profile", "rate", "frames", "answered", "dropped", "p50 ms", "p99 ms", "people / frame", "ids", "re-births"],
        [[r["config"], f"{r['rate_hz']:g} Hz", r["published"], r["answered"], r["dropped"], fmt_ms(r["p50_ms"]),
          fmt_ms(r["p99_ms"]), num(r["people_per_frame"], ".2f"), num(r["ids"], "d"), num(r["rebirths"], "d")]
         for r in video["rows"]])


def fmt_own(value) -> str:
    return "–" if value is None else f"{value:.2f}"
def transport_tables(transport: dict) -> str:
    rows = transport.get("rows", [])
    if not rows:
        return ""
    reliable = md_table(
        ["profile on", "image", "raw MB", "reliable ms", "p90 ms", "lost (5 s timeout)"],
        [[r["profile_on"], r["image"], f"{r['mb']:.1f}", f"**{fmt_ms(r['reliable_ms'])}**",
          fmt_ms(r["reliable_p90_ms"]), f"{r['reliable_lost']} of {r['reliable_n'] + r['reliable_lost']}"]
         for r in rows])
    best_effort = md_table(
        ["profile on", "image", "published", "delivered", "delivered %", "latency ms", "p90 ms"],
        [[r["profile_on"], r["image"], r["be_published"], r["be_delivered"],
          f"**{100 * r['be_delivered'] / max(r['be_published'], 1):.0f} %**", fmt_ms(r["be_ms"]),
          fmt_ms(r["be_p90_ms"])] for r in rows])
    return (f"Reliable, depth 1, one frame at a time:\n\n{reliable}\n\nBest effort, depth 1, "
            f"{transport.get('rate_hz', 30):.0f} Hz for {transport.get('seconds', 0):.0f} s per size:\n\n{best_effort}")


def compressed_table(compressed: dict) -> str:
    rows = compressed.get("rows", [])
    if not rows:
        return ""
    return md_table(
        ["input", "image", "bytes sent", "people node / core", "node e2e ms", "p90 ms", "core pipeline ms",
         "raw ORT ms", "e2e / raw ORT", "e2e / core", "unanswered"],
        [[r["variant"], r["image"], f"{r['raw_mb']:.2f} MB" if r["jpeg_kb"] is None else f"{r['jpeg_kb']:.0f} KB JPEG",
          f"{r['people']} / {r['people_core']}", f"**{fmt_ms(r['e2e_ms'])}**", fmt_ms(r["e2e_p90_ms"]),
          fmt_ms(r["core_ms"]), fmt_ms(r["raw_ms"]), fmt_ratio(r["ratio_raw"]), fmt_ratio(r["ratio_core"]),
          r["unanswered"]] for r in rows])


def viewer_table(viewer: dict) -> str:
    rows = viewer.get("rows", [])
    if not rows:
        return ""
    alone = {r["profile"]: r["p99_ms"] for r in rows if r["overlays"] is None}
    return md_table(
        ["profile", "debug subscriber", "answers", "p50 ms", "p90 ms", "p99 ms", "p99 / no viewer", "max ms",
         "bursts (< 5 ms apart)", "overlays received"],
        [[r["profile"], r["case"], r["answers"], fmt_ms(r["p50_ms"]), fmt_ms(r["p90_ms"]), f"**{fmt_ms(r['p99_ms'])}**",
          fmt_ratio(r["p99_ms"] / alone[r["profile"]]) if r["p99_ms"] and alone.get(r["profile"]) else "–",
          fmt_ms(r["max_ms"]), r["bursts"], "–" if r["overlays"] is None else r["overlays"]] for r in rows])


def accuracy_table(accuracy: dict) -> str:
    """One row per profile: COCO keypoint AP on the headline set (and its parts), on the ground-truth boxes
    (top-down), on the set seen in training, and the median time per image; best headline AP first."""
    head = accuracy["headline"]
    rows = sorted(accuracy["rows"], key=lambda r: -r[head]["AP"])
    table = [[f"**{r['config']}**" if r["config"] in accuracy["pareto"] else r["config"],
              r["paradigm"].replace("_", "-"), f"{r[head]['AP']:.3f}",
              *(f"{r[head][m]:.3f}" for m in ("AP50", "AP75", "APm", "APl", "AR")),
              f"{r['gt_boxes']['AP']:.3f}" if r.get("gt_boxes") else "–",
              f"{r['train2017']['AP']:.3f}", fmt_ms(r[head]["median_ms"])] for r in rows]
    return md_table(["profile (bold: on the AP/latency Pareto front)", "paradigm", f"AP {head}", "AP50", "AP75",
                     "APm", "APl", "AR", f"AP {head}, ground-truth boxes", "AP train2017 (seen in training)",
                     f"median ms per {head} image"], table, "llrrrrrrrrr")


def accuracy_joint_table(accuracy: dict) -> str:
    """Per joint, for each profile: median distance to the ground truth / sqrt(person area), on the people
    pycocotools matched at OKS 0.5 on the headline set."""
    head = accuracy["headline"]
    rows = sorted(accuracy["rows"], key=lambda r: -r[head]["AP"])
    joints = list(rows[0][head]["per_joint"]) if rows else []
    short = {n: n.replace("left_", "l.").replace("right_", "r.") for n in joints}
    table = [[r["config"], *("–" if r[head]["per_joint"][j]["median_error"] is None else
                             f"{r[head]['per_joint'][j]['median_error']:.3f}" for j in joints)] for r in rows]
    return md_table(["profile", *(short[j] for j in joints)], table, "l" + "r" * len(joints))
