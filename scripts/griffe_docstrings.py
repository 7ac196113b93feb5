"""Griffe extension for the API reference: our docstrings' reStructuredText habits, shown as Markdown.

The docstrings are written for ``help()`` and the source: ``Layout::`` before an indented literal block,
``>>>`` examples, ``:class:`~pkg.Name``` roles. mkdocstrings renders docstrings as Markdown, where a ``>>>``
line is a quote and ``::`` stays as text. This extension rewrites the docstring text the site shows (never the
code): a literal block after ``::`` and a run of ``>>>`` lines become fenced code, a role becomes inline code,
``docs/x.md`` becomes a link to that page (so a page that goes away fails the strict build).
Loaded by mkdocs.yml.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_DOCS_PAGE = re.compile(r"``docs/([a-z_]+)\.md``|(?<![\w/`])docs/([a-z_]+)\.md\b")
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|exc|data|obj):`~?([^`]+)`")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def to_markdown(text: str) -> str:
    """Rewrite one docstring: ``::`` literal blocks and ``>>>`` examples fenced, Sphinx roles as inline code, and a
    mention of a guide page (``docs/stores.md``) as a link to it (the API pages sit one folder below the guides)."""
    text = _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    text = _DOCS_PAGE.sub(lambda m: f"[{m.group(1) or m.group(2)}](../{m.group(1) or m.group(2)}.md)", text)
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(">>>"):
            # a doctest: the >>> / ... lines and their output, up to a blank line
            base = _indent(line)
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][base:] if _indent(lines[i]) >= base else lines[i].lstrip())
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [" " * base + "```pycon", *(" " * base + b for b in block), " " * base + "```"]
            continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            # a literal block: the indented lines after the (optional) blank line that follows
            base = _indent(line)
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and _indent(lines[j]) > base:
                inner = _indent(lines[j])
                block_lines: list[str] = []
                k = j
                while k < len(lines) and (not lines[k].strip() or _indent(lines[k]) >= inner):
                    block_lines.append(lines[k][inner:])
                    k += 1
                while block_lines and not block_lines[-1].strip():
                    block_lines.pop()
                lead = stripped[:-2].rstrip()
                if lead:
                    out.append(" " * base + lead + ":")
                out += ["", " " * base + "```", *((" " * base + b) if b else "" for b in block_lines),
                        " " * base + "```", ""]
                i = k
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


class MarkdownDocstrings(griffe.Extension):
    """Applies ``to_markdown`` to every docstring griffe loads."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
