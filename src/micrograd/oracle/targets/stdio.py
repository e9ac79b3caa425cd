"""An engine in any language, driven over its adapter's stdin and stdout with JSON lines.

The grader starts the adapter command and reads one line from it, the hello::

    {"hello": "micrograd-adapter", "protocol": 1, "engine": "micrograd.js",
     "ops": ["add", "add_number", "radd", "mul", "tanh", ...]}

``ops`` names the op forms the port has (see :data:`micrograd.oracle.wire.OPS`);
a program needing another is not sent: its check is unsupported. Then, for
each batch, the grader writes one line ``{"programs": [...]}`` (programs in
the oracle's own form, see :mod:`micrograd.oracle.worker`) and the adapter
answers one line ``{"results": [...]}``, one per program::

    {"data": [...every register...], "grads": [...every leaf...], "root_grad": g}
    {"error": "the port's own message", "phase": "forward", "step": 3}

Numbers JSON has none for are the strings ``"nan"``, ``"inf"``, ``"-inf"`` (or
null, read as nan). Lines the adapter prints that do not start with ``{`` are
the port's output, kept like a Python engine's prints. A hang is killed at
the check's timeout and a crash reported; the next request starts the
command again. Closing its stdin tells the adapter to exit. The protocol is
documented in ``docs/ports.md``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from typing import IO, Any, Final

from micrograd.oracle.runner import (
    REFERENCE_PACKAGE,
    LoadError,
    PipeReader,
    Target,
    Worker,
    WorkerCrashed,
    WorkerTimeout,
    has_process_groups,
    kill_tree,
    write_within,
)
from micrograd.oracle.targets import sandbox
from micrograd.oracle.wire import OPS, form, wire

__all__ = ["PROTOCOL", "StdioWorker", "command_target", "port_wording"]

PROTOCOL: Final = 1
"""The version of the protocol; the adapter's hello must name it."""

_PHASES: Final = frozenset({"forward", "backward", "read"})
_OUTPUT_CAP: Final = 4000
LINE_CAP = 64 * 1024**2
"""The longest line the grader reads from an adapter; a longer one breaks the protocol."""
_LIMITS: Final = 'ulimit -c 0; ulimit -f 131072; exec "$@"'
"""How the command is started, by ``sh``: no core dumps, no file over 64 MB (its stderr).

Where there is no ``sh`` (Windows) the command starts without these limits."""


def command_target(command: str) -> Target:
    """The target of ``check --cmd COMMAND``: an adapter command, run from the current folder.

    Raises:
        LoadError: If the command is empty or cannot be split into words.
    """
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise LoadError(f"--cmd {command!r}: {exc}") from exc
    if not words:
        raise LoadError("--cmd: the command is empty")
    return Target(command, command, "command")


_SWAPPED: Final = re.compile(
    r"(__r\w+__)\(self, other\) is called for `([^`]*)` with other = ([^,]*), so it must "
    r"compute other (\S+) self"
)
_DUNDER: Final = re.compile(r"__(r?)(add|sub|mul|truediv|pow|neg)__")


def port_wording(message: str) -> str:
    """A diagnosis said of a port: op forms (``rsub``, ``add``) for ``__rsub__``, ``__add__``."""

    def form(match: re.Match[str]) -> str:
        return match.group(1) + ("div" if match.group(2) == "truediv" else match.group(2))

    swapped = r"the reflected form (\1) must compute \3 \4 a, with the number on the left"
    message = _SWAPPED.sub(swapped, message)
    return _DUNDER.sub(form, message)


def _number(x: Any) -> float:  # noqa: ANN401 - whatever JSON the adapter sent
    """A number of the adapter's answer: a JSON number, "nan", "inf", "-inf", or null (nan)."""
    if x is None:
        return math.nan
    return float(x)


