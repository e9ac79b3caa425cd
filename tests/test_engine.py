"""The Value node's contract: construction, operand types, backward semantics, depth, fused ops."""

from __future__ import annotations

import gc
import math
import re
import sys
import tracemalloc
from fractions import Fraction
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import Value
from tests.catalogue import CASES, OpCase
from tests.parity import same_float
from tests.strategies import Program, programs, reals


class TestConstruction:
    """Value() stores real numbers as floats and rejects everything else by name."""

    @pytest.mark.parametrize("number", [3, -7, 2.5, Fraction(1, 4), 10**20])
    def test_real_numbers_are_stored_as_float(self, number: Any) -> None:
        """ints, floats and other real numbers become a float ``data`` with ``grad`` 0.0."""
        v = Value(number)
        assert type(v.data) is float
        assert v.data == float(number)
        assert type(v.grad) is float
        assert v.grad == 0.0

    @pytest.mark.parametrize(
        ("bad", "type_name"),
        [("3", "str"), (None, "NoneType"), (1 + 2j, "complex"), ([1.0], "list"), (True, "bool")],
    )
    def test_other_types_raise_type_error_naming_the_type(self, bad: Any, type_name: str) -> None:
        """Strings, None, complex numbers, lists and bools raise TypeError naming their type."""
        with pytest.raises(TypeError, match=rf"got {type_name}\b"):
            Value(bad)

    def test_a_bool_gets_a_hint_and_nothing_else_does(self) -> None:
        """Value(True) suggests 1.0 or 0.0 in its message; other bad types get no such hint."""
        with pytest.raises(TypeError, match=r"got bool: True \(use 1\.0 or 0\.0\)$"):
            Value(True)
        with pytest.raises(TypeError) as info:
            Value(cast("Any", "1"))
        assert str(info.value) == "Value() takes a real number (int or float); got str: '1'"

    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_a_new_node_has_grad_zero_and_a_repr(self, case: OpCase) -> None:
        """Every kind of node starts with grad 0.0 before any backward(), so its repr works."""
        node = case.fn(*(Value(0.5) for _ in case.domains))
        assert type(node.grad) is float
        assert node.grad == 0.0
        assert repr(node) == f"Value(data={node.data!r}, grad=0.0)"

    def test_a_value_is_not_a_number(self) -> None:
        """Value(Value(1)) raises TypeError rather than silently sharing or copying the node."""
        with pytest.raises(TypeError, match="got Value"):
            Value(Value(1.0))  # type: ignore[arg-type]  # the point of the test

    def test_label_and_repr(self) -> None:
        """A label is kept and shown by repr, which also shows data and grad."""
        v = Value(1.5, label="w")
        assert v.label == "w"
        assert repr(v) == "Value(data=1.5, grad=0.0, label='w')"
        assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"

    def test_a_label_can_be_set_and_removed_on_any_node(self) -> None:
        """Labelling a node made by an op keeps its op; setting "" removes the label."""
        a = Value(2.0, label="a")
        c = a * 3.0
        c.label = "c"
        assert (c.label, c.op, c.data) == ("c", "*", 6.0)
        c.label = "renamed"
        assert (c.label, c.op) == ("renamed", "*")
        c.label = ""
        a.label = ""
        assert (c.label, c.op, a.label, a.op) == ("", "*", "", "")

    def test_values_have_no_instance_dict(self) -> None:
        """Nodes use __slots__: no per-node __dict__, and no new attributes by accident."""
        v = Value(1.0)
        assert not hasattr(v, "__dict__")
        with pytest.raises(AttributeError):
            v.gard = 1.0  # type: ignore[attr-defined]  # a typo must not pass silently

    def test_an_unlabelled_leaf_allocates_only_its_node(self) -> None:
        """Value(x) without a label allocates its node and nothing more (no tuple for the label)."""
        leaves: list[Value | None] = [None] * 20_000  # more than CPython keeps of freed tuples
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for i in range(len(leaves)):
                leaves[i] = Value(0.5)
            per_leaf = (tracemalloc.get_traced_memory()[0] - before) / len(leaves)
        finally:
            tracemalloc.stop()
        assert per_leaf < sys.getsizeof(leaves[0]) + 16, per_leaf


