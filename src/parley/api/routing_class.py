"""Routes that never emit null: the Python SDK crashes on a null enum, so absent is absent."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute


class GenesysRoute(APIRoute):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["response_model_exclude_none"] = True
        super().__init__(*args, **kwargs)


def genesys_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=GenesysRoute, **kwargs)
