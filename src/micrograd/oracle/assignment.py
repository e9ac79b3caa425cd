"""The assignment file: one TOML file saying what a course grades, read by check, grade and pytest.

A teacher writes it once (``micrograd-ref assignment init`` starts one); the
student's self-check and the teacher's grading then run the same cases and
score them the same way. Every key is optional: a missing one takes the
default that :meth:`Assignment.default` has.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from micrograd.oracle.checks import CATALOGUE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the tests-3.10 session covers it
    import tomli as tomllib

__all__ = [
    "KEYS",
    "NN_CHECK",
    "VISIBILITIES",
    "Assignment",
    "AssignmentError",
    "default_text",
    "load",
]

VISIBILITIES: Final = ("visible", "hidden", "after_due_date", "after_published")
"""Gradescope's visibilities for a test: when a student sees it."""

NN_CHECK: Final = "nn_mlp"
"""The check of the student's network, counted when the file has ``[nn]``."""

_EDGE: Final = tuple(c.name for c in CATALOGUE if c.kind == "edge")
_MAIN: Final = tuple(c.name for c in CATALOGUE if c.kind != "edge")


class AssignmentError(ValueError):
    """The assignment file is not valid; the message names the file and the key."""


@dataclass(frozen=True)
class Assignment:
    """What counts and how it is run; see the module docstring and ``assignment init``."""

    name: str = "micrograd engine"
    """The assignment's title, for reports."""
    points: dict[str, float] = field(default_factory=dict)
    """Points of every check that counts, by check name (``nn_mlp`` included when graded)."""
    seed: int = 0
    """Seeds the cases: the same seed, the same cases."""
    max_examples: int = 100
    """Cases per check after the first ones."""
    timeout: float = 5.0
    """Seconds the engine may take per check."""
    submission_timeout: float = 300.0
    """Seconds a whole submission may take in ``grade``; past that it scores 0."""
    edge: bool = False
    """Whether the edge group counts (its points, and the verdict, as ``--strict``)."""
    visibility: str = "visible"
    """When students see a test's result on Gradescope, unless ``check_visibility`` says."""
    check_visibility: dict[str, str] = field(default_factory=dict)
    """Per check: its own visibility (``after_due_date`` for tests shown after the deadline)."""
    nn_file: str = ""
    """The network's file in each submission, e.g. ``nn.py``; "" when no network is graded."""
    backward: str = "backward"
    """The method (or module function) that backpropagates, as ``--backward``."""
    leaf_kwargs: tuple[tuple[str, Any], ...] = ()
    """Keywords every leaf is made with, as ``--leaf-kwargs``."""
    adapter: str = ""
    """For ports in other languages: the adapter command, run in each submission's folder
    (as ``check --cmd``); "" for Python engines."""
    build: str = ""
    """For ports: a shell command run first in each submission's folder by ``grade`` (to compile
    it); "" for none."""
    source: str = ""
    """The file it was read from ("" for the default)."""

    @classmethod
    def default(cls) -> Assignment:
        """Every check of the catalogue at one point, the edge group reported but not counted."""
        return cls(points=dict.fromkeys((*_MAIN, *_EDGE), 1.0))

    def counted(self) -> dict[str, float]:
        """The checks that count, with their points (the edge group only when ``edge``)."""
        return {
            name: points
            for name, points in self.points.items()
            if points > 0 and (self.edge or name not in _EDGE)
        }

    @property
    def max_score(self) -> float:
        """The fixed denominator: every counted check's points, whatever the engine has."""
        return sum(self.counted().values())

    def visibility_of(self, check: str) -> str:
        """When students see ``check``'s result."""
        return self.check_visibility.get(check, self.visibility)