class TestOperandTypes:
    """Ops accept Values and real numbers on either side and refuse other types the Python way."""

    @pytest.mark.parametrize("op", ["__add__", "__sub__", "__mul__", "__truediv__", "__pow__"])
    @pytest.mark.parametrize("other", ["2", None, [1.0], True, 1j])
    def test_unsupported_operand_returns_not_implemented(self, op: str, other: Any) -> None:
        """A binary op given a str, None, list, bool or complex returns NotImplemented."""
        assert getattr(Value(1.0), op)(other) is NotImplemented
        reflected = op.replace("__", "__r", 1)
        assert getattr(Value(1.0), reflected)(other) is NotImplemented

    def test_python_raises_its_usual_type_error(self) -> None:
        """Through the operators, an unsupported operand raises Python's own TypeError."""
        with pytest.raises(TypeError, match="unsupported operand"):
            Value(1.0) + "2"  # type: ignore[operator]  # the point of the test
        with pytest.raises(TypeError, match="unsupported operand"):
            None * Value(1.0)  # type: ignore[operator]  # the point of the test

    @pytest.mark.parametrize(
        ("reflected", "op"),
        [
            (lambda a: 2 + a, "+"),
            (lambda a: 2 - a, "-"),
            (lambda a: 2 * a, "*"),
            (lambda a: 2 / a, "/"),
            (lambda a: 2**a, "**"),
        ],
    )
    def test_a_number_on_the_left_is_the_first_child(self, reflected: Any, op: str) -> None:
        """In ``2 + a``, ``2 - a``, ``2 * a``, ``2 / a`` and ``2 ** a`` the leaf 2.0 comes first."""
        a = Value(5.0)
        node = reflected(a)
        first, second = node.children
        assert (node.op, first.data, first.children, second) == (op, 2.0, (), a)

    def test_local_grads_follow_the_children_of_reflected_ops(self) -> None:
        """``2 * a`` has local grads (a, 2) and ``2 / a`` (1/a, -(2/a)/a), in child order."""
        a = Value(5.0)
        assert (2 * a).local_grads == (5.0, 2.0)
        assert (2 / a).local_grads == (1 / 5.0, -(2 / 5.0) / 5.0)

    def test_numbers_on_either_side_become_leaves(self) -> None:
        """In ``2 - a`` and ``a - 2`` the number is a leaf child, in argument order."""
        a = Value(5.0)
        left, right = 2 - a, a - 2
        assert (left.data, right.data) == (-3.0, 3.0)
        assert left.children[1] is a
        assert left.children[0].data == 2.0
        assert right.children[0] is a
        assert right.children[1].data == 2.0

    def test_node_records_op_children_and_local_grads(self) -> None:
        """A node keeps its op symbol, its inputs in order and d(node)/d(input) for each."""
        a, b = Value(2.0), Value(-3.0)
        c = a * b
        assert (c.op, c.children, c.local_grads) == ("*", (a, b), (-3.0, 2.0))
        assert (a**2).op == "**2"
        assert (a**-0.5).op == "**-0.5"
        assert (a**b).op == "**"
        assert a.op == ""
        assert a.children == ()

    def test_every_kind_of_node_lists_one_local_grad_per_input(self) -> None:
        """Leaves, one-, two- and many-input nodes report inputs and derivatives alike."""
        a, b = Value(2.0), Value(-3.0)
        nodes = {
            "leaf": (a, (), ()),
            "tanh": (a.tanh(), (a,), (1.0 - math.tanh(2.0) ** 2,)),
            "-": (a - b, (a, b), (1.0, -1.0)),
            "sum": (Value.sum([a, b, a]), (a, b, a), (1.0, 1.0, 1.0)),
            "dot": (Value.dot([a], [b], a), (a, b, a), (-3.0, 2.0, 1.0)),
        }
        for name, (node, children, local_grads) in nodes.items():
            assert node.children == children, name
            assert node.local_grads == local_grads, name


