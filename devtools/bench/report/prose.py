"""The report's prose: what each section measures and what its numbers say, written from the results dict
(pure: no timing, no models). run_bench.py stores the text in results["notes"]; render() places it."""
from __future__ import annotations

from devtools.bench.measure.common import SETTLE_S, median_of
from devtools.bench.report.targets import NODE_OVER_ORT_MAX, OWN_COST_P99_MAX_MS, STEADY_P99_OVER_P50_MAX


def drift(results: dict) -> str:
    """The same work (one yolo11n_pose ORT run, 640x640, pose_ros' session) as measured in each section."""
    per = {
        "raw": median_of([r["median_ms"] for r in results.get("raw_ort", []) if r["model"] == "yolo11n_pose"]),
        "pipeline": median_of([r["stages"].get("infer") for r in results.get("pipeline", [])
                          if r["config"] == "yolo11n_pose"]),
        "node": median_of([f.get("raw_ms") for f in results.get("node", {}).get("frames", [])]),
        "peers": median_of([r["ours_stages"].get("infer") for r in results.get("peers", {}).get("ultralytics", [])]),
        "crowd": median_of([r["stages"].get("infer") for r in results.get("crowd", []) if r["config"] == "yolo11n_pose"]),
    }
    per = {k: v for k, v in per.items() if v is not None}
    if len(per) < 2:
        return ""
    spread = max(per.values()) / min(per.values())
    return ("one yolo11n_pose ORT run (640x640, same session settings) took " + ", ".join(
        f"{v:.1f} ms ({k})" for k, v in per.items()) + f" in the sections below: a {spread:.2f}x spread between "
        "sections of one run; the machine's speed drifts (a VM; see the load line). Compare numbers within a "
        "section: every ratio in this report is taken within one section, from interleaved measurements.")


