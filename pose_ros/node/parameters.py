"""ROS parameters from the settings schema: one parameter per setting of PoseConfig, StreamConfig and NodeConfig,
with its description, range and read-only flag taken from the field (pose_ros.core.settings).

Values given at start (command line, parameters files) are checked here before they are declared, so a bad value
never ends the process: the parameter keeps its default, the reason is kept, and ``configure`` fails with it until
the parameter is set right (an int given for a float is the number it is). Run-time changes go through the same
checks (the node's set-parameters callbacks).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter

from pose_ros.core.config import PoseConfig
from pose_ros.core.settings import ConfigError, Setting, check_settings, setting, settings_of, unknown_setting_message
from pose_ros.core.stream import StreamConfig

RELIABILITIES = ("auto", "reliable", "best_effort")
TRANSPORTS = ("raw", "compressed")


@dataclass(frozen=True)
class NodeConfig:
    """The node's own settings: inputs, outputs, QoS, diagnostics."""

    profile: str = setting("", "a profile (config/NAME.yaml, the names of model:= at launch): everything it sets, "
                           "applied at start under the values given explicitly, and at run time all at once (the "
                           "settings the previous profile set and this one does not go back to their defaults); "
                           "empty = none", change="live")
    image_topics: tuple[str, ...] = setting(("image",), "input image topics, one per camera; one node and one set "
                                            "of models serve them all", change="read_only")
    output_names: tuple[str, ...] = setting((), "output namespace of each camera under the node (several "
                                            "cameras); empty = from each topic's path (/front/color/image_raw -> "
                                            "~/front/color/poses)", change="read_only")
    image_transport: str = setting("raw", "raw (sensor_msgs/Image) or compressed (CompressedImage on "
                                   "<topic>/compressed)", change="read_only", choices=TRANSPORTS)
    reduced_jpeg_decode: bool = setting(True, "decode JPEG frames (compressed transport) at 1/2, 1/4 or 1/8 size "
                                        "when the model's input is that small anyway (libjpeg DCT scaling: faster "
                                        "than full size); keypoints stay in full-size pixels. Off for top-down "
                                        "models (their crops use the full resolution)", change="live")
    image_reliability: str = setting("auto", "QoS reliability of the image subscriptions: auto (as the "
                                     "publishers on the topic: best effort if any is, re-checked as publishers "
                                     "come and go), reliable, best_effort", change="read_only", choices=RELIABILITIES)
    image_qos_depth: int = setting(1, "image subscription queue depth (only the newest frame is processed anyway)",
                                   change="read_only", low=1, high=100)
    batch_cameras: bool = setting(True, "frames of several cameras waiting together share one model call when "
                                  "the model can batch them", change="read_only")
    publish_debug_image: bool = setting(True, "publish ~/debug_image (drawn only while subscribed)", change="live")
    publish_debug_compressed: bool = setting(False, "also publish ~/debug_image/compressed (JPEG), when subscribed",
                                             change="live")
    publish_markers: bool = setting(True, "publish ~/markers (RViz skeletons), when subscribed", change="live")
    diagnostics_period: float = setting(1.0, "seconds between /diagnostics messages", change="read_only",
                                        above=0.0, high=3600.0)
    autostart: bool = setting(True, "configure and activate at start, without a lifecycle manager",
                              change="read_only")
    depth_topics: tuple[str, ...] = setting((), "aligned depth images (16UC1 mm or 32FC1 m), one per camera, for "
                                            "3D keypoints", change="read_only")
    camera_info_topics: tuple[str, ...] = setting((), "sensor_msgs/CameraInfo of each depth image",
                                                  change="read_only")

    def __post_init__(self) -> None:
        check_settings(self)
        cameras = len(self.image_topics)
        if not cameras or any(not topic for topic in self.image_topics):
            raise ConfigError("image_topics must list at least one non-empty topic")
        if self.output_names and (len(self.output_names) != cameras or len(set(self.output_names)) != cameras
                                  or any(not name for name in self.output_names)):
            raise ConfigError(f"output_names must give {cameras} different, non-empty names (one per image topic), "
                              f"got {list(self.output_names)}")
        if (self.depth_topics or self.camera_info_topics) and \
                not len(self.depth_topics) == len(self.camera_info_topics) == cameras:
            raise ConfigError(f"depth_topics ({len(self.depth_topics)}) and camera_info_topics "
                              f"({len(self.camera_info_topics)}) must list one topic per image topic ({cameras})")


