"""Synthetic resident customers with planted payment-behaviour archetypes."""

from ._archetypes import ARCHETYPE_KEYS, Archetype
from ._export import DEFECT_KINDS, write
from ._field import BEHAVIOURS, DISTRICTS, write_districts
from ._generate import generate
from ._markets import MARKETS, Market, default_archetypes, get_market

__all__ = [
    "ARCHETYPE_KEYS",
    "BEHAVIOURS",
    "DEFECT_KINDS",
    "DISTRICTS",
    "MARKETS",
    "Archetype",
    "Market",
    "default_archetypes",
    "generate",
    "get_market",
    "write",
    "write_districts",
]
