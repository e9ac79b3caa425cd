"""The child process: a student's engine runs apart, and whatever it does, the grader goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from micrograd import Value
from micrograd.oracle import worker
from micrograd.oracle.runner import (
    LoadError,
    PipeReader,
    Worker,
    WorkerCrashed,
    WorkerTimeout,
    parse_target,
    write_within,
)
from tests.oracle.helpers import ENGINES, engine, reply_forger

ADD = {"leaves": [2.0, 4.0], "ops": [["bin", "+", 0, 1]], "root_grad": False}
EXP = {"leaves": [1.0], "ops": [["un", "exp", 0]], "root_grad": False}
LOG = {"leaves": [2.0], "ops": [["un", "log", 0]], "root_grad": False}


class TestParseTarget:
    """TARGET is a .py path or a module name, with an optional :ClassName."""

    def test_path_with_class(self) -> None:
        """A file path and a class name after the colon."""
        target = parse_target(engine("correct_local_grads", "Scalar"))
        assert (target.kind, target.class_name) == ("path", "Scalar")
        assert Path(target.location) == ENGINES / "correct_local_grads.py"

    def test_module_defaults_to_value(self) -> None:
        """A dotted name is a module, and the class defaults to Value."""
        target = parse_target("micrograd.engine")
        assert (target.kind, target.location, target.class_name) == (
            "module",
            "micrograd.engine",
            "Value",
        )
        assert target.import_line() == "from micrograd.engine import Value"

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("missing.py", "no such file"),
            ("engine.py:3x", "is not a class name"),
            ("not a module", "neither a .py file nor a module name"),
        ],
    )
    def test_bad_targets_are_load_errors(self, text: str, message: str) -> None:
        """A missing file, a bad class name or a bad module name is refused with a reason."""
        with pytest.raises(LoadError, match=message):
            parse_target(text)


class TestWorkerProcess:
    """A worker answers requests and survives hangs, exits and crashes of the engine."""

    def test_answers_with_the_engines_numbers(self) -> None:
        """A correct engine's numbers come back through the pipe, exactly."""
        with Worker(parse_target(engine("correct_closures"))) as child:
            (result,), output = child.request([ADD], timeout=10)
        assert result == {
            "data": [2.0, 4.0, 6.0],
            "grads": [1.0, 1.0],
            "root_grad": None,
            "grads_before": [0.0, 0.0],
        }
        assert output == ""

    def test_a_hang_times_out_and_the_next_request_restarts_it(self) -> None:
        """After a timeout the child is killed; the next request starts a fresh one."""
        with Worker(parse_target(engine("bug_hang_exp"))) as child:
            with pytest.raises(WorkerTimeout):
                child.request([EXP], timeout=0.5)
            assert not child.alive
            (result,), _ = child.request([ADD], timeout=10)
            assert result["data"][-1] == 6.0
            assert child.starts == 2

    def test_os_exit_is_a_crash_with_its_status(self) -> None:
        """os._exit in the engine kills only the child, and the exit status is reported."""
        with (
            Worker(parse_target(engine("bug_os_exit"))) as child,
            pytest.raises(WorkerCrashed, match="exited with status 3"),
        ):
            child.request([LOG], timeout=10)

    def test_a_segfault_is_a_crash_naming_the_signal(self) -> None:
        """Reading address 0 kills the child with SIGSEGV, and the report says so."""
        tanh = {"leaves": [0.5], "ops": [["un", "tanh", 0]], "root_grad": False}
        with (
            Worker(parse_target(engine("bug_segfault"))) as child,
            pytest.raises(WorkerCrashed, match="SIGSEGV"),
        ):
            child.request([tanh], timeout=10)

    def test_printed_output_is_captured_and_capped(self) -> None:
        """A megabyte printed by the engine comes back capped, never on our stdout."""
        tanh = {"leaves": [0.5], "ops": [["un", "tanh", 0]], "root_grad": False}
        with Worker(parse_target(engine("correct_noisy"))) as child:
            (result,), output = child.request([tanh], timeout=10)
        assert "data" in result
        assert len(output) < worker.OUTPUT_CAP + 100
        assert output.endswith("characters of output dropped]")

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("load_syntax_error", "SyntaxError"),
            ("load_exits", "sys.exit"),
            ("load_no_class", "has no class named 'Value': it defines Valu; name the class as"),
        ],
    )
    def test_an_engine_that_does_not_load_is_a_load_error(self, name: str, message: str) -> None:
        """Syntax errors, sys.exit on import and a missing class are reported in one line."""
        with Worker(parse_target(engine(name))) as child, pytest.raises(LoadError, match=message):
            child.start()

    def test_an_import_that_hangs_is_a_load_error(self) -> None:
        """An engine that loops while imported is given up on after the load timeout."""
        with (
            Worker(parse_target(engine("load_hangs")), load_timeout=0.5) as child,
            pytest.raises(LoadError, match=r"took longer than 0\.5 s"),
        ):
            child.start()

    def test_an_import_that_crashes_is_a_load_error(self, tmp_path: Path) -> None:
        """An engine that kills Python while imported is a load error, not a grader crash."""
        path = tmp_path / "dies.py"
        path.write_text("import os\nos._exit(7)\n")
        with (
            Worker(parse_target(str(path))) as child,
            pytest.raises(LoadError, match="crashed Python"),
        ):
            child.start()

    def test_the_child_does_not_import_our_micrograd(self, tmp_path: Path) -> None:
        """A student's module named micrograd wins over ours in the child."""
        package = tmp_path / "micrograd"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "engine.py").write_text("class Value:\n    def backward(self): pass\n")
        target = parse_target("micrograd.engine", paths=(str(tmp_path),))
        with Worker(target) as child:
            child.start()
            (result,), _ = child.request([ADD], timeout=10)
        assert result["missing"] == "__add__"


