"""``%load_ext igniter_nb``: rich formatters for every igniter_nb object and the ``%%contract`` cell magic.

``%%contract PriceContract`` turns the cell body into the body of ``define(c)``, compiles the class and
puts it in the notebook namespace (``--show`` also displays its graph). The cell is user code, run like any
other cell; line numbers in compile errors point into the cell.
"""

from __future__ import annotations

import ast
import contextlib
import re
import shlex
import textwrap
from importlib import resources
from typing import Any

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
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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


def define_contract(name: str, body: str, namespace: dict[str, Any], *, filename: str = "<contract cell>",
                    first_line: int = 2) -> type:
    """Compile ``body`` as the body of ``define(c)`` into contract class ``name`` (globals: ``namespace``)."""
    import igniter_nb as ig

    if not _IDENTIFIER.match(name):
        raise ValueError(f"%%contract needs a class name (a Python identifier), got {name!r}")
    body = textwrap.dedent(body)
    if not body.strip():
        body = "pass\n"
    tree = ast.parse("def define(c):\n" + textwrap.indent(body, "    "), filename)
    # Shift line numbers so the body's first line is ``first_line``: tracebacks and source locations point
    # at the cell's own lines.
    ast.increment_lineno(tree, first_line - 2)
    code = compile(tree, filename, "exec")
    scope: dict[str, Any] = {}
    exec(code, namespace, scope)  # user code from the cell, exactly as IPython would run it
    define = scope["define"]
    return type(name, (ig.Contract,), {"define": define, "__module__": namespace.get("__name__", "__main__"),
                                       "__qualname__": name})


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
        with contextlib.suppress(Exception):  # without it tracebacks lose the cell text, nothing else
            filename = ipython.compile.cache(cell)  # registers the cell with linecache, like a normal cell
        cls = define_contract(names[0], cell, ipython.user_ns, filename=filename, first_line=1)
        ipython.user_ns[names[0]] = cls
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
