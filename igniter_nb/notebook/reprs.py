"""Rich notebook output: the ``_repr_mimebundle_`` of every igniter_nb object lands here.

Every bundle has ``text/plain``; graphs and contract instances add ``image/svg+xml`` (rendered with ``dot`` or
the pure-Python layout) and the same picture as ``text/html`` (an ``<img>``: see ``html.picture``, it is what
fits the output in every front end and static export), the tabular objects add ``text/html``. A repr never raises: if a rich part fails the
bundle still carries the text. Output is deterministic — nothing random is added here; execution ids and
timestamps that belong to the data are masked in CI by ``nbval_sanitize.cfg``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from igniter_nb._shown_repr import bounded_repr
from igniter_nb._shown_text import TABLE_LIMIT, more_rows, shown_name
from igniter_nb.notebook import html as h
from igniter_nb.notebook.render import Engine, Size, render_graph
from igniter_nb.runtime.states import states_now

BLOCKED = ("pending", "waiting")


def _safe(fn: Any, fallback: str) -> str:
    try:
        return str(fn())
    except Exception:  # a repr must not raise: the fallback text is still useful
        return fallback


# ----------------------------------------------------------------------------------------------- graphs


TEXT_LINES = 300
TEXT_DEPENDENCIES = 20  # a big graph's text names this many dependencies of a node, then says how many more


def graph_text(graph: Any) -> str:
    """``graph.to_text()`` (its first ``TEXT_LINES`` lines, each naming at most ``TEXT_DEPENDENCIES``
    dependencies, for a graph of more nodes or more edges than a picture draws uncollapsed: a notebook output of
    megabytes helps nobody), or a short listing when the text formatter is unavailable."""
    from igniter_nb.diagnostics.collapse import EDGE_THRESHOLD, edge_count

    try:
        big = len(graph.nodes) > TEXT_LINES or edge_count(graph) > EDGE_THRESHOLD
    except Exception:  # not a compiled graph: its own text, or the listing
        big = False
    if big:
        return _safe(lambda: _big_graph_text(graph), repr(graph))

    def listing() -> str:
        lines = [repr(graph)]
        lines.extend(f"  {n.kind} {n.path}" + (f" <- {', '.join(n.dependencies)}" if n.dependencies else "")
                     for n in graph.nodes)
        lines.extend(f"  output {o.name} <- {o.source}" for o in graph.outputs)
        return "\n".join(lines)

    return _safe(graph.to_text, _safe(listing, repr(graph)))


def _picture(bundle: dict[str, Any], draw: Any, alt: str, size: Size = "fit") -> dict[str, Any]:
    """Add the SVG and its HTML form (``html.picture``), or, if drawing fails, a note saying why."""
    try:
        svg = draw()
        bundle["image/svg+xml"] = svg
        bundle["text/html"] = h.picture(svg, alt, full=size == "full")
    except Exception as exc:  # never lose the text because a picture failed
        bundle["text/html"] = h.pre(f"(graph picture unavailable: {type(exc).__name__}: {exc})")
    return bundle


def _big_graph_text(graph: Any) -> str:
    from igniter_nb.diagnostics.graph_format import node_extras

    lines = [f"Graph {graph.name}"]
    if graph.correlation_keys:
        lines.append(f"Correlation: {', '.join(graph.correlation_keys)}")
    lines.append("Nodes:")
    for node in graph.nodes[:TEXT_LINES]:
        words = [f"- {node.kind} {node.path}"]
        if node.dependencies:
            deps = list(node.dependencies)
            more = f",… {len(deps) - TEXT_DEPENDENCIES:,} more" if len(deps) > TEXT_DEPENDENCIES else ""
            words.append(f"depends_on={','.join(deps[:TEXT_DEPENDENCIES])}{more}")
        words.extend(node_extras(node))
        lines.append(" ".join(words))
    if len(graph.nodes) > TEXT_LINES:
        lines.append(f"… {len(graph.nodes) - TEXT_LINES} more nodes (graph.to_text() lists them all)")
    lines.append(f"Outputs: {len(graph.outputs)}")
    lines.extend(f"- {out.path} -> {out.source}" for out in graph.outputs[:50])
    if len(graph.outputs) > 50:
        lines.append(f"… {len(graph.outputs) - 50} more outputs")
    return "\n".join(lines)


@h.sends
def graph_mimebundle(graph: Any, *, expand: bool | Iterable[str] | None = None, engine: Engine = "auto",
                     direction: str | None = None, legend: bool = True, size: Size = "fit") -> dict[str, Any]:
    """``text/plain`` (the graph as text) and ``image/svg+xml`` (kinds as shapes and colours)."""
    bundle: dict[str, Any] = {"text/plain": graph_text(graph)}
    return _picture(bundle, lambda: render_graph(graph, expand=expand, engine=engine, direction=direction,
                                                 legend=legend, size=size),
                    f"graph {getattr(graph, 'name', '')}", size)


def view_status(execution: Any) -> str:
    """The status to show without resolving anything: blocked/failed when a node is, ``succeeded`` when every
    output's node is resolved and fresh, else ``unresolved``."""
    states = execution.states
    found = {str(st.status) for st in states_now(states)}  # (a threads run may record nodes meanwhile)
    for status in ("failed", "waiting", "pending"):
        if status in found:
            return status
    roots = {o.source_root for o in execution.graph.outputs}
    if roots and all(r in states and str(states[r].status) == "succeeded" for r in roots):
        return "succeeded"
    return "unresolved" if not states or "stale" not in found else "stale"


