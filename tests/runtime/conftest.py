"""Fixtures shared by the threads-runner tests (tests/runtime/test_threads_*.py); helpers they import are in
``bounded_threads.py``."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture
def frequent_switches() -> Iterator[None]:
    """GIL switches every microsecond while the test runs: a reader thread then interleaves with the workers often
    enough that a race on the live states shows on almost every run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)
