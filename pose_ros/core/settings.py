"""One schema per setting: description, range or choices, and when a change takes effect, written once on the
config dataclass field itself. Node parameters (pose_ros.node.parameters), CLI flags (pose_ros.cli) and
validation all come from here, so a limit or a default is never written twice.

    @dataclass(frozen=True)
    class TrackerConfig:
        max_missed: int = setting(15, "frames a track survives unseen", low=0, high=10_000, change="read_only")
        def __post_init__(self): check_settings(self)

A config may hold another as a group (``tracker: TrackerConfig = group(TrackerConfig, "track_")``): its
settings are then named with the prefix (``track_max_missed``) wherever settings are flat (parameters, flags).
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHANGES = ("live", "reload", "read_only")
# What each kind of change means, for descriptions and documentation.
CHANGE_MEANING = {"live": "takes effect on the next frame", "reload": "reloads the model cleanly",
                  "read_only": "set it at start"}


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the setting and the valid values."""


@dataclass(frozen=True)
class Setting:
    """One setting: its flat name, value type, default, meaning, limits and change kind."""

    name: str
    type: type  # bool, int, float, str, or tuple (a list of strings)
    default: Any
    description: str
    change: str
    low: float | None = None  # inclusive bounds, None = unbounded
    high: float | None = None
    above: float | None = None  # exclusive lower bound (e.g. a frequency > 0)
    choices: tuple[str, ...] | None = None
    path: tuple[str, ...] = ()  # attribute path from the top config (group names, then the field)

    def check(self, value: Any) -> Any:
        """``value`` as this setting's type, or ConfigError naming the setting. An int is accepted for a float
        (as the number it is); a single string for a list of strings; nothing else is converted."""
        value = self._coerce(value)
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{self.name} {value!r} is not valid; valid: {', '.join(self.choices)}")
        if self.type in (int, float):
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high) or \
                    (self.above is not None and not value > self.above) or value != value:
                raise ConfigError(self._out_of_range(value))
        return value

    def _out_of_range(self, value: float) -> str:
        if self.above is not None or self.low is None or self.high is None:
            return f"{self.name} = {value} must be {self.range_text()}"
        side = f">= {self.low:g}" if value < self.low else f"<= {self.high:g}"
        return f"{self.name} = {value} is outside {self.range_text()}: it must be {side}"

    def _coerce(self, value: Any) -> Any:
        wrong = ConfigError(f"{self.name} = {value!r} is a {type(value).__name__}, expected {self.type_text()}")
        if self.type is bool:
            if not isinstance(value, bool):
                raise wrong
            return value
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise wrong
            return int(value)
        if self.type is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise wrong
            return float(value)
        if self.type is str:
            if not isinstance(value, str):
                raise wrong
            return value
        if isinstance(value, str):  # a list of strings given as one string
            return (value,)
        if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
            raise wrong
        return tuple(value)

    def type_text(self) -> str:
        return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
            self.type, "a list of strings")

    def range_text(self) -> str:
        """E.g. "[0, 1]", "> 0", ">= 1"; "" when unbounded."""
        if self.above is not None:
            return f"> {self.above:g}" + (f" and <= {self.high:g}" if self.high is not None else "")
        if self.low is not None and self.high is not None:
            return f"[{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f">= {self.low:g}"
        if self.high is not None:
            return f"<= {self.high:g}"
        return ""

    def help(self) -> str:
        """One line for parameter descriptions and --help: meaning, limits, change kind."""
        limits = f"; valid: {', '.join(self.choices)}" if self.choices else (
            f"; {self.range_text()}" if self.range_text() else "")
        return f"{self.description}{limits} ({self.change.replace('_', '-')})"


def setting(default: Any, description: str, *, change: str = "reload", low: float | None = None,
            high: float | None = None, above: float | None = None, choices: Sequence[str] | None = None):
    """A dataclass field carrying its schema. Lists are given as tuples (frozen configs)."""
    if change not in CHANGES:
        raise ValueError(f"change {change!r} not one of {CHANGES}")
    meta = {"setting": dict(description=description, change=change, low=low, high=high, above=above,
                            choices=tuple(choices) if choices is not None else None)}
    return dataclasses.field(default=default, metadata=meta)


def group(cls: type, prefix: str):
    """A nested config whose settings are named ``prefix + field`` when flattened."""
    return dataclasses.field(default_factory=cls, metadata={"group": prefix})


@functools.cache
def settings_of(cls: type, prefix: str = "", path: tuple[str, ...] = ()) -> tuple[Setting, ...]:
    """Every setting of ``cls`` and its groups, flattened, in field order."""
    hints = typing.get_type_hints(cls)
    out: list[Setting] = []
    for f in dataclasses.fields(cls):
        if "group" in f.metadata:
            out += settings_of(hints[f.name], prefix + f.metadata["group"], path + (f.name,))
        elif "setting" in f.metadata:
            kind = hints[f.name]
            kind = tuple if typing.get_origin(kind) is tuple else kind
            out.append(Setting(name=prefix + f.name, type=kind, default=f.default, path=path + (f.name,),
                               **f.metadata["setting"]))
    return tuple(out)


def check_settings(config: Any) -> None:
    """Validate and normalise (int -> float, list -> tuple) every setting field of one config, in place; for
    ``__post_init__`` of frozen dataclasses. Group members validate themselves when built."""
    for s in settings_of(type(config)):
        if len(s.path) == 1:
            object.__setattr__(config, s.path[0], s.check(getattr(config, s.path[0])))


def flatten(config: Any) -> dict[str, Any]:
    """{flat name: value} of every setting of ``config``, groups included."""
    def value(s: Setting) -> Any:
        obj = config
        for attr in s.path:
            obj = getattr(obj, attr)
        return obj
    return {s.name: value(s) for s in settings_of(type(config))}


def build(cls: type, values: Mapping[str, Any], base: Any = None) -> Any:
    """A ``cls`` from flat values (names as :func:`settings_of` gives them); missing ones from ``base`` (or
    the defaults). Unknown names are a ConfigError with the closest valid names."""
    known = {s.name: s for s in settings_of(cls)}
    unknown = [name for name in values if name not in known]
    if unknown:
        raise ConfigError("; ".join(unknown_setting_message(name, known) for name in unknown))
    flat = {**(flatten(base) if base is not None else {}), **values}

    def make(kind: type, path: tuple[str, ...]) -> Any:
        hints = typing.get_type_hints(kind)
        kwargs = {}
        for f in dataclasses.fields(kind):
            if "group" in f.metadata:
                kwargs[f.name] = make(hints[f.name], path + (f.name,))
            elif "setting" in f.metadata:
                name = next(s.name for s in known.values() if s.path == path + (f.name,))
                if name in flat:
                    kwargs[f.name] = known[name].check(flat[name])
        return kind(**kwargs)

    return make(cls, ())


def unknown_setting_message(name: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(valid), n=3, cutoff=0.6)
    return f"unknown setting {name!r}" + (f"; did you mean {' or '.join(map(repr, close))}?" if close else "")
