"""Scaffolding: ``igniter-nb new contract`` and ``igniter-nb new project`` (see docs/integrations.md).

The generators write files that compile, pass their tests and run as notebooks as generated (reference L-24:
its generator wrote a contract without outputs that failed to load). Templates are package data in
``templates/``; only the standard library is imported here.
"""

from igniter_nb.scaffold.generate import new_contract, new_project
from igniter_nb.scaffold.spec import ContractSpec, ScaffoldError, contract_spec

__all__ = ["ContractSpec", "ScaffoldError", "contract_spec", "new_contract", "new_project"]
