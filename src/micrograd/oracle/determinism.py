"""Hypothesis draws that depend on the seed alone, never on which modules happen to be loaded.

Recent Hypothesis versions draw, now and then, a number found as a literal in
the "local" modules of the running process (anything not in the standard
library or ``site-packages``), and cache those numbers in ``.hypothesis/``
under the current folder. For the oracle that breaks two promises: the same
seed would draw other cases from an editable install than from a wheel, or
inside a student's pytest run than from ``micrograd-ref check``; and a check
would leave a ``.hypothesis/`` folder wherever it was run. Inside
:func:`seed_only`, the pool of local numbers is empty, so every draw comes
from the seed and Hypothesis's own constants, and nothing is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["seed_only"]


@contextlib.contextmanager
def seed_only() -> Iterator[None]:
    """Within the block, Hypothesis collects no constants from local modules.

    The replacement is undone on exit, and Hypothesis's cache of permitted
    constants is cleared on both sides, so that a student's own Hypothesis
    tests in the same process see their constants again. Versions of
    Hypothesis without local constants are left as they are.
    """
    try:
        from hypothesis.internal.conjecture import providers  # noqa: PLC0415 - private, guarded
    except ImportError:  # pragma: no cover - a Hypothesis that moved its internals
        yield
        return
    collect = getattr(providers, "_get_local_constants", None)
    if collect is None:  # pragma: no cover - a Hypothesis older than local constants
        yield
        return
    empty = providers.Constants()  # type: ignore[attr-defined] # private, imported there

    def nothing_local() -> Any:  # noqa: ANN401 - Hypothesis's private Constants
        return empty

    providers.CONSTANTS_CACHE.cache.clear()
    providers._get_local_constants = nothing_local  # private: see the module docstring
    try:
        yield
    finally:
        providers._get_local_constants = collect
        providers.CONSTANTS_CACHE.cache.clear()
