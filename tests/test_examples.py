"""The runnable examples (reference §18 E-1, E-2, E-3, E-5) print the expected lines."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def run_example(name: str) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=60,
                          cwd=EXAMPLES.parent)
    assert done.returncode == 0, done.stderr
    return UUID.sub("<uuid>", done.stdout)


def test_basic_pricing_E1():
    assert run_example("basic_pricing.py") == "gross_total=120.0\nupdated_gross_total=180.0\n"


def test_composition_E2():
    assert run_example("composition.py") == "pricing={'pricing': {'gross_total': 120.0}}\n"


def test_diagnostics_E3():
    lines = run_example("diagnostics.py").splitlines()
    assert lines[:8] == [
        "Diagnostics PriceContract",
        "Execution <uuid>",
        "Status: succeeded",
        "Outputs: gross_total=120.0",
        "Nodes: total=4, succeeded=4, failed=0, pending=0, waiting=0, stale=0",
        "Errors: none",
        "Events: total=10, latest=execution_finished",
        "---",
    ]
    assert len(lines) == 9
    summary = lines[8]
    assert summary.startswith("{'graph': 'PriceContract', 'execution_id': '<uuid>', 'outputs': {'gross_total': 120.0}, "
                              "'succeeded': True, 'failed': False, 'pending': False, 'errors': {}, 'states': {")
    states = re.findall(r"'(\w+)': \{'id': 'PriceContract:(\d)', 'path': '\w+', 'kind': '\w+', "
                        r"'status': 'succeeded', 'version': 1,", summary)
    assert sorted(states) == [("country", "2"), ("gross_total", "4"), ("order_total", "1"), ("vat_rate", "3")]


def test_marketing_ergonomics_E5():
    assert run_example("marketing_ergonomics.py") == textwrap.dedent("""\
        Plan MarketingQuoteContract
        Targets: quote
        Ready: vendor_id,service,trade_name,zip_code,zip_supported
        Blocked: trade,quote
        Nodes:
        - compute vendor_id status=unresolved ready=true
        - input service status=unresolved ready=true
        - compute routing.trade_name status=unresolved ready=true deps=service(ready)
        - compute pricing.trade status=unresolved blocked=true waiting_on=trade_name deps=trade_name(unresolved)
        - input zip_code status=unresolved ready=true
        - compute validation.zip_supported status=unresolved ready=true deps=zip_code(ready)
        - compute quote status=unresolved blocked=true waiting_on=vendor_id,trade,zip_supported deps=vendor_id(unresolved),trade(unresolved),zip_supported(unresolved),zip_code(ready)
        ---
        response={'vendor_id': 'eLocal', 'trade': 'HVAC', 'zip_code': '60601', 'bid': 45.0}
        outbox=[{'vendor_id': 'eLocal', 'zip_code': '60601'}]
        """)
