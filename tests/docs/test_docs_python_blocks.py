"""Every ```python block of docs/*.md and README.md runs as written, and prints what the page shows.

A page's blocks run in order, in one fresh ``__main__`` module (blocks build on each other, and the snapshot
codec finds a page's pydantic classes there as it does in a notebook), in a temporary directory. Where a ```text
block follows a python block directly, it is what that block prints, and is compared; an execution id (a random
UUID) is written ``EXECUTION`` there. A page starts with an empty executor registry (as a fresh process has), and
the environment (``os.environ``), the default store (``ig.configure``) and the registry are put back after it.

A line that is an expression with a Python literal as its comment (``c.status  # 'pending'``,
``len(conversation)  # 4``, ``result.total  # 120.0, computed lazily``: the literal may be followed by ", ", " — "
or " (" and prose, and wrap onto comment lines in the same column) shows that expression's value, and is checked too (``==``); a comment that is not a literal
(``# Status.PENDING``, ``# pending (and saved)``) is prose, and is not.

A block that cannot run on its own says so in the markdown, on the line just above it:
``<!-- not-run: the reason -->`` (it needs a running server, a module the reader writes, ...). Such blocks are
counted and listed, never skipped silently; keep them rare.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import signal
import sys
import time
import tokenize
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from igniter_nb import Executor, config, executor_registry

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(.+?)\s*-->\s*\Z", re.S)
# How many blocks all pages together may leave unrun; raise it only with a reason in the new block's marker.
MAX_NOT_RUN = 20
BLOCK_TIMEOUT = 30.0  # seconds one block may run; the slowest takes well under one
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    code: str
    expected: str | None  # the ```text block right under it: what it prints
    not_run: str | None  # the reason in its <!-- not-run: ... --> marker

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page
        return f"{page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    found = []
    for k, m in enumerate(fences):
        if m.group(1) != "python":
            continue
        nxt = fences[k + 1] if k + 1 < len(fences) else None
        expected = nxt.group(2) if nxt and nxt.group(1) == "text" and not text[m.end():nxt.start()].strip() else None
        before = text[(fences[k - 1].end() if k else 0):m.start()]
        marker = NOT_RUN.search(before)
        found.append(Block(page, text.count("\n", 0, m.start()) + 1, m.group(2), expected,
                           marker.group(1) if marker else None))
    return found


PAGES = sorted(p for p in [*ROOT.glob("docs/**/*.md"), ROOT / "README.md"] if blocks(p))


class ShownValueMismatch(AssertionError):
    pass


class BlockTimeout(AssertionError):
    pass


@contextlib.contextmanager
def deadline(seconds: float, where: str) -> Iterator[None]:
    """Stop a block that runs longer than ``seconds`` (one waiting on a server that is not there, say). The timer
    pytest-timeout may have set (SIGALRM too) is put back afterwards, less the time spent."""
    def stop(signum: int, frame: object) -> None:
        raise BlockTimeout(f"{where}: the example ran for more than {seconds} s")
    started = time.monotonic()
    previous_left = signal.getitimer(signal.ITIMER_REAL)[0]
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if previous_left:
            signal.setitimer(signal.ITIMER_REAL, max(previous_left - (time.monotonic() - started), 0.001))


def expect_shown(value: object, shown: object, where: str) -> None:
    """What a ``expression  # literal`` line of a page promises: the expression's value is the literal."""
    if not (value == shown or getattr(value, "value", object()) == shown):  # an enum shown by its value
        raise ShownValueMismatch(f"{where}: the value is {value!r}, the page shows {shown!r}")


def shown_literal(comment: str) -> str | None:
    """The Python literal a comment shows — all of it, or what comes before its prose (``120.0, computed lazily``,
    ``'pending' — and saved``) — or None."""
    candidates = [comment] + [comment.split(sep, 1)[0] for sep in (", ", " — ", " (") if sep in comment]
    for text in candidates:
        try:
            ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        return text
    return None


