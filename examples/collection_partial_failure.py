"""E-7: ``collect`` mode keeps going when one item fails; the collection reports what failed and why.

Run from the repository root: ``python examples/collection_partial_failure.py``.
"""

import igniter_nb as ig


class TechnicianAvailabilityContract(ig.Contract):
    def define(c):
        c.input("technician_id")
        c.input("name", type=str)
        c.input("active", type=bool)

        c.guard("active_technician", depends_on="active", eq=True, message="Technician inactive")

        @c.compute
        def summary(technician_id, name, active_technician):
            return {"id": technician_id, "name": name}

        c.output("summary")


class TechnicianAvailabilityBatch(ig.Contract):
    def define(c):
        c.input("technician_inputs", type="array")
        c.collection("technicians", source="technician_inputs", each=TechnicianAvailabilityContract,
                     key="technician_id", mode="collect")
        c.output("technicians")


contract = TechnicianAvailabilityBatch(
    technician_inputs=[
        {"technician_id": 1, "name": "Anna", "active": True},
        {"technician_id": 2, "name": "Mike", "active": False},
        {"technician_id": 3, "name": "Olga", "active": True},
    ]
)

result = contract.result.technicians
print(f"summary={result.summary!r}")
print(f"items_summary={result.items_summary!r}")
print(f"failed_items={result.failed_items!r}")
print("---")
print(contract.diagnostics.to_text())
