"""From a :class:`PoseConfig` to the loaded models, one way for the node, the CLI and the tools:

    configure(values, given)  = complete_config (a partner for a lone mode/model) -> resolve_config (a Plan: the
                                checked manifest entries, nothing loaded) -> build_models(config, plan)

One :class:`Catalogue` per configure reads the manifest once and hashes each model file once; the plan's entries are
what the families are built from, and a top-down family receives its detector already built (it never looks a
model up itself)."""
from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.families import FAMILIES, Family, PoseModel
from pose_ros.core.families.base import detector_config, warm_up
from pose_ros.core.families.loading import Loader
from pose_ros.core.models import Catalogue, ModelError, ModelSpec
from pose_ros.core.settings import build, settings_of
from pose_ros.core.skeletons import Skeleton, get_skeleton, keypoint_mapping

# The model (and detector) of each mode's default profile (config/yolo11n_pose.yaml, config/blazepose_full_yolo.yaml):
# the partner chosen when only `mode` changes to a mode the current model does not serve.
DEFAULT_MODELS = {"bottom_up": ("yolo11n_pose", None), "top_down": ("blazepose_landmark_full", "yolo11n_pose")}


@dataclass(frozen=True)
class Resolved:
    """The checked models of a single-mode configuration (nothing loaded yet)."""

    model: ModelSpec
    family: Family
    detector: ModelSpec | None
    skeleton: Skeleton


def auto_parts(config: PoseConfig) -> dict[str, PoseConfig]:
    """The single-mode configurations a configuration runs: itself, or mode auto's top-down and bottom-up ones."""
    if config.mode != "auto":
        return {config.mode: config}
    return {"top_down": replace(config, mode="top_down"),
            "bottom_up": replace(config, mode="bottom_up", model=config.bottom_up_model)}


@dataclass(frozen=True)
class Plan(Mapping):
    """What :func:`build_models` builds: a checked configuration, its :class:`Resolved` models by mode (a mapping,
    as ``resolve_config`` returned before) and the catalogue that checked them (its files hashed already)."""

    config: PoseConfig
    by_mode: dict[str, Resolved]
    catalogue: Catalogue = field(compare=False)

    def __getitem__(self, mode: str) -> Resolved:
        return self.by_mode[mode]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_mode)

    def __len__(self) -> int:
        return len(self.by_mode)


def catalogue_of(config: PoseConfig) -> Catalogue:
    """A fresh catalogue of the configuration's models directory (one per configure)."""
    return Catalogue(config.model_dir or None)


def resolve_config(config: PoseConfig, catalogue: Catalogue | None = None) -> Plan:
    """Check the configuration against the installed models without loading any: the models exist and match
    their sha256, each model serves its mode, the detector suits the model, the skeleton can be produced (mode
    auto: one skeleton for both). Raises ConfigError or ModelError naming the setting to fix."""
    catalogue = catalogue or catalogue_of(config)
    resolved = {mode: _resolve_single(part, catalogue, "bottom_up_model" if config.mode == "auto" and
                                      mode == "bottom_up" else "model") for mode, part in auto_parts(config).items()}
    if len({r.skeleton.name for r in resolved.values()}) > 1:
        raise ConfigError("mode auto publishes one skeleton for both modes: use skeleton coco17")
    return Plan(config, resolved, catalogue)


