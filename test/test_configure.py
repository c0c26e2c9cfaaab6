"""One configure path (pipeline.configure): each model file hashed once per configure, and a lone ``model`` or
``mode`` means the same for ``python -m pose_ros infer``, the annotate tool and the node (its configure function in
node/parameters.py, the one PoseNode.on_configure calls), with the real models."""
import json
from collections import Counter

import cv2
import pytest
from rosbags.rosbag2 import Reader

import pose_ros.core.models as models_module
from pose_ros.core.models import Catalogue
from pose_ros import cli
from pose_ros.core.config import PoseConfig
from pose_ros.core.pipeline import configure
from pose_ros.node import parameters
from pose_ros.tools import annotate
from pose_ros.tools.bags import typestore, write_image_bag


@pytest.fixture
def hashed(monkeypatch):
    """Counts of file_sha256 calls by file name."""
    counts = Counter()
    real = models_module.file_sha256

    def counting(path):
        counts[path.name] += 1
        return real(path)

    monkeypatch.setattr(models_module, "file_sha256", counting)
    return counts


def test_each_model_file_is_hashed_once_per_configure(hashed):
    catalogue = Catalogue()
    files = {catalogue.entry(name).path.name for name in ("blazepose_landmark_full", "yolo11n_pose")}
    assert not hashed  # reading the manifest hashes nothing
    # Mode auto: BlazePose's landmark model after YOLO11n-pose, which is also the bottom-up model for crowds.
    configured = configure({"mode": "auto", "model": "blazepose_landmark_full", "detector": "yolo11n_pose",
                            "bottom_up_model": "yolo11n_pose", "device": "cpu"})
    assert set(configured.models.by_mode) == {"top_down", "bottom_up"}
    assert dict(hashed) == {name: 1 for name in files}
    hashed.clear()
    configured = configure({"mode": "auto", "device": "cpu"})  # completing a lone mode hashes nothing more
    assert configured.config.model == "blazepose_landmark_full"
    assert dict(hashed) == {name: 1 for name in files}


# (values a user gives alone, what the completed configuration must hold)
LONE = [
    ({"model": "blazepose_landmark_full"}, {"mode": "top_down", "model": "blazepose_landmark_full"}),
    ({"mode": "top_down"}, {"mode": "top_down", "model": "blazepose_landmark_full", "detector": "yolo11n_pose"}),
    ({"mode": "auto"}, {"mode": "auto", "model": "blazepose_landmark_full", "bottom_up_model": "yolo11n_pose"}),
    ({"model": "movenet_multipose"}, {"mode": "bottom_up", "model": "movenet_multipose"}),
]


def _node(values):
    """What the node configures from start parameters ``values`` (every other parameter at its default)."""
    config = parameters.configs({**{n: s.default for n, s in parameters.SETTINGS.items()}, **values})[0]
    configured, changed = parameters.configure(config, set(values))
    assert {p.name for p in changed} == {k for k, v in configured.config.__dict__.items() if getattr(config, k) != v}
    return configured


def _flags(values):
    return [arg for name, value in values.items() for arg in ("--" + name.replace("_", "-"), str(value))]


@pytest.mark.parametrize("values, expected", LONE, ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()))
def test_a_lone_model_or_mode_means_the_same_to_infer_annotate_and_the_node(values, expected, bus_image, tmp_path,
                                                                          capsys):
    node = _node({**values, "device": "cpu"}).config
    assert {k: getattr(node, k) for k in expected} == expected

    # infer: the poses it prints were made by the completed configuration's model
    small = cv2.resize(bus_image, None, fx=0.5, fy=0.5)
    image = tmp_path / "bus.jpg"
    cv2.imwrite(str(image), small)
    assert cli.main(["infer", str(image), "--json", "--device", "cpu", *_flags(values)]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["model"] in (node.model, node.bottom_up_model if node.mode == "auto" else node.model)
    assert result["mode"] == node.mode or node.mode == "auto"
    args = cli.argparse.Namespace(profile=None, config=None, device="cpu", **values)
    assert cli.configure_from_args(args).config == node

    # annotate: the same configuration's models, named in the bag's SkeletonInfo and PoseArray
    bag, out = tmp_path / "in", tmp_path / "out"
    write_image_bag(bag, [small])
    assert annotate.main([str(bag), str(out), "--no-progress", "--device", "cpu", *_flags(values)]) == 0
    store = typestore()
    with Reader(out) as reader:
        models = {store.deserialize_cdr(raw, conn.msgtype).model for conn, _, raw in reader.messages()}
    assert models <= {node.model, node.bottom_up_model} and node.model in models


def test_a_pair_given_together_is_not_completed():
    """model and mode given together are the user's choice: an inconsistent pair is refused the same way."""
    from pose_ros.core.config import ConfigError

    for entry in (lambda v: configure(v), lambda v: _node(v)):
        with pytest.raises(ConfigError, match="is a top_down model but mode is 'bottom_up'"):
            entry({"mode": "bottom_up", "model": "blazepose_landmark_full", "device": "cpu"})
    assert isinstance(configure(PoseConfig(device="cpu")).config, PoseConfig)
