"""Bills inferred from the payments' billing periods when there is no bills table.

A payments-only export (a district whose system exports no 应收 table, only the
billing month 电费年月 on each payment) gets one bill per customer and period that
received a payment, dated with the utility's standard calendar
(:class:`payseg.calendar.BillingCalendar`): read on the middle day of the calendar's
``reading_days`` in the settlement month (day 8 by default), issued ``issue_lag[0]``
days later (rolled off days off as the calendar says), due as the calendar says (the
China default: the last day of the settlement month). Its amount due is the total
paid for that period, so the bill is settled by the last of that period's payments.

Skipped periods (``skipped=True``): a catch-up payer skips two to four bills and
then pays them in one lump, tagged with the latest period only. Between two
consecutive paid periods of a customer more than one export cycle apart, a bill is
inferred for every skipped cycle period; the amount paid for the period after the gap
is split evenly (cent-exact, remainder cents on its own bill) over the skipped bills
and its own, so each skipped bill's amount due is its share of that lump. The lump
itself, tagged with its own period, pays that period's bill and keeps the rest on it
(allocation rule 2 of docs/features.md), exactly as a lump tagged with the latest
period does against a billed district's real bills: the skipped bills stay open,
late and in arrears, and the lump counts in ``lump_share``
(:func:`payseg.features.cycle.lump_by_amount`). Settling them oldest first from the
lump was measured and is worse (docs/performance.md, issue 16). A gap longer than
:data:`BREAK_MONTHS` is a break (an empty home, a dormant account), not arrears: no
bill is inferred in it.

The export cycle is the user's where given (per customer, or the calendar's
frequency), else the region's: the modal gap in months between consecutive paid
periods over the region's customers (gaps up to :data:`BREAK_MONTHS`; a tie goes to
the shorter gap). Vectorised: one factorisation of the customer ids, one
``np.unique`` of (customer, period) keys and one of (region, gap) pairs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..calendar import BillingCalendar
from ._arrays import NS_PER_SECOND, PERIOD_NAT, ns_view, period_ordinals

#: Gaps between two paid periods longer than this many months are breaks (the home
#: was empty, the account dormant): no bills are inferred in them.
BREAK_MONTHS = 12
#: Region label of customers without a known region.
NO_REGION = "(no region)"


def middle_reading_day(calendar: BillingCalendar) -> int:
    """The middle day of ``calendar.reading_days`` (8 for the default 1-15).

    Inferred bills are read on it: the real reading day of an account is unknown,
    and the middle of the range is at most half the range away from it (the first
    day put every inferred bill up to two weeks early).
    """
    lo, hi = calendar.reading_days
    return (int(lo) + int(hi)) // 2


def describe(calendar: BillingCalendar, reading_day: int | None = None) -> str:
    """The calendar rule used, in words, for notes and docs."""
    due = (
        "the last day of the settlement month"
        if calendar.due == "month_end"
        else f"{calendar.due} days after issue"
    )
    day = middle_reading_day(calendar) if reading_day is None else reading_day
    return (
        f"{calendar.frequency} bills read on day {day} of the "
        f"settlement month, issued {calendar.issue_lag[0]} day(s) later, due "
        f"{due}"
    )


def _region_codes(payments: pd.DataFrame, known, codes, ids, regions):
    """Region code per customer (``codes`` order) and the region labels.

    ``regions`` (a Series by customer id, e.g. ``customers["region"]``) wins; else
    the last region on the customer's payment rows; else :data:`NO_REGION`.
    """
    n = len(ids)
    label = pd.Series(np.full(n, np.nan, dtype=object))
    if regions is not None and len(regions):
        reg = regions[~regions.index.duplicated()]
        label = pd.Series(
            reg.reindex(pd.Index(np.asarray(ids, dtype=object))).to_numpy(dtype=object)
        )
    if "region" in payments and label.isna().any():
        rows = payments["region"].to_numpy(dtype=object)[known]
        has = pd.notna(rows)
        # groupby().last(): the customer's last region on a payment row
        last = pd.Series(rows[has]).groupby(codes[has]).last()
        label = label.fillna(last)  # both indexed by customer code
    label = label.fillna(NO_REGION).astype(str)
    rcode, names = pd.factorize(label, sort=True)
    return rcode.astype(np.int64), list(names)


def _modal_gap(region: np.ndarray, gap: np.ndarray, n_regions: int) -> np.ndarray:
    """Per region, the most frequent gap (a tie: the shorter); 0 without any gap."""
    out = np.zeros(n_regions, dtype=np.int64)
    if not len(gap):
        return out
    width = BREAK_MONTHS + 1
    pairs, count = np.unique(region * width + gap, return_counts=True)
    r, g = pairs // width, pairs % width
    # by region, then most counted, then shorter gap: the first row of each region
    order = np.lexsort((g, -count, r))
    r, g = r[order], g[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = r[1:] != r[:-1]
    out[r[first]] = g[first]
    return out


def inferred_bills(
    payments: pd.DataFrame,
    calendar: BillingCalendar | None,
    *,
    skipped: bool = False,
    reading_day: str = "middle",
    cycle_months: pd.Series | None = None,
    regions: pd.Series | None = None,
):
    """Canonical bills inferred from the payments' periods, or None when the
    payments carry no period.

    Parameters
    ----------
    payments : DataFrame
        Canonical payments (``customer_id``, ``paid_at``, ``amount``, ``period``,
        optionally ``region``).
    calendar : BillingCalendar or None
        The calendar given by the user (None: the default,
        :class:`payseg.calendar.BillingCalendar`). A given calendar's frequency is
        the export cycle of every customer without a given ``cycle_months``.
    skipped : bool, default False
        Also infer bills for the periods skipped between two paid ones (see the
        module docstring).
    reading_day : {"middle", "first"}, default "middle"
        Day of ``calendar.reading_days`` the inferred bills are read on.
    cycle_months : Series, optional
        Given cycle in months per customer id (float, NaN: not given); wins over
        the calendar's frequency and the region's modal gap.
    regions : Series, optional
        Region per customer id (``customers["region"]``); else the payments'
        ``region`` column.

    Returns
    -------
    DataFrame or None
        ``customer_id``, ``period``, ``issued_on``, ``due_on``, ``amount_due``,
        sorted by customer and period. ``attrs["inference"]`` holds
        ``skipped`` (bills inferred for skipped periods), ``breaks`` (gaps over
        :data:`BREAK_MONTHS` left without bills) and ``cycles`` ({region: (months,
        "given" or "modal gap")}).

    Examples
    --------
    >>> import pandas as pd
    >>> pay = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "b"],
    ...     "paid_at": pd.to_datetime(["2024-02-10", "2024-05-12", "2024-02-10",
    ...                                "2024-03-10", "2024-04-10"]),
    ...     "amount": [50.0, 100.0, 40.0, 40.0, 40.0],
    ...     "period": pd.PeriodIndex(["2024-01", "2024-04", "2024-01", "2024-02",
    ...                               "2024-03"], freq="M")})
    >>> b = inferred_bills(pay, None, skipped=True)
    >>> b.loc[b["customer_id"] == "a", ["period", "amount_due"]].astype(str).values
    array([['2024-01', '50.0'],
           ['2024-02', '33.33'],
           ['2024-03', '33.33'],
           ['2024-04', '33.34']], dtype=object)
    >>> b.attrs["inference"]["cycles"]
    {'(no region)': (1, 'modal gap')}
    """
    if not len(payments) or "period" not in payments:
        return None
    ordinal = period_ordinals(payments["period"])
    known = (ordinal != PERIOD_NAT) & payments["paid_at"].notna().to_numpy()
    amount = payments["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    known &= ~np.isnan(amount)
    if not known.any():
        return None
    cal = BillingCalendar() if calendar is None else calendar
    fixed = dataclasses.replace(cal, issue_lag=(cal.issue_lag[0],) * 2)
    day_read = (
        middle_reading_day(cal) if reading_day == "middle" else cal.reading_days[0]
    )
    codes, ids = pd.factorize(payments["customer_id"].to_numpy()[known], sort=False)
    ordinal = ordinal[known]
    lo = int(ordinal.min())
    span = int(ordinal.max()) - lo + 1
    keys, inverse = np.unique(
        codes.astype(np.int64) * span + (ordinal - lo), return_inverse=True
    )
    total = np.bincount(inverse, weights=amount[known], minlength=len(keys))
    cust, per = keys // span, keys % span + lo
    cents = np.round(total * 100).astype(np.int64)
    cycle = np.full(len(keys), cal.months_per_bill, dtype=np.int64)
    info = {"skipped": 0, "breaks": 0, "paid_gaps": 0, "cycles": {}}
    if skipped:
        cycle, info = _cycles(
            payments,
            known,
            codes,
            ids,
            cust,
            per,
            calendar,
            info,
            cycle_months,
            regions,
        )
        paid = _paid_in_gap(payments, known, ids, inverse, cust, len(keys))
        cust, per, cents, cycle, info = _skipped(cust, per, cents, cycle, paid, info)
    out = {
        "customer_id": pd.array(np.asarray(ids, dtype=object)[cust], dtype="str"),
        "period": pd.PeriodIndex.from_ordinals(per, freq="M"),
    }
    issued = np.zeros(len(per), dtype=np.int64)
    due = np.zeros(len(per), dtype=np.int64)
    # One calendar per distinct cycle (at most 12): its frequency sets the
    # settlement month of a bill (one cycle after its period).
    for c in np.unique(cycle):
        rows = cycle == c
        cal_c = fixed
        if c != cal.months_per_bill:
            cal_c = dataclasses.replace(fixed, frequency=int(c))
        months = np.unique(per[rows])
        i_c, d_c = cal_c.dates(months, np.array([day_read]))
        pos = np.searchsorted(months, per[rows])
        issued[rows], due[rows] = i_c[0][pos], d_c[0][pos]
    day = np.datetime64("1970-01-01", "D")
    out["issued_on"] = (day + issued).astype("datetime64[ns]")
    out["due_on"] = (day + due).astype("datetime64[ns]")
    out["amount_due"] = cents / 100.0
    frame = pd.DataFrame(out)
    frame.attrs["inference"] = info
    return frame


def _cycles(payments, known, codes, ids, cust, per, calendar, info, given, regions):
    """Export cycle per (customer, period) row: given, the calendar's, or the
    region's modal gap between consecutive paid periods."""
    n = len(ids)
    mine = np.full(n, np.nan)
    if given is not None and len(given):
        g = given[~given.index.duplicated()]
        mine = g.reindex(pd.Index(np.asarray(ids, dtype=object))).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    if calendar is not None:
        # a calendar given by the user says how often its bills come
        mine = np.where(np.isnan(mine), calendar.months_per_bill, mine)
    rcode, names = _region_codes(payments, known, codes, ids, regions)
    same = np.zeros(len(cust), dtype=bool)
    same[1:] = cust[1:] == cust[:-1]
    gap = np.zeros(len(cust), dtype=np.int64)
    gap[1:] = per[1:] - per[:-1]
    use = same & (gap <= BREAK_MONTHS) & np.isnan(mine)[cust]
    modal = _modal_gap(rcode[cust[use]], gap[use], len(names))
    # a region without any gap (every customer paid once): monthly
    modal = np.where(modal > 0, modal, 1)
    free = np.isnan(mine)
    per_cust = np.where(free, modal[rcode], mine).astype(np.int64)
    cycles = {}
    for r, name in enumerate(names):  # one entry per region, for the note
        who = rcode == r
        if free[who].any():
            cycles[name] = (int(modal[r]), "modal gap")
        else:
            vals = np.unique(per_cust[who])
            cycles[name] = (int(vals[0]) if len(vals) == 1 else None, "given")
    info = dict(info, cycles=cycles)
    return per_cust[cust], info


