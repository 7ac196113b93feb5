"""Widgets as thin views over plain objects: ``InputPlayground`` and ``SnapshotStepper``.

Each object works from plain Python (tests drive it without a browser); ``obj.widget`` is its ipywidgets 8
view, built on first use; displaying ``obj`` shows the widget where a front end can render it and static
HTML/text everywhere else (the bundle carries both).
"""

from __future__ import annotations

import contextlib
import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from igniter_nb.notebook import html as h
from igniter_nb.notebook.render import Engine, render_graph

# --------------------------------------------------------------------------------------------- playground


@dataclass(frozen=True, slots=True)
class ChangeReport:
    """What one ``InputPlayground.set`` did: inputs that really changed, nodes invalidated by them, nodes
    that recomputed when the outputs were read again (state version moved), and the status after."""

    changed: tuple[str, ...]
    invalidated: tuple[str, ...]
    recomputed: tuple[str, ...]
    status: str
    outputs: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"changed": list(self.changed), "invalidated": list(self.invalidated),
                "recomputed": list(self.recomputed), "status": self.status, "outputs": dict(self.outputs)}

    def to_text(self) -> str:
        def names(items: tuple[str, ...]) -> str:
            return ", ".join(items) if items else "none"

        return (f"changed: {names(self.changed)}\ninvalidated: {names(self.invalidated)}\n"
                f"recomputed: {names(self.recomputed)}\nstatus: {self.status}")

    def to_html(self) -> str:
        rows = [["changed", ", ".join(self.changed) or "none"], ["invalidated", ", ".join(self.invalidated) or "none"],
                ["recomputed", ", ".join(self.recomputed) or "none"], ["status", self.status]]
        return h.table(rows, ["", "nodes"], status_column=None)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": self.to_text(), "text/html": self.to_html()}


def control_kind(node: Any) -> str:
    """Which control an input gets: ``int``, ``float``, ``bool``, ``text``, ``choice`` or ``json``."""
    spec = node.type_spec
    name = (node.type_name or "").lower()
    if name in ("integer", "int"):
        return "int"
    if name in ("float", "numeric"):
        return "float"
    if name in ("boolean", "bool"):
        return "bool"
    if name in ("string", "str", "symbol"):
        return "text"
    if typing.get_origin(spec) is typing.Literal:
        return "choice"
    return "json"


