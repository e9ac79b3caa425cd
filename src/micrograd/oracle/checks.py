"""The catalogue of checks: one per op form of the reference engine, and the graph properties.

Each check is a Hypothesis strategy of *programs* (see :mod:`micrograd.oracle.worker`)
whose inputs stay inside the op's domain and away from its kinks, plus a
*probe*: the simplest program, run first, which decides whether the op is
supported at all. The op checks are derived from :data:`micrograd.rules.RULES`;
:data:`REFERENCE_ONLY` names the rules a student's engine is not expected to have.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from hypothesis import strategies as st

__all__ = [
    "CATALOGUE",
    "DEEP_CHAIN_DEPTH",
    "REFERENCE_ONLY",
    "Check",
    "check_named",
]

Program = dict[str, Any]
Programs = Callable[[Collection[str]], "st.SearchStrategy[Program] | None"]
"""Given the op checks that passed, a strategy of programs (None: the check cannot run)."""

DEEP_CHAIN_DEPTH: Final = 500
"""The length of the chain the ``deep_chain`` check always tries."""

REFERENCE_ONLY: Final = frozenset({"sum", "dot"})
"""Rules of the reference engine that the lecture's engines do not have (fused n-ary ops)."""


@dataclass(frozen=True)
class Check:
    """One graded property of a student's engine."""

    name: str
    """A short identifier, used in ``--require`` and as the pytest test name."""
    op: str
    """The expression under test, as a student would write it (``a * b``, ``2 - a``)."""
    kind: str
    """``"op"`` (one operation; may be unsupported) or ``"graph"`` (a property of backward)."""
    rule: str | None
    """The name of the rule in :data:`micrograd.rules.RULES` that gives the expected numbers."""
    probe: Program
    """The simplest program, run first."""
    programs: Programs
    """Strategy of programs, given the names of the op checks that passed (None: cannot run)."""
    needs: str = ""
    """For graph checks: what must have passed for the check to run, in words."""


def _program(leaves: list[float], *ops: list[Any], root_grad: bool = False) -> Program:
    return {"leaves": leaves, "ops": list(ops), "root_grad": root_grad}


# Domains: every input strictly inside the op's domain and away from kinks and poles.

_ANY = st.floats(-10.0, 10.0)
_NONZERO = st.one_of(st.floats(0.1, 10.0), st.floats(-10.0, -0.1))
_POSITIVE = st.floats(0.1, 10.0)
_SMALL = st.floats(-3.0, 3.0)
_INTS = st.integers(-5, 5)
_NONZERO_INTS = st.integers(1, 5) | st.integers(-5, -1)


_NUMBER = st.one_of(_INTS, _ANY)  # ints as students write them (2 * a), and floats
_NONZERO_NUMBER = st.one_of(_NONZERO_INTS, _NONZERO)


def _always(strategy: st.SearchStrategy[Program]) -> Programs:
    """An op check's programs, which do not depend on what else passed."""
    return lambda _passed: strategy


def _value_value(symbol: str, x: float, y: float) -> Program:
    return _program([x, y], ["bin", symbol, 0, 1])


def _value_number(symbol: str, x: float, c: float) -> Program:
    return _program([x], ["lnum", symbol, 0, c])


def _number_value(symbol: str, c: float, x: float) -> Program:
    return _program([x], ["rnum", symbol, c, 0])


def _unary_program(name: str, x: float) -> Program:
    return _program([x], ["un", name, 0])


def _binary_checks() -> list[Check]:
    """For + - * /: Value ∘ Value, Value ∘ number and number ∘ Value (the reflected form)."""
    checks = []
    for rule, symbol in {"add": "+", "sub": "-", "mul": "*", "div": "/"}.items():
        right, right_number = (_NONZERO, _NONZERO_NUMBER) if rule == "div" else (_ANY, _NUMBER)
        checks += [
            Check(
                rule,
                f"a {symbol} b",
                "op",
                rule,
                _value_value(symbol, 2.0, 4.0),
                _always(st.builds(partial(_value_value, symbol), _ANY, right)),
            ),
            Check(
                f"{rule}_number",
                f"a {symbol} 2",
                "op",
                rule,
                _value_number(symbol, 2.0, 4),
                _always(st.builds(partial(_value_number, symbol), _ANY, right_number)),
            ),
            Check(
                f"r{rule}",
                f"2 {symbol} a",
                "op",
                rule,
                _number_value(symbol, 4, 2.0),
                _always(st.builds(partial(_number_value, symbol), _NUMBER, right)),
            ),
        ]
    return checks