def notes(results: dict) -> dict:
    """The prose around the tables: definitions, and what the numbers say about where the time goes."""
    n = {}
    raw = {r["model"]: r["median_ms"] for r in results.get("raw_ort", [])}
    n["raw_ort"] = ("`OrtBackend.run` alone (pose_ros' session: CPU provider, graph optimisation ALL, intra-op "
                    "threads 0 = ONNX Runtime's default, one per core; inter-op 1; spinning off), on uniform noise "
                    "of the model's input shape (the work does not depend on the values).")
    batched = raw.get("yolo11n_pose (2 cameras' frames, one batched call)")
    if batched and raw.get("yolo11n_pose"):
        n["raw_ort_after"] = (
            f"Multi-camera batching (bottom-up): one call on two frames takes {batched:.1f} ms, "
            f"{batched / 2:.1f} ms per frame against {raw['yolo11n_pose']:.1f} ms alone "
            f"({2 * raw['yolo11n_pose'] / batched:.2f}x the throughput). On these 2 CPU cores a batch mostly "
            "saves per-call overhead; on a GPU, where one frame leaves most of the device idle, it is where "
            "batching pays.")
    n["pipeline"] = ("In-process `build_estimator(config)(image)` on the decoded BGR photo (config from "
                     "`config/<name>.yaml`, device cpu). Stage medians are taken separately, so they need not add "
                     "up to the total. `detect` (top-down) is the whole person detector: BlazePose's detector on "
                     "the image and, with tiling, on its overlapping tiles (each an ONNX run + decoding), or a "
                     "whole YOLO11n-pose pass; `infer` is then the landmark model, one run per person region.")
    frames = results.get("node", {}).get("frames", [])
    if frames:
        text = ("The installed `pose_node` in its own process (`NodeProcess`, `config/<name>.yaml`, `-p device:=cpu`), "
                "fed by this process one frame at a time: `sensor_msgs/Image` bgr8, reliable, depth 1; latency = "
                "its `PoseArray` (matched by stamp) received - image published (`time.monotonic()`). In every "
                "round each photo also goes once through the core pipeline in this process (\"core\") and once "
                "through `devtools/bench/image_echo.py`, an rclpy process that answers each image with its header "
                "(\"transport\": the same image over DDS with the same QoS, a tiny message back, no model), so all "
                "three see the same machine load. \"rest\" = e2e - core - transport: the node's own work around "
                "the pipeline (callback -> worker hand-off, tracking, PoseArray building and publishing), within "
                "the noise of three medians (the node's own stage timings are in the second table). For yolo11n_pose the core's `infer` stage is exactly one raw ORT run on the "
                "640x640 input (\"raw ORT\").")
        if raw.get("yolo11n_pose"):
            text += f" Section 1's floor for the same model: {raw['yolo11n_pose']:.1f} ms."
        n["node"] = text
        bu = [f for f in frames if f["config"] == "yolo11n_pose" and f.get("e2e_ms") is not None]
        if bu:
            small, big = min(bu, key=lambda f: f["mb"]), max(bu, key=lambda f: f["mb"])
            rest = median_of([f["e2e_ms"] - f["core_ms"] - f["transport_ms"] for f in bu if f.get("transport_ms")])
            pre_post = median_of([f["core_ms"] - f["raw_ms"] for f in bu])
            n["node_after"] = (
                f"Where the bottom-up node's time goes, beyond raw ORT: the core's preprocess + decode "
                f"(median {pre_post:.1f} ms), the image's trip over DDS ({small['transport_ms']:.1f} ms for "
                f"{small['mb']:.1f} MB ({small['photo']}) up to {big['transport_ms']:.1f} ms for {big['mb']:.1f} MB "
                f"({big['photo']}): it grows with the bytes of the raw image), and the node's own rest "
                f"(median {rest:.1f} ms).")
    from pose_ros.core.families.blazepose.detector import detection_windows

    counts = sorted({len(detection_windows(*(int(v) for v in r["image"].split("x")[::-1]), True)) - 1
                     for r in results.get("peers", {}).get("mediapipe", []) if "image" in r})
    tiles = " or ".join(map(str, counts)) if counts else "several"
    n["peers"] = ("Peers run in their own venvs on the decoded photos, timed inside their process with "
                  "`time.perf_counter()` around `YOLO(onnx).predict(image)` (the same `yolo11n_pose.onnx`, "
                  "onnxruntime CPU, conf 0.25; its own pre/infer/post breakdown in brackets) and around "
                  "`mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1).process(rgb)` (the TFLite "
                  "originals of our BlazePose ONNX, XNNPACK). The peer process is driven through a pipe so its "
                  "frames alternate with ours (in this process) on the same photo, frame by frame, with a "
                  f"{SETTLE_S * 1e3:.0f} ms pause between engines (ORT's spinning threads of the previous one go "
                  "idle). Ratio = peer / ours: above 1, ours is faster. MediaPipe's graph tracks one "
                  "person (one detector pass on the whole image); `blazepose_full` as shipped also scans "
                  f"overlapping tiles ({tiles} on these photos) to find smaller people; `(tiling off)` does the "
                  "same work as MediaPipe.")
    n["crowd"] = ("People cropped from the sample photos (`devtools/bench/crowd.py`: astronaut, bus x3 + one mirrored, "
                  "zidane, camera, grace_hopper), each scaled into a 320x360 cell of a grey 1280x720 canvas, so "
                  "the image and each person's size stay the same and only the count changes; every profile of the "
                  "zoo (section 10) on the same four images. \"found\" = people the profile publishes, to be equal "
                  "to the people in the image.")
    crowd_rows = results.get("crowd", [])
    if crowd_rows:
        missed = [r for r in crowd_rows if r["people"] != r["intended"]]
        text = ("Every profile found exactly the people in every image." if not missed else
                "Found differs from the people in the image: " +
                ", ".join(f"{r['config']} {r['people']} of {r['intended']}" for r in missed) + ".")
        why = [f"{r['config']} at {r['size']}: " + ", ".join(
                   m["person"] + ("" if m["detector_found"] is None else
                                  " (its detector did not report it)" if not m["detector_found"] else
                                  " (**its detector reported it**)") for m in r["missed"])
               for r in crowd_rows if r.get("missed")]
        if why:
            text += " Per person (the cell of the 4x2 grid, left to right, top to bottom, and its source): " + \
                "; ".join(why) + "."
        if any(r.get("paradigm") == "centre_bottom_up" and r["people"] == 6 < r["intended"] for r in missed):
            text += (" MoveNet MultiPose's graph has 6 output slots (its output is [1, 6, 56]): it reports at most 6 "
                     "people, a limit of the model.")
        if any(r.get("paradigm") == "top_down" for r in missed):
            text += (" A top-down profile publishes every person its detector reports, with the detector's own "
                     "keypoints where the landmark model rejects the crop, so a top-down miss is a person the "
                     "detector did not report.")
        n["crowd_after"] = text
    stress = results.get("stress")
    if stress:
        n["stress"] = (f"From the last `make stress` run ({stress['date']}; `docs/stress.json`, details in "
                       "[stress.md](stress.md)), not from this benchmark's run: the installed node in its own "
                       "process (config/yolo11n_pose.yaml, device cpu). Overload: images published far faster than "
                       "the model runs; the node keeps only the newest frame, so answered frames' latency stays "
                       "one inference plus transport in both halves of the run, and what it skips is counted in "
                       "/diagnostics. Soak: each frame sent once the previous one was answered.")
    auto = results.get("auto_mode")
    if auto:
        n["auto_mode"] = (f"`config/auto.yaml`: top-down ({auto['top_down']}) while the crowd is small, bottom-up "
                          f"({auto['bottom_up']}) after {auto['patience']} frames with more than {auto['switch_up']} "
                          f"people, back after {auto['patience']} frames with at most {auto['switch_down']}. Each "
                          "crowd size has its own auto estimator, settled on its image before timing; the fixed "
                          "modes are the same two configurations, timed interleaved with it. Here the top-down "
                          "detector is the same YOLO11n-pose pass that bottom-up runs alone, so bottom-up is never "
                          "slower: auto buys the landmark model's accuracy (33 joints mapped to COCO-17, refined "
                          "per person) while the crowd is small and caps the cost when it grows.")
    if results.get("tracking_smoothing"):
        n["tracking_smoothing"] = (
            "`devtools.fixtures.synthetic_motion`: the three people of bus.jpg (as yolo11n_pose finds them) moved "
            "along known paths with Gaussian detector noise, in a random order each frame; the tests assert on "
            "the same sequences. An id switch = an actor's reported id changing between two of its appearances. "
            "The last sequence is beyond the design (look-alikes crossing through one spot while hidden, 4 px "
            "noise): its count is reported, not a target. Lag is measured in frames of motion: at 30 px/s (1 px per "
            "frame, nearly still) the One-Euro filter smooths hardest, so its lag exceeds a frame there while "
            "staying about 1 px; the one-frame target is for walking speed (100 px/s) and faster.")
    zoo = results.get("zoo")
    if zoo:
        from pose_ros.core.families.base import PARADIGMS

        same = ", ".join(f"{p} = {q}" for p, q in zoo.get("same_as", {}).items())
        n["zoo"] = ("Every profile of `config/` (`model:=NAME`, `--profile NAME`; `auto` is in section 8) as "
                    "`build_estimator(config)(image)` on the five photos, all profiles and photos interleaved "
                    "round by round, so the latency ratios to " + f"`{zoo['reference']}` come from the same "
                    "rounds. \"people found\" is per photo in the order of the header (bus.jpg has 4 people, "
                    "zidane.jpg 2, the others 1: 9 in all). Paradigms: " +
                    "; ".join(f"{k.replace('_', '-')} = {v}" for k, v in PARADIGMS.items() if k != "detector") +
                    "." + (f" Profiles that configure the same thing are measured once ({same})." if same else ""))
    n.update(accuracy_notes(results.get("accuracy")))
    steady = results.get("steady")
    if steady and steady.get("rows"):
        r0 = steady["rows"][0]
        n["steady"] = (f"A camera at a steady {r0['rate_hz']:g} Hz for {r0['seconds']:g} s per profile "
                       f"(`devtools/bench/measure/steady.py`): the five photos in turn, each fitted into a "
                       f"{r0['image']} bgr8 frame, reliable, depth 1, published on an absolute schedule whether or "
                       "not the node answered the previous frame, as a camera driver does; the installed node in its "
                       "own process with the profile's YAML (`-p device:=cpu`). Latency = PoseArray received - "
                       "image published, over every answered frame. A profile slower than the camera skips frames "
                       "(the node keeps only the newest: never a stale queue), counted by the node. The node's own "
                       "cost is what it measures itself: image received (or the worker free, when it was busy with the "
                       "previous frame) -> PoseArray published, minus the core pipeline (conversion, hand-off to the "
                       "worker, message building, publishing), over every frame since the node started (its "
                       "/diagnostics key `node own cost p50 / p99 since start`, 0.25 ms bins).")
    n.update(transport_notes(results.get("transport")))
    n.update(compressed_notes(results.get("compressed"), results.get("transport")))
    n["memory"] = ("Node: `VmHWM` from `/proc/<pid>/status` of the node process right after its e2e run (all five "
                   "photos). CLI: `ru_maxrss` of `python -m pose_ros infer` on the five photos, read with "
                   "`getrusage(RUSAGE_CHILDREN)` in a fresh wrapper process.")
    return n


