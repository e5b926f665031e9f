"""Service actions per segment: an editable table and :func:`recommend`."""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pandas as pd

__all__ = [
    "ACTION_COLUMNS",
    "SMALL_ARREARS",
    "action_text",
    "action_texts",
    "arrears_class",
    "load_actions",
    "recommend",
]

#: Columns of the actions table.
ACTION_COLUMNS = ("kind", "key", "priority", "action", "action_zh", "action_en")

#: Default column of ``customers`` read for each kind of the actions table.
DEFAULT_COLUMNS = {
    "archetype": "archetype",
    "tier": "tier",
    "grade": "grade",
    "value_class": "value_class",
    "warning": "warning",
    "arrears": "arrears",
    # "no_data" for customers without any payment or bill (payseg.segment)
    "data": "data",
}

#: The channel habit an archetype's action takes for granted ("keep auto-debit"):
#: the share column of the feature table that must be above 0 for a customer to get
#: that archetype's action. A segment mixes habits (a counter payer in a segment
#: named auto-debit when behaviours merge); such a customer gets the next action.
HABIT_COLUMNS = {
    "auto_debit": "automatic_share",
    "prompt_online": "online_share",
    "counter_loyal": "counter_share",
    "agent_rural": "agent_share",
    "prepaid_frequent": "prepaid_share",
    "prepaid_occasional": "prepaid_share",
}

#: Arrears (yuan) below which a customer gets a reminder, never a cut-off notice.
SMALL_ARREARS = 100.0


def arrears_class(amount, small=SMALL_ARREARS) -> pd.Series:
    """``none``, ``small`` (0 < arrears < ``small`` yuan) or ``large`` per customer.

    The ``arrears`` kind of the actions table keys on it: the bundled table gives
    ``small`` arrears a payment reminder (``small_arrears_reminder``) ahead of the
    collection action of grade D, so 20 yuan owed never brings a cut-off notice.

    Examples
    --------
    >>> import pandas as pd
    >>> arrears_class(pd.Series([0.0, 20.0, 350.0, None])).tolist()
    ['none', 'small', 'large', 'none']
    """
    if not (
        isinstance(small, (int, float, np.integer, np.floating))
        and not isinstance(small, bool)
        and small >= 0
    ):
        raise ValueError(f"small_arrears must be a number of yuan >= 0, got {small!r}")
    a = pd.to_numeric(pd.Series(amount), errors="coerce").fillna(0.0)
    out = np.where(a <= 0, "none", np.where(a < small, "small", "large"))
    return pd.Series(out, index=a.index, name="arrears", dtype="str")


def load_actions(path=None) -> pd.DataFrame:
    """The service-actions table: the bundled default, or your own edited copy.

    Each row maps one value of one customer attribute (``kind``: archetype, tier,
    grade, value_class, warning, arrears or data; ``key``: e.g. ``chronic_late``,
    ``A``, ``small``, ``no_data``) to an
    action with a ``priority`` (lower wins). The row ``*,*`` is the default action.
    To change the actions, save this table (``load_actions().to_csv("my.csv",
    index=False)``), edit it in a spreadsheet and pass ``load_actions("my.csv")`` to
    :func:`recommend`.

    Parameters
    ----------
    path : str or path, optional
        CSV with the columns ``kind, key, priority, action, action_zh, action_en``.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> t = load_actions()
    >>> t.loc[(t["kind"] == "tier") & (t["key"] == "A"), "action"].item()
    'vip_green_channel'
    """
    if path is None:
        path = resources.files("payseg.labels").joinpath("actions.csv")
        with path.open("r", encoding="utf-8") as f:
            table = pd.read_csv(f, dtype="str", keep_default_na=False)
    else:
        table = pd.read_csv(
            path, dtype="str", keep_default_na=False, encoding="utf-8-sig"
        )
    return _check_table(table)


def _check_table(table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ACTION_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"actions table lacks columns {missing}; it needs {list(ACTION_COLUMNS)}"
        )
    table = table.copy()
    prio = pd.to_numeric(table["priority"], errors="coerce")
    if prio.isna().any():
        bad = table.index[prio.isna()].tolist()
        raise ValueError(
            f"actions table: priority must be a number (rows {bad[:5]}); lower wins"
        )
    table["priority"] = prio.astype("float64")
    for c in ("kind", "key"):
        table[c] = table[c].astype("str").str.strip()
    return table.reset_index(drop=True)


