"""Service actions per segment: an editable table and :func:`recommend`."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["ACTION_COLUMNS", "load_actions", "recommend"]

#: Columns of the actions table.
ACTION_COLUMNS = ("kind", "key", "priority", "action", "action_zh", "action_en")

#: Default column of ``customers`` read for each kind of the actions table.
DEFAULT_COLUMNS = {
    "archetype": "archetype",
    "tier": "tier",
    "grade": "grade",
    "value_class": "value_class",
    "warning": "warning",
}


def load_actions(path=None) -> pd.DataFrame:
    """The service-actions table: the bundled default, or your own edited copy.

    Each row maps one value of one customer attribute (``kind``: archetype, tier,
    grade, value_class or warning; ``key``: e.g. ``chronic_late``, ``A``) to an
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
        table = pd.read_csv(path, dtype="str", keep_default_na=False,
                            encoding="utf-8-sig")
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


def recommend(customers, *, table=None, columns=None) -> pd.DataFrame:
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
        ``grade``, ``value_class``, ``warning``); missing columns are skipped.

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
    """
    if not isinstance(customers, pd.DataFrame):
        raise TypeError(
            f"customers must be a DataFrame indexed by customer_id, got "
            f"{type(customers).__name__}"
        )
    table = load_actions() if table is None else _check_table(table)
    cols = dict(DEFAULT_COLUMNS if columns is None else columns)
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
        parts.append(pos.merge(rows.reset_index(names="_row"), on="key"))
    default = table[(table["kind"] == "*") & (table["key"] == "*")]
    if default.empty:
        default = pd.DataFrame(
            [{"kind": "*", "key": "*", "priority": np.inf, "action": "",
              "action_zh": "", "action_en": ""}]
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