def _power(leaves: st.SearchStrategy[float], exponents: st.SearchStrategy[float]) -> Programs:
    return _always(st.builds(partial(_value_number, "**"), leaves, exponents))


def _unary(name: str, domain: st.SearchStrategy[float]) -> Programs:
    return _always(st.builds(partial(_unary_program, name), domain))


def _away_from_zero(limit: float) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(0.01, limit), st.floats(-limit, -0.01))


_OP_CHECKS: Final = [
    *_binary_checks(),
    Check("neg", "-a", "op", "neg", _program([2.0], ["un", "neg", 0]), _unary("neg", _ANY)),
    Check(
        "pow_int",
        "a ** 2 (integer exponents 0 to 4)",
        "op",
        "pow_const",
        _program([2.0], ["lnum", "**", 0, 2]),
        _power(_NONZERO, st.integers(0, 4)),
    ),
    Check(
        "pow_negative",
        "a ** -1 (negative exponents)",
        "op",
        "pow_const",
        _program([2.0], ["lnum", "**", 0, -1]),
        _power(_NONZERO, st.sampled_from([-1, -2, -3, -1.0, -2.0])),
    ),
    Check(
        "pow_fractional",
        "a ** 0.5 (fractional exponents, a > 0)",
        "op",
        "pow_const",
        _program([4.0], ["lnum", "**", 0, 0.5]),
        _power(_POSITIVE, st.sampled_from([0.5, 1.5, -0.5, 2.5, 1 / 3])),
    ),
    Check(
        "pow_value",
        "a ** b (Value exponent, a > 0)",
        "op",
        "pow",
        _program([2.0, 3.0], ["bin", "**", 0, 1]),
        _always(st.builds(partial(_value_value, "**"), _POSITIVE, _SMALL)),
    ),
    Check(
        "rpow",
        "2 ** a (number base > 0)",
        "op",
        "pow",
        _program([3.0], ["rnum", "**", 2, 0]),
        _always(
            st.builds(partial(_number_value, "**"), st.one_of(st.integers(1, 5), _POSITIVE), _SMALL)
        ),
    ),
    Check("exp", "a.exp()", "op", "exp", _program([1.0], ["un", "exp", 0]), _unary("exp", _ANY)),
    Check(
        "log",
        "a.log() (a > 0)",
        "op",
        "log",
        _program([2.0], ["un", "log", 0]),
        _unary("log", st.floats(0.01, 100.0)),
    ),
    Check(
        "tanh", "a.tanh()", "op", "tanh", _program([0.5], ["un", "tanh", 0]), _unary("tanh", _ANY)
    ),
    Check(
        "relu",
        "a.relu() (a away from 0)",
        "op",
        "relu",
        _program([2.0], ["un", "relu", 0]),
        _unary("relu", _away_from_zero(10.0)),
    ),
    Check(
        "sigmoid",
        "a.sigmoid()",
        "op",
        "sigmoid",
        _program([0.5], ["un", "sigmoid", 0]),
        _unary("sigmoid", _ANY),
    ),
]


# Graph properties. They use only ops whose own check passed, so that a failure
# here is the fault of backward(), not of one op's rule.

_REUSE: Final = {  # op check -> the program with one leaf used twice
    "add": ["bin", "+", 0, 0],
    "sub": ["bin", "-", 0, 0],
    "mul": ["bin", "*", 0, 0],
    "div": ["bin", "/", 0, 0],
}

# op check -> how a DAG node applies it: (kind, name, number of register operands)
_DAG_STEPS: Final = {
    "add": ("bin", "+"),
    "sub": ("bin", "-"),
    "mul": ("bin", "*"),
    "add_number": ("lnum", "+"),
    "mul_number": ("lnum", "*"),
    "radd": ("rnum", "+"),
    "rmul": ("rnum", "*"),
    "rsub": ("rnum", "-"),
    "neg": ("un", "neg"),
    "tanh": ("un", "tanh"),
    "sigmoid": ("un", "sigmoid"),
}


def _reused_leaf(passed: Collection[str]) -> st.SearchStrategy[Program] | None:
    ops = [op for name, op in _REUSE.items() if name in passed]
    if not ops:
        return None

    def program(op: list[Any], x: float, twice: bool) -> Program:
        extra = [["bin", op[1], 1, 0]] if twice else []  # (a ∘ a) ∘ a
        return _program([x], op, *extra)

    return st.builds(program, st.sampled_from(ops), _NONZERO, st.booleans())


