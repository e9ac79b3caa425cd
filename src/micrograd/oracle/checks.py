"""The catalogue of checks: one per op form of the reference engine, and the graph properties.

Each check is a Hypothesis strategy of *programs* (see :mod:`micrograd.oracle.worker`)
whose inputs stay inside the op's domain and away from its kinks. An op check
has a *probe*, the simplest program, run first, which decides whether the op
is supported at all; then it uses its input more than once (``f(a) + a``,
``f(a) + f(a)``, ``a * a``), which is how a gradient replaced (``=``) instead of
accumulated (``+=``) shows. Graph checks build only from the op checks that
passed, their first case included. The op checks are derived from
:data:`micrograd.rules.RULES`; :data:`REFERENCE_ONLY` names the rules a
student's engine is not expected to have.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from hypothesis import strategies as st

from micrograd.oracle.compare import expected

__all__ = [
    "CATALOGUE",
    "COMBINERS",
    "DEEP_CHAIN_DEPTH",
    "EDGE_CHAIN_DEPTH",
    "EDGE_CHECKS",
    "REFERENCE_ONLY",
    "Check",
    "chain",
    "check_named",
    "closure",
    "first_cases",
    "markdown_table",
    "reused",
]

Program = dict[str, Any]
Programs = Callable[[Collection[str]], "st.SearchStrategy[Program] | None"]
"""Given the checks that passed, a strategy of programs (None: the check cannot run)."""

DEEP_CHAIN_DEPTH: Final = 500
"""The length of the chain the ``deep_chain`` check always tries."""

REFERENCE_ONLY: Final = frozenset({"sum", "dot"})
"""Rules of the reference engine that the lecture's engines do not have (fused n-ary ops)."""

COMBINERS: Final = {"add": "+", "mul": "*", "sub": "-"}

_NOT_NESTED: Final = frozenset({"relu"})  # relu(relu(a)) puts the outer relu on its kink
"""Op checks whose op joins two uses of an input (``f(a) + a``), in order of preference."""


@dataclass(frozen=True)
class Check:
    """One graded property of a student's engine."""

    name: str
    """A short identifier, used in ``--only``, ``--require`` and as the pytest test name."""
    op: str
    """The expression under test, short, as a student would write it (``a * b``, ``2 - a``)."""
    kind: str
    """``"op"`` (one operation; may be unsupported), ``"graph"`` (a property of backward) or
    ``"edge"`` (extreme inputs and repeated calls: reported, failing a run only when strict)."""
    rule: str | None
    """The name of the rule in :data:`micrograd.rules.RULES` that gives the expected numbers."""
    probe: Program | None
    """An op check's simplest program, run first (graph checks: None, see :func:`first_cases`)."""
    programs: Programs
    """Strategy of programs, given the names of the checks that passed (None: cannot run)."""
    needs: str = ""
    """For graph checks: what must have passed for the check to run, in words."""
    doc: str = ""
    """What the check catches, for the students' guide."""
    depends: frozenset[str] = field(default_factory=frozenset)
    """Checks whose verdict decides which programs this one draws."""


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


def reused(program: Program, form: int, combiners: str) -> Program:
    """``program``'s one op with its first input used twice.

    Form 0 is ``f(a) + a``, form 1 ``f(a) * f(a)`` (two nodes of the same op,
    each passing down a gradient other than 1), form 2 ``a ∘ a`` (a binary op
    given one Value twice). ``combiners`` holds the symbols that may join the
    two uses, ``+`` preferred for form 0 and ``*`` for form 1. The result is
    marked ``"reuse": True``.
    """
    (op,) = program["ops"]
    n = len(program["leaves"])
    if form == 0:
        plus = "+" if "+" in combiners else combiners[0]
        ops = [op, ["bin", plus, n, 0]]
    elif form == 1:
        times = "*" if "*" in combiners else combiners[0]
        ops = [op, op, ["bin", times, n, n + 1]]
    else:
        ops = [[*op[:3], 0]]
    return {**program, "ops": ops, "reuse": True}


