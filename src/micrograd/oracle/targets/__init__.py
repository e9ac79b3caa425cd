"""Students' targets made importable: notebooks as modules, engines found in submission folders.

Pure and standard-library only: nothing here imports or runs a student's code.
"""

from micrograd.oracle.targets.discover import (
    find_engine,
    find_nn,
    package_module,
    value_like_classes,
)
from micrograd.oracle.targets.notebook import NotebookSource, notebook_source, write_module

__all__ = [
    "NotebookSource",
    "find_engine",
    "find_nn",
    "notebook_source",
    "package_module",
    "value_like_classes",
    "write_module",
]
