"""The formats a run is reported in: one module each, and the table of files ``check`` writes.

``text`` is what ``check`` prints; each row of :data:`FILE_FORMATS` is a file
it writes when asked (``--json FILE``; ``grade`` writes one per submission),
rendered by the module of that name from a
:class:`~micrograd.oracle.scoring.Graded` run, which may be one whose engine
did not load. A new format is a module here with ``render``, and a row.
This module imports no format (they need Hypothesis), so that ``--help``
works without the ``oracle`` extra.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol, cast

if TYPE_CHECKING:
    from micrograd.oracle.scoring import Graded

__all__ = ["FILE_FORMATS", "FileFormat", "Renderer"]


class Renderer(Protocol):
    """What a file format's module provides."""

    def render(self, graded: Graded) -> str:
        """The file's text for a graded run, or for one whose engine did not load."""


@dataclass(frozen=True)
class FileFormat:
    """A report file ``check`` can write."""

    name: str
    """The option (``--json``) and its ``dest``."""
    help: str
    """What the file is, for ``--help``."""
    module: str
    """The module of :mod:`micrograd.oracle.formats` that renders it."""
    suffix: str
    """How ``grade`` names a submission's file of this format (``ada`` + ``.junit.xml``)."""

    def renderer(self) -> Renderer:
        """The module that renders this format, imported now."""
        return cast("Renderer", importlib.import_module(f"{__name__}.{self.module}"))


FILE_FORMATS: Final = (
    FileFormat(
        "json", "a JSON report: each check, its numbers, reproducer, points", "json_report", ".json"
    ),
    FileFormat("gradescope", "Gradescope's results.json", "gradescope", ".gradescope.json"),
    FileFormat("junit", "JUnit XML (CodeGrade, GitLab, Jenkins)", "junit", ".junit.xml"),
    FileFormat("prairielearn", "PrairieLearn's results.json", "prairielearn", ".prairielearn.json"),
)
"""Every report file ``check`` writes on request, in the order its options are listed."""