def nested(program: Program) -> Program:
    """``program`` with its one op applied to its result: ``f(f(a))``, ``(a * 2) * 2``.

    The inner node then gets a gradient other than 1 from a node of the same
    op, with no other op involved, which is where a forgotten ``* out.grad``
    shows. The result is marked ``"nested": True``.
    """
    (op,) = program["ops"]
    n = len(program["leaves"])
    outer = [*op[:3], n] if op[0] == "rnum" else [op[0], op[1], n, *op[3:]]
    return {**program, "ops": [op, outer], "nested": True}


def _moderate(program: Program) -> bool:
    """Whether a nested program stays in the range where single uses are drawn.

    Its inner result is in 0.01 <= |x| <= 100 (away from poles and kinks at
    0), every number is finite and gradients stay below 10^6 (``c / (c / a)``
    with a tiny c overflows a student's ``x ** -2``).
    """
    want = expected(program)
    if "error" in want:
        return False
    inner = abs(want["data"][len(program["leaves"])])
    numbers = [*want["data"], *want["grads"]]
    return (
        0.01 <= inner <= 100
        and all(math.isfinite(x) for x in numbers)
        and all(abs(g) < 1e6 for g in want["grads"])
    )


def _combiners(name: str, passed: Collection[str]) -> str:
    """The symbols that may join two uses of an input in ``name``'s reuse cases ("": none)."""
    if name in COMBINERS:
        return COMBINERS[name]  # add, mul and sub combine with themselves
    return "".join(symbol for check, symbol in COMBINERS.items() if check in passed)


def _op_check(  # noqa: PLR0917 - one row of the catalogue, read as a table
    name: str,
    op: str,
    rule: str,
    probe: Program,
    single: st.SearchStrategy[Program],
    doc: str,
    *,
    self_reuse: bool = False,
) -> Check:
    """An op check: single uses of the op, nested ones, and its input used twice.

    The reuse cases need a combiner that passed; ops in :data:`_NOT_NESTED` are not nested.
    """

    def programs(passed: Collection[str]) -> st.SearchStrategy[Program]:
        symbols = _combiners(name, passed)
        forms = [single]
        if name not in _NOT_NESTED:
            forms.append(single.map(nested).filter(_moderate))
        if symbols:
            reuses = [1, 0, 2] if self_reuse else [1, 0]  # f(a) * f(a) first: it names the op
            forms.append(st.builds(reused, single, st.sampled_from(reuses), st.just(symbols)))
        return st.one_of(*forms)

    depends = frozenset() if name in COMBINERS else frozenset(COMBINERS)
    return Check(name, op, "op", rule, probe, programs, doc=doc, depends=depends)


def first_cases(check: Check, passed: Collection[str]) -> list[Program]:
    """The cases a check runs before drawing any: its probe, then its simplest reuses.

    For an op check the first case is the probe (it decides whether the op is
    there); for a graph check it is the simplest program built from the ops
    that passed. Empty when the check cannot run.
    """
    if check.probe is None:
        strategy = check.programs(passed)
        return [] if strategy is None else [_simplest(check.name, passed)]
    cases = [check.probe]
    symbols = _combiners(check.name, passed)
    if check.kind == "op" and symbols:
        forms = [1, 0, 2] if check.probe["ops"][0][0] == "bin" else [1, 0]
        cases += [reused(check.probe, form, symbols) for form in forms]
    if check.kind == "op" and check.name not in _NOT_NESTED:
        twice = nested(check.probe)
        cases += [twice] if _moderate(twice) else []
    return cases


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
        dunder = {"add": "add", "sub": "sub", "mul": "mul", "div": "truediv"}[rule]
        right, right_number = (_NONZERO, _NONZERO_NUMBER) if rule == "div" else (_ANY, _NUMBER)
        left = _NONZERO if rule == "div" else _ANY  # a / a is also drawn
        checks += [
            _op_check(
                rule,
                f"a {symbol} b",
                rule,
                _value_value(symbol, 2.0, 4.0),
                st.builds(partial(_value_value, symbol), left, right),
                f"`a {symbol} b` with two Values, and `a {symbol} a`",
                self_reuse=True,
            ),
            _op_check(
                f"{rule}_number",
                f"a {symbol} 2",
                rule,
                _value_number(symbol, 2.0, 4),
                st.builds(partial(_value_number, symbol), _ANY, right_number),
                f"`a {symbol} 2`: a number on the right (ints and floats)",
            ),
            _op_check(
                f"r{rule}",
                f"2 {symbol} a",
                rule,
                _number_value(symbol, 4, 2.0),
                st.builds(partial(_number_value, symbol), _NUMBER, right),
                f"`2 {symbol} a`: the reflected operator `__r{dunder}__`",
            ),
        ]
    return checks


