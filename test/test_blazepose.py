"""BlazePose pure functions on inputs whose answers are known exactly, and the real models on real photos."""
import numpy as np
import pytest

from pose_ros.core.families.blazepose import detector, landmarks, regions
from pose_ros.core.skeletons import BLAZEPOSE33, COCO17, keypoint_mapping, keypoints_by_name


def test_anchor_grid_matches_the_model_output_layout():
    anchors = detector.ssd_anchors()
    assert anchors.shape == (2254, 2)  # 28*28*2 + 14*14*2 + 7*7*6
    np.testing.assert_allclose(anchors[:2], [[0.5 / 28, 0.5 / 28]] * 2)  # two anchors per stride-8 cell
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14])  # first stride-16 anchor
    np.testing.assert_allclose(anchors[1960:1966], [[0.5 / 7, 0.5 / 7]] * 6)  # 3 layers of stride 32 share cells


def test_weighted_nms_averages_overlapping_detections_by_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    kps = np.array([[[0, 0]], [[3, 3]], [[9, 9]]], np.float32)
    kept_boxes, kept_scores, kept_kps = detector.weighted_nms(boxes, scores, kps, 0.3, 10)
    np.testing.assert_allclose(kept_scores, [0.9, 0.7])  # the best score of each group
    np.testing.assert_allclose(kept_boxes[0], [0.6, 0, 10.6, 10], atol=1e-5)  # (0.6*0 + 0.9*1) / 1.5
    np.testing.assert_allclose(kept_kps[0, 0], [1.8, 1.8], atol=1e-5)
    assert detector.weighted_nms(boxes, scores, kps, 0.3, 1)[1].tolist() == pytest.approx([0.9])


@pytest.mark.parametrize("end_offset, rotation_deg", [
    ((0, -100), 0.0),     # circle point straight above the hips: upright, no rotation
    ((100, 0), 90.0),     # body lying towards +x
    ((-100, 0), -90.0),
    ((0, 100), 180.0),    # upside down
])
def test_person_region_centre_size_and_rotation(end_offset, rotation_deg):
    keypoints = np.array([[[200, 300], [200 + end_offset[0], 300 + end_offset[1]], [0, 0], [0, 0]]], np.float32)
    found = regions.regions_from_alignment(keypoints[..., :2])
    np.testing.assert_allclose(found.centres, [[200, 300]])
    np.testing.assert_allclose(found.sides, [2 * 100 * 1.25])
    assert abs((np.degrees(found.rotations[0]) - rotation_deg + 180) % 360 - 180) < 1e-4


@pytest.mark.parametrize("rotation_deg", [0.0, 30.0, -120.0])
def test_crop_matrix_maps_the_region_onto_the_crop(rotation_deg):
    centre, side, rotation = np.array([[320.0, 240.0]]), np.array([100.0]), np.radians([rotation_deg])
    region = regions.PersonRegions(centre, side, rotation)
    matrix = landmarks.crop_matrices(region)[0]
    corners = region.corners()[0]
    mapped = corners @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(mapped, [[0, 256], [0, 0], [256, 0], [256, 256]], atol=1e-3)
    np.testing.assert_allclose(centre[0] @ matrix[:, :2].T + matrix[:, 2], [128, 128], atol=1e-3)


def test_heatmap_refinement_moves_confident_landmarks_to_the_weighted_peak():
    heatmaps = np.full((1, 64, 64, 2), -20.0, np.float32)  # confidence ~0 everywhere
    heatmaps[0, 10, 20, 0] = 5.0  # landmark 0: one confident cell at row 10, col 20
    heatmaps[0, 11, 20, 0] = 5.0  # and the cell below it
    heatmaps[0, 40, 40, 1] = -1.0  # landmark 1: nothing confident (sigmoid(-1) < 0.5): untouched
    xy = np.array([[[21.5 / 64, 12.2 / 64], [40.3 / 64, 40.7 / 64]]], np.float32)
    refined = landmarks.refine_from_heatmap(xy, heatmaps)
    np.testing.assert_allclose(refined[0, 0] * 64, [20.0, 10.5], atol=1e-3)
    np.testing.assert_allclose(refined[0, 1], xy[0, 1])


