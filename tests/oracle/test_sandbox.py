"""The sandbox command, choosing it, the answers the parent refuses, platforms with less."""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from micrograd.cli import main
from micrograd.oracle import worker
from micrograd.oracle.runner import (
    REFERENCE_PACKAGE,
    WORKER_PATH,
    LoadError,
    Worker,
    WorkerCrashed,
    parse_target,
    sandbox_paths,
)
from micrograd.oracle.runner import _invalid_reply as invalid_reply
from micrograd.oracle.suite import Options, run_suite
from micrograd.oracle.targets import sandbox
from micrograd.oracle.targets.stdio import StdioWorker, command_target
from tests.oracle.helpers import ENGINES, engine, like_windows, reply_forger
from tests.oracle.test_hostile import require_sandbox

ADD = {"leaves": [2.0, 4.0], "ops": [["bin", "+", 0, 1]]}
NET = {"nin": 1, "nouts": [1], "params": [0.5, 0.1], "inputs": [[1.0], [2.0]]}
GOOD = {"data": [2.0, 4.0, 6.0], "grads": [1.0, 1.0], "root_grad": None, "grads_before": [0, None]}


def _pairs(words: list[str], flag: str) -> list[tuple[str, str]]:
    return [(words[i + 1], words[i + 2]) for i, w in enumerate(words) if w == flag]


def _wrap(**kwargs: Any) -> list[str]:
    args: dict[str, Any] = {
        "visible": (),
        "worker": WORKER_PATH,
        "hidden": REFERENCE_PACKAGE,
        "cwd": "/",
    }
    return sandbox.wrap(["python", "-c", "pass"], **{**args, **kwargs})


