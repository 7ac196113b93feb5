"""Branch nodes: case selection, input wiring, events, compile checks, states."""

from __future__ import annotations

import pytest

import igniter_nb as ig

RUNS: list[str] = []


class Domestic(ig.Contract):
    def define(c):
        c.input("amount", type="numeric")

        @c.compute
        def fee(amount):
            RUNS.append("Domestic")
            return amount * 0.01

        c.output("fee")


class International(ig.Contract):
    def define(c):
        c.input("amount", type="numeric")

        @c.compute
        def fee(amount):
            RUNS.append("International")
            return amount * 0.05

        c.output("fee")


class Flat(ig.Contract):
    def define(c):
        c.input("amount", type="numeric", default=0)
        c.const("fee", 1.5)
        c.output("fee")


@pytest.fixture(autouse=True)
def _clear_runs():
    RUNS.clear()


def fee_contract(cases, default=None):
    @ig.contract
    def Payment(c):
        c.input("country")
        c.input("amount")
        c.branch("route", selector="country", cases=cases, default=default, inputs={"amount": "amount"})
        c.export("fee", source="route")

    return Payment


def test_dict_cases_run_only_the_selected_contract():
    Payment = fee_contract({"UA": Domestic, "US": International})
    p = Payment(country="US", amount=100)
    assert p.result.fee == 5.0
    assert RUNS == ["International"]


def test_list_cases_with_predicate_match_in_order():
    Payment = fee_contract([("UA", Domestic), (lambda c: c.startswith("U"), International), ("US", Flat)])
    assert Payment(country="US", amount=100).result.fee == 5.0  # the predicate comes before the "US" case
    assert Payment(country="UA", amount=100).result.fee == 1.0


def test_value_cases_match_within_the_same_type_family():
    @ig.contract
    def Typed(c):
        c.input("code")
        c.input("amount")
        c.branch("route", selector="code", cases=[(True, Flat), (1, Domestic), ("2", International)],
                 default=International, inputs={"amount": "amount"})
        c.export("fee", source="route")

    assert Typed(code=1.0, amount=100).result.fee == 1.0  # 1.0 == 1: both numbers
    assert Typed(code=True, amount=100).result.fee == 1.5  # True matches only True
    assert Typed(code=2, amount=100).result.fee == 5.0  # "2" is text: default
    t = Typed(code=1, amount=100)
    t.resolve_all()
    assert [e.payload["matched_case"] for e in t.events if e.type == "branch_selected"] == [1]


def test_numpy_booleans_match_boolean_cases_and_never_number_cases():
    np = pytest.importorskip("numpy")

    @ig.contract
    def Flagged(c):
        c.input("flag")
        c.input("amount")
        c.branch("route", selector="flag", cases=[(1, Domestic), (True, Flat)], default=International,
                 inputs={"amount": "amount"})
        c.export("fee", source="route")

    # a boolean read from a data frame is np.True_: it failed with BranchSelectionError / took the default
    assert Flagged(flag=np.True_, amount=100).result.fee == 1.5
    assert Flagged(flag=np.False_, amount=100).result.fee == 5.0  # no False case: the default
    assert Flagged(flag=np.int64(1), amount=100).result.fee == 1.0  # numpy numbers are numbers


def test_default_is_used_when_nothing_matches():
    Payment = fee_contract({"UA": Domestic}, default=Flat)
    p = Payment(country="PL", amount=100)
    assert p.result.fee == 1.5
    selected = [e.payload for e in p.events if e.type == "branch_selected"]
    assert selected == [{"selector": "country", "selector_value": "PL", "matched_case": "default", "case_index": None,
                         "selected_contract": "Flat"}]


def test_no_match_and_no_default_is_a_branch_selection_error():
    Payment = fee_contract({"UA": Domestic, "US": International})
    p = Payment(country="PL", amount=100)
    assert p.status == "failed"  # status never raises
    err = p.first_error()
    assert isinstance(err, ig.BranchSelectionError)
    assert "'PL'" in str(err) and "'UA' -> Domestic" in str(err) and "'US' -> International" in str(err)
    assert err.context["node"] == "route" and err.context["graph"] == "Payment"
    with pytest.raises(ig.BranchSelectionError):
        _ = p.result.fee
    assert RUNS == []


def test_branch_selected_is_emitted_before_the_child_runs():
    Payment = fee_contract({"UA": Domestic})
    p = Payment(country="UA", amount=10)
    seen = []
    p.subscribe(lambda e: seen.append((e.type, e.node, list(RUNS))))
    p.resolve_all()
    selected = next(s for s in seen if s[0] == "branch_selected")
    assert selected[1] == "route" and selected[2] == []  # nothing ran yet
    done = next(e for e in p.events if e.type == "node_succeeded" and e.node == "route")
    assert done.payload["child_graph"] == "Domestic"
    assert done.payload["child_execution_id"] == p.execution.children.child_for("route").execution_id


def test_map_inputs_gets_selector_and_only_declared_context():
    calls = []

    def mapper(selector, rate):
        calls.append((selector, rate))
        return {"amount": rate * 100}

    @ig.contract
    def Mapped(c):
        c.input("country")
        c.input("rate")
        c.input("unused", default=None)
        c.branch("route", selector="country", cases={"UA": Domestic}, map_inputs=mapper, depends_on=["rate", "unused"])
        c.export("fee", source="route")

    assert Mapped(country="UA", rate=2).result.fee == 2.0
    assert calls == [("UA", 2)]  # `unused` is not passed: the mapper does not declare it


