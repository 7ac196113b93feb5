"""The SnapshotStepper's ipywidgets 8 view: play, previous/next, a step slider, the diff table and the graph.

Steps on screen are counted from 1 — the slider runs 1..N and the heading reads ``step i/N`` — while
``goto(i)`` takes the 0-based index of ``stepper.steps``, like any Python sequence.

A view keeps its own step. Its controls move it *and* the stepper (so ``stepper.current`` in the next cell is
what the view shows), but the stepper moving does not move views displayed earlier: a view shown in a cell keeps
showing that cell's step after later cells call ``goto``. Only the stepper's live view (``stepper.widget``)
follows the stepper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb.notebook.delivery import error_html, error_record

if TYPE_CHECKING:
    from igniter_nb.notebook.stepper import SnapshotStepper


class StepperView:
    """One view of a stepper at step ``index`` (0-based); ``live`` views follow ``stepper.goto``. ``root`` is the
    widget; ``slider`` (1..N), ``play``, ``back``, ``forward`` and ``body`` (the step's HTML) are its parts."""

    def __init__(self, stepper: SnapshotStepper, index: int, *, live: bool) -> None:
        from igniter_nb.notebook.extras import ipywidgets

        w = ipywidgets()

        self.stepper = stepper
        self.index = index
        self.live = live
        last = len(stepper)
        self.slider = w.IntSlider(value=index + 1, min=1, max=last, description="step", continuous_update=False,
                                  readout_format="d")
        self.play = w.Play(value=index + 1, min=1, max=last, interval=700, description="play")
        w.jslink((self.play, "value"), (self.slider, "value"))
        self.back, self.forward = w.Button(description="◀ prev"), w.Button(description="next ▶")
        self.count = w.Label(f"of {last}")
        self.refused = ""  # why the last move was refused (a server that stopped), shown above the step; else ""
        self.body = w.HTML(stepper.to_html(index))
        self.back.on_click(lambda _: self.show(max(self.index - 1, 0)))
        self.forward.on_click(lambda _: self.show(min(self.index + 1, last - 1)))
        self._quiet = False
        self.slider.observe(self._on_slider, names="value")
        self.root = w.VBox([w.HBox([self.play, self.back, self.slider, self.count, self.forward]), self.body])
        self.root.add_class("igniter-snapshot-stepper")

    def show(self, index: int, *, move_stepper: bool = True) -> None:
        """Show step ``index``; with ``move_stepper`` (a click in this view) the stepper moves there too. A step
        that cannot be read (its page of a server's history, the server stopped) is refused: ``refused`` says why,
        above the step still shown, and the view, its slider and the stepper stay where they were (ipywidgets only
        logs what a click handler raises)."""
        try:
            body = self.stepper.to_html(index)
        except Exception as exc:
            record = error_record(exc)
            shown = self.body.value[len(self.refused):]
            self.refused = error_html(record["type"], f"step {index + 1} was not shown: {record['message']}")
            self.body.value = self.refused + shown
            self._slide_to(self.index)
            return
        self.refused = ""
        self.index = index
        self.body.value = body
        self._slide_to(index)
        if move_stepper and self.stepper.index != index:
            self.stepper.goto(index)

    def _slide_to(self, index: int) -> None:
        if self.slider.value != index + 1:
            self._quiet = True  # the slider follows; its change is not a new request
            try:
                self.slider.value = index + 1
            finally:
                self._quiet = False

    def redraw(self) -> None:
        """Draw this view's step again (the stepper's live updates changed state: its heading says so)."""
        self.body.value = self.refused + self.stepper.to_html(self.index)

    def grew(self) -> None:
        """The stepper got new steps (``live=True``): the slider reaches them, and a view that was at the last step
        moves on to the new last one."""
        last = len(self.stepper)
        at_end = self.index == self.slider.max - 1
        self._quiet = True
        try:
            self.slider.max = self.play.max = last
        finally:
            self._quiet = False
        self.count.value = f"of {last}"
        if at_end:
            self.show(last - 1, move_stepper=False)
        else:
            self.body.value = self.stepper.to_html(self.index)  # the heading's "step i/N" counts the new steps

    def _on_slider(self, change: Any) -> None:
        if not self._quiet and int(change["new"]) - 1 != self.index:
            self.show(int(change["new"]) - 1)


__all__ = ["StepperView"]