class TestWorkerInProcess:
    """The interpreter of programs, run with the reference engine in this process."""

    def test_evaluate_reports_every_number(self) -> None:
        """The data of every register, the grad of every leaf and, when asked, of the root."""
        program = {**ADD, "root_grad": True}
        assert worker.evaluate(program, Value) == {
            "data": [2.0, 4.0, 6.0],
            "grads": [1.0, 1.0],
            "root_grad": 1.0,
            "grads_before": [0.0, 0.0],
        }

    def test_an_exception_names_its_phase_and_register(self) -> None:
        """A failure building register 2 is reported as forward, step 2, with its message."""
        result = worker.evaluate({"leaves": [1.0], "ops": [["lnum", "+", 0, "x"]]}, Value)
        assert (result["exc_type"], result["phase"], result["step"]) == ("TypeError", "forward", 1)

    def test_sys_exit_is_an_error_not_an_exit(self) -> None:
        """SystemExit raised by an engine is caught and described."""

        class Exits:
            def __init__(self, data: float) -> None:
                self.data = data

            def backward(self) -> None:
                raise SystemExit(4)

        result = worker.evaluate({"leaves": [1.0], "ops": []}, Exits)
        assert result["error"] == "SystemExit: the engine called sys.exit(4)"
        assert result["phase"] == "backward"

    def test_missing_methods_are_found_before_running(self) -> None:
        """The reflected operator a program needs is named when the class lacks it."""

        class NoReflected:
            def __add__(self, other: object) -> NoReflected:
                return self

        program = {"leaves": [1.0], "ops": [["rnum", "-", 2, 0]]}
        assert worker.missing_method(NoReflected, program) == "__rsub__"
        assert worker.missing_method(Value, program) is None

    def test_capped_text_keeps_the_beginning(self) -> None:
        """Output past the cap is counted, not kept."""
        text = worker.CappedText()
        text.write("x" * (worker.OUTPUT_CAP + 10))
        text.flush()
        assert not text.isatty()
        kept = text.take()
        assert kept.startswith("x" * worker.OUTPUT_CAP)
        assert kept.endswith("[… 10 more characters of output dropped]")
        assert text.take() == ""


