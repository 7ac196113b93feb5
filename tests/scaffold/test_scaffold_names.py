"""Names the generators accept and refuse, and the names they derive. Each refusal names its argument."""

from __future__ import annotations

from pathlib import Path

import pytest

from igniter_nb.scaffold import ScaffoldError, contract_spec
from igniter_nb.scaffold.generate import package_path
from igniter_nb.scaffold.names import await_node_name, module_name, module_name_problem, project_name_problem


@pytest.mark.parametrize(("class_name", "module"), [
    ("LeadWorkflow", "lead_workflow"),
    ("HTTPServer", "http_server"),
    ("Lead", "lead"),
    ("Lead2Go", "lead2_go"),
    ("Lead_Workflow", "lead_workflow"),
    ("ÜberweisungAuftrag", "überweisung_auftrag"),
    ("数据流", "数据流"),
])
def test_module_names_are_snake_case_of_the_class_name(class_name: str, module: str) -> None:
    assert module_name(class_name) == module


def problems(name: str = "LeadWorkflow", **kwargs: list[str]) -> list[str]:
    kwargs.setdefault("inputs", ["request_id"])
    with pytest.raises(ScaffoldError) as refused:
        contract_spec(name, **kwargs)  # type: ignore[arg-type]
    return refused.value.problems


@pytest.mark.parametrize(("name", "says"), [
    ("", "NAME: a name cannot be empty"),
    ("leadWorkflow", "not a class name in CapWords (for example 'LeadWorkflow')"),
    ("_Lead", "not a class name in CapWords (for example 'Lead')"),
    ("Lead Workflow", "NAME: 'Lead Workflow' is not a Python identifier"),
    ("<b>Lead</b>", "NAME: '<b>Lead</b>' is not a Python identifier"),
    ("../Lead", "NAME: '../Lead' is not a Python identifier"),
    ("Lead/Workflow", "is not a Python identifier"),
    ("Lead\nWorkflow", r"NAME: 'Lead\nWorkflow' is not a Python identifier"),
    ("None", "NAME: 'None' is a Python keyword"),
    ("INPUTS", "a name the generated test and notebook use"),
    # `class Any(ig.Contract)` replaced typing's Any, which the module imports: ruff's F811, mypy errors
    ("Any", "NAME: 'Any' would replace `Any`, which the generated module imports (from typing import Any)"),
    ("Exception", "would shadow Python's built-in Exception"),
    ("Ｌead", "not in NFKC form (Python would read it as 'Lead')"),
    # decomposed (NFD, as macOS file names and some input methods give it): the suggestion looks the same, so the
    # message says where the difference is
    ("U\u0308berweisung", "its accented letters are written as a letter plus a combining mark (U+0308)"),
    ("L" * 101, "is longer than 100 characters"),
    # pytest collects a class named Test* from the test module that imports it (a warning; -W error fails)
    ("TestLead", "NAME: 'TestLead' starts with 'Test': pytest would collect it as a test class"),
])
def test_bad_class_names_are_refused(name: str, says: str) -> None:
    found = problems(name)
    assert len(found) == 1 and says in found[0], found


