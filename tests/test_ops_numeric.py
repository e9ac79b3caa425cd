"""Every op's gradients against central differences, and random smooth DAGs likewise."""

from __future__ import annotations

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from micrograd import rules
from micrograd.rules import RULES
from tests.catalogue import CASES, OpCase
from tests.parity import NUMERIC, assert_parity, doubled, numeric_result
from tests.strategies import DAG_OPS, Program, programs

SMOOTH_DAG_OPS = tuple(op for op in DAG_OPS if op not in {"relu", "square", "cube", "const"})
"""DAG ops without kinks, and without the growth that makes central differences inexact."""


class TestCatalogue:
    """The op catalogue the tests loop over is complete."""

    def test_every_rule_has_a_case(self) -> None:
        """Each rule in micrograd.rules.RULES is exercised by at least one op case."""
        assert {case.rule for case in CASES} == set(RULES)


class TestOpsAgainstCentralDifferences:
    """Each op's gradient agrees with central differences on its smooth domain."""

    @pytest.mark.parametrize("case", CASES, ids=str)
    @given(data=st.data())
    def test_gradients_match_central_differences(self, case: OpCase, data: st.DataObject) -> None:
        """backward() agrees with (f(x+h) - f(x-h)) / 2h within rel 1e-4, abs 1e-6."""
        inputs = [data.draw(domain) for domain in case.domains]
        assert_parity(case.fn, inputs, numeric_result, NUMERIC, description=case.name)


class TestSmoothDags:
    """Random DAGs of smooth ops, with reused nodes, agree with central differences."""

    @given(program=programs(ops=SMOOTH_DAG_OPS, max_steps=8))
    def test_dag_gradients_match_central_differences(self, program: Program) -> None:
        """Every leaf's gradient in a smooth DAG agrees with central differences."""
        assert_parity(
            program, list(program.leaves), numeric_result, NUMERIC, description=str(program)
        )


def _agrees_with_the_witness(case: OpCase, inputs: tuple[float, ...]) -> bool:
    try:
        assert_parity(case.fn, inputs, numeric_result, NUMERIC)
    except AssertionError:
        return False
    return True


class TestTheWitnessIsIndependent:
    """The numeric witness runs no engine code: a forward pass wrong with its derivative fails."""

    @pytest.mark.parametrize("name", sorted(RULES))
    def test_a_rule_doubling_its_value_and_derivatives_fails(
        self, name: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A rule giving 2·f with derivatives 2·f' (2·eˣ for exp) disagrees with the witness."""
        monkeypatch.setattr(rules, name, doubled(RULES[name].apply))
        search = settings(database=None, derandomize=True, max_examples=50)
        for case in (c for c in CASES if c.rule == name):

            def disagrees(xs: tuple[float, ...], case: OpCase = case) -> bool:
                return not _agrees_with_the_witness(case, xs)

            try:
                find(st.tuples(*case.domains), disagrees, settings=search)
            except NoSuchExample:
                continue
            return
        pytest.fail(f"no case of {name} tells its doubled rule from the real one")
