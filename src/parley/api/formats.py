"""Wire formats shared by all routes."""

from __future__ import annotations

from parley.domain.times import iso

__all__ = ["iso"]
