"""Whether micrograd-ref's files are its own, or mixed with Karpathy's package of the same name.

micrograd-ref and Karpathy's ``micrograd`` on PyPI both install the Python
package ``micrograd``. In one environment, installing one over the other
replaces the files they share (``micrograd/__init__.py``, ``engine.py``,
``nn.py``), and uninstalling either deletes those files from the other. This
module reads what pip recorded (``importlib.metadata``), imports nothing of
the package, and so still works when the rest of it is broken.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["ADVICE", "Finding", "check", "exit_if_mixed"]

ADVICE = (
    "give each its own virtual environment, or run "
    "'pip uninstall micrograd micrograd-ref' and install micrograd-ref again"
)
"""What to do about a mixed install, the end of every finding."""


class Finding(NamedTuple):
    """What is wrong with the installed package ``micrograd``."""

    message: str
    """One line: what happened and what to do."""
    fatal: bool
    """Whether micrograd-ref's own files are overwritten or missing (it cannot run)."""


def check(path: list[str] | None = None) -> Finding | None:
    """A mixed install of ``micrograd`` on ``path`` (default: ``sys.path``), or None.

    None also when micrograd-ref is not installed (run from a source tree) or
    installed in editable mode (its files are then the clone's, not pip's).
    """
    ours = _distribution("micrograd-ref", path)
    if ours is None:
        return None
    files = {name: hash_ for name, hash_ in _record(ours).items() if _is_module(name)}
    missing = [name for name in files if not _file(ours, name).is_file()]
    theirs = _distribution("micrograd", path)
    if theirs is not None:
        shared = _record(theirs).keys() & files.keys()
        replaced = [n for n in shared if n not in missing and not _same(ours, n, files[n])]
        lost = replaced + missing
        if lost:
            return Finding(
                f"Karpathy's micrograd {theirs.version} was installed over micrograd-ref "
                f"{ours.version}: both install the Python package micrograd, and "
                f"{_names(lost)} are no longer micrograd-ref's; {ADVICE}",
                fatal=True,
            )
        return Finding(
            f"Karpathy's micrograd {theirs.version} is installed too: it and micrograd-ref "
            f"{ours.version} both install the Python package micrograd, so micrograd-ref's "
            f"files replaced his, and uninstalling either deletes files of the other; {ADVICE}",
            fatal=False,
        )
    if missing:
        return Finding(
            f"micrograd-ref {ours.version} is missing {_names(missing)}: uninstalling "
            "Karpathy's micrograd, which installs the same Python package, deletes them; "
            f"{ADVICE}",
            fatal=True,
        )
    return None


def exit_if_mixed() -> None:
    """Say on one line what :func:`check` found; exit with status 2 if micrograd-ref cannot run."""
    finding = check()
    if finding is None:
        return
    kind = "error" if finding.fatal else "warning"
    sys.stderr.write(f"micrograd-ref: {kind}: {finding.message}\n")
    if finding.fatal:
        raise SystemExit(2)


def _distribution(name: str, path: list[str] | None) -> metadata.Distribution | None:
    """The first distribution called ``name`` on ``path``, or None."""
    where: dict[str, Any] = {} if path is None else {"path": path}
    return next(iter(metadata.distributions(name=name, **where)), None)


def _record(dist: metadata.Distribution) -> dict[str, str]:
    """``{path: "sha256=…"}`` for every file pip recorded ("" where it recorded no hash).

    Read from RECORD itself: ``Distribution.files`` leaves out missing files
    from Python 3.12 on, and the missing ones are the point here.
    """
    rows = csv.reader((dist.read_text("RECORD") or "").splitlines())
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows if row}


def _is_module(name: str) -> bool:
    """Whether RECORD's ``name`` is a module of the package ``micrograd``."""
    return name.startswith("micrograd/") and name.endswith(".py")


def _file(dist: metadata.Distribution, name: str) -> Path:
    """Where RECORD's ``name`` is on disk."""
    return Path(str(dist.locate_file(name)))


def _same(dist: metadata.Distribution, name: str, recorded: str) -> bool:
    """Whether file ``name`` has the content pip recorded (True when it recorded no hash)."""
    mode, _, value = recorded.partition("=")
    if not value:
        return True
    digest = hashlib.new(mode, _file(dist, name).read_bytes()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == value


def _names(files: list[str]) -> str:
    """``micrograd/engine.py and micrograd/nn.py``: at most three, then how many more."""
    names = sorted(files)
    if len(names) > 3:
        names = [*names[:3], f"{len(names) - 3} more"]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
