"""The stdio protocol from the grader's side: handshake, answers, faults of the adapter command."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from micrograd.cli import main
from micrograd.oracle.runner import LoadError, WorkerCrashed, WorkerTimeout
from micrograd.oracle.runner import _invalid_result as invalid_result
from micrograd.oracle.suite import Options, run_suite
from micrograd.oracle.targets import stdio
from micrograd.oracle.targets.stdio import StdioWorker, command_target
from micrograd.oracle.wire import wire
from tests.oracle import ports
from tests.oracle.helpers import engine_file, like_windows

HELLO = '{"hello": "micrograd-adapter", "protocol": 1, "engine": "fake", "ops": ["add", "tanh"]}'

ADD = {"leaves": [1.0, 2.0], "ops": [["bin", "+", 0, 1]]}
"""a + b, with a = 1 and b = 2."""


def _adapter(tmp_path: Path, body: str, hello: str = HELLO) -> str:
    """The command of a fake adapter: prints ``hello``, then runs ``body`` on each request."""
    script = tmp_path / "fake.py"
    script.write_text(
        "import json, os, signal, sys, time\n"
        f"print({hello!r}, flush=True)\n"
        "for line in sys.stdin:\n"
        "    programs = json.loads(line)['programs']\n"
        + "".join(f"    {statement}\n" for statement in body.splitlines())
    )
    return shlex.join([sys.executable, str(script)])


def _answer(results: str) -> str:
    """A body answering every request with ``results`` (a Python expression of ``programs``)."""
    return f"print(json.dumps({{'results': {results}}}), flush=True)"


def _request(
    command: str, programs: list[dict[str, Any]], timeout: float = 5.0
) -> list[dict[str, Any]]:
    with StdioWorker(command_target(command)) as worker:
        results, _ = worker.request(programs, timeout)
    return results


class TestHandshake:
    """The adapter's first line says the protocol and which op forms it has."""

    def test_the_ops_it_lists_are_the_ops_it_has(self, tmp_path: Path) -> None:
        """Programs needing an op not listed are not sent: they come back missing."""
        command = _adapter(tmp_path, _answer("[{'data': [0, 0, 3], 'grads': [1, 1]}]"))
        mul = {"leaves": [1.0, 2.0], "ops": [["bin", "*", 0, 1]]}
        missing, added = _request(command, [mul, ADD])
        assert _request(command, [mul]) == [missing]
        assert missing["missing"] == "mul"
        assert missing["error"] == "the adapter does not list mul among its ops"
        assert added["data"] == [0.0, 0.0, 3.0]

    def test_a_hello_without_ops_has_them_all(self, tmp_path: Path) -> None:
        """No ``ops`` in the hello: every op form is sent."""
        hello = '{"hello": "micrograd-adapter", "protocol": 1}'
        command = _adapter(tmp_path, _answer("[{'data': [0, 0, 3], 'grads': [1, 1]}]"), hello)
        with StdioWorker(command_target(command)) as worker:
            worker.start()
            assert len(worker.ops) == 21
            assert worker.loaded_class == command

    @pytest.mark.parametrize(
        "hello", ['{"hello": "micrograd-adapter", "protocol": 2}', '{"hi": 1}']
    )
    def test_another_hello_is_a_load_error(self, tmp_path: Path, hello: str) -> None:
        """Another protocol, or no hello at all: the engine does not load, the line is shown."""
        with pytest.raises(LoadError, match="not a hello of protocol 1"):
            _request(_adapter(tmp_path, "", hello), [ADD])

    def test_ops_that_are_not_a_list_are_a_load_error(self, tmp_path: Path) -> None:
        """A hello whose ops are not a list is refused, not read letter by letter."""
        hello = '{"hello": "micrograd-adapter", "protocol": 1, "ops": 5}'
        with pytest.raises(LoadError, match="the ops of its hello are not a list: 5"):
            _request(_adapter(tmp_path, "", hello), [ADD])

    def test_a_command_that_cannot_start_is_a_load_error(self, tmp_path: Path) -> None:
        """A program that does not exist, or is no executable file."""
        with pytest.raises(LoadError, match="cannot start it: no program"):
            _request(str(tmp_path / "no-such-adapter"), [ADD])
        with pytest.raises(LoadError, match="cannot start it: no program"):
            _request(str(tmp_path), [ADD])

    def test_a_command_that_dies_first_is_a_load_error(self, tmp_path: Path) -> None:
        """It exits before its hello: its status and the end of its stderr are shown."""
        command = shlex.join([sys.executable, "-c", "import sys; sys.exit('no engine here')"])
        with pytest.raises(LoadError, match=r"exited with status 1 \(no engine here\)"):
            _request(command, [ADD])

    def test_a_command_without_hello_times_out(self) -> None:
        """No hello within the load timeout."""
        command = shlex.join([sys.executable, "-c", "import time; time.sleep(30)"])
        worker = StdioWorker(command_target(command), load_timeout=0.5)
        with pytest.raises(LoadError, match=r"no hello line within 0\.5 s"):
            worker.start()
        assert not worker.alive

    @pytest.mark.parametrize(("command", "why"), [("", "empty"), ("node 'a", "quotation")])
    def test_a_command_that_does_not_split_is_refused(self, command: str, why: str) -> None:
        """An empty command, or one with an open quote."""
        with pytest.raises(LoadError, match=why):
            command_target(command)


