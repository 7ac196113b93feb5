"""Notebook-toolkit test helpers: this folder on sys.path (subprocesses import ``contracts`` from it)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