class TestBackward:
    """backward() fills in d(root)/d(node), accumulating on leaves as PyTorch does."""

    def test_reused_node_gradients_add_up(self) -> None:
        """B = a + a; c = b + b gives dc/da = 4 (the bug of assigning instead of adding)."""
        a = Value(3.0)
        b = a + a
        c = b + b
        c.backward()
        assert (a.grad, b.grad, c.grad) == (4.0, 2.0, 1.0)

    def test_two_calls_give_exactly_twice_on_leaves(self) -> None:
        """With z = a*b + c at a=2, b=3, a.grad is 3 after one backward(), 6 after two."""
        a, b, c = Value(2.0), Value(3.0), Value(1.0)
        z = a * b + c
        z.backward()
        assert (a.grad, b.grad, c.grad) == (3.0, 2.0, 1.0)
        z.backward()
        assert (a.grad, b.grad, c.grad) == (6.0, 4.0, 2.0)

    @given(program=programs())
    def test_two_calls_double_every_leaf_exactly_and_keep_interior_grads(
        self, program: Program
    ) -> None:
        """For any DAG, a second backward() doubles leaves' grads bit for bit; the root stays 1."""
        leaves = [Value(x) for x in program.leaves]
        root = program(*leaves)
        root.backward()
        once = [leaf.grad for leaf in leaves]
        root.backward()
        for leaf, g in zip(leaves, once, strict=True):
            assert leaf.grad == 2 * g or (math.isnan(g) and math.isnan(leaf.grad))
        assert root.grad == 1.0

    def test_interior_nodes_hold_the_latest_calls_gradient(self) -> None:
        """An intermediate node's grad is that of the latest backward(), not a running sum."""
        a = Value(2.0)
        b = a * a
        c = b * 3.0
        c.backward()
        c.backward()
        assert b.grad == 3.0
        assert a.grad == 24.0

    def test_backward_from_a_leaf_adds_one(self) -> None:
        """Calling backward() on a leaf adds d(leaf)/d(leaf) = 1 to its grad."""
        a = Value(7.0)
        a.backward()
        a.backward()
        assert a.grad == 2.0

    def test_backward_from_an_interior_node_reaches_only_its_inputs(self) -> None:
        """A node's backward() leaves the grads of nodes it does not depend on untouched."""
        a, b = Value(1.0), Value(2.0)
        c = a * 2.0
        _unused = c + b
        c.backward()
        assert (a.grad, b.grad) == (2.0, 0.0)

    @pytest.mark.parametrize("x", [0.0, -0.0])
    def test_relu_derivative_at_zero_is_zero(self, x: float) -> None:
        """relu'(0) = 0, as in PyTorch."""
        a = Value(x)
        a.relu().backward()
        assert a.grad == 0.0

    def test_a_million_deep_chain_backpropagates(self) -> None:
        """A chain of 1,000,000 ops backpropagates (no recursion) and is freed without a crash."""
        x = Value(0.5)
        y = x
        for _ in range(1_000_000):
            y = y + 1.0
        y.backward()
        assert x.grad == 1.0
        assert y.data == 1_000_000.5
        del y
        gc.collect()


def _chained_sum(terms: list[Value]) -> Value:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


