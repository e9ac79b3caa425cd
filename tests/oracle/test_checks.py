"""The catalogue and the expected numbers: every rule checked, inside its domain, witnessed."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import rules
from micrograd.oracle import compare
from micrograd.oracle.checks import (
    CATALOGUE,
    REFERENCE_ONLY,
    check_named,
    closure,
    first_cases,
    markdown_table,
)
from micrograd.oracle.compare import Tolerance, expected, register_name, witnesses_agree
from micrograd.rules import RULES
from tests.oracle.helpers import plain_disagreements
from tests.parity import doubled

_ALL_PASSED = [c.name for c in CATALOGUE]


class TestCatalogue:
    """Every op of the reference engine has a check; names are unique."""

    def test_every_rule_is_checked_or_reference_only(self) -> None:
        """The op checks cover micrograd.rules.RULES, except the fused n-ary ops."""
        checked = {c.rule for c in CATALOGUE if c.kind == "op"}
        assert checked | REFERENCE_ONLY == set(RULES)
        assert not checked & REFERENCE_ONLY

    def test_names_are_unique(self) -> None:
        """Check names are identifiers for --only, --require and pytest."""
        names = [c.name for c in CATALOGUE]
        assert len(names) == len(set(names))
        assert all(name.isidentifier() for name in names)

    def test_check_named(self) -> None:
        """Looking up an unknown name lists the known ones."""
        assert check_named("tanh").op == "a.tanh()"
        with pytest.raises(KeyError, match="the checks are root_seed, add"):
            check_named("tahn")

    def test_graph_checks_need_passed_ops(self) -> None:
        """Graph checks cannot run when no op they use has passed."""
        for name in ("reused_node", "deep_chain"):
            assert check_named(name).programs([]) is None
            assert first_cases(check_named(name), []) == []
            assert check_named(name).programs(_ALL_PASSED) is not None

    def test_graph_checks_build_only_from_ops_that_passed(self) -> None:
        """With only a * b passed, a graph check's first case uses * and nothing else."""
        (case,) = first_cases(check_named("reused_node"), ["mul"])
        assert {op[1] for op in case["ops"]} == {"*"}

    def test_every_op_is_also_used_with_its_input_twice(self) -> None:
        """Once a + b and a * b passed, each op check's first cases reuse its input."""
        for check in CATALOGUE:
            if check.kind == "op":
                cases = first_cases(check, ["add", "mul"])
                assert any(case.get("reuse") for case in cases), check.name

    def test_every_op_but_relu_is_also_applied_to_its_own_result(self) -> None:
        """f(f(a)) passes the inner node a gradient other than 1, with no combiner needed.

        relu(relu(a)) would sit on the kink; a forgotten ``* out.grad`` shows
        in the nested cases of every other op.
        """
        for check in CATALOGUE:
            if check.kind == "op":
                nested = [case for case in first_cases(check, []) if case.get("nested")]
                assert len(nested) == (check.name != "relu"), check.name
        (twice,) = [c for c in first_cases(check_named("mul_number"), []) if c.get("nested")]
        assert twice["ops"] == [["lnum", "*", 0, 4], ["lnum", "*", 1, 4]]
        (twice,) = [c for c in first_cases(check_named("rsub"), []) if c.get("nested")]
        assert twice["ops"] == [["rnum", "-", 4, 0], ["rnum", "-", 4, 1]]

    def test_closure_adds_what_a_check_depends_on(self) -> None:
        """--only exp runs the combiners too, so its reuse cases are the same as in a full run."""
        assert closure(["exp"]) == {"root_seed", "exp", "add", "mul", "sub"}
        assert closure(["add"]) == {"root_seed", "add"}

    def test_the_students_guide_lists_every_check(self) -> None:
        """docs/oracle-students.md holds the table generated from the catalogue."""
        guide = Path(__file__).resolve().parents[2] / "docs" / "oracle-students.md"
        assert markdown_table() in guide.read_text(encoding="utf-8")