def accuracy_notes(accuracy: dict | None) -> dict:
    """What section accuracy measures, then what its numbers say (best profile, the Pareto front, top-down
    against bottom-up, detector against keypoint model)."""
    if not accuracy:
        return {}
    head, sets, rows = accuracy["headline"], accuracy["sets"], accuracy["rows"]
    n = {"accuracy": (
        f"COCO keypoint AP as pycocotools' `COCOeval(iouType=\"keypoints\")` computes it, on the COCO photos of "
        f"`{accuracy['data']}`: {head} ({sets[head]['images']} images, {sets[head]['people']} people with labelled "
        f"joints) is the headline; train2017 ({sets['train2017']['images']} images, {sets['train2017']['people']} "
        "people) is shown apart because the models were trained on COCO train2017 (or data holding it). Every "
        "image on its own through the code of `python -m pose_ros evaluate` (a fresh PoseStream per image: no "
        f"tracking, no smoothing), each profile as shipped but for person threshold {accuracy['person_threshold']:g}"
        ", keypoint threshold 0 and at most 20 people per image (the precision/recall curve needs the "
        "low-scored people; COCO keeps each image's 20 best), on the CPU. \"ground-truth boxes\": the top-down keypoint model on the annotated person "
        "boxes instead of its detector's (MMPose's protocol: box score 1, rescored by the mean of the joint scores "
        "above 0.2), so what the detector loses shows apart from what the keypoint model does. People published "
        "without joints (a crop rejected after a detector without joints) are not results. Time: median of the "
        f"estimate (the configuration's PoseStream) on the first 5 {head} images, every profile and image "
        "interleaved round by round after one warm-up round (section 10 has the sample photos). With "
        f"{sets[head]['people']} people, one person more or less matched moves AP by about 0.02-0.03: smaller "
        "differences are noise. A profile in bold is on the Pareto front (no other profile is both faster and "
        "more accurate).")}
    by = {r["config"]: r for r in rows}
    best = max(rows, key=lambda r: r[head]["AP"])
    text = [f"Best {head} AP: {best['config']} {best[head]['AP']:.3f}. Pareto front (fastest first): "
            + ", ".join(f"{p} ({by[p][head]['AP']:.3f}, {by[p][head]['median_ms']:.0f} ms)" for p in accuracy["pareto"])
            + "."]
    top = [r for r in rows if r["paradigm"] == "top_down"]
    bottom = [r for r in rows if r["paradigm"] != "top_down"]
    if top and bottom:
        bt, bb = (max(group, key=lambda r: r[head]["AP"]) for group in (top, bottom))
        text.append(f"Best top-down profile {bt['config']} {bt[head]['AP']:.3f} against best bottom-up "
                    f"{bb['config']} {bb[head]['AP']:.3f}.")
    gaps = [(r["config"], r["gt_boxes"]["AP"] - r[head]["AP"]) for r in top if r.get("gt_boxes")]
    if gaps:
        text.append("Ground-truth boxes against the detector's people, top-down AP: " + ", ".join(
            f"{c} {d:+.3f}" for c, d in gaps) + " (positive: what the detector loses; negative: the keypoint model "
            "does worse on bare annotated boxes, where it has no detector joints to fall back on when its crop "
            "holds someone else, BlazePose no hips to centre its region on, and the people are ranked by their "
            "joints' scores alone).")
    published = [f"{name} {by[name][head]['AP']:.3f} here against {figure}" for name, figure in PUBLISHED.items()
                 if name in by]
    if published:
        text.append("Published figures: " + "; ".join(published) + ". The MoveNet and PoseNet figures are "
                    "single-person ones (each image holds one person, cropped to it), so a crowd photo, where the "
                    "detector must find everyone and a crop may hold a neighbour, scores lower; their order "
                    "holds. BlazePose has no published COCO AP (MediaPipe's model card reports PCK on "
                    "its own fitness, dance and yoga sets): its landmark model expects one person near the camera "
                    "in a region centred on the hips, and with its own detector it finds few of COCO's smaller "
                    "people (AR above).")
    n["accuracy_after"] = " ".join(text)
    return n


