"""Parameters as a robot engineer gives them: every bad value from the command line, a parameters file or
set_parameters is checked without an exception escaping (the node stays alive: unconfigured at start, old value
at run time, the reason in the log and the response), and a lone mode or model change gets a consistent partner."""
import time

import pytest
from rclpy.parameter import Parameter

from pose_ros.tools.node_process import SHARE, NodeProcess

from ros_harness import RosHarness


@pytest.fixture
def ros():
    harness = RosHarness()
    yield harness
    harness.close()


def _get(node, name):
    return node.get_parameter(name).value


@pytest.mark.parametrize("name, value, reason", [
    ("person_threshold", -1.0, "person_threshold = -1.0 is outside [0, 1]"),
    ("max_people", 0, "max_people = 0 is outside [1, 1000]"),
    ("person_threshold", "high", "expected a number"),
])
def test_a_bad_start_value_leaves_the_node_unconfigured_until_it_is_set_right(ros, name, value, reason):
    node = ros.pose_node(wait_active=False, autostart=False, device="cpu", **{name: value})
    assert reason in node._start_errors[name]
    assert not ros.change_state("configure") and ros.lifecycle_state() == "unconfigured"
    default = {"person_threshold": 0.5, "max_people": 100}[name]
    assert _get(node, name) == default  # declared with its default meanwhile
    assert ros.set_parameters((name, default))[0].successful
    assert ros.change_state("configure") and ros.lifecycle_state() == "inactive"


@pytest.mark.parametrize("name, value, reason", [
    ("tracking", 1, "expected a boolean"),
    ("image_reliability", "sometimes", "valid: auto, reliable, best_effort"),
])
def test_a_bad_read_only_start_value_says_to_restart(ros, name, value, reason):
    node = ros.pose_node(wait_active=False, autostart=False, device="cpu", **{name: value})
    assert reason in node._start_errors[name] and "restart the node" in node._start_errors[name]
    assert not ros.change_state("configure") and ros.lifecycle_state() == "unconfigured"


def test_an_int_given_for_a_float_is_the_number_it_is(ros):
    node = ros.pose_node(device="cpu", person_threshold=1, nms_iou=0)  # ints, at start
    assert _get(node, "person_threshold") == 1.0 and isinstance(_get(node, "person_threshold"), float)
    assert node._models.config.person_threshold == 1.0 and node._models.config.nms_iou == 0.0
    (result,) = ros.set_parameters(("keypoint_threshold", 0))  # and at run time
    assert result.successful, result.reason
    assert _get(node, "keypoint_threshold") == 0.0


@pytest.mark.parametrize("name, value, reason", [
    ("person_threshold", "high", "type"),  # rclpy's own type check: a clear rejection, not an exception
    ("max_people", 5000, "max_people"),
    ("smoothing_beta", -1.0, "read-only"),
    ("person_treshold", 0.9, "undeclared"),  # a typo: unknown names are refused (rclpy's reason)
])
def test_a_bad_run_time_value_is_refused_and_the_old_one_kept(ros, name, value, reason):
    node = ros.pose_node(device="cpu")
    before = {n: _get(node, n) for n in ("person_threshold", "max_people")}
    (result,) = ros.set_parameters((name, value))
    assert not result.successful and reason in result.reason.lower() + result.reason, result.reason
    assert {n: _get(node, n) for n in before} == before
    assert ros.lifecycle_state() == "active"


def test_unknown_start_parameters_are_warned_about_with_the_closest_name(ros, capfd):
    ros.pose_node(device="cpu", person_treshold=0.9)
    assert "unknown setting 'person_treshold'; did you mean 'person_threshold'" in capfd.readouterr().err


def test_bad_values_in_a_process_never_end_it(tmp_path):
    """As the robot engineer ran it: the installed executable with a bad number on the command line and an
    int in a parameters file. The process stays up and unconfigured with the reason in its log, and exits 0."""
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text("/**:\n  ros__parameters:\n    person_threshold: 1\n")  # an int: fine
    process = NodeProcess(["--params-file", str(SHARE / "config" / "yolo11n_pose.yaml"), "--params-file",
                           str(thresholds), "-p", "device:=cpu", "-p", "max_people:=0"])
    try:
        deadline = time.monotonic() + 60
        while "configure failed" not in process.output():
            assert process.proc.poll() is None, process.output()
            assert time.monotonic() < deadline, process.output()
            time.sleep(0.1)
        output = process.output()
        assert "max_people = 0 is outside [1, 1000]" in output and "Traceback" not in output
        assert "person_threshold" not in output.split("configure failed")[1].split("\n")[0]  # the int was fine
        time.sleep(1.0)
        assert process.proc.poll() is None
    finally:
        assert process.stop() == 0, process.output()


def test_setting_mode_alone_chooses_the_default_model_of_that_mode(ros):
    node = ros.pose_node(device="cpu")
    (result,) = ros.set_parameters(("mode", "top_down"))
    assert result.successful, result.reason
    assert (_get(node, "mode"), _get(node, "model"), _get(node, "detector")) == \
        ("top_down", "blazepose_landmark_full", "yolo11n_pose")


def test_setting_a_model_alone_sets_its_mode(ros):
    node = ros.pose_node(device="cpu")
    assert ros.set_parameters(("model", "blazepose_landmark_full"))[0].successful
    # BlazePose's own detector (the default) can feed it: kept
    assert (_get(node, "mode"), _get(node, "detector")) == ("top_down", "blazepose_detector")
    assert ros.set_parameters(("model", "yolo11n_pose"))[0].successful
    assert _get(node, "mode") == "bottom_up"


def test_mode_auto_alone_keeps_the_running_model_for_crowds(ros):
    node = ros.pose_node(device="cpu")
    (result,) = ros.set_parameters(("mode", "auto"))
    assert result.successful, result.reason
    assert (_get(node, "model"), _get(node, "bottom_up_model")) == ("blazepose_landmark_full", "yolo11n_pose")


def test_a_mode_given_alone_at_start_gets_its_partner_too(ros):
    node = ros.pose_node(device="cpu", mode="top_down")
    assert (_get(node, "model"), node._models.config.model) == ("blazepose_landmark_full",) * 2


def test_an_inconsistent_pair_set_together_is_refused_naming_the_setting(ros):
    ros.pose_node(device="cpu")
    (result,) = ros.set_parameters(("mode", "top_down"), ("model", "yolo11n_pose"), atomically=True)
    assert not result.successful and "model 'yolo11n_pose' is a bottom_up model" in result.reason


def test_partner_parameters_are_a_single_change(ros):
    """Through the parameter service as `ros2 param set` does: one request, the pair is applied together."""
    node = ros.pose_node(device="cpu")
    request = [Parameter("mode", value="top_down")]
    assert all(r.successful for r in node.set_parameters(request))
    assert _get(node, "model") == "blazepose_landmark_full"