class TestDomains:
    """Every drawn case is one the witnesses confirm: inside the domain, away from kinks."""

    @pytest.mark.parametrize("name", [c.name for c in CATALOGUE])
    def test_first_cases_are_confirmed_by_central_differences(self, name: str) -> None:
        """The first cases of each check have reference results the witness agrees with."""
        for case in first_cases(check_named(name), _ALL_PASSED):
            assert witnesses_agree(case, expected(case), Tolerance(), use_torch=False)

    @pytest.mark.parametrize("name", [c.name for c in CATALOGUE])
    def test_drawn_cases_are_confirmed_by_central_differences(self, name: str) -> None:
        """Drawn cases are never excluded for disagreeing witnesses."""
        strategy = check_named(name).programs(_ALL_PASSED)
        assert strategy is not None

        @settings(max_examples=30, deadline=None)
        @given(strategy)
        def confirmed(program: dict[str, object]) -> None:
            assert witnesses_agree(program, expected(program), Tolerance(), use_torch=False)

        confirmed()

    def test_a_kink_is_not_graded(self) -> None:
        """A relu at 0 has no meaningful finite difference, so such a case is excluded."""
        program = {"leaves": [0.0], "ops": [["un", "relu", 0]]}
        assert not witnesses_agree(program, expected(program), Tolerance(), use_torch=False)

    @pytest.mark.torch
    def test_torch_confirms_a_dag(self) -> None:
        """PyTorch float64 agrees with the reference on a graph with a reused node."""
        (program,) = first_cases(check_named("reused_node"), _ALL_PASSED)
        assert witnesses_agree(program, expected(program), Tolerance(), use_torch=True)

    def test_a_witness_that_errs_or_differs_excludes_the_case(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A case where the PyTorch witness raises or disagrees is not graded."""
        program = check_named("add").probe
        assert program is not None
        reference = expected(program)
        monkeypatch.setattr(compare, "torch_witness", lambda _: {"error": "RuntimeError"})
        assert not witnesses_agree(program, reference, Tolerance(), use_torch=True)
        other = {"data": [2.0, 4.0, 6.5], "grads": [1.0, 1.0], "root_grad": None}
        monkeypatch.setattr(compare, "torch_witness", lambda _: other)
        assert not witnesses_agree(program, reference, Tolerance(), use_torch=True)


class TestExpectedNumbersHaveAnIndependentWitness:
    """The reference's expected numbers agree with the plain implementation, sharing no code.

    ``witnesses_agree`` differentiates the reference's own forward pass, so a
    rule wrong in value and derivative alike (2·eˣ for exp) would confirm
    itself; ``tests.plain`` computes every value from floats and ``math``.
    """

    @pytest.mark.parametrize("name", [c.name for c in CATALOGUE])
    def test_first_cases_agree_with_the_plain_implementation(self, name: str) -> None:
        """Each check's first cases have the values and gradients the plain witness gives."""
        for case in first_cases(check_named(name), _ALL_PASSED):
            assert plain_disagreements(case, expected(case)) == [], case

    @pytest.mark.parametrize("name", [c.name for c in CATALOGUE])
    def test_drawn_cases_agree_with_the_plain_implementation(self, name: str) -> None:
        """Each check's drawn cases have the values and gradients the plain witness gives."""
        strategy = check_named(name).programs(_ALL_PASSED)
        assert strategy is not None

        @settings(max_examples=30, deadline=None)
        @given(strategy)
        def witnessed(program: dict[str, Any]) -> None:
            assert plain_disagreements(program, expected(program)) == [], program

        witnessed()

    @pytest.mark.parametrize(
        "rule", sorted({c.rule for c in CATALOGUE if c.kind == "op" and c.rule is not None})
    )
    def test_a_rule_doubling_its_value_and_derivatives_is_caught(
        self, rule: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A reference rule giving 2·f with derivatives 2·f' fails a first case of its checks."""
        monkeypatch.setattr(rules, rule, doubled(RULES[rule].apply))
        cases = [
            case
            for check in CATALOGUE
            if check.kind == "op" and check.rule == rule
            for case in first_cases(check, _ALL_PASSED)
        ]
        assert any(plain_disagreements(case, expected(case)) for case in cases)


class TestTolerance:
    """How close is close enough, stated once."""

    @pytest.mark.parametrize(
        ("got", "want", "close"),
        [
            (1.0 + 1e-7, 1.0, True),
            (1.0 + 1e-5, 1.0, False),
            (1e-10, 0.0, True),
            (math.nan, math.nan, True),
            (math.inf, math.inf, True),
            (-math.inf, math.inf, False),
            (1.0, math.nan, False),
        ],
    )
    def test_close(self, got: float, want: float, close: bool) -> None:
        """Relative 1e-6 plus absolute 1e-9; nan matches nan, inf only itself."""
        assert Tolerance().close(got, want) is close

    @given(st.integers(0, 200))
    def test_register_names(self, index: int) -> None:
        """Registers are a..z, then v26, v27 …; all valid Python names."""
        assert register_name(index).isidentifier()
