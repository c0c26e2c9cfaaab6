"""Section peers: ultralytics YOLO(onnx).predict() (tool venv) and MediaPipe Pose (mediapipe venv) on the same
photos and weights, their frames alternating with ours, each peer driven through a pipe (processes.PeerProcess)."""
from __future__ import annotations

from devtools.bench.measure.common import (BENCH, ONE_PERSON_PHOTOS, PHOTOS, TOOLS_PYTHON, BenchContext, image_label,
                                           log, median_ms, median_of, round_robin, settled, summarize_pipeline,
                                           timed_call)
from devtools.bench.measure.processes import PeerProcess
from pose_ros.core.models import resolve_model


def measure(ctx: BenchContext) -> tuple[dict, dict]:
    """Peer frames alternate with ours on the same photo (peer, then ours, photo after photo, round after
    round), so both see the same machine load."""
    from mediapipe_env import clean_env, ensure_mediapipe_env

    versions = {}
    env = clean_env()
    log("peers: ultralytics predict() (tool venv), alternating with our bottom-up pipeline")
    if not TOOLS_PYTHON.exists():
        raise RuntimeError(f"{TOOLS_PYTHON} missing: run `make models` (it builds the tool venv)")
    peer = PeerProcess([str(TOOLS_PYTHON), str(BENCH / "ultralytics_timing.py"), "--model",
                        str(resolve_model("yolo11n_pose").path), *(str(ctx.photo_paths[p]) for p in PHOTOS)], env)
    try:
        versions.update(ultralytics=peer.versions["ultralytics"], torch=peer.versions["torch"])
        ours = {p: timed_call(ctx.estimator("yolo11n_pose"), ctx.images[p]) for p in PHOTOS}
        samples = round_robin({p: (lambda i=i, p=p: {"peer": settled(peer.run(i)), **settled(ours[p]())})
                               for i, p in enumerate(PHOTOS)}, ctx.warmup, ctx.runs)
    finally:
        peer.close()
    ultra = []
    for photo in PHOTOS:
        s = samples[photo]
        mine = summarize_pipeline(s)
        peer_ms = median_ms([x["peer"]["seconds"] for x in s])
        speed = {k: median_of([x["peer"]["speed_ms"][k] for x in s]) for k in s[0]["peer"]["speed_ms"]}
        ultra.append({"photo": photo, "image": image_label(ctx.images[photo]), "people": s[-1]["peer"]["people"],
                      "peer_ms": peer_ms, "peer_speed_ms": speed, "ours_ms": mine["total_ms"],
                      "ours_stages": mine["stages"], "ours_people": mine["people"], "ratio": peer_ms / mine["total_ms"]})

    log("peers: MediaPipe Pose (mediapipe venv), alternating with our top-down pipelines")
    mp_configs = ("blazepose_full", "blazepose_full (tiling off)", "blazepose_full_yolo")
    peer = PeerProcess([str(ensure_mediapipe_env()), str(BENCH / "mediapipe_timing.py"),
                        *(str(ctx.photo_paths[p]) for p in ONE_PERSON_PHOTOS)], env)
    try:
        versions.update(mediapipe=peer.versions["mediapipe"])
        cases = {}
        for i, photo in enumerate(ONE_PERSON_PHOTOS):
            cases[("mediapipe", photo)] = lambda i=i: settled(peer.run(i))
            for c in mp_configs:
                cases[(c, photo)] = (lambda call=timed_call(ctx.estimator(c), ctx.images[photo]): settled(call()))
        samples = round_robin(cases, ctx.warmup, ctx.runs)
    finally:
        peer.close()
    mp_rows = []
    for photo in ONE_PERSON_PHOTOS:
        peer_ms = median_ms([x["seconds"] for x in samples[("mediapipe", photo)]])
        mine = {c: summarize_pipeline(samples[(c, photo)]) for c in mp_configs}
        mp_rows.append({"photo": photo, "image": image_label(ctx.images[photo]),
                        "found": samples[("mediapipe", photo)][-1]["found"], "peer_ms": peer_ms,
                        "ours": {c: {"ms": m["total_ms"], "people": m["people"], "stages": m["stages"]}
                                 for c, m in mine.items()},
                        "ratio": {c: peer_ms / m["total_ms"] for c, m in mine.items()}})
    return {"ultralytics": ultra, "mediapipe": mp_rows}, versions
