"""Widgets as thin views over plain objects: ``InputPlayground`` (``SnapshotStepper`` is in ``stepper.py``).

Each object works from plain Python (tests drive it without a browser); ``obj.widget`` is its ipywidgets 8
view, built on first use; displaying ``obj`` shows the widget where a front end can render it and static
HTML/text everywhere else (the bundle carries both).
"""

from __future__ import annotations

import contextlib
import json
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from igniter_nb.notebook import html as h
from igniter_nb.notebook.render import Engine, render_graph
from igniter_nb.runtime.states import named_states_now
from igniter_nb.runtime.workers import lock_to_take

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: Room an input box of the InputPlayground keeps beside its label (ipywidgets gives a whole control 300 px).
INPUT_WIDTH = "240px"
#: Characters of an input's label in the InputPlayground (a longer name is cut in the middle: ``_label``).
LABEL_LIMIT = 30

# --------------------------------------------------------------------------------------------- playground


@dataclass(frozen=True, slots=True)
class ChangeReport:
    """What one ``InputPlayground.set`` did: inputs that really changed, nodes invalidated by them, nodes
    that recomputed when the outputs were read again (state version moved), the status after, and ``errors``:
    node → message for each node that failed on its own (a guard's message, the exception's text) — nodes that
    failed only because a dependency did are left out."""

    changed: tuple[str, ...]
    invalidated: tuple[str, ...]
    recomputed: tuple[str, ...]
    status: str
    outputs: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (lists of node names, status, outputs, errors)."""
        return {"changed": list(self.changed), "invalidated": list(self.invalidated),
                "recomputed": list(self.recomputed), "status": self.status, "outputs": dict(self.outputs),
                "errors": dict(self.errors)}

    def to_text(self) -> str:
        """One line each for changed, invalidated and recomputed nodes, the status, and each failure."""
        def names(items: tuple[str, ...]) -> str:
            return ", ".join(items) if items else "none"

        lines = [f"changed: {names(self.changed)}", f"invalidated: {names(self.invalidated)}",
                 f"recomputed: {names(self.recomputed)}", f"status: {self.status}"]
        lines.extend(f"failed: {node}: {message}" for node, message in self.errors.items())
        return "\n".join(lines)

    def to_html(self) -> str:
        """The same as ``to_text``, as an HTML table."""
        rows = [["changed", ", ".join(self.changed) or "none"], ["invalidated", ", ".join(self.invalidated) or "none"],
                ["recomputed", ", ".join(self.recomputed) or "none"], ["status", self.status]]
        rows.extend([f"failed: {node}", message] for node, message in self.errors.items())
        return h.table(rows, ["", "nodes"], status_column=None)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return h.sendable({"text/plain": self.to_text(), "text/html": self.to_html()})  # type: ignore[no-any-return]


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
        from igniter_nb.runtime.execution import Execution

        if not isinstance(getattr(contract, "execution", None), Execution):
            raise TypeError(f"InputPlayground needs a contract instance (e.g. PriceContract(order_total=1)), got "
                            f"{type(contract).__name__} {contract!r:.80}")
        self.contract = contract
        self.engine = engine
        self.graph = contract.execution.graph
        self.inputs = [n for n in self.graph.nodes if n.kind == "input"]
        self.history: list[ChangeReport] = []
        self._widget: Any = None
        contract.execution.resolve_all()

    @property
    def last(self) -> ChangeReport | None:
        """The report of the latest ``set``, or None before the first."""
        return self.history[-1] if self.history else None

    def value_of(self, name: str) -> Any:
        """The current value of input ``name``: as given, else its resolved default; None before it has one."""
        ex = self.contract.execution
        if name in ex.inputs:
            return ex.inputs[name]
        st = ex.states.get(name)
        return st.value if st is not None else None

    def set(self, **inputs: Any) -> ChangeReport:
        """Update inputs (validated; nothing applies if one is invalid), re-read every output, and report.

        One step to other threads sharing the contract: it holds the execution's lock — the one ``update_inputs``,
        ``resume`` and a resolution take (``runtime/workers.lock_to_take``) — from its first read to the report, so
        another thread's change lands before or after it, never between its reads; and it reads the states as
        one-instant copies (``runtime/states.py``), never by walking the live dictionary."""
        ex = self.contract.execution
        lock = lock_to_take(ex)  # (None on a threads-runner worker of this execution: its caller holds it)
        with lock if lock is not None else contextlib.nullcontext():
            report = self._set(ex, inputs)
        self.history.append(report)
        if self._widget is not None:
            self._refresh()
        return report

    def _set(self, ex: Any, inputs: dict[str, Any]) -> ChangeReport:
        before = named_states_now(ex.states)
        previous = {n: before[n].version if n in before else None for n in inputs}
        invalidated = ex.update_inputs(inputs)
        # update_inputs rewrites the state of an input only when its value really changed.
        versions = {name: st.version for name, st in named_states_now(ex.states).items()}
        changed = tuple(n for n in inputs if n in versions and versions[n] != previous[n])
        ex.resolve_all()
        after = named_states_now(ex.states)
        order = {name: i for i, name in enumerate(self.graph.resolution_order)}
        recomputed = tuple(sorted(
            (name for name, st in after.items() if name not in inputs
             and (name not in versions or st.version != versions[name])),
            key=lambda n: (order.get(n, len(order)), n)))
        outputs = {}
        for out in self.graph.outputs:
            st = ex.output_state(out.name)
            outputs[out.name] = st.value if str(st.status) == "succeeded" else str(st.status)
        from igniter_nb.notebook.reprs import view_status

        return ChangeReport(changed, tuple(invalidated), recomputed, view_status(ex), outputs,
                            _own_errors(after, order))

    # ------------------------------------------------------------------ views
    def svg(self) -> str:
        """The contract's graph coloured by the current node states, as SVG."""
        ex = self.contract.execution
        from igniter_nb.notebook.reprs import view_status

        return render_graph(self.graph, states=named_states_now(ex.states), status=view_status(ex), engine=self.engine)

    def to_html(self) -> str:
        """The static view: inputs with their types and values, the latest change report and the graph."""
        rows = [[n.name, n.type_name or "any", self.value_of(n.name)] for n in self.inputs]
        parts = [h.heading(f"InputPlayground {self.graph.name}"), h.table(rows, ["input", "type", "value"],
                                                                           status_column=None)]
        if self.last is not None:
            parts.append(self.last.to_html())
        parts.append(self.svg())
        return "".join(parts)

    def to_text(self) -> str:
        """The inputs and their values, and the latest change report, as text."""
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
        from igniter_nb.notebook.extras import ipywidgets

        w = ipywidgets()

        kind = control_kind(node)
        value = self.value_of(node.name)
        # one label width for every control, so the input boxes line up; the control is that much wider than
        # ipywidgets' 300 px, so a long name leaves its box INPUT_WIDTH (it took the whole 300 px: a 27 px box
        # showed '1' of '10' over two lines), and never wider than the output area
        width = f"{min(max((len(n.name) for n in self.inputs), default=4), LABEL_LIMIT) + 2}ch"
        labelled = {"description": _label(node.name), "tooltip": node.name, "style": {"description_width": width},
                    "layout": {"width": f"calc({width} + {INPUT_WIDTH})", "max_width": "100%"}}
        common = {**labelled, "continuous_update": False}
        if kind == "int":
            return w.IntText(value=value if isinstance(value, int) else 0, **common)
        if kind == "float":
            return w.FloatText(value=float(value) if isinstance(value, int | float) else 0.0, **common)
        if kind == "bool":
            return w.Checkbox(value=bool(value), **labelled)
        if kind == "text":
            return w.Text(value="" if value is None else str(value), **common)
        if kind == "choice":
            options = list(typing.get_args(node.type_spec))
            return w.Dropdown(options=options, value=value if value in options else options[0], **labelled)
        return w.Textarea(value=_editor_text(value), **common)

    def _build(self) -> Any:
        from igniter_nb.notebook.extras import ipywidgets

        w = ipywidgets()

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