class StdioWorker(Worker):
    """A :class:`~micrograd.oracle.runner.Worker` whose engine is an adapter command.

    The suite drives it unchanged: :meth:`request` runs programs and raises
    :class:`~micrograd.oracle.runner.WorkerTimeout` or
    :class:`~micrograd.oracle.runner.WorkerCrashed`; a later request restarts the command.
    """

    def __init__(
        self,
        target: Target,
        *,
        load_timeout: float = 10.0,
        sandbox: bool = False,
        sandbox_root: str = "",
        **_: Any,  # noqa: ANN401 - Worker's limits, which a command does not take
    ) -> None:
        super().__init__(
            target, load_timeout=load_timeout, sandbox=sandbox, sandbox_root=sandbox_root
        )
        self.ops: frozenset[str] = frozenset()
        """The op forms the adapter says its port has."""
        self._popen: subprocess.Popen[bytes] | None = None
        self._chunks: PipeReader[bytes] | None = None
        self._buffer = b""
        self._output: list[str] = []
        self._kept = 0

    def __enter__(self) -> StdioWorker:
        return self

    @property
    def alive(self) -> bool:
        """Whether the command is running."""
        return self._popen is not None

    def start(self) -> None:
        """Start the command and read its hello.

        Raises:
            LoadError: If it cannot start, dies or says no hello within ``load_timeout``, or
                its hello is not the protocol's.
        """
        self.close()
        words = shlex.split(self.target.location)
        if shutil.which(words[0]) is None:
            raise LoadError(
                f"--cmd {self.target.location}: cannot start it: no program {words[0]!r} "
                "(a name on PATH, or a path to an executable file)"
            )
        command = ["sh", "-c", _LIMITS, "adapter", *words] if shutil.which("sh") else words
        if self.sandbox:
            command = self._sandboxed(command)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the command
        self._popen = subprocess.Popen(
            command,
            bufsize=0,  # a read returns what there is, not 64 KB or the end
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=has_process_groups(),
            cwd=os.getcwd(),
        )
        assert self._popen.stdout is not None
        self._chunks = PipeReader(self._popen.stdout, _read_chunk, ahead=16)
        self.starts += 1
        try:
            hello = self._receive(time.monotonic() + self.load_timeout)
        except WorkerTimeout as exc:
            raise LoadError(
                f"--cmd {self.target.location}: no hello line within {self.load_timeout:g} s"
            ) from exc
        except WorkerCrashed as exc:
            raise LoadError(f"--cmd {self.target.location}: {exc}") from exc
        if hello.get("hello") != "micrograd-adapter" or hello.get("protocol") != PROTOCOL:
            self.close()
            raise LoadError(
                f"--cmd {self.target.location}: its first line is not a hello of protocol "
                f'{PROTOCOL} ({{"hello": "micrograd-adapter", "protocol": {PROTOCOL}, "ops": '
                f"[...]}}): {json.dumps(hello)[:200]}"
            )
        ops = hello.get("ops", list(OPS))
        if not isinstance(ops, list):
            self.close()
            raise LoadError(
                f"--cmd {self.target.location}: the ops of its hello are not a list: "
                f"{json.dumps(ops)[:200]}"
            )
        self.ops = frozenset(str(op) for op in ops) & frozenset(OPS)
        self.loaded_class = str(hello.get("engine", self.target.location))
        self.load_output = self._take_output()

    def _sandboxed(self, command: list[str]) -> list[str]:
        """``command`` in the sandbox a Python engine gets, shown the port's folder read-only.

        The port's folder is ``sandbox_root`` (``grade`` runs each port in its
        own) or the current folder; the adapter's program (found on the
        grader's ``PATH``: the sandbox has only the system's) and the files
        the command names are shown too, read-only. The system's folders
        (``/usr``: node, a C library) are, as for a Python engine.
        """
        words = command[4:]
        program = os.path.abspath(shutil.which(words[0]) or words[0])
        named = [os.path.abspath(word) for word in words[1:] if os.path.isfile(word)]
        folder = self.sandbox_root or os.getcwd()
        return sandbox.wrap(
            [*command[:4], program, *words[1:]],
            visible=[folder, program, *named],
            hidden=REFERENCE_PACKAGE,
            cwd=folder,
        )

    def request(
        self, programs: list[dict[str, Any]], timeout: float, *, kind: str = "programs"
    ) -> tuple[list[Any], str]:
        """Run ``programs`` through the adapter; one result per program, and what it printed.

        Programs needing an op form the adapter did not list are answered here,
        as a Python engine's missing method is.

        Raises:
            WorkerTimeout: If the answer takes longer than ``timeout`` seconds (the command
                is killed, and started again by the next request).
            WorkerCrashed: If the command dies or breaks the protocol.
            LoadError: If starting the command again fails.
            ValueError: For ``kind="networks"``: an adapter runs programs only.
        """
        if kind != "programs":
            raise ValueError("an adapter command runs expression programs only, not networks")
        if not self.alive:
            self.start()
        results: list[Any] = [None] * len(programs)
        sent = []
        for i, program in enumerate(programs):
            absent = [j for j, op in enumerate(program["ops"]) if form(op) not in self.ops]
            if absent:
                step = len(program["leaves"]) + absent[0]
                missing = form(program["ops"][absent[0]])
                results[i] = {
                    "missing": missing,
                    "error": f"the adapter does not list {missing} among its ops",
                    "exc_type": "Unsupported",
                    "phase": "forward",
                    "step": step,
                    "trace": "",
                }
            else:
                sent.append(i)
        if sent:
            deadline = time.monotonic() + timeout
            self._send({"programs": [wire(programs[i]) for i in sent]}, deadline)
            answer = self._receive(deadline)
            got = answer.get("results")
            if not isinstance(got, list) or len(got) != len(sent):
                self.close(graceful=False)
                raise WorkerCrashed(
                    f"the adapter broke the protocol: {len(sent)} programs sent, its answer "
                    f"was {json.dumps(answer)[:200]}"
                )
            for i, result in zip(sent, got, strict=True):
                results[i] = _result(programs[i], result)
        return results, self._take_output()

    def _send(self, message: dict[str, Any], deadline: float) -> None:
        """Write one line to the command's stdin, waiting at most until ``deadline``."""
        assert self._popen is not None
        assert self._popen.stdin is not None
        left = deadline - time.monotonic()
        try:
            taken = write_within(self._popen.stdin, (json.dumps(message) + "\n").encode(), left)
        except OSError as exc:  # it died before reading all of it
            raise WorkerCrashed(self._death()) from exc
        if not taken:
            self.close(graceful=False)
            raise WorkerTimeout(f"the adapter read no input within the timeout ({left:g} s)")

    def _receive(self, deadline: float) -> dict[str, Any]:
        """The next JSON line from the command's stdout; other lines are its output."""
        assert self._chunks is not None
        while True:
            line, newline, rest = self._buffer.partition(b"\n")
            if newline:
                self._buffer = rest
                text = line.decode(errors="replace").strip()
                if not text.startswith("{"):
                    self._keep(text)
                    continue
                try:
                    message = json.loads(text)
                except ValueError as exc:
                    self.close(graceful=False)
                    raise WorkerCrashed(
                        f"the adapter broke the protocol: a line that is not JSON: {text[:200]}"
                    ) from exc
                if not isinstance(message, dict):  # pragma: no cover - a line starting with {
                    raise WorkerCrashed("the adapter broke the protocol")
                return message
            try:
                chunk = self._chunks.get(max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.close(graceful=False)
                raise WorkerTimeout("no answer within the timeout") from None
            if not isinstance(chunk, bytes):  # None: the end of its stdout
                raise WorkerCrashed(self._death())
            self._buffer += chunk
            if len(self._buffer) > LINE_CAP:
                self.close(graceful=False)
                raise WorkerCrashed(
                    f"the adapter broke the protocol: a line longer than {LINE_CAP} bytes"
                )

    def _keep(self, line: str) -> None:
        """Keep a line the port printed, up to the cap."""
        if self._kept < _OUTPUT_CAP:
            self._output.append(line[: _OUTPUT_CAP - self._kept] + "\n")
            self._kept += len(line) + 1

    def _take_output(self) -> str:
        text = "".join(self._output)
        self._output, self._kept = [], 0
        return text

    def _death(self) -> str:
        """Why the command died, from its exit status and the end of its stderr."""
        assert self._popen is not None
        try:
            code = self._popen.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - closed its stdout, still alive
            code = None
        if code is None:  # pragma: no cover - see above
            why = "it closed its stdout"
        elif (  # pragma: no cover - a port killed in the sandbox; the Python twin is tested
            self.sandbox and code - 128 in {int(s) for s in signal.Signals}  # bwrap: 128 + n
        ):
            why = f"it was killed by {signal.Signals(code - 128).name}"
        elif code < 0:
            why = f"it was killed by {signal.Signals(-code).name}"
        else:
            why = f"it exited with status {code}"
        assert self._stderr is not None
        self._stderr.seek(0)
        lines = self._stderr.read(65536).decode(errors="replace").splitlines()
        last = ([line.strip() for line in lines if line.strip()] or [""])[-1][:300]
        self.close()
        return f"the adapter's process died: {why}" + (f" ({last})" if last else "")

    def close(self, *, graceful: bool = True) -> None:
        """Stop the command (its whole process group); ``graceful`` first closes its stdin."""
        if self._popen is not None:
            stdin = self._popen.stdin
            assert stdin is not None  # started with stdin=PIPE
            if graceful:
                with contextlib.suppress(OSError):
                    stdin.close()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._popen.wait(timeout=2.0)
            if self._popen.poll() is None:
                kill_tree(self._popen)
                self._popen.wait()
            with contextlib.suppress(OSError):  # again if closed: nothing happens
                stdin.close()  # (its stdout is closed by the thread that reads it)
            self._popen = None
        if self._chunks is not None:
            self._chunks.stop()  # its thread closes the command's stdout, at the pipe's end
            self._chunks = None
        self._buffer = b""
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def _read_chunk(pipe: IO[bytes]) -> bytes | None:
    """What the command wrote since the last read (at most 64 KB); None at the pipe's end."""
    return pipe.read(65536) or None


def _result(program: dict[str, Any], answer: Any) -> dict[str, Any]:  # noqa: ANN401 - JSON
    """The adapter's answer for ``program`` in the form of a Python engine's result."""
    n_leaves = len(program["leaves"])
    n_registers = n_leaves + len(program["ops"])
    if not isinstance(answer, dict):
        answer = {"error": f"the adapter answered {json.dumps(answer)[:100]} for a program"}
    if "error" not in answer:
        try:
            data = [_number(x) for x in answer["data"]]
            grads = [_number(x) for x in answer["grads"]]
            root = answer.get("root_grad")
            root_grad = _number(root) if program.get("root_grad") else None
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            answer = {"error": f"the adapter's answer is not numbers: {exc!r}", "phase": "read"}
        else:
            if len(data) == n_registers and len(grads) == n_leaves:
                return {
                    "data": data,
                    "grads": grads,
                    "root_grad": root_grad,
                    "grads_before": [0.0] * n_leaves,  # a port's new leaf has grad 0
                }
            answer = {
                "error": f"the adapter answered {len(data)} data and {len(grads)} grads for "
                f"{n_registers} registers and {n_leaves} leaves",
                "phase": "read",
            }
    phase = answer.get("phase")
    step = answer.get("step")
    return {
        "error": str(answer["error"])[:300],
        "exc_type": str(answer.get("type", "Error")),
        "phase": phase if phase in _PHASES else "forward",
        "step": min(max(step, 0), n_registers - 1) if isinstance(step, int) else n_registers - 1,
        "trace": "",
    }
