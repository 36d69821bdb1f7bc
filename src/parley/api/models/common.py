"""Shapes shared by every resource: references, paging, errors."""

from __future__ import annotations

import math
from typing import Generic, Self, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Model(BaseModel):
    """Genesys JSON: camelCase names as they are, unknown request fields ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class EntityRef(Model):
    id: str
    name: str | None = None
    selfUri: str | None = None


class ErrorDetail(Model):
    errorCode: str | None = None
    fieldName: str | None = None
    entityId: str | None = None
    entityName: str | None = None


class ErrorBody(Model):
    message: str
    code: str
    status: int
    contextId: str
    messageParams: dict[str, str] | None = None
    details: list[ErrorDetail] | None = None


class EntityListing(Model, Generic[T]):
    entities: list[T]
    pageSize: int
    pageNumber: int
    total: int
    pageCount: int
    firstUri: str | None = None
    lastUri: str | None = None
    selfUri: str | None = None
    nextUri: str | None = None
    previousUri: str | None = None

    @classmethod
    def of(cls, entities: list[T], *, total: int, page: int, size: int, path: str,
           query: dict[str, str] | None = None) -> Self:
        """One page of `total` entities, with the links to the others.

        A class method returning `Self` (rather than a function of the class) so that a
        subclass's listing is typed as that subclass and its entities as its own.
        """
        count = max(1, math.ceil(total / size)) if size else 1

        def uri(n: int) -> str:
            return f"{path}?{urlencode({**(query or {}), 'pageSize': size, 'pageNumber': n})}"

        return cls(entities=entities, pageSize=size, pageNumber=page, total=total,
                   pageCount=count if total else 0, firstUri=uri(1), lastUri=uri(count),
                   selfUri=uri(page), nextUri=uri(page + 1) if page < count else None,
                   previousUri=uri(page - 1) if page > 1 else None)
