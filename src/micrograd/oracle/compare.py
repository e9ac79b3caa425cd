"""The expected numbers: the reference engine's, confirmed by witnesses, and the comparison.

The reference engine runs the same program as the student's engine. Before a
case counts against a student, two witnesses confirm the reference's numbers:
central differences (always) and PyTorch float64 (when installed). A case
where a witness disagrees is not graded, so a student is never failed on a
number the oracle is unsure of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from micrograd.engine import Value
from micrograd.gradcheck import numerical_gradient
from micrograd.oracle.worker import build, evaluate

__all__ = ["Mismatch", "Tolerance", "expected", "mismatches", "quantity_names", "torch_witness"]

Program = dict[str, Any]
Result = dict[str, Any]


@dataclass(frozen=True)
class Tolerance:
    """How close a student's number must be: ``|got - want| <= abs_tol + rel_tol·|want|``."""

    rel_tol: float = 1e-6
    """Relative tolerance: float rounding differs between equivalent formulas."""
    abs_tol: float = 1e-9
    """Absolute tolerance, for numbers near zero."""
    witness_rel_tol: float = 1e-3
    """How close central differences must come to the reference gradient."""
    witness_abs_tol: float = 1e-5
    """Absolute part of the central-difference tolerance."""

    def close(self, got: float, want: float) -> bool:
        """Whether ``got`` is within tolerance of ``want`` (nan matches nan, inf its own sign)."""
        if math.isnan(want) or math.isinf(want):
            return got == want or (math.isnan(got) and math.isnan(want))
        return abs(got - want) <= self.abs_tol + self.rel_tol * abs(want)

    def describe(self) -> str:
        """The rule, in words, for reports."""
        return (
            f"|yours - expected| <= {self.abs_tol:g} + {self.rel_tol:g}·|expected|; "
            f"expected numbers from the reference engine, confirmed by central differences "
            f"(within {self.witness_abs_tol:g} + {self.witness_rel_tol:g}·|estimate|)"
        )


@dataclass(frozen=True)
class Mismatch:
    """One number that differs: which quantity, the expected number and the student's."""

    quantity: str
    """``c.data`` or ``a.grad``, named as in the reproducer."""
    want: float
    """The reference engine's number."""
    got: float
    """The student's number."""


def register_name(index: int) -> str:
    """The variable name of register ``index`` in reproducers: a, b, … z, then v26, v27 …."""
    return chr(ord("a") + index) if index < 26 else f"v{index}"


def quantity_names(program: Program) -> tuple[list[str], list[str]]:
    """Names of the ``data`` of every register and of the ``grad`` of every leaf."""
    n_registers = len(program["leaves"]) + len(program["ops"])
    data = [f"{register_name(i)}.data" for i in range(n_registers)]
    grads = [f"{register_name(i)}.grad" for i in range(len(program["leaves"]))]
    return data, grads


def expected(program: Program) -> Result:
    """The reference engine's result for ``program``."""
    return evaluate(program, Value)


def central_differences_agree(program: Program, reference: Result, tol: Tolerance) -> bool:
    """Whether central differences confirm every leaf gradient of ``reference``."""
    ops = program["ops"]

    def f(*leaves: Value) -> Value:
        registers, _ = build({"leaves": [v.data for v in leaves], "ops": ops}, Value)
        root: Value = registers[-1]
        return root

    estimates = numerical_gradient(f, program["leaves"])
    calls = program.get("backward_calls", 1)  # leaves accumulate: calls times one gradient
    return all(
        abs(g / calls - e) <= tol.witness_abs_tol + tol.witness_rel_tol * abs(e)
        for g, e in zip(reference["grads"], estimates, strict=True)
    )


@cache
def _torch() -> Any:  # noqa: ANN401 - the torch module, untyped when absent
    """The torch module, or None when it is not installed."""
    try:
        import torch  # noqa: PLC0415 - optional witness, imported on first use
    except ImportError:  # pragma: no cover - the parity session has torch, the others not
        return None
    return torch


def torch_witness(program: Program) -> Result | None:
    """PyTorch float64's result for ``program``, or None when torch is not installed."""
    torch = _torch()
    if torch is None:  # pragma: no cover - see _torch
        return None

    def leaf(x: float) -> Any:  # noqa: ANN401 - a torch.Tensor
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    return evaluate({**program, "root_grad": False}, leaf)


def mismatches(program: Program, want: Result, got: Result, tol: Tolerance) -> list[Mismatch]:
    """Every number of ``got`` outside tolerance of ``want``: data first, then gradients."""
    data_names, grad_names = quantity_names(program)
    found = [
        Mismatch(name, w, g)
        for name, w, g in zip(data_names, want["data"], got["data"], strict=True)
        if not tol.close(g, w)
    ]
    found += [
        Mismatch(name, w, g)
        for name, w, g in zip(grad_names, want["grads"], got["grads"], strict=True)
        if not tol.close(g, w)
    ]
    return found


def witnesses_agree(
    program: Program, reference: Result, tol: Tolerance, *, use_torch: bool
) -> bool:
    """Whether the witnesses confirm the reference's numbers for ``program``.

    A program marked ``convention`` (a kink, such as relu at 0) is confirmed by
    PyTorch alone, since central differences have no answer there; one that
    calls backward more than once by central differences alone.
    """
    confirm = not program.get("convention")
    if "error" in reference or (confirm and not central_differences_agree(program, reference, tol)):
        return False
    if not use_torch or program.get("backward_calls", 1) > 1:
        return True
    witness = torch_witness(program)
    if witness is None:  # pragma: no cover - torch missing
        return True
    if "error" in witness:
        return False
    strict = Tolerance(rel_tol=1e-9, abs_tol=1e-12)
    return not mismatches({**program, "root_grad": False}, reference, witness, strict)
