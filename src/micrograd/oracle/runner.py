"""Process isolation: a child process running a student's engine, with timeouts and restarts."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from micrograd.oracle.targets import (
    NotebookSource,
    find_engine,
    notebook_source,
    package_module,
    sandbox,
    write_module,
)
from micrograd.oracle.targets.sandbox import CoverageDrop
from micrograd.oracle.worker import frame, read_message, write_all

__all__ = [
    "REFERENCE_PACKAGE",
    "LoadError",
    "PipeReader",
    "Target",
    "Worker",
    "WorkerCrashed",
    "WorkerTimeout",
    "build_target",
    "has_process_groups",
    "kill_tree",
    "package_name",
    "parse_target",
    "sandbox_paths",
    "write_within",
]

T = TypeVar("T")

REFERENCE_PACKAGE = str(Path(__file__).resolve().parents[1])
"""The folder of the grader's own ``micrograd`` package, which student code may not import."""

WORKER_PATH = str(Path(__file__).with_name("worker.py"))
"""The child's module, loaded from its file so that our ``micrograd`` package is never imported."""

BOOTSTRAP = """\
import importlib.util, sys
spec = importlib.util.spec_from_file_location("micrograd.oracle.worker", sys.argv[1])
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)
worker.main(sys.argv[2:])
"""
"""The child's program (``python -I -c``): the worker module under its own name, not in
``sys.modules``, so that coverage knows it and a student's ``import micrograd`` is theirs."""

DEFAULT_MEMORY_BYTES = 2 * 1024**3
"""The child's address-space limit: enough for an engine, not for a runaway one."""

MAX_MESSAGE_BYTES = 64 * 1024**2
"""The longest answer the child may send; a longer one breaks the protocol."""


class LoadError(Exception):
    """The student's engine could not be loaded: a missing file, a syntax error, no such class.

    ``trace`` holds the traceback lines inside the student's files and
    ``output`` what the engine printed before it failed, when there are any;
    ``part`` is ``"engine"``, or ``"nn"`` when the network's module is the one at fault.
    """

    def __init__(
        self, message: str, *, trace: str = "", output: str = "", part: str = "engine"
    ) -> None:
        super().__init__(message)
        self.trace = trace
        self.output = output
        self.part = part


def _read_reply(pipe: IO[bytes]) -> bytes | None:
    """One message of the worker's; None at the pipe's end (see :func:`worker.read_message`)."""
    return read_message(pipe.read, MAX_MESSAGE_BYTES)


def _items(
    pipe: IO[bytes], read: Callable[[IO[bytes]], T | None]
) -> Iterator[T | ValueError | None]:
    """Each item ``read`` gives, then None at the pipe's end or the error that broke it."""
    try:
        while (item := read(pipe)) is not None:
            yield item
    except ValueError as exc:  # the child broke the protocol: nothing more is read
        yield exc
    except OSError:  # pragma: no cover - a pipe error other than its end
        yield None
    else:
        yield None


class PipeReader(Generic[T]):
    """What a child writes to a pipe, read by a thread of its own, a few items ahead at most.

    A pipe cannot be waited on with a timeout everywhere (Windows's
    ``select`` takes sockets only), so a daemon thread reads items with
    ``read`` (a message, a chunk) and the grader waits for them on a queue.
    The queue holds ``ahead`` items: a child that writes without being asked
    is held up by its pipe, as it would be without the thread, and never
    fills the grader's memory. The thread owns the pipe and closes it at its
    end (the child died or was killed), so a closed descriptor is never read
    again under a number the grader has since given to another pipe.
    """

    def __init__(
        self, pipe: IO[bytes], read: Callable[[IO[bytes]], T | None], ahead: int = 2
    ) -> None:
        self._queue: queue.Queue[T | ValueError | None] = queue.Queue(maxsize=ahead)
        self._stopped = threading.Event()
        threading.Thread(
            target=self._run, args=(pipe, read), name="micrograd-ref: pipe reader", daemon=True
        ).start()

    def _run(self, pipe: IO[bytes], read: Callable[[IO[bytes]], T | None]) -> None:
        with pipe:
            for item in _items(pipe, read):
                if not self._put(item):
                    break

    def _put(self, item: T | ValueError | None) -> bool:
        """Queue ``item`` once there is room; False if the reader was stopped first."""
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def get(self, timeout: float) -> T | ValueError | None:
        """The next item; None once the pipe has ended; the error ``read`` raised.

        Raises:
            queue.Empty: If nothing comes within ``timeout`` seconds.
        """
        return self._queue.get(timeout=timeout)

    def stop(self) -> None:
        """Read no more: the thread ends at its next item or at the pipe's end."""
        self._stopped.set()