class TestFusedOps:
    """Value.sum and Value.dot are single nodes, bit-identical to the chains they replace."""

    @given(xs=st.lists(reals(-1e6, 1e6, awkward=(0.0, 1e-300)), min_size=1, max_size=12))
    def test_sum_equals_chained_additions_to_the_bit(self, xs: list[float]) -> None:
        """Value.sum(terms) has the value and gradients of terms[0] + terms[1] + …, exactly."""
        fused_leaves = [Value(x) for x in xs]
        chained_leaves = [Value(x) for x in xs]
        fused, chained = Value.sum(fused_leaves), _chained_sum(chained_leaves)
        fused.backward()
        chained.backward()
        assert fused.data == chained.data
        assert [v.grad for v in fused_leaves] == [v.grad for v in chained_leaves]
        assert fused.op == "sum"
        assert len(fused.children) == len(xs)

    @given(
        ws=st.lists(reals(-1e3, 1e3), min_size=0, max_size=8),
        data=st.data(),
    )
    def test_dot_equals_chained_weighted_sum_to_the_bit(
        self, ws: list[float], data: st.DataObject
    ) -> None:
        """Value.dot(w, x, b) has the value and gradients of ((b + w0*x0) + w1*x1) + …, exactly."""
        xs = data.draw(st.lists(reals(-1e3, 1e3), min_size=len(ws), max_size=len(ws)))
        b = data.draw(reals(-1e3, 1e3))
        fw, fx, fb = [Value(w) for w in ws], [Value(x) for x in xs], Value(b)
        cw, cx, cb = [Value(w) for w in ws], [Value(x) for x in xs], Value(b)
        fused = Value.dot(fw, fx, fb)
        chained = cb
        for w, x in zip(cw, cx, strict=True):
            chained = chained + w * x
        fused.backward()
        chained.backward()
        assert fused.data == chained.data
        assert [v.grad for v in (*fw, *fx, fb)] == [v.grad for v in (*cw, *cx, cb)]

    def test_dot_starts_from_zero_by_default(self) -> None:
        """Without ``start``, Value.dot adds its products to a leaf 0.0, its last child."""
        w, x = Value(-0.0), Value(3.0)
        d = Value.dot([w], [x])
        assert same_float(d.data, 0.0)  # 0.0 + (-0.0 * 3.0) is 0.0; from -0.0 it would be -0.0
        assert (len(d.children), d.children[-1].data, d.children[-1].children) == (3, 0.0, ())
        assert Value.dot([Value(2.0)], [Value(3.0)]).data == 6.0

    def test_fused_ops_accept_numbers(self) -> None:
        """Plain numbers may stand for terms, weights, inputs and the start."""
        x = Value(2.0)
        assert Value.sum([x, 1, 0.5]).data == 3.5
        d = Value.dot([x, 3], [4.0, x], 1)
        d.backward()
        assert d.data == 15.0
        assert x.grad == 7.0

    def test_empty_sum_is_an_error(self) -> None:
        """Value.sum of no terms raises ValueError (it would have no value type to be)."""
        with pytest.raises(ValueError, match=r"^Value\.sum\(\) needs at least one term; got none$"):
            Value.sum([])

    def test_dot_of_unequal_lengths_is_an_error(self) -> None:
        """Value.dot raises ValueError naming both lengths when they differ."""
        message = r"^Value\.dot\(\) needs as many weights as inputs; got 2 and 1$"
        with pytest.raises(ValueError, match=message):
            Value.dot([1.0, 2.0], [Value(1.0)])

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda: Value.sum([Value(1.0), cast("Any", "2")]), "Value.sum() [^;]*; got str: '2'"),
            (lambda: Value.dot([cast("Any", "1")], [1.0]), "Value.dot() [^;]*; got str: '1'"),
            (
                lambda: Value.dot([1.0], [cast("Any", None)]),
                "Value.dot() [^;]*; got NoneType: None",
            ),
            (lambda: Value.dot([1.0], [1.0], start=True), "Value.dot() [^;]*; got bool: True"),
        ],
    )
    def test_fused_ops_reject_non_numbers_by_name(self, call: Any, message: str) -> None:
        """A str, None or bool among the operands raises TypeError naming op, type and value."""
        with pytest.raises(TypeError) as info:
            call()
        assert re.fullmatch(message.replace("()", r"\(\)"), str(info.value))
        assert "takes Values and numbers" in str(info.value)


