"""The grader's child process: load a student's engine and run expression programs on it.

This module imports the standard library only. The child loads it from its
file (see :data:`micrograd.oracle.runner.BOOTSTRAP`) without importing *our*
``micrograd`` package: a student's engine may itself be a package named
``micrograd`` (Karpathy's is), and it must win. The parent imports the same
module to evaluate programs with the reference engine, so one interpreter
serves both sides.

A *program* is a JSON-friendly dict::

    {"leaves": [0.5, -1.25],            # registers 0, 1: Value(0.5), Value(-1.25)
     "ops": [["bin", "*", 0, 1],        # register 2: r0 * r1
             ["rnum", "-", 3, 2],       # register 3: 3 - r2   (number on the left)
             ["lnum", "**", 3, 2],      # register 4: r3 ** 2  (number on the right)
             ["un", "tanh", 4]],        # register 5: r4.tanh()
     "root_grad": false}                # also report the root's grad after backward()

The last register is the root; ``backward()`` is called on it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import operator
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "METHODS",
    "CappedText",
    "build",
    "evaluate",
    "load_class",
    "method_for",
    "missing_method",
]

Program = dict[str, Any]
Result = dict[str, Any]

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}
_DUNDER = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "**": "pow"}
METHODS = ("exp", "log", "tanh", "relu", "sigmoid")
"""The unary ops a student's ``Value`` provides as methods (``neg`` is the ``-x`` operator)."""

_CAUGHT = (Exception, SystemExit)
"""What a student's code may raise and we report; KeyboardInterrupt still stops us."""

OUTPUT_CAP = 4000
"""At most this many characters of a student's printed output are kept per request."""


def method_for(instruction: Sequence[Any]) -> str:
    """The name of the method of the student's class that ``instruction`` calls."""
    kind, name = instruction[0], instruction[1]
    if kind == "un":
        return "__neg__" if name == "neg" else str(name)
    prefix = "__r" if kind == "rnum" else "__"
    return f"{prefix}{_DUNDER[name]}__"


def missing_method(cls: type, program: Program) -> str | None:
    """The first method ``program`` needs that ``cls`` lacks, or None."""
    for instruction in program["ops"]:
        name = method_for(instruction)
        if not callable(getattr(cls, name, None)):
            return name
    return None


def _missing(name: str, program: Program) -> Result:
    """The result of a program that needs method ``name``, which the class lacks."""
    calls = [method_for(instruction) for instruction in program["ops"]]
    return {
        "missing": name,
        "error": f"AttributeError: Value has no {name}",
        "exc_type": "AttributeError",
        "phase": "forward",
        "step": len(program["leaves"]) + calls.index(name),
        "trace": "",
    }


def _as_float(node: Any, attribute: str) -> float:
    """``float(node.<attribute>)``, accepting ints, numpy scalars and 0-d tensors."""
    return float(getattr(node, attribute))


def evaluate(
    program: Program, make_leaf: Callable[[float], Any], *, none_is_zero: bool = False
) -> Result:
    """Run ``program`` with leaves made by ``make_leaf`` and report every number.

    Returns ``{"data": [...], "grads": [...], "root_grad": g}`` (``data`` of
    every register, ``grad`` of every leaf, the root's ``grad`` or None; a
    ``grad`` of None counts as 0 if ``none_is_zero``, as for PyTorch), or on
    an exception ``{"error": "Type: message", "exc_type": ..., "phase": ...,
    "step": k, "trace": ...}`` where ``phase`` is ``forward``, ``backward`` or
    ``read`` and ``step`` is the register being built when it was raised.
    """
    phase, step = "forward", 0
    try:
        registers, step = build(program, make_leaf)
        phase = "backward"
        registers[-1].backward()
        phase = "read"
        data = [_as_float(node, "data") for node in registers]
        n = len(program["leaves"])
        grads = [
            0.0 if none_is_zero and node.grad is None else _as_float(node, "grad")
            for node in registers[:n]
        ]
        root_grad = _as_float(registers[-1], "grad") if program.get("root_grad") else None
    except _CAUGHT as caught:
        exc: BaseException = caught
        if isinstance(caught, _Progress):
            phase, step, exc = "forward", caught.step, caught.cause
        return {
            "error": _describe(exc),
            "exc_type": type(exc).__name__,
            "phase": phase,
            "step": step,
            "trace": _student_trace(exc),
        }
    return {"data": data, "grads": grads, "root_grad": root_grad}


class _Progress(Exception):
    """Carries the register index at which the forward pass raised."""

    def __init__(self, step: int, cause: BaseException) -> None:
        super().__init__(step)
        self.step = step
        self.cause = cause


def build(program: Program, make_leaf: Callable[[float], Any]) -> tuple[list[Any], int]:
    """Build the program's graph; returns its registers and their count.

    An exception is re-raised wrapped with the index of the register being built.
    """
    registers: list[Any] = []
    try:
        registers.extend(make_leaf(x) for x in program["leaves"])
        for instruction in program["ops"]:
            registers.append(_apply(registers, instruction))
    except _CAUGHT as exc:
        raise _Progress(len(registers), exc) from exc
    return registers, len(registers)


def _apply(registers: list[Any], instruction: Sequence[Any]) -> Any:
    """The register built by one instruction."""
    kind, name, a, b = (*instruction, None)[:4]
    if kind == "bin":
        return _BINARY[name](registers[a], registers[b])
    if kind == "lnum":
        return _BINARY[name](registers[a], b)
    if kind == "rnum":
        return _BINARY[name](a, registers[b])  # the number on the left: reflected
    if name == "neg":
        return -registers[a]
    return getattr(registers[a], name)()