def _paid_in_gap(payments, known, ids, inverse, cust, n_keys) -> np.ndarray:
    """bool per (customer, period) row: the customer made a payment without period
    after the last payment of its previous paid period and before the first of this
    one. Such a payment may well have paid the periods in between (an export that
    leaves some 电费年月 blank): they are no arrears.

    Times in whole seconds; one sort of (customer, second) keys of the payments
    without period and two ``searchsorted`` per gap.
    """
    out = np.zeros(n_keys, dtype=bool)
    amount = payments["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    loose = ~known & payments["paid_at"].notna().to_numpy() & ~np.isnan(amount)
    if not loose.any() or n_keys < 2:
        return out
    who = pd.Index(ids).get_indexer(payments["customer_id"].to_numpy()[loose])
    mine = who >= 0  # only customers with a paid period have gaps
    if not mine.any():
        return out
    sec = ns_view(payments["paid_at"]) // NS_PER_SECOND
    t, t_loose = sec[known], sec[loose][mine]
    first = np.full(n_keys, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n_keys, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, inverse, t)
    np.maximum.at(last, inverse, t)
    t0 = int(min(t.min(), t_loose.min()))
    # (customer, second) packed in one int64: 10M customers x 900 years fit
    width = int(max(t.max(), t_loose.max())) - t0 + 2
    keys = np.sort(who[mine].astype(np.int64) * width + (t_loose - t0))
    base = cust[1:].astype(np.int64) * width
    lo = np.searchsorted(keys, base + (last[:-1] - t0), side="right")
    hi = np.searchsorted(keys, base + (first[1:] - t0), side="left")
    out[1:] = (cust[1:] == cust[:-1]) & (hi > lo)
    return out


def _skipped(cust, per, cents, cycle, paid, info):
    """Rows for the skipped periods added: (cust, period, cents, cycle, info),
    sorted by customer and period. ``paid``: a payment without period was made in
    the gap before that row (then no bill is inferred in it)."""
    nk = len(cust)
    same = np.zeros(nk, dtype=bool)
    same[1:] = cust[1:] == cust[:-1]
    gap = np.zeros(nk, dtype=np.int64)
    gap[1:] = per[1:] - per[:-1]
    # the row after a gap: skipped cycle periods in between (ceil(gap / cycle) - 1)
    n_skip = np.where(same & (gap > cycle), -(-gap // cycle) - 1, 0)
    breaks = n_skip > 0
    breaks &= gap > BREAK_MONTHS
    # each piece of the split at least one cent (else nothing to settle them with)
    n_skip = np.where(breaks | paid | (cents < n_skip + 1), 0, n_skip)
    info = dict(
        info,
        breaks=int(breaks.sum()),
        paid_gaps=int((paid & ~breaks & same & (gap > cycle)).sum()),
        skipped=int(n_skip.sum()),
    )
    if not n_skip.any():
        return cust, per, cents, cycle, info
    share = cents // (n_skip + 1)
    own = cents - n_skip * share  # the remainder cents stay on the own bill
    at = np.flatnonzero(n_skip)
    reps = n_skip[at]
    src = np.repeat(at, reps)
    # k = 1 .. n_skip: the k-th cycle period after the previous paid one
    k = np.arange(len(src)) - np.repeat(np.cumsum(reps) - reps, reps) + 1
    s_per = per[src - 1] + k * cycle[src]
    cust = np.concatenate([cust, cust[src]])
    per = np.concatenate([per, s_per])
    cents = np.concatenate([np.where(n_skip > 0, own, cents), share[src]])
    cycle = np.concatenate([cycle, cycle[src]])
    order = np.lexsort((per, cust))
    return cust[order], per[order], cents[order], cycle[order], info