class TestSpecialPoints:
    """Where Python's math raises, ops give IEEE 754 results and the graph goes on."""

    @pytest.mark.parametrize(
        ("expr", "value", "grad"),
        [
            (lambda x: x.log(), (0.0,), (-math.inf, math.inf)),
            (lambda x: x.log(), (-1.0,), (math.nan, -1.0)),
            (lambda x: x.exp(), (1000.0,), (math.inf, math.inf)),
            (lambda x: x.exp(), (-1000.0,), (0.0, 0.0)),
            (lambda x: x**-1, (0.0,), (math.inf, -math.inf)),
            (lambda x: x**-1, (-0.0,), (-math.inf, -math.inf)),
            (lambda x: x**-3, (-0.0,), (-math.inf, -math.inf)),  # C's pow: odd power, zero's sign
            (lambda x: x ** (1 / 3), (-8.0,), (math.nan, math.nan)),
            (lambda x: x**0.5, (-1.0,), (math.nan, math.nan)),
            (lambda x: x**400, (10.0,), (math.inf, math.inf)),
            (lambda x: x**401, (-10.0,), (-math.inf, math.inf)),
            (lambda x: x**-1025, (0.5,), (math.inf, -math.inf)),  # overflow from a base in (0, 1)
            (lambda x: x ** Value(0.0), (0.0,), (1.0, 0.0)),  # d/dx is 0 where y = 0, not 0 * inf
            (lambda x: x**0, (math.nan,), (1.0, 0.0)),
            (lambda x: 1.0 / x, (0.0,), (math.inf, -math.inf)),
            (lambda x: -1.0 / x, (0.0,), (-math.inf, math.inf)),
            (lambda x: x / 0.0, (0.0,), (math.nan, math.inf)),
            (lambda x: 0.0**x, (-1.0,), (math.inf, -math.inf)),
            (lambda x: 0.0**x, (2.0,), (0.0, 0.0)),
            (lambda x: 0.0**x, (0.0,), (1.0, 0.0)),  # d/dy is 0 where x = 0 and y >= 0 ...
            (lambda x: 0.0**x, (0.5,), (0.0, 0.0)),  # ... 0 <= y < 1 included, not 0 * ln 0
            (lambda x: x.sigmoid(), (-1000.0,), (0.0, 0.0)),
            (lambda x: x.tanh(), (math.inf,), (1.0, 0.0)),
            (lambda x: x.relu(), (math.nan,), (math.nan, 1.0)),  # as torch: nan passes, slope 1
        ],
    )
    def test_ieee_results_instead_of_exceptions(
        self, expr: Any, value: tuple[float], grad: tuple[float, float]
    ) -> None:
        """Each special point gives the IEEE value and gradient (as PyTorch float64 does)."""
        x = Value(value[0])
        out = expr(x)
        out.backward()
        expected_value, expected_grad = grad
        for got, want in ((out.data, expected_value), (x.grad, expected_grad)):
            assert same_float(got, want), (got, want)

    @pytest.mark.parametrize(
        ("x", "value"),
        [(-0.0, -0.0), (0.0, 0.0), (-2.0, 0.0), (-math.inf, 0.0), (5e-324, 5e-324)],
    )
    def test_relu_keeps_the_sign_of_zero_and_its_zero_slope_is_positive(
        self, x: float, value: float
    ) -> None:
        """relu(-0.0) is -0.0 and relu(x < 0) is 0.0, as documented; relu'(x <= 0) is +0.0."""
        node = Value(x).relu()
        assert same_float(node.data, value)
        (slope,) = node.local_grads
        assert same_float(slope, 1.0 if x > 0.0 else 0.0)

    @pytest.mark.parametrize(("k", "value"), [(0.5, -0.0), (-0.5, -math.inf), (-1.0, -math.inf)])
    def test_powers_of_negative_zero_keep_its_sign(self, k: float, value: float) -> None:
        """(-0.0) ** 0.5 is sqrt(-0.0) = -0.0, and (-0.0) ** -0.5 and (-0.0) ** -1 are -inf."""
        assert same_float((Value(-0.0) ** k).data, value)