# What each model's authors report, for the comparison in the accuracy notes.
PUBLISHED = {
    "yolo11n_pose": "50.0 mAP50-95 (81.0 mAP50) on the whole COCO val2017 (Ultralytics' YOLO11 pose table): the "
                    "same within this set's noise",
    "movenet_thunder": "72.0 mAP (TensorFlow Lite's pose estimation overview, COCO val2017 filtered and cropped to "
                       "one person per image)",
    "movenet_lightning": "63.0 mAP (same source and subset)",
    "posenet": "45.6 mAP for PoseNet MobileNetV1 (same source and subset)",
}


def _pct(row: dict) -> float:
    return 100.0 * row["be_delivered"] / max(row["be_published"], 1)


def transport_notes(transport: dict | None) -> dict:
    """What section transport measured, and what the figures say about one side / both sides on the profile."""
    if not transport or not transport.get("rows"):
        return {}
    rows = transport["rows"]
    n = {"transport": (
        f"Raw bgr8 `sensor_msgs/Image`s of a real photo ({transport['photo']} resized to each size) from a camera "
        "process (`devtools/bench/image_camera.py`) to an echo process (`devtools/bench/image_echo.py`, standing "
        "for the node: it answers each image with its header, no model); latency = header back - image published "
        "(`time.monotonic()`), so one raw image one way and a tiny message back. \"profile on\" says which "
        f"process started with the shipped Fast DDS profile (`{transport['profile']}`: a 64 MB shared-memory "
        "segment + UDP, set through FASTRTPS_DEFAULT_PROFILES_FILE and FASTDDS_DEFAULT_PROFILES_FILE); the "
        "\"node side\" is the echo. Fast DDS reads the profile when a process starts, so each combination is a "
        "fresh pair of processes. Reliable: one frame at a time, sizes interleaved, a frame not answered within "
        f"5 s counts as lost. Best effort: the camera publishes at {transport['rate_hz']:.0f} Hz for "
        f"{transport['seconds']:.0f} s per size (depth 1 on both sides); delivered = frames the echo answered.")}
    by = {(r["profile_on"], r["image"]): r for r in rows}
    sizes = list(dict.fromkeys(r["image"] for r in rows))
    parts = []
    for size in sizes:
        cells = {k: by.get((k, size)) for k in ("neither", "node side only", "camera side only", "both")}
        if not all(cells.values()):
            continue
        parts.append(f"{size}: reliable " + ", ".join(
            f"{k} {fmt(c['reliable_ms'])} ms" for k, c in cells.items()) + "; best effort delivered " + ", ".join(
            f"{k} {_pct(c):.0f} %" for k, c in cells.items()))
    if parts:
        def vs_neither(side: str, key: str = "reliable_ms") -> float | None:
            return median_of([by[(side, size)][key] / by[("neither", size)][key] for size in sizes
                              if (side, size) in by and ("neither", size) in by
                              and by[(side, size)][key] and by[("neither", size)][key]])

        def delivered(side: str) -> str:
            values = [_pct(by[(side, size)]) for size in sizes if (side, size) in by]
            return f"{min(values):.0f} to {max(values):.0f} %" if values else "–"

        text = ""
        ratio = {side: vs_neither(side) for side in ("node side only", "camera side only", "both")}
        if all(ratio.values()):
            text += (f"Reliable, as a share of the time with no profile (median over the sizes): both sides "
                     f"{ratio['both']:.2f}x, camera side only {ratio['camera side only']:.2f}x, node side only "
                     f"{ratio['node side only']:.2f}x. Best effort delivered: neither {delivered('neither')}, node "
                     f"side only {delivered('node side only')}, camera side only {delivered('camera side only')}, "
                     f"both {delivered('both')}.")
            if ratio["camera side only"] < 0.8 and ratio["node side only"] >= 0.8:
                text += (" What counts is the publisher's side: Fast DDS puts a sample into the shared-memory "
                         "segment of the participant that writes it, and the subscriber's built-in shared-memory "
                         "transport reads it from there, so the camera process with the profile is enough for its "
                         "frames to travel through shared memory, while the profile on the node alone leaves "
                         "them on UDP loopback (the node's own large outputs, `debug_image`, are what its profile "
                         "speeds up).")
        worst_be = min(rows, key=_pct)
        text += (f" Lowest best-effort delivery here: {_pct(worst_be):.0f} % ({worst_be['image']}, profile on "
                 f"{worst_be['profile_on']}); a frame sent through UDP goes in 64 KB fragments, and one lost "
                 "fragment loses the frame.")
        n["transport_after"] = text
    return n


