#!/usr/bin/env python3
"""docs/benchmark.png from out/bench/results.json (run_bench.py calls it in the tool venv, where matplotlib is):

    python devtools/bench/plot.py results.json benchmark.png [accuracy.png]

accuracy.png (when the results have section accuracy): each profile's COCO AP against its time per image, the
Pareto front joined. benchmark.png: three panels: where the time goes per config on bus.jpg (core stages, node overhead, raw ORT floor), crowd
scaling, peer engines. Small on purpose (< 200 KB): 8-colour palette, 90 dpi.
"""
from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

STAGE_COLOURS = {"detect": "#8c6bb1", "preprocess": "#fdae6b", "infer": "#3182bd", "decode": "#74c476",
                 "node overhead": "#bdbdbd"}
PHOTO = "bus.jpg"


def stages_panel(ax, results: dict) -> None:
    rows = [r for r in results.get("pipeline", []) if r["photo"] == PHOTO]
    if not rows:  # a partial run (--sections) without section pipeline
        ax.text(0.5, 0.5, "section pipeline not in this run", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    node = {f["config"]: f for f in results.get("node", {}).get("frames", []) if f["photo"] == PHOTO}
    labels = [r["config"] for r in rows]
    y = np.arange(len(rows))
    left = np.zeros(len(rows))
    for stage, colour in STAGE_COLOURS.items():
        if stage == "node overhead":
            values = np.array([max(node[c]["e2e_ms"] - node[c]["core_ms"], 0) if c in node else 0 for c in labels])
        else:
            values = np.array([r["stages"].get(stage) or 0.0 for r in rows])
        if values.any():
            ax.barh(y, values, left=left, color=colour, label=stage, height=0.6)
            left += values
    floor = {r["model"]: r["median_ms"] for r in results.get("raw_ort", [])}.get("yolo11n_pose")
    if floor:
        ax.axvline(floor, color="k", ls=":", lw=1, label="raw ORT yolo11n_pose")
    ax.set_yticks(y, [label.replace(" (", "\n(") for label in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ms (median)")
    ax.set_title(f"Where the time goes ({PHOTO})", fontsize=10)
    ax.set_xlim(0, max(left.max(), floor or 0) * 1.5)
    ax.legend(fontsize=7, loc="upper right", framealpha=0.9)


def crowd_panel(ax, results: dict) -> None:
    rows = results.get("crowd", [])
    # Every bottom-up profile and two top-down ones: twelve lines would hide each other.
    shown = [c for c in dict.fromkeys(r["config"] for r in rows)
             if c in ("blazepose_full", "blazepose_full_yolo")
             or next(r.get("paradigm", "one_stage") for r in rows if r["config"] == c) != "top_down"]
    for config in shown:
        mine = sorted((r for r in rows if r["config"] == config), key=lambda r: r["size"])
        ax.plot([r["size"] for r in mine], [r["median_ms"] for r in mine], marker="o", label=config)
        for r in mine:
            ax.annotate(str(r["people"]), (r["size"], r["median_ms"]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 2, 4, 8], ["1", "2", "4", "8"])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("people in the 1280x720 image (labels: people found)")
    ax.set_ylabel("ms (median)")
    ax.set_title("Crowd scaling", fontsize=10)
    ax.legend(fontsize=7)


def peers_panel(ax, results: dict) -> None:
    peers = results.get("peers", {})
    bars = []
    ultra = peers.get("ultralytics", [])
    if ultra:
        bars += [("ultralytics\npredict()", np.median([r["peer_ms"] for r in ultra]), "#de2d26"),
                 ("ours\nbottom-up", np.median([r["ours_ms"] for r in ultra]), "#3182bd")]
    mp_rows = peers.get("mediapipe", [])
    if mp_rows:
        bars.append(("MediaPipe\nPose", np.median([r["peer_ms"] for r in mp_rows]), "#de2d26"))
        for config in mp_rows[0]["ours"]:
            short = config.replace("blazepose_full", "bp_full").replace(" (tiling off)", "\nno tiling")
            bars.append((f"ours\n{short}", np.median([r["ours"][config]["ms"] for r in mp_rows]), "#6baed6"))
    x = np.arange(len(bars))
    ax.bar(x, [b[1] for b in bars], color=[b[2] for b in bars])
    for i, b in enumerate(bars):
        ax.text(i, b[1], f"{b[1]:.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, [b[0] for b in bars], fontsize=7)
    ax.set_ylabel("ms per image (median over photos)")
    ax.set_title("Peers (all 5 photos | 1-person photos)", fontsize=10)


PARADIGM_COLOURS = {"one_stage": "#3182bd", "keypoints_first": "#31a354", "centre_bottom_up": "#74c476",
                    "top_down": "#de2d26"}


def accuracy_figure(results: dict, path: str) -> None:
    accuracy = results["accuracy"]
    head = accuracy["headline"]
    rows = accuracy["rows"]
    fig, ax = plt.subplots(figsize=(8, 5))
    for paradigm, colour in PARADIGM_COLOURS.items():
        mine = [r for r in rows if r["paradigm"] == paradigm]
        if mine:
            ax.scatter([r[head]["median_ms"] for r in mine], [r[head]["AP"] for r in mine], color=colour,
                       label=paradigm.replace("_", "-"), zorder=3)
    for r in rows:
        ax.annotate(r["config"], (r[head]["median_ms"], r[head]["AP"]), fontsize=7, xytext=(4, 3),
                    textcoords="offset points")
        if r.get("gt_boxes"):
            ax.scatter([r[head]["median_ms"]], [r["gt_boxes"]["AP"]], facecolors="none", edgecolors="#de2d26",
                       s=25, zorder=2)
    front = [next(r for r in rows if r["config"] == name) for name in accuracy["pareto"]]
    ax.plot([r[head]["median_ms"] for r in front], [r[head]["AP"] for r in front], "k--", lw=1,
            label="Pareto front", zorder=1)
    ax.scatter([], [], facecolors="none", edgecolors="#de2d26", s=25, label="top-down on ground-truth boxes")
    ax.set_xscale("log")  # 25 ms to seconds: a log axis keeps the fast profiles apart
    ax.set_xlabel(f"median ms per {head} image (core pipeline, CPU; log scale)")
    ax.set_ylabel(f"COCO keypoint AP, minicoco {head}")
    ax.set_ylim(0, max(0.8, max(r[head]["AP"] for r in rows) + 0.1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    meta = results.get("meta", {})
    ax.set_title(f"AP against latency ({meta.get('cpu', '?')}, {meta.get('date', '')})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90, pil_kwargs={"optimize": True})


def main(argv: list[str]) -> int:
    results = json.loads(open(argv[0]).read())
    if len(argv) > 2 and results.get("accuracy"):
        accuracy_figure(results, argv[2])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), gridspec_kw={"width_ratios": [1.3, 1, 1.1]})
    stages_panel(axes[0], results)
    crowd_panel(axes[1], results)
    peers_panel(axes[2], results)
    meta = results.get("meta", {})
    fig.suptitle(f"pose_ros on {meta.get('cpu', '?')} ({meta.get('cores', '?')} cores, CPU), {meta.get('date', '')}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(argv[1], dpi=90, pil_kwargs={"optimize": True})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
