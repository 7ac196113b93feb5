"""E-6: a ``collection`` runs one child contract per item, keyed by ``technician_id``.

Run from the repository root: ``python examples/collection.py``.
"""

import igniter_nb as ig


class TechnicianContract(ig.Contract):
    def define(c):
        c.input("technician_id")
        c.input("name")

        @c.compute
        def summary(technician_id, name):
            return {"id": technician_id, "name": name}

        c.output("summary")


class TechnicianBatchContract(ig.Contract):
    def define(c):
        c.input("technician_inputs", type="array")
        c.collection("technicians", source="technician_inputs", each=TechnicianContract, key="technician_id",
                     mode="collect")
        c.output("technicians")


contract = TechnicianBatchContract(
    technician_inputs=[
        {"technician_id": 1, "name": "Anna"},
        {"technician_id": 2, "name": "Mike"},
    ]
)

result = contract.result.technicians
print(f"keys={result.keys!r}")
print(f"items={result.to_dict()['items']!r}")