# Where MediaPipe's RefineLandmarksFromHeatmapCalculator refines a landmark (64x64 heatmap, 7x7 window), as it
# is written: the window is clipped at the borders; a landmark beyond the left/top/right edge is kept, one below the
# bottom edge is refined from what is left of its window (its bounds check tests the column twice).
@pytest.mark.parametrize("x_cells, y_cells, refined", [
    (30.5, 30.5, True),
    (-0.5, 30.5, True),    # truncates to column 0, inside
    (-1.5, 30.5, False),   # left of the heatmap
    (64.2, 30.5, False),   # right of it
    (30.5, -1.5, False),   # above it
    (30.5, 63.9, True),
    (30.5, 64.5, True),    # below it: rows 61..63 of its window remain
    (30.5, 66.5, True),    # row 63 remains
    (30.5, 67.5, False),   # nothing of its window remains
])
def test_heatmap_refinement_bounds_follow_mediapipe(x_cells, y_cells, refined):
    heatmaps = np.full((1, 64, 64, 1), 5.0, np.float32)  # confident everywhere
    xy = np.array([[[x_cells / 64, y_cells / 64]]], np.float32)
    moved = not np.allclose(landmarks.refine_from_heatmap(xy, heatmaps), xy)
    assert moved == refined


def test_regions_from_coco_people_centre_on_the_hips_and_point_to_the_shoulders():
    kps = np.zeros((1, 17, 3), np.float32)
    kps[0, [11, 12], :2] = [[90, 200], [110, 200]]
    kps[0, [5, 6], :2] = [[90, 100], [110, 100]]
    kps[0, [15, 16], :2] = [[95, 300], [105, 300]]
    kps[0, [5, 6, 11, 12, 15, 16], 2] = 0.9
    found = regions.regions_from_coco_keypoints(np.array([[80, 90, 120, 310]], np.float32), kps, min_score=0.3)
    np.testing.assert_allclose(found.centres, [[100, 200]])
    assert found.sides[0] == pytest.approx(2 * np.hypot(10, 100) * 1.15 * 1.25, rel=1e-4)  # farthest: a shoulder
    assert found.rotations[0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("roll_deg", [0.0, 30.0, -90.0])
def test_regions_without_hips_centre_on_the_estimated_hips_below_the_shoulders(roll_deg):
    """A portrait (face and shoulders only, the hips out of the frame), rolled by ``roll_deg``: the centre
    lies one torso below the shoulders, away from the face, and the region turns with the face."""
    upright = np.zeros((17, 2), np.float32)
    upright[[5, 6]] = [[-40, 0], [40, 0]]  # shoulders 80 px apart around (0, 0)
    upright[[0, 1, 2, 3, 4]] = [[0, -60], [-8, -66], [8, -66], [-16, -62], [16, -62]]  # face above
    angle = np.deg2rad(roll_deg)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    kps = np.zeros((1, 17, 3), np.float32)
    kps[0, :, :2] = upright @ turn.T + [300, 200]
    kps[0, :7, 2] = 0.9
    box = np.array([[200, 100, 400, 260]], np.float32)
    found = regions.regions_from_coco_keypoints(box, kps, min_score=0.3)
    torso = max(1.3 * 80, 2 * 63.2)  # the face points' mean lies 63.2 px above the shoulders' centre
    expected_centre = np.array([0, torso], np.float32) @ turn.T + [300, 200]
    np.testing.assert_allclose(found.centres[0], expected_centre, atol=1e-3)
    assert np.rad2deg(found.rotations[0]) == pytest.approx(roll_deg, abs=1e-3)


def test_keypoints_by_name_fills_what_the_source_has_and_zeroes_the_rest():
    kps = np.random.default_rng(0).uniform(0.1, 1, (2, 17, 3)).astype(np.float32)
    out = keypoints_by_name(kps, COCO17, BLAZEPOSE33)
    assert out.shape == (2, 33, 3)
    for j, name in enumerate(BLAZEPOSE33.keypoint_names):
        expected = kps[:, COCO17.keypoint_names.index(name)] if name in COCO17.keypoint_names else 0
        np.testing.assert_array_equal(out[:, j], expected)
    assert (out[..., 2] == 0).sum() == 2 * (33 - 17)


def test_coco_mapping_picks_the_same_joints_by_name():
    mapping = keypoint_mapping("blazepose33", "coco17")
    assert [BLAZEPOSE33.keypoint_names[i] for i in mapping] == list(COCO17.keypoint_names)
    assert keypoint_mapping("coco17", "coco17") is None
    with pytest.raises(KeyError, match="valid: coco17"):
        keypoint_mapping("coco17", "blazepose33")


def test_detection_windows_cover_the_image_with_overlapping_tiles():
    windows = detector.detection_windows(1080, 810, tiled=True)
    assert windows[0] == (0, 0, 810, 1080)
    tiles = windows[1:]
    assert {w[2] for w in tiles} == {540} and len(tiles) == 2 * 3
    assert max(x + w for x, _, w, _ in tiles) == 810 and max(y + h for _, y, _, h in tiles) == 1080
    assert detector.detection_windows(1080, 810, tiled=False) == windows[:1]
