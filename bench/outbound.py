"""Outbound benchmark over SMPP: HTTP "send this SMS" requests in, submit_sm to a real SMSC out.

The same load, checks and report as bench/outbound_api.py (its docstring says how), with the
demo number on an SMPP connection to the test SMSC (node-smpp, installed by `make test` into
.venv/smsc) instead of the simulator: a text counts as handed over once the SMSC answered its
submit_sm (status `sent`, then `delivery-success` when the SMSC's receipt comes 100 ms later).

    .venv/bin/python bench/outbound.py [--postgres] [--paths agentless,agent] [--write]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from outbound_api import main

if __name__ == "__main__":
    sys.exit(main(smpp=True))