GROUPS = (PoseConfig, StreamConfig, NodeConfig)
SETTINGS: dict[str, Setting] = {s.name: s for cls in GROUPS for s in settings_of(cls)}
# Parameters rclpy or launch give every node: not ours to check.
_FOREIGN = ("use_sim_time", "start_type_description_service")


def descriptor(s: Setting) -> ParameterDescriptor:
    """The parameter descriptor of a setting: description (with limits and change kind), range, read-only."""
    d = ParameterDescriptor(description=s.help(), read_only=s.change == "read_only")
    low = s.low if s.low is not None else s.above
    if s.type is float and low is not None and s.high is not None:
        d.floating_point_range = [FloatingPointRange(from_value=float(low), to_value=float(s.high))]
    elif s.type is int and s.low is not None and s.high is not None:
        d.integer_range = [IntegerRange(from_value=int(s.low), to_value=int(s.high), step=1)]
    if s.choices:
        d.additional_constraints = f"one of: {', '.join(s.choices)}"
    return d


def start_overrides(node: Node) -> dict[str, Any]:
    """Values given at start (command line, parameters files), by name. rclpy keeps them in a private field and
    has no public accessor for the ones nobody declared, which is what catching a misspelt name needs."""
    return {name: p.value for name, p in getattr(node, "_parameter_overrides", {}).items()}


def declare(node: Node) -> tuple[dict[str, str], list[str]]:
    """Declare every setting as a parameter, its start value checked first. A ``profile`` given at start supplies
    the values of the settings it names that were not given explicitly. Returns (errors by parameter name for
    values that could not be used, warnings for names that are no setting)."""
    overrides = start_overrides(node)
    errors: dict[str, str] = {}
    if overrides.get("profile"):
        try:
            overrides = {**profile_values(str(overrides["profile"])), **overrides}
        except ConfigError as err:
            errors["profile"] = f"{err} (given at start; restart or set profile to a valid name)"
            overrides = {k: v for k, v in overrides.items() if k != "profile"}
    for s in SETTINGS.values():
        value = s.default
        if s.name in overrides:
            try:
                value = s.check(overrides[s.name])
            except ConfigError as err:
                fix = "restart the node with a valid value (read-only)" if s.change == "read_only" else \
                    f"the default {to_ros(s.default)!r} is in place until you set it"
                errors[s.name] = f"{err} (given at start; {fix})"
        value = to_ros(value)
        if s.type is tuple and not value:  # an empty list has no type of its own: declare it typed
            node.declare_parameter(s.name, Parameter.Type.STRING_ARRAY, descriptor(s), ignore_override=True)
        else:
            node.declare_parameter(s.name, value, descriptor(s), ignore_override=True)
    warnings = [unknown_setting_message(name, list(SETTINGS)) + " (ignored)"
                for name in overrides if name not in SETTINGS and name not in _FOREIGN
                and not name.startswith("qos_overrides.")]
    return errors, warnings