class ShownValues(ast.NodeTransformer):
    """Wrap each ``expression  # literal`` statement in a call to ``expect_shown``."""

    def __init__(self, comments: dict[int, tuple[int, bool, str]], where: str) -> None:
        self.comments, self.where = comments, where  # line -> (column, alone on its line, text)
        self.count = 0

    def comment_after(self, line: int) -> str:
        """The comment ending ``line``, with the comment-only lines under it in the same column (its wrap)."""
        if line not in self.comments:
            return ""
        column, _, text = self.comments[line]
        while (nxt := self.comments.get(line + 1)) and nxt[0] == column and nxt[1]:
            text, line = f"{text} {nxt[2]}", line + 1
        return text

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        comment = shown_literal(self.comment_after(node.end_lineno or node.lineno))
        if comment is None:
            return node
        self.count += 1
        line = f"{self.where.rsplit(':', 1)[0]}:{int(self.where.rsplit(':', 1)[1]) + node.lineno}"
        call = ast.Call(ast.Name("__docs_expect_shown__", ast.Load()),
                        [node.value, ast.parse(comment, mode="eval").body, ast.Constant(line)], [])
        return ast.copy_location(ast.Expr(call), node)


def compiled(block: Block) -> tuple[types.CodeType, int]:
    """The block's code, its shown values wrapped in checks; and how many there are."""
    comments = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(block.code).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = (tok.start[1], not tok.line[:tok.start[1]].strip(), tok.string[1:].strip())
    except (tokenize.TokenError, SyntaxError):
        pass  # compile() below says what is wrong with the block
    tree = ast.parse(block.code, block.where)
    shown = ShownValues(comments, block.where)
    tree = ast.fix_missing_locations(shown.visit(tree))
    # dont_inherit: the block runs as written, without this module's `from __future__` flags
    return compile(tree, block.where, "exec", dont_inherit=True), shown.count


def run_page(page: Path, timeout: float = BLOCK_TIMEOUT) -> list[Block]:
    """Run the page's blocks in order in one ``__main__``; return the blocks it left unrun (their markers)."""
    main = types.ModuleType("__main__")
    main.__dict__["__docs_expect_shown__"] = expect_shown
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = main
    environ, default, executors = dict(os.environ), config._default, dict(executor_registry._definitions)
    executor_registry._definitions.clear()
    unrun = []
    try:
        for block in blocks(page):
            if block.not_run:
                unrun.append(block)
                continue
            out = io.StringIO()
            with contextlib.redirect_stdout(out), deadline(timeout, block.where):
                try:
                    exec(compiled(block)[0], main.__dict__)
                except (ShownValueMismatch, BlockTimeout):
                    raise
                except Exception as exc:
                    raise AssertionError(f"{block.where}: the example raised {exc!r}") from exc
            if block.expected is not None:
                printed = UUID.sub("EXECUTION", out.getvalue())
                assert printed == block.expected, (
                    f"{block.where} printed:\n{printed}\nthe page shows:\n{block.expected}")
    finally:
        sys.modules["__main__"] = saved
        os.environ.clear()
        os.environ.update(environ)
        config._default = default
        executor_registry._definitions.clear()
        executor_registry._definitions.update(executors)
    return unrun


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_the_page_examples_run_as_written(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_page(page)


def test_every_python_fence_is_read_as_a_block() -> None:
    # a fence the reader misses (indented, unclosed, closed with an info string) would be skipped silently
    fences = {p: len(re.findall(r"^\s*```python", p.read_text(), flags=re.M))
              for p in [*ROOT.glob("docs/**/*.md"), ROOT / "README.md"]}
    missed = [f"{p.relative_to(ROOT)}: {n} fences, {len(blocks(p))} read" for p, n in fences.items() if n != len(blocks(p))]
    assert not missed, missed


def test_unrun_examples_are_marked_with_a_reason_and_rare() -> None:
    unrun = [b for page in PAGES for b in blocks(page) if b.not_run]
    for b in unrun:
        assert len(b.not_run or "") >= 10, f"{b.where}: a not-run marker needs its reason"
    assert len(unrun) <= MAX_NOT_RUN, "too many unrun examples:\n" + "\n".join(
        f"  {b.where}: {b.not_run}" for b in unrun)


def test_the_reader_finds_the_blocks_and_their_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# P\n\n```python\nx = 1\nprint(x)\n```\n```text\n1\n```\n\n"
        "<!-- not-run: needs a running server -->\n```python\nraise SystemExit\n```\n"
        "```python\nprint(x + 1)\n```\n",
        encoding="utf-8")
    found = blocks(page)
    assert [(b.line, b.expected, b.not_run) for b in found] == [
        (3, "1\n", None), (12, None, "needs a running server"), (15, None, None)]
    assert [b.line for b in run_page(page)] == [12]  # the marked one, and only it, left unrun