def compressed_notes(compressed: dict | None, transport: dict | None = None) -> dict:
    if not compressed or not compressed.get("rows"):
        return {}
    rows = compressed["rows"]
    n = {"compressed": (
        f"The installed node ({compressed['config']}, `-p device:=cpu`, no Fast DDS profile on any process) three "
        "times, one process per input: `image_transport:=raw` fed `sensor_msgs/Image` bgr8, and "
        "`image_transport:=compressed` fed JPEG `CompressedImage`s on `<topic>/compressed`, with "
        "`reduced_jpeg_decode` on (the default: libjpeg decodes at 1/2, 1/4 or 1/8 size when the model's input "
        "is that small anyway) and off. Images: "
        f"{compressed['photo']} resized to each size; JPEG quality {compressed['jpeg_quality']} "
        "(compressed_image_transport's default), encoded once before the timed rounds: a camera's encoding cost "
        "is not in these latencies. Frames one at a time, reliable, every variant and the core pipeline in this "
        "process (\"core\", on the decoded image at full size) interleaved per size and round; e2e = PoseArray "
        "received - image published.")}
    by = {(r["variant"], r["image"]): r for r in rows}
    sizes = list(dict.fromkeys(r["image"] for r in rows))
    parts = []
    for size in sizes:
        raw, red, full = (by.get((v, size)) for v in ("raw", "compressed, reduced decode", "compressed, full decode"))
        if not (raw and red and full) or None in (raw["e2e_ms"], red["e2e_ms"], full["e2e_ms"]):
            continue
        parts.append(f"{size} ({raw['raw_mb']:.1f} MB raw, {red['jpeg_kb']:.0f} KB JPEG): raw {raw['e2e_ms']:.1f} ms, "
                     f"compressed {red['e2e_ms']:.1f} ms with reduced decode, {full['e2e_ms']:.1f} ms without")
    if parts:
        text = ("End to end (medians): " + "; ".join(parts) + ". Compressed input trades the raw image's bytes on "
                "the wire for a JPEG decode in the node.")
        faster = [size for size in sizes if by.get(("raw", size)) and by.get(("compressed, reduced decode", size))
                  and by[("compressed, reduced decode", size)]["e2e_ms"] < by[("raw", size)]["e2e_ms"]]
        if len(faster) == len(sizes):
            text += " With no shared-memory profile, JPEG input (reduced decode) was faster than raw at every size."
        elif faster:
            text += f" With no shared-memory profile, JPEG input (reduced decode) was faster than raw at {', '.join(faster)}."
        else:
            text += " With no shared-memory profile, raw input was as fast or faster at every size."
        reduced_gain = [by[("compressed, full decode", size)]["e2e_ms"] - by[("compressed, reduced decode", size)]["e2e_ms"]
                        for size in sizes if by.get(("compressed, full decode", size))
                        and by.get(("compressed, reduced decode", size))]
        if reduced_gain:
            text += (" Reduced decode against full decode: " + ", ".join(
                f"{size} {gain:+.1f} ms" for size, gain in zip(sizes, reduced_gain)) + " (positive: reduced is faster).")
        shm = {r["image"]: r for r in (transport or {}).get("rows", []) if r["profile_on"] == "camera side only"}
        over = [(size, by[("compressed, reduced decode", size)]["e2e_ms"] - by[("compressed, reduced decode", size)]["core_ms"],
                 shm[size]["reliable_ms"]) for size in sizes if size in shm and by.get(("compressed, reduced decode", size))
                and shm[size]["reliable_ms"] is not None]
        if over:
            text += (" For comparison, what JPEG input costs on top of the core pipeline (e2e - core) against a raw "
                     "frame's round trip with the profile on the camera (section 12, a different run of processes): "
                     + ", ".join(f"{size} {a:.1f} ms against {b:.1f} ms" for size, a, b in over) + ".")
        n["compressed_after"] = text
    return n


