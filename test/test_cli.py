"""python -m pose_ros infer: the CLI for use without ROS."""
import argparse
import json
import subprocess
import sys

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