def test_what_a_block_prints_is_compared_with_the_page(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nprint(2)\n```\n```text\n3\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="printed"):
        run_page(page)
    page.write_text("```python\nimport uuid\nprint('id', uuid.uuid4())\n```\n```text\nid EXECUTION\n```\n", encoding="utf-8")
    run_page(page)


def test_a_page_runs_in_a_fresh_state_and_leaves_none_behind(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nimport os\nos.environ['DOCS_PROBE'] = '1'\n```\n"
                    "```python\nimport igniter_nb as ig\nig.configure(store='memory://')\n"
                    "ig.register_executor('docs-probe', ig.Executor)\n```\n"
                    "```python\nprint([d.key for d in ig.executor_registry.definitions()])\n```\n"
                    "```text\n['docs-probe']\n```\n", encoding="utf-8")
    default = config._default
    executor_registry.register("left-by-another-test", Executor)
    before = [d.key for d in executor_registry.definitions()]  # (other test modules register theirs on import)
    try:
        run_page(page)  # the page sees only its own executor
        assert "DOCS_PROBE" not in os.environ and config._default is default
        assert [d.key for d in executor_registry.definitions()] == before and "left-by-another-test" in before
    finally:
        executor_registry._definitions.pop("left-by-another-test", None)


def test_a_value_a_comment_shows_is_checked(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nx = [2]\nx  # [2]\nx  # the list, as prose\nlen(x)  # 1, as it shows\n```\n", encoding="utf-8")
    assert compiled(blocks(page)[0])[1] == 2  # the two lines showing a literal, not the prose
    run_page(page)
    page.write_text("```python\nx = [1, 2]\nx  # [1,\n   #  2]\n# [3]\n```\n", encoding="utf-8")
    assert compiled(blocks(page)[0])[1] == 1  # a wrapped literal; the comment in another column is not its wrap
    run_page(page)
    page.write_text("```python\nx = 2\n\nx    # 3\n```\n", encoding="utf-8")
    with pytest.raises(ShownValueMismatch, match=r"page.md:4: the value is 2, the page shows 3"):
        run_page(page)


def test_a_block_that_hangs_is_stopped_and_named(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nimport time\nwhile True:\n    time.sleep(0.01)\n```\n", encoding="utf-8")
    pytest_timer = signal.setitimer(signal.ITIMER_REAL, 0)[0]  # pytest-timeout's, put back below
    outer = signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.setitimer(signal.ITIMER_REAL, 500)  # as pytest-timeout's would be
    try:
        with pytest.raises(BlockTimeout, match=r"page.md:1: the example ran for more than 0.2 s"):
            run_page(page, timeout=0.2)
        assert 400 < signal.getitimer(signal.ITIMER_REAL)[0] <= 500  # the outer timer is armed again
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer)
        if pytest_timer:
            signal.setitimer(signal.ITIMER_REAL, pytest_timer)


def test_a_block_that_raises_is_named(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nraise KeyError('nope')\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"page.md:1: the example raised KeyError\('nope'\)"):
        run_page(page)