def recommend(
    customers, *, table=None, columns=None, small_arrears=SMALL_ARREARS
) -> pd.DataFrame:
    """The service action per customer, from its archetype, tier, grade, value class.

    Every row of the actions table whose ``kind``/``key`` matches the customer is a
    candidate; the one with the lowest ``priority`` is the action (ties: first in the
    table). A customer with no match gets the ``*,*`` row (``standard_service``).
    Archetype names with a duplicate suffix (``deadline 2``) match their archetype.

    Parameters
    ----------
    customers : DataFrame
        Indexed by customer_id, with any of the columns named in ``columns``.
    table : DataFrame, optional
        Actions table (default :func:`load_actions`).
    columns : mapping, optional
        kind -> column of ``customers`` (default: ``archetype``, ``tier``,
        ``grade``, ``value_class``, ``warning``, ``arrears``, ``data``: ``no_data``
        for a customer without any payment or bill, whose bundled action is
        ``data_check`` ahead of every other); missing columns are skipped. Without an ``arrears`` column, an ``arrears_amount`` column (yuan)
        is classed by :func:`arrears_class`. Channel-family share columns of the
        feature table (``automatic_share``, ``online_share``, ``counter_share``,
        ``agent_share``, ``prepaid_share``), when present, keep an archetype's action
        from a customer who never uses the channel it assumes
        (:data:`HABIT_COLUMNS`): a counter payer in a segment named auto-debit is
        not told to keep auto-debit, and gets the next matching action.
    small_arrears : float, default 100
        Arrears below this many yuan are ``small``: a reminder, never a cut-off
        notice (with the bundled table).

    Returns
    -------
    DataFrame indexed like ``customers``: ``action``, ``action_zh``, ``action_en``,
    ``reason`` (the matching ``kind=key``) and ``actions`` (every matching action,
    most important first, comma-separated).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"archetype": ["chronic_late", "counter_loyal 2", "mixed"],
    ...                   "tier": ["A", "D", "D"]},
    ...                  index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> recommend(c)["action"].tolist()
    ['vip_green_channel', 'move_to_self_service', 'standard_service']
    >>> recommend(c).loc["a", "actions"]
    'vip_green_channel, reminder_autodebit_offer'
    >>> habit = pd.DataFrame({"archetype": ["auto_debit", "auto_debit"],
    ...                       "automatic_share": [0.8, 0.0]}, index=["d", "e"])
    >>> recommend(habit)["action"].tolist()
    ['keep_e_bill', 'standard_service']
    """
    if not isinstance(customers, pd.DataFrame):
        raise TypeError(
            f"customers must be a DataFrame indexed by customer_id, got "
            f"{type(customers).__name__}"
        )
    table = load_actions() if table is None else _check_table(table)
    cols = dict(DEFAULT_COLUMNS if columns is None else columns)
    arrears_col = cols.get("arrears")
    if (
        arrears_col is not None
        and arrears_col not in customers.columns
        and "arrears_amount" in customers.columns
    ):
        customers = customers.assign(
            **{
                arrears_col: arrears_class(
                    customers["arrears_amount"], small_arrears
                ).to_numpy()
            }
        )
    n = len(customers)
    parts = []
    for kind, col in cols.items():  # loop over the few attribute kinds
        if col not in customers.columns:
            continue
        values = customers[col].astype("str")
        if kind == "archetype":
            values = values.str.replace(r" \d+$", "", regex=True)
        rows = table[table["kind"] == kind]
        pos = pd.DataFrame({"_pos": np.arange(n), "key": values.to_numpy()})
        if kind == "archetype":
            pos = pos[~_lacks_habit(customers, values)]
        parts.append(pos.merge(rows.reset_index(names="_row"), on="key"))
    default = table[(table["kind"] == "*") & (table["key"] == "*")]
    if default.empty:
        default = pd.DataFrame(
            [
                {
                    "kind": "*",
                    "key": "*",
                    "priority": np.inf,
                    "action": "",
                    "action_zh": "",
                    "action_en": "",
                }
            ]
        )
    d = default.iloc[[0]].reset_index(names="_row")
    parts.append(d.loc[d.index.repeat(n)].assign(_pos=np.arange(n)))
    cand = pd.concat(parts, ignore_index=True)
    cand = cand.sort_values(["_pos", "priority", "_row"], kind="stable")
    # Only the default row for customers without another match.
    n_match = cand.groupby("_pos")["_pos"].transform("size")
    cand = cand[(cand["kind"] != "*") | (n_match == 1)]
    best = cand.drop_duplicates("_pos", keep="first").set_index("_pos").sort_index()
    # Join every matching action per customer without a Python call per customer:
    # one column per candidate rank (at most one per kind + the default).
    uniq = cand.drop_duplicates(["_pos", "action"])
    k = uniq.groupby("_pos").cumcount().to_numpy()
    all_actions = pd.Series("", index=best.index, dtype="str")
    for j in range(int(k.max()) + 1 if len(k) else 0):  # a handful of ranks
        part = uniq[k == j].set_index("_pos")["action"].reindex(best.index)
        sep = "" if j == 0 else ", "
        all_actions = all_actions + (sep + part).fillna("")
    out = pd.DataFrame(
        {
            "action": best["action"].to_numpy(),
            "action_zh": best["action_zh"].to_numpy(),
            "action_en": best["action_en"].to_numpy(),
            "reason": (best["kind"] + "=" + best["key"]).to_numpy(),
            "actions": all_actions.to_numpy(),
        },
        index=customers.index,
    )
    return out.astype("str")