class TestAnswers:
    """What the adapter answers becomes what a Python engine's run gives."""

    def test_numbers_json_lacks_travel_as_strings_or_null(self, tmp_path: Path) -> None:
        """The strings nan, inf, -inf and null (nan) are read as numbers; the root grad if asked."""
        answer = "[{'data': ['nan', 'inf', None], 'grads': ['-inf', 0], 'root_grad': 1}]"
        (got,) = _request(_adapter(tmp_path, _answer(answer)), [{**ADD, "root_grad": True}])
        assert str(got["data"]) == "[nan, inf, nan]"
        assert got["grads"] == [-float("inf"), 0.0]
        assert got["root_grad"] == 1.0
        assert got["grads_before"] == [0.0, 0.0]
        assert invalid_result(got, "programs", {**ADD, "root_grad": True}) == ""

    @pytest.mark.parametrize(
        ("answer", "error"),
        [
            ("[{'data': [0, 0], 'grads': [1, 1]}]", "answered 2 data and 2 grads for 3 registers"),
            ("[{'grads': [1, 1]}]", "not numbers: KeyError('data')"),
            ("[{'data': ['x', 0, 0], 'grads': [1, 1]}]", "not numbers: ValueError"),
            ("[[1, 2]]", "the adapter answered [1, 2] for a program"),
            ("[{'data': [10**400, 0, 0], 'grads': [1, 1]}]", "not numbers: OverflowError"),
            ("[{'error': 5, 'type': [], 'phase': 'up', 'step': 99}]", "5"),
        ],
    )
    def test_a_malformed_answer_is_an_error_of_that_program(
        self, tmp_path: Path, answer: str, error: str
    ) -> None:
        """Wrong counts, missing, unreadable or huge numbers: an error result, the adapter kept.

        What comes out passes the checks the parent makes of a Python worker's answers.
        """
        (got,) = _request(_adapter(tmp_path, _answer(answer)), [ADD])
        assert error in got["error"]
        assert got["phase"] in ("read", "forward")
        assert invalid_result(got, "programs", ADD) == ""

    def test_an_error_says_where(self, tmp_path: Path) -> None:
        """The port's message, type, phase and step; without them: forward, the last register."""
        answer = (
            "[{'error': 'boom', 'type': 'TypeError', 'phase': 'backward', 'step': 99},"
            " {'error': 'bang', 'phase': 'elsewhere'}]"
        )
        first, second = _request(_adapter(tmp_path, _answer(answer)), [ADD, ADD])
        assert (first["error"], first["exc_type"], first["phase"], first["step"]) == (
            "boom",
            "TypeError",
            "backward",
            2,
        )
        assert (second["exc_type"], second["phase"], second["step"]) == ("Error", "forward", 2)

    def test_lines_that_are_not_json_are_the_ports_output(self, tmp_path: Path) -> None:
        """What the port prints is kept (capped), as a Python engine's prints are."""
        body = "print('x' * 5000)\nprint('hello from the port')\n" + _answer(
            "[{'data': [1, 2, 3], 'grads': [1, 1]}]"
        )
        with StdioWorker(command_target(_adapter(tmp_path, body))) as worker:
            _, output = worker.request([ADD], 5.0)
        assert output.startswith("xxx")
        assert len(output) == 4001  # the cap, and its newline; the second line is dropped

    def test_programs_go_out_in_the_documented_form(self, tmp_path: Path) -> None:
        """Four keys in a fixed order, whatever marks the grader's program carries."""
        body = "sys.stderr.write(json.dumps(programs))\n" + _answer(
            "[{'data': [1, 2, 3], 'grads': [1, 1]}]"
        )
        program = {**ADD, "reuse": True}
        assert list(wire(program)) == ["leaves", "ops", "backward_calls", "root_grad"]
        with StdioWorker(command_target(_adapter(tmp_path, body))) as worker:
            worker.request([program], 5.0)
            assert worker._stderr is not None
            worker._stderr.seek(0)
            assert json.loads(worker._stderr.read()) == [wire(program)]

    def test_networks_are_not_for_adapters(self, tmp_path: Path) -> None:
        """The nn check's requests are refused."""
        with (
            StdioWorker(command_target(_adapter(tmp_path, ""))) as worker,
            pytest.raises(ValueError, match="programs only"),
        ):
            worker.request([], 1.0, kind="networks")


