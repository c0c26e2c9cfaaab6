"""python -m pose_ros infer: the CLI for use without ROS."""
import argparse
import json
import subprocess
import sys

import numpy as np
import pytest

from pose_ros.cli import add_config_arguments, config_from_args


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pose_ros", "infer", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=env)


def test_json_lists_people_with_boxes_scores_and_keypoint_rows(photos):
    result = run_cli(photos["bus.jpg"], photos["zidane.jpg"], "--model", "yolo11n_pose", "--device", "cpu", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)["results"]
    assert [r["image"] for r in out] == [str(photos["bus.jpg"]), str(photos["zidane.jpg"])]
    assert [len(r["people"]) for r in out] == [3, 2]
    for r in out:
        assert r["skeleton"] == "coco17" and r["model"] == "yolo11n_pose"
        for person in r["people"]:
            assert len(person["box"]) == 4 and 0.5 <= person["score"] <= 1
            assert len(person["keypoints"]) == 17 and all(len(row) == 3 for row in person["keypoints"])


def test_missing_model_fails_at_start_naming_the_file_and_the_install_command(photos, tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"yolo11n_pose": {
        "file": "yolo11n_pose.onnx", "sha256": "0" * 64, "family": "yolo_pose", "input_size": [640, 640],
        "skeleton": "coco17"}}}))
    result = run_cli(photos["bus.jpg"], "--model-dir", tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path}/yolo11n_pose.onnx" in result.stderr and "make models" in result.stderr


@pytest.mark.parametrize("flag, value, message", [("--device", "tpu", "valid: auto, cpu"),
                                                  ("--mode", "sideways", "valid: bottom_up")])
def test_invalid_choices_are_rejected_with_the_valid_ones(photos, flag, value, message):
    result = run_cli(photos["bus.jpg"], flag, value)
    assert result.returncode == 2 and message in result.stderr


def test_boolean_flags_parse_true_and_false():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    assert config_from_args(parser.parse_args(["--detector-tiling", "false"])).detector_tiling is False
    assert config_from_args(parser.parse_args(["--allow-cpu-fallback", "true"])).allow_cpu_fallback is True
    with pytest.raises(SystemExit):
        parser.parse_args(["--detector-tiling", "maybe"])


def test_a_bad_file_is_reported_and_the_good_ones_still_answered(photos, tmp_path):
    (tmp_path / "folder").mkdir()
    result = run_cli(photos["bus.jpg"], tmp_path / "missing.jpg", tmp_path / "folder", photos["zidane.jpg"],
                     "--device", "cpu", "--json")
    assert result.returncode == 1
    out = json.loads(result.stdout)["results"]
    assert [(r["image"], len(r["people"])) for r in out] == [(str(photos["bus.jpg"]), 3), (str(photos["zidane.jpg"]), 2)]
    assert f"{tmp_path / 'missing.jpg'}: no such file" in result.stderr
    assert f"{tmp_path / 'folder'} is a directory" in result.stderr


def test_an_unwritable_draw_folder_is_refused_before_anything_runs(photos, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli(photos["bus.jpg"], "--device", "cpu", "--draw", blocker / "out")
    assert result.returncode == 2 and "--draw" in result.stderr and "Traceback" not in result.stderr


def test_a_truncated_jpeg_is_warned_about(photos, tmp_path):
    data = photos["zidane.jpg"].read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    result = run_cli(cut, "--device", "cpu", "--json")
    assert result.returncode == 0 and "JPEG data ends early" in result.stderr


def test_a_profile_gives_the_launch_files_configuration(photos):
    result = run_cli(photos["zidane.jpg"], "--profile", "blazepose_full_yolo", "--device", "cpu", "--json")
    assert result.returncode == 0, result.stderr
    (out,) = json.loads(result.stdout)["results"]
    assert (out["model"], out["mode"], len(out["people"])) == ("blazepose_landmark_full", "top_down", 2)
    bad = run_cli(photos["zidane.jpg"], "--profile", "nope")
    assert bad.returncode == 2 and "unknown profile 'nope'; valid: " in bad.stderr and "yolo11n_pose" in bad.stderr


def test_a_video_is_one_tracked_sequence(photos, tmp_path):
    import cv2

    image = cv2.resize(cv2.imread(str(photos["zidane.jpg"])), (640, 360))
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 360))
    for shift in range(0, 20, 4):  # the two people move right, a few pixels a frame
        writer.write(np.roll(image, shift, axis=1))
    writer.release()
    result = run_cli(video, "--device", "cpu", "--json")
    assert result.returncode == 0, result.stderr
    frames = json.loads(result.stdout)["results"]
    assert [f["image"] for f in frames] == [f"{video}#{i}" for i in range(5)]
    ids = [sorted(p["track_id"] for p in f["people"]) for f in frames]
    assert ids == [[1, 2]] * 5  # the same two tracks throughout