def write_within(pipe: IO[bytes], data: bytes, timeout: float) -> bool:
    """Write ``data`` to a child's stdin; whether it was taken within ``timeout`` seconds.

    A child that stops reading (stopped, hung between requests) would block the
    write for ever once the pipe is full, so the write runs in a thread. When
    it is late the caller kills the child, which ends the write too.

    Raises:
        OSError: If the pipe is broken (the child died).
    """
    failed: list[OSError] = []

    def write() -> None:
        try:
            write_all(pipe.write, data)
        except OSError as exc:
            failed.append(exc)
        except ValueError:  # pragma: no cover - closed by the caller, late: the child is killed
            pass

    thread = threading.Thread(target=write, name="micrograd-ref: pipe writer", daemon=True)
    thread.start()
    thread.join(timeout)
    if failed:
        raise failed[0]
    return not thread.is_alive()


class WorkerTimeout(Exception):
    """The child did not answer in time; it has been killed."""


class WorkerCrashed(Exception):
    """The child died (``os._exit``, a signal, memory) or broke the protocol."""


@dataclass(frozen=True)
class Target:
    """What to grade: a ``.py`` file or an importable module, and the class in it."""

    spec: str
    """The target as the user wrote it, e.g. ``engine.py:Value``."""
    location: str
    """The file's absolute path, or the module's dotted name."""
    kind: str
    """``"path"``, ``"module"`` or ``"command"`` (an adapter over stdio, see
    :mod:`micrograd.oracle.targets.stdio`; its location is the command)."""
    class_name: str = "Value"
    """The class to grade."""
    paths: tuple[str, ...] = field(default=())
    """Folders put first on the child's ``sys.path`` (the current folder is always there)."""
    nn: Target | None = None
    """The student's neural-network module and its MLP class, for ``--nn``."""
    module: str = ""
    """For a file: the module name it is imported as (dotted when it belongs to a package)."""
    leaf_kwargs: tuple[tuple[str, Any], ...] = ()
    """Keyword arguments every leaf is made with, e.g. ``(("requires_grad", True),)``."""
    backward: str = "backward"
    """The method (or the module's function taking the root) that backpropagates."""
    backward_is_function: bool = False
    """Whether :attr:`backward` names a module function rather than a method (known once loaded)."""
    notebook: NotebookSource | None = None
    """For a notebook: its code cells as the module at :attr:`location`."""
    notebook_path: str = ""
    """For a notebook: the ``.ipynb`` file the module was made from."""

    def describe(self) -> str:
        """Where the engine comes from, for the report's header (notebooks: which cells ran)."""
        if self.kind == "command":
            return f"--cmd {shlex.quote(self.location)}"
        if self.notebook is None:
            return self.spec
        cells = self.notebook.cells_run
        ran = f"code cells {cells[0]}-{cells[-1]}" if len(cells) > 1 else f"code cell {cells[0]}"
        return (
            f"{self.spec} ({ran} of {self.notebook.cells_total} ran; the cells after the last "
            f"one defining {' or '.join(self.notebook.wanted) or self.class_name} did not; "
            f"shell and magic lines skipped: {self.notebook.skipped_lines})"
        )

    def explain_trace(self, trace: str) -> str:
        """``trace`` with a notebook module's lines shown as the notebook's cells and lines."""
        if self.notebook is None:
            return trace
        notebook, name = self.notebook, Path(self.notebook_path).name

        def cell(match: re.Match[str]) -> str:
            where = notebook.where(int(match.group(1)))
            if where is None:
                return match.group(0)
            return f'File "{name}", code cell {where[0]}, line {where[1]}'

        pattern = rf'File "{re.escape(self.location)}", line (\d+)'
        return re.sub(pattern, cell, trace)

    def import_line(self) -> str:
        """The Python line a student pastes to get the class.

        With a backward that is a module function, the line imports it too.
        """
        name = self.class_name
        if self.backward_is_function:
            name += f", {self.backward}"
        if self.notebook is not None:
            last = self.notebook.cells_run[-1]
            return f"# in a new cell after code cell {last} of {Path(self.notebook_path).name}"
        if self.kind == "module":
            return f"from {self.location} import {name}"
        module = self.module or Path(self.location).stem
        packages = module.split(".")[:-1]
        root = Path(self.location).parents[len(packages)]
        shims = []
        for depth in range(1, len(packages) + 1):
            package, folder = ".".join(packages[:depth]), root.joinpath(*packages[:depth])
            if (folder / "__init__.py").is_file():
                continue
            # A folder without __init__.py loses to an installed package of the same name
            # (micrograd-ref's own, when it is called micrograd): make it the package.
            shims.append(f"# your folder {folder.name}/, not an installed {package}:")
            shims.append(f"package = sys.modules[{package!r}] = types.ModuleType({package!r})")
            shims.append(f"package.__path__ = [{str(folder)!r}]")
        imports = "import sys, types" if shims else "import sys"
        path = f"{imports}; sys.path.insert(0, {str(root)!r})"
        return "\n".join([path, *shims, f"from {module} import {name}"])

    def leaf(self, number: str) -> str:
        """The Python expression making a leaf of ``number``, as the reproducers write it."""
        extra = "".join(f", {key}={value!r}" for key, value in self.leaf_kwargs)
        return f"{self.class_name}({number}{extra})"

    def backward_call(self, root: str) -> str:
        """The Python statement backpropagating from ``root``, as the reproducers write it."""
        if self.backward_is_function:
            return f"{self.backward}({root})"
        return f"{root}.{self.backward}()"


