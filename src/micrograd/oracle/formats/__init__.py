"""The formats a run is reported in: one module each, and the table of files ``check`` writes.

``text`` is what ``check`` prints; each row of :data:`FILE_FORMATS` is a file
it writes when asked (``--json FILE``), rendered by the module of that name.
A new format is a module here with ``render`` and ``render_error``, and a row.
This module imports no format (they need Hypothesis), so that ``--help``
works without the ``oracle`` extra.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol, cast

if TYPE_CHECKING:
    from micrograd.oracle.suite import SuiteResult

__all__ = ["FILE_FORMATS", "FileFormat", "Renderer"]


class Renderer(Protocol):
    """What a file format's module provides."""

    def render(self, suite: SuiteResult) -> str:
        """The file's text for a run."""

    def render_error(self, message: str) -> str:
        """The file's text for a run that could not grade anything (the engine did not load)."""


@dataclass(frozen=True)
class FileFormat:
    """A report file ``check`` can write."""

    name: str
    """The option (``--json``), the JSON key of ``dest`` and the module's name."""
    help: str
    """What the file is, for ``--help``."""
    module: str
    """The module of :mod:`micrograd.oracle.formats` that renders it."""

    def renderer(self) -> Renderer:
        """The module that renders this format, imported now."""
        return cast("Renderer", importlib.import_module(f"{__name__}.{self.module}"))


FILE_FORMATS: Final = (
    FileFormat(
        "json", "write a JSON report: each check, its numbers, its reproducer", "json_report"
    ),
    FileFormat("gradescope", "write Gradescope's results.json", "gradescope"),
)
"""Every report file ``check`` writes on request, in the order its options are listed."""
