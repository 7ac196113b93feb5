"""Test modules are imported by basename (pytest's default import mode), so two with the same name in
different folders break collection on a clean checkout. Keep them unique."""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def test_test_module_basenames_are_unique() -> None:
    root = Path(__file__).parent
    names = Counter(p.name for p in root.rglob("*.py") if p.name != "conftest.py" and p.name != "__init__.py")
    assert [n for n, count in names.items() if count > 1] == []