class TestWorkerEdges:
    """Corners of loading and reporting in the child."""

    def test_a_file_python_cannot_import_is_a_load_error(self, tmp_path: Path) -> None:
        """A path without the .py suffix cannot be imported, and says so."""
        path = tmp_path / "engine.txt"
        path.write_text("class Value:\n    pass\n")
        with (
            Worker(parse_target(str(path))) as child,
            pytest.raises(LoadError, match="cannot import"),
        ):
            child.start()

    def test_no_memory_limit_when_asked(self) -> None:
        """memory_bytes=0 leaves the address space unlimited; the engine still runs."""
        with Worker(parse_target(engine("correct_closures")), memory_bytes=0) as child:
            (result,), _ = child.request([ADD], timeout=10)
        assert result["grads"] == [1.0, 1.0]

    def test_a_long_message_is_cut(self) -> None:
        """Exception messages are cut at 300 characters."""

        class Loud:
            def __init__(self, data: float) -> None:
                raise ValueError("x" * 1000)

        result = worker.evaluate({"leaves": [1.0], "ops": []}, Loud)
        assert result["error"] == "ValueError: " + "x" * 300 + "…"

    def test_flooding_stderr_is_stopped_by_the_file_size_limit(self, tmp_path: Path) -> None:
        """Writing past 64 MiB to the stderr file fails (EFBIG) instead of filling the disk."""
        path = tmp_path / "flood.py"
        source = (ENGINES / "correct_closures.py").read_text()
        path.write_text(
            source.replace(
                "    def exp(self):\n",
                "    def exp(self):\n        import os\n"
                "        while True:\n            os.write(2, b'x' * 2**20)\n",
            )
        )
        with Worker(parse_target(str(path))) as child:
            (result,), _ = child.request([EXP], timeout=30)
        assert result["error"].startswith("OSError: ")
        assert "File too large" in result["error"]

    def test_sigkill_is_suspected_to_be_memory(self, tmp_path: Path) -> None:
        """A child killed by SIGKILL (the kernel's out-of-memory killer) is reported as such."""
        path = tmp_path / "killed.py"
        source = (ENGINES / "correct_closures.py").read_text()
        path.write_text(
            source.replace(
                "    def exp(self):\n",
                "    def exp(self):\n        import os, signal\n"
                "        os.kill(os.getpid(), signal.SIGKILL)\n",
            )
        )
        with (
            Worker(parse_target(str(path))) as child,
            pytest.raises(WorkerCrashed, match=r"SIGKILL \(out of memory\?\)"),
        ):
            child.request([EXP], timeout=10)


def _children(pid: int) -> list[int]:
    done = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(word) for word in done.stdout.split()]


def _worker_of(pid: int) -> int | None:
    """The Python worker among the descendants of ``pid`` (in the sandbox, bwrap's grandchild)."""
    for child in _children(pid):
        try:
            arguments = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:  # gone between ps and here
            continue
        if b"worker.main(" in arguments:
            return child
        found = _worker_of(child)
        if found is not None:
            return found
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # a zombie is gone too


