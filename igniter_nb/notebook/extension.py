"""``%load_ext igniter_nb``: rich formatters for every igniter_nb object and the ``%%contract`` cell magic.

``%%contract PriceContract`` turns the cell body into the body of ``define(c)``, compiles the class and
puts it in the notebook namespace (``--show`` also displays its graph). The cell is user code, run like any
other cell. Line numbers are the cell's own, counted from the ``%%contract`` line as the editor shows them, and
an error raised while defining the contract is shown as one line — ``ValidationError at cell line 4: …`` — with
the cell line under it, instead of a traceback through igniter_nb's frames (the exception itself is unchanged:
``%debug`` and ``sys.last_value`` still have all of it).
"""

from __future__ import annotations

import ast
import contextlib
import keyword
import shlex
import textwrap
import unicodedata
from importlib import resources
from typing import Any

from igniter_nb.errors import CompileError, IgniterError

# (module, class name, bundle function in igniter_nb.notebook.reprs)
FORMATTED_TYPES = (
    ("igniter_nb.compiler.graph", "CompiledGraph", "graph_mimebundle"),
    ("igniter_nb.runtime.result", "Result", "result_mimebundle"),
    ("igniter_nb.runtime.planner", "Plan", "plan_mimebundle"),
    ("igniter_nb.diagnostics.report", "Report", "report_mimebundle"),
    ("igniter_nb.extensions.audit", "AuditTimeline", "timeline_mimebundle"),
    ("igniter_nb.runtime.collection", "CollectionResult", "collection_mimebundle"),
    ("igniter_nb.stores.memory", "MemoryStore", "store_mimebundle"),
    ("igniter_nb.stores.file", "FileStore", "store_mimebundle"),
    ("igniter_nb.stores.sql", "SQLStore", "store_mimebundle"),
    ("igniter_nb.stores.redis", "RedisStore", "store_mimebundle"),
    ("igniter_nb.stores.parquet", "ParquetStore", "store_mimebundle"),
)


def sanitizer_path() -> str:
    """Path of the nbval sanitizer file shipped with the package (``--nbval-sanitize-with``)."""
    return str(resources.files("igniter_nb.notebook").joinpath("nbval_sanitize.cfg"))


def _printer(function_name: str) -> Any:
    def printer(obj: Any) -> dict[str, Any]:
        from igniter_nb.notebook import reprs

        bundle: dict[str, Any] = getattr(reprs, function_name)(obj)
        return bundle

    return printer


def register_formatters(ipython: Any) -> None:
    """Register the mimebundle printers by type name, so no store or collection module is imported here."""
    formatter = ipython.display_formatter.mimebundle_formatter
    for module, name, function in FORMATTED_TYPES:
        formatter.for_type_by_name(module, name, _printer(function))