def _power(leaves: st.SearchStrategy[float], exponents: st.SearchStrategy[float]) -> Any:  # noqa: ANN401 - a strategy of programs
    return st.builds(partial(_value_number, "**"), leaves, exponents)


def _unary(name: str, domain: st.SearchStrategy[float]) -> st.SearchStrategy[Program]:
    return st.builds(partial(_unary_program, name), domain)


def _away_from_zero(limit: float) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(0.01, limit), st.floats(-limit, -0.01))


_OP_CHECKS: Final = [
    *_binary_checks(),
    _op_check("neg", "-a", "neg", _program([2.0], ["un", "neg", 0]), _unary("neg", _ANY), "`-a`"),
    _op_check(
        "pow_int",
        "a ** k, k in 0..4",
        "pow_const",
        _program([2.0], ["lnum", "**", 0, 2]),
        _power(_NONZERO, st.integers(0, 4)),
        "`a ** k` for integer k from 0 to 4",
    ),
    _op_check(
        "pow_negative",
        "a ** -1",
        "pow_const",
        _program([2.0], ["lnum", "**", 0, -1]),
        _power(_NONZERO, st.sampled_from([-1, -2, -3, -1.0, -2.0])),
        "`a ** k` for negative k",
    ),
    _op_check(
        "pow_fractional",
        "a ** 0.5 (a > 0)",
        "pow_const",
        _program([4.0], ["lnum", "**", 0, 0.5]),
        _power(_POSITIVE, st.sampled_from([0.5, 1.5, -0.5, 2.5, 1 / 3])),
        "`a ** k` for fractional k, a > 0",
    ),
    _op_check(
        "pow_value",
        "a ** b (a > 0)",
        "pow",
        _program([2.0, 3.0], ["bin", "**", 0, 1]),
        st.builds(partial(_value_value, "**"), _POSITIVE, _SMALL),
        "`a ** b` with a Value exponent, a > 0",
    ),
    _op_check(
        "rpow",
        "2 ** a",
        "pow",
        _program([3.0], ["rnum", "**", 2, 0]),
        st.builds(partial(_number_value, "**"), st.one_of(st.integers(1, 5), _POSITIVE), _SMALL),
        "`2 ** a`: a number base > 0, `__rpow__`",
    ),
    _op_check(
        "exp", "a.exp()", "exp", _program([1.0], ["un", "exp", 0]), _unary("exp", _ANY), "`a.exp()`"
    ),
    _op_check(
        "log",
        "a.log() (a > 0)",
        "log",
        _program([2.0], ["un", "log", 0]),
        _unary("log", st.floats(0.01, 100.0)),
        "`a.log()`, a > 0",
    ),
    _op_check(
        "tanh",
        "a.tanh()",
        "tanh",
        _program([0.5], ["un", "tanh", 0]),
        _unary("tanh", _ANY),
        "`a.tanh()`",
    ),
    _op_check(
        "relu",
        "a.relu() (a != 0)",
        "relu",
        _program([2.0], ["un", "relu", 0]),
        _unary("relu", _away_from_zero(10.0)),
        "`a.relu()`, a away from 0",
    ),
    _op_check(
        "sigmoid",
        "a.sigmoid()",
        "sigmoid",
        _program([0.5], ["un", "sigmoid", 0]),
        _unary("sigmoid", _ANY),
        "`a.sigmoid()`",
    ),
]

_OP_NAMES: Final = frozenset(c.name for c in _OP_CHECKS)


# Graph properties. They use only ops whose own check passed, so that a failure
# here is the fault of backward(), not of one op's rule.

# op check -> how a DAG node applies it
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


