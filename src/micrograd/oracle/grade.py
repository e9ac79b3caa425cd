"""Batch grading: ``micrograd-ref check`` on many submissions in parallel processes."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from micrograd.oracle.checks import CATALOGUE
from micrograd.oracle.suite import STATUSES
from micrograd.oracle.targets import find_engine

__all__ = ["Submission", "find_submissions", "grade"]


@dataclass(frozen=True)
class Submission:
    """One student's engine."""

    name: str
    """A file-name-safe name for its reports."""
    target: str
    """What ``check`` is run on (``path.py:Class``), or "" when the engine file is missing."""
    nn: str = ""
    """The submission's nn module for ``--nn``, or "" (none asked for, or none there)."""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "submission"


def find_submissions(
    targets: list[str], file_name: str, class_name: str, nn_file: str = ""
) -> list[Submission]:
    """The submissions named by ``targets``: files, or folders of files or of folders.

    A submission folder's engine is ``file_name`` in it or, failing that, the
    one file :func:`~micrograd.oracle.targets.find_engine` finds there
    (``micrograd/engine.py``, a notebook …); ``nn_file`` (when given and
    present) is its nn module.
    """
    found: list[Submission] = []
    for text in targets:
        path = Path(text)
        if not path.is_dir():
            found.append(Submission(_safe(path.stem), f"{path}:{class_name}"))
            continue
        for entry in sorted(path.iterdir()):
            if entry.is_dir():
                engine = entry / file_name
                if not engine.is_file():
                    with contextlib.suppress(LookupError):  # none, or several: reported as missing
                        engine = find_engine(entry, class_name)
                target = f"{engine}:{class_name}" if engine.is_file() else ""
                nn = entry / nn_file if nn_file else None
                nn_target = f"{nn}:MLP" if nn is not None and nn.is_file() else ""
                found.append(Submission(_safe(entry.name), target, nn_target))
            elif entry.suffix in (".py", ".ipynb"):
                found.append(Submission(_safe(entry.stem), f"{entry}:{class_name}"))
    return found


def _command(args: argparse.Namespace, submission: Submission, report: Path) -> list[str]:
    words = [sys.executable, "-m", "micrograd", "check", submission.target, "--json", str(report)]
    words += ["--seed", str(args.seed), "--max-examples", str(args.max_examples)]
    words += ["--timeout", str(args.timeout)]
    for flag, names in (("--require", args.require), ("--only", args.only)):
        if names:
            words += [flag, ",".join(sorted(names))]
    for path in args.path:
        words += ["--path", path]
    if not args.torch:
        words.append("--no-torch")
    if args.strict:
        words.append("--strict")
    if args.backward != "backward":
        words += ["--backward", args.backward]
    if args.leaf_kwargs:
        words += ["--leaf-kwargs", ",".join(f"{k}={v!r}" for k, v in args.leaf_kwargs)]
    if submission.nn:
        words += ["--nn", submission.nn]
    return words


def _run_one(args: argparse.Namespace, submission: Submission) -> dict[str, object]:
    """Check one submission in its own process; returns its summary row."""
    out: Path = args.out
    row: dict[str, object] = {"submission": submission.name, "target": submission.target}
    if not submission.target:
        row.update(exit=2, verdict=f"no {args.file}")
        (out / f"{submission.name}.txt").write_text(f"no {args.file} in this submission\n")
        return row
    report = out / f"{submission.name}.json"
    budget = (len(CATALOGUE) + 2) * (args.timeout + 8.0) + 30.0  # probe, narrowing, restart
    try:
        done = subprocess.run(
            _command(args, submission, report),
            capture_output=True,
            text=True,
            timeout=budget,
            check=False,
        )
        text, code = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired:  # pragma: no cover - check bounds its own time
        text, code = f"grading took longer than {budget:g} s\n", 1
    (out / f"{submission.name}.txt").write_text(text, encoding="utf-8")
    row["exit"] = code
    if code == 2 or not report.is_file():
        errors = [line for line in text.splitlines() if line.startswith("micrograd-ref: error")]
        row["verdict"] = errors[0] if errors else (text.strip().splitlines() or ["?"])[-1]
        return row
    data = json.loads(report.read_text(encoding="utf-8"))
    row.update(data["summary"])
    row["verdict"] = "passed" if data["passed"] else "FAILED"
    return row


def grade(args: argparse.Namespace) -> int:
    """Grade every submission; print one summary table; 0 when every submission passed."""
    submissions = find_submissions(args.targets, args.file, args.class_name, args.nn_file)
    if not submissions:
        sys.stderr.write("micrograd-ref: error: no submissions found\n")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        try:
            rows = list(pool.map(lambda s: _run_one(args, s), submissions))
        except KeyboardInterrupt:  # start no further submission; the running ones got SIGINT too
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    columns = ["submission", *STATUSES, "verdict"]
    cells = [[str(row.get(c, "-")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    passed = sum(row.get("verdict") == "passed" for row in rows)
    lines += ["", f"{passed} of {len(rows)} submissions passed; reports in {args.out}/"]
    sys.stdout.write("\n".join(lines) + "\n")
    (args.out / "summary.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if passed == len(rows) else 1
