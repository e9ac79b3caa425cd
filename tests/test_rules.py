"""``RULES`` describes the nodes the engine builds, and powers are evaluated as PyTorch does."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import Value, rules
from micrograd.rules import RULES, ieee_pow
from tests.catalogue import CASES, POWER_WITNESSES, OpCase
from tests.parity import same_float


def _rule_result(case: OpCase, node: Value) -> tuple[float, tuple[float, ...]]:
    """What ``RULES[case.rule].apply`` gives on the data of ``node``'s children."""
    rule = RULES[case.rule]
    data = [child.data for child in node.children]
    if rule.name == "sum":
        return rule.apply(data)
    if rule.name == "dot":
        n = (len(data) - 1) // 2
        return rule.apply(data[:n], data[n : 2 * n], data[-1])
    return rule.apply(*data, *_constants(case))


def _constants(case: OpCase) -> tuple[float, ...]:
    """The number exponent k of a ``Value ** k`` case, read from its name; else nothing."""
    return (float(case.name.split("**")[1]),) if case.rule == "pow_const" else ()


class TestRulesTable:
    """Each rule's symbol, arity and apply are those of the nodes its op builds."""

    def test_every_rule_is_listed_under_its_name(self) -> None:
        """RULES maps each rule's name to the rule."""
        assert all(rule.name == name for name, rule in RULES.items())

    @pytest.mark.parametrize("case", CASES, ids=str)
    @given(data=st.data())
    def test_symbol_arity_and_apply_describe_the_node(
        self, case: OpCase, data: st.DataObject
    ) -> None:
        """A node's op is its rule's symbol, its inputs number arity, apply gives its numbers."""
        rule = RULES[case.rule]
        node = case.fn(*(Value(data.draw(domain)) for domain in case.domains))
        constants = _constants(case)
        symbol = rule.symbol.replace("k", f"{constants[0]:g}") if constants else rule.symbol
        assert node.op == symbol
        if rule.arity == -1:
            assert rule.name in {"sum", "dot"}
        else:
            assert len(node.children) + len(constants) == rule.arity
        value, local_grads = _rule_result(case, node)
        expected = (value, *local_grads)
        got = (node.data, *node.local_grads)
        assert len(got) == len(expected)
        assert all(map(same_float, got, expected)), (got, expected)


class TestFusedRules:
    """The n-ary rules pair their inputs strictly."""

    def test_dot_refuses_weights_and_inputs_of_different_lengths(self) -> None:
        """rules.dot with one weight and two inputs raises ValueError instead of dropping one."""
        with pytest.raises(ValueError, match="zip"):
            rules.dot([1.0], [1.0, 2.0], 0.0)


def _arithmetic(k: float) -> Callable[[float], float]:
    """``x ** k`` as PyTorch evaluates it, for each exponent the engine special-cases."""
    return {
        2.0: lambda x: x * x,
        3.0: lambda x: x * x * x,
        0.5: math.sqrt,
        -0.5: lambda x: 1.0 / math.sqrt(x),
        -1.0: lambda x: 1.0 / x,
        -2.0: lambda x: 1.0 / (x * x),
    }[k]


SPECIAL_EXPONENTS = (2.0, 3.0, 0.5, -0.5, -1.0, -2.0)
"""The exponents PyTorch computes by arithmetic or sqrt rather than C's pow."""


class TestPowersAsPyTorchEvaluatesThem:
    """``x ** k`` for a special-cased k is the arithmetic form, where C's pow rounds otherwise."""

    @pytest.mark.parametrize(("k", "x", "expected"), POWER_WITNESSES)
    def test_witness_where_c_pow_differs(self, k: float, x: float, expected: float) -> None:
        """At each witness x ** k is PyTorch's number, which C's pow(x, k) is not."""
        assert same_float((Value(x) ** k).data, expected)
        assert not same_float(ieee_pow(x, k), expected)

    @pytest.mark.parametrize("k", SPECIAL_EXPONENTS)
    def test_a_search_finds_witnesses_and_the_engine_agrees_on_all(self, k: float) -> None:
        """Some of 20,000 random x tell pow(x, k) from arithmetic; x ** k is arithmetic on all."""
        rng = random.Random(15)
        low = 0.0 if k in {0.5, -0.5} else -100.0
        xs = [x for x in (rng.uniform(low, 100.0) for _ in range(20_000)) if x != 0.0]
        form = _arithmetic(k)
        witnesses = [x for x in xs if ieee_pow(x, k) != form(x)]
        assert len(witnesses) >= 5, "the search must find inputs where C's pow differs"
        wrong = [x for x in xs if (Value(x) ** k).data != form(x)]
        assert not wrong, f"x ** {k:g} is not the arithmetic form at {wrong[:3]}"

    @pytest.mark.parametrize("k", [0.0, 1.0])
    @pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf, -0.0, -2.5])
    def test_powers_zero_and_one_hold_for_every_x(self, k: float, x: float) -> None:
        """Powers 0 and 1 give 1.0 and x itself for every x, nan and signed zeros included."""
        assert same_float((Value(x) ** k).data, 1.0 if k == 0.0 else x)