def fmt(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def analysis(results: dict) -> str:
    """A number-driven paragraph about every target that is not met."""
    from pose_ros.core.families.blazepose.detector import detection_windows

    lines = []
    for t in results["targets"]:
        if t["met"]:
            continue
        if t["name"].startswith("bottom-up node") and "default transport" in t["name"]:
            node = results["node"]
            bu = [f for f in node["frames"] if f["config"] == "yolo11n_pose" and f.get("ratio_raw")]
            worst = max(bu, key=lambda f: f["ratio_raw"])
            over = [f["photo"] for f in bu if f["ratio_raw"] > NODE_OVER_ORT_MAX]
            parts = {"core preprocess + decode": worst["core_ms"] - worst["raw_ms"],
                     "DDS transport": worst["transport_ms"],
                     "node rest": worst["e2e_ms"] - worst["core_ms"] - worst["transport_ms"]}
            text = (f"- **node / raw ORT** ({', '.join(over)} over {NODE_OVER_ORT_MAX}x). Worst, "
                    f"{worst['photo']} ({worst['image']}, {worst['mb']:.1f} MB raw): e2e {worst['e2e_ms']:.1f} ms = "
                    f"raw ORT {worst['raw_ms']:.1f} + " + " + ".join(f"{k} {v:.1f}" for k, v in parts.items())
                    + f" ms, where a 1.2x budget leaves {0.2 * worst['raw_ms']:.1f} ms for all but the model.")
            own = next((p.get("node_stages_ms") for p in node["processes"] if p["config"] == "yolo11n_pose"), None) or {}
            extra = [k for k in ("convert", "track_3d", "publish") if k in own]
            biggest = max(parts, key=parts.get)
            others = results.get("sections", {}).get("node", {}).get("others", 0.0)
            if biggest == "DDS transport":
                text += (" The largest share is moving the raw image between processes (Python publish, Fast DDS, "
                         "Python receive), which the echo process pays too, without any model: it is not in the "
                         "node's code; fewer bytes (smaller or compressed frames) or no process boundary (an "
                         "in-process camera) would remove it.")
            elif biggest == "node rest":
                text += (" The largest share is the node's rest, yet its own stages outside the pipeline ("
                         + (f"{' + '.join(extra)} = {sum(own[k] for k in extra):.1f} ms by its diagnostics"
                            if extra else "convert, tracking, publish") +
                         ") are small: the remainder lies between the stages the node times, i.e. waiting "
                         "(subscription callback -> worker thread hand-off, executor wake-ups, the GIL) on 2 cores "
                         "shared with this probe" + (
                             f" and, in this run, other processes ({others:.0%} of the CPU)." if others > 0.05 else
                             " (no other process was busy)."))
            else:
                text += " The largest share is the core's own pre/post-processing."
            variant = node.get("shipped_shm", {}).get("frames", [])
            tuned = {f["photo"]: f for f in variant if f.get("ratio_raw")}
            if worst["photo"] in tuned:
                v = tuned[worst["photo"]]
                default = {f["photo"]: f for f in bu}
                saved = median_of([default[p]["transport_ms"] - f["transport_ms"] for p, f in tuned.items() if p in default])
                gained = median_of([default[p]["e2e_ms"] - f["e2e_ms"] for p, f in tuned.items() if p in default])
                text += (f" With the shipped shared-memory profile (`{node['shipped_shm']['profile']}`, last node "
                         f"table) the echo's transport of {worst['photo']} falls to {v['transport_ms']:.1f} ms from "
                         f"{worst['transport_ms']:.1f} (median saving {saved:.1f} ms over the photos), and the node's "
                         f"e2e / raw ORT is {min(f['ratio_raw'] for f in tuned.values()):.2f}x to "
                         f"{max(f['ratio_raw'] for f in tuned.values()):.2f}x"
                         + (": the node gains it too." if gained >= 0.5 * saved else
                            f", yet the node's e2e does not follow (median change {-gained:+.1f} ms, e2e p90 up to "
                            f"{max(f['e2e_p90_ms'] for f in tuned.values()):.0f} ms): with that profile the node's "
                            "own delivery gets slower and erratic."))
            lines.append(text)
        elif t["name"].startswith("ultralytics"):
            ultra = results["peers"]["ultralytics"]
            peer = median_of([r["peer_ms"] for r in ultra])
            their_infer = median_of([r["peer_speed_ms"]["inference"] for r in ultra])
            ours = median_of([r["ours_ms"] for r in ultra])
            our_infer = median_of([r["ours_stages"]["infer"] for r in ultra])
            raw = {r["model"]: r["median_ms"] for r in results.get("raw_ort", [])}
            spin = ""
            if raw.get("yolo11n_pose") and raw.get("yolo11n_pose (spinning on)"):
                spin = (f" Section 1 measures that setting alone: yolo11n_pose takes {raw['yolo11n_pose']:.1f} ms "
                        f"with spinning off and {raw['yolo11n_pose (spinning on)']:.1f} ms with it on.")
            lines.append(
                f"- **ultralytics**: both run the same ONNX graph with the same onnxruntime. Median predict() "
                f"{peer:.1f} ms, of which its own inference {their_infer:.1f} ms; ours {ours:.1f} ms, of which "
                f"inference {our_infer:.1f} ms. What a pipeline can save around the model is ultralytics' "
                f"pre/post-processing, {peer - their_infer:.1f} ms: with equally fast inference, no pipeline can be "
                f"more than {peer / their_infer:.2f}x faster than predict(). Any further difference is the two ORT "
                "sessions' settings (ultralytics keeps ORT's defaults, spinning threads included; pose_ros turns "
                f"spinning off so two sessions and the ROS executor share 2 cores).{spin} A 2x gain needs a "
                "cheaper model (smaller input, int8), not a leaner pipeline.")
        elif t["name"].startswith("MediaPipe"):
            config = t["name"].split("top-down ", 1)[1].split(" (1 person")[0]
            mp_rows = results["peers"]["mediapipe"]
            rows = [dict(r["ours"][config], image=r["image"]) for r in mp_rows]
            detect = median_of([r["stages"].get("detect") for r in rows])
            infer = median_of([r["stages"].get("infer") for r in rows])
            peer = median_of([r["peer_ms"] for r in mp_rows])
            untiled = median_of([r["ours"].get("blazepose_full (tiling off)", {}).get("ms") for r in mp_rows])
            if config == "blazepose_full":
                windows = sorted({len(detection_windows(*(int(v) for v in r["image"].split("x")[::-1]), True))
                                  for r in rows})
                why = (f"`blazepose_full` as shipped runs the detector on {' or '.join(map(str, windows))} windows (the image + "
                       f"overlapping tiles, to find smaller people): detect {detect:.1f} ms median, and a "
                       f"person seen by several windows gets several landmark runs before de-duplication (infer "
                       f"{infer:.1f} ms)")
            else:
                why = (f"`blazepose_full_yolo`'s person detector is a whole 640x640 YOLO11n-pose pass (detect {detect:.1f} ms median) "
                       f"before the landmark run ({infer:.1f} ms)")
            lines.append(
                f"- **MediaPipe vs {config}** ({t['measured']}): MediaPipe runs one detector pass and one landmark "
                f"pass per image ({peer:.1f} ms median); {why}."
                + ("" if untiled is None else
                   f" Doing MediaPipe's work (`tiling off`, one detector pass), ours takes {untiled:.1f} ms: "
                   + ("faster than MediaPipe, so the gap is the extra search for people that MediaPipe does not "
                      "do, not the runtime." if untiled < peer else
                      "still slower than MediaPipe, so the runtime itself is behind too.")))
        elif t["name"].startswith("crowd"):
            lines.append(f"- **{t['name']}**: {t['measured']}; see section 5's table and the text under it.")
        elif t["name"].startswith("zoo"):
            raw = {r["model"]: r["median_ms"] for r in results.get("raw_ort", [])}
            crowd_decode = [r["stages"].get("decode") for r in results.get("crowd", [])
                            if r.get("paradigm") in ("keypoints_first", "centre_bottom_up")]
            text = f"- **zoo** ({t['measured']}): the keypoints-first profiles' time is nearly all their model's."
            if raw.get("posenet") and raw.get("yolo11n_pose"):
                text += (f" Section 1 times PoseNet's graph alone at {raw['posenet']:.1f} ms against YOLO11n-pose's "
                         f"{raw['yolo11n_pose']:.1f} ms ({raw['yolo11n_pose'] / raw['posenet']:.2f}x).")
            if any(v is not None for v in crowd_decode):
                text += (f" Their decoding takes at most {max(v for v in crowd_decode if v is not None):.1f} ms "
                         "(section 5's crowds, 8 people included).")
            lines.append(text + " Both pre-process as TF.js pose-detection does (PoseNet's exact resample costs a few "
                         "ms a frame; MoveNet MultiPose keeps the photo's aspect, the longer side 256); their graphs' "
                         "compute against YOLO11n-pose's on this CPU sets the ratio.")
        elif t["name"].startswith("steady"):
            rows = [r for r in results.get("steady", {}).get("rows", []) if r.get("p50_ms")]
            over = [r for r in rows if r["p99_ms"] > STEADY_P99_OVER_P50_MAX * r["p50_ms"]]
            lines.append("- **steady 10 Hz**: " + "; ".join(
                f"{r['config']}: p99 {r['p99_ms']:.0f} ms against p50 {r['p50_ms']:.0f} ms, and the median latency is "
                f"{r['p50_ms'] * r['rate_hz'] / 10:.0f} % of the {1000 / r['rate_hz']:.0f} ms between frames: the "
                "node is nearly saturated, so one slower frame (a scheduling hiccup on 2 cores, a VM's steal) "
                "delays the next ones too" for r in over) + ". Profiles with room to spare stay well inside.")
        elif t["name"].startswith("node's own cost"):
            rows = [r for r in results.get("steady", {}).get("rows", []) if r.get("own_p99_ms") is not None]
            over = [r for r in rows if r["own_p99_ms"] > OWN_COST_P99_MAX_MS]
            lines.append(
                "- **node's own cost** (section 11): the median is within budget on every profile (at most "
                f"{max(r['own_p50_ms'] for r in rows):.2f} ms); the p99 exceeds {OWN_COST_P99_MAX_MS:g} ms for "
                + ", ".join(f"{r['config']} ({r['own_p99_ms']:.2f} ms)" for r in over) +
                ": the worst 1 % of the frames. Not attributed to a cause by this run (the node reports only the "
                "total per frame); the suspects are the executor thread deserialising the next image while the "
                "worker publishes (both need the GIL) and Python's garbage collector.")
    return "\n".join(lines)
