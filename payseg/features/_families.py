"""The feature families: their order, their modules and their fixed column names."""

from __future__ import annotations

from collections.abc import Sequence

from .._sklearn_compat import InvalidParameterError
from . import arrears, channel, cycle, prepaid, timing, trend, value

#: Feature families in column order.
FAMILIES = ("timing", "channel", "value", "arrears", "prepaid", "trend", "cycle")
#: The module computing each family (``COLUMNS`` and ``compute(block, ...)``).
MODULES = {
    "timing": timing,
    "channel": channel,
    "value": value,
    "arrears": arrears,
    "prepaid": prepaid,
    "trend": trend,
    "cycle": cycle,
}


def check_families(families) -> tuple[str, ...]:
    """``families`` as a tuple in :data:`FAMILIES` order (all of them for None).

    A single name is accepted; an unknown name raises ``InvalidParameterError`` (a
    ``ValueError``) listing the valid ones.

    Examples
    --------
    >>> check_families(["trend", "timing"])
    ('timing', 'trend')
    """
    if families is None:
        return FAMILIES
    if isinstance(families, str):
        families = [families]
    unknown = [f for f in families if f not in MODULES]
    if unknown:
        raise InvalidParameterError(
            f"unknown feature family {unknown[0]!r}; choose from {', '.join(FAMILIES)}"
        )
    return tuple(f for f in FAMILIES if f in set(families))


def feature_names(families: Sequence[str] | None = None) -> list[str]:
    """Fixed column names of the given families (without ``channel_share__<code>``).

    Examples
    --------
    >>> feature_names(["arrears"])
    ['arrears_amount', 'max_months_in_arrears', 'late_fee_est']
    """
    return [c for f in check_families(families) for c in MODULES[f].COLUMNS]
