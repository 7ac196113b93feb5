"""What ``igniter-nb new contract`` generates: a contract described by names only, checked as a whole."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from igniter_nb.scaffold.names import (
    await_node_name,
    class_name_problem,
    event_name_problem,
    identifier_problem,
)


class ScaffoldError(Exception):
    """The generator cannot write what was asked. ``problems`` lists every reason (each names its argument);
    nothing has been written."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n  ".join(self.problems))


DEFINE_READS = {
    "c": "the builder that define(c) receives",
    "Any": "the type the generated functions are annotated with",
    "dict": "which the generated functions' return annotation `dict[str, Any]` reads (the module would fail when "
            "imported)",
    "str": "which the generated functions' return annotation `dict[str, Any]` reads (the module would fail when "
           "imported)",
}
"""The names the generated ``define(c)`` reads, which no output (a function defined in it) may take."""


@dataclass(frozen=True, slots=True)
class Await:
    """An awaited event and the await node that receives its payload."""

    event: str
    node: str


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """A contract to generate: inputs, correlation keys (a subset of the inputs), awaited events and outputs,
    each output computed from every input and awaited payload."""

    class_name: str
    inputs: tuple[str, ...]
    correlate_by: tuple[str, ...] = ()
    awaits: tuple[Await, ...] = ()
    outputs: tuple[str, ...] = ("result",)

    @property
    def is_workflow(self) -> bool:
        return bool(self.correlate_by)

    @property
    def dependencies(self) -> tuple[str, ...]:
        """What each output's compute reads: the inputs, then the await nodes."""
        return self.inputs + tuple(a.node for a in self.awaits)


def contract_spec(name: str, *, inputs: Sequence[str], correlate_by: Sequence[str] = (),
                  awaits: Sequence[str] = (), outputs: Sequence[str] = ("result",)) -> ContractSpec:
    """Check every name and how they fit together; raise :class:`ScaffoldError` listing all problems."""
    problems: list[str] = []
    add = problems.append
    if problem := class_name_problem(name):
        add(problem)

    if not inputs:
        add("--inputs: a contract needs at least one input")
    for argument, names in (("--inputs", inputs), ("--correlate-by", correlate_by), ("--outputs", outputs)):
        problems += [p for n in names if (p := identifier_problem(n, argument))]
        problems += _repeated(argument, names)
    problems += [p for e in awaits if (p := event_name_problem(e))]
    problems += _repeated("--awaits", awaits)
    receivers: dict[str, str] = {}
    for event in dict.fromkeys(awaits):
        other = receivers.setdefault(await_node_name(event), event)
        if other != event:
            add(f"--awaits: events {other!r} and {event!r} would both be received by the await node "
                f"{await_node_name(event)!r}; rename one")
    if not outputs:
        add("--outputs: a contract needs at least one output (the reference's generator wrote none, and its "
            "contract could not load: L-24)")

    for key in correlate_by:
        if key not in inputs:
            add(f"--correlate-by: {key!r} is not one of --inputs ({', '.join(inputs)}): correlation keys are inputs")
    if awaits and not correlate_by:
        add("--awaits needs --correlate-by: a delivered event finds its workflow by the workflow's correlation keys")

    # One namespace for every node: an input, an await node and an output cannot share a name.
    owners: dict[str, str] = {}
    for argument, names in (("--inputs", inputs), ("--awaits", [await_node_name(e) for e in awaits]),
                            ("--outputs", outputs)):
        for node in dict.fromkeys(names):
            if node in owners and owners[node] != argument:
                add(f"{argument}: {node!r} is already a name in {owners[node]}; every input, awaited event and "
                    "output needs its own name")
            owners.setdefault(node, argument)
    # Each output becomes a function defined inside define(c): a local name there, which every line of define that
    # reads a name of the same spelling then reads instead (before it is defined: an UnboundLocalError at import).
    problems += [f"--outputs: {name!r} would replace `{name}`, {what}; choose another name"
                 for name, what in DEFINE_READS.items() if name in outputs]
    if problems:
        raise ScaffoldError(list(dict.fromkeys(problems)))
    return ContractSpec(
        class_name=name,
        inputs=tuple(inputs),
        correlate_by=tuple(correlate_by),
        awaits=tuple(Await(event=e, node=await_node_name(e)) for e in awaits),
        outputs=tuple(outputs),
    )


def _repeated(argument: str, names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    twice: list[str] = []
    for name in names:
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    return [f"{argument}: {name!r} is given twice" for name in twice]