@st.composite
def _dag(draw: st.DrawFn, steps: list[tuple[str, str]]) -> Program:
    """A random expression DAG whose nodes are often used more than once."""
    n_leaves = draw(st.integers(1, 3))
    leaves = [draw(st.floats(-2.0, 2.0)) for _ in range(n_leaves)]
    ops: list[list[Any]] = []
    for _ in range(draw(st.integers(1, 10))):
        size = n_leaves + len(ops)
        # Prefer the newest registers, so that the graph is deep and intermediates get reused.
        operand = st.integers(max(0, size - 3), size - 1) | st.integers(0, size - 1)
        kind, name = draw(st.sampled_from(steps))
        if kind == "bin":
            ops.append([kind, name, draw(operand), draw(operand)])
        elif kind == "lnum":
            ops.append([kind, name, draw(operand), draw(st.floats(-2.0, 2.0))])
        elif kind == "rnum":
            ops.append([kind, name, draw(st.floats(-2.0, 2.0)), draw(operand)])
        else:
            ops.append([kind, name, draw(operand)])
    return _program(leaves, *ops)


def _reused_node(passed: Collection[str]) -> st.SearchStrategy[Program] | None:
    steps = [step for name, step in _DAG_STEPS.items() if name in passed]
    if not any(kind == "bin" for kind, _ in steps):
        return None
    return _dag(steps)


def _chain(x: float, y: float, depth: int, step: int) -> Program:
    """``x = a + 0``, then ``x = x + b``, ``x = x - b`` or ``x = x * 0.5 + b``: ``depth`` nodes.

    The depth stays under Python's default recursion limit of 1000, so that
    a recursive topological sort (the lecture's) passes.
    """
    ops: list[list[Any]] = []
    for _ in range(depth // 2 if step == 2 else depth):  # at most depth nodes
        last = 2 + len(ops)  # registers: 0 is a, 1 is b, 2 the chain's start
        if step == 2:
            ops += [["lnum", "*", last, 0.5], ["bin", "+", last + 1, 1]]
        else:
            ops.append(["bin", "+" if step == 0 else "-", last, 1])
    return _program([x, y], ["lnum", "+", 0, 0], *ops)


def _deep_chain(passed: Collection[str]) -> st.SearchStrategy[Program] | None:
    if not {"add", "add_number"} <= set(passed):
        return None
    steps = [0] + ([1] if "sub" in passed else []) + ([2] if "mul_number" in passed else [])
    return st.builds(
        _chain, _SMALL, _SMALL, st.integers(1, DEEP_CHAIN_DEPTH), st.sampled_from(steps)
    )


_GRAPH_CHECKS: Final = [
    Check(
        "reused_leaf",
        "a * a, a + a, (a ∘ a) ∘ a",
        "graph",
        None,
        _program([3.0], ["bin", "*", 0, 0]),
        _reused_leaf,
        needs="one of a + b, a - b, a * b, a / b",
    ),
    Check(
        "reused_node",
        "random DAGs reusing intermediate nodes",
        "graph",
        None,
        _program([2.0], ["lnum", "+", 0, 1], ["bin", "*", 1, 1], ["bin", "+", 2, 1]),
        _reused_node,
        needs="one of a + b, a - b, a * b",
    ),
    Check(
        "deep_chain",
        f"chains x = x + b (- b, * 0.5 + b) up to {DEEP_CHAIN_DEPTH} nodes",
        "graph",
        None,
        _chain(0.5, 0.25, DEEP_CHAIN_DEPTH, 0),
        _deep_chain,
        needs="a + b and a + 2",
    ),
]

_ROOT_SEED: Final = Check(
    "root_seed",
    "a.backward() on a leaf: a.grad == 1",
    "graph",
    None,
    _program([2.0], root_grad=True),
    _always(st.builds(partial(_program, root_grad=True), st.lists(_ANY, min_size=1, max_size=1))),
)

CATALOGUE: Final[tuple[Check, ...]] = (_ROOT_SEED, *_OP_CHECKS, *_GRAPH_CHECKS)
"""Every check, in the order they run: the root seed, the ops, then graph properties."""


def check_named(name: str) -> Check:
    """The check called ``name``.

    Raises:
        KeyError: If there is none, with the list of names.
    """
    for check in CATALOGUE:
        if check.name == name:
            return check
    raise KeyError(
        f"no check named {name!r}; the checks are {', '.join(c.name for c in CATALOGUE)}"
    )
