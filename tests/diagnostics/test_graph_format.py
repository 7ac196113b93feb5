"""Graph formats: text, Mermaid and dict (reference §7.1, §7.5, §3.12, with awaits, correlation, remotes,
branches and collections shown)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from diagnostics_contracts import PriceContract

import igniter_nb as ig
from igniter_nb.diagnostics import view


class Discount(ig.Contract):
    def define(c):
        c.input("order_total", type="numeric")
        c.input("country", type=str, required=False)
        c.compute("gross_total", depends_on="order_total", call=lambda order_total: order_total * 0.9)
        c.output("gross_total")


class Item(ig.Contract):
    def define(c):
        c.input("id")
        c.output("id")


class Scale:
    """A callable object: printed by its class name."""

    def __call__(self, order_total):
        return order_total * 2


class Quote(ig.Executor):
    label = "Quote service"
    category = "pricing"
    tags = ("slow", "external")
    summary = "asks the vendor"

    def call(self, order_total):
        return order_total


def is_vip(value):
    return value == "vip"


def items_for(items):
    return [{"id": i} for i in items]


class Workflow(ig.Contract):
    def define(c):
        c.correlate_by("request_id", "company_id")
        c.input("request_id", type=str)
        c.input("company_id", type=str)
        c.input("order_total", type="numeric", default=10)
        c.input("segment", type=str, default="basic")
        c.input("items", type=list, default=[])
        c.const("vendor", "eLocal")
        c.await_event("crm_data", event="crm_webhook_received", timeout=60)
        with c.scope("checks"):
            c.guard("known_company", depends_on="company_id", one_of=["co-42"], message="unknown company")
        c.compute("doubled", depends_on=["order_total"], call=Scale())
        c.compute("quoted", call=Quote)
        c.compose("pricing", contract=PriceContract, inputs={"order_total": "order_total", "country": "segment"})
        c.branch("offer", selector="segment", cases=[("basic", PriceContract), (is_vip, Discount)], default=PriceContract,
                 inputs={"order_total": "order_total", "country": "segment"})
        c.collection("lines", source="items", each=Item, key="id", mode="fail_fast", depends_on=["vendor"],
                     map_inputs=items_for)
        c.remote("score", contract="SentimentAnalyzer", node="http://localhost:4568", inputs={"text": "segment"})
        c.output("doubled")
        c.output("total", source="pricing.gross_total")


def test_mermaid_lines_break_with_br_and_user_text_cannot_add_one() -> None:
    class BrNames(ig.Contract):
        def define(c):
            c.input("order")
            c.await_event("paid", event="<br>paid")
            c.compute("total", depends_on=["order", "paid"], call=lambda order, paid: order)
            c.output("total")

    lines = BrNames.compiled_graph().to_mermaid().splitlines()
    assert '  node_paid["await: paid<br>event: #lt;br#gt;paid"]' in lines  # the event name's tag is text
    assert not any("\\n" in line for line in lines)



def test_mermaid_and_the_svg_picture_write_a_run_of_control_characters_alike() -> None:
    class Spaced(ig.Contract):
        def define(c):
            c.input("order")
            c.await_event("paid", event="paid\r\n\tlater")
            c.compute("total", depends_on=["order", "paid"], call=lambda order, paid: order)
            c.output("total")

    assert '  node_paid["await: paid<br>event: paid later"]' in Spaced.compiled_graph().to_mermaid().splitlines()
    assert view.clean("event: paid\r\n\tlater") == "event: paid later"  # what the SVG and DOT labels hold

def test_text_of_a_plain_graph_follows_the_reference_layout():
    assert PriceContract.graph.to_text() == textwrap.dedent("""\
        Graph PriceContract
        Nodes:
        - input order_total
        - input country
        - compute vat_rate depends_on=country callable=vat_rate
        - compute gross_total depends_on=order_total,vat_rate callable=gross_total
        Outputs:
        - output.gross_total -> gross_total""")


def test_text_shows_correlation_awaited_event_children_remote_and_compute_metadata():
    lines = Workflow.graph.to_text().splitlines()
    assert lines[:2] == ["Graph Workflow", "Correlation: request_id, company_id"]
    assert "- compute vendor callable=const const=true" in lines
    assert "- await crm_data event=crm_webhook_received timeout=60" in lines
    assert "- compute checks.known_company depends_on=company_id callable=guard guard=true" in lines
    assert "- compute doubled depends_on=order_total callable=Scale" in lines
    assert ("- compute quoted depends_on=order_total callable=Quote label=Quote service category=pricing "
            "tags=slow,external summary=asks the vendor") in lines
    assert "- composition pricing depends_on=order_total,segment contract=PriceContract" in lines
    assert ("- branch offer depends_on=segment,order_total selector=segment cases='basic':PriceContract|is_vip:Discount "
            "default=PriceContract inputs=order_total:order_total,country:segment") in lines
    assert ("- collection lines depends_on=items,vendor with=items context=vendor each=Item key=id mode=fail_fast "
            "mapper=items_for") in lines
    assert ("- remote score depends_on=segment contract=SentimentAnalyzer url=http://localhost:4568") in lines
    assert lines[-3:] == ["Outputs:", "- output.doubled -> doubled", "- output.total -> pricing.gross_total"]


def test_mermaid_of_a_plain_graph():
    assert PriceContract.graph.to_mermaid() == textwrap.dedent("""\
        graph TD
          node_order_total["input: order_total"]
          node_country["input: country"]
          node_vat_rate["compute: vat_rate<br>vat_rate"]
          node_gross_total["compute: gross_total<br>gross_total"]
          output_gross_total["output: gross_total"]
          node_gross_total --> output_gross_total
          node_country --> node_vat_rate
          node_order_total --> node_gross_total
          node_vat_rate --> node_gross_total""")


def test_mermaid_shows_correlation_event_remote_and_children():
    text = Workflow.graph.to_mermaid()
    lines = text.splitlines()
    assert lines[:2] == ["graph TD", "  %% correlation: request_id, company_id"]
    assert '  node_crm_data["await: crm_data<br>event: crm_webhook_received"]' in lines
    assert '  node_score["remote: score<br>SentimentAnalyzer @ http://localhost:4568"]' in lines
    assert '  node_lines["collection: lines<br>each: Item key=id mode=fail_fast"]' in lines
    assert '  node_offer["branch: offer<br>selector: segment<br>PriceContract | Discount | default PriceContract"]' in lines
    assert "  node_pricing --> output_total" in lines


def test_mermaid_escapes_quotes_and_reads_outputs_used_as_dependencies():
    @ig.contract
    def Quoted(c):
        c.input("a")
        c.compute("b", depends_on="a", call=lambda a: a)
        c.output("shown", source="b")
        c.compute("c", depends_on="shown", call=lambda shown: shown, label='say "hi"')
        c.output("c")

    lines = Quoted.graph.to_mermaid().splitlines()
    assert "  output_shown --> node_c" in lines
    assert '  node_c["compute: c<br>lambda"]' in lines
    assert '"hi"' not in Quoted.graph.to_mermaid()


def test_to_dict_is_json_safe_and_complete():
    data = Workflow.graph.to_dict()
    text = json.dumps(data)
    assert " at 0x" not in text
    assert data["name"] == "Workflow"
    assert data["correlation_keys"] == ["request_id", "company_id"]
    assert data["resolution_order"] == list(Workflow.graph.resolution_order)
    assert data["outputs"][1] == {"id": data["outputs"][1]["id"], "name": "total", "path": "output.total",
                                  "source": "pricing.gross_total", "source_root": "pricing",
                                  "child_output": "gross_total"}
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["order_total"]["default"] == 10 and nodes["order_total"]["type"] == "numeric"
    assert nodes["request_id"]["required"] is True and "default" not in nodes["request_id"]
    assert nodes["crm_data"]["event"] == "crm_webhook_received" and nodes["crm_data"]["timeout"] == 60.0
    assert nodes["known_company"]["role"] == "guard"
    assert nodes["known_company"]["metadata"]["guard"] == {"one_of": ["co-42"]}
    assert nodes["doubled"]["callable"] == "Scale" and nodes["doubled"]["callable_kind"] == "object"
    assert nodes["quoted"]["callable"] == "Quote" and nodes["quoted"]["callable_kind"] == "executor"
    assert nodes["pricing"]["contract"] == "PriceContract"
    assert nodes["pricing"]["inputs"] == {"order_total": "order_total", "country": "segment"}
    assert nodes["offer"]["cases"] == [{"match": "basic", "predicate": False, "contract": "PriceContract"},
                                       {"match": "is_vip", "predicate": True, "contract": "Discount"}]
    assert nodes["offer"]["default_contract"] == "PriceContract" and nodes["offer"]["selector"] == "segment"
    assert nodes["lines"]["each"] == "Item" and nodes["lines"]["mapper"] == "items_for"
    assert nodes["lines"]["with"] == "items" and nodes["lines"]["depends_on"] == ["vendor"]
    assert nodes["lines"]["key"] == "id" and nodes["lines"]["mode"] == "fail_fast"
    assert nodes["score"]["contract"] == "SentimentAnalyzer" and nodes["score"]["url"] == "http://localhost:4568"
    assert nodes["score"]["inputs"] == {"text": "segment"}


def test_to_dict_names_presenters_and_odd_metadata_without_addresses():
    class Opaque:
        pass

    @ig.contract
    def Odd(c):
        c.input("a", meta_object=Opaque(), meta_set={"b", "a", "c"}, meta_type=int)
        c.output("a")

        @c.present("a")
        def money(value):
            return f"{value} EUR"

    data = Odd.graph.to_dict()
    json.dumps(data)
    meta = data["nodes"][0]["metadata"]
    assert meta["meta_set"] == ["a", "b", "c"]
    assert meta["meta_type"] == "int"
    assert "0x" not in meta["meta_object"]
    assert data["presenters"] == {"a": "money"}


_DETERMINISM_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from test_graph_format import Workflow
g = Workflow.graph
print(g.to_text()); print(g.to_mermaid()); print(json.dumps(g.to_dict()))
"""


def test_formats_are_identical_across_processes_and_hash_seeds(tmp_path):
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    script = _DETERMINISM_SCRIPT.format(tests=tests_dir)
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True,
                              cwd=tmp_path)
        outputs.append(done.stdout.replace(tests_dir, "<tests>"))
    assert outputs[0] == outputs[1]
    assert " at 0x" not in outputs[0]