@st.composite
def _dag(draw: st.DrawFn, steps: list[tuple[str, str]]) -> Program:
    """A random expression DAG whose nodes are often used more than once."""
    n_leaves = draw(st.integers(1, 3))
    leaves = [draw(st.floats(-2.0, 2.0)) for _ in range(n_leaves)]
    ops: list[list[Any]] = []
    for _ in range(draw(st.integers(2, 10))):
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


def _diamond(x: float, y: float, symbol: str) -> Program:
    """``c = a ∘ b; d = c ∘ b; e = c ∘ d``: node c is reached by two paths."""
    return _program([x, y], ["bin", symbol, 0, 1], ["bin", symbol, 2, 1], ["bin", symbol, 2, 3])


def chain(x: float, y: float, depth: int, step: int) -> Program:
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
        chain, _SMALL, _SMALL, st.integers(1, DEEP_CHAIN_DEPTH), st.sampled_from(steps)
    )


def _simplest(name: str, passed: Collection[str]) -> Program:
    """The first case of a graph or edge check: its simplest program, from the ops that passed."""
    if name == "reused_node":
        return _diamond(2.0, 3.0, next(s for check, s in COMBINERS.items() if check in passed))
    if name in ("deep_chain", "deep_chain_5000"):
        return chain(0.5, 0.25, DEEP_CHAIN_DEPTH if name == "deep_chain" else EDGE_CHAIN_DEPTH, 0)
    if name == "backward_twice":
        return _twice(2.0, 3.0, 4.0)
    op, x = _EDGE_UNARY[name]
    program = _unary_program(op, x)
    return _convention(program) if op == "relu" else program


_EDGE_UNARY: Final = {  # check -> (op, first input) of the edge group's unary checks
    "tanh_edge": ("tanh", 400.0),
    "sigmoid_edge": ("sigmoid", -800.0),
    "exp_edge": ("exp", 700.0),
    "relu_edge": ("relu", 0.0),
}

_GRAPH_CHECKS: Final = [
    Check(
        "reused_node",
        "DAGs reusing nodes",
        "graph",
        None,
        None,
        _reused_node,
        needs="one of a + b, a - b, a * b",
        doc="random expression DAGs whose intermediate nodes are used several times: catches a "
        "missing or wrong topological sort, a node visited twice, forgetting `* out.grad`",
        depends=_OP_NAMES,
    ),
    Check(
        "deep_chain",
        f"chains {DEEP_CHAIN_DEPTH} deep",
        "graph",
        None,
        None,
        _deep_chain,
        needs="a + b and a + 2",
        doc=f"chains `x = x + b` (`- b`, `* 0.5 + b`) up to {DEEP_CHAIN_DEPTH} nodes deep",
        depends=_OP_NAMES,
    ),
]


def _root_seed(x: float) -> Program:
    return _program([x], root_grad=True)


_ROOT_SEED: Final = Check(
    "root_seed",
    "a.backward(): a.grad == 1",
    "graph",
    None,
    _program([2.0], root_grad=True),
    lambda _passed: st.builds(_root_seed, _ANY),
    doc="`a.backward()` on a lone leaf sets `a.grad` to 1 (the gradient seed of the root)",
)

_FIRST: Final = [c for c in _OP_CHECKS if c.name in COMBINERS]  # the others reuse with them

# The edge group: inputs far from the ops' usual range, and calls a training loop makes.
# Reported apart; they fail a run only with --strict.

EDGE_CHAIN_DEPTH: Final = 5000
"""The length of the ``deep_chain_5000`` check's chain, past Python's default recursion limit."""


def _convention(program: Program) -> Program:
    """``program`` marked as a convention: no central difference can confirm it (a kink)."""
    return {**program, "convention": True}


def _edge_unary(name: str, op: str, domain: st.SearchStrategy[float], doc: str) -> Check:
    def programs(passed: Collection[str]) -> st.SearchStrategy[Program] | None:
        if name not in passed:
            return None
        return _unary(name, domain).map(_convention) if name == "relu" else _unary(name, domain)

    return Check(
        f"{name}_edge",
        op,
        "edge",
        name,
        None,
        programs,
        needs=f"a.{name}()",
        doc=doc,
        depends=frozenset({name}),
    )


def _large(low: float, high: float) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(low, high), st.floats(-high, -low))


