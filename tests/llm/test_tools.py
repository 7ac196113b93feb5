"""Tools from functions (signature + docstring) and pydantic models, checked when the executor class is made."""

from __future__ import annotations

from typing import Literal

import pydantic
import pytest

import igniter_nb as ig
from igniter_nb.llm.conversation import ToolCall
from igniter_nb.llm.testing import StubReply
from igniter_nb.llm.tools import make_tool, parse_docstring
from tests.llm.llm_contracts import executor_class


def book_flight(origin: str, destination: str, seats: int = 1, cabin: Literal["economy", "business"] = "economy",
                *, notes: str | None = None) -> dict:
    """Book a flight for the traveller.

    Checks availability first.

    Args:
        origin: IATA code of the departure airport
        destination: IATA code of the arrival
            airport (continued on a second line)
        seats (int): how many seats
    Returns:
        the booking
    """
    return {"from": origin, "to": destination, "seats": seats, "cabin": cabin, "notes": notes}


class Refund(pydantic.BaseModel):
    """Refund a booking."""

    booking_id: str
    amount: float = pydantic.Field(gt=0, description="in euros")


def test_a_function_tool_takes_its_schema_from_signature_and_docstring():
    tool = make_tool(book_flight)
    assert tool.name == "book_flight"
    assert tool.description == "Book a flight for the traveller.\n\nChecks availability first."
    schema = tool.parameters
    assert schema["type"] == "object" and "title" not in schema
    assert schema["required"] == ["origin", "destination"]
    props = schema["properties"]
    assert props["origin"]["description"] == "IATA code of the departure airport"
    assert props["destination"]["description"] == "IATA code of the arrival airport (continued on a second line)"
    assert props["seats"] == {"default": 1, "description": "how many seats", "title": "Seats", "type": "integer"}
    assert props["cabin"]["enum"] == ["economy", "business"]
    assert "notes" in props and "description" not in props["notes"]


def test_a_function_tool_validates_arguments_then_runs():
    tool = make_tool(book_flight)
    ok = tool.run(ToolCall("c1", "book_flight", {"origin": "KBP", "destination": "LIS", "seats": 2}))
    assert ok == {"id": "c1", "name": "book_flight", "is_error": False,
                  "content": '{"cabin": "economy", "from": "KBP", "notes": null, "seats": 2, "to": "LIS"}'}
    bad = tool.run(ToolCall("c2", "book_flight", {"origin": "KBP", "seats": "two"}))
    assert bad["is_error"] and "destination: Field required" in bad["content"] and "seats:" in bad["content"]


def test_a_pydantic_model_tool_describes_arguments_only():
    tool = make_tool(Refund)
    assert (tool.name, tool.description, tool.function) == ("Refund", "Refund a booking.", None)
    assert tool.parameters["properties"]["amount"]["exclusiveMinimum"] == 0
    assert tool.validate({"booking_id": "b1", "amount": 3}) == {"booking_id": "b1", "amount": 3.0}
    with pytest.raises(ValueError, match="amount"):
        tool.validate({"booking_id": "b1", "amount": -1})
    with pytest.raises(ig.llm.ConfigurationError, match="no function to run"):
        tool.run(ToolCall("c", "Refund", {}))


def test_tools_can_be_renamed_and_described():
    tool = make_tool(make_tool(book_flight), name="book", description="Books.")
    assert (tool.name, tool.description, tool.function) == ("book", "Books.", book_flight)
    assert ig.llm.Tool("free", parameters={"type": "object"}).to_dict() == {
        "name": "free", "description": "", "parameters": {"type": "object"}}


def _var_args(*items: str) -> None:
    """Nope."""


def _private(_hidden: int) -> None:
    """Nope."""


@pytest.mark.parametrize(("tools", "words"), [
    ([book_flight, book_flight], "two tools are named 'book_flight'"),
    ([_var_args], "parameter 'items' cannot be described"),
    ([_private], "starts with '_'"),
    ([ig.llm.Tool("has space")], "tool name 'has space' is not allowed"),
    (["book_flight"], "must be a function, a pydantic model class or an ig.llm.Tool"),
    ("book_flight", "must be a list"),
])
def test_bad_tools_fail_when_the_executor_class_is_made(tools, words):
    with pytest.raises(ig.llm.ConfigurationError, match=words):
        type("Bad", (ig.llm.Executor,), {"provider": "openai", "model": "m", "tools": tools})


def test_auto_mode_needs_functions_for_every_tool():
    with pytest.raises(ig.llm.ConfigurationError, match="Refund only describe arguments"):
        type("Auto", (ig.llm.Executor,), {"provider": "openai", "model": "m", "tools": [Refund], "tools_run": "auto"})


def test_parse_docstring_handles_no_docstring_and_other_sections():
    assert parse_docstring(None) == ("", {})
    assert parse_docstring("Only a summary.") == ("Only a summary.", {})
    summary, args = parse_docstring("Do it.\n\nParameters:\n    x: the x\nRaises:\n    ValueError: never")
    assert summary == "Do it." and args == {"x": "the x"}


def test_parameters_named_like_pydantic_methods_work_without_a_warning_and_model_config_is_refused(stubs):
    """``json``/``copy``/``schema`` parameters made pydantic warn at class creation about an internal model the user
    never wrote ("tool_arguments" shadows an attribute); ``model_config`` failed with "'FieldInfo' object is not
    iterable"."""
    import warnings

    def lookup(json: str, copy: int = 1) -> str:
        """Look up a record."""
        return f"{json}:{copy}"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        executor = executor_class("openai", tools=[lookup], tools_run="auto")
    stub = stubs("openai", [StubReply("", tool_calls=(("c1", "lookup", {"json": "a", "copy": 2}),)), StubReply("ok")])
    assert executor().complete_with_tools("q") == "ok"
    assert stub.requests[1].messages[-1]["content"] == "a:2"

    def configure(model_config: str) -> str:
        """Configure."""
        return model_config

    with pytest.raises(ig.llm.ConfigurationError, match="'model_config' is reserved by pydantic"):
        executor_class("openai", tools=[configure])