def _imports_package(folder: Path, name: str) -> bool:
    """Whether a Python file in ``folder`` uses it as package ``name`` (``name.x``, ``.x``)."""
    pattern = re.compile(rf"^\s*((from|import)\s+{re.escape(name)}\.|from\s+\.)", re.MULTILINE)
    for path in sorted(folder.glob("*.py"))[:100]:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if pattern.search(path.read_text(encoding="utf-8")):
                return True
    return False


def package_name(path: Path) -> str:
    """The module name a student's file is imported as: dotted when it belongs to a package.

    A file whose relative imports (``from .engine import Value``) need it to
    be a package member gets the name :func:`~micrograd.oracle.targets.package_module`
    gives; one in a folder with an ``__init__.py`` is named through every
    enclosing folder that has one; one whose folder's name is an identifier
    that a file beside it uses as a package (``from micrograd.engine import
    Value`` in Karpathy's layout, ``__init__.py`` or not, or a relative import)
    is ``folder.stem``.
    Otherwise it is the file's stem.
    """
    with contextlib.suppress(ValueError):  # a relative import Python could not follow either
        member = package_module(path)
        if member is not None:
            return member[1]
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) == 1 and folder.name.isidentifier() and _imports_package(folder, folder.name):
        parts.insert(0, folder.name)
    return ".".join(parts)


def parse_target(
    text: str,
    *,
    paths: tuple[str, ...] = (),
    default_class: str = "Value",
    needs: tuple[str, ...] = (),
) -> Target:
    """Read ``engine.py``, ``mygrad.ipynb``, a folder, ``package.module``, each with ``:ClassName``.

    A folder is searched for its engine (``engine.py``, ``micrograd/engine.py``
    or the one file defining the class); a notebook's code cells become a
    module, up to the last cell that defines the class (or any name in
    ``needs``, such as ``MLP``), with the notebook's folder on ``sys.path``.

    Raises:
        LoadError: If a path does not exist, a folder holds no single engine, a
            notebook does not define the class, or the class name is not an
            identifier.
    """
    location, class_name = text, default_class
    head, sep, tail = text.rpartition(":")
    if sep and head and tail.isidentifier():
        location, class_name = head, tail
    elif sep and not tail.isidentifier() and not os.path.exists(text):
        raise LoadError(f"{text!r}: {tail!r} after ':' is not a class name")
    looks_like_path = location.endswith((".py", ".ipynb")) or os.sep in location
    if looks_like_path or os.path.exists(location):
        path = Path(location).resolve()
        if path.is_dir():
            try:
                path = find_engine(path, class_name)
            except LookupError as exc:
                raise LoadError(f"{location}: {exc}") from exc
        if not path.is_file():
            raise LoadError(f"{location}: no such file")
        if path.suffix == ".ipynb":
            return _notebook_target(text, path, class_name, paths, needs)
        return Target(text, str(path), "path", class_name, paths, module=package_name(path))
    if not all(part.isidentifier() for part in location.split(".")):
        raise LoadError(f"{location!r} is neither a .py file nor a module name")
    return Target(text, location, "module", class_name, paths)