class TestSandboxCommand:
    """What the bubblewrap command shows the worker, and what it hides."""

    def test_the_system_read_only_and_not_the_whole_tree(self) -> None:
        """/usr and /etc read-only, never /; a private /tmp and home of a fixed size."""
        words = _wrap()
        assert ("/usr", "/usr") in _pairs(words, "--ro-bind-try")
        assert ("/", "/") not in _pairs(words, "--ro-bind") + _pairs(words, "--bind")
        assert words[:5] == ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                             "--clearenv"]  # fmt: skip
        assert words[words.index("--tmpfs") - 2 : words.index("--tmpfs") + 2] == [
            "--size", str(sandbox.TMP_BYTES), "--tmpfs", "/tmp"
        ]  # fmt: skip
        assert words[-4:] == ["--", "python", "-c", "pass"]

    def test_the_submission_is_shown_read_only_and_cwd_inside_it(self, tmp_path: Path) -> None:
        """A visible folder is bound read-only; cwd there when it is inside, else /tmp."""
        words = _wrap(visible=[str(tmp_path), str(tmp_path / "missing")], cwd=str(tmp_path))
        assert (str(tmp_path), str(tmp_path)) in _pairs(words, "--ro-bind")
        assert all(str(tmp_path / "missing") not in w for w in words)
        assert words[words.index("--chdir") + 1] == str(tmp_path)
        elsewhere = _wrap(visible=[str(tmp_path)], cwd="/usr")
        assert elsewhere[elsewhere.index("--chdir") + 1] == "/tmp"

    def test_an_installed_grader_is_emptied_but_for_its_worker(self) -> None:
        """Inside the Python installation, the package is a tmpfs with the worker bound in."""
        hidden = os.path.realpath(sys.prefix) + "/lib/micrograd"
        words = _wrap(hidden=hidden, worker=WORKER_PATH)
        assert words[words.index(hidden) - 1] == "--tmpfs"
        assert words.count(hidden) == 1
        assert (WORKER_PATH, WORKER_PATH) in _pairs(words, "--ro-bind")

    @pytest.mark.parametrize("home", ["/", "/tmp", "/usr/share"])
    def test_a_home_that_is_not_one_gets_no_tmpfs(
        self, monkeypatch: pytest.MonkeyPatch, home: str
    ) -> None:
        """A home at /, /tmp or in the system's folders is not mounted over.

        The grader's package is put outside the Python installation, so that
        the only tmpfs is ``/tmp``'s, whether micrograd-ref is installed or
        editable.
        """
        monkeypatch.setenv("HOME", home)
        words = _wrap(hidden="/nowhere/micrograd")
        assert [words[i + 1] for i, w in enumerate(words) if w == "--tmpfs"] == ["/tmp"]

    def test_coverage_data_goes_through_a_folder_of_its_own(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """Measured, the worker writes into its own folder, bound writable; collect moves it."""
        config = {"data_file": str(tmp_path / ".coverage"), "branch": True}
        encoded = base64.b64encode(json.dumps(config).encode()).decode()
        monkeypatch.setenv("COVERAGE_PROCESS_CONFIG", encoded)
        drop = sandbox.CoverageDrop.make()
        assert drop is not None
        words = _wrap(coverage=drop)
        assert _pairs(words, "--bind") == [(drop.folder, drop.folder)]
        assert (str(tmp_path), str(tmp_path)) not in _pairs(words, "--bind")
        setenv = dict(_pairs(words, "--setenv"))
        given = json.loads(base64.b64decode(setenv["COVERAGE_PROCESS_CONFIG"]))
        assert given == {**config, "data_file": f"{drop.folder}/.coverage"}
        (Path(drop.folder) / ".coverage.vm.2.x").write_text("data")
        drop.collect()
        assert (tmp_path / ".coverage.vm.2.x").read_text() == "data"
        assert not Path(drop.folder).exists()

    @pytest.mark.parametrize(
        "value",
        ["", "!!", base64.b64encode(b"[1]").decode(),
         base64.b64encode(b'{"data_file": 1}').decode(),
         base64.b64encode(b'{"data_file": "/nonexistent/.coverage"}').decode()],
    )  # fmt: skip
    def test_no_coverage_or_a_strange_config_binds_nothing(
        self, monkeypatch: pytest.MonkeyPatch, value: str
    ) -> None:
        """An absent, empty or unusable COVERAGE_PROCESS_CONFIG: no drop folder."""
        monkeypatch.setenv("COVERAGE_PROCESS_CONFIG", value)
        assert sandbox.CoverageDrop.make() is None
        monkeypatch.delenv("COVERAGE_PROCESS_CONFIG")
        assert sandbox.CoverageDrop.make() is None
        assert "--bind" not in _wrap()


class TestSandboxPaths:
    """Which of the student's paths the sandbox shows."""

    def test_a_file_shows_its_folder_and_a_module_the_current_one(self) -> None:
        """An engine file: its folder; a module name: the current folder."""
        assert sandbox_paths(parse_target(engine("correct_closures"))) == [str(ENGINES)]
        assert sandbox_paths(parse_target("json")) == [os.getcwd()]

    def test_a_notebook_shows_the_module_written_from_it(self, tmp_path: Path) -> None:
        """A notebook's module, in a folder of the grader's, is shown with the submission."""
        source = (ENGINES / "correct_closures.py").read_text()
        cell: dict[str, object] = {"cell_type": "code", "metadata": {}, "outputs": [],
                                   "execution_count": None, "source": source}  # fmt: skip
        notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        path = tmp_path / "mine.ipynb"
        path.write_text(json.dumps(notebook))
        target = parse_target(f"{path}:Value")
        module_folder = str(Path(target.location).parent)
        assert sandbox_paths(target, str(path)) == [str(path), module_folder]
        assert set(sandbox_paths(target)) == {str(tmp_path), module_folder}

    def test_a_root_shows_only_itself(self) -> None:
        """Grade's submission root replaces the engine's folder."""
        root = str(ENGINES / "correct_closures.py")
        assert sandbox_paths(parse_target(engine("correct_closures")), root) == [root]


class TestProbe:
    """Whether the sandbox can run, and why not."""

    def test_not_on_linux(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """MacOS and Windows have no bubblewrap."""
        monkeypatch.setattr(sys, "platform", "darwin")
        assert sandbox.probe.__wrapped__() == "bubblewrap is Linux only, and this is darwin"

    def test_not_installed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No bwrap on PATH."""
        monkeypatch.setenv("PATH", "/nonexistent")
        assert sandbox.probe.__wrapped__() == "bubblewrap (bwrap) is not installed"

    @pytest.mark.parametrize(
        ("script", "says"),
        [
            ("echo 'bwrap: No permissions to create new namespace' >&2; exit 1",
             "bwrap cannot make a sandbox here (bwrap: No permissions to create new namespace)"),
            ("exit 3", "bwrap cannot make a sandbox here (exit status 3)"),
        ],
    )  # fmt: skip
    def test_namespaces_refused(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str, says: str
    ) -> None:
        """A bwrap that fails (a container without user namespaces) says why."""
        fake = tmp_path / "bwrap"
        fake.write_text(f"#!/bin/sh\n{script}\n")
        fake.chmod(0o755)
        monkeypatch.setenv("PATH", str(tmp_path))
        assert sandbox.probe.__wrapped__() == says

    def test_bwrap_that_cannot_run(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """A bwrap that cannot be executed or hangs is no sandbox either."""
        fake = tmp_path / "bwrap"
        fake.write_text("#!/bin/sh\nexit 0\n")
        fake.chmod(0o755)
        monkeypatch.setenv("PATH", str(tmp_path))

        def refuse(*args: object, **kwargs: object) -> None:
            raise subprocess.TimeoutExpired("bwrap", 30)

        monkeypatch.setattr(subprocess, "run", refuse)
        assert sandbox.probe.__wrapped__().startswith("bwrap could not run: ")


class TestChoosing:
    """--sandbox, --no-sandbox and neither, in check, grade and the plugin."""

    def test_no_sandbox_never_probes(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """--no-sandbox is off, whatever is installed."""
        monkeypatch.setattr(sandbox, "probe", lambda: pytest.fail("probed"))
        assert sandbox.choose(False) is False

    def test_missing_sandbox_asked_for_is_a_usage_error(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Check --sandbox without bubblewrap: status 2, saying what to install."""
        monkeypatch.setattr(sandbox, "probe", lambda: "bubblewrap (bwrap) is not installed")
        assert main(["check", engine("correct_closures"), "--sandbox"]) == 2
        err = capsys.readouterr().err
        assert "--sandbox: bubblewrap (bwrap) is not installed" in err
        assert "apt-get install bubblewrap" in err

    def test_missing_sandbox_by_default_is_said_once(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without bubblewrap, a note on stderr once, then the run as without it."""
        monkeypatch.setattr(sandbox, "probe", lambda: "bubblewrap (bwrap) is not installed")
        monkeypatch.setattr(sandbox, "_NOTED", [])
        assert sandbox.choose(None) is False
        assert sandbox.choose(None) is False
        assert capsys.readouterr().err.count("note: no sandbox: bubblewrap") == 1

    def test_grade_says_it_ran_without(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Grade --no-sandbox: the header line and every report say so."""
        folder = tmp_path / "class"
        folder.mkdir()
        (folder / "ada.py").write_text((ENGINES / "correct_closures.py").read_text())
        out = tmp_path / "out"
        args = ["grade", str(folder), "--out", str(out), "--max-examples", "3", "--no-torch"]
        assert main([*args, "--no-sandbox", "--only", "add"]) == 1  # --only: incomplete
        assert "sandbox: none" in capsys.readouterr().out
        assert json.loads((out / "ada.json").read_text())["sandboxed"] is False
        assert "sandbox: none" in (out / "ada.txt").read_text()

    def test_plugin_option_is_validated(self, pytester: pytest.Pytester) -> None:
        """--micrograd-sandbox takes auto, yes or no."""
        result = pytester.runpytest_subprocess(
            f"--micrograd-impl={engine('correct_closures')}", "--micrograd-sandbox=maybe"
        )
        result.stderr.fnmatch_lines(["*--micrograd-sandbox: expected auto, yes or no*"])

    def test_plugin_without_sandbox(self, pytester: pytest.Pytester) -> None:
        """--micrograd-sandbox=no: the header says so and reproduces it."""
        result = pytester.runpytest_subprocess(
            f"--micrograd-impl={engine('correct_closures')}",
            "--micrograd-sandbox=no",
            "--micrograd-max-examples=3",
            "-k",
            "add",
        )
        result.stdout.fnmatch_lines(["sandbox: none*", "*--micrograd-sandbox=no*"])

    def test_plugin_sandbox_required_but_missing(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--micrograd-sandbox=yes where bwrap cannot be found is a usage error."""
        monkeypatch.setenv("PATH", "/nonexistent")
        result = pytester.runpytest_subprocess(
            f"--micrograd-impl={engine('correct_closures')}", "--micrograd-sandbox=yes"
        )
        result.stderr.fnmatch_lines(
            ["*--micrograd-sandbox=yes: bubblewrap (bwrap) is not installed; install*"]
        )


class TestRefusedAnswers:
    """Every answer a worker sends is checked against what was asked before it is graded."""

    def test_a_good_answer(self) -> None:
        """One result per program, with as many numbers as registers and leaves, and notes."""
        reply = {"id": 1, "results": [GOOD], "output": ""}
        assert invalid_reply(reply, "programs", [ADD], 1) == ""
        error = {"error": "E: x", "exc_type": "E", "phase": "forward", "step": 0, "trace": ""}
        assert invalid_reply({**reply, "results": [error]}, "programs", [ADD], 1) == ""
        net = {"outputs": [0.1, float("nan")], "grads": [[1.0, 1.0], [2, 1]]}
        assert invalid_reply({**reply, "results": [net]}, "networks", [NET], 1) == ""
        narrow = {**GOOD, "narrow": "float32"}  # the worker names a float32 engine's type
        assert invalid_reply({**reply, "results": [narrow]}, "programs", [ADD], 1) == ""
        forward = {**net, "call": "forward"}  # and says it called model.forward(x)
        assert invalid_reply({**reply, "results": [forward]}, "networks", [NET], 1) == ""

    @pytest.mark.parametrize(
        ("reply", "says"),
        [
            ({"id": 2, "results": [GOOD], "output": ""}, "an answer to request 2, not 1"),
            ({"id": 1, "results": [GOOD], "output": 3}, "without exactly its results"),
            ({"id": 1, "results": [GOOD], "output": "", "x": 1}, "without exactly its results"),
            ({"id": 1, "results": GOOD, "output": ""}, "not one result for each"),
            ({"id": 1, "results": [GOOD, GOOD], "output": ""}, "not one result for each"),
            ({"id": 1, "results": [[1.0]], "output": ""}, "a result that is no object"),
            ({"id": 1, "results": [{**GOOD, "data": [1.0, True, 3.0]}], "output": ""},
             "do not match its program"),
            ({"id": 1, "results": [{**GOOD, "grads": [1.0]}], "output": ""},
             "do not match its program"),
            ({"id": 1, "results": [{**GOOD, "root_grad": "1"}], "output": ""},
             "do not match its program"),
            ({"id": 1, "results": [{**GOOD, "score": 26}], "output": ""},
             "do not match its program"),
            ({"id": 1, "results": [{**GOOD, "narrow": 32}], "output": ""},
             "do not match its program"),
            ({"id": 1, "results": [{**GOOD, "narrow": "f" * 41}], "output": ""},
             "do not match its program"),
            ({"id": 1, "results": [{"error": "x", "phase": "forward", "step": 0, "trace": "",
                                    "score": 26}], "output": ""}, "unknown keys ['score']"),
            ({"id": 1, "results": [{"error": 1, "phase": "forward", "step": 0, "trace": ""}],
              "output": ""}, "an error that is not text"),
            ({"id": 1, "results": [{"error": "x", "phase": "won", "step": 0, "trace": ""}],
              "output": ""}, "unknown phase 'won'"),
            ({"id": 1, "results": [{"error": "x", "phase": "read", "step": "0", "trace": ""}],
              "output": ""}, "without its step or trace"),
            ({"id": 1, "results": [{"error": "x", "phase": "read", "step": 0}], "output": ""},
             "without its step or trace"),
        ],
    )  # fmt: skip
    def test_a_malformed_program_answer(self, reply: dict[str, Any], says: str) -> None:
        """Wrong id, keys, counts, types (a bool is no number), phases: each named."""
        assert says in invalid_reply(reply, "programs", [ADD], 1)

    @pytest.mark.parametrize(
        ("result", "says"),
        [
            ({"outputs": [1.0], "grads": [[1.0, 1.0]]}, "outputs are not one number per input"),
            ({"outputs": [1.0, 2.0], "grads": [[1.0, 1.0]]}, "not one list per input"),
            ({"outputs": [1.0, 2.0], "grads": {}}, "not one list per input"),
            ({"outputs": [1.0, 2.0], "grads": [[1.0], [1.0, 1.0]]}, "gradients are wrong"),
            ({"outputs": [1.0, 2.0], "grads": [[1.0, 1.0], [1.0, 1.0]], "x": 0},
             "without exactly its outputs, gradients and call"),
            ({"outputs": [1.0, 2.0], "grads": [[1.0, 1.0], [1.0, 1.0]], "call": "exec"},
             "without exactly its outputs, gradients and call"),
            ({"error": "x", "phase": "forward", "step": 0}, "unknown keys ['step']"),
        ],
    )  # fmt: skip
    def test_a_malformed_network_answer(self, result: dict[str, Any], says: str) -> None:
        """A network's outputs and gradients, one per input and parameter."""
        reply = {"id": 1, "results": [result], "output": ""}
        assert says in invalid_reply(reply, "networks", [NET], 1)

    def test_junk_down_the_pipe_is_a_crash_not_a_traceback(self, tmp_path: Path) -> None:
        """A submission writing bytes that are not JSON, or JSON that is not an answer."""
        for name, payload in (("junk", b"\xff not json"), ("odd", b'{"score": 26}')):
            path = tmp_path / f"{name}.py"
            path.write_text(reply_forger(repr(payload)) + "class Value:\n    pass\n")
            with (
                Worker(parse_target(f"{path}:Value")) as child,
                pytest.raises(LoadError, match="broke the protocol"),
            ):
                child.start()

    def test_a_stale_answer_is_refused(self, tmp_path: Path) -> None:
        """A forged 'ready' taken for the load's answer makes the next answer a stale one."""
        path = tmp_path / "forger.py"
        forged = json.dumps({"ready": "forged.Value"}).encode()
        path.write_text(reply_forger(repr(forged)) + (ENGINES / "correct_closures.py").read_text())
        with Worker(parse_target(f"{path}:Value")) as child:
            child.start()
            with pytest.raises(WorkerCrashed, match="broke the protocol: an answer to request"):
                child.request([ADD], 5)
            assert not child.alive


class TestLessPlatform:
    """Where ``resource`` or process groups are missing, the oracle degrades without traceback."""

    def test_no_resource_module(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Windows: no limits set, and no error either."""
        monkeypatch.setitem(sys.modules, "resource", None)
        assert worker._limit_resources(2**30, 10) is False

    def test_a_limit_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """MacOS refuses RLIMIT_AS: the other limits are still set."""
        import resource  # noqa: PLC0415 - POSIX only

        calls: list[int] = []

        def refuse_as(which: int, limits: tuple[int, int]) -> None:
            calls.append(which)
            if which == resource.RLIMIT_AS:
                raise ValueError("not allowed")

        monkeypatch.setattr(resource, "setrlimit", refuse_as)
        assert worker._limit_resources(2**30, 10) is False
        assert resource.RLIMIT_NPROC in calls
        assert resource.RLIMIT_FSIZE in calls

    def test_the_grader_gone_is_its_pipe_hanging_up(self) -> None:
        """The watch returns when the write end closes, not before, and reads nothing."""
        import threading  # noqa: PLC0415 - the watch blocks: run it apart

        read_end, write_end = os.pipe()
        os.write(write_end, b"a request")
        watch = threading.Thread(target=worker._wait_for_the_grader, args=(read_end, 0))
        watch.start()
        watch.join(0.3)
        assert watch.is_alive()  # a request waiting is no hang-up
        os.close(write_end)
        watch.join(5)
        assert not watch.is_alive()
        assert os.read(read_end, 100) == b"a request"  # still there for the main thread
        os.close(read_end)

    def test_without_poll_the_parent_is_watched(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Windows has no poll: the watch returns once the parent's pid is another's."""
        import select  # noqa: PLC0415 - taken away

        monkeypatch.delattr(select, "poll")
        parents = iter([7, 7, 1])
        monkeypatch.setattr(os, "getppid", lambda: next(parents))
        worker._wait_for_the_grader(-1, 7, every=0.01)
        assert next(parents, None) is None  # asked until the parent changed, then no more

    def test_no_process_groups(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Windows: a hanging engine is still killed at its time limit (the process alone)."""
        monkeypatch.delattr(os, "killpg")
        with (
            Worker(parse_target(engine("load_hangs")), load_timeout=0.5) as child,
            pytest.raises(LoadError, match=r"longer than 0\.5 s"),
        ):
            child.start()
        assert not child.alive

    def test_only_the_standard_pipes(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Windows gives a child stdin, stdout and stderr, nothing more: a whole check runs so.

        Its ``subprocess`` refuses ``pass_fds`` and has no sessions, and there are
        no process groups; the correct engine still passes, and a hang in one op
        is still that op's timeout.
        """
        started = like_windows(monkeypatch)
        path = tmp_path / "hangs_in_tanh.py"
        path.write_text(
            (ENGINES / "correct_closures.py")
            .read_text()
            .replace("def tanh(self):", "def tanh(self):\n        while True:\n            pass")
        )
        options = Options(max_examples=5, use_torch=False, timeout=1.0)
        assert run_suite(parse_target(engine("correct_closures")), options).passed
        hanging = run_suite(parse_target(f"{path}:Value"), options)
        assert {c.name: c.status for c in hanging.checks}["tanh"] == "timeout"
        assert len(started) >= 2


class TestInTheSandbox:
    """The worker in bubblewrap: it loads, answers, and its death is reported as without."""

    def test_a_killed_worker_is_reported_with_its_signal(self, tmp_path: Path) -> None:
        """Bwrap's status 128 + n is the signal n, as the report says without the sandbox."""
        require_sandbox()
        path = tmp_path / "suicide.py"
        path.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
        with (
            Worker(parse_target(f"{path}:Value"), sandbox=True) as child,
            pytest.raises(LoadError, match="killed by SIGKILL"),
        ):
            child.start()

    def test_an_exit_status_is_not_taken_for_a_signal(self, tmp_path: Path) -> None:
        """os._exit(200) in the sandbox is status 200: 72 is no signal."""
        require_sandbox()
        path = tmp_path / "leaves.py"
        path.write_text("import os\nos._exit(200)\n")
        with (
            Worker(parse_target(f"{path}:Value"), sandbox=True) as child,
            pytest.raises(LoadError, match="exited with status 200"),
        ):
            child.start()

    def test_a_sandboxed_worker_answers(self) -> None:
        """The correct engine, in the sandbox, answers as out of it."""
        require_sandbox()
        with Worker(parse_target(engine("correct_closures")), sandbox=True) as child:
            (got,), _ = child.request([ADD], 10)
        assert got["data"] == [2.0, 4.0, 6.0]


_SNOOP = """\
import json, os, sys
seen = {"cwd": os.getcwd()}
try:
    open(SECRET).read()
    seen["secret"] = "read"
except OSError as exc:
    seen["secret"] = type(exc).__name__
try:
    open("written.txt", "w").close()
    seen["write"] = "written"
except OSError as exc:
    seen["write"] = type(exc).__name__
hello = {"hello": "micrograd-adapter", "protocol": 1, "engine": json.dumps(seen), "ops": ["add"]}
print(json.dumps(hello), flush=True)
for line in sys.stdin:
    n = len(json.loads(line)["programs"])
    print(json.dumps({"results": [{"data": [2, 4, 6], "grads": [1, 1]}] * n}), flush=True)
"""
"""A port's adapter that reports, in its hello, what it could read and write."""


class TestPortsInTheSandbox:
    """``check --cmd``: the adapter runs in the sandbox too, shown its port's folder read-only."""

    def _port(self, tmp_path: Path) -> tuple[Path, str]:
        """A port's folder with the snooping adapter, and its command; a secret beside it."""
        folder = tmp_path / "port"
        folder.mkdir()
        secret = tmp_path / "secret.txt"
        secret.write_text("the teacher's")
        (folder / "adapter.py").write_text(f"SECRET = {str(secret)!r}\n" + _SNOOP)
        return folder, shlex.join([sys.executable, "adapter.py"])

    def test_the_adapter_sees_its_folder_only_and_cannot_write(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """In bubblewrap the adapter runs in its folder, reads nothing beside it, writes nothing."""
        require_sandbox()
        folder, command = self._port(tmp_path)
        monkeypatch.chdir(folder)
        with StdioWorker(command_target(command), sandbox=True) as child:
            (got,), _ = child.request([ADD], 10)
            seen = json.loads(child.loaded_class)
        assert got["data"] == [2.0, 4.0, 6.0]
        assert seen == {
            "cwd": str(folder.resolve()),
            "secret": "FileNotFoundError",
            "write": "OSError",
        }
        assert not (folder / "written.txt").exists()

    def test_without_the_sandbox_it_sees_everything(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The same adapter out of the sandbox: the teacher's file is read, its folder written."""
        folder, command = self._port(tmp_path)
        monkeypatch.chdir(folder)
        with StdioWorker(command_target(command), sandbox=False) as child:
            child.start()
            seen = json.loads(child.loaded_class)
        assert seen["secret"] == "read"
        assert seen["write"] == "written"

    def test_grade_runs_each_port_sandboxed(self, tmp_path: Path) -> None:
        """Grade with an adapter: the report says sandboxed, and the adapter saw no secret."""
        require_sandbox()
        folder, _ = self._port(tmp_path)
        assignment = tmp_path / "assignment.toml"
        adapter = shlex.join([sys.executable, "adapter.py"])
        assignment.write_text(f"max_examples = 2\nadapter = {json.dumps(adapter)}\n")
        out = tmp_path / "out"
        main(["grade", str(folder), "--assignment", str(assignment), "--out", str(out)])
        report = json.loads((out / "port.json").read_text())
        assert report["sandboxed"] is True
        assert json.loads(report["class"])["secret"] == "FileNotFoundError"
