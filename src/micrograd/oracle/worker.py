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
     "root_grad": false,                # also report the root's grad after backward()
     "backward_calls": 1}               # how many times backward() is called (default 1)

The last register is the root; ``backward()`` is called on it.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import json
import operator
import os
import signal
import struct
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = [
    "DISPLAY_MODULES",
    "METHODS",
    "REFERENCE_REFUSED",
    "CappedText",
    "DisplayStubs",
    "ReferenceBlocker",
    "build",
    "evaluate",
    "frame",
    "load_class",
    "method_for",
    "missing_method",
    "operands",
    "read_message",
    "write_all",
    "write_message",
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


def methods_of(cls: type) -> list[str]:
    """The methods of ``cls`` that the checks' programs may call, sorted."""
    names = [f"__{prefix}{dunder}__" for dunder in _DUNDER.values() for prefix in ("", "r")]
    return sorted(n for n in (*names, "__neg__", *METHODS) if callable(getattr(cls, n, None)))


def operands(instruction: Sequence[Any]) -> list[int]:
    """The registers an instruction reads (``["bin", "*", 0, 0]`` reads register 0 twice)."""
    kind = instruction[0]
    if kind == "bin":
        return [instruction[2], instruction[3]]
    return [instruction[3]] if kind == "rnum" else [instruction[2]]


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
    operator_method = name.startswith("__")  # Python then refuses the operands: a TypeError
    return {
        "missing": name,
        "error": f"{'TypeError' if operator_method else 'AttributeError'}: Value has no {name}",
        "exc_type": "TypeError" if operator_method else "AttributeError",
        "phase": "forward",
        "step": len(program["leaves"]) + calls.index(name),
        "trace": "",
    }


def _as_float(node: Any, attribute: str) -> float:
    """``float(node.<attribute>)``, accepting ints, numpy scalars and 0-d tensors.

    Raises:
        AttributeError: If ``node`` has no such attribute, naming the numbers it does hold.
    """
    try:
        value = getattr(node, attribute)
    except AttributeError:
        numbers = [
            k for k, v in getattr(node, "__dict__", {}).items() if isinstance(v, int | float)
        ]
        held = f"; it holds {', '.join(numbers)}" if numbers else ""
        raise AttributeError(f"{type(node).__name__} has no {attribute!r}{held}") from None
    return float(value)


def _call_backward(root: Any) -> None:
    root.backward()


def _grad(node: Any) -> float:
    """``node.grad`` as a float; a ``grad`` of None counts as 0, as in PyTorch."""
    return 0.0 if node.grad is None else _as_float(node, "grad")


def _grad_or_none(node: Any) -> float | None:
    """A leaf's ``grad`` before ``backward()`` (None counts as 0), or None if it is no number."""
    try:
        return _grad(node)
    except Exception:  # any student object; None means "not a number yet"
        return None


def evaluate(
    program: Program,
    make_leaf: Callable[[float], Any],
    *,
    backward: Callable[[Any], None] = _call_backward,
) -> Result:
    """Run ``program`` with leaves made by ``make_leaf`` and report every number.

    Returns ``{"data": [...], "grads": [...], "root_grad": g, "grads_before":
    [...]}`` (``data`` of every register, ``grad`` of every leaf after
    ``backward(root)``, the root's ``grad`` (None unless ``root_grad`` is asked
    for), and every leaf's ``grad`` before ``backward`` or None; a ``grad``
    of None counts as 0, as in PyTorch, where a leaf that backward does not
    reach keeps None), or on an exception ``{"error": "Type:
    message", "exc_type": ..., "phase": ..., "step": k, "trace": ...}`` where
    ``phase`` is ``forward``, ``backward`` or ``read`` and ``step`` is the
    register being built when it was raised.
    """
    phase, step = "forward", 0
    try:
        registers, step = build(program, make_leaf)
        n = len(program["leaves"])
        before = [_grad_or_none(node) for node in registers[:n]]
        phase = "backward"
        for _ in range(program.get("backward_calls", 1)):
            backward(registers[-1])
        phase = "read"
        data = [_as_float(node, "data") for node in registers]
        grads = [_grad(node) for node in registers[:n]]
        root_grad = _grad(registers[-1]) if program.get("root_grad") else None
        narrow = _narrow_type(registers[-1])
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
    result: Result = {"data": data, "grads": grads, "root_grad": root_grad, "grads_before": before}
    if narrow:
        result["narrow"] = narrow
    return result


def _narrow_type(node: Any) -> str:
    """The name of ``node.data``'s type when it holds fewer digits than a float ("" if not).

    NumPy's float32 and float16 keep about 7 and 3 digits: a right formula
    then misses the grader's tolerance, and the report should say why.
    """
    kind = type(node.data)
    itemsize = getattr(node.data, "itemsize", 8) if kind.__module__ == "numpy" else 8
    if not isinstance(itemsize, int) or itemsize >= 8:
        return ""
    return f"numpy.{getattr(node.data, 'dtype', kind.__name__)}"  # an array's too: its dtype


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
    """``Type: message``; the code of ``sys.exit``; the Python, where a newer one may be why."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: the engine called sys.exit({exc.code!r})"
    if isinstance(exc, RecursionError):  # its wording depends on where the limit was hit
        return "RecursionError: maximum recursion depth exceeded"
    if isinstance(exc, SyntaxError):
        where = f"{os.path.basename(exc.filename or '?')}, line {exc.lineno}"
        return (
            f"SyntaxError: {exc.msg} ({where}); graded with Python {_python()}: "
            "is this syntax from a newer Python?"
        )
    text = str(exc)
    if len(text) > 300:
        text = text[:300] + "…"
    if (
        isinstance(exc, ImportError)
        and exc.name in sys.stdlib_module_names
        and text.startswith("cannot import name")
    ):
        text = f"{text}; graded with Python {_python()}: is it from a newer Python?"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _student_trace(exc: BaseException) -> str:
    """The last frames of the traceback, those inside the student's code, capped."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = os.path.abspath(__file__)
    theirs = [
        f for f in frames if os.path.abspath(f.filename) != mine and not f.filename.startswith("<")
    ]
    # How often a RecursionError repeats a frame depends on where the limit was hit: a run of
    # one frame repeated is shown once, so that the same bug gives the same trace.
    collapsed: list[traceback.FrameSummary] = []
    repeated: set[int] = set()
    for frame in theirs:
        last = collapsed[-1] if collapsed else None
        if last is not None and (last.filename, last.lineno, last.name) == (
            frame.filename,
            frame.lineno,
            frame.name,
        ):
            repeated.add(len(collapsed) - 1)
            continue
        collapsed.append(frame)
    if isinstance(exc, RecursionError) and repeated:
        # The frames past the recursing one are wherever the limit happened to be hit.
        collapsed = collapsed[: max(repeated) + 1]
    start = max(0, len(collapsed) - 4)
    parts = []
    for index, frame in enumerate(collapsed[start:], start):
        parts.append(traceback.format_list([frame])[0])
        if index in repeated:
            parts.append("  [Previous line repeated]\n")
    text = "".join(parts)
    return text[-1500:]


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


REFERENCE_REFUSED = (
    "micrograd-ref's own package 'micrograd', which the grader does not let the "
    "code it grades use: hand in your own engine. If your own package is called micrograd, "
    "give its folder with --path (or run the check from the folder that holds it)"
)
"""Why a graded class (or a network's parameters) was refused: the grader's package made it.

It follows what was refused: "the class Value comes from …", "the MLP is built on …".
"""


DISPLAY_MODULES = frozenset(
    {
        "IPython",
        "PIL",
        "google",
        "graphviz",
        "ipywidgets",
        "matplotlib",
        "pandas",
        "plotly",
        "seaborn",
        "sklearn",
        "torchviz",
        "tqdm",
    }
)
"""Packages students import for plots, data and notebooks, not for the engine: when one is not
installed where the grader runs, importing it gives a placeholder instead of an error."""


class _Placeholder(types.ModuleType):
    """A stand-in for a package that is not installed: any attribute, call or use is harmless."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Nothing()


class _Nothing:
    """What a placeholder's attributes are: callable, indexable, usable as a context."""

    def __getattr__(self, name: str) -> _Nothing:
        return self

    def __call__(self, *args: object, **kwargs: object) -> _Nothing:
        return self

    def __getitem__(self, key: object) -> _Nothing:
        return self

    def __enter__(self) -> _Nothing:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


class DisplayStubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A last-resort finder: :data:`DISPLAY_MODULES` that are not installed become placeholders."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        """The packages replaced so far."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        """A placeholder's spec for a display package no other finder found, else None."""
        top = name.partition(".")[0]
        if top not in DISPLAY_MODULES:
            return None
        self.used.add(top)
        return importlib.util.spec_from_loader(name, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        """The placeholder module."""
        return _Placeholder(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run."""


class ReferenceRefused(ImportError):
    """The graded class, or the network's parameters, come from the grader's own package."""


class _Refused(_Placeholder):
    """What ``import micrograd`` gives when only the grader's own package has that name."""


class ReferenceBlocker(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A meta path finder that resolves ``micrograd`` to anything but the grader's own package.

    A student's package called ``micrograd`` (Karpathy's layout, with or
    without ``__init__.py``) is found on ``sys.path`` as usual; the installed
    micrograd-ref never is. Where it is the only ``micrograd``, the import
    gives a do-nothing placeholder (as for a plotting package that is not
    installed), so that a stray ``from micrograd.engine import Value`` above
    the student's own class does not stop the check; a graded class, or a
    network's parameters, that come from the placeholder are refused
    (:class:`ReferenceRefused`). Every file of the reference belongs to that
    package, so none of it can be loaded at all.
    """

    def __init__(self, package_dir: str) -> None:
        self.package_dir = os.path.realpath(package_dir)
        self.used = False
        """Whether the student's code imported the placeholder."""

    def _holds_reference(self, entry: str) -> bool:
        return os.path.realpath(os.path.join(entry or ".", "micrograd")) == self.package_dir

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        """The student's ``micrograd``, else the placeholder; other names go to other finders."""
        if name.partition(".")[0] != "micrograd":
            return None
        if "." in name:  # a submodule: the placeholder's, or left to the student's package
            refused = isinstance(sys.modules.get("micrograd"), _Refused)
            return importlib.util.spec_from_loader(name, self, is_package=True) if refused else None
        entries = [entry for entry in sys.path if not self._holds_reference(entry)]
        spec = importlib.machinery.PathFinder.find_spec(name, entries)
        if spec is None:
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        """The placeholder module; from now on the student's code has used it.

        Finding the spec is not using it: coverage.py, measuring the child,
        looks ``micrograd`` up without importing it.
        """
        self.used = True
        return _Refused(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run."""


def _refuse_placeholders(*found: object) -> None:
    """Raise :class:`ReferenceRefused` if anything in ``found`` comes from the placeholder."""
    if any(isinstance(thing, (_Refused, _Nothing)) for thing in found):
        raise ReferenceRefused(REFERENCE_REFUSED)


def _import_file(path: str, module_name: str, chunks: Sequence[Sequence[Any]] = ()) -> Any:
    """Execute the file at ``path`` as module ``module_name`` (a package member if dotted).

    ``chunks`` describe a notebook's cells (see :func:`_run_cells`).
    """
    if "." in module_name:
        module = importlib.import_module(module_name)
        _refuse_placeholders(module)
        found = os.path.realpath(str(getattr(module, "__file__", "")))
        if found != os.path.realpath(path):
            raise ImportError(
                f"importing {os.path.basename(path)} as {module_name} finds {found} instead: "
                f"a package called {module_name.partition('.')[0]} there shadows yours"
            )
        return module
    loaded = sys.modules.get(module_name)
    if getattr(loaded, "__file__", None) == path:
        return loaded  # the engine's own module, asked for again by the nn check
    if loaded is not None or module_name in sys.builtin_module_names:
        module_name = f"student_{module_name}"  # never shadow a module the child already uses
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    if chunks:
        _run_cells(module, path, chunks)
    else:
        spec.loader.exec_module(module)
    return module


SKIPPED_CELLS: list[tuple[int, str]] = []
"""The notebook cells that raised and were skipped while the engine loaded, with the error."""


def _run_cells(module: types.ModuleType, path: str, chunks: Sequence[Sequence[Any]]) -> None:
    """Run a notebook module cell by cell, going on past a cell that raises, as Jupyter does.

    ``chunks`` are ``(cell, first line, last line, essential)``; what comes
    before the first cell (the module's header) runs first. A cell that
    raises, or does not parse, is noted in :data:`SKIPPED_CELLS` and skipped,
    unless it is essential (it defines the class or function being graded):
    then its error is the load error. Each cell is compiled at its own lines of
    ``path``, so tracebacks point into it.
    """
    with open(path, encoding="utf-8") as file:
        lines = file.read().split("\n")
    first = int(chunks[0][1])
    pieces = [(0, 1, first - 1, True), *chunks]
    for cell, start, stop, essential in pieces:
        text = "\n" * (int(start) - 1) + "\n".join(lines[int(start) - 1 : int(stop)])
        try:
            exec(compile(text, path, "exec"), module.__dict__)
        except _CAUGHT as exc:
            if essential:
                raise
            SKIPPED_CELLS.append((int(cell), _describe(exc)))


def load_class(
    target: str,
    kind: str,
    class_name: str,
    module_name: str = "",
    chunks: Sequence[Sequence[Any]] = (),
) -> type:
    """The student's class: ``kind`` is ``"path"`` (a .py file) or ``"module"`` (a name).

    A file is imported as ``module_name`` (default: its stem), with its folder
    first on ``sys.path`` so that its own sibling imports work; a dotted
    ``module_name`` imports it as a member of its package, so that the
    student's other modules importing it get the same module. ``chunks``
    describe a notebook's cells, run one by one.
    """
    if kind == "path":
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        stem = os.path.splitext(os.path.basename(target))[0]
        module = _import_file(target, module_name or stem, chunks)
    else:
        module = importlib.import_module(target)
    cls = getattr(module, class_name, None)
    _refuse_placeholders(module, cls)
    if not isinstance(cls, type):
        where = os.path.basename(target) if kind == "path" else target
        classes = [
            name
            for name, value in vars(module).items()
            if isinstance(value, type) and value.__module__ == module.__name__
        ]
        found = (
            f"it defines {', '.join(classes)}; name the class as {where}:{classes[0]}"
            if classes
            else "it defines no class"
        )
        what = "no class" if cls is None else f"a {type(cls).__name__}, not a class,"
        raise LookupError(f"{where} has {what} named {class_name!r}: {found}")
    return cls


def backward_caller(
    cls: type, name: str, later: Iterable[tuple[str, int]] = ()
) -> Callable[[Any], None]:
    """How to run backpropagation from a root: the method ``name``, or a module function.

    ``later`` lists a notebook's functions in the cells that did not run, with
    their cells: a backward among them is named in the error too.

    Raises:
        LookupError: If neither exists, naming the methods and functions that might be it.
    """
    if callable(getattr(cls, name, None)):
        return operator.methodcaller(name)
    module = sys.modules.get(cls.__module__)
    function = getattr(module, name, None)
    if callable(function) and not isinstance(function, type):
        return function  # type: ignore[no-any-return]  # a student's function, back_prop(root)

    def looks_like(word: str) -> bool:
        return any(part in word.lower() for part in ("back", "prop")) and not word.startswith("__")

    methods = [f"{m}()" for m in dir(cls) if looks_like(m) and callable(getattr(cls, m))]
    functions = [
        f"{f}(root)" for f, v in vars(module).items() if looks_like(f) and inspect.isfunction(v)
    ]
    functions += [f"{f}(root) in code cell {cell}" for f, cell in later if looks_like(f)]
    hint = ""
    if methods or functions:
        first = (methods or functions)[0].split("(")[0]
        hint = f"; it has {', '.join(methods + functions)}: rerun with --backward {first}"
    raise LookupError(
        f"{cls.__qualname__} has no method {name}() and its module no function {name}{hint}"
    )


def _init_names(cls: type) -> list[str]:
    """The names ``cls.__init__``'s code uses, its parameters first ([] for a built-in one)."""
    code = getattr(getattr(cls, "__init__", None), "__code__", None)
    return list(getattr(code, "co_varnames", ()))


FILE_SIZE_LIMIT = 64 * 1024**2
"""The largest file the child may write: its stderr (kept for crash reports) included."""


def _limit_resources(memory_bytes: int, processes: int = 0) -> bool:
    """Cap the address space, file sizes and (given ``processes``) processes; no core dumps.

    Returns whether it could: Windows has no ``resource`` module, and macOS
    refuses some limits; the time limits still hold there.
    """
    try:
        import resource  # noqa: PLC0415 - POSIX only, imported where used
    except ImportError:
        return False
    limits = [(resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT), (resource.RLIMIT_CORE, 0)]
    if memory_bytes > 0:
        limits.append((resource.RLIMIT_AS, memory_bytes))
    if processes > 0:
        limits.append((resource.RLIMIT_NPROC, processes))
    done = True
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):  # macOS: RLIMIT_AS above what it allows
            done = False
    return done


def _load(config: dict[str, Any]) -> tuple[type, Any]:
    """The student's class and how to call its backward, as ``config`` describes them."""
    cls = load_class(
        config["target"],
        config["kind"],
        config["class_name"],
        config.get("module", ""),
        config.get("cells", ()),
    )
    later = [(str(f), int(cell)) for f, cell in config.get("later_functions", [])]
    return cls, backward_caller(cls, config.get("backward", "backward"), later)


def _blocker() -> ReferenceBlocker:
    """The child's :class:`ReferenceBlocker` (a new, unused one where none is installed)."""
    found = (f for f in sys.meta_path if isinstance(f, ReferenceBlocker))
    return next(found, ReferenceBlocker(os.devnull))


def serve(config: dict[str, Any], receive: Callable[[], Any], send: Callable[[Any], None]) -> None:
    """Load the engine named in ``config``, then answer requests until told to stop."""
    captured = CappedText()
    SKIPPED_CELLS.clear()
    sys.stdout = sys.stderr = captured
    stubs = DisplayStubs()
    sys.meta_path.append(stubs)
    try:
        cls, backward = _load(config)
    except _CAUGHT as exc:
        error = _describe(exc)
        if isinstance(exc, ReferenceRefused):
            error = f"ImportError: the class {config['class_name']} comes from {exc}"
        elif _blocker().used:
            error += (
                " (the code imports micrograd, which here is only micrograd-ref's own package: "
                "it was given a do-nothing placeholder)"
            )
        send({"load_error": error, "trace": _student_trace(exc), "output": captured.take()})
        return
    send(
        {
            "ready": f"{cls.__module__}.{cls.__qualname__}",
            "init_parameters": _init_names(cls),
            "methods": methods_of(cls),
            "backward_is_function": not isinstance(backward, operator.methodcaller),
            "placeholders": sorted(stubs.used) + (["micrograd"] if _blocker().used else []),
            "skipped_cells": SKIPPED_CELLS,
            "output": captured.take(),
        }
    )
    kwargs = dict(config.get("leaf_kwargs", {}))
    make_leaf = functools.partial(cls, **kwargs) if kwargs else cls
    while True:
        request = receive()
        if request is None:
            return
        if "networks" in request:
            results = [
                run_network(config["nn"], network, cls, backward) for network in request["networks"]
            ]
        else:
            results = []
            for program in request["programs"]:
                missing = missing_method(cls, program)
                results.append(
                    _missing(missing, program)
                    if missing
                    else evaluate(program, make_leaf, backward=backward)
                )
        send({"results": results, "output": captured.take(), "id": request.get("id")})


def run_network(
    nn: dict[str, str],
    network: dict[str, Any],
    graded: type,
    backward: Callable[[Any], None] = _call_backward,
) -> Result:
    """Build the student's MLP, give it ``network["params"]`` and run every input through it.

    ``nn`` names the student's module and class like a target; ``network`` has
    ``nin``, ``nouts``, ``params`` (in ``parameters()`` order) and ``inputs``;
    every parameter must be an instance of ``graded``, the class being graded.
    Returns ``{"outputs": [...], "grads": [...]}``: for each input, the
    output and d(output)/d(parameter) for every parameter (grads zeroed before
    each input); or an error as :func:`evaluate` reports it, whose phase is
    ``load``, ``build`` (making the MLP, calling ``parameters()``),
    ``parameters`` (of another class), ``forward``, ``backward`` or ``read``.
    """
    phase = "load"
    try:
        cls = _nn_class(nn["target"], nn["kind"], nn["class_name"], nn.get("module", ""))
        phase = "build"  # an MLP built another way than the lecture's cannot be compared
        model = cls(network["nin"], network["nouts"])
        forward = model if callable(model) else getattr(model, "forward", None)
        if not callable(forward):
            raise TypeError(f"{type(model).__name__} objects can be neither called nor forward()ed")
        params = list(model.parameters())
        if len(params) != len(network["params"]):
            raise LookupError(
                f"parameters() has {len(params)} items, expected {len(network['params'])} "
                "(each neuron's weights and bias)"
            )
        phase = "parameters"
        strangers = [p for p in params if not isinstance(p, graded)]
        _refuse_placeholders(*strangers[:1])
        if strangers:
            kind = type(strangers[0])
            where = f"{kind.__module__}.{kind.__qualname__}"
            raise TypeError(
                f"parameters() holds {where} objects, not the {graded.__qualname__} being "
                f"graded ({graded.__module__}.{graded.__qualname__}): build the MLP on your own "
                "engine, imported from the same module"
            )
        for p, value in zip(params, network["params"]):  # noqa: B905 - lengths checked above
            p.data = value
        outputs, grads = [], []
        for x in network["inputs"]:
            phase = "forward"
            for p in params:
                p.grad = 0.0
            out = forward(list(x))
            if isinstance(out, (list, tuple)):
                (out,) = out
            phase = "backward"
            backward(out)
            phase = "read"
            outputs.append(_as_float(out, "data"))
            grads.append([_as_float(p, "grad") for p in params])
    except _CAUGHT as exc:
        error = _describe(exc)
        if isinstance(exc, ReferenceRefused):
            error = f"ImportError: the {nn['class_name']} is built on {exc}"
        return {"error": error, "exc_type": type(exc).__name__, "phase": phase}
    return {"outputs": outputs, "grads": grads, "call": "" if forward is model else "forward"}


@functools.cache
def _nn_class(target: str, kind: str, class_name: str, module_name: str = "") -> type:
    """The student's MLP class, imported once."""
    return load_class(target, kind, class_name, module_name)


def _die_with_grader(requests: int, parent: int) -> None:
    """End this process, and everything it started, as soon as the grader that started it ends.

    The child is the leader of a process group of its own, so the grader can
    kill what a student's code starts; but a grader killed itself (``grade``
    stopping a submission at its time limit, a teacher's ``kill -9``) would
    leave a hanging engine spinning forever. A thread waits for the grader
    to go (:func:`_wait_for_the_grader`), then kills the process group.
    """
    import threading  # noqa: PLC0415 - child only

    def watch() -> None:
        _wait_for_the_grader(requests, parent)
        try:  # pragma: no cover - the grader is gone: this process dies here
            os.killpg(os.getpgrp(), signal.SIGKILL)  # the process group, with what it started
        except (AttributeError, ProcessLookupError):  # pragma: no cover - see below
            # Windows has no process groups. In the sandbox the group is bwrap's, not seen
            # from its PID namespace, and the namespace ends with this process, taking all.
            os._exit(1)

    threading.Thread(target=watch, name="micrograd-ref: grader watch", daemon=True).start()


def _wait_for_the_grader(requests: int, parent: int, every: float = 0.25) -> None:
    """Return once the grader is gone, however it ended.

    The grader holds the only write end of the pipe ``requests`` reads; when
    it ends the kernel closes that end and the pipe reports a hang-up, which
    :func:`select.poll` gives without reading (the requests stay for the main
    thread). This holds in the sandbox too, where the grader's process id
    means nothing and bwrap's own ``--die-with-parent`` leaves a window while
    it starts. Without ``poll`` (Windows) the parent's id ``parent`` is
    watched instead: the child is adopted by another process when it goes
    (``parent`` 0, never sandboxed there, watches for nothing).
    """
    import select  # noqa: PLC0415 - child only

    if hasattr(select, "poll"):
        hangup = select.poll()
        hangup.register(requests, 0)  # no event asked for: a hang-up is reported all the same
        hangup.poll()
        return
    while parent <= 0 or os.getppid() == parent:
        time.sleep(every)


HEADER = struct.Struct("!i")
"""Each message on the pipes: its length in 4 bytes (big-endian, signed), then its JSON."""


def read_message(read: Callable[[int], bytes], limit: int) -> bytes | None:
    """One message from a pipe read with ``read`` (as :func:`os.read` is); None at its end.

    Raises:
        ValueError: If the header announces more than ``limit`` bytes, or fewer than none.
    """
    header = _read_exactly(read, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if not 0 <= size <= limit:
        raise ValueError(f"a message of {size} bytes announced (0 to {limit} allowed)")
    return _read_exactly(read, size)


def _read_exactly(read: Callable[[int], bytes], size: int) -> bytes | None:
    """``size`` bytes; None if the pipe ends first (a message cut off is no message)."""
    chunks = []
    while size:
        chunk = read(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def frame(payload: bytes) -> bytes:
    """``payload`` as one message: its header, then itself."""
    return HEADER.pack(len(payload)) + payload


def write_message(write: Callable[[bytes], int], payload: bytes) -> None:
    """Write ``payload`` as one message with ``write`` (as :func:`os.write` is)."""
    write_all(write, frame(payload))


def write_all(write: Callable[[bytes], int], data: bytes) -> None:
    """Write all of ``data`` with ``write``, which may take part of it (a signal in between)."""
    while data:
        data = data[write(data) :]


def _take_standard_pipes() -> tuple[int, int]:
    """The grader's two pipes (the child's stdin and stdout), moved off file descriptors 0 and 1.

    The grader speaks with the child over its standard input and output,
    which every platform can give a child (Windows passes no other file
    descriptor). A student's ``print`` goes to captured text, but code that
    writes to file descriptor 1 itself (``os.write(1, ...)``, a C extension's
    ``printf``) or reads 0 (``input()``) would corrupt the conversation: from
    here on 0 reads nothing and 1 writes nowhere.
    """
    requests, responses = os.dup(0), os.dup(1)
    nowhere = os.open(os.devnull, os.O_RDWR)
    os.dup2(nowhere, 0)
    os.dup2(nowhere, 1)
    os.close(nowhere)
    return requests, responses


def main(argv: Sequence[str]) -> None:
    """Entry point of the child process: the grader's pid; its messages on stdin and stdout."""
    import faulthandler  # noqa: PLC0415 - child only

    requests, responses = _take_standard_pipes()
    faulthandler.enable()  # a segfault in the engine leaves a Python traceback on stderr
    _die_with_grader(requests, int(argv[0]))

    def receive() -> Any:
        # The pipe's end (the grader is gone) is "null", the grader's own word for "stop".
        return json.loads(
            read_message(functools.partial(os.read, requests), sys.maxsize) or b"null"
        )

    def send(message: Any) -> None:
        write_message(functools.partial(os.write, responses), json.dumps(message).encode())

    config = receive()
    _limit_resources(int(config.get("memory_bytes", 0)), int(config.get("process_limit", 0)))
    sys.setrecursionlimit(int(config.get("recursion_limit", 1000)))
    sys.path[:0] = [os.path.abspath(p) for p in config.get("paths", [])]
    sys.meta_path.insert(0, ReferenceBlocker(config["reference"]))
    serve(config, receive, send)
