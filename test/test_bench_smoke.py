"""The benchmark's pure helpers (devtools/bench): crowd composites and the markdown report. Nothing is timed
here and no model runs; `make bench` does the measuring."""
import numpy as np
import pytest

from devtools.bench import crowd, report


def _crops():
    rng = np.random.default_rng(1)
    # tall, wide and square "people" (any BGR arrays will do for the layout)
    return [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for h, w in ((400, 150), (300, 420), (200, 200))]


@pytest.mark.parametrize("count", crowd.CROWD_SIZES)
def test_crowd_has_the_intended_people_inside_separate_cells(count):
    image, boxes = crowd.compose_crowd(_crops(), count)
    assert image.shape == (*crowd.CANVAS_HW, 3) and image.dtype == np.uint8
    assert boxes.shape == (count, 4)
    height, width = crowd.CANVAS_HW
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= width).all() and (boxes[:, 3] <= height).all()
    assert (boxes[:, 2:] > boxes[:, :2]).all()
    cells = crowd.cell_rects()
    for box, cell in zip(boxes, cells):  # person i stays inside cell i, with the margin
        assert box[0] >= cell[0] + crowd.MARGIN and box[2] <= cell[2] - crowd.MARGIN
        assert box[1] >= cell[1] + crowd.MARGIN and box[3] <= cell[3] - crowd.MARGIN
    # outside the people the canvas is plain grey
    mask = np.ones(crowd.CANVAS_HW, bool)
    for x0, y0, x1, y1 in boxes.astype(int):
        mask[y0:y1, x0:x1] = False
    assert (image[mask] == crowd.GREY).all()


def test_crowds_grow_by_adding_people_and_keep_their_size():
    scenes = crowd.crowd_images(_crops())
    assert sorted(scenes) == [1, 2, 4, 8]
    np.testing.assert_array_equal(scenes[8][1][:4], scenes[4][1])  # the 4 first people do not move
    np.testing.assert_array_equal(scenes[2][0][:, :640], scenes[4][0][:, :640])
    with pytest.raises(ValueError):
        crowd.compose_crowd(_crops(), 9)


def test_shipped_people_sources_are_eight_distinct_crops():
    assert len(crowd.PEOPLE) == 8
    assert len({(p.photo, p.box, p.flip) for p in crowd.PEOPLE}) == 8
    assert all(p.box[2] > p.box[0] and p.box[3] > p.box[1] for p in crowd.PEOPLE)