def class_name(name: str) -> str:
    """``name`` as Python spells the identifier (NFKC-normalised, as the parser does: ``ﬁle`` is ``file``), or
    ``ValueError`` when it is not an identifier or is a keyword. Non-ASCII identifiers (``Счёт``, ``Größe``) are
    names like any other, as everywhere else in igniter_nb."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"%%contract needs a class name (a Python identifier, not a keyword), got {name!r}")
    return unicodedata.normalize("NFKC", name)


def define_contract(name: str, body: str, namespace: dict[str, Any], *, filename: str = "<contract cell>",
                    first_line: int = 2) -> type:
    """Compile ``body`` as the body of ``define(c)`` into contract class ``name`` (globals: ``namespace``)."""
    import igniter_nb as ig

    name = class_name(name)
    body = textwrap.dedent(body)
    if not body.strip():
        body = "pass\n"
    try:
        tree = ast.parse("def define(c):\n" + textwrap.indent(body, "    "), filename)
    except SyntaxError as exc:  # point at the cell's line and column, not the wrapper's
        lineno = (exc.lineno or 2) - 2 + first_line
        end = (exc.end_lineno or exc.lineno or 2) - 2 + first_line
        text = (exc.text or "")[4:] if (exc.text or "").startswith("    ") else exc.text
        raise SyntaxError(exc.msg, (filename, lineno, max((exc.offset or 5) - 4, 1), text, end,
                                    max((exc.end_offset or 5) - 4, 1))) from None
    # Shift line numbers so the body's first line is ``first_line``: tracebacks and source locations point
    # at the cell's own lines.
    ast.increment_lineno(tree, first_line - 2)
    code = compile(tree, filename, "exec")
    scope: dict[str, Any] = {}
    exec(code, namespace, scope)  # user code from the cell, exactly as IPython would run it
    define = scope["define"]
    return type(name, (ig.Contract,), {"define": define, "__module__": namespace.get("__name__", "__main__"),
                                       "__qualname__": name})


def cell_error_lines(exc: BaseException, filename: str, source: str, *, caret: int | None = None) -> list[str]:
    """An error raised while defining a contract from a cell, as IPython should show it: the type, the cell line
    and the message on one line, then that line of the cell (with a ``^`` under column ``caret``), then where in
    the graph (for igniter_nb errors)."""
    line = _cell_line(exc, filename)
    message = getattr(exc, "message", None) if isinstance(exc, IgniterError) else None
    text = (message if isinstance(message, str) and message else str(exc)).replace(f"{filename}:", "cell line ")
    where = f" at cell line {line}" if line is not None else ""
    out = [f"\x1b[31m{type(exc).__name__}\x1b[39m{where}: {text}"]
    cell_lines = source.splitlines()
    if line is not None and 0 < line <= len(cell_lines):
        out.append(f"  {line} | {cell_lines[line - 1]}")
        if caret:
            out.append(" " * (len(f"  {line} | ") + caret - 1) + "^")
    if isinstance(exc, IgniterError):
        items = [f"{k}={exc.context[k]}" for k in ("graph", "node", "path") if exc.context.get(k) is not None]
        if line is None and exc.source_location:
            items.append(f"location={exc.source_location}")
        if items:
            out.append(f"  [{', '.join(items)}]")
    return out


def _cell_line(exc: BaseException, filename: str) -> int | None:
    """The cell line an error points at: its ``source_location``, else the deepest frame of the traceback that
    runs the cell's code."""
    location = exc.source_location if isinstance(exc, IgniterError) else None
    if location:
        place, _, number = location.rpartition(":")
        if place == filename and number.isdigit():
            return int(number)
    found = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            found = tb.tb_lineno
        tb = tb.tb_next
    return found


def contract_magic(ipython: Any) -> Any:
    def contract(line: str, cell: str) -> Any:
        """%%contract Name [--show]: define contract class Name from the cell body (the body of define(c))."""
        args = shlex.split(line)
        names = [a for a in args if not a.startswith("--")]
        flags = {a for a in args if a.startswith("--")}
        unknown = flags - {"--show"}
        if len(names) != 1 or unknown:
            raise ValueError("usage: %%contract ClassName [--show]" + (f" (unknown: {sorted(unknown)})" if unknown else ""))
        filename = "<contract cell>"
        source = f"%%contract {line}\n{cell}"  # the cell as the editor shows it: the body starts on line 2
        with contextlib.suppress(Exception):  # without it tracebacks lose the cell text, nothing else
            filename = ipython.compile.cache(source)  # registers the cell with linecache, like a normal cell
        try:
            cls = define_contract(names[0], cell, ipython.user_ns, filename=filename, first_line=2)
        except SyntaxError as exc:
            # IPython prints a syntax error raised by running code with the whole stack, whatever the error says;
            # as a CompileError (the cell is the contract's definition) it gets the short form below
            err = CompileError(f"the cell is not valid Python: {exc.msg}", graph=names[0],
                               source_location=f"{filename}:{exc.lineno}")
            lines = cell_error_lines(err, filename, source, caret=exc.offset)
            err._render_traceback_ = lambda: lines  # type: ignore[attr-defined]
            raise err from exc
        except Exception as exc:
            lines = cell_error_lines(exc, filename, source)
            exc._render_traceback_ = lambda: lines  # type: ignore[attr-defined]  # IPython shows these lines
            raise
        ipython.user_ns[cls.__name__] = cls  # the normalised name: what code in later cells looks up
        if "--show" in flags:
            from igniter_nb.notebook.reprs import show

            return show(cls)
        return None

    return contract


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext igniter_nb`` (``igniter_nb.load_ipython_extension`` delegates here)."""
    register_formatters(ipython)
    ipython.register_magic_function(contract_magic(ipython), magic_kind="cell", magic_name="contract")


__all__ = ["FORMATTED_TYPES", "define_contract", "load_ipython_extension", "register_formatters", "sanitizer_path"]