class TestFaults:
    """A hang, a crash or a broken protocol is reported, and the next request starts again."""

    def test_a_hang_is_killed_at_the_timeout_and_restarted(self, tmp_path: Path) -> None:
        """WorkerTimeout, then a fresh command answers the next request."""
        body = "if programs[0]['leaves'][0] < 0: time.sleep(60)\n" + _answer(
            "[{'data': [1, 2, 3], 'grads': [1, 1]}]"
        )
        with StdioWorker(command_target(_adapter(tmp_path, body))) as worker:
            started = time.monotonic()
            with pytest.raises(WorkerTimeout):
                worker.request([{**ADD, "leaves": [-1.0, 2.0]}], 0.5)
            assert time.monotonic() - started < 5
            assert not worker.alive
            assert worker.request([ADD], 5.0)[0][0]["data"] == [1.0, 2.0, 3.0]
            assert worker.starts == 2

    def test_without_sh_or_process_groups(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Windows: no ``sh`` for the limits, no sessions, no process groups; still graded.

        The command starts as its own words, answers, and a hang is still killed
        at the timeout, the process alone.
        """
        which = shutil.which
        monkeypatch.setattr(shutil, "which", lambda name: None if name == "sh" else which(name))
        started = like_windows(monkeypatch)
        body = "if programs[0]['leaves'][0] < 0: time.sleep(60)\n" + _answer(
            "[{'data': [1, 2, 3], 'grads': [1, 1]}]"
        )
        command = _adapter(tmp_path, body)
        with StdioWorker(command_target(command)) as worker:
            assert worker.request([ADD], 5.0)[0][0]["data"] == [1.0, 2.0, 3.0]
            with pytest.raises(WorkerTimeout):
                worker.request([{**ADD, "leaves": [-1.0, 2.0]}], 0.5)
            assert worker.request([ADD], 5.0)[0][0]["data"] == [1.0, 2.0, 3.0]
        assert started == [shlex.split(command)] * 2

    def test_an_adapter_that_reads_nothing_times_out_while_written_to(self, tmp_path: Path) -> None:
        """A request larger than the pipe, never read: a timeout, not a grader stuck writing."""
        chain = {"leaves": [1.0], "ops": [["bin", "+", i, 0] for i in range(20_000)]}
        command = _adapter(tmp_path, "")
        script = Path(shlex.split(command)[1])
        idle = script.read_text().replace("for line in sys.stdin:", "time.sleep(60)\nif 0:")
        script.write_text(idle)
        with StdioWorker(command_target(command)) as worker, pytest.raises(WorkerTimeout):
            worker.request([chain], 0.5)

    def test_a_signal_is_named(self, tmp_path: Path) -> None:
        """Killed by a signal: the signal's name."""
        body = "os.kill(os.getpid(), signal.SIGSEGV)"
        with pytest.raises(WorkerCrashed, match="killed by SIGSEGV"):
            _request(_adapter(tmp_path, body), [ADD])

    def test_an_adapter_gone_before_the_request_is_a_crash(self, tmp_path: Path) -> None:
        """Its stdin is closed: the write fails, and its exit is reported."""
        command = _adapter(tmp_path, "", HELLO)
        script = Path(shlex.split(command)[1])
        gone = script.read_text().replace("for line in sys.stdin:", "sys.exit(4)\nif 0:")
        script.write_text(gone)
        with StdioWorker(command_target(command)) as worker:
            worker.start()
            assert worker._popen is not None
            worker._popen.wait()
            with pytest.raises(WorkerCrashed, match="exited with status 4"):
                worker.request([ADD], 5.0)

    @pytest.mark.parametrize(
        ("body", "why"),
        [
            ("print('{not json', flush=True)", "a line that is not JSON"),
            (_answer("[]"), "1 programs sent, its answer was"),
        ],
    )
    def test_a_broken_protocol_is_a_crash(self, tmp_path: Path, body: str, why: str) -> None:
        """A line starting with { that is no JSON, or the wrong number of results."""
        with pytest.raises(WorkerCrashed, match=why):
            _request(_adapter(tmp_path, body), [ADD])


class TestLimits:
    """An adapter cannot fill the disk, dump core or grow the grader's memory without bound."""

    def test_a_line_past_the_cap_breaks_the_protocol(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An endless line on stdout is cut off: a crash, not a grader out of memory."""
        monkeypatch.setattr(stdio, "LINE_CAP", 100_000)
        body = "sys.stdout.write('x' * 300_000); sys.stdout.flush(); time.sleep(30)"
        with pytest.raises(WorkerCrashed, match="a line longer than 100000 bytes"):
            _request(_adapter(tmp_path, body), [ADD])

    def test_stderr_is_capped_and_core_dumps_are_off(self, tmp_path: Path) -> None:
        """The command runs under ulimit: no file over 64 MB, no core file."""
        body = (
            "import resource\n"
            "print(resource.getrlimit(resource.RLIMIT_CORE)[0], "
            "resource.getrlimit(resource.RLIMIT_FSIZE)[0], file=sys.stderr)\n"
            "sys.exit(5)"
        )
        with pytest.raises(WorkerCrashed, match=r"status 5 \(0 67108864\)"):
            _request(_adapter(tmp_path, body), [ADD])


class TestCommandLine:
    """check --cmd: one engine, no --nn; reports say how to rerun it."""

    @pytest.mark.parametrize(
        "argv",
        [
            ["check"],
            ["check", "engine.py", "--cmd", "node adapter.js"],
            ["check", "--cmd", "node adapter.js", "--nn", "nn.py"],
        ],
    )
    def test_usage_errors(self, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
        """Neither or both of TARGET and --cmd, or --nn with --cmd: exit 2, one line."""
        assert main(argv) == 2
        assert capsys.readouterr().err.startswith("micrograd-ref: error: ")

    def test_an_adapter_that_does_not_load_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A load error of the command is the usual exit 2."""
        assert main(["check", "--cmd", str(tmp_path / "missing"), "--no-torch"]) == 2
        assert "cannot start it" in capsys.readouterr().err

    def test_a_failing_port_gets_a_program_and_pseudo_code(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The reproducer: the program as sent, then pseudo-code with the expected numbers."""
        command = ports.python_command(engine_file("bug_tanh_rule"))
        report = tmp_path / "report.json"
        argv = ["check", "--cmd", command, "--only", "tanh", "--no-torch", "--max-examples", "5"]
        assert main([*argv, "--json", str(report)]) == 1
        out = capsys.readouterr().out
        assert out.startswith("micrograd-ref check --cmd '")
        assert '# the program, as your adapter receives it:\n# {"leaves": [' in out
        assert "a.grad  # expected" in out
        assert ", yours " in out
        assert "<-- wrong" in out
        data = json.loads(report.read_text())
        assert data["rerun"].startswith(f"micrograd-ref check --cmd {shlex.quote(command)} ")
        (tanh,) = [c for c in data["checks"] if c["name"] == "tanh"]
        assert tanh["program"]["ops"][0] == ["un", "tanh", 0]

    def test_a_long_program_is_left_to_the_json_report(self, tmp_path: Path) -> None:
        """A chain thousands of instructions long is not printed as one line of JSON."""
        from micrograd.oracle.checks import chain  # noqa: PLC0415 - beside its use
        from micrograd.oracle.compare import Tolerance  # noqa: PLC0415 - beside its use
        from micrograd.oracle.reproducer import render  # noqa: PLC0415 - beside its use

        text = render(
            command_target("x"), chain(0.5, 0.25, 5000, 0), None, None, tolerance=Tolerance()
        )
        assert "# (5001 instructions: in the report that --json writes)" in text


def test_the_suite_runs_a_port_end_to_end(tmp_path: Path) -> None:
    """run_suite picks the stdio worker for a command target, and its report names it."""
    command = ports.python_command(Path(__file__).parent / "engines" / "correct_closures.py")
    suite = run_suite(command_target(command), Options(max_examples=3, use_torch=False))
    assert suite.passed
    assert suite.target.describe() == f"--cmd {shlex.quote(command)}"
