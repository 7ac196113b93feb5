"""Scaffolding tests generate into temporary directories and run what was generated in subprocesses."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # so `tests.*` imports work however pytest was started
    sys.path.insert(0, _ROOT)
