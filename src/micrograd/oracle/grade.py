"""Batch grading: ``micrograd-ref check`` on every submission of a class, in parallel processes.

A teacher points ``grade`` at a folder as it comes out of a course platform
(one folder or file per student, with the odd ``__MACOSX`` folder and editor
files in it). Every submission gets its reports under its own name, and the
class gets ``grades.csv``: one row per submission, one column per check.
Nothing is written until every target has been found and the results folder
is known to be free.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from micrograd.oracle.assignment import Assignment
from micrograd.oracle.formats import FILE_FORMATS
from micrograd.oracle.formats.text import sandbox_line
from micrograd.oracle.runner import has_process_groups, kill_tree
from micrograd.oracle.scoring import grade as score_of
from micrograd.oracle.targets import find_engine, find_nn

__all__ = ["GradeError", "Submission", "find_submissions", "grade"]

_SKIPPED_NAMES: Final = re.compile(r"^(__MACOSX|__pycache__|\..*|.*~|#.*#|.*\.swp|Thumbs\.db)$")
"""Folders and files that are never submissions: archive debris, hidden and editor files."""

CLASS_FILES: Final = ("summary.json", "grades.csv")
"""The files of the whole class in ``--out``; no submission's report is named like them."""


class GradeError(Exception):
    """Nothing can be graded as asked (a missing target, a results folder in use)."""


@dataclass(frozen=True)
class Submission:
    """One student's hand-in."""

    name: str
    """Its name as handed in: the folder's or the file's (``ada``, ``dee.py``)."""
    report: str
    """The stem of its report files: ``name`` made safe for a file name, unique in the run."""
    target: str
    """What ``check`` is run on (``path:Class``), or "" when none was found."""
    nn: str = ""
    """Its nn module for ``--nn``, or "" (none asked for, or none there)."""
    problem: str = ""
    """Why it has no target ("" when it has one)."""
    nn_problem: str = ""
    """Why it has no nn module, when one was asked for ("" otherwise)."""
    root: str = ""
    """Its folder or file: all of it the sandbox shows."""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.") or "submission"


def _one(folder: Path, pattern: str) -> tuple[Path | None, str]:
    """The one file in ``folder`` matching ``pattern`` (a name or a glob), or why there is none."""
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in found[:5])
        return None, f"several files match {pattern}: {names}"
    return (found[0], "") if found else (None, f"no {pattern}")


def _folder_submission(
    folder: Path, file_glob: str, class_name: str, nn_glob: str
) -> tuple[str, str, str, str]:
    """``(target, nn target, problem, nn problem)`` of a submission folder."""
    engine, problem = _one(folder, file_glob)
    if engine is None and not any(ch in file_glob for ch in "*?["):
        try:  # not where --file says: micrograd/engine.py, or the one file defining the class
            engine, problem = find_engine(folder, class_name), ""
        except LookupError as exc:
            problem = f"no {file_glob}, and {exc}"
    if engine is None:
        return "", "", problem, ""
    if not nn_glob:
        return f"{engine}:{class_name}", "", "", ""
    try:  # where --nn-file says, else beside the engine, else micrograd/nn.py
        return f"{engine}:{class_name}", f"{find_nn(folder, nn_glob, engine)}:MLP", "", ""
    except LookupError as exc:
        return f"{engine}:{class_name}", "", "", str(exc)