def _family(spec: ModelSpec, setting: str) -> Family:
    if spec.family not in FAMILIES:
        raise ConfigError(f"{setting} {spec.name!r} has family {spec.family!r}, which pose_ros does not run; "
                          f"families: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[spec.family]


def _resolve_single(config: PoseConfig, catalogue: Catalogue, setting: str) -> Resolved:
    try:
        spec = catalogue.spec(config.model)
    except ModelError as err:
        raise ModelError(f"{setting}: {err}") from None
    family = _family(spec, setting)
    if family.mode != config.mode:
        what = f"a {family.mode} model" if family.mode else "a person detector, not a keypoint model"
        raise ConfigError(f"{setting} {spec.name!r} is {what} but mode is {config.mode!r}; set mode with it, or "
                          f"choose a {config.mode} model")
    detector = _check_detector(config, catalogue, family)
    try:
        keypoint_mapping(spec.skeleton, config.skeleton)
        skeleton = get_skeleton(config.skeleton)
    except KeyError as err:
        raise ConfigError(f"skeleton {config.skeleton!r}: {err.args[0]}") from None
    return Resolved(spec, family, detector, skeleton)


def _check_detector(config: PoseConfig, catalogue: Catalogue, family: Family) -> ModelSpec | None:
    """The detector's entry when the mode uses one (None in bottom_up mode)."""
    if family.mode != "top_down":
        return None
    try:
        spec = catalogue.spec(config.detector)
    except ModelError as err:
        raise ModelError(f"detector: {err}") from None
    if spec.family not in family.detectors:
        raise ConfigError(f"detector {spec.name!r} ({spec.family}) cannot feed {config.model!r}; it needs a "
                          f"detector of family: {', '.join(family.detectors)}")
    return spec


MODEL_SETTINGS = ("model", "detector", "bottom_up_model")


def _profile_hint(name: str) -> str:
    """For a model name that is really a profile's (the names of model:= at launch): how to switch to it."""
    from pose_ros.core.profiles import available_profiles

    profiles = available_profiles()
    if name in profiles:
        return (f". {name!r} is a profile (config/{name}.yaml), which sets the mode, the models and their "
                f"thresholds together: set the profile parameter (or --profile) to it instead. Profiles: "
                f"{', '.join(profiles)}")
    return f". Profiles (set with the profile parameter): {', '.join(profiles)}" if profiles else ""


def check_model_names(config: PoseConfig, changed: Collection[str], catalogue: Catalogue | None = None) -> None:
    """The manifest has the models named by the settings in ``changed``, used by the mode or not: a typo is
    reported where it is made (``detector`` set in bottom_up mode, say), naming the setting. Reads the manifest
    only (:func:`resolve_config` checks the files the mode uses)."""
    catalogue = catalogue or catalogue_of(config)
    for setting in MODEL_SETTINGS:
        if setting in changed:
            try:
                catalogue.entry(getattr(config, setting))
            except ModelError as err:
                raise ModelError(f"{setting}: {err}{_profile_hint(getattr(config, setting))}") from None


def complete_config(config: PoseConfig, changed: Collection[str],
                    catalogue: Catalogue | None = None) -> tuple[PoseConfig, list[str]]:
    """When only ``mode`` or only ``model`` (or ``bottom_up_model``) was changed, choose a consistent partner
    instead of rejecting the pair: the model's own mode, or the default profile's model for the new mode. Returns
    the completed configuration and one note per partner chosen (for the log). The result is not yet checked:
    call :func:`resolve_config`. Unknown model names are left for it to report."""
    changed = set(changed)
    catalogue = catalogue or catalogue_of(config)
    notes: list[str] = []

    def family_of(name: str) -> Family | None:
        try:
            spec = catalogue.entry(name)
        except ModelError:
            return None
        return FAMILIES.get(spec.family)

    model_family = family_of(config.model)
    updates: dict[str, str] = {}
    if "model" in changed and "mode" not in changed and model_family is not None and model_family.mode:
        wanted = model_family.mode
        if config.mode != wanted and not (config.mode == "auto" and wanted == "top_down"):
            updates["mode"] = wanted
            notes.append(f"model {config.model!r} is a {wanted} model: mode set to {wanted!r}")
    elif "mode" in changed and "model" not in changed and config.mode != (model_family.mode if model_family else ""):
        target = "top_down" if config.mode == "auto" else config.mode
        if model_family is None or model_family.mode != target:
            if config.mode == "auto" and model_family is not None and model_family.mode == "bottom_up" \
                    and "bottom_up_model" not in changed:
                updates["bottom_up_model"] = config.model  # the model that was running serves the crowds
            updates["model"], detector = DEFAULT_MODELS[target]
            if detector is not None and "detector" not in changed:
                updates["detector"] = detector  # the default profile's pair, as config/blazepose_full_yolo.yaml
            notes.append(f"mode {config.mode!r} needs a {target} model: " + ", ".join(
                f"{k} set to {v!r}" for k, v in updates.items()))
    completed = replace(config, **updates)
    if completed.mode != "bottom_up" and "detector" not in changed:
        family = family_of(completed.model)
        detector = family_of(completed.detector)
        if family is not None and family.detectors and (detector is None or detector.name not in family.detectors):
            default = DEFAULT_MODELS["top_down"][1]
            completed = replace(completed, detector=default)
            notes.append(f"detector set to {default!r}, which can feed {completed.model!r}")
    return completed, notes


@dataclass(frozen=True)
class PoseModels:
    """The loaded estimators of one configuration, by the mode each serves (mode auto: both). Shared by every
    camera's stream; thresholds change with :meth:`with_config` without reloading."""

    config: PoseConfig
    by_mode: dict[str, PoseModel]

    @property
    def skeleton(self) -> Skeleton:
        return next(iter(self.by_mode.values())).skeleton

    @property
    def useful_long_side(self) -> int:
        """The image long side every loaded model is content with (0 = full resolution), see PoseModel; with a
        region of interest, the frame's long side that leaves the region that many pixels."""
        sides = [model.useful_long_side for model in self.by_mode.values()]
        if 0 in sides:
            return 0
        region = self.config.region
        return math.ceil(max(sides) / min(region.x_max - region.x_min, region.y_max - region.y_min))

    def with_config(self, config: PoseConfig) -> "PoseModels":
        return PoseModels(config, {mode: model.with_config(part) for (mode, model), part
                                   in zip(self.by_mode.items(), auto_parts(config).values())})

    def status(self) -> dict[str, str]:
        """Per mode: which models run where (a GPU fallback says so), for logs and /diagnostics."""
        out = {}
        for mode, model in self.by_mode.items():
            prefix = f"{mode} " if len(self.by_mode) > 1 else ""
            out.update({prefix + key: value for key, value in model.status().items()})
        return out

    def describe(self) -> str:
        """One line for the log: models, mode, skeleton, where they run."""
        parts = []
        for mode, model in self.by_mode.items():
            detector = getattr(model, "detector", None)
            parts.append(f"{model.name}{f' after {detector.name}' if detector is not None else ''} ({mode})")
        devices = sorted({v for k, v in self.status().items() if k.endswith("device")})
        return f"{' / '.join(parts)}, {self.skeleton.name}, mode {self.config.mode}, on {'; '.join(devices)}"

    def warm_up(self) -> list[str]:
        """Every model at its smallest and largest batch, then once on a blank frame (families.base.warm_up), so
        no real frame pays for engine builds or lazy allocations. Returns the lines logged."""
        return warm_up(self.by_mode.values(), np.zeros((480, 640, 3), np.uint8))


def build_models(config: PoseConfig, plan: Plan | None = None) -> PoseModels:
    """Load every model the configuration runs, from its plan (checked now when not given). A top-down family
    gets its detector built first and handed over; one session per model file (the Loader)."""
    if plan is None or plan.config != config:
        plan = resolve_config(config)
    loader = Loader(config)
    by_mode = {}
    for (mode, resolved), part in zip(plan.items(), auto_parts(config).values()):
        detector = None
        if resolved.detector is not None:
            detector = FAMILIES[resolved.detector.family].make(resolved.detector, loader, detector_config(part))
        by_mode[mode] = resolved.family.make(resolved.model, loader, part, detector)
    if config.bottom_up_tiles > 1 and "bottom_up" in by_mode:
        from pose_ros.core.families.tiling import TiledModel

        by_mode["bottom_up"] = TiledModel(by_mode["bottom_up"])
    return PoseModels(config, by_mode)


@dataclass(frozen=True)
class Configured:
    """The result of :func:`configure`: the loaded models (``models.config`` is the completed configuration)
    and one note per partner chosen for a lone mode/model (to log)."""

    models: PoseModels
    notes: list[str]

    @property
    def config(self) -> PoseConfig:
        return self.models.config


def plan_config(values: PoseConfig | Mapping[str, Any], given: Collection[str] | None = None) -> tuple[Plan, list[str]]:
    """The checked plan of what ``values`` asks for, a lone ``mode`` or ``model`` among ``given`` (the names
    the user set; default: the keys of ``values``) completed with its partner; and the notes saying so. Loads
    nothing; hashes each model file once. ``values``: a PoseConfig, or settings by flat name (others ignored)."""
    if isinstance(values, PoseConfig):
        config = values
        given = set(given or ())
    else:
        names = {s.name for s in settings_of(PoseConfig)}
        config = build(PoseConfig, {k: v for k, v in values.items() if k in names})
        given = set(values if given is None else given)
    catalogue = catalogue_of(config)
    completed, notes = complete_config(config, given, catalogue)
    return resolve_config(completed, catalogue), notes


def configure(values: PoseConfig | Mapping[str, Any], given: Collection[str] | None = None) -> Configured:
    """The one configure path of the node, ``python -m pose_ros infer`` and the bag tools: complete a lone
    mode/model (:func:`complete_config`), check (:func:`resolve_config`), build (:func:`build_models`). Raises
    ConfigError or ModelError naming the setting to fix."""
    plan, notes = plan_config(values, given)
    return Configured(build_models(plan.config, plan), notes)


def build_estimator(config: PoseConfig) -> PoseModel:
    """The estimator of a single-mode configuration (for mode auto, use :func:`build_models` and a stream)."""
    if config.mode == "auto":
        raise ConfigError("mode auto switches per stream: use build_models() with a PoseStream")
    return build_models(config).by_mode[config.mode]