def _lacks_habit(customers: pd.DataFrame, archetype: pd.Series) -> np.ndarray:
    """Customers whose archetype's action assumes a channel they never use: their
    share column (:data:`HABIT_COLUMNS`, when ``customers`` has it) is exactly 0.
    A missing share (NaN, no payment with a known channel) rules nothing out."""
    out = np.zeros(len(customers), dtype=bool)
    for name, col in HABIT_COLUMNS.items():  # a handful of archetypes
        if col in customers.columns:
            share = pd.to_numeric(customers[col], errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
            out |= (archetype.to_numpy() == name) & (share == 0)
    return out


# ------------------------------------------------------------------ action wording
_BUNDLED: dict | None = None


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


def _str(v) -> str:
    return "" if _missing(v) else str(v)


def _base_key(key):
    """Archetype key without its duplicate suffix ('deadline 2' -> 'deadline')."""
    return None if _missing(key) else re.sub(r" \d+$", "", str(key))


def _bundled_texts() -> dict:
    """Wording of the bundled table: code and (code, key) -> (zh, en), read once."""
    global _BUNDLED
    if _BUNDLED is None:
        t = load_actions()
        out: dict = {}
        for a, k, zh, en in zip(t["action"], t["key"], t["action_zh"], t["action_en"]):
            out.setdefault(a, (zh, en))  # first row of a code: the default
            out[(a, str(k))] = (zh, en)
        _BUNDLED = out
    return dict(_BUNDLED)


def action_texts(customers=None, segments=None) -> dict:
    """Wording of action codes: code and (code, key) -> (中文, English).

    The bundled table (:func:`load_actions`), overlaid with the wording carried by
    ``customers`` (columns ``action``, ``action_zh``/``action_en``, keyed by
    ``archetype``) and ``segments`` (keyed by ``key``), as :func:`payseg.segment`
    makes them. So codes from your own actions table read as text too, and a
    re-worded bundled code shows your words. When only the Chinese is given, the
    bundled English of that wording is used, else the code.

    Parameters
    ----------
    customers, segments : DataFrame, optional
        ``SegmentationResult.customers`` and ``.segments`` (or any frame with an
        ``action`` column and ``action_zh``/``action_en``).

    Returns
    -------
    dict
        Action code -> (zh, en), and (code, archetype key) -> (zh, en) where the
        wording depends on the archetype.

    Examples
    --------
    >>> texts = action_texts()
    >>> texts["vip_green_channel"][1]
    'green channel, regular account-manager visits, priority handling'
    """
    texts = _bundled_texts()
    for frame, key_col in ((customers, "archetype"), (segments, "key")):
        if not isinstance(frame, pd.DataFrame) or "action" not in frame:
            continue
        cols = [c for c in ("action", key_col, "action_zh", "action_en") if c in frame]
        if not {"action_zh", "action_en"} & set(cols):
            continue
        # A few distinct (code, key, wording) rows, not one per customer.
        for r in frame[cols].drop_duplicates().itertuples(index=False):
            r = r._asdict()
            code = _str(r["action"])
            zh, en = _str(r.get("action_zh")), _str(r.get("action_en"))
            if not code or not (zh or en):
                continue
            pair = (zh, en)
            if not en:  # only the Chinese is known: the bundled English if it is
                known = [v for k, v in texts.items() if k == code or k[:1] == (code,)]
                pair = next(((z, e) for z, e in known if z == zh), (zh, code))
            texts.setdefault(code, pair)
            if key_col in r:
                texts[(code, _base_key(r[key_col]))] = pair
    return texts


def action_text(code, key=None, texts=None) -> tuple[str, str] | None:
    """(中文, English) wording of one action code, or None for an unknown code.

    ``key`` (the archetype, with or without its duplicate suffix) picks the wording
    when several rows share a code (``keep_e_bill`` for auto-debit and for online
    payers); ``texts`` is :func:`action_texts` (default: the bundled table).

    Examples
    --------
    >>> action_text("move_to_self_service", "counter_loyal 2")[1]
    'guide to self-service terminals or the app; keep counter service for elderly customers'
    >>> action_text("no_such_code") is None
    True
    """
    if _missing(code) or code == "":
        return None
    texts = _bundled_texts() if texts is None else texts
    return texts.get((str(code), _base_key(key))) or texts.get(str(code))