def _twice(x: float, y: float, z: float) -> Program:
    """``d = a * b + c``, then ``d.backward()`` twice: leaves hold twice one call's gradient."""
    return {**_program([x, y, z], ["bin", "*", 0, 1], ["bin", "+", 3, 2]), "backward_calls": 2}


def _edge_checks() -> list[Check]:
    def twice(passed: Collection[str]) -> st.SearchStrategy[Program] | None:
        return st.builds(_twice, _SMALL, _SMALL, _SMALL) if {"add", "mul"} <= set(passed) else None

    def deeper(passed: Collection[str]) -> st.SearchStrategy[Program] | None:
        return (
            st.just(chain(0.5, 0.25, EDGE_CHAIN_DEPTH, 0))
            if {"add", "add_number"} <= set(passed)
            else None
        )

    return [
        _edge_unary(
            "tanh",
            "a.tanh(), |a| >= 20",
            _large(20.0, 1000.0),
            "`a.tanh()` for 20 <= |a| <= 1000: ±1, gradient 0 (the lecture's "
            "`(exp(2a) - 1) / (exp(2a) + 1)` overflows past 355)",
        ),
        _edge_unary(
            "sigmoid",
            "a.sigmoid(), |a| >= 20",
            _large(20.0, 1000.0),
            "`a.sigmoid()` for 20 <= |a| <= 1000: 0 or 1 "
            "(`1 / (1 + exp(-a))` overflows below -709)",
        ),
        _edge_unary(
            "exp",
            "a.exp(), |a| >= 50",
            st.one_of(st.floats(50.0, 709.0), st.floats(-745.0, -50.0)),
            "`a.exp()` for 50 <= |a|, up to the largest finite result",
        ),
        _edge_unary(
            "relu",
            "a.relu() at a = 0",
            st.just(0.0),
            "`a.relu()` at the kink: 0, with gradient 0 as in PyTorch "
            "(a convention; `>= 0` gives 1)",
        ),
        Check(
            "backward_twice",
            "d.backward() twice",
            "edge",
            None,
            None,
            twice,
            needs="a + b and a * b",
            doc="`d = a * b + c; d.backward(); d.backward()`: each leaf holds twice one call's "
            "gradient, as in PyTorch (interior nodes must not keep their grad from the first call)",
            depends=frozenset({"add", "mul"}),
        ),
        Check(
            "deep_chain_5000",
            f"a chain {EDGE_CHAIN_DEPTH} deep",
            "edge",
            None,
            None,
            deeper,
            needs="a + b and a + 2",
            doc=f"a chain `x = x + b` {EDGE_CHAIN_DEPTH} nodes deep: past Python's recursion "
            "limit, where a recursive topological sort stops",
            depends=frozenset({"add", "add_number"}),
        ),
    ]


EDGE_CHECKS: Final = tuple(_edge_checks())
"""The edge group, run after the others."""

CATALOGUE: Final[tuple[Check, ...]] = (
    _ROOT_SEED,
    *_FIRST,
    *(c for c in _OP_CHECKS if c not in _FIRST),
    *_GRAPH_CHECKS,
    *EDGE_CHECKS,
)
"""Every check, in the order they run: the root seed, the ops (``a + b``, ``a - b`` and
``a * b`` first, since the other ops' reuse cases combine with them), graph properties, then
the edge group (kind ``"edge"``)."""


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


def closure(names: Iterable[str]) -> frozenset[str]:
    """``names`` and every check they depend on, so that a check reruns alone as it ran in full.

    ``root_seed`` is always in: it is cheap, and tells a root cause apart.
    """
    wanted = {*names, "root_seed"}
    for check in CATALOGUE:
        if check.name in wanted:
            wanted |= check.depends
    for check in CATALOGUE:  # a dependency's own dependencies (the combiners have none)
        if check.name in wanted:
            wanted |= check.depends
    return frozenset(wanted)


def markdown_table() -> str:
    """The students' guide's table of checks, generated from the catalogue."""
    rows = ["| check | what |", "| --- | --- |"]
    rows += [f"| `{c.name}` | {c.doc} |" for c in CATALOGUE]
    return "\n".join(rows) + "\n"