class InputPlayground:
    """Change a contract's inputs and see what was invalidated and recomputed.

    >>> pg = ig.nb.InputPlayground(PriceContract(order_total=100, country="UA"))
    >>> pg.set(order_total=150).recomputed
    ('gross_total',)
    """

    def __init__(self, contract: Any, *, engine: Engine = "auto") -> None:
        self.contract = contract
        self.engine = engine
        self.graph = contract.execution.graph
        self.inputs = [n for n in self.graph.nodes if n.kind == "input"]
        self.history: list[ChangeReport] = []
        self._widget: Any = None
        contract.execution.resolve_all()

    @property
    def last(self) -> ChangeReport | None:
        return self.history[-1] if self.history else None

    def value_of(self, name: str) -> Any:
        ex = self.contract.execution
        if name in ex.inputs:
            return ex.inputs[name]
        st = ex.states.get(name)
        return st.value if st is not None else None

    def set(self, **inputs: Any) -> ChangeReport:
        """Update inputs (validated; nothing applies if one is invalid), re-read every output, and report."""
        ex = self.contract.execution
        previous = {n: ex.states[n].version if n in ex.states else None for n in inputs}
        invalidated = ex.update_inputs(inputs)
        # update_inputs rewrites the state of an input only when its value really changed.
        changed = tuple(n for n in inputs if n in ex.states and ex.states[n].version != previous[n])
        versions = {name: st.version for name, st in ex.states.items()}
        ex.resolve_all()
        order = {name: i for i, name in enumerate(self.graph.resolution_order)}
        recomputed = tuple(sorted(
            (name for name, st in ex.states.items() if name not in inputs
             and (name not in versions or st.version != versions[name])),
            key=lambda n: (order.get(n, len(order)), n)))
        outputs = {}
        for out in self.graph.outputs:
            st = ex.output_state(out.name)
            outputs[out.name] = st.value if str(st.status) == "succeeded" else str(st.status)
        from igniter_nb.notebook.reprs import view_status

        report = ChangeReport(changed, tuple(invalidated), recomputed, view_status(ex), outputs)
        self.history.append(report)
        if self._widget is not None:
            self._refresh()
        return report

    # ------------------------------------------------------------------ views
    def svg(self) -> str:
        ex = self.contract.execution
        from igniter_nb.notebook.reprs import view_status

        return render_graph(self.graph, states=ex.states, status=view_status(ex), engine=self.engine)

    def to_html(self) -> str:
        rows = [[n.name, n.type_name or "any", self.value_of(n.name)] for n in self.inputs]
        parts = [h.heading(f"InputPlayground {self.graph.name}"), h.table(rows, ["input", "type", "value"],
                                                                           status_column=None)]
        if self.last is not None:
            parts.append(self.last.to_html())
        parts.append(self.svg())
        return "".join(parts)

    def to_text(self) -> str:
        lines = [f"InputPlayground {self.graph.name}"]
        lines.extend(f"  {n.name} = {h.short(self.value_of(n.name))}" for n in self.inputs)
        if self.last is not None:
            lines.append(self.last.to_text())
        return "\n".join(lines)

    @property
    def widget(self) -> Any:
        """The ipywidgets view: one control per input; each change calls ``set`` and redraws."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _control(self, node: Any) -> Any:
        import ipywidgets as w

        kind = control_kind(node)
        value = self.value_of(node.name)
        common = {"description": node.name, "continuous_update": False,
                  "style": {"description_width": "initial"}}
        if kind == "int":
            return w.IntText(value=value if isinstance(value, int) else 0, **common)
        if kind == "float":
            return w.FloatText(value=float(value) if isinstance(value, int | float) else 0.0, **common)
        if kind == "bool":
            return w.Checkbox(value=bool(value), description=node.name)
        if kind == "text":
            return w.Text(value="" if value is None else str(value), **common)
        if kind == "choice":
            options = list(typing.get_args(node.type_spec))
            return w.Dropdown(options=options, value=value if value in options else options[0], description=node.name)
        return w.Textarea(value=json.dumps(value, default=repr), **common)

    def _build(self) -> Any:
        import ipywidgets as w

        self._controls: dict[str, Any] = {}
        self._message = w.HTML()
        self._report = w.HTML()
        self._graph = w.HTML(self.svg())
        for node in self.inputs:
            control = self._control(node)
            self._controls[node.name] = control
            control.observe(self._on_change(node), names="value")
        return w.VBox([w.HTML(h.heading(f"InputPlayground {self.graph.name}")), *self._controls.values(),
                       self._message, self._report, self._graph])

    def _on_change(self, node: Any) -> Any:
        def handler(change: Mapping[str, Any]) -> None:
            value = change["new"]
            if control_kind(node) == "json":
                try:
                    value = json.loads(value)
                except ValueError as exc:
                    self._message.value = h.pre(f"{node.name}: not JSON ({exc})")
                    return
            if control_kind(node) == "int" and isinstance(self.value_of(node.name), float):
                value = float(value)
            try:
                self.set(**{node.name: value})
                self._message.value = ""
            except Exception as exc:  # an invalid value is shown, never raised into the front end
                self._message.value = h.pre(f"{type(exc).__name__}: {getattr(exc, 'message', exc)}")

        return handler

    def _refresh(self) -> None:
        if self.last is not None:
            self._report.value = self.last.to_html()
        self._graph.value = self.svg()
        for name, control in self._controls.items():
            value = self.value_of(name)
            if not isinstance(control.value, str) and control.value != value and value is not None:
                with contextlib.suppress(Exception):
                    control.value = value

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return _bundle(self, self.to_text(), self.to_html())


def _bundle(obj: Any, text: str, html: str) -> dict[str, Any]:
    """Widget view where a front end renders widgets, static HTML and text everywhere else."""
    bundle: dict[str, Any] = {"text/plain": text, "text/html": html}
    try:
        view = obj.widget._repr_mimebundle_()
    except Exception:  # no ipywidgets, or no comm: the static parts are the whole output
        return bundle
    if isinstance(view, dict) and "application/vnd.jupyter.widget-view+json" in view:
        bundle["application/vnd.jupyter.widget-view+json"] = view["application/vnd.jupyter.widget-view+json"]
    return bundle


# --------------------------------------------------------------------------------------------- stepper


class SnapshotStepper:
    """Step through an execution's history: an audit frame, a parquet file of one, or a store's saved versions.

    ``steps`` (one per audit event or stored version), ``goto(i)``, ``next()``, ``prev()`` (each returns the
    step), ``current`` (the step: a ``ReplayStep`` or a stored snapshot dict), ``current_status`` and
    ``diff()`` (``{node: (before, after)}`` against the previous step).
    """

    def __init__(self, source: Any, execution_id: str | None = None, *, graph: Any = None,
                 engine: Engine = "auto") -> None:
        from igniter_nb.notebook import frames

        self.engine = engine
        self.index = 0
        self._widget: Any = None
        self._log: frames.ReplayLog | None = None
        self._snapshots: list[dict[str, Any]] | None = None
        graph_name: str | None = None
        if hasattr(source, "history") and hasattr(source, "list"):  # a store
            if execution_id is None:
                raise ValueError("SnapshotStepper(store) needs execution_id=")
            self._snapshots = list(source.history(execution_id))
            record = source.record(execution_id)
            graph_name = record.graph
            self._final_status = record.status
        else:
            frame = frames.read_parquet(source) if isinstance(source, str) or hasattr(source, "__fspath__") else source
            if execution_id is not None:
                frame = frame[frame["execution_id"] == execution_id]
            self._log = frames.ReplayLog(frame)
            graph_name = self._log.graph
        if not len(self):
            raise ValueError("nothing to step through: the source has no events or saved versions")
        self.graph = _graph_for(graph, graph_name)

    def __len__(self) -> int:
        return len(self._log) if self._log is not None else len(self._snapshots or [])

    @property
    def steps(self) -> range:
        return range(len(self))

    # ------------------------------------------------------------------ moving
    def goto(self, index: int) -> Any:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"step {index} out of range (0..{len(self) - 1})")
        self.index = index
        if self._widget is not None:
            self._refresh()
        return self.current

    def next(self) -> Any:
        return self.goto(min(self.index + 1, len(self) - 1))

    def prev(self) -> Any:
        return self.goto(max(self.index - 1, 0))

    # ------------------------------------------------------------------ reading
    @property
    def current(self) -> Any:
        if self._log is not None:
            return self._log.step(self.index)
        assert self._snapshots is not None
        return self._snapshots[self.index]

    def statuses(self, index: int | None = None) -> dict[str, str]:
        """Node name → status at step ``index`` (default: the current step)."""
        i = self.index if index is None else index
        if self._log is not None:
            return {name: st.status for name, st in self._log.states_at(i).items()}
        assert self._snapshots is not None
        states = self._snapshots[i].get("states") or {}
        return {str(k): str(v.get("status")) for k, v in states.items() if isinstance(v, Mapping)}

    def _states(self, index: int) -> dict[str, Any]:
        if self._log is not None:
            return {name: st._asdict() for name, st in self._log.states_at(index).items()}
        assert self._snapshots is not None
        states = self._snapshots[index].get("states") or {}
        return {str(k): dict(v) for k, v in states.items() if isinstance(v, Mapping)}

    @property
    def current_status(self) -> str:
        """The execution's status at this step (worst node status; a store's own status at its last version)."""
        if self._snapshots is not None:
            snap = self._snapshots[self.index]
            workflow = snap.get("workflow") if isinstance(snap.get("workflow"), Mapping) else {}
            status = (workflow or {}).get("status") or snap.get("status")
            if status:
                return str(status)
            if self.index == len(self) - 1 and self._final_status:
                return str(self._final_status)
        found = set(self.statuses().values())
        for status in ("failed", "waiting", "pending", "running", "stale"):
            if status in found:
                return status
        return "succeeded" if found else "unresolved"

    def diff(self) -> dict[str, tuple[str, str]]:
        """Nodes whose status changed since the previous step: name → (before, after)."""
        before = self.statuses(self.index - 1) if self.index > 0 else {}
        after = self.statuses()
        changed: dict[str, tuple[str, str]] = {}
        for name in sorted({*before, *after}):
            old, new = before.get(name, "unresolved"), after.get(name, "unresolved")
            if old != new:
                changed[name] = (old, new)
        return changed

    def describe(self) -> str:
        step = self.current
        what = f"{step.type} {step.node or ''}".strip() if self._log is not None else f"version {self.index + 1}"
        return f"step {self.index + 1}/{len(self)}: {what} — {self.current_status}"

    # ------------------------------------------------------------------ views
    def svg(self) -> str | None:
        if self.graph is None:
            return None
        return render_graph(self.graph, states=self._states(self.index), status=self.current_status,
                            engine=self.engine)

    def to_html(self) -> str:
        rows = [[name, old, new] for name, (old, new) in self.diff().items()]
        parts = [h.heading(f"SnapshotStepper {getattr(self.graph, 'name', '')}".strip(), self.current_status,
                           self.describe()),
                 h.table(rows, ["node", "before", "status"])]
        svg = self.svg()
        if svg:
            parts.append(svg)
        return "".join(parts)

    def to_text(self) -> str:
        lines = [self.describe()]
        lines.extend(f"  {name}: {old} -> {new}" for name, (old, new) in self.diff().items())
        return "\n".join(lines)

    @property
    def widget(self) -> Any:
        """Slider, play, previous/next buttons, the coloured graph and the diff."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self) -> Any:
        import ipywidgets as w

        self._slider = w.IntSlider(value=self.index, min=0, max=len(self) - 1, description="step",
                                   continuous_update=False)
        self._play = w.Play(value=self.index, min=0, max=len(self) - 1, interval=500)
        w.jslink((self._play, "value"), (self._slider, "value"))
        back, forward = w.Button(description="◀ prev"), w.Button(description="next ▶")
        back.on_click(lambda _: self.prev())
        forward.on_click(lambda _: self.next())
        self._body = w.HTML(self.to_html())
        self._slider.observe(lambda change: self.goto(int(change["new"])), names="value")
        return w.VBox([w.HBox([self._play, back, self._slider, forward]), self._body])

    def _refresh(self) -> None:
        if self._slider.value != self.index:
            self._slider.value = self.index
        self._body.value = self.to_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return _bundle(self, self.to_text(), self.to_html())


def _graph_for(graph: Any, name: str | None) -> Any:
    """A ``CompiledGraph`` from what was given (graph, contract class or instance) or the registry by name."""
    if graph is not None:
        if hasattr(graph, "nodes") and hasattr(graph, "dep_plan"):
            return graph
        inner = getattr(graph, "graph", None) or getattr(getattr(graph, "execution", None), "graph", None)
        if inner is not None:
            return inner
        raise TypeError(f"graph= must be a CompiledGraph, a contract class or a contract, got {graph!r}")
    if name:
        from igniter_nb.compiler.registry import lookup_contract

        cls = lookup_contract(name)
        if cls is not None:
            return cls.compiled_graph()
    return None


__all__ = ["ChangeReport", "InputPlayground", "SnapshotStepper", "control_kind"]