def test_map_inputs_by_method_name():
    class ByMethod(ig.Contract):
        def define(c):
            c.input("country")
            c.input("base")
            c.branch("route", selector="country", cases={"US": International}, map_inputs="wire", depends_on="base")
            c.export("fee", source="route")

        def wire(self, selector, **context):
            return {"amount": context["base"] + (1 if selector == "US" else 0)}

    assert ByMethod(country="US", base=99).result.fee == 5.0


def test_map_inputs_must_return_a_dict():
    @ig.contract
    def Bad(c):
        c.input("country")
        c.branch("route", selector="country", cases={"UA": Domestic}, map_inputs=lambda selector: [selector])
        c.export("fee", source="route")

    b = Bad(country="UA")
    assert b.status == "failed"
    assert "map_inputs must return a dict" in str(b.first_error())


def test_raising_predicate_fails_the_node_with_its_name():
    def picky(value):
        raise ValueError("no way")

    Payment = fee_contract([(picky, Domestic)], default=Flat)
    p = Payment(country="UA", amount=1)
    assert p.status == "failed"
    err = p.first_error()
    assert "predicate picky raised ValueError: no way" in str(err)
    assert isinstance(err.__cause__, ValueError)


def test_changing_the_selector_switches_the_child():
    Payment = fee_contract({"UA": Domestic, "US": International})
    p = Payment(country="UA", amount=100)
    assert p.result.fee == 1.0
    first_child = p.execution.children.child_for("route")
    p.update_inputs(country="US")
    assert p.result.fee == 5.0
    assert p.execution.children.child_for("route") is not first_child
    assert RUNS == ["Domestic", "International"]


def test_states_show_the_selection():
    Payment = fee_contract({"UA": Domestic, "US": International})
    p = Payment(country="US", amount=1)
    p.resolve_all()
    route = p.states["route"]
    assert route["selection"]["selected_contract"] == "International"
    assert route["selection"]["matched_case"] == "US"
    assert route["value"]["graph"] == "International"


# ---------------------------------------------------------------------------------------------- compile checks
def test_nested_export_is_checked_against_every_possible_contract():
    class NoFee(ig.Contract):
        def define(c):
            c.input("amount")
            c.compute("total", depends_on=["amount"], call=lambda amount: amount)
            c.output("total")

    with pytest.raises(ig.ValidationError, match="unknown child output 'fee' of NoFee"):
        fee_contract({"UA": Domestic}, default=NoFee)


def test_branch_needs_a_case():
    with pytest.raises(ig.CompileError, match="at least one case"):
        fee_contract({})


def test_duplicate_case_values_are_rejected():
    with pytest.raises(ig.ValidationError, match="duplicate case values"):
        fee_contract([("UA", Domestic), ("UA", International)])


def test_inputs_and_map_inputs_are_exclusive_and_one_is_required():
    with pytest.raises(ig.CompileError, match="either `inputs=` or `map_inputs=`"):
        @ig.contract
        def Both(c):
            c.input("k")
            c.branch("b", selector="k", cases={1: Flat}, inputs={"amount": "k"}, map_inputs=lambda selector: {})
            c.output("b")
    with pytest.raises(ig.CompileError, match="requires `inputs=` or `map_inputs=`"):
        @ig.contract
        def Neither(c):
            c.input("k")
            c.branch("b", selector="k", cases={1: Flat})
            c.output("b")


def test_inputs_mapping_is_checked_against_every_contract():
    with pytest.raises(ig.ValidationError, match="maps unknown child inputs of Domestic: total"):
        @ig.contract
        def Unknown(c):
            c.input("k")
            c.branch("b", selector="k", cases={1: Domestic}, inputs={"total": "k"})
            c.output("b")
    with pytest.raises(ig.ValidationError, match="missing mappings for required child inputs of International: amount"):
        @ig.contract
        def Missing(c):
            c.input("k")
            c.branch("b", selector="k", cases={1: Flat}, default=International, inputs={})
            c.output("b")


def test_explain_shows_the_contract_the_branch_ran():
    Payment = fee_contract({"UA": Domestic, "US": International})
    p = Payment(country="US", amount=1)
    tree = p.result.explain("fee")
    assert tree["source"] == "route" and tree["child_output_path"] == "route.fee"
    route = tree["dependencies"]
    assert route["kind"] == "branch" and route["value"]["graph"] == "International"


def test_duplicate_case_values_follow_the_runtime_match_rule():
    with pytest.raises(ig.ValidationError, match="duplicate case values"):
        fee_contract([(1, Domestic), (1.0, International)])


def test_explain_shows_the_matched_case_of_a_branch():
    import igniter_nb as ig

    @ig.contract
    def Small(c):
        c.input("amount", type="integer")
        c.compute("label", depends_on=["amount"], call=lambda amount: f"small {amount}")
        c.output("label")

    @ig.contract
    def Large(c):
        c.input("amount", type="integer")
        c.compute("label", depends_on=["amount"], call=lambda amount: f"large {amount}")
        c.output("label")

    @ig.contract
    def Router(c):
        c.input("amount", type="integer")
        c.branch("route", selector="amount", cases=[(lambda v: v > 100, Large)], default=Small,
                 inputs={"amount": "amount"})
        c.export("label", source="route")

    r = Router(amount=500)
    assert r.result.label == "large 500"
    tree = r.result.explain("label")
    route = None
    stack = [tree["dependencies"]]
    while route is None and stack:
        entry = stack.pop()
        if isinstance(entry, dict) and entry.get("name") == "route":
            route = entry
        deps = entry.get("dependencies", []) if isinstance(entry, dict) else entry
        stack.extend(deps if isinstance(deps, list) else [deps])
    assert route is not None
    assert route["selection"]["selected_contract"] == "Large"
    assert route["selection"]["selector_value"] == 500
