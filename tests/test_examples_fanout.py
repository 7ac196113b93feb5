"""The fan-out examples (reference §18 E-6, E-7, E-8) print the expected lines."""

from __future__ import annotations

import json
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
    return UUID.sub("<uuid>", done.stdout).replace(str(EXAMPLES), "<examples>")


def test_collection_E6():
    assert run_example("collection.py") == (
        "keys=[1, 2]\n"
        "items={1: {'key': 1, 'status': 'succeeded', 'result': {'summary': {'id': 1, 'name': 'Anna'}}}, "
        "2: {'key': 2, 'status': 'succeeded', 'result': {'summary': {'id': 2, 'name': 'Mike'}}}}\n"
    )


def test_collection_partial_failure_E7():
    location = "<examples>/collection_partial_failure.py:15"
    assert run_example("collection_partial_failure.py") == textwrap.dedent(f"""\
        summary={{'mode': 'collect', 'total': 3, 'succeeded': 2, 'failed': 1, 'pending': 0, 'status': 'partial_failure'}}
        items_summary={{1: {{'status': 'succeeded'}}, 2: {{'status': 'failed', 'error': 'Technician inactive [graph=TechnicianAvailabilityContract, node=active_technician, path=active_technician, execution=<uuid>, location={location}]'}}, 3: {{'status': 'succeeded'}}}}
        failed_items={{2: {{'type': 'ResolutionError', 'message': 'Technician inactive', 'context': {{'graph': 'TechnicianAvailabilityContract', 'node': 'active_technician', 'path': 'active_technician', 'execution_id': '<uuid>', 'source_location': '{location}'}}}}}}
        ---
        Diagnostics TechnicianAvailabilityBatch
        Execution <uuid>
        Status: succeeded
        Outputs: technicians={{mode=collect, total=3, succeeded=2, failed=1, status=partial_failure, keys=[1, 2, 3], failed_keys=[2]}}
        Nodes: total=2, succeeded=2, failed=0, pending=0, waiting=0, stale=0
        Collections: technicians total=3 succeeded=2 failed=1 status=partial_failure failed_items=2(Technician inactive)
        Errors: none
        Events: total=12, latest=execution_finished
        """)


def test_ringcentral_routing_E8():
    out = run_example("ringcentral_routing.py")
    head, _, rest = out.partition("---\n")
    assert head == textwrap.dedent("""\
        Plan RingcentralWebhookContract
        Targets: status_route
        Ready: payload,body
        Blocked: telephony_status,extension_id,active_calls,status_route
        Nodes:
        - input payload status=unresolved ready=true
        - compute parse.body status=unresolved ready=true deps=payload(ready)
        - compute parse.telephony_status status=unresolved blocked=true waiting_on=body deps=body(unresolved)
        - compute parse.extension_id status=unresolved blocked=true waiting_on=body deps=body(unresolved)
        - compute parse.active_calls status=unresolved blocked=true waiting_on=body deps=body(unresolved)
        - branch status_route status=unresolved blocked=true waiting_on=telephony_status,extension_id,active_calls deps=telephony_status(unresolved),extension_id(unresolved),active_calls(unresolved)
        """)
    lines = rest.splitlines()
    assert lines[:4] == [
        "routing_summary={'extension_id': 62872332031, 'telephony_status': 'CallConnected', 'total_calls': 3, "
        "'succeeded_calls': 3, 'failed_calls': 0, 'inbound_calls': 1, 'outbound_calls': 1, 'ignored_calls': 1}",
        "status_route_branch=CallConnected",
        "child_collection_summary={'mode': 'collect', 'total': 3, 'succeeded': 3, 'failed': 0, 'pending': 0, "
        "'status': 'succeeded'}",
        "child_diagnostics_status=succeeded",
    ]
    calls = json.loads("\n".join(lines[4:]))
    assert list(calls["items"]) == ["s-outbound-1", "s-inbound-2", "s-unknown-3"]
    assert calls["items"]["s-outbound-1"]["result"]["summary"]["operator_phone"] == "+18009066027"
    assert calls["items"]["s-inbound-2"]["result"]["summary"]["dialed_phone"] == "+18009066027"
    assert calls["items"]["s-unknown-3"]["result"]["summary"] == {"session_id": "s-unknown-3", "direction": "Parked",
                                                                   "ignored": True}