def _package_roots(target: Target) -> list[str]:
    """The folders that hold the packages of the target's (and its nn module's) files."""
    roots = []
    for t in (target, target.nn):
        if t is not None and t.kind == "path" and "." in t.module:
            folder = Path(t.location).parent
            for _ in range(t.module.count(".")):
                folder = folder.parent
            roots.append(str(folder))
    return roots


def _notebook_target(
    text: str, path: Path, class_name: str, paths: tuple[str, ...], needs: tuple[str, ...]
) -> Target:
    """A target for a notebook: its code cells written out as a module in a folder of our own."""
    try:
        source = notebook_source(path, {class_name, *needs})
    except (LookupError, ValueError) as exc:
        raise LoadError(f"{text}: {exc}") from exc
    folder = Path(tempfile.mkdtemp(prefix="micrograd-notebook-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    stem = re.sub(r"\W", "_", path.stem)
    stem = stem if stem.isidentifier() else f"notebook_{stem}"
    module = write_module(source, folder, stem)
    return Target(
        text,
        str(module),
        "path",
        class_name,
        (str(path.parent), *paths),
        module=stem,
        notebook=source,
        notebook_path=str(path),
    )


def build_target(
    engine: str,
    nn: str | None = None,
    *,
    paths: tuple[str, ...] = (),
    backward: str = "backward",
    leaf_kwargs: tuple[tuple[str, Any], ...] = (),
) -> Target:
    """The target of ``check``, ``grade`` and the pytest plugin: the engine, its nn, conventions.

    A notebook is run up to the last cell that defines the class, the
    ``backward`` function when it is one (``--backward back_prop``), or the
    ``MLP`` when ``nn`` names the same notebook; an ``nn`` in that notebook
    is loaded from the engine's module, not run a second time.

    Raises:
        LoadError: If either cannot be found (``part`` says which).
    """
    needs = [backward] if backward != "backward" else []
    if nn is not None and nn.split(":")[0] == engine.split(":", maxsplit=1)[0]:
        needs.append("MLP")
    target = parse_target(engine, paths=paths, needs=tuple(needs))
    nn_target = None
    if nn:
        try:
            nn_target = parse_target(nn, paths=paths, default_class="MLP")
        except LoadError as exc:
            exc.part = "nn"
            raise
        if target.notebook is not None and target.notebook_path == nn_target.notebook_path:
            nn_target = replace(nn_target, location=target.location, module=target.module)
    return replace(target, nn=nn_target, leaf_kwargs=leaf_kwargs, backward=backward)


_PHASES = frozenset({"load", "build", "parameters", "forward", "backward", "read"})
"""Where a student's code may raise, as the worker reports it."""


def _number(value: object, *, none: bool = False) -> bool:
    """Whether ``value`` is a float or int (nan and infinities included), or None if allowed."""
    if value is None:
        return none
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(value: object, length: int, *, none: bool = False) -> bool:
    return (
        isinstance(value, list)
        and len(value) == length
        and all(_number(v, none=none) for v in value)
    )


def _invalid_error(result: dict[str, Any], keys: frozenset[str]) -> str:
    """Why an error result is malformed, or ""."""
    if set(result) - keys:
        return f"unknown keys {sorted(set(result) - keys)}"
    texts = [k for k in keys & {"error", "exc_type", "trace", "missing"} if k in result]
    if not all(isinstance(result[k], str) for k in texts):
        return "an error that is not text"
    if result.get("phase") not in _PHASES:
        return f"unknown phase {result.get('phase')!r}"
    if "step" in keys and (not isinstance(result.get("step"), int) or "trace" not in result):
        return "an error without its step or trace"
    return ""


_PROGRAM_ERROR = frozenset({"error", "exc_type", "phase", "step", "trace", "missing"})
_NETWORK_ERROR = frozenset({"error", "exc_type", "phase"})
_CALLS = ("", "forward")
"""A network's ``call``: how the worker ran it (``model(x)``, or ``model.forward(x)``)."""
_NARROW_CAP = 40
"""The longest name of a narrow float type a result may carry."""


def _invalid_network(result: dict[str, Any], asked: dict[str, Any]) -> str:
    """Why a network's result does not answer the network ``asked``, or ""."""
    inputs, params = len(asked["inputs"]), len(asked["params"])
    grads = result.get("grads")
    if set(result) - {"call"} != {"outputs", "grads"} or result.get("call", "") not in _CALLS:
        return "a network's answer without exactly its outputs, gradients and call"
    if not _numbers(result["outputs"], inputs):
        return "a network's outputs are not one number per input"
    if not (isinstance(grads, list) and len(grads) == inputs):
        return "a network's gradients are not one list per input"
    return "" if all(_numbers(g, params) for g in grads) else "a network's gradients are wrong"


def _invalid_result(result: object, kind: str, asked: dict[str, Any]) -> str:
    """Why one result does not answer the program or network ``asked``, or ""."""
    if not isinstance(result, dict):
        return "a result that is no object"
    if "error" in result:
        return _invalid_error(result, _PROGRAM_ERROR if kind == "programs" else _NETWORK_ERROR)
    if kind == "networks":
        return _invalid_network(result, asked)
    leaves, registers = len(asked["leaves"]), len(asked["leaves"]) + len(asked["ops"])
    narrow = result.get("narrow", "")  # the float type of a narrow engine (float32), or none
    ok = (
        set(result) - {"narrow"} == {"data", "grads", "root_grad", "grads_before"}
        and isinstance(narrow, str)
        and len(narrow) <= _NARROW_CAP
        and _numbers(result["data"], registers)
        and _numbers(result["grads"], leaves)
        and _number(result["root_grad"], none=True)
        and _numbers(result["grads_before"], leaves, none=True)
    )
    return "" if ok else "a result whose numbers do not match its program"


def _invalid_reply(reply: dict[str, Any], kind: str, asked: list[dict[str, Any]], n: int) -> str:
    """Why the child's ``reply`` to request ``n`` (``asked``, of ``kind``) is malformed, or "".

    The parent trusts nothing the student's process sends: every field is
    checked against what was asked before any of it is graded.
    """
    if reply.get("id") != n:
        return f"an answer to request {reply.get('id')!r}, not {n}"
    if set(reply) != {"id", "results", "output"} or not isinstance(reply["output"], str):
        return "an answer without exactly its results and output"
    results = reply["results"]
    if not isinstance(results, list) or len(results) != len(asked):
        return f"not one result for each of the {len(asked)} {kind}"
    for result, program in zip(results, asked, strict=True):
        why = _invalid_result(result, kind, program)
        if why:
            return why
    return ""


def has_process_groups() -> bool:
    """Whether there are process groups, to kill a child with all it started (not on Windows)."""
    return hasattr(os, "killpg")


def kill_tree(process: subprocess.Popen[Any]) -> None:
    """Kill ``process`` and, where the platform has process groups, everything it started.

    ``process`` must have been started with ``start_new_session=has_process_groups()``.
    """
    with contextlib.suppress(ProcessLookupError):  # it may have exited just now
        if has_process_groups():
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()


def sandbox_paths(target: Target, root: str = "") -> list[str]:
    """The files and folders of the student that the sandbox shows, read-only.

    With ``root`` (``grade`` gives each submission's folder or file), that and
    the folders given with ``--path``; otherwise the folders of the engine and
    of the nn module, their packages' and ``--path``'s, and the current folder
    for an importable module. A notebook's module, written to a folder of our
    own, is shown in both cases.
    """
    notebook_folder = str(Path(target.notebook_path).parent) if target.notebook_path else ""
    given = [p for p in target.paths if p != notebook_folder]
    if target.notebook is not None:
        given.append(str(Path(target.location).parent))
    if root:
        return [root, *given]
    found = [*target.paths, *_package_roots(target)]
    for t in (target, target.nn):
        if t is not None:
            found.append(str(Path(t.location).parent) if t.kind == "path" else os.getcwd())
    return found


class Worker:
    """One child process serving a student's engine; restarted after a timeout or a crash.

    Use as a context manager; :meth:`request` starts the child when needed.
    With ``sandbox``, the child runs in bubblewrap (see
    :mod:`micrograd.oracle.targets.sandbox`), shown the paths
    :func:`sandbox_paths` gives for ``sandbox_root``.
    """

    def __init__(
        self,
        target: Target,
        *,
        load_timeout: float = 10.0,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        recursion_limit: int = 1000,
        more_time: str = "give --timeout more seconds",
        sandbox: bool = False,
        sandbox_root: str = "",
    ) -> None:
        self.target = target
        self.load_timeout = load_timeout
        self.more_time = more_time
        """How the user gives a slow import more time on their route, for the load error."""
        self.memory_bytes = memory_bytes
        self.recursion_limit = recursion_limit
        self.sandbox = sandbox
        self.sandbox_root = sandbox_root
        self._requests = 0
        self._coverage: CoverageDrop | None = None
        self.loaded_class = ""
        """``module.Class`` of the loaded class, once loaded."""
        self.load_output = ""
        """What the engine printed while it was imported."""
        self.init_parameters: list[str] = []
        """The parameters the graded class's constructor takes, once loaded."""
        self.backward_is_function = False
        """Whether the engine backpropagates with a module function, once loaded."""
        self.methods: frozenset[str] | None = None
        """The op methods the graded class has (see ``worker.methods_of``), once loaded."""
        self.placeholders: list[str] = []
        """Packages the engine imported that are not installed here, given placeholders."""
        self.skipped_cells: list[tuple[int, str]] = []
        """A notebook's cells that raised while it loaded and were skipped, with the error."""
        self.starts = 0
        """How many child processes were started."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._replies: PipeReader[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        """Whether a child is running."""
        return self._proc is not None

    def start(self) -> None:
        """Start a child and load the engine in it.

        Raises:
            LoadError: If the engine cannot be imported, or its import takes
                longer than ``load_timeout``.
        """
        self.close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        # Where the child cannot see its pipe hang up (Windows) it watches the grader's pid; in
        # the sandbox that pid means nothing (a PID namespace of its own), and 0 says so.
        parent = "0" if self.sandbox else str(os.getpid())
        command = [sys.executable, "-I", "-B", "-c", BOOTSTRAP, WORKER_PATH, parent]
        if self.sandbox:
            self._coverage = CoverageDrop.make()
            command = sandbox.wrap(
                command,
                visible=sandbox_paths(self.target, self.sandbox_root),
                worker=WORKER_PATH,
                hidden=REFERENCE_PACKAGE,
                cwd=os.getcwd(),
                coverage=self._coverage,
            )
        # The conversation goes over the child's stdin and stdout, which every platform can
        # give a child (Windows passes no other file descriptor); the child moves them aside.
        self._proc = subprocess.Popen(
            command,
            bufsize=0,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=has_process_groups(),
            cwd=os.getcwd(),
        )
        assert self._proc.stdout is not None
        self._replies = PipeReader(self._proc.stdout, _read_reply)
        self.starts += 1
        config = {
            "target": self.target.location,
            "kind": self.target.kind,
            "class_name": self.target.class_name,
            "module": self.target.module,
            "paths": [os.getcwd(), *self.target.paths, *_package_roots(self.target)],
            "memory_bytes": self.memory_bytes,
            "recursion_limit": self.recursion_limit,
            "reference": REFERENCE_PACKAGE,
            "leaf_kwargs": dict(self.target.leaf_kwargs),
            "backward": self.target.backward,
            "process_limit": sandbox.PROCESS_LIMIT if self.sandbox else 0,
        }
        if self.target.notebook is not None:
            config["later_functions"] = [list(f) for f in self.target.notebook.later_functions]
            config["cells"] = [list(chunk) for chunk in self.target.notebook.chunks]
        if self.target.nn is not None:
            nn = self.target.nn
            config["nn"] = {
                "target": nn.location,
                "kind": nn.kind,
                "class_name": nn.class_name,
                "module": nn.module,
            }
        try:
            reply = self._exchange(config, self.load_timeout)
        except WorkerTimeout as exc:
            raise LoadError(
                f"{self.target.spec}: importing it took longer than {self.load_timeout:g} s. "
                "Code at the top level of the file (a training loop, plots, input()) runs on "
                f'import: put it under `if __name__ == "__main__":`, or {self.more_time}'
            ) from exc
        except WorkerCrashed as exc:
            raise LoadError(f"{self.target.spec}: the import crashed Python: {exc}") from exc
        if not isinstance(reply.get("ready", reply.get("load_error")), str):
            self.close(graceful=False)
            raise LoadError(f"{self.target.spec}: the engine's process broke the protocol")
        if "load_error" in reply:
            self.close()
            raise LoadError(
                f"{self.target.spec}: {reply['load_error']}",
                trace=str(reply.get("trace", "")),
                output=str(reply.get("output", "")),
            )
        self.loaded_class = str(reply["ready"])
        self.init_parameters = [str(p) for p in reply.get("init_parameters", [])]
        self.methods = frozenset(str(m) for m in reply.get("methods", []))
        self.backward_is_function = bool(reply.get("backward_is_function", False))
        self.placeholders = [str(name) for name in reply.get("placeholders", [])]
        self.skipped_cells = [(int(n), str(why)) for n, why in reply.get("skipped_cells", [])]
        self.load_output = str(reply.get("output", ""))

    def request(
        self, programs: list[dict[str, Any]], timeout: float, *, kind: str = "programs"
    ) -> tuple[list[Any], str]:
        """Run ``programs`` in the child; returns one result per program and the printed output.

        ``kind`` is ``"programs"`` (expression programs) or ``"networks"`` (see
        :func:`micrograd.oracle.worker.run_network`).

        Raises:
            WorkerTimeout: If the answer takes longer than ``timeout`` seconds
                (the child is killed, and restarted by the next request).
            WorkerCrashed: If the child dies.
            LoadError: If restarting the child fails.
        """
        if not self.alive:
            self.start()
        self._requests += 1
        reply = self._exchange({kind: programs, "id": self._requests}, timeout)
        why = _invalid_reply(reply, kind, programs, self._requests)
        if why:
            self.close(graceful=False)
            raise WorkerCrashed(f"the engine's process broke the protocol: {why}")
        return list(reply["results"]), reply["output"]

    def _exchange(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one message and wait for the answer."""
        assert self._proc is not None
        assert self._proc.stdin is not None
        assert self._replies is not None
        deadline = time.monotonic() + timeout
        try:
            taken = write_within(self._proc.stdin, frame(json.dumps(message).encode()), timeout)
        except OSError as exc:  # it died before reading: its pipe is broken
            raise WorkerCrashed(self._death_notice()) from exc
        try:
            if not taken:
                raise queue.Empty
            raw = self._replies.get(max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self.close(graceful=False)
            raise WorkerTimeout(f"no answer within {timeout:g} s") from None
        if isinstance(raw, ValueError):
            self.close(graceful=False)
            raise WorkerCrashed(f"the engine's process broke the protocol: {raw}")
        if raw is None:
            raise WorkerCrashed(self._death_notice())
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            self.close(graceful=False)
            raise WorkerCrashed("the engine's process broke the protocol: its answer is no object")
        return answer

    def _death_notice(self) -> str:
        """Why the child died, from its exit status and the end of its stderr."""
        assert self._proc is not None
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a child closing its pipes but alive
            code = None
        signals = {int(s) for s in signal.Signals}
        if self.sandbox and code is not None and code - 128 in signals:  # bwrap: 128 + signal
            code = 128 - code
        if code is None:  # pragma: no cover - see above
            why = "it closed its end of the pipe"
        elif code < 0:
            why = f"it was killed by {signal.Signals(-code).name}"
            if -code == signal.SIGKILL:
                why += " (out of memory?)"
        else:
            why = f"it exited with status {code} (os._exit?)"
        assert self._stderr is not None  # start() opened it
        self._stderr.seek(0)
        lines = self._stderr.read(65536).decode(errors="replace").splitlines()
        fatal = [line for line in lines if line.startswith("Fatal Python error")]
        last = (fatal or [line for line in lines if line.strip()] or [""])[-1].strip()
        self.close()
        return f"the engine's process died: {why}" + (f" ({last})" if last else "")

    def close(self, *, graceful: bool = True) -> None:
        """Stop the child (killing its whole process group) and release its pipes.

        ``graceful`` first asks an idle child to exit; a hung one is killed at once.
        """
        if self._proc is not None:
            stdin = self._proc.stdin
            assert stdin is not None  # started with stdin=PIPE
            if graceful and self._proc.poll() is None:
                # A child that is already leaving (after a load error) has closed its end;
                # it still gets its two seconds to finish exiting (atexit, coverage data).
                with contextlib.suppress(OSError):
                    write_within(stdin, frame(b"null"), 1.0)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=2.0)
            if self._proc.poll() is None:
                kill_tree(self._proc)
                self._proc.wait()
            with contextlib.suppress(OSError):  # a child that died leaves a broken pipe
                stdin.close()
            self._proc = None
        if self._coverage is not None:
            self._coverage.collect()
            self._coverage = None
        if self._replies is not None:
            self._replies.stop()  # its thread closes the child's stdout, at the pipe's end
            self._replies = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
