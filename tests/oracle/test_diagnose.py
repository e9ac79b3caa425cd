"""Diagnoses name a mistake only when the numbers are exactly what that mistake gives."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import pytest

from micrograd.oracle.checks import CATALOGUE
from micrograd.oracle.compare import Tolerance, expected
from micrograd.oracle.diagnose import Finding, Probe, diagnose, edge_contributions, walk
from micrograd.oracle.runner import WorkerCrashed, WorkerTimeout
from micrograd.oracle.suite import Options, _Grader

if TYPE_CHECKING:
    from micrograd.oracle.runner import Worker

TOL = Tolerance()


def _program(leaves: list[float], *ops: list[Any], **extra: Any) -> dict[str, Any]:
    return {"leaves": leaves, "ops": list(ops), "root_grad": False, **extra}


def _got(program: dict[str, Any], grads: list[float]) -> dict[str, Any]:
    """The reference's result for ``program`` with the leaves' gradients replaced."""
    return {**expected(program), "grads": grads}


EXP_PLUS_A = _program([1.0], ["un", "exp", 0], ["bin", "+", 1, 0])  # b = exp(a); c = b + a
DIAMOND = _program([2.0, 3.0], ["bin", "*", 0, 1], ["bin", "+", 2, 1], ["bin", "*", 2, 3])


class TestEdgeContributions:
    """A leaf's gradient splits into one share per edge into it."""

    def test_shares_sum_to_the_gradient(self) -> None:
        """exp(a) + a: the exp edge gives e, the + edge gives 1."""
        (shares,) = edge_contributions(EXP_PLUS_A)
        assert sorted(x for _, x in shares) == pytest.approx([1.0, 2.718281828459045])

    def test_a_node_using_a_leaf_twice_has_two_edges(self) -> None:
        """A * a has two edges into a."""
        (shares,) = edge_contributions(_program([3.0], ["bin", "*", 0, 0]))
        assert [x for _, x in shares] == [3.0, 3.0]


class TestWalk:
    """The lecture's backward() replayed on the reference graph, with and without its faults."""

    def test_a_correct_walk_gives_the_reference(self) -> None:
        """Visited set, reverse order: the reference's gradients."""
        assert walk(DIAMOND) == pytest.approx(expected(DIAMOND)["grads"])

    def test_without_visited_set_a_shared_node_counts_twice(self) -> None:
        """The diamond's shared node runs its backward twice: the leaves' gradients grow."""
        grads = walk(DIAMOND, visited=False)
        assert grads is not None
        assert grads != pytest.approx(expected(DIAMOND)["grads"])

    def test_an_exponential_walk_gives_up(self) -> None:
        """X = x1 + x0 forty times over, without a visited set, lists Fibonacci(40) nodes: None."""
        ops = [["bin", "+", i + 1, i] for i in range(40)]
        assert walk(_program([1.0, 2.0], *ops), visited=False) is None

    def test_calls_keep_interior_gradients(self) -> None:
        """Two calls of the lecture's backward on a*b + c give a three times its gradient."""
        program = _program([2.0, 3.0, 4.0], ["bin", "*", 0, 1], ["bin", "+", 3, 2])
        assert walk(program, calls=2) == [9.0, 6.0, 2.0]


def _message(
    program: dict[str, Any], want: dict[str, Any], got: dict[str, Any], tol: Tolerance
) -> str | None:
    finding = diagnose(program, want, got, tol)
    return None if finding is None else finding.message


