"""Query parameters as the SDKs send them: 1-based pages, comma-joined arrays."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from parley.domain.errors import InvalidInput

MAX_PAGE_SIZE = 500
MAX_PAGE_NUMBER = 1_000_000_000  # keeps the row offset within a 64-bit SQL integer

PageSize = Annotated[int, Query(description="page size (1-500)")]
PageNumber = Annotated[int, Query(description="page number, from 1")]


def check_page(size: int, number: int, max_size: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    if not 1 <= size <= max_size:
        raise InvalidInput(f"pageSize must be between 1 and {max_size}", field="pageSize")
    if number < 1:
        raise InvalidInput("pageNumber must be 1 or more", field="pageNumber")
    if number > MAX_PAGE_NUMBER:
        raise InvalidInput(f"pageNumber must be at most {MAX_PAGE_NUMBER}", field="pageNumber")
    return size, number


def split_list(values: list[str] | None) -> list[str]:
    """`?id=a,b` and `?id=a&id=b` both mean [a, b]."""
    return [v for raw in values or [] for v in raw.split(",") if v]


def descending(sort_order: str | None) -> bool:
    if sort_order is None or sort_order.lower() in ("asc", "ascending"):
        return False
    if sort_order.lower() in ("desc", "descending"):
        return True
    raise InvalidInput(f"sortOrder '{sort_order}' must be asc or desc", field="sortOrder")