STATE_NAMES = 50  # names listed per state in an instance's text: a 10,000-node instance gave 69 KB on one line


def contract_text(contract: Any) -> str:
    """The instance's id and status, then per state the nodes in it (the first ``STATE_NAMES``, then how many
    more), with what a blocked node waits for."""
    ex = contract.execution
    lines = [f"{shown_name(type(contract).__name__)} {ex.execution_id} {view_status(ex)}"]
    groups: dict[str, list[str]] = {}
    for node in ex.graph.nodes:
        st = ex.states.get(node.name)
        status = str(st.status) if st is not None else "unresolved"
        label = shown_name(node.name)
        if st is not None and status in BLOCKED:
            event = getattr(node, "event", None)
            if node.kind == "await" and event:
                label += f" (event {shown_name(event)})"
            else:
                others = [shown_name(w) for w in st.waiting_for if w != node.name]
                if others:
                    label += f" (waits for {', '.join(others[:STATE_NAMES])}"
                    label += f", … {len(others) - STATE_NAMES:,} more)" if len(others) > STATE_NAMES else ")"
        groups.setdefault(status, []).append(label)
    order = ("failed", "waiting", "pending", "running", "stale", "succeeded", "unresolved")
    for status in sorted(groups, key=lambda s: order.index(s) if s in order else len(order)):
        names = groups[status]
        more = f", … {len(names) - STATE_NAMES:,} more" if len(names) > STATE_NAMES else ""
        lines.append(f"  {status}: {', '.join(names[:STATE_NAMES])}{more}")
    return "\n".join(lines)


@h.sends
def contract_mimebundle(contract: Any, *, expand: bool | Iterable[str] | None = None, engine: Engine = "auto",
                        direction: str | None = None, legend: bool = True, size: Size = "fit") -> dict[str, Any]:
    """A contract instance: node states as text, and the graph coloured by state (never resolves anything)."""
    ex = contract.execution
    bundle: dict[str, Any] = {"text/plain": _safe(lambda: contract_text(contract), repr(contract))}
    return _picture(bundle, lambda: render_graph(ex.graph, states=ex, status=view_status(ex), expand=expand,
                                                 engine=engine, direction=direction, legend=legend, size=size),
                    f"graph {type(contract).__name__}", size)


# ----------------------------------------------------------------------------------------------- results


