"""Several cameras' frames in one model call: each frame gets the answer it gets alone (real model, real photos)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pose_ros.core.families.yolo_pose import YoloPose
from pose_ros.core.pipeline import build_estimator

PHOTOS = ("bus.jpg", "zidane.jpg", "astronaut.png")


@pytest.fixture(scope="module")
def images(photos):
    return [cv2.imread(str(photos[name]), cv2.IMREAD_COLOR) for name in PHOTOS]


def assert_same_people(together, alone):
    assert len(together) == len(alone) > 0
    # One batched ONNX Runtime call may pick other kernels than a batch of one: float rounding, not a new answer.
    np.testing.assert_allclose(together.boxes, alone.boxes, atol=0.05)
    np.testing.assert_allclose(together.scores, alone.scores, atol=1e-3)
    np.testing.assert_allclose(together.keypoints[..., :2], alone.keypoints[..., :2], atol=0.05)
    np.testing.assert_allclose(together.keypoints[..., 2], alone.keypoints[..., 2], atol=1e-3)


def test_the_shipped_bottom_up_model_takes_a_batch_and_answers_each_frame_as_alone(yolo_estimator, images):
    assert yolo_estimator.can_batch
    alone = [yolo_estimator(image) for image in images]
    together = yolo_estimator.batch(images)
    assert [len(p) for p in together] == [len(p) for p in alone]
    for t, a in zip(together, alone):
        assert_same_people(t, a)
    assert set(yolo_estimator.timings) == {"preprocess", "infer", "decode"}
    # The reused batch tensor follows the number of frames.
    for t, a in zip(yolo_estimator.batch(images[:2]), alone[:2]):
        assert_same_people(t, a)


class _BatchOfOne:
    """The real backend, declared with a fixed batch of 1 (as a model exported with static shapes)."""

    def __init__(self, backend):
        self._backend = backend
        self.input_names = backend.input_names
        self.input_shapes = ((1, *backend.input_shapes[0][1:]),)
        self.calls = []

    def run(self, feeds):
        self.calls.append(next(iter(feeds.values())).shape[0])
        return self._backend.run(feeds)


def test_a_model_with_a_fixed_batch_runs_the_frames_one_by_one(yolo_estimator, images):
    fixed = _BatchOfOne(yolo_estimator.backend)
    estimator = YoloPose(fixed, yolo_estimator.skeleton, yolo_estimator.input_hw, yolo_estimator.config)
    assert not estimator.can_batch
    together = estimator.batch(images)
    assert fixed.calls == [1, 1, 1]
    for t, image in zip(together, images):
        assert_same_people(t, yolo_estimator(image))


def test_top_down_frames_are_estimated_one_by_one(images):
    from pose_ros.core.config import PoseConfig

    estimator = build_estimator(PoseConfig(mode="top_down", model="blazepose_landmark_full",
                                           detector="yolo11n_pose", device="cpu"))
    assert not estimator.can_batch
    for t, image in zip(estimator.batch(images[:2]), images[:2]):
        a = estimator(image)
        np.testing.assert_array_equal(t.keypoints, a.keypoints)