def _describe(exc: BaseException) -> str:
    """``Type: message``, with the exit code for ``sys.exit``."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: the engine called sys.exit({exc.code!r})"
    text = str(exc)
    if len(text) > 300:
        text = text[:300] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _student_trace(exc: BaseException) -> str:
    """The last frames of the traceback, those inside the student's code, capped."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = os.path.abspath(__file__)
    theirs = [f for f in frames if os.path.abspath(f.filename) != mine]
    lines = traceback.format_list(theirs[-4:])
    return "".join(lines)[-1500:]


class CappedText:
    """A text stream keeping the first :data:`OUTPUT_CAP` characters written to it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def write(self, text: str) -> int:
        """Keep what fits under the cap and count the rest."""
        room = OUTPUT_CAP - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        """Nothing to flush: the text is kept in memory."""

    def isatty(self) -> bool:
        """Never a terminal."""
        return False

    def take(self) -> str:
        """What was kept since the last call, with a note of what was dropped; then reset."""
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[… {self.dropped} more characters of output dropped]"
        self.parts, self.kept, self.dropped = [], 0, 0
        return text


def load_class(target: str, kind: str, class_name: str) -> type:
    """The student's class: ``kind`` is ``"path"`` (a .py file) or ``"module"`` (a name).

    A file is imported under a unique module name, with its folder first on
    ``sys.path`` so that its own sibling imports work.
    """
    if kind == "path":
        folder = os.path.dirname(os.path.abspath(target))
        sys.path.insert(0, folder)
        stem = os.path.splitext(os.path.basename(target))[0]
        name = f"_micrograd_student_{stem}"
        spec = importlib.util.spec_from_file_location(name, target)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {target}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        where = target
        found = "nothing" if cls is None else type(cls).__name__
        raise LookupError(f"{where} has no class {class_name!r} (found {found})")
    return cls


FILE_SIZE_LIMIT = 64 * 1024**2
"""The largest file the child may write: its stderr (kept for crash reports) included."""


def _limit_resources(memory_bytes: int) -> None:
    """Cap the address space and file sizes, and forbid core dumps (POSIX only)."""
    import resource  # noqa: PLC0415 - POSIX only, imported where used

    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def serve(config: dict[str, Any], receive: Callable[[], Any], send: Callable[[Any], None]) -> None:
    """Load the engine named in ``config``, then answer requests until told to stop."""
    captured = CappedText()
    sys.stdout = sys.stderr = captured
    try:
        cls = load_class(config["target"], config["kind"], config["class_name"])
    except _CAUGHT as exc:
        send(
            {"load_error": _describe(exc), "trace": _student_trace(exc), "output": captured.take()}
        )
        return
    send({"ready": f"{cls.__module__}.{cls.__qualname__}", "output": captured.take()})
    while True:
        request = receive()
        if request is None:
            return
        if "networks" in request:
            results = [run_network(config["nn"], network) for network in request["networks"]]
        else:
            results = []
            for program in request["programs"]:
                missing = missing_method(cls, program)
                results.append(_missing(missing, program) if missing else evaluate(program, cls))
        send({"results": results, "output": captured.take()})


def run_network(nn: dict[str, str], network: dict[str, Any]) -> Result:
    """Build the student's MLP, give it ``network["params"]`` and run every input through it.

    ``nn`` names the student's module and class like a target; ``network`` has
    ``nin``, ``nouts``, ``params`` (in ``parameters()`` order) and ``inputs``.
    Returns ``{"outputs": [...], "grads": [[...], ...]}``: for each input, the
    output and d(output)/d(parameter) for every parameter (grads zeroed before
    each input); or an error as :func:`evaluate` reports it.
    """
    phase = "load"
    try:
        cls = _nn_class(nn["target"], nn["kind"], nn["class_name"])
        phase = "forward"
        model = cls(network["nin"], network["nouts"])
        params = list(model.parameters())
        if len(params) != len(network["params"]):
            raise LookupError(
                f"parameters() has {len(params)} items, expected {len(network['params'])} "
                "(each neuron's weights and bias)"
            )
        for p, value in zip(params, network["params"]):  # noqa: B905 - lengths checked above
            p.data = value
        outputs, grads = [], []
        for x in network["inputs"]:
            phase = "forward"
            for p in params:
                p.grad = 0.0
            out = model(list(x))
            if isinstance(out, (list, tuple)):
                (out,) = out
            phase = "backward"
            out.backward()
            phase = "read"
            outputs.append(_as_float(out, "data"))
            grads.append([_as_float(p, "grad") for p in params])
    except _CAUGHT as exc:
        return {"error": _describe(exc), "exc_type": type(exc).__name__, "phase": phase}
    return {"outputs": outputs, "grads": grads}


@functools.cache
def _nn_class(target: str, kind: str, class_name: str) -> type:
    """The student's MLP class, imported once."""
    return load_class(target, kind, class_name)


def main(argv: Sequence[str]) -> None:
    """Entry point of the child process, given the file descriptors of its two pipes."""
    import faulthandler  # noqa: PLC0415 - child only
    from multiprocessing.connection import Connection  # noqa: PLC0415 - child only

    faulthandler.enable()  # a segfault in the engine leaves a Python traceback on stderr

    requests = Connection(int(argv[0]), writable=False)
    responses = Connection(int(argv[1]), readable=False)

    def receive() -> Any:
        return json.loads(requests.recv_bytes())

    def send(message: Any) -> None:
        responses.send_bytes(json.dumps(message).encode())

    config = receive()
    _limit_resources(int(config.get("memory_bytes", 0)))
    sys.setrecursionlimit(int(config.get("recursion_limit", 1000)))
    sys.path[:0] = [os.path.abspath(p) for p in config.get("paths", [])]
    serve(config, receive, send)
