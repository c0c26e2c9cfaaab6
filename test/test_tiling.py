"""Sliced inference (core/families/tiling.py): windows cover the frame, people seen twice are merged, and on real
small people (the sample photos shrunk into a wide frame) the tiles find people the whole frame misses."""
import cv2
import numpy as np
import pytest

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.tiling import TiledModel, _same_person, merge_people, tile_windows
from pose_ros.core.pipeline import build_models
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import COCO17


@pytest.mark.parametrize("grid, overlap", [(2, 0.25), (3, 0.2), (2, 0.0)])
def test_windows_cover_the_frame_and_overlap_as_asked(grid, overlap):
    windows = tile_windows(576, 768, grid, overlap)
    assert len(windows) == grid * grid
    covered = np.zeros((576, 768), bool)
    for x0, y0, w, h in windows:
        covered[y0:y0 + h, x0:x0 + w] = True
        assert x0 + w <= 768 and y0 + h <= 576
    assert covered.all()
    (ax, _, aw, _), (bx, _, _, _) = windows[0], windows[1]
    assert (ax + aw - bx) == pytest.approx(overlap * aw, abs=1.5)


def _poses(boxes, scores):
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    return Poses(boxes, np.array(scores, np.float32), np.zeros((len(boxes), 17, 3), np.float32), COCO17)


def test_merge_keeps_the_whole_frame_people_and_adds_only_new_ones():
    whole = _poses([[100, 100, 140, 200]], [0.9])
    tiles = [_poses([[101, 100, 141, 198], [300, 50, 320, 100]], [0.95, 0.6]),  # the same person, and a new one
             _poses([[100, 150, 140, 200], [301, 52, 321, 101]], [0.7, 0.5])]  # half of the first; the new again
    merged = merge_people(whole, tiles, max_people=10)
    assert merged.boxes.tolist() == [[100, 100, 140, 200], [300, 50, 320, 100]]
    assert merge_people(whole, tiles, max_people=1).boxes.tolist() == [[100, 100, 140, 200]]


def test_tiles_find_small_people_the_whole_frame_misses(photos):
    """The sample photos' people shrunk to 40-75 px tall in a 1920x1080 frame."""
    canvas = np.full((1080, 1920, 3), 110, np.uint8)
    x = 40
    for name in ("bus.jpg", "zidane.jpg", "bus.jpg"):
        image = cv2.imread(str(photos[name]))
        scale = 150 / image.shape[0]
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas[500:500 + small.shape[0], x:x + small.shape[1]] = small
        x += small.shape[1] + 200
    config = PoseConfig(device="cpu")
    whole = build_models(config).by_mode["bottom_up"](canvas)
    tiled_model = build_models(PoseConfig(device="cpu", bottom_up_tiles=3)).by_mode["bottom_up"]
    assert isinstance(tiled_model, TiledModel)
    tiled = tiled_model(canvas)
    assert len(tiled) >= len(whole) + 2, (len(whole), len(tiled))
    for i in range(len(tiled)):
        for j in range(i + 1, len(tiled)):
            assert not _same_person(tiled.boxes[i], tiled.boxes[j])
    assert set(tiled_model.timings) >= {"preprocess", "infer", "decode"}
    assert "tiles" in tiled_model.status()
    # A live threshold change keeps the tiles.
    stricter = tiled_model.with_config(PoseConfig(device="cpu", bottom_up_tiles=3, person_threshold=0.9))
    assert isinstance(stricter, TiledModel) and len(stricter(canvas)) <= len(tiled)