def _results():
    """A results dict of the shape run_bench.py writes, with made-up numbers."""
    stages = {"preprocess": 2.0, "infer": 60.0, "decode": 0.5}
    td = {"detect": 70.0, "preprocess": 1.0, "infer": 20.0, "decode": 0.6}
    return {
        "meta": {"date": "2026-01-01 00:00 UTC", "cpu": "Test CPU", "cores": 2, "warmup": 3, "runs": 20,
                 "duration_s": 100, "ort_threads": "0", "versions": {"python": "3.11", "onnxruntime": "1.x"},
                 "load": "idle"},
        "raw_ort": [{"model": "yolo11n_pose", "input": "1x3x640x640", "median_ms": 58.0, "p10_ms": 55.0,
                     "p90_ms": 61.0, "n": 20}],
        "pipeline": [{"config": "yolo11n_pose", "photo": "bus.jpg", "image": "810x1080", "people": 3,
                      "stages": stages, "total_ms": 63.0, "total_p90_ms": 66.0, "n": 20},
                     {"config": "blazepose_full", "photo": "astronaut.png", "image": "512x512", "people": 1,
                      "stages": td, "total_ms": 92.0, "total_p90_ms": 99.0, "n": 20}],
        "node": {"frames": [{"config": "yolo11n_pose", "photo": "bus.jpg", "image": "810x1080", "mb": 2.6,
                             "people": 3, "people_core": 3, "n": 20, "unanswered": 0, "e2e_ms": 80.0,
                             "e2e_p90_ms": 90.0, "core_ms": 63.0, "transport_ms": 14.0, "transport_p90_ms": 16.0,
                             "stages": stages, "ratio_core": 80 / 63, "raw_ms": 60.0, "raw_floor_ms": 58.0,
                             "ratio_raw": 80 / 60}],
                 "processes": [{"config": "yolo11n_pose", "startup_s": 1.0, "vmhwm_mb": 250.0, "vmrss_mb": 240.0}]},
        "peers": {"ultralytics": [{"photo": "bus.jpg", "people": 3, "peer_ms": 64.0,
                                   "peer_speed_ms": {"preprocess": 3.0, "inference": 59.0, "postprocess": 1.5},
                                   "ours_ms": 62.0, "ours_people": 3, "ratio": 64 / 62}],
                  "mediapipe": [{"photo": "astronaut.png", "found": True, "peer_ms": 30.0,
                                 "ours": {"blazepose_full": {"ms": 60.0, "people": 1},
                                          "blazepose_full (tiling off)": {"ms": 24.0, "people": 1}},
                                 "ratio": {"blazepose_full": 0.5, "blazepose_full (tiling off)": 1.25}}]},
        "crowd": [{"config": c, "paradigm": paradigm, "size": n, "intended": n, "people": n, "median_ms": ms,
                   "p90_ms": ms, "stages": {}, "n": 20}
                  for c, paradigm, per in (("yolo11n_pose", "one_stage", 60.0), ("blazepose_full_yolo", "top_down", 25.0))
                  for n, ms in ((1, per + 60), (2, per * 2 + 60), (4, per * 4 + 60), (8, per * 8 + 60))],
        "zoo": {"reference": "yolo11n_pose", "same_as": {"yolo11n_pose_640": "yolo11n_pose"},
                "rows": [{"config": c, "paradigm": paradigm, "model": c,
                          "photos": {"bus.jpg": {"people": 4, "total_ms": ms, "p90_ms": ms + 5},
                                     "zidane.jpg": {"people": 2, "total_ms": ms * 0.9, "p90_ms": ms}}}
                         for c, paradigm, ms in (("yolo11n_pose", "one_stage", 60.0), ("posenet", "keypoints_first", 25.0),
                                                 ("blazepose_full", "top_down", 90.0))]},
        "memory": {"node": [{"config": "yolo11n_pose", "startup_s": 1.0, "vmhwm_mb": 250.0, "vmrss_mb": 240.0}],
                   "cli": [{"what": "bottom_up", "cmd": "python -m pose_ros infer", "maxrss_mb": 190.0,
                            "wall_s": 1.0}]},
        "auto_mode": {"rows": [{"config": c, "size": n, "intended": n, "people": n, "median_ms": ms + n,
                                "p90_ms": ms, "mode": mode}
                               for n in (1, 2, 4, 8)
                               for c, ms, mode in (("auto", 80.0 if n < 4 else 60.0, "top_down" if n < 4 else
                                                    "bottom_up"), ("fixed top_down", 80.0, "top_down"),
                                                   ("fixed bottom_up", 60.0, "bottom_up"))],
                      "switch_up": 3, "switch_down": 2, "patience": 5, "top_down": "yolo + landmarks",
                      "bottom_up": "yolo"},
        "tracking_smoothing": {
            "tracking": [{"sequence": "walking", "people": 3, "frames": 30, "noise_px": 2.0, "runs": 10,
                          "switches_motion": 0, "switches_no_motion": 0},
                         {"sequence": "hard: look-alikes", "people": 6, "frames": 45, "noise_px": 4.0, "runs": 10,
                          "switches_motion": 14, "switches_no_motion": 54}],
            "jitter": [{"seed": 0, "raw_std_px": 2.0, "smooth_std_px": 0.9, "reduction": 0.55, "mean_error_px": 1.1}],
            "lag": [{"speed_px_s": 30.0, "lag_px": 1.1, "lag_frames": 1.1, "trails": True},
                    {"speed_px_s": 100.0, "lag_px": 1.8, "lag_frames": 0.55, "trails": True}],
            "cost": {"people": 20, "frames": 290, "median_ms": 1.9, "p95_ms": 5.9, "max_ms": 7.7}},
        "transport": {"photo": "zidane.jpg", "profile": "config/fastdds_shm.xml", "rate_hz": 30.0, "seconds": 3.0,
                      "rows": [{"profile_on": side, "node_side": node_side, "camera_side": camera_side,
                                "image": size, "mb": mb, "reliable_ms": ms, "reliable_p90_ms": ms * 1.5,
                                "reliable_n": 20, "reliable_lost": 0, "be_published": 90, "be_delivered": delivered,
                                "be_rate_hz": 30.0, "be_ms": ms / 2, "be_p90_ms": ms}
                               for side, node_side, camera_side, fast in (
                                   ("neither", False, False, False), ("node side only", True, False, False),
                                   ("camera side only", False, True, True), ("both", True, True, True))
                               for size, mb in (("640x480", 0.9), ("1920x1080", 6.2))
                               for ms, delivered in ((mb * (1.5 if fast else 4.0), 90 if fast else 30),)]},
        "compressed": {"photo": "zidane.jpg", "config": "yolo11n_pose", "jpeg_quality": 95,
                       "rows": [{"variant": variant, "image": size, "raw_mb": mb,
                                 "jpeg_kb": None if variant == "raw" else kb, "e2e_ms": e2e, "e2e_p90_ms": e2e + 5,
                                 "n": 20, "unanswered": 0, "people": 2, "people_core": 2, "core_ms": 63.0,
                                 "raw_ms": 60.0, "ratio_core": e2e / 63.0, "ratio_raw": e2e / 60.0}
                                for size, mb, kb in (("640x480", 0.92, 87.0), ("1920x1080", 6.22, 351.0))
                                for variant, e2e in (("raw", 63.0 + 4 * mb), ("compressed, reduced decode", 70.0),
                                                     ("compressed, full decode", 70.0 + mb))]},
        "video": {"video": "vtest.avi", "frames": 795,
                  "rows": [{"config": "far_field", "rate_hz": 10.0, "published": 795, "answered": 700, "dropped": 95,
                            "p50_ms": 420.0, "p99_ms": 610.0, "people_per_frame": 4.8, "ids": 30, "rebirths": 2}]},
        "stress": {"date": "2026-01-01 00:00", "overload_not_delivered": 2700,
                   "overload": {"seconds": 30.0, "rate_hz": 100.0, "size": "1920x1080", "published": 3000,
                                "answered": 200, "dropped_by_node": 100,
                                "latency_ms_first_half": {"median": 170.0, "p95": 240.0, "max": 290.0, "n": 100},
                                "latency_ms_second_half": {"median": 160.0, "p95": 280.0, "max": 340.0, "n": 100},
                                "rss_mb_start": 270.0, "rss_mb_end": 365.0, "alive": True},
                   "soak": {"frames": 10000, "answered": 10000, "rss_mb_after_warmup": 350.0, "rss_mb_end": 352.0,
                            "rss_growth_percent": 0.57, "rss_samples": [], "alive": True},
                   "corpus": {"cases": [["test_bad_input_corpus::case_a", "passed"],
                                        ["test_model_faults::case_b", "passed"]], "fuzz_examples": 40,
                              "seconds": 40.0}},
    }