def find_submissions(
    targets: list[str], file_glob: str, class_name: str, nn_glob: str = "", *, port: bool = False
) -> tuple[list[Submission], list[str]]:
    """The submissions named by ``targets``, and the entries skipped (with why), in order.

    A target is an engine file or notebook (one submission), or a folder of
    submissions: each subfolder is one (its engine is ``file_glob`` in it or,
    failing that, :func:`~micrograd.oracle.targets.find_engine` finds it:
    ``micrograd/engine.py``, the one file defining the class), and so is each
    ``.py`` or ``.ipynb`` file. Archive debris (``__MACOSX``), hidden and
    editor files and other files are skipped. Report names are unique, also
    where case does not count, and never those of :data:`CLASS_FILES`: beside
    ``ada/``, ``ada.py``'s reports are ``ada.py.json`` … (and ``summary.py``'s
    ``summary.py.json``), and names that are still the same once made safe
    for a file name get ``-2``, ``-3``. For a ``port`` (an assignment with an
    adapter command), every folder is a submission, graded from inside it,
    and files are skipped.

    Raises:
        GradeError: If a target does not exist.
    """
    missing = [t for t in targets if not Path(t).exists()]
    if missing:
        raise GradeError(f"no such file or folder: {', '.join(missing)}; nothing was written")
    # name, target, nn, problem, nn problem, root
    found: list[tuple[str, str, str, str, str, str]] = []
    skipped: list[str] = []
    # A submission that is one file has no nn module: check must not look beside it.
    one_file = f"a submission of one file has no {nn_glob}" if nn_glob else ""
    for text in targets:
        path = Path(text)
        if port:
            _port_folders(path, found, skipped)
            continue
        if path.is_file():
            found.append((path.name, f"{path}:{class_name}", "", "", one_file, str(path.resolve())))
            continue
        for entry in sorted(path.iterdir(), key=lambda p: (p.name.casefold(), p.name)):
            if _SKIPPED_NAMES.match(entry.name):
                skipped.append(f"{entry.name} (not a submission: archive, hidden or editor file)")
            elif entry.is_dir():
                found.append(
                    (
                        entry.name,
                        *_folder_submission(entry, file_glob, class_name, nn_glob),
                        str(entry.resolve()),
                    )
                )
            elif entry.suffix in (".py", ".ipynb"):
                target = f"{entry}:{class_name}"
                found.append((entry.name, target, "", "", one_file, str(entry.resolve())))
            else:
                skipped.append(f"{entry.name} (not a .py or .ipynb file, nor a folder)")
    used = {Path(name).stem.casefold() for name in CLASS_FILES}  # casefold: macOS, Windows
    submissions = []
    for name, target, nn, problem, nn_problem, root in found:
        stem = _safe(Path(name).stem if name.endswith((".py", ".ipynb")) else name)
        if stem.casefold() in used:
            stem = _safe(name)
        report, n = stem, 1
        while report.casefold() in used:
            n += 1
            report = f"{stem}-{n}"
        used.add(report.casefold())
        submissions.append(Submission(name, report, target, nn, problem, nn_problem, root))
    return submissions, skipped


def _port_folders(
    path: Path, found: list[tuple[str, str, str, str, str, str]], skipped: list[str]
) -> None:
    """Add the ports' folders under ``path`` to ``found``, its other entries to ``skipped``.

    A folder holding no folder is one submission itself.
    """
    entries = sorted(path.iterdir()) if path.is_dir() else []
    inside = [entry for entry in entries if not _SKIPPED_NAMES.match(entry.name)]
    one = path.is_dir() and not any(entry.is_dir() for entry in inside)
    for entry in [path] if one else (inside or [path]):
        if entry.is_dir():
            folder = str(entry.resolve())  # graded from inside, and all the sandbox shows
            found.append((entry.name, folder, "", "", "", folder))
        else:
            skipped.append(f"{entry.name} (not a folder: a port is handed in as one)")


def _command(
    args: argparse.Namespace, submission: Submission, out: Path, *, port: bool = False
) -> list[str]:
    """The ``check`` command line of one submission, with the report files it writes.

    A port's is run in its folder: the assignment file names its adapter.
    """
    out = out.resolve()
    words = [sys.executable, "-m", "micrograd", "check"]
    words += [] if port else [submission.target]
    words += ["--json", str(out / f"{submission.report}.json")]
    for file_format in FILE_FORMATS[1:]:
        if getattr(args, file_format.name):
            words += [
                f"--{file_format.name}",
                str(out / f"{submission.report}{file_format.suffix}"),
            ]
    if args.assignment is not None:
        words += ["--assignment", str(Path(args.assignment).resolve())]
    else:
        words += ["--seed", str(args.seed), "--max-examples", str(args.max_examples)]
        words += ["--timeout", str(args.timeout)]
        if args.strict:
            words.append("--strict")
        if args.backward != "backward":
            words += ["--backward", args.backward]
        if args.leaf_kwargs:
            words += ["--leaf-kwargs", ",".join(f"{k}={v!r}" for k, v in args.leaf_kwargs)]
    for flag, names in (("--require", args.require), ("--only", args.only)):
        if names:
            words += [flag, ",".join(sorted(names))]
    for path in args.path:
        words += ["--path", path]
    if not args.torch:
        words.append("--no-torch")
    words.append("--sandbox" if args.sandbox else "--no-sandbox")
    words += ["--sandbox-root", submission.root]
    if submission.nn or submission.nn_problem:  # check scores nn_mlp 0 with the problem
        nn = ["--nn", submission.nn] if submission.nn else ["--nn-missing", submission.nn_problem]
        words += nn
    return words


