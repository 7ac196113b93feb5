"""E-8: routing a RingCentral telephony webhook.

A top-level ``branch`` picks a contract by telephony status (its child inputs come from a ``map_inputs``
function with context dependencies); the "CallConnected" contract fans out over the raw webhook calls with a
``collection`` (``map_inputs`` turns each string-keyed call into child inputs), each call picks its own contract
with a nested ``branch``, and an ``aggregate`` sums everything up. ``project`` with ``default=`` parses the
payload; ``export`` re-exports the routing summary through the branch.

Run from the repository root: ``python examples/ringcentral_routing.py``.
"""

import json

import igniter_nb as ig

CALL_INPUTS = ("session_id", "direction", "from_number", "to_number", "start_time")


def call_inputs(c):
    for name in CALL_INPUTS:
        c.input(name, type=str)


class InboundCallContract(ig.Contract):
    def define(c):
        call_inputs(c)

        @c.compute
        def summary(session_id, from_number, to_number, start_time):
            return {"session_id": session_id, "direction": "Inbound", "customer_phone": from_number,
                    "lookup_phone": from_number, "dialed_phone": to_number, "started_at": start_time}

        c.output("summary")


class OutboundCallContract(ig.Contract):
    def define(c):
        call_inputs(c)

        @c.compute
        def summary(session_id, from_number, to_number, start_time):
            return {"session_id": session_id, "direction": "Outbound", "customer_phone": to_number,
                    "lookup_phone": to_number, "operator_phone": from_number, "started_at": start_time}

        c.output("summary")


class UnknownDirectionContract(ig.Contract):
    def define(c):
        call_inputs(c)

        @c.compute
        def summary(session_id, direction):
            return {"session_id": session_id, "direction": direction, "ignored": True}

        c.output("summary")


class CallEventContract(ig.Contract):
    def define(c):
        call_inputs(c)
        c.branch("call_context", selector="direction",
                 cases={"Inbound": InboundCallContract, "Outbound": OutboundCallContract},
                 default=UnknownDirectionContract,
                 inputs={name: name for name in CALL_INPUTS})
        c.export("summary", source="call_context")


def webhook_call(item):
    """One raw webhook call (string keys, camelCase) as CallEventContract inputs."""
    return {"session_id": item["telephonySessionId"], "direction": item["direction"], "from_number": item["from"],
            "to_number": item["to"], "start_time": item["startTime"]}


class CallConnectedContract(ig.Contract):
    def define(c):
        c.input("extension_id", type=int)
        c.input("active_calls", type=list)
        c.input("telephony_status", type=str)

        c.guard("has_calls", depends_on="active_calls", call=lambda active_calls: len(active_calls) > 0,
                message="No active calls")
        c.collection("calls", source="active_calls", each=CallEventContract, key="session_id", mode="collect",
                     map_inputs=webhook_call)

        @c.compute
        def call_summaries(calls):
            return [item.result.summary for item in calls.successes.values()]

        @c.aggregate
        def routing_summary(calls, call_summaries, extension_id, telephony_status, has_calls):
            return {
                "extension_id": extension_id,
                "telephony_status": telephony_status,
                "total_calls": calls.summary["total"],
                "succeeded_calls": calls.summary["succeeded"],
                "failed_calls": calls.summary["failed"],
                "inbound_calls": sum(1 for s in call_summaries if s["direction"] == "Inbound"),
                "outbound_calls": sum(1 for s in call_summaries if s["direction"] == "Outbound"),
                "ignored_calls": sum(1 for s in call_summaries if s.get("ignored")),
            }

        c.output("calls")
        c.output("routing_summary")


def status_contract(flag):
    """A contract answering ``routing_summary`` with one flag set (NoCall, Ringing, unknown statuses)."""

    def define(c):
        c.input("extension_id", type=int)
        c.input("telephony_status", type=str)
        c.input("active_calls", type=list)

        @c.compute
        def routing_summary(extension_id, telephony_status):
            return {"extension_id": extension_id, "telephony_status": telephony_status, flag: True}

        c.output("routing_summary")

    return define


class NoCallContract(ig.Contract):
    define = status_contract("clear_operator")


class RingingContract(ig.Contract):
    define = status_contract("ringing")


class UnknownStatusContract(ig.Contract):
    define = status_contract("ignored_status")


class RingcentralWebhookContract(ig.Contract):
    def define(c):
        c.input("payload")

        with c.scope("parse"):
            c.project("body", source="payload", key="body", default={})
            c.project("telephony_status", source="body", key="telephonyStatus")
            c.project("extension_id", source="body", key="extensionId")
            c.project("active_calls", source="body", key="activeCalls", default=[])

        c.branch(
            "status_route",
            selector="telephony_status",
            cases={"CallConnected": CallConnectedContract, "NoCall": NoCallContract, "Ringing": RingingContract},
            default=UnknownStatusContract,
            depends_on=["extension_id", "active_calls"],
            map_inputs=lambda selector, extension_id, active_calls: {
                "extension_id": extension_id, "telephony_status": selector, "active_calls": active_calls},
        )

        c.export("routing_summary", source="status_route")
        c.output("status_route")


payload = {
    "body": {
        "extensionId": 62872332031,
        "telephonyStatus": "CallConnected",
        "activeCalls": [
            {"from": "+18009066027", "to": "+16199627154", "direction": "Outbound",
             "startTime": "2024-04-01T16:18:13.553Z", "telephonySessionId": "s-outbound-1"},
            {"from": "+13125550100", "to": "+18009066027", "direction": "Inbound",
             "startTime": "2024-04-01T16:19:10.000Z", "telephonySessionId": "s-inbound-2"},
            {"from": "+13125550199", "to": "+18009066027", "direction": "Parked",
             "startTime": "2024-04-01T16:20:00.000Z", "telephonySessionId": "s-unknown-3"},
        ],
    }
}

contract = RingcentralWebhookContract(payload=payload)

print(contract.explain_plan())
print("---")
print(f"routing_summary={contract.result.routing_summary!r}")
selected = next(e for e in contract.events if e.type == "branch_selected")
print(f"status_route_branch={selected.payload['matched_case']}")
route = contract.result.status_route
print(f"child_collection_summary={route.calls.summary!r}")
print(f"child_diagnostics_status={route.contract.diagnostics.to_dict()['status']}")
print(json.dumps(route.calls.to_dict(), indent=2))