class TestDiagnose:
    """Each diagnosis, and the cases where none is given."""

    def test_replaced_gradient_names_the_op(self) -> None:
        """exp(a) + a with a.grad = e: = instead of += in exp's backward."""
        message = _message(
            EXP_PLUS_A, expected(EXP_PLUS_A), _got(EXP_PLUS_A, [2.718281828459045]), TOL
        )
        assert message is not None
        assert "replaced (=) instead of accumulated (+=), in the backward of exp()" in message

    def test_a_composite_op_may_be_built_from_another(self) -> None:
        """A - a with a.grad = -1: the culprit may be what __sub__ is built from."""
        program = _program([3.0], ["bin", "-", 0, 0])
        message = _message(program, expected(program), _got(program, [-1.0]), TOL)
        assert message is not None
        assert "__sub__ (or of an op it is built from)" in message

    def test_two_readings_give_no_diagnosis(self) -> None:
        """At a = 0 the exp edge and the + edge both give 1 (and so does the order leaves first)."""
        program = {**EXP_PLUS_A, "leaves": [0.0]}
        assert _message(program, expected(program), _got(program, [1.0]), TOL) is None

    def test_walk_without_visited_set(self) -> None:
        """The diamond's gradients as a walk without a visited set gives them."""
        grads = walk(DIAMOND, visited=False)
        assert grads is not None
        message = _message(DIAMOND, expected(DIAMOND), _got(DIAMOND, grads), TOL)
        assert message is not None
        assert "without a `visited` set" in message

    def test_walk_in_the_wrong_order(self) -> None:
        """The diamond's gradients as running the order leaves first gives them."""
        grads = walk(DIAMOND, reverse=False)
        assert grads is not None
        message = _message(DIAMOND, expected(DIAMOND), _got(DIAMOND, grads), TOL)
        assert message is not None
        assert "loop over reversed(topo)" in message

    def test_interior_gradients_kept_across_calls(self) -> None:
        """backward() twice giving 9, 6, 2 on a*b + c: interior nodes kept their grad."""
        program = _program(
            [2.0, 3.0, 4.0], ["bin", "*", 0, 1], ["bin", "+", 3, 2], backward_calls=2
        )
        message = _message(program, expected(program), _got(program, [9.0, 6.0, 2.0]), TOL)
        assert message is not None
        assert "interior nodes that keep their grad" in message
        assert _message(program, expected(program), _got(program, [1.0, 1.0, 1.0]), TOL) is None

    @pytest.mark.parametrize(("symbol", "dunder"), [("-", "__rsub__"), ("/", "__rtruediv__")])
    def test_swapped_reflected_operands(self, symbol: str, dunder: str) -> None:
        """4 - a computed as a - 4 is named, with the method."""
        program = _program([2.0], ["rnum", symbol, 4, 0])
        swapped = expected(_program([2.0], ["lnum", symbol, 0, 4]))
        got = {**expected(program), "data": swapped["data"]}
        message = _message(program, expected(program), got, TOL)
        assert message is not None
        assert f"{dunder}(self, other)" in message

    def test_a_wrong_value_that_is_not_swapped(self) -> None:
        """A wrong value of 2 - a that is not a - 2, or of a + 2, is not diagnosed."""
        for op in (["rnum", "-", 2, 0], ["rnum", "+", 2, 0], ["lnum", "-", 0, 2]):
            program = _program([3.0], op)
            got = {**expected(program), "data": [3.0, 100.0]}
            assert _message(program, expected(program), got, TOL) is None

    def test_errors_and_right_gradients_are_not_diagnosed(self) -> None:
        """A raised exception, right gradients, or a lone leaf: nothing to name."""
        want = expected(EXP_PLUS_A)
        assert _message(EXP_PLUS_A, want, {"error": "TypeError"}, TOL) is None
        assert _message(EXP_PLUS_A, want, want, TOL) is None
        lone = _program([2.0])
        assert _message(lone, expected(lone), _got(lone, [0.0]), TOL) is None

    def test_a_gradient_no_subset_explains(self) -> None:
        """a.grad = 100 on exp(a) + a is no mistake we know: no diagnosis."""
        assert _message(EXP_PLUS_A, expected(EXP_PLUS_A), _got(EXP_PLUS_A, [100.0]), TOL) is None


class TestReplacedProbe:
    """A replaced gradient is named only with a probe on leaves that tells the mistake apart."""

    def test_an_op_reading_another_op_gives_no_probe(self) -> None:
        """exp(a) * a + a with a.grad = exp(a), the * edge alone: * reads exp(a), no probe."""
        program = _program([2.0], ["un", "exp", 0], ["bin", "*", 1, 0], ["bin", "+", 2, 0])
        got = _got(program, [math.exp(2.0)])
        assert _message(program, expected(program), got, TOL) is None

    def test_a_probe_whose_two_readings_agree_is_not_given(self) -> None:
        """Exp(40) + a * 1e18 with a.grad = exp(40): exp(a) + a cannot tell = from += there."""
        program = _program([40.0], ["un", "exp", 0], ["lnum", "*", 0, 1e18], ["bin", "+", 1, 2])
        got = _got(program, [math.exp(40.0)])
        assert _message(program, expected(program), got, TOL) is None


class _Worker:
    """Stands in for the child: answers each program with ``answer``, counting the requests."""

    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.requests = 0

    def request(self, programs: list[Any], timeout: float) -> tuple[list[Any], str]:
        self.requests += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return [self.answer] * len(programs), ""


class TestConfirmation:
    """A finding with a probe stands only when the student's engine fails the probe as predicted."""

    FINDING = Finding("replaced", "a.grad …", Probe(EXP_PLUS_A, 0, math.e, math.e + 1))

    def _confirmed(self, worker: _Worker) -> Finding | None:
        check = next(c for c in CATALOGUE if c.name == "exp")
        grader = _Grader(check, cast("Worker", worker), Options())
        return grader._confirmed(self.FINDING)

    @pytest.mark.parametrize(
        "answer",
        [WorkerTimeout("probe"), WorkerCrashed("probe"), {"error": "ValueError: no"}],
        ids=["hangs", "crashes", "raises"],
    )
    def test_an_engine_that_fails_the_probe_otherwise_confirms_nothing(
        self, answer: dict[str, Any] | Exception
    ) -> None:
        """A probe that hangs, crashes or raises leaves the failure without a diagnosis."""
        assert self._confirmed(_Worker(answer)) is None

    def test_the_predicted_gradient_confirms_and_the_probe_runs_once(self) -> None:
        """A.grad = e on exp(a) + a confirms; asked twice, the engine runs the probe once."""
        worker = _Worker({**expected(EXP_PLUS_A), "grads": [math.e]})
        check = next(c for c in CATALOGUE if c.name == "exp")
        grader = _Grader(check, cast("Worker", worker), Options())
        assert grader._confirmed(self.FINDING) is self.FINDING
        assert grader._confirmed(self.FINDING) is self.FINDING
        assert worker.requests == 1

    def test_the_right_gradient_confirms_nothing(self) -> None:
        """A.grad = e + 1 on the probe: the engine accumulates there, so no diagnosis."""
        assert self._confirmed(_Worker(expected(EXP_PLUS_A))) is None