def _output_rows(result: Any) -> list[list[Any]]:
    from igniter_nb.diagnostics.states import display_value

    ex = result.execution
    rows: list[list[Any]] = []
    for out in ex.graph.outputs:
        try:
            st = ex.output_state(out.name)
        except Exception as exc:
            rows.append([out.name, "failed", f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"])
            continue
        status = str(st.status)
        if status == "failed":
            err = st.error
            value: Any = f"{type(err).__name__}: {getattr(err, 'message', err)}"
        elif status in BLOCKED:
            deferred = st.value
            event = getattr(deferred, "event", None)
            source = getattr(deferred, "source_node", None)
            value = f"waiting for event {event}" if event else f"pending on {source}"
        else:
            value = display_value(st.value)
        rows.append([out.name, status, value])
    return rows


@h.sends
def result_mimebundle(result: Any) -> dict[str, Any]:
    """Outputs with status and value. Like reading the result, this resolves what is not resolved yet."""
    ex = result.execution
    with contextlib.suppress(Exception):  # status never raises, but a broken runner must not break the repr
        ex.resolve_all()
    rows = _safe_rows(lambda: _output_rows(result))
    status = view_status(ex)
    text = [f"Result {shown_name(ex.graph.name)} {status}"]
    text.extend(f"  {shown_name(name)} [{st}] = {h.short(value)}" for name, st, value in rows[:TABLE_LIMIT])
    if len(rows) > TABLE_LIMIT:
        text.append(f"  {more_rows(len(rows) - TABLE_LIMIT, 'outputs')}")
    body = h.heading(f"{ex.graph.name} result", status) + h.table(rows, ["output", "status", "value"],
                                                                   limit=TABLE_LIMIT, total=len(rows))
    return {"text/plain": "\n".join(text), "text/html": body}


def _safe_rows(fn: Any) -> list[list[Any]]:
    try:
        rows: list[list[Any]] = fn()
        return rows
    except Exception as exc:
        return [["(error)", "failed", f"{type(exc).__name__}: {exc}"]]


@h.sends
def collection_mimebundle(collection: Any) -> dict[str, Any]:
    """A ``CollectionResult``: summary and one row per item (key, status, error or outputs)."""
    summary = dict(getattr(collection, "summary", {}) or {})
    rows: list[list[Any]] = []
    for item in list(getattr(collection, "items", {}).values()):
        data = item.to_dict() if hasattr(item, "to_dict") else {"key": getattr(item, "key", None)}
        detail: Any = data.get("result")
        if "error" in data:
            err = data["error"]
            detail = f"{err.get('type')}: {err.get('message')}" if isinstance(err, dict) else err
        elif "deferred" in data:
            deferred = data["deferred"] or {}
            detail = f"waiting for event {deferred['event']}" if deferred.get("event") else "pending"
        rows.append([data.get("key"), data.get("status"), detail])
    title = f"collection {getattr(collection, 'node', None) or ''}".strip()
    note = ", ".join(f"{k}={summary[k]}" for k in ("total", "succeeded", "failed", "pending") if k in summary)
    text = [_safe(lambda: repr(collection), title)]
    text.extend(f"  {bounded_repr(key, h.MAX_CELL)} [{st}] {h.short(detail)}" for key, st, detail in rows[:TABLE_LIMIT])
    html = h.heading(title, summary.get("status"), note) + h.table(rows, ["key", "status", "result / error"],
                                                                   limit=TABLE_LIMIT, total=len(rows))
    return {"text/plain": "\n".join(text), "text/html": html}


# ----------------------------------------------------------------------------------------------- diagnostics


@h.sends
def plan_mimebundle(plan: Any) -> dict[str, Any]:
    """A ``Plan``: its text, and a table of entries (status, ready/blocked, what a blocked node waits on)."""
    text = _safe(plan.to_text, repr(plan))
    rows = []
    for e in getattr(plan, "entries", ()):
        waits = ", ".join(e.waiting_on) if e.waiting_on else ""
        failed = getattr(e, "failed_deps", ())
        if failed:  # a failed dependency is not waited for: say what it does instead
            said = (f"failed because {', '.join(failed)} failed" if e.status == "failed"
                    else f"blocked by failed {', '.join(failed)}")
            waits = (waits + "; " if waits else "") + said
        if getattr(e, "event", None):  # an await that has its event waits no more: say it was received
            said = f"received event {e.event}" if e.status == "succeeded" else f"event {e.event}"
            waits = (waits + "; " if waits else "") + said
        action = "ready" if e.ready else "blocked" if e.blocked else ""
        detail = getattr(e, "error", None) or (f"token {e.token}" if getattr(e, "token", None) else "")
        rows.append([e.name, getattr(e, "role", "") or e.kind, e.status, action, waits, detail])
    note = f"targets: {', '.join(getattr(plan, 'targets', ())) or 'none'}"
    html = (h.heading(f"Plan {getattr(plan, 'graph', '')}", None, note)
            + h.table(rows, ["node", "kind", "status", "action", "waits on", "error / token"], limit=TABLE_LIMIT,
                      total=len(rows)))
    return {"text/plain": text, "text/html": html}


def _report_output_rows(report: Any, outputs: Mapping[str, Any]) -> Iterator[list[Any]]:
    """``[output, status, value]`` of a diagnostics report's outputs, as the result's table shows them: a failed
    or blocked output's record (``{"status": "failed", "error": …}``, which the report keeps as its value) becomes
    its status and its error, or what it waits for in the result's words. The status is the execution's (read,
    never resolved), so a succeeded value that happens to look like such a record is shown as the value it is."""
    ex = getattr(report, "execution", None)
    for name, value in list(outputs.items())[:TABLE_LIMIT]:
        status = None
        with contextlib.suppress(Exception):  # (an output whose state cannot be read: no status, the value as is)
            status = str(ex.output_state(name).status)  # type: ignore[union-attr]
        if status not in (None, "succeeded") and isinstance(value, Mapping) and value.get("status") == status:
            if status == "failed":
                value = value.get("error")
            elif status in BLOCKED:  # (the result's words)
                event, source = value.get("event"), value.get("source_node")
                value = f"waiting for event {event}" if event else f"pending on {source}"
        yield [name, status, value]


@h.sends
def report_mimebundle(report: Any) -> dict[str, Any]:
    """A diagnostics ``Report``: its text, markdown, and HTML sections (outputs, nodes, errors, waits)."""
    text = _safe(report.to_text, repr(report))
    bundle: dict[str, Any] = {"text/plain": text}
    md = _safe(report.to_markdown, "")
    if md:
        bundle["text/markdown"] = md
    try:
        d = report.to_dict()
        parts = [h.heading(f"Diagnostics {d.get('graph', '')}", d.get("status"))]
        outputs = d.get("outputs") or {}
        parts.append(h.table(_report_output_rows(report, outputs), ["output", "status", "value"],
                             limit=TABLE_LIMIT, total=len(outputs)))
        nodes = d.get("nodes") or {}
        counts = {k: v for k, v in nodes.items() if isinstance(v, int)}
        parts.append(h.table([list(counts.values())], list(counts), status_column=None))
        if d.get("errors"):
            parts.append(h.table(([e.get("node"), e.get("type"), e.get("message")] for e in d["errors"]),
                                 ["node", "error", "message"], status_column=None, limit=TABLE_LIMIT,
                                 total=len(d["errors"])))
        if d.get("waiting_on"):
            parts.append(h.table(([w["node"], w["event"]] for w in d["waiting_on"]), ["await node", "event"],
                                 status_column=None, limit=TABLE_LIMIT, total=len(d["waiting_on"])))
        if d.get("blocked_nodes"):
            parts.append(h.table(([b["node"], b["status"], ", ".join(b["waiting_for"])] for b in d["blocked_nodes"]),
                                 ["blocked node", "status", "waiting for"], limit=TABLE_LIMIT,
                                 total=len(d["blocked_nodes"])))
        if "workflow_status" in d:
            parts.append(h.mapping_table({k: d.get(k) for k in ("workflow_status", "correlation", "satisfied_events",
                                                                 "last_external_event")}))
        bundle["text/html"] = "".join(parts)
    except Exception as exc:
        bundle["text/html"] = h.pre(text + f"\n(report table unavailable: {type(exc).__name__})")
    return bundle


@h.sends
def timeline_mimebundle(timeline: Any) -> dict[str, Any]:
    """An audit timeline: one row per event (seq, type, node, status, payload); the first 200 are shown."""
    events = list(timeline.execution.bus.events)
    from igniter_nb.settings import without_url_passwords

    rows = [[e.seq, e.type, e.node, e.status, without_url_passwords(dict(e.payload)) if e.payload else None]
            for e in events[:TABLE_LIMIT]]
    ex = timeline.execution
    counted = f"{len(events)} event{'' if len(events) == 1 else 's'}"
    text = [f"AuditTimeline {ex.graph.name} {ex.execution_id}: {counted}"]
    text.extend(f"  {seq:>4} {typ:<20} {node or '':<20} {st or ''}" for seq, typ, node, st, _ in rows[:20])
    if len(events) > 20:
        text.append(f"  … {len(events) - 20} more")
    html = (h.heading(f"Audit {ex.graph.name}", None, counted)
            + h.table(rows, ["seq", "type", "node", "status", "payload"], total=len(events)))
    return {"text/plain": "\n".join(text), "text/html": html}


@h.sends
def store_mimebundle(store: Any, *, graph: str | None = None) -> dict[str, Any]:
    """A store: its executions counted by status, and the ``TABLE_LIMIT`` most recently saved, one row each (id,
    graph, status, version, correlation, saved at) — one page of the store read (``list_page``) and one count per
    status, never every snapshot. A store that cannot be listed shows why, as text."""
    from igniter_nb.stores import paging
    from igniter_nb.stores.memory import MemoryStore
    from igniter_nb.stores.rules import STATUSES

    try:
        records, _next = paging.list_page(store, graph, limit=TABLE_LIMIT)
        counts = {status: paging.count(store, graph, status) for status in sorted(STATUSES)}
        total = paging.count(store, graph)
    except Exception as exc:
        return {"text/plain": f"{store!r}\n(listing failed: {type(exc).__name__}: {exc})"}
    if total > sum(counts.values()):  # (a store with no status recorded for some executions)
        counts["no status"] = total - sum(counts.values())
    rows = [[r.execution_id, r.graph, r.status, r.version, r.correlation,
             h.utc_time(r.updated_at) if r.updated_at is not None else None] for r in records]
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "empty"
    shown = "" if total <= len(rows) else f", the {len(rows)} most recently saved shown"
    counted = f"{total} execution{'' if total == 1 else 's'} ({summary}){shown}"
    # (a memory store's repr is its count: ``MemoryStore(1 execution): 1 execution`` said it twice; the others'
    # name where they keep their data)
    text = [f"{type(store).__name__ if isinstance(store, MemoryStore) else repr(store)}: {counted}"]
    text.extend(f"  {r[0]} {r[1]} {r[2]} v{r[3]}" for r in rows[:20])
    html = (h.heading(type(store).__name__, None, counted)
            + h.table(rows, ["execution_id", "graph", "status", "version", "correlation", "updated_at (UTC)"],
                      limit=TABLE_LIMIT, total=total, nowrap=("execution_id", "updated_at (UTC)")))
    return {"text/plain": "\n".join(text), "text/html": html}




class Rendered:
    """A ready-made bundle (what ``show`` returns): displays as the bundle, prints as its text."""

    def __init__(self, bundle: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
        self.bundle = bundle
        self.metadata = metadata if metadata and "image/svg+xml" in bundle else None

    def __repr__(self) -> str:
        return str(self.bundle.get("text/plain", ""))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        if self.metadata:
            return dict(self.bundle), dict(self.metadata)
        return dict(self.bundle)


def show(obj: Any, *, expand: bool | Iterable[str] | None = None, engine: Engine = "auto",
         direction: str | None = None, legend: bool = True, size: Size = "fit") -> Rendered:
    """Display a graph, a contract class or a contract instance with options: ``expand=True`` (or a list of
    top-level scope names, or one as a string; an unknown name is shown as a ``ValueError`` naming the scopes
    there are, in place of the picture) opens collapsed groups of a
    large graph; ``engine`` forces ``"dot"`` or ``"python"``;
    ``direction`` ``"LR"`` or ``"TB"`` (default: chosen from the graph's shape); ``legend=False`` drops the
    legend; ``size="full"`` shows the picture at its natural size (scroll sideways) instead of fitting it to
    the output width."""
    options: dict[str, Any] = {"expand": expand, "engine": engine, "direction": direction, "legend": legend,
                               "size": size}
    if hasattr(obj, "execution") and hasattr(obj, "result"):
        bundle = contract_mimebundle(obj, **options)
    else:
        from igniter_nb.notebook.render import _check_graph

        graph = obj.compiled_graph() if hasattr(obj, "compiled_graph") else obj
        _check_graph(graph, "show")
        bundle = graph_mimebundle(graph, **options)
    return Rendered(bundle, {"image/svg+xml": {"unconfined": True}} if size == "full" else None)


__all__ = [
    "Rendered",
    "collection_mimebundle",
    "contract_mimebundle",
    "graph_mimebundle",
    "plan_mimebundle",
    "report_mimebundle",
    "result_mimebundle",
    "show",
    "store_mimebundle",
    "timeline_mimebundle",
]
