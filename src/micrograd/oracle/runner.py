"""Process isolation: a child process running a student's engine, with timeouts and restarts."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any

__all__ = ["LoadError", "Target", "Worker", "WorkerCrashed", "WorkerTimeout", "parse_target"]

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


class LoadError(Exception):
    """The student's engine could not be loaded: a missing file, a syntax error, no such class."""


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
    """``"path"`` or ``"module"``."""
    class_name: str = "Value"
    """The class to grade."""
    paths: tuple[str, ...] = field(default=())
    """Folders put first on the child's ``sys.path`` (the current folder is always there)."""
    nn: Target | None = None
    """The student's neural-network module and its MLP class, for ``--nn``."""

    def import_line(self, name: str | None = None) -> str:
        """The Python line a student pastes to get the class (or ``name`` from its module)."""
        name = name or self.class_name
        if self.kind == "module":
            return f"from {self.location} import {name}"
        module = Path(self.location).stem
        folder = str(Path(self.location).parent)
        return f"import sys; sys.path.insert(0, {folder!r})\nfrom {module} import {name}"


def parse_target(text: str, *, paths: tuple[str, ...] = (), default_class: str = "Value") -> Target:
    """Read ``path/to/engine.py``, ``package.module`` or either with ``:ClassName``.

    Raises:
        LoadError: If a ``.py`` path does not exist or the class name is not an identifier.
    """
    location, class_name = text, default_class
    head, sep, tail = text.rpartition(":")
    if sep and head and tail.isidentifier():
        location, class_name = head, tail
    elif sep and not tail.isidentifier() and not os.path.exists(text):
        raise LoadError(f"{text!r}: {tail!r} after ':' is not a class name")
    looks_like_path = location.endswith(".py") or os.sep in location or os.path.exists(location)
    if looks_like_path:
        path = Path(location).resolve()
        if not path.is_file():
            raise LoadError(f"{location}: no such file")
        return Target(text, str(path), "path", class_name, paths)
    if not all(part.isidentifier() for part in location.split(".")):
        raise LoadError(f"{location!r} is neither a .py file nor a module name")
    return Target(text, location, "module", class_name, paths)


class Worker:
    """One child process serving a student's engine; restarted after a timeout or a crash.

    Use as a context manager; :meth:`request` starts the child when needed.
    """

    def __init__(
        self,
        target: Target,
        *,
        load_timeout: float = 10.0,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        recursion_limit: int = 1000,
    ) -> None:
        self.target = target
        self.load_timeout = load_timeout
        self.memory_bytes = memory_bytes
        self.recursion_limit = recursion_limit
        self.loaded_class = ""
        """``module.Class`` of the loaded class, once loaded."""
        self.load_output = ""
        """What the engine printed while it was imported."""
        self.starts = 0
        """How many child processes were started."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None
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
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", BOOTSTRAP, WORKER_PATH, str(req_r), str(resp_w)],
            pass_fds=(req_r, resp_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
            cwd=os.getcwd(),
        )
        os.close(req_r)
        os.close(resp_w)
        self._to_child = Connection(req_w, readable=False)
        self._from_child = Connection(resp_r, writable=False)
        self.starts += 1
        config = {
            "target": self.target.location,
            "kind": self.target.kind,
            "class_name": self.target.class_name,
            "paths": [os.getcwd(), *self.target.paths],
            "memory_bytes": self.memory_bytes,
            "recursion_limit": self.recursion_limit,
        }
        if self.target.nn is not None:
            nn = self.target.nn
            config["nn"] = {"target": nn.location, "kind": nn.kind, "class_name": nn.class_name}
        try:
            reply = self._exchange(config, self.load_timeout)
        except WorkerTimeout as exc:
            raise LoadError(
                f"{self.target.spec}: importing it took longer than {self.load_timeout:g} s"
            ) from exc
        except WorkerCrashed as exc:
            raise LoadError(f"{self.target.spec}: the import crashed Python: {exc}") from exc
        if "load_error" in reply:
            self.close()
            raise LoadError(f"{self.target.spec}: {reply['load_error']}")
        self.loaded_class = str(reply["ready"])
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
        reply = self._exchange({kind: programs}, timeout)
        return list(reply["results"]), str(reply.get("output", ""))

    def _exchange(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one message and wait for the answer."""
        assert self._to_child is not None
        assert self._from_child is not None
        deadline = time.monotonic() + timeout
        try:
            self._to_child.send_bytes(json.dumps(message).encode())
            if not self._from_child.poll(max(0.0, deadline - time.monotonic())):
                self.close(graceful=False)
                raise WorkerTimeout(f"no answer within {timeout:g} s")
            answer: dict[str, Any] = json.loads(self._from_child.recv_bytes())
        except (EOFError, OSError) as exc:
            raise WorkerCrashed(self._death_notice()) from exc
        return answer

    def _death_notice(self) -> str:
        """Why the child died, from its exit status and the end of its stderr."""
        assert self._proc is not None
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a child closing its pipes but alive
            code = None
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
            if graceful and self._proc.poll() is None and self._to_child is not None:
                # A child that is already leaving (after a load error) has closed its end;
                # it still gets its two seconds to finish exiting (atexit, coverage data).
                with contextlib.suppress(OSError):
                    self._to_child.send_bytes(b"null")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=2.0)
            if self._proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):  # it may have exited just now
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
            self._proc = None
        for conn in (self._to_child, self._from_child):
            if conn is not None:
                conn.close()
        self._to_child = self._from_child = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
