"""Source roles: whether a sheet or file holds payments, bills or customers.

Staff export one workbook with a 缴费明细 (payments) sheet and an 应收明细 (bills)
sheet and pass it for both roles. A payments sheet also has an id and a billing month,
so it would read as bills too; each sheet therefore gets one role from its headers
(:func:`role_of`) and is read in that role only. Imports nothing from payseg but the
header map and the schema.
"""

from __future__ import annotations

from ._headers import HEADER_MAP, normalise_header
from ._schema import (
    BILL_KEYS,
    BILL_OPTIONAL,
    CUSTOMER_ATTRIBUTES,
    CUSTOMER_OPTIONAL,
    CUSTOMER_REQUIRED,
    KINDS,
    PAYMENT_OPTIONAL,
    PAYMENT_REQUIRED,
)

__all__ = ["ROLE_COLUMNS", "header_keys", "role_of", "sheet_role"]

#: (required for header detection, optional) canonical columns of each role. Bills
#: need an id and one of :data:`BILL_KEYS`, checked after mapping.
ROLE_COLUMNS = {
    "payments": (PAYMENT_REQUIRED, PAYMENT_OPTIONAL),
    "bills": (("customer_id",), (*BILL_KEYS, *BILL_OPTIONAL)),
    "customers": (CUSTOMER_REQUIRED, CUSTOMER_OPTIONAL),
}

# Columns that only one role has: the role whose signs a header row shows most wins.
_SIGNS = {
    "payments": {"paid_at", "amount", "channel", "txn_id"},
    "bills": {"amount_due", "issued_on", "due_on", "arrears", "late_fee"},
    "customers": {"meter", "tariff", "theft", *CUSTOMER_ATTRIBUTES},
}


def header_keys(role: str, columns=None):
    """(lookup, required) for header detection of ``role`` (see ``header_score``)."""
    required, optional = ROLE_COLUMNS[role]
    wanted = set(required) | set(optional)
    lookup = {k: v for k, v in HEADER_MAP.items() if v in wanted}
    lookup.update({c: c for c in wanted})
    lookup.update({normalise_header(k): v for k, v in (columns or {}).items()})
    return lookup, tuple(required)


def _targets(cells, columns=None) -> set:
    user = {normalise_header(k): v for k, v in (columns or {}).items()}
    canonical = {c for r in ROLE_COLUMNS.values() for part in r for c in part}
    out = set()
    for cell in cells:
        key = normalise_header(cell)
        target = (
            user.get(key) or HEADER_MAP.get(key) or (key if key in canonical else None)
        )
        if target is not None:
            out.add(target)
    return out


def role_of(cells, columns=None, prefer: str | None = None) -> str | None:
    """The role of a header row: the table it can be read as with most of its signs.

    None when it cannot be any (no customer id). Ties go to ``prefer``, then to
    payments, bills, customers in that order.

    >>> role_of(["户号", "缴费日期", "实收金额", "电费年月"])
    'payments'
    >>> role_of(["户号", "电费年月", "应收金额", "发行日期"])
    'bills'
    >>> role_of(["户号", "户名", "表计类型"])
    'customers'
    """
    got = _targets(cells, columns)
    if "customer_id" not in got:
        return None
    able = []
    for rank, role in enumerate(KINDS):
        required = ROLE_COLUMNS[role][0]
        if not set(required) <= got:
            continue
        if role == "bills" and not got & set(BILL_KEYS):
            continue
        able.append((len(got & _SIGNS[role]), role == prefer, -rank, role))
    return max(able)[3] if able else None


def sheet_role(grid, columns=None, prefer=None, find_header=None) -> str | None:
    """Role of a sheet (rows of cells): the best role over each role's header row."""
    best = None
    for role in KINDS:
        keys = header_keys(role, columns)
        at = find_header(grid, keys) if find_header is not None else 0
        if not grid or at >= len(grid):
            continue
        found = role_of(grid[at], columns, prefer)
        if found == role:
            return role
        best = best or found
    return best