def _write_failed(
    args: argparse.Namespace,
    assignment: Assignment,
    submission: Submission,
    why: str,
    seconds: float,
) -> None:
    """Every report file of a submission that could not be graded: all its checks score 0."""
    out: Path = args.out
    graded = score_of(assignment, None, error=why, seconds=seconds, sandboxed=args.sandbox)
    for file_format in FILE_FORMATS:
        if file_format.name == "json" or getattr(args, file_format.name, False):
            path = out / f"{submission.report}{file_format.suffix}"
            path.write_text(file_format.renderer().render(graded), encoding="utf-8")


def _run_one(
    args: argparse.Namespace, assignment: Assignment, submission: Submission
) -> dict[str, Any]:
    """Check one submission in its own process; its row of the summary."""
    out: Path = args.out
    started = time.monotonic()
    row: dict[str, Any] = {
        "submission": submission.name,
        "report": submission.report,
        "target": submission.target,
    }
    text, code = submission.problem, 2
    port = bool(assignment.adapter)
    if port and submission.target and assignment.build:
        text = _build(assignment, submission.target)
    if submission.target and not text:
        limit = assignment.submission_timeout
        process = subprocess.Popen(
            _command(args, submission, out, port=port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=has_process_groups(),  # a hang is killed with everything it started
            cwd=submission.target if port else None,
        )
        try:
            text, _ = process.communicate(timeout=limit)
            code = process.returncode
        except subprocess.TimeoutExpired:
            kill_tree(process)
            process.communicate()
            text, code = f"grading took longer than the assignment's {limit:g} s\n", 124
    (out / f"{submission.report}.txt").write_text(text, encoding="utf-8")
    report = out / f"{submission.report}.json"
    if code not in (0, 1, 2) or not report.is_file():
        why = text.strip().splitlines()[-1] if text.strip() else f"check exited with {code}"
        _write_failed(args, assignment, submission, why, time.monotonic() - started)
    data = json.loads(report.read_text(encoding="utf-8"))
    errors = [line for line in text.splitlines() if line.startswith("micrograd-ref: error")]
    missing = [c["name"] for c in data["checks"] if c["status"] == "unsupported"]
    row.update(
        exit=code,
        score=data["score"],
        max_score=data["max_score"],
        points={name: p["points"] for name, p in data["points"].items()},
        verdict=_verdict(data),
        missing=[name for name in missing if name in data["points"]],
        seconds=round(time.monotonic() - started, 1),
    )
    if "error" in data:
        row["verdict"] = (errors or [str(data["error"])])[0].removeprefix("micrograd-ref: error: ")
    return row


def _build(assignment: Assignment, folder: str) -> str:
    """Run the assignment's build command in a port's folder: "" when it worked, else why."""
    try:
        done = subprocess.run(
            ["sh", "-c", assignment.build],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=assignment.submission_timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the build took longer than {assignment.submission_timeout:g} s\n"
    if done.returncode == 0:
        return ""
    last = (done.stderr + done.stdout).strip().splitlines()[-2:]
    return f"the build failed (exit status {done.returncode}): {' '.join(last)}\n"


def _verdict(data: dict[str, Any]) -> str:
    """``passed`` at full marks only; ``incomplete`` when all that ran passed; else ``FAILED``.

    Incomplete: points were lost to ops the engine does not have, or to
    checks that did not run (``--only``), not to a wrong value.
    """
    if data["score"] == data["max_score"]:
        return "passed"
    return "incomplete" if data.get("passed") else "FAILED"


def _line(row: dict[str, Any], width: int) -> str:
    """The line printed when a submission is done: name, score, time, verdict and its why."""
    score = f"{row['score']:g}/{row['max_score']:g}"
    full = f"{row['max_score']:g}/{row['max_score']:g}"  # the widest score: a column
    line = (
        f"{row['submission'].ljust(width)}  {score.rjust(len(full))}  "
        f"{row['seconds']:5.1f} s  {row['verdict']}"
    )
    if row["missing"]:
        line += f" (ops it does not have: {', '.join(row['missing'])})"
    return line


def grade(args: argparse.Namespace, assignment: Assignment) -> int:
    """Grade every submission; a line for each as it finishes, then the summary and grades.csv.

    Raises:
        GradeError: If a target does not exist, ``--out`` is a file, or it holds
            files and ``--overwrite`` was not given; nothing is written then.
            With ``--overwrite``, the earlier run's files are deleted first
            (see :func:`_clear`).
    """
    nn_glob = args.nn_file or assignment.nn_file
    submissions, skipped = find_submissions(
        args.targets, args.file, args.class_name, nn_glob, port=bool(assignment.adapter)
    )
    if not submissions:
        raise GradeError(f"no submissions found in {', '.join(args.targets)}")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise GradeError(f"--out {out} is a file, not a folder; name a folder; nothing was written")
    if out.is_dir() and any(out.iterdir()):
        if not args.overwrite:
            raise GradeError(
                f"--out {out} already holds files; name a new folder, or give --overwrite to "
                "replace an earlier run's; nothing was written"
            )
        _clear(out)
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"grading {len(submissions)} submissions, {args.jobs} at a time, out of "
        f"{assignment.max_score:g} points; reports in {out}/",
        flush=True,
    )
    print(sandbox_line(args.sandbox), flush=True)
    for entry in skipped:
        print(f"skipped: {entry}", flush=True)
    width = max(len(s.name) for s in submissions)
    rows: dict[str, dict[str, Any]] = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures: dict[Future[dict[str, Any]], Submission] = {
            pool.submit(_run_one, args, assignment, s): s for s in submissions
        }
        try:
            for future in as_completed(futures):
                row = future.result()
                rows[row["report"]] = row
                print(_line(row, width), flush=True)
        except KeyboardInterrupt:  # start no further submission; the running ones got SIGINT too
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    ordered = [rows[s.report] for s in submissions]
    _write_csv(out / "grades.csv", ordered, list(assignment.counted()))
    summary = {"skipped": skipped, "submissions": ordered}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    passed = sum(row["verdict"] == "passed" for row in ordered)
    incomplete = sum(row["verdict"] == "incomplete" for row in ordered)
    others = len(ordered) - passed - incomplete
    print(
        f"{passed} of {len(ordered)} submissions passed with full marks, {incomplete} "
        f"incomplete (nothing wrong, but ops missing or not run), {others} failed or not "
        f"graded; grades in {out / 'grades.csv'}",
        flush=True,
    )
    return 0 if passed == len(ordered) else 1


def _clear(out: Path) -> None:
    """Delete the files an earlier run wrote into ``out``: its class files, the reports they list.

    Files ``grade`` did not write (or that a run stopped before its summary
    wrote) are left alone.
    """
    try:
        earlier = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        reports = [str(row["report"]) for row in earlier["submissions"]]
        reports = [name for name in reports if _safe(name) == name]  # no path: only in out
    except (OSError, ValueError, TypeError, KeyError):  # none, or not one of ours: keep it
        return
    suffixes = [".txt", *(file_format.suffix for file_format in FILE_FORMATS)]
    for report in reports:
        for suffix in suffixes:
            (out / f"{report}{suffix}").unlink(missing_ok=True)
    for name in CLASS_FILES:
        (out / name).unlink(missing_ok=True)


def _write_csv(path: Path, rows: list[dict[str, Any]], checks: list[str]) -> None:
    """grades.csv: one row per submission (its name as handed in), a column per check."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["submission", "score", "max_score", *checks, "verdict"])
        for row in rows:
            points = row["points"]
            cells = [f"{points[c]:g}" if points.get(c) is not None else "0" for c in checks]
            writer.writerow(
                [row["submission"], f"{row['score']:g}", f"{row['max_score']:g}", *cells,
                 row["verdict"]]
            )  # fmt: skip