def _label(name: str) -> str:
    """An input's label: its name, or past ``LABEL_LIMIT`` characters its start, ``…`` and its end (the whole name is
    the control's tooltip). The label box cut a long name at its end: ``input_with_a_rather_long_name_number_0`` to
    ``_11`` all read ``input_with_a_rather_long_name_numb…``, twelve boxes no one could tell apart."""
    if len(name) <= LABEL_LIMIT:
        return name
    head = (LABEL_LIMIT - 1) // 2
    return name[:head] + "…" + name[-(LABEL_LIMIT - 1 - head):]


def _editor_text(value: Any) -> str:
    """The JSON an input's text box starts with. A value JSON cannot hold (one that contains itself, nests past the
    recursion limit, an object whose ``repr`` raises) starts as the JSON string of its display text
    (``html.text_of``): the playground's widget failed to build, and its output lost the widget."""
    try:
        return json.dumps(value, default=repr)
    except Exception:
        return json.dumps(h.text_of(value))


def _own_errors(states: Mapping[str, Any], order: Mapping[str, int]) -> dict[str, str]:
    """Node → error message of each failed node whose error is its own (not a dependency's), in resolution
    order; ``states`` is a one-instant copy (``runtime/states.named_states_now``)."""
    found: dict[str, str] = {}
    for name in sorted(states, key=lambda n: (order.get(n, len(order)), n)):
        st = states[name]
        err = st.error
        if str(st.status) != "failed" or err is None or getattr(err, "node", None) not in (None, name):
            continue
        message = getattr(err, "message", None)
        found[name] = str(message if isinstance(message, str) and message else err).split("\n", 1)[0]
    return found


def _bundle(obj: Any, text: str, html: str) -> dict[str, Any]:
    """Widget view where a front end renders widgets, static HTML and text everywhere else."""
    return bundle_with_view(lambda: obj.widget, text, html)


def bundle_with_view(make_view: Callable[[], Any], text: str, html: str) -> dict[str, Any]:
    """``text/plain`` and ``text/html``, plus the widget ``make_view()`` returns where ipywidgets can show it."""
    bundle: dict[str, Any] = h.sendable({"text/plain": text, "text/html": html})
    try:
        view = make_view()._repr_mimebundle_()
    except Exception:  # no ipywidgets, or no comm: the static parts are the whole output
        return bundle
    if isinstance(view, dict) and WIDGET_MIME in view:
        bundle[WIDGET_MIME] = view[WIDGET_MIME]
    return bundle


def __getattr__(name: str) -> Any:
    # SnapshotStepper lives in ``notebook/stepper.py``; kept importable from here.
    if name == "SnapshotStepper":
        from igniter_nb.notebook.stepper import SnapshotStepper

        return SnapshotStepper
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ChangeReport", "InputPlayground", "control_kind"]
