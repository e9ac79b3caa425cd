"""The sandbox a student's engine runs in: a bubblewrap command around the grader's worker.

Inside, the worker sees the system's programs and libraries read-only, the
Python that runs it, the worker's own file, and the submission's files
read-only; nothing else of the teacher's tree (home, other submissions, the
reports folder). ``/tmp`` and the home folder are small private tmpfs, the
network, PIDs and IPC are namespaces of its own, and the whole sandbox dies
with the grader. Standard library only; nothing here runs a student's code.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "INSTALL_HINT",
    "PROCESS_LIMIT",
    "TMP_BYTES",
    "CoverageDrop",
    "SandboxUnavailable",
    "choose",
    "probe",
    "wrap",
]

TMP_BYTES: Final = 64 * 1024**2
"""The size of the sandbox's ``/tmp`` and of its home folder, each a tmpfs in memory."""

PROCESS_LIMIT: Final = 128
"""``RLIMIT_NPROC`` inside the sandbox: processes and threads counted in its user namespace.

The kernel does not apply it to root (CI runs as root); there the time limit
and the PID namespace, killed whole with the worker, stop a fork storm.
"""

INSTALL_HINT: Final = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
    "bubblewrap), or give --no-sandbox to grade without it"
)
"""What to do when the sandbox is asked for but cannot run."""

_SYSTEM: Final = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
"""The system's folders, shown read-only: programs, libraries and their configuration."""


@dataclass(frozen=True)
class CoverageDrop:
    """Where a sandboxed worker writes its coverage data, when the test sessions measure it.

    Coverage's ``patch = ["subprocess"]`` hands its configuration to child
    processes in ``COVERAGE_PROCESS_CONFIG`` (base64 JSON, the data file's
    path absolute). The data file's folder is the project's, which the
    sandbox must not show; the worker writes into a folder of its own
    instead (``config``, the variable rewritten), whose files
    :meth:`collect` moves beside the data file once the worker is gone.
    """

    folder: str
    """The worker's own folder, bound writable in the sandbox."""
    target: str
    """The folder of the data file, where the files end up."""
    config: str
    """``COVERAGE_PROCESS_CONFIG`` for the worker."""

    @classmethod
    def make(cls) -> CoverageDrop | None:
        """A new drop folder, or None when coverage is not measuring subprocesses."""
        encoded = os.environ.get("COVERAGE_PROCESS_CONFIG")
        if not encoded:
            return None
        try:
            config = json.loads(base64.b64decode(encoded))
            data_file = Path(config["data_file"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            return None
        if not data_file.parent.is_dir():
            return None
        folder = tempfile.mkdtemp(prefix=".coverage-sandbox-", dir=data_file.parent)
        config["data_file"] = str(Path(folder) / data_file.name)
        rewritten = base64.b64encode(json.dumps(config).encode()).decode()
        return cls(folder, str(data_file.parent), rewritten)

    def collect(self) -> None:
        """Move the worker's data files beside the data file, and remove the folder."""
        for path in Path(self.folder).iterdir():
            with contextlib.suppress(OSError):
                path.replace(Path(self.target) / path.name)
        shutil.rmtree(self.folder, ignore_errors=True)


def _python_folders() -> list[str]:
    """The folders of the running Python: the venv and the installation it was made from."""
    folders = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    folders.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    return sorted(os.path.realpath(f) for f in folders)


def _inside(path: str, folders: Iterable[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def wrap(
    command: Sequence[str],
    *,
    visible: Iterable[str],
    worker: str = "",
    hidden: str,
    cwd: str,
    coverage: CoverageDrop | None = None,
) -> list[str]:
    """``command`` run in a bubblewrap sandbox; it talks over its stdin and stdout.

    ``visible`` are the files and folders of the submission (bound read-only
    at their own paths), ``worker`` the worker module's file (none for a
    port's adapter), ``hidden`` the grader's package folder (emptied when the
    Python installation holds it, so that the reference engine cannot be
    read) and ``cwd`` the working folder inside: one of ``visible`` or,
    failing that, the private ``/tmp``.
    """
    home = os.path.realpath(os.path.expanduser("~"))
    words = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    for folder in _SYSTEM:
        words += ["--ro-bind-try", folder, folder]
    words += ["--dev", "/dev", "--proc", "/proc"]
    words += ["--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    if home not in ("/", "/tmp") and not _inside(home, _SYSTEM):
        words += ["--size", str(TMP_BYTES), "--tmpfs", home]
    pythons = _python_folders()
    for folder in pythons:
        words += ["--ro-bind", folder, folder]
    hidden = os.path.realpath(hidden)
    if _inside(hidden, pythons):  # an installed micrograd-ref: show its worker only
        words += ["--tmpfs", hidden]
    if worker:
        words += ["--ro-bind", worker, worker]
    shown = sorted({os.path.realpath(p) for p in visible if os.path.exists(p)})
    for path in shown:
        words += ["--ro-bind", path, path]
    if coverage is not None:  # the test sessions measure the worker
        words += ["--bind", coverage.folder, coverage.folder]
    inside = os.path.realpath(cwd)
    words += ["--chdir", inside if _inside(inside, shown) else "/tmp"]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}
    if coverage is not None:
        env["COVERAGE_PROCESS_CONFIG"] = coverage.config
    for key, value in env.items():
        words += ["--setenv", key, value]
    return [*words, "--", *command]


@functools.cache
def probe() -> str:
    """Why the sandbox cannot run here (bwrap missing, namespaces refused), or "" when it can.

    Runs ``python -c pass`` in the very sandbox a worker gets, once per process.
    """
    if sys.platform != "linux":
        return f"bubblewrap is Linux only, and this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    command = wrap(
        [sys.executable, "-I", "-c", "pass"],
        visible=(),
        worker=__file__,
        hidden=str(Path(__file__).resolve().parents[2]),
        cwd="/tmp",
    )
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not run: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return f"bwrap cannot make a sandbox here ({last})"
    return ""


class SandboxUnavailable(Exception):
    """The sandbox was asked for (``--sandbox``) and cannot run here; the message says why."""


_NOTED: list[str] = []


def choose(asked: bool | None) -> bool:
    """Whether to run engines in the sandbox: asked for (True), refused (False), or neither.

    Neither means: when bubblewrap works here; when it does not, a note on
    stderr says so, once per process, and the run goes on without it.

    Raises:
        SandboxUnavailable: If it was asked for and cannot run here.
    """
    if asked is False:
        return False
    why = probe()
    if not why:
        return True
    if asked:
        raise SandboxUnavailable(f"{why}; {INSTALL_HINT}")
    if not _NOTED:
        _NOTED.append(why)
        sys.stderr.write(
            f"micrograd-ref: note: no sandbox: {why}; the engine runs with your files and "
            "network (the teachers' guide says what that means; --no-sandbox silences this)\n"
        )
    return False
