"""`igniter-nb serve tests.server.logging_probe:CONTRACTS`: the server test contracts, in a mapping that logs one
``igniter_nb`` DEBUG record each time an app is built from it — after uvicorn configured logging in that
process, so whether the record is printed shows the level `igniter-nb serve` gave the igniter_nb logger."""

from __future__ import annotations

import logging
from typing import Any

from tests.server.server_contracts import CONTRACTS as _SERVED

MARKER = "igniter_nb debug probe: an app was built"


class _Probe(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        logging.getLogger("igniter_nb.probe").debug(MARKER)
        return super().items()


CONTRACTS = _Probe(_SERVED)