def test_targets_are_judged_from_the_numbers():
    results = _results()
    # bottom-up crowd made flat: 8 people cost what 1 does; the top-down profile misses one of 8
    for row in results["crowd"]:
        if row["config"] == "yolo11n_pose":
            row["median_ms"] = 60.0
        elif row["size"] == 8:
            row["people"] = 7
    targets = report.evaluate_targets(results)

    def target(prefix):
        (found,) = [t for t in targets if t["name"].startswith(prefix)]
        return found

    node = target("bottom-up node end to end / raw ORT")
    assert not node["met"] and node["verdict"].startswith("gap: ") and "1.33x" in node["measured"]
    assert not target("ultralytics predict() / our bottom-up pipeline")["met"]
    shipped = target("MediaPipe Pose / our top-down blazepose_full (1 person")
    assert not shipped["met"] and shipped["verdict"].startswith("gap: ")
    assert target("MediaPipe Pose / our top-down blazepose_full (tiling off)")["met"]
    crowd_target = target("crowd: bottom-up latency 8 people / 1 person (1 bottom-up profiles)")
    assert crowd_target["met"] and crowd_target["verdict"] == "met" and crowd_target["measured"] == "1.00x to 1.00x (yolo11n_pose)"
    found = target("crowd: people found")
    assert not found["met"] and found["measured"] == "7 of 8" and found["verdict"] == "gap: blazepose_full_yolo 7 of 8"
    zoo = target("zoo: yolo11n_pose core latency / keypoints-first")  # posenet 60/25 = 2.4x on both photos
    assert not zoo["met"] and zoo["measured"].startswith("2.40x to 2.40x (worst: posenet on ")
    assert target("tracking: id switches on the 1 designed")["measured"] == "0"  # the hard one is not a target
    assert target("smoothing: jitter")["met"] and target("smoothing: lag")["measured"] == "0.55 frames at worst"
    assert target("soak: node RSS growth")["met"] and target("soak: frames lost")["measured"] == "0"
    assert target("bad input and faults")["met"]
    results["stress"]["soak"]["rss_growth_percent"] = 7.5
    results["stress"]["corpus"]["cases"][1][1] = "failed"
    results["tracking_smoothing"]["lag"][1]["lag_frames"] = 1.5
    targets = report.evaluate_targets(results)
    assert target("soak: node RSS growth")["verdict"] == "gap: 7.50 %"
    assert not target("bad input and faults")["met"] and not target("smoothing: lag")["met"]