def load(path: Path) -> Assignment:
    """The assignment in the TOML file at ``path``.

    Raises:
        AssignmentError: If the file cannot be read, is not TOML, or has an
            unknown key, an unknown check or a value of the wrong type.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AssignmentError(f"{path}: cannot read it: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise AssignmentError(f"{path}: not valid TOML: {exc}") from exc
    return _parse(data, str(path))


KEYS: Final = {
    "name": str,
    "seed": int,
    "max_examples": int,
    "timeout": float,
    "submission_timeout": float,
    "edge": bool,
    "visibility": str,
    "backward": str,
    "points": dict,
    "visibility_of": dict,
    "nn": dict,
    "leaf_kwargs": dict,
    "adapter": str,
    "build": str,
}
"""Every key an assignment file may have, with the TOML type of its value."""


def _value(where: str, key: str, value: Any, kind: type) -> Any:  # noqa: ANN401 - TOML values
    """``value`` if it is of ``kind`` (an int is a float too; a bool is no number), else an error.

    Numbers other than the seed must be more than 0.
    """
    number = isinstance(value, int | float) and not isinstance(value, bool)
    positive = not number or value > 0
    if kind is float and number:
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise AssignmentError(
            f"{where}: {key} must be {kind.__name__}, got {type(value).__name__} {value!r}"
        )
    if not positive and key != "seed":
        raise AssignmentError(f"{where}: {key} must be more than 0, got {value!r}")
    return value


def _parse(data: dict[str, Any], where: str) -> Assignment:
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise AssignmentError(
            f"{where}: unknown key {', '.join(unknown)}; the keys are {', '.join(KEYS)}"
        )
    values = {key: _value(where, key, data[key], kind) for key, kind in KEYS.items() if key in data}
    known = {c.name for c in CATALOGUE}
    points = dict(Assignment.default().points)
    if "points" in values:
        points = {}
        for check, value in values.pop("points").items():
            if check not in known:
                raise AssignmentError(
                    f"{where}: points: no check named {check!r}; the checks are "
                    f"{', '.join(sorted(known))}"
                )
            points[check] = _points(where, f"points.{check}", value)
    nn = values.pop("nn", {})
    nn_unknown = sorted(set(nn) - {"file", "points"})
    if nn_unknown:
        raise AssignmentError(f"{where}: nn: unknown key {', '.join(nn_unknown)} (file, points)")
    nn_file = _value(where, "nn.file", nn.get("file", ""), str)
    if nn_file:
        points[NN_CHECK] = _points(where, "nn.points", nn.get("points", 1))
    visibility = values.pop("visibility", "visible")
    check_visibility = {
        check: str(value) for check, value in values.pop("visibility_of", {}).items()
    }
    for key, value in [("visibility", visibility), *check_visibility.items()]:
        if value not in VISIBILITIES:
            raise AssignmentError(
                f"{where}: {key}: {value!r} is not one of {', '.join(VISIBILITIES)}"
            )
    for check in check_visibility:
        if check not in known | {NN_CHECK}:
            raise AssignmentError(f"{where}: visibility_of: no check named {check!r}")
    leaf_kwargs = tuple(values.pop("leaf_kwargs", {}).items())
    return Assignment(
        points=points,
        visibility=visibility,
        check_visibility=check_visibility,
        nn_file=nn_file,
        leaf_kwargs=leaf_kwargs,
        source=where,
        **values,
    )


def _points(where: str, key: str, value: Any) -> float:  # noqa: ANN401 - a TOML value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise AssignmentError(f"{where}: {key} must be a number of points >= 0, got {value!r}")
    return float(value)


def default_text() -> str:
    """The commented assignment file ``micrograd-ref assignment init`` writes: the defaults."""
    docs = {c.name: c.op for c in CATALOGUE}
    lines = [
        "# A micrograd-ref assignment: what counts and how it is graded.",
        "# check, grade and the pytest plugin take it with --assignment FILE, so a",
        "# student's self-check runs the same cases as the teacher's grading.",
        "# Every key may be left out; the values below are the defaults.",
        "",
        'name = "micrograd engine"',
        "seed = 0                   # the same seed draws the same cases",
        "max_examples = 100         # cases per check, after the first ones",
        "timeout = 5.0              # seconds the engine may take per check",
        "submission_timeout = 300.0 # seconds a whole submission may take in `grade`",
        "edge = false               # true: the edge group counts (points and verdict)",
        'visibility = "visible"     # Gradescope: visible, hidden, after_due_date, after_published',
        'backward = "backward"      # the method (or module function) that backpropagates',
        "",
        "# Points per check. Every check listed is worth its points whether the",
        "# engine has the op or not (a fixed denominator); a check left out, or at 0",
        "# points, does not count. The edge group counts only with edge = true.",
        "[points]",
    ]
    for name in (*_MAIN, "", *_EDGE):
        if not name:
            lines.append("# the edge group")
            continue
        lines.append(f"{name} = 1{' ' * (16 - len(name))}# {docs[name]}")
    lines += [
        "",
        "# Checks students see at another time than `visibility` says, e.g.",
        '# reused_node = "after_due_date".',
        "[visibility_of]",
        "",
        "# Grade each submission's MLP too: its file in the submission, and its points.",
        "# [nn]",
        '# file = "nn.py"',
        "# points = 4",
        "",
        "# Keywords every leaf is made with, e.g. requires_grad = true.",
        "[leaf_kwargs]",
        "",
    ]
    port = [
        "# A port in another language (docs/ports.md): the command running its adapter in",
        "# each submission's folder (check --cmd), and a shell command grade runs there first.",
        '# adapter = "./adapter"',
        '# build = "cc -O2 -o adapter adapter.c engine.c -lm"',
        "",
    ]
    at = lines.index("# Points per check. Every check listed is worth its points whether the")
    lines[at:at] = port
    return "\n".join(lines)
