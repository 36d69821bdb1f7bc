"""The flows' HTTP data actions, as a port: the flow interpreter never does I/O.

A flow's callData step names a request; the interpreter stops there and the service layer
performs it through `DataActions` (the adapter is `integrations/http_data.py`), then resumes
the run with the result or the failure - as goflow's engine asks its host for services.
"""

from __future__ import annotations

from typing import Protocol

from parley.domain.flows import CallData, DataFailure, DataResult


class DataActions(Protocol):
    """Performs a flow's HTTP data action (callData) with its timeout."""

    async def call(self, request: CallData) -> DataResult | DataFailure: ...