def _marked(mark: bytes) -> list[int]:
    """The live processes whose environment holds ``mark``.

    The sandbox clears the worker's own environment, but its bwrap parents keep
    theirs, and live as long as it does.
    """
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            if mark in (folder / "environ").read_bytes().split(b"\0") and _alive(int(folder.name)):
                found.append(int(folder.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


class TestOrphans:
    """A hanging engine never outlives the grader that started it."""

    def test_nothing_outlives_a_grader_killed_as_it_starts_the_worker(self, tmp_path: Path) -> None:
        """Killed at moments across the worker's start, where bwrap's own watch has a gap."""
        mark = f"MICROGRAD_TEST_MARK={uuid.uuid4().hex}"
        env = {**os.environ, "MICROGRAD_TEST_MARK": mark.split("=")[1]}
        for moment in range(10):
            grader = subprocess.Popen(
                [sys.executable, "-m", "micrograd", "check", str(ENGINES / "load_hangs.py")],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            deadline = time.monotonic() + 60
            while not _children(grader.pid) and grader.poll() is None:
                assert time.monotonic() < deadline, "the grader started nothing in 60 s"
                time.sleep(0.005)
            time.sleep(0.003 * moment)
            os.killpg(grader.pid, signal.SIGKILL)
            grader.wait()
        deadline = time.monotonic() + 10
        while _marked(mark.encode()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _marked(mark.encode()) == []

    def test_the_worker_dies_with_a_killed_grader(self, tmp_path: Path) -> None:
        """Check killed with SIGKILL (grade's time limit does that): its hanging child goes too."""
        grader = subprocess.Popen(
            [sys.executable, "-m", "micrograd", "check", str(ENGINES / "load_hangs.py")],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            # The sandbox's probe is a child too, for a moment, and bwrap comes before the
            # worker: wait for the worker itself, the process that must not outlive the grader.
            deadline = time.monotonic() + 60
            child = _worker_of(grader.pid)
            while child is None and grader.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
                child = _worker_of(grader.pid)
            assert child is not None, f"no worker started (grader exit status {grader.poll()})"
        finally:
            os.killpg(grader.pid, signal.SIGKILL)  # the worker has a session of its own: untouched
            grader.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child)


def _later(path: Path, statement: str) -> Path:
    """The correct engine at ``path``, with ``statement`` run by a thread 0.3 s after its import."""
    path.write_text(
        "import os, signal, threading, time\n"
        f"def later():\n    time.sleep(0.3)\n    {statement}\n"
        "threading.Thread(target=later, daemon=True).start()\n"
        + (ENGINES / "correct_closures.py").read_text()
    )
    return path


class TestTheConversation:
    """Grader and child speak in length-prefixed messages over the child's stdin and stdout."""

    def test_a_message_survives_a_pipe_that_gives_a_byte_at_a_time(self) -> None:
        """Short reads and short writes still carry each message whole, in order."""
        sent = bytearray()

        def write_three(data: bytes) -> int:
            sent.extend(data[:3])
            return min(3, len(data))

        for payload in (b'{"id": 1}', b"", b"x" * 1000):
            worker.write_message(write_three, payload)
        pipe = list(reversed(sent))

        def read_one(size: int) -> bytes:
            assert size >= 1
            return bytes([pipe.pop()]) if pipe else b""

        received = [worker.read_message(read_one, 10_000) for _ in range(4)]
        assert received == [b'{"id": 1}', b"", b"x" * 1000, None]

    @pytest.mark.parametrize("cut", [0, 2, 4, 6])
    def test_a_message_cut_off_is_the_end(self, cut: int) -> None:
        """A child that dies mid-message leaves no half message behind: the pipe has ended."""
        whole = worker.HEADER.pack(3) + b"abc"
        rest = [whole[:cut]]
        assert worker.read_message(lambda _: rest.pop() if rest else b"", 100) is None

    @pytest.mark.parametrize("size", [-1, 101])
    def test_a_size_out_of_bounds_is_refused(self, size: int) -> None:
        """A header announcing more than the limit (or less than nothing) is not read on."""
        header = [worker.HEADER.pack(size)]
        with pytest.raises(ValueError, match=f"a message of {size} bytes announced"):
            worker.read_message(lambda _: header.pop(), 100)

    def test_a_child_writing_unasked_is_held_up_by_its_pipe(self) -> None:
        """Messages nobody asked for wait in the child's pipe, not in the grader's memory."""
        message = "struct.pack('!i', 2**20) + bytes(2**20)"
        spew = f"import os, struct\nwhile True:\n    os.write(1, {message})"
        child = subprocess.Popen([sys.executable, "-c", spew], stdout=subprocess.PIPE, bufsize=0)
        assert child.stdout is not None
        reader = PipeReader(child.stdout, lambda pipe: worker.read_message(pipe.read, 2**21))

        def written() -> int:
            return int(Path(f"/proc/{child.pid}/io").read_text().split()[3])  # wchar

        try:
            deadline = time.monotonic() + 30
            while written() < 3 * 2**20 and time.monotonic() < deadline:  # two queued, one read
                time.sleep(0.05)
            time.sleep(0.5)  # were the reader not held up, it would read on, and the child write
            assert written() < 4 * 2**20  # and a fourth in the pipe, part written
            assert reader.get(timeout=5) == bytes(2**20)
        finally:
            reader.stop()
            child.kill()
            child.wait()

    def test_a_child_that_reads_nothing_is_late_not_a_hang(self) -> None:
        """A write the child never takes returns at its timeout; killing the child ends it."""
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)"], stdin=subprocess.PIPE, bufsize=0
        )
        assert child.stdin is not None
        started = time.monotonic()
        assert not write_within(child.stdin, bytes(2**20), 0.5)
        assert time.monotonic() - started < 5
        child.kill()
        child.wait()
        with pytest.raises(BrokenPipeError):
            write_within(child.stdin, b"more", 5)
        child.stdin.close()

    def test_a_stopped_engine_is_a_timeout_while_written_to(self, tmp_path: Path) -> None:
        """A request larger than the pipe, never read (the engine stopped itself): a timeout."""
        stopper = _later(tmp_path / "stopper.py", "os.kill(os.getpid(), signal.SIGSTOP)")
        with Worker(parse_target(f"{stopper}:Value")) as child:
            child.start()
            time.sleep(1.0)
            started = time.monotonic()
            with pytest.raises(WorkerTimeout):
                child.request([ADD] * 5000, timeout=1.0)  # about 300 KB
            assert time.monotonic() - started < 5
            assert not child.alive

    def test_an_engine_gone_between_requests_is_a_crash(self, tmp_path: Path) -> None:
        """The next request finds the pipe broken: a crash that names the exit status."""
        leaver = _later(tmp_path / "leaver.py", "os._exit(3)")
        with Worker(parse_target(f"{leaver}:Value")) as child:
            child.start()
            time.sleep(1.0)
            with pytest.raises(WorkerCrashed, match="exited with status 3"):
                child.request([ADD], timeout=5)

    def test_the_engine_writing_to_descriptor_one_changes_nothing(self, tmp_path: Path) -> None:
        """A C library's printf or os.write(1, ...) goes nowhere, input() reads nothing.

        The bytes it writes look like a message header: were descriptor 1 still the
        grader's pipe, they would be read as one.
        """
        noisy = tmp_path / "noisy.py"
        noisy.write_text(
            "import os\n"
            "os.write(1, b'\\x00\\x00\\x00\\x02{}')\n"
            "try:\n    input()\nexcept EOFError:\n    pass\n"
            + (ENGINES / "correct_closures.py").read_text()
        )
        with Worker(parse_target(f"{noisy}:Value")) as child:
            child.start()
            (result,), _ = child.request([ADD], timeout=10)
        assert result["data"] == [2.0, 4.0, 6.0]

    def test_an_answer_past_the_cap_breaks_the_protocol(self, tmp_path: Path) -> None:
        """An engine announcing a 2 GB answer is stopped, not waited for or read into memory."""
        huge = tmp_path / "huge.py"
        huge.write_text(reply_forger("b''", announced=str(2**31 - 1)) + "class Value:\n    pass\n")
        with (
            Worker(parse_target(f"{huge}:Value")) as child,
            pytest.raises(LoadError, match="broke the protocol: a message of 2147483647 bytes"),
        ):
            child.start()
        assert not child.alive