def to_ros(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def current(node: Node) -> dict[str, Any]:
    """Every setting's parameter value, as the schema's type (lists as tuples)."""
    values = {}
    for name, s in SETTINGS.items():
        try:
            value = node.get_parameter(name).value
        except ParameterUninitializedException:  # a typed, empty list
            value = ()
        values[name] = tuple(value) if s.type is tuple and value is not None else value
    return values


def split(values: dict[str, Any]) -> tuple[dict, dict, dict]:
    """Flat values -> the (PoseConfig, StreamConfig, NodeConfig) parts."""
    parts: tuple[dict, dict, dict] = ({}, {}, {})
    for name, value in values.items():
        for part, cls in zip(parts, GROUPS):
            if name in {s.name for s in settings_of(cls)}:
                part[name] = value
    return parts


def as_declared_type(parameter: Parameter) -> Parameter:
    """An integer given for a float setting, as the float it is (rclpy would reject the type)."""
    s = SETTINGS.get(parameter.name)
    if s is not None and s.type is float and parameter.type_ == Parameter.Type.INTEGER:
        return Parameter(parameter.name, Parameter.Type.DOUBLE, float(parameter.value))
    return parameter


def partners(config: PoseConfig, changed: set[str]) -> tuple[PoseConfig, list[Parameter], list[str]]:
    """A lone ``mode``/``model`` (or ``detector``) in ``changed`` completed with a consistent partner
    (core.pipeline.complete_config): (completed config, the parameters that differ from ``config``, notes)."""
    from pose_ros.core.pipeline import complete_config

    completed, notes = complete_config(config, changed)
    return completed, differing(config, completed), notes


def differing(config: PoseConfig, completed: PoseConfig) -> list[Parameter]:
    """The parameters whose values ``completed`` changed (the partners chosen), to set on the node."""
    from pose_ros.core.settings import flatten

    before = flatten(config)
    return [Parameter(k, value=v) for k, v in flatten(completed).items() if before[k] != v]


def configure(config: PoseConfig, given: set[str]):
    """The node's configure: the core's one configure path (``pipeline.configure``, as the CLI and annotate), a
    mode or model given alone at start completed with its partner. Returns (Configured: the models and notes,
    the partner parameters to set)."""
    from pose_ros.core.pipeline import configure as configure_models

    configured = configure_models(config, given)
    return configured, differing(config, configured.config)


PAIRED = {"mode", "model", "bottom_up_model"}  # a change of one alone gets a partner (complete_config)


def profile_values(name: str) -> dict[str, Any]:
    """The settings a profile sets (config/<name>.yaml, core.profiles), checked; ConfigError naming the valid
    profiles for an unknown name. The file's other keys (none of ours) are left out."""
    from pose_ros.core.profiles import load_parameters_file, profile_path

    values = {}
    for key, value in load_parameters_file(profile_path(name)).items():
        if key in SETTINGS and key != "profile":
            values[key] = SETTINGS[key].check(value)
    return values


def with_profile(params: list[Parameter], current_values: dict[str, Any]) -> tuple[list[Parameter], list[str]]:
    """The pre-set step of a ``profile`` change: the parameters become everything the new profile sets, plus the
    defaults of what the previous profile set and the new one does not, under the values given in the same
    change (``profile`` with ``person_threshold`` sets that threshold). Read-only settings are left as they are
    (noted: they need a restart). Never raises: an unknown profile is left for the set-parameters check."""
    given = {p.name: p for p in params}
    new = given.get("profile")
    if new is None or new.type_ != Parameter.Type.STRING or not new.value:
        return params, []  # (the same profile again applies it again: its values back after changes by hand)
    try:
        wanted = profile_values(new.value)
    except ConfigError:
        return params, []
    previous = {}
    if current_values.get("profile") and current_values["profile"] != new.value:
        try:
            previous = profile_values(current_values["profile"])
        except ConfigError:
            pass
    values = {**{name: SETTINGS[name].default for name in previous}, **wanted}
    notes, added = [], []
    for name, value in values.items():
        if name in given or value == current_values.get(name):
            continue
        if SETTINGS[name].change == "read_only":
            notes.append(f"{name} stays {to_ros(current_values.get(name))!r} (read-only: profile {new.value!r} "
                         f"sets {to_ros(value)!r} at start only)")
            continue
        added.append(as_declared_type(Parameter(name, value=to_ros(value))))
    notes.insert(0, f"profile {new.value!r}: " + (", ".join(f"{p.name}={p.value!r}" for p in added) or "no change"))
    return params + added, notes


def configs(values: dict[str, Any]):
    """(PoseConfig, StreamConfig, NodeConfig) from flat parameter values; raises ConfigError."""
    from pose_ros.core.settings import build

    pose, stream, node = split(values)
    return build(PoseConfig, pose), build(StreamConfig, stream), build(NodeConfig, node)


def with_partners(params: list[Parameter], current_values: dict[str, Any]) -> tuple[list[Parameter], list[str]]:
    """The pre-set step of a parameter change: ints for float settings become floats; a ``profile`` becomes what
    it sets (with_profile); ``mode`` or ``model`` set alone gets a consistent partner added (the model's own mode,
    or the mode's default model), with notes to log. Never raises: what cannot be completed is left for the
    set-parameters check to reject with its reason."""
    params = [as_declared_type(p) for p in params]
    params, profile_notes = with_profile(params, current_values)
    if profile_notes:
        return params, profile_notes
    names = {p.name for p in params}
    if not names & PAIRED or {"mode", "model"} <= names:
        return params, []
    try:
        config = configs({**current_values, **{p.name: p.value for p in params}})[0]
        _, changed, notes = partners(config, names)
    except Exception:  # noqa: BLE001 - reported by the set-parameters check
        return params, []
    added = [p for p in changed if p.name not in names]
    return params + added, notes if added else []
