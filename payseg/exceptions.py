"""The errors payseg raises on bad input: a file it cannot read, a model file it refuses."""

from __future__ import annotations

from typing import Any

__all__ = ["ModelFileError", "PaymentDataError"]


class PaymentDataError(ValueError):
    """Raised when an input cannot be read at all (missing column, unreadable file).

    The message says what was found, what was expected and how to fix it. When rows
    were read but none was kept, ``rejected`` holds their ledger and ``counts`` the
    rows read and kept per source (both None otherwise).

    Examples
    --------
    >>> import payseg
    >>> try:
    ...     payseg.load("no/such/file.csv")
    ... except payseg.PaymentDataError as err:
    ...     print("cannot read" if "no/such/file.csv" in str(err) else err)
    cannot read
    """

    rejected: Any = None  # a DataFrame when set
    counts: dict | None = None


class ModelFileError(ValueError):
    """Raised when a saved model file is damaged, foreign or refused as unsafe."""