def test_markdown_report_has_every_section_table():
    text = report.render(_results())
    assert text.startswith("# pose_ros benchmark\n")
    for title in ("## Targets", "## 1. Raw ONNX Runtime", "## 2. Core pipeline", "## 3. Node end to end",
                  "## 4. Peer engines", "## 5. Crowd scaling", "## 6. Peak memory", "## 7. Overload, soak",
                  "## 8. mode auto", "## 9. Tracking and smoothing", "## 10. Model zoo",
                  "## 12. Image transport", "## 13. Raw against compressed"):
        assert title in text
    assert "| camera side only | 1920x1080 | 6.2 | **9.3** | 14.0 | 0 of 20 |" in text
    assert "| neither | 1920x1080 | 90 | 30 | **33 %** | 12.4 | 24.8 |" in text
    assert "| compressed, reduced decode | 1920x1080 | 351 KB JPEG | 2 / 2 | **70.0** | 75.0 | 63.0 | 60.0 | 1.17x |" in text
    assert "| yolo11n_pose | 1x3x640x640 | 58.0 | 55.0 | 61.0 | 20 |" in text
    assert "| yolo11n_pose | one-stage | 1 / 2 / 4 / 8 | 120.0 / 180.0 / 300.0 / 540.0 | **4.50x** |" in text
    assert "| blazepose_full_yolo | top-down | 1 / 2 / 4 / 8 | 85.0 / 110.0 / 160.0 / 260.0 | **3.06x** |" in text
    assert "| posenet | keypoints-first | 6 (4 / 2) | 23.8 | **0.42x** | 30.0 |" in text  # 25/60 on both photos
    assert "| yolo11n_pose (= yolo11n_pose_640) | one-stage |" in text
    assert "Test CPU" in text and "![benchmark](benchmark.png)" in text
    assert "| 8 | bottom_up | 8 | **68.0** | 8 | 88.0 | 8 | 68.0 | 1.00x |" in text  # auto at 8 people
    assert "| hard: look-alikes | 6 | 45 | 4 | 10 | **14** | 54 |" in text
    assert "| 10000 frames of 640x480 | 10000 | 0 | 350.0 | 352.0 | **0.57 %** | yes |" in text
    assert "## 15. A real street video" in text
    assert "| far_field | 10 Hz | 795 | 700 | 95 | 420.0 | 610.0 | 4.80 | 30 | 2 |" in text
    # every table row has as many cells as its header
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:
            assert len({row.count(" | ") for row in rows}) == 1, block


def test_transport_and_compressed_prose_says_what_the_numbers_show():
    results = _results()
    notes = report.notes(results)
    assert "camera side only 0.38x, node side only 1.00x" in notes["transport_after"]
    assert "What counts is the publisher's side" in notes["transport_after"]
    assert "JPEG input (reduced decode) was faster than raw at 1920x1080." in notes["compressed_after"]
    assert "1920x1080 +6.2 ms" in notes["compressed_after"]  # reduced against full decode
    target = next(t for t in report.evaluate_targets(results) if "JPEG input" in t["name"])
    assert target["met"] and target["measured"] == "1.17x to 1.17x"


def test_md_table_rejects_ragged_rows_and_escapes_pipes():
    assert report.md_table(["a", "b"], [["x|y", 1]]).splitlines()[-1] == "| x\\|y | 1 |"
    with pytest.raises(ValueError):
        report.md_table(["a", "b"], [[1]])


def test_write_atomic_replaces_the_file(tmp_path):
    target = tmp_path / "docs" / "benchmark.md"
    report.write_atomic(target, "one")
    report.write_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["benchmark.md"]