def test_a_huge_name_is_refused_in_a_short_message() -> None:
    (problem,) = problems("X" * 1_000_000)
    assert len(problem) < 200


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"inputs": []}, "--inputs: a contract needs at least one input"),
    ({"inputs": ["a-b"]}, "--inputs: 'a-b' is not a Python identifier"),
    ({"inputs": ["class"]}, "--inputs: 'class' is a Python keyword"),
    ({"inputs": ["ﬁle"]}, "--inputs: 'ﬁle' is not in NFKC form (Python would read it as 'file')"),
    ({"inputs": ["a", "a"]}, "--inputs: 'a' is given twice"),
    ({"inputs": ["a"], "outputs": []}, "--outputs: a contract needs at least one output"),
    ({"inputs": ["a"], "outputs": ["<script>"]}, "--outputs: '<script>' is not a Python identifier"),
    ({"inputs": ["a"], "outputs": ["c"]}, "--outputs: 'c' would replace `c`, the builder"),
    ({"inputs": ["a"], "outputs": ["Any"]}, "--outputs: 'Any' would replace `Any`, the type the generated"),
    # an output is a function defined in define(c): named like a name define reads, the module failed at import
    # (UnboundLocalError: `def dict(...) -> dict[str, Any]` reads the local `dict` before it is defined)
    ({"inputs": ["a"], "outputs": ["dict"]}, "--outputs: 'dict' would replace `dict`, which the generated functions'"),
    ({"inputs": ["a"], "outputs": ["total", "str"]}, "--outputs: 'str' would replace `str`, which the generated"),
    ({"inputs": ["a"], "outputs": ["a"]}, "--outputs: 'a' is already a name in --inputs"),
    ({"inputs": ["a"], "correlate_by": ["b"]}, "--correlate-by: 'b' is not one of --inputs (a)"),
    ({"inputs": ["a"], "correlate_by": ["a", "a"]}, "--correlate-by: 'a' is given twice"),
    ({"inputs": ["a"], "awaits": ["paid"]}, "--awaits needs --correlate-by"),
    ({"inputs": ["a"], "correlate_by": ["a"], "awaits": ["a"]}, "--awaits: 'a' is already a name in --inputs"),
    ({"inputs": ["a"], "correlate_by": ["a"], "awaits": ["order.paid", "order-paid"]},
     "--awaits: events 'order.paid' and 'order-paid' would both be received by the await node 'order_paid'"),
    ({"inputs": ["a"], "correlate_by": ["a"], "awaits": ["paid", "paid"]}, "--awaits: 'paid' is given twice"),
    ({"inputs": ["a"], "correlate_by": ["a"], "awaits": ["<img src=x>"]}, "--awaits: '<img src=x>' is not an event"),
    ({"inputs": ["a"], "correlate_by": ["a"], "awaits": ["../../etc"]}, "--awaits: '../../etc' is not an event"),
    ({"inputs": ["a"], "correlate_by": ["a"], "awaits": ["9lives"]}, "--awaits: '9lives' is not an event"),
    ({"inputs": ["a"], "correlate_by": ["a"], "awaits": ["import"]}, "--awaits: 'import' is a Python keyword"),
    # Python renames `__x` inside a class body (name mangling): the compute's parameter would not match its node
    ({"inputs": ["__x"]}, "--inputs: '__x' starts with two underscores"),
    ({"inputs": ["a"], "outputs": ["__total"]}, "--outputs: '__total' starts with two underscores"),
    ({"inputs": ["a"], "correlate_by": ["a"], "awaits": ["__paid"]}, "--awaits: '__paid' starts with two underscores"),
    # a name Python does not let code assign: `def result(__debug__)` is a SyntaxError
    ({"inputs": ["__debug__"]}, "--inputs: '__debug__' cannot be assigned in Python"),
    ({"inputs": ["a"], "outputs": ["__debug__"]}, "--outputs: '__debug__' cannot be assigned in Python"),
])
def test_bad_or_clashing_node_names_are_refused(kwargs: dict[str, list[str]], says: str) -> None:
    found = problems(**kwargs)
    assert any(says in p for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems("lead", inputs=["a", "a", "b-c"], correlate_by=["z"], awaits=["x"], outputs=["a"])
    assert [p.split(":")[0] for p in found] == ["NAME", "--inputs", "--inputs", "--correlate-by", "--outputs"]


def test_dunder_names_are_fine() -> None:
    spec = contract_spec("Lead", inputs=["__x__"], correlate_by=["__x__"], awaits=["__paid__"], outputs=["_total"])
    assert spec.dependencies == ("__x__", "__paid__")


def test_unicode_names_follow_str_isidentifier() -> None:
    spec = contract_spec("Überweisung", inputs=["konto", "beträg"],
                         correlate_by=["konto"], awaits=["zahlung.eingegangen"], outputs=["quittung"])
    assert [a.node for a in spec.awaits] == ["zahlung_eingegangen"]
    assert spec.dependencies == (*spec.inputs, "zahlung_eingegangen")


def test_event_names_map_to_await_node_names() -> None:
    assert await_node_name("billing.data:fetched") == "billing_data_fetched"
    assert await_node_name("crm-webhook--received") == "crm_webhook_received"
    assert await_node_name("paid") == "paid"


@pytest.mark.parametrize(("module", "says"), [
    ("json", "is a module of Python's standard library"),
    ("test", "is already importable"),  # the stdlib test package is not in sys.stdlib_module_names
    ("pytest", "is already importable"),
    ("igniter_nb", "is already importable"),
])
def test_module_names_that_would_hide_other_modules_are_refused(module: str, says: str, tmp_path: Path) -> None:
    problem = module_name_problem(module, tmp_path)
    assert problem is not None and says in problem and module in problem


def test_a_fresh_module_name_is_fine(tmp_path: Path) -> None:
    assert module_name_problem("lead_workflow_never_installed", tmp_path) is None


@pytest.mark.parametrize("name", ["Billing", "my-app", "über", "../x", "a b", "1app", "class", "", "x" * 101,
                                  "shop_"])  # a distribution name ends with a letter or digit (hatchling refuses shop_)
def test_bad_project_names_are_refused(name: str) -> None:
    problem = project_name_problem(name)
    assert problem is not None and problem.startswith("NAME:")


def test_package_path_follows_init_files(tmp_path: Path) -> None:
    inner = tmp_path / "shop" / "orders"
    inner.mkdir(parents=True)
    assert package_path(inner) is None
    (inner / "__init__.py").touch()
    assert package_path(inner) == "orders"
    (tmp_path / "shop" / "__init__.py").touch()
    assert package_path(inner) == "shop.orders"


@pytest.mark.parametrize(("name", "file"), [("Con", "con.py"), ("Aux", "aux.py"), ("Nul", "nul.py"), ("Prn", "prn.py"),
                                            ("Com1", "com1.py"), ("COM9", "com9.py"), ("Lpt1", "lpt1.py"),
                                            ("Com0", "com0.py")])
def test_windows_device_names_are_refused_as_contract_names(name: str, file: str) -> None:
    """Windows reserves CON, PRN, AUX, NUL, COM0-9 and LPT0-9 as file names, whatever the case and the extension:
    the generated module (``con.py``) could not be written, opened or checked out there."""
    found = problems(name)
    assert len(found) == 1, found
    assert found[0].startswith(f"NAME: its file {file!r} is a device name on Windows"), found


@pytest.mark.parametrize("name", ["con", "aux", "nul", "prn", "com1", "lpt3"])
def test_windows_device_names_are_refused_as_project_names(name: str) -> None:
    problem = project_name_problem(name)
    assert problem is not None and problem.startswith(f"NAME: {name!r} is a device name on Windows"), problem


@pytest.mark.parametrize("name", ["Console", "Auxiliary", "Null", "Com10", "Compute", "Lpt", "ConAux"])
def test_names_that_only_start_like_a_device_name_are_fine(name: str) -> None:
    assert contract_spec(name, inputs=["request_id"]).class_name == name
    assert project_name_problem(name.lower()) is None
