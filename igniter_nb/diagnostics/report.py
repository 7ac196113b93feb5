"""``contract.diagnostics``: one execution's status, outputs, failures, collections and events, as data,
text and Markdown. Building a report resolves every output first and never raises. How one value is shown
(inline, Markdown-escaped, cut at ``TEXT_LIMIT``) is ``igniter_nb.diagnostics.report_values``, re-exported here.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Mapping
from typing import Any

from igniter_nb._error_text import shown_text
from igniter_nb._shown_text import TABLE_LIMIT, shown_name
from igniter_nb.diagnostics.report_values import (  # re-exported: how a report shows a value
    LISTED_ITEMS,
    TEXT_LIMIT,
    _cut,
    _error_message,
    _listed,
    collection_data,
    collection_keys,
    inline,
    is_collection_result,
    is_result,
    markdown_code,
    markdown_text,
    plain_value,
)
from igniter_nb.diagnostics.states import iso
from igniter_nb.extensions.reactive import call_with_declared
from igniter_nb.runtime.deferred import DeferredResult

_BLOCKED = ("pending", "waiting")


# --------------------------------------------------------------------------- the report
def _guarded(section: Any, fallback: Any) -> Any:
    """One section of the report; a bug in reading odd state must not take the whole report down."""
    try:
        return section()
    except Exception:
        return fallback


class Report:
    """The diagnostics of one execution, gathered when the report is made (``contract.diagnostics``).

    ``to_dict()`` is JSON-friendly data, whole; ``to_text()`` and ``to_markdown()`` are for people (output
    presenters apply to their Outputs line only), bounded: a value or message past ``TEXT_LIMIT`` characters is
    cut with `` … (n more characters)``, and lists of failures show ``LISTED_ITEMS`` then ``… n more``.
    """

    def __init__(self, contract: Any) -> None:
        execution = getattr(contract, "execution", None)
        if execution is None:  # an Execution was given
            execution, contract = contract, _contract_of(contract)
        self.contract = contract
        self.execution = execution
        with contextlib.suppress(Exception):  # a report shows what is known; failures are in the states
            execution.resolve_all()
        # What the sections read, copied once (each copy one C call): a threads run's workers may record nodes and
        # events while the report is built (from one of its own nodes, or another thread), and a section iterating
        # the live states met "dictionary changed size during iteration", was dropped by _guarded and showed its
        # default instead. Every section now describes the same moment.
        self._states: dict[str, Any] = _guarded(lambda: dict(execution.states), {})
        # (reading the log loads a restored one: a malformed stored event raises there, and only its section shows so)
        self._events_log: list[Any] | None = _guarded(lambda: list(execution.bus.events), None)
        self._data = self._collect()

    # ------------------------------------------------------------------ gathering
    def _collect(self) -> dict[str, Any]:
        ex = self.execution
        data: dict[str, Any] = {
            "graph": ex.graph.name,
            "execution_id": ex.execution_id,
            "status": self._status(),
            "outputs": _guarded(self._outputs, {}),
            "errors": _guarded(self._errors, []),
            "nodes": _guarded(self._nodes, {"total": len(self._states), "succeeded": 0, "failed": 0, "pending": 0,
                                            "waiting": 0, "stale": 0, "failed_nodes": []}),
            "collection_nodes": _guarded(self._collections, []),
            "events": _guarded(self._events, {"total": 0, "latest_type": None, "latest_at": None, "by_type": {}}),
        }
        data.update(_guarded(self._workflow, {"waiting_on": [], "blocked_nodes": []}))
        llm_usage = _guarded(self._llm_usage, None)
        if llm_usage:  # only executions that called a language model get this section
            data["llm_usage"] = llm_usage
        return data

    def _status(self) -> str:
        try:  # (over the copied nodes: status_of() alone iterates the live states)
            return str(self.execution.status_of(list(self._states)))
        except Exception:
            return "failed"

    def _outputs(self) -> dict[str, Any]:
        ex = self.execution
        outputs: dict[str, Any] = {}
        for out in ex.graph.outputs:
            root = self._states.get(out.source_root)
            if root is None:
                outputs[out.name] = None
                continue
            try:
                st = ex.output_state(out.name) if out.child_output is not None else root
            except Exception as exc:
                outputs[out.name] = {"status": "failed", "error": _error_message(exc)}
                continue
            status = str(st.status)
            if status == "failed":
                outputs[out.name] = {"status": "failed", "error": _error_message(st.error)}
            elif status in _BLOCKED and isinstance(st.value, DeferredResult):
                outputs[out.name] = {"status": status, **plain_value(st.value)}
            else:
                outputs[out.name] = plain_value(st.value)
        return outputs

    def _errors(self) -> list[dict[str, Any]]:
        errors = []
        for name, st in self._states.items():
            if str(st.status) != "failed" or st.error is None:
                continue
            err = st.error
            context = dict(getattr(err, "context", {}) or {})
            errors.append({"node": name, "type": type(err).__name__, "message": _error_message(err),
                           "context": context, "cause_type": context.get("cause_type")})
        return errors

    def _nodes(self) -> dict[str, Any]:
        ex = self.execution
        states = self._states
        counts = Counter(str(st.status) for st in states.values())
        failed_nodes = [{"node": name, "path": ex.resolver.nodes[name].path, "error": shown_text(st.error)}
                        for name, st in states.items() if str(st.status) == "failed"]
        return {"total": len(states), **{s: counts.get(s, 0) for s in ("succeeded", "failed", "pending",
                                                                           "waiting", "stale")},
                "failed_nodes": failed_nodes}

    def _collections(self) -> list[dict[str, Any]]:
        ex = self.execution
        found = []
        for name, st in self._states.items():
            value = st.value
            if isinstance(value, DeferredResult):  # a collection with unfinished items keeps what it has
                value = getattr(value, "collection", None)
            if not is_collection_result(value):
                continue
            summary = value.summary
            failed_items = [{"key": key, "type": item.get("type"), "message": item.get("message"),
                             "context": item.get("context")} for key, item in value.failed_items.items()]
            found.append({"node": name, "path": ex.resolver.nodes[name].path, "mode": summary.get("mode"),
                          "total": summary.get("total"), "succeeded": summary.get("succeeded"),
                          "failed": summary.get("failed"), "pending": summary.get("pending", 0),
                          "status": summary.get("status"),
                          "failed_items": failed_items})
        return found

    def _events(self) -> dict[str, Any]:
        events = self._events_log
        if events is None:
            raise LookupError("the event log could not be read")
        latest = events[-1] if events else None
        return {"total": len(events), "latest_type": latest.type if latest else None,
                "latest_at": iso(latest.timestamp) if latest else None,
                "by_type": dict(Counter(e.type for e in events))}

    def _llm_usage(self) -> dict[str, Any] | None:
        """Calls and tokens of the ``llm_call`` events (written by ``ig.llm`` executors), summed."""
        calls = [e.payload for e in self._events_log or () if e.type == "llm_call"]
        if not calls:
            return None
        usage = {"calls": len(calls), "cached_calls": sum(1 for p in calls if p.get("cached")),
                 "failed_calls": sum(1 for p in calls if p.get("error")),
                 "input_tokens": sum(int(p.get("input_tokens") or 0) for p in calls),
                 "output_tokens": sum(int(p.get("output_tokens") or 0) for p in calls)}
        unreported = sum(1 for p in calls if p.get("usage_reported") is False)
        if unreported:  # the token sums leave these calls out: the provider did not say
            usage["unreported_calls"] = unreported
        return usage

    # ---- workflow fields ---------------------------------------------------------------------------------
    # `waiting_on` and `blocked_nodes` come from node states and exist for every execution. The others are
    # read from `execution.workflow` (set by igniter_nb.workflow) and appear only for workflows.
    _WORKFLOW_FIELDS = ("workflow_status", "correlation", "satisfied_events", "last_external_event", "signals")

    def _workflow(self) -> dict[str, Any]:
        ex = self.execution
        nodes = ex.resolver.nodes
        waiting_on = [{"node": name, "event": nodes[name].event} for name, st in self._states.items()
                      if str(st.status) == "waiting" and nodes[name].kind == "await"]
        blocked = [{"node": name, "status": str(st.status), "waiting_for": list(st.waiting_for)}
                   for name, st in self._states.items() if str(st.status) in _BLOCKED]
        data: dict[str, Any] = {"waiting_on": waiting_on, "blocked_nodes": blocked}
        workflow = ex.workflow
        if isinstance(workflow, Mapping):
            correlation = workflow.get("correlation")
            if correlation is None and ex.graph.correlation_keys:
                correlation = {k: ex.inputs.get(k) for k in ex.graph.correlation_keys}
            data["workflow_status"] = workflow.get("status")
            data["correlation"] = dict(correlation) if isinstance(correlation, Mapping) else correlation
            signals = [dict(sig) if isinstance(sig, Mapping) else sig for sig in workflow.get("signals") or []]
            # Derived from the signal log unless the workflow records them itself.
            satisfied = workflow.get("satisfied_events")
            if satisfied is None:
                satisfied = [sig.get("event") for sig in signals if isinstance(sig, Mapping)]
            data["satisfied_events"] = list(satisfied)
            data["last_external_event"] = workflow.get("last_external_event") or (signals[-1] if signals else None)
            data["signals"] = signals
        return data

    # ------------------------------------------------------------------ views
    def to_dict(self) -> dict[str, Any]:
        """``{graph, execution_id, status, outputs, errors, nodes, collection_nodes, events, waiting_on,
        blocked_nodes}`` plus, for workflows, ``workflow_status, correlation, satisfied_events,
        last_external_event, signals``, and for executions that called a language model ``llm_usage``
        (``calls, cached_calls, failed_calls, input_tokens, output_tokens``)."""
        return dict(self._data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    @property
    def status(self) -> str:
        return str(self._data["status"])

    def _presented_outputs(self) -> str:
        presenters = self.execution.graph.presenters
        parts = []
        outputs = self._data["outputs"]
        for name, value in list(outputs.items())[:TABLE_LIMIT]:
            presenter = presenters.get(name)
            shown = shown_name(name)
            if presenter is None:
                parts.append(f"{shown}={_cut(inline(value))}")
                continue
            try:
                if isinstance(presenter, str):  # a method name of the contract class
                    presenter = getattr(self.contract, presenter)
                presented = call_with_declared(presenter, {"value": value, "contract": self.contract,
                                                           "execution": self.execution, "output": name})
            except Exception as exc:
                parts.append(f"{shown}={_cut(inline(value))} [presenter failed: {type(exc).__name__}: {_cut(exc)}]")
                continue
            parts.append(f"{shown}={_cut(presented if isinstance(presented, str) else inline(presented))}")
        if len(outputs) > TABLE_LIMIT:
            parts.append(f"… {len(outputs) - TABLE_LIMIT:,} more")
        return ", ".join(parts) if parts else "none"

    def _node_counts(self) -> str:
        n = self._data["nodes"]
        return (f"total={n['total']}, succeeded={n['succeeded']}, failed={n['failed']}, pending={n['pending']}, "
                f"waiting={n['waiting']}, stale={n['stale']}")

    def _collection_words(self, item: Mapping[str, Any], *, with_failures: bool) -> str:
        text = f"{shown_name(item['node'])} total={item['total']} succeeded={item['succeeded']} failed={item['failed']}"
        if item.get("pending"):
            text += f" pending={item['pending']}"
        text += f" status={item['status']}"
        if with_failures and item["failed_items"]:
            text += " failed_items=" + _listed([f"{_cut(f['key'])}({_cut(f['message'])})" for f in item["failed_items"]])
        return text

    def _workflow_lines(self) -> list[tuple[str, str]]:
        """``(label, text)`` pairs for the workflow part (empty for a plain execution)."""
        d = self._data
        rows: list[tuple[str, str]] = []
        if "workflow_status" in d:
            correlation = d.get("correlation") or {}
            corr = ", ".join(f"{k}={_cut(inline(v))}" for k, v in correlation.items()) \
                if isinstance(correlation, Mapping) else _cut(inline(correlation))
            rows.append(("Workflow", f"{d['workflow_status']}" + (f" correlation={corr}" if corr else "")))
        if d["waiting_on"]:
            rows.append(("Waiting On", _listed([f"{shown_name(w['node'])}(event={shown_name(w['event'])})"
                                                for w in d["waiting_on"]])))
        if d["blocked_nodes"]:
            rows.append(("Blocked Nodes", _listed([f"{shown_name(b['node'])}(waiting_for="
                                                   f"{_listed([shown_name(w) for w in b['waiting_for']], ',')})"
                                                   for b in d["blocked_nodes"]])))
        if "signals" in d:
            last = d.get("last_external_event")
            last_type = last.get("event") if isinstance(last, Mapping) else last
            rows.append(("Signals", f"total={len(d['signals'])}, satisfied={','.join(map(str, d['satisfied_events'])) or 'none'}"
                                    f", last={last_type or 'none'}"))
        return rows

    def _llm_words(self) -> str:
        u = self._data["llm_usage"]
        words = (f"calls={u['calls']} (cached={u['cached_calls']}, failed={u['failed_calls']}), "
                 f"input_tokens={u['input_tokens']}, output_tokens={u['output_tokens']}")
        if u.get("unreported_calls"):
            words += f" (usage not reported for {u['unreported_calls']} of the calls)"
        return words

    def to_text(self) -> str:
        d = self._data
        lines = [
            f"Diagnostics {shown_name(d['graph'])}",
            f"Execution {d['execution_id']}",
            f"Status: {d['status']}",
            f"Outputs: {self._presented_outputs()}",
            f"Nodes: {self._node_counts()}",
        ]
        failed = d["nodes"]["failed_nodes"]
        if failed:
            lines.append("Failed Nodes: " + _listed([f"{shown_name(f['node'])}({_cut(f['error'])})" for f in failed]))
        if d["collection_nodes"]:
            lines.append("Collections: " + "; ".join(self._collection_words(c, with_failures=True)
                                                     for c in d["collection_nodes"]))
        lines.extend(f"{label}: {text}" for label, text in self._workflow_lines())
        if "llm_usage" in d:
            lines.append(f"LLM: {self._llm_words()}")
        errors = d["errors"]
        lines.append("Errors: " + (_listed([f"{shown_name(e['node'])}={e['type']}" for e in errors]) if errors else "none"))
        events = d["events"]
        lines.append(f"Events: total={events['total']}, latest={events['latest_type'] or 'none'}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The report as Markdown. Values, correlation values and error messages are user text: ``markdown_text``
        keeps them text (no tag, link or code span), so the Markdown is safe to render."""
        d = self._data
        lines = [
            f"# Diagnostics {markdown_text(shown_name(d['graph']))}",  # (a graph name is any text: ig.compile(name=))
            "",
            f"- Execution: {markdown_code(str(d['execution_id']))}",
            f"- Status: `{d['status']}`",
            f"- Outputs: {markdown_text(self._presented_outputs())}",
            f"- Nodes: {self._node_counts()}",
        ]
        if d["collection_nodes"]:
            lines.append("- Collections: " + markdown_text("; ".join(self._collection_words(c, with_failures=False)
                                                                     for c in d["collection_nodes"])))
        lines.extend(f"- {label}: {markdown_text(text)}" for label, text in self._workflow_lines())
        if "llm_usage" in d:
            lines.append(f"- LLM: {self._llm_words()}")
        events = d["events"]
        lines.append(f"- Events: total={events['total']}, latest={events['latest_type'] or 'none'}")
        if d["errors"]:
            lines += ["", "## Errors"]
            lines.extend(f"- `{shown_name(e['node'])}`: {markdown_text(_cut(e['message']))}" for e in d["errors"][:LISTED_ITEMS])
            if len(d["errors"]) > LISTED_ITEMS:
                lines.append(f"- … {len(d['errors']) - LISTED_ITEMS:,} more errors")
        if d["collection_nodes"]:
            lines += ["", "## Collections"]
            for c in d["collection_nodes"]:
                lines.append(f"- `{shown_name(c['node'])}`: total={c['total']}, succeeded={c['succeeded']}, failed={c['failed']}, "
                             f"status={c['status']}")
                lines.extend(f"- {markdown_code(shown_name(c['node']) + '[' + _cut(f['key']) + ']')} failed: "
                             f"{markdown_text(_cut(f['message']))}" for f in c["failed_items"][:LISTED_ITEMS])
                if len(c["failed_items"]) > LISTED_ITEMS:
                    lines.append(f"- … {len(c['failed_items']) - LISTED_ITEMS:,} more failed items")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from igniter_nb.notebook.reprs import report_mimebundle
        except ImportError:
            return {"text/plain": self.to_text()}
        bundle: dict[str, Any] = report_mimebundle(self)
        return bundle


def _contract_of(execution: Any) -> Any:
    """The execution's contract, or None when it has none or it no longer exists (the report then shows what
    the execution alone knows)."""
    try:
        return getattr(execution, "contract", None)
    except ReferenceError:
        return None


__all__ = ["LISTED_ITEMS", "TEXT_LIMIT", "Report", "collection_data", "collection_keys", "inline", "is_collection_result",
           "is_result", "markdown_code", "markdown_text", "plain_value"]
