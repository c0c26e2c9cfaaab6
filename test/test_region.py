"""Region of interest (core/region.py): the window in pixels, crossed edges refused, and on real people the models
look only inside it while the people come back in the whole frame's pixels; a far person inside a small region is
seen larger (found where the whole frame misses him). Through the stream, the one path of the node and the tools."""
import cv2
import numpy as np
import pytest

from pose_ros.core.config import PoseConfig
from pose_ros.core.pipeline import build_models
from pose_ros.core.region import RegionConfig
from pose_ros.core.settings import ConfigError, build
from pose_ros.core.stream import Frame, PoseStream, StreamConfig


def test_the_window_rounds_outwards_and_stays_in_the_image():
    assert RegionConfig().whole and RegionConfig().window(576, 768) == (0, 0, 768, 576)
    assert RegionConfig(0.1, 0.2, 0.55, 0.9).window(576, 768) == (76, 115, 423, 519)
    assert RegionConfig(0.999, 0.999, 1.0, 1.0).window(10, 10) == (9, 9, 10, 10)  # at least one pixel


@pytest.mark.parametrize("values, message", [({"roi_x_min": 0.6, "roi_x_max": 0.4}, "roi_x_min (0.6) must be below"),
                                             ({"roi_y_max": 0.0}, "roi_y_min (0) must be below roi_y_max (0)"),
                                             ({"roi_x_max": 1.5}, "roi_x_max = 1.5 is outside")])
def test_a_region_that_is_empty_or_outside_the_image_is_refused(values, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(PoseConfig, values)


def _stream(**settings) -> PoseStream:
    return PoseStream(build_models(build(PoseConfig, {"device": "cpu", **settings})), StreamConfig(tracking=False))


def test_people_outside_are_not_looked_for_and_inside_keep_their_pixels(bus_image):
    whole = _stream().process(Frame(bus_image, 0.0)).poses
    assert len(whole) >= 3
    stream = _stream(roi_x_max=0.35)  # full height: the model sees the people at the same scale
    inside = stream.process(Frame(bus_image, 0.0)).poses
    assert 1 <= len(inside) < len(whole)
    assert (inside.boxes[:, 2] <= 0.35 * bus_image.shape[1] + 1).all()
    left = whole[np.argsort(whole.boxes[:, 0])[:1]]
    same = inside[np.argsort(inside.boxes[:, 0])[:1]]
    assert np.abs(same.boxes - left.boxes).max() < 8
    found = (same.keypoints[..., 2] > 0.5) & (left.keypoints[..., 2] > 0.5)
    assert found.sum() >= 8 and np.median(np.abs(same.keypoints[..., :2] - left.keypoints[..., :2])[found]) < 3


def test_a_small_region_shows_far_people_larger(photos):
    """zidane.jpg's two people in a 90 px tall picture in a 1920 x 1080 frame: YOLO's 640 px letterbox shows them
    a third as large, and it finds none; a region 1/4 of the frame wide shows them 4/3 as large (one model run)."""
    canvas = np.full((1080, 1920, 3), 110, np.uint8)
    image = cv2.imread(str(photos["zidane.jpg"]))
    small = cv2.resize(image, None, fx=90 / image.shape[0], fy=90 / image.shape[0], interpolation=cv2.INTER_AREA)
    canvas[600:600 + small.shape[0], 900:900 + small.shape[1]] = small
    assert len(_stream().process(Frame(canvas, 0.0)).poses) == 0
    region = dict(roi_x_min=0.4, roi_x_max=0.65, roi_y_min=0.4, roi_y_max=0.85)
    stream = _stream(**region)
    found = stream.process(Frame(canvas, 0.0)).poses
    assert len(found) >= 2
    assert ((found.boxes[:, [0, 2]] >= 880) & (found.boxes[:, [0, 2]] <= 900 + small.shape[1] + 20)).all()
    assert ((found.boxes[:, [1, 3]] >= 580) & (found.boxes[:, [1, 3]] <= 600 + small.shape[0] + 20)).all()
    # The model is content with a frame that leaves the region its letterbox side: 640 / 0.25 px long.
    assert stream.models.useful_long_side == 2560 and _stream().models.useful_long_side == 640


def test_the_result_names_the_region_and_the_overlay_outlines_it(bus_image):
    from pose_ros.core.annotators import draw_poses

    assert _stream().process(Frame(bus_image, 0.0)).region is None
    result = _stream(roi_x_min=0.25, roi_y_min=0.5).process(Frame(bus_image, 0.0))
    h, w = bus_image.shape[:2]
    assert result.region == (int(0.25 * w), h // 2, w, h)
    blank = np.zeros_like(bus_image)
    drawn = draw_poses(blank, result.poses[np.zeros(len(result.poses), bool)], result.region)
    x0, y0, _, _ = result.region
    assert drawn[y0, x0 + 20:].any() and drawn[y0 + 20:, x0].any()  # its top and left edges
    assert not drawn[:y0 - 2].any() and not drawn[:, :x0 - 2].any()  # nothing outside
