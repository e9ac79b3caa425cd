"""Test vectors: the catalogue's programs with the reference's numbers, for engines in any language.

``micrograd-ref vectors -o vectors.json`` writes, for each check of the
catalogue, programs in the oracle's own form (see :mod:`micrograd.oracle.worker`)
with the expected ``data`` of every register and ``grad`` of every leaf, and
the tolerance to compare with. The file's layout is the JSON Schema
``vectors.schema.json`` beside this module; a breaking change to it bumps
:data:`SCHEMA_VERSION`. The same version of micrograd-ref and the same seed
write the same bytes.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any, Final

import micrograd
from micrograd.oracle.checks import CATALOGUE, first_cases
from micrograd.oracle.compare import Tolerance, expected, witnesses_agree
from micrograd.oracle.wire import OPS, form, forms, wire

__all__ = ["OPS", "SCHEMA_VERSION", "form", "forms", "schema", "to_json", "vectors"]

Program = dict[str, Any]

SCHEMA_VERSION: Final = 1
"""The version of the vectors' layout (and of the stdio protocol's program form)."""

DEFAULT_EXAMPLES: Final = 20
"""Drawn cases per check in the default file, besides each check's first cases."""


def _number(x: float) -> float | str:
    """``x``, or ``"nan"``, ``"inf"``, ``"-inf"``: JSON has no such numbers."""
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _case(program: Program, want: dict[str, Any]) -> dict[str, Any]:
    case: dict[str, Any] = {
        "program": wire(program),
        "needs": forms(program),
        "data": [_number(x) for x in want["data"]],
        "grads": [_number(x) for x in want["grads"]],
    }
    if program.get("root_grad"):
        case["root_grad"] = _number(want["root_grad"])
    if program.get("convention"):
        case["convention"] = True
    return case


def vectors(seed: int = 0, max_examples: int = DEFAULT_EXAMPLES) -> dict[str, Any]:
    """The test vectors: every check's first cases and ``max_examples`` drawn ones.

    Cases are drawn as if every check had passed, so a graph check's DAGs may
    use any op: each case lists the op forms it ``needs``. Only cases the
    reference computes without error and central differences confirm are
    kept (PyTorch is not asked, so the file does not depend on its presence).
    """
    from micrograd.oracle.suite import Options, draw  # noqa: PLC0415 - suite imports us not

    tolerance = Tolerance()
    options = Options(seed=seed, max_examples=max_examples, use_torch=False)
    everything = frozenset(check.name for check in CATALOGUE)
    checks = []
    for check in CATALOGUE:
        strategy = check.programs(everything)
        assert strategy is not None  # every check can run once every op passed
        cases = []
        seen: set[str] = set()
        for program in [*first_cases(check, everything), *draw(strategy, options)]:
            key = json.dumps(program, sort_keys=True)
            want = expected(program)
            if key in seen or not witnesses_agree(program, want, tolerance, use_torch=False):
                continue
            seen.add(key)
            cases.append(_case(program, want))
        meta = {"name": check.name, "op": check.op, "kind": check.kind, "doc": check.doc}
        checks.append({**meta, "cases": cases})
    return {
        "format": "micrograd-ref test vectors",
        "schema_version": SCHEMA_VERSION,
        "generator": {
            "micrograd_ref": micrograd.__version__,
            "seed": seed,
            "max_examples": max_examples,
        },
        "tolerance": {"rel_tol": tolerance.rel_tol, "abs_tol": tolerance.abs_tol},
        "ops": list(OPS),
        "checks": checks,
    }


def to_json(document: dict[str, Any]) -> str:
    """``document`` as JSON text: one line per case, so that diffs between versions read well."""
    head = {key: value for key, value in document.items() if key != "checks"}
    lines = [json.dumps(head, allow_nan=False)[:-1] + ', "checks": [']
    for i, check in enumerate(document["checks"]):
        meta = {key: value for key, value in check.items() if key != "cases"}
        lines.append(json.dumps(meta, allow_nan=False)[:-1] + ', "cases": [')
        cases = [json.dumps(case, allow_nan=False) for case in check["cases"]]
        lines.append(",\n".join(cases))
        lines.append("]}" + ("," if i < len(document["checks"]) - 1 else ""))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def schema() -> dict[str, Any]:
    """The JSON Schema of the vectors file, shipped in the package."""
    text = resources.files("micrograd.oracle").joinpath("vectors.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
