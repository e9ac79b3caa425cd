"""Hypothesis profiles and the torch policy shared by every test."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# dev: quick local runs. ci: derandomized, so CI is reproducible. thorough: before a release.
settings.register_profile("dev", max_examples=50)
settings.register_profile(
    "ci",
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=2_000, deadline=None)
# mutation: ci's examples, with no health check that mutmut's reruns in one process trip.
settings.register_profile(
    "mutation",
    parent=settings.get_profile("ci"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def pytest_configure(config: pytest.Config) -> None:
    """Fail at once when torch is required (the parity session) but not importable."""
    if os.environ.get("MICROGRAD_REQUIRE_TORCH"):
        try:
            import torch  # noqa: F401, PLC0415 - only probing that torch imports
        except ImportError as exc:
            raise pytest.UsageError(
                f"MICROGRAD_REQUIRE_TORCH is set but torch cannot be imported: {exc}; "
                "install torch==2.13.0 (nox -s parity does)"
            ) from exc
