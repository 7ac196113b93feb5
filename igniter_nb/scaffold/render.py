"""Templates (package data in ``igniter_nb/scaffold/templates``) filled in with ``{{ name }}`` placeholders.

A deliberately tiny renderer: a placeholder is replaced by text computed in Python, nothing is evaluated, and
a placeholder without a value — or a value without a placeholder — is an error, so a template and the code
filling it cannot drift apart silently. Notebook templates are cells separated by ``#%% code`` /
``#%% markdown`` lines, turned into nbformat 4 JSON without needing nbformat.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{ *([a-z_]+) *\}\}")
_CELL = re.compile(r"^#%% (code|markdown)$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{4,}")


def template(name: str) -> str:
    """The text of ``templates/<name>`` as shipped in the package."""
    return resources.files("igniter_nb.scaffold").joinpath("templates", name).read_text(encoding="utf-8")


def render(template_name: str, /, **values: str) -> str:
    """Fill in template ``template_name``; trailing spaces are dropped and runs of blank lines cut to two (fragments may
    be empty), and the text ends with exactly one newline."""
    text = template(template_name)
    used = set(_PLACEHOLDER.findall(text))
    missing, unused = used - values.keys(), values.keys() - used
    if missing or unused:
        raise KeyError(f"template {template_name}: no value for {sorted(missing)}, no placeholder for {sorted(unused)}")
    text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return _BLANK_RUNS.sub("\n\n\n", text).strip("\n") + "\n"


def notebook(cells_text: str) -> str:
    """nbformat 4.5 JSON for cells written as ``#%% code`` / ``#%% markdown`` sections; no outputs, stable
    cell ids (``cell-01``...), a Python 3 kernel."""
    parts = _CELL.split(cells_text)
    if parts[0].strip():
        raise ValueError("notebook template: text before the first '#%% code' or '#%% markdown' line")
    cells: list[dict[str, Any]] = []
    for kind, body in zip(parts[1::2], parts[2::2], strict=True):
        source = body.strip("\n")
        if not source.strip():
            continue
        cell: dict[str, Any] = {"cell_type": kind, "id": f"cell-{len(cells) + 1:02d}", "metadata": {},
                                "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    document = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "pygments_lexer": "ipython3"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
