"""JUnit XML (CodeGrade, GitLab, Jenkins, any CI): one ``testcase`` per counted check.

The layout is the common one of Ant's and Surefire's reports: a
``testsuites`` root holding one ``testsuite`` with ``tests``, ``failures``,
``errors``, ``skipped`` and ``time``; each ``testcase`` has ``classname``,
``name`` and ``time``, and a ``failure``, ``error`` or ``skipped`` child
when it did not pass, whose text is the message and reproducer.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from micrograd.oracle.report import reproducer
from micrograd.oracle.scoring import CheckScore, Graded

__all__ = ["render"]

_KIND = {"failed": "failure", "error": "error", "timeout": "error"}


def render(graded: Graded) -> str:
    """The JUnit XML report of a graded run (or of one that could not load)."""
    root = ET.Element("testsuites")
    suite = ET.SubElement(root, "testsuite", name=f"micrograd-ref: {graded.assignment.name}")
    properties = ET.SubElement(suite, "properties")  # first in a testsuite
    ET.SubElement(properties, "property", name="score", value=f"{graded.score:g}")
    ET.SubElement(properties, "property", name="max_score", value=f"{graded.max_score:g}")
    sandboxed = "true" if graded.sandboxed else "false"
    ET.SubElement(properties, "property", name="sandboxed", value=sandboxed)
    counts = {"failure": 0, "error": 0, "skipped": 0}
    for score in graded.scores:
        case = _case(suite, graded, score)
        for child in case:
            counts[child.tag] += 1
    suite.attrib.update(
        tests=str(len(graded.scores)),
        failures=str(counts["failure"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=f"{graded.seconds:.3f}",
    )
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _case(suite: ET.Element, graded: Graded, score: CheckScore) -> ET.Element:
    result = score.result
    seconds = 0.0 if result is None else result.seconds
    case = ET.SubElement(
        suite, "testcase", classname="micrograd", name=score.name, time=f"{seconds:.3f}"
    )
    if score.status == "passed":
        return case
    if result is None:  # the engine did not load: every check errs with that reason
        ET.SubElement(case, "error", message=score.reason, type="not_run").text = score.reason
        return case
    kind = _KIND.get(result.status, "skipped")
    message = f"{result.status.replace('_', ' ')}: {result.message}"
    child = ET.SubElement(case, kind, message=message, type=result.status)
    assert graded.suite is not None  # a check with a result ran in a suite
    code = reproducer(graded.suite, result)
    child.text = message + (f"\n\n{code}" if code else "")
    return case
