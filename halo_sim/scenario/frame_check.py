"""Frame steps checked against the frame catalogue before anything runs.

``expect_frame``/``expect_no_frame`` (and each pattern of ``expect_frames``) must
name a server frame the backend can send and ``match`` only fields it has; ``send_frame`` must send a client frame
the backend parses, with its fields, and wait for (``reply``) a server frame.
A typo there would otherwise surface as a timeout at run time, after the
whole setup.  Templated values (``{{ … }}``) are judged at run time.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import BaseModel

from halo_sim.contract.frames import CLIENT_FRAMES, SERVER_FRAMES
from halo_sim.scenario.matchers import is_matcher
from halo_sim.scenario.schema import Step
from halo_sim.scenario.template import TEMPLATE

Path_ = tuple[str | int, ...]
FrameProblem = tuple[Path_, str]  # (path of the offending value from the step's mapping, message)
ANY_SERVER_FIELD = {name for model in SERVER_FRAMES.values() for name in model.model_fields}


def frame_problems(step: Step) -> list[FrameProblem]:
    """Every frame-catalogue mistake of ``step`` (and of a ``parallel`` step's branches)."""
    if step.action == "parallel":
        return _branch_problems(step)
    if step.what in ("expect_frame", "expect_no_frame"):
        at = (step.action,)
        model, problems = _lookup(step.args.get("type"), SERVER_FRAMES, "server", (*at, "type"))
        return problems + _match_problems(model, step.args.get("match"), (*at, "match")) + _expect_frame(step, model)
    if step.what == "expect_frames":
        return _pattern_problems(step)
    if step.what == "send_frame":
        return _send_problems(step)
    return []


def _pattern_problems(step: Step) -> list[FrameProblem]:
    """``expect_frames``: each pattern of ``frames`` names a server frame and only fields it has."""
    raw = step.args.get("frames")
    problems: list[FrameProblem] = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict):  # reported by the argument check
            continue
        at = (step.action, "frames", index)
        model, wrong = _lookup(item.get("type"), SERVER_FRAMES, "server", (*at, "type"))
        problems += wrong + _match_problems(model, item.get("match"), (*at, "match"), f"frames.{index}.match")
    return problems


def _send_problems(step: Step) -> list[FrameProblem]:
    at = (step.action,)
    frame = step.args.get("frame")
    problems: list[FrameProblem] = []
    if isinstance(frame, dict):
        model, problems = _lookup(frame.get("type"), CLIENT_FRAMES, "client", (*at, "frame", "type"))
        if model is not None:
            problems += _fields(model, frame, (*at, "frame"), "frame")
    reply, wrong = _lookup(step.args.get("reply"), SERVER_FRAMES, "server", (*at, "reply"))
    return problems + wrong + _expect_frame(step, reply)


def _branch_problems(step: Step) -> list[FrameProblem]:
    raw = step.args.get("steps")
    problems: list[FrameProblem] = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            branch = Step.model_validate(item)
        except ValueError:  # reported by the parallel step's argument check
            continue
        problems += [
            ((step.action, "steps", index, *path), f"branch {index} ({branch.action}): {msg}")
            for path, msg in frame_problems(branch)
        ]
    return problems


def _lookup(
    kind: Any, registry: Mapping[str, type[BaseModel]], side: str, at: Path_
) -> tuple[type[BaseModel] | None, list[FrameProblem]]:
    """The model of frame type ``kind`` (None when not given or templated), or the problem of an unknown one."""
    if not isinstance(kind, str) or TEMPLATE.search(kind):
        return None, []
    if kind in registry:
        return registry[kind], []
    return None, [(at, f"{_dotted(at[1:])}: unknown {side} frame type {kind!r}{_hint(kind, registry)}")]


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def _hint(name: str, options: Any) -> str:
    close = difflib.get_close_matches(name, list(options), n=3)
    if close:
        return f"; did you mean {' or '.join(repr(c) for c in close)}?"
    return f" (known: {', '.join(sorted(options))})"


def _match_problems(model: type[BaseModel] | None, match: Any, at: Path_, where: str = "match") -> list[FrameProblem]:
    if not isinstance(match, dict) or is_matcher(match):
        return []
    if model is not None:
        return _fields(model, match, at, where)
    unknown = [key for key in match if key not in ANY_SERVER_FIELD]
    return [
        ((*at, key), f"{where}.{key}: no server frame has a field {key!r}{_hint(key, ANY_SERVER_FIELD)}")
        for key in unknown
    ]


def _expect_frame(step: Step, model: type[BaseModel] | None) -> list[FrameProblem]:
    """``expect: {frame: …}`` looks at the frame the step waited for: its keys must be that frame's."""
    frame = (step.expect or {}).get("frame")
    if model is None or not isinstance(frame, dict):
        return []
    return _fields(model, frame, ("expect", "frame"), "expect.frame")


def _fields(model: type[BaseModel], data: dict[str, Any], at: Path_, where: str) -> list[FrameProblem]:
    """Keys of ``data`` that ``model`` does not declare, nested objects included (matchers are not fields)."""
    if is_matcher(data):
        return []
    problems: list[FrameProblem] = []
    for key, value in data.items():
        info = model.model_fields.get(str(key))
        if info is None:
            owner = _title(model)
            problems.append(
                ((*at, key), f"{where}.{key}: {owner} has no field {key!r}{_hint(str(key), model.model_fields)}")
            )
            continue
        nested = _model_in(info.annotation)
        if nested is not None and isinstance(value, dict) and not is_matcher(value):
            problems += _fields(nested, value, (*at, key), f"{where}.{key}")
    return problems


def _title(model: type[BaseModel]) -> str:
    kind = model.model_fields.get("type")
    return f"frame {kind.default!r}" if kind is not None else model.__name__


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model of a field typed ``Model`` or ``Model | None``."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
