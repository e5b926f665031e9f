"""The vectorised generator behind :func:`payseg.synth.generate`.

Layout of the work: customers are drawn first (archetype, region, meter, parameters);
then, archetype by archetype, postpaid customers get an accounts x periods matrix of
bills and the payments that settle them, and prepaid customers a balance simulation
that triggers top-ups (a loop over top-up rounds, vectorised over customers). Finally
all payments pass through the calendar effects that apply to everyone: the Spring
Festival, quiet weekends and paydays, and a time of day by channel family.

All randomness comes from one ``numpy.random.Generator`` seeded by ``seed`` and is
drawn in a fixed order, so the same arguments give the same data bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import channels as _channels
from .._schema import empty, empty_rejected
from ..calendar import BillingCalendar, month_start_days, next_workday
from ..data import PaymentData
from ._archetypes import Archetype
from ._common import _frame, _make_ids, _take_ids, _tiered
from ._markets import Market, get_market

__all__ = ["generate"]

_NAT = np.iinfo(np.int64).min
_FAR = np.iinfo(np.int32).max // 2  # "no due date" for prepaid top-ups

# Relative weight of each hour of the day, by channel family (payseg.channels.GROUPS).
_HOURS = {
    # bank debit runs overnight, a few during the day
    "automatic": [0.1, 2, 4, 4, 2, 1, 0.6, 0.3] + [0.15] * 16,
    # phones: all day, evening peak
    "online": [
        0.3,
        0.15,
        0.1,
        0.1,
        0.1,
        0.15,
        0.3,
        0.7,
        1,
        1.1,
        1.1,
        1.1,
        1.3,
        1.1,
        1,
        1,
        1,
        1.1,
        1.5,
        2.2,
        2.6,
        2.4,
        1.8,
        0.8,
    ],
    "self_service": [0] * 7
    + [0.6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.8, 0.5, 0.2, 0],
    # service halls: office hours with a lunch dip
    "counter": [0] * 8 + [1.2, 1.5, 1.5, 1.2, 0.5, 0.9, 1.3, 1.3, 1.1, 0.6] + [0] * 6,
    "agent": [0] * 7 + [0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.2, 1.3, 1.2, 0.8, 0.3, 0, 0],
    "prepaid": [0] * 8
    + [1, 1.3, 1.3, 1.1, 0.6, 0.9, 1.2, 1.2, 1, 0.9, 0.5, 0.3, 0.2, 0, 0, 0],
}
# Share of weekend payments moved to the Friday before (weekends are quiet).
_WEEKEND_MOVE = {
    "automatic": 0.9,
    "online": 0.15,
    "self_service": 0.3,
    "counter": 0.5,
    "agent": 0.3,
    "prepaid": 0.3,
}
# Share of payments inside the Spring Festival holiday moved to the first working day
# after it (halls and outlets close, people travel).
_FESTIVAL_MOVE = {
    "automatic": 0.9,
    "online": 0.3,
    "self_service": 0.5,
    "counter": 0.95,
    "agent": 0.8,
    "prepaid": 0.8,
}
_PAYDAY_MOVE = 0.6
_PAYDAYS = np.array([10, 15])


def generate(
    n_customers: int = 10_000,
    seed=0,
    start="2024-01",
    months: int = 24,
    market="cn",
    archetypes=None,
    calendar: BillingCalendar | None = None,
    noise: float = 1.0,
    *,
    missing_period: float = 0.03,
    scenario: str = "default",
) -> PaymentData:
    """Generate resident customers with planted payment-behaviour archetypes.

    Parameters
    ----------
    n_customers : int, default 10_000
        Number of customers.
    seed : int or numpy.random.SeedSequence, default 0
        The only source of randomness: same arguments, same data, bit for bit.
    start : str or Period, default "2024-01"
        First billing period.
    months : int, default 24
        Billing periods simulated (monthly: 24 bills per postpaid customer). The
        extract runs from the first day of ``start`` to the end of the settlement
        month of the last period; payments after that have not happened yet, so the
        last bills of late payers are still open.
    market : {"cn", "us", "uk"} or Market, default "cn"
        Channels, regions, tariff, calendar and default shares.
    archetypes : sequence of Archetype, or mapping, optional
        Your own specs (a list of :class:`Archetype`, or a mapping key -> Archetype),
        or ``{key: share}`` to change only the shares of the market's defaults
        (archetypes left out get share 0). Shares are normalised.
    calendar : BillingCalendar, optional
        Billing calendar; the market's (monthly, due at month end) by default.
    noise : float, default 1.0
        Scales what blurs the archetypes: occasional other channels, late payments of
        punctual payers and channel migration. 0 gives textbook archetypes.
    missing_period : float, default 0.03
        Share of postpaid payments whose billing period is blanked (NaT), as in real
        exports.
    scenario : {"default", "field"}, default "default"
        "field": a field-realistic province extract instead of the archetypes
        (three districts, one billed bimonthly, one without bills; twelve
        overlapping behaviours; new and closed accounts; reversals and duplicates;
        5% of postpaid customers deteriorating), described in docs/synth.md. Only
        ``n_customers``, ``seed``, ``start`` and ``months`` apply to it; write it
        with :func:`payseg.synth.write_districts`. Its truth has ``behaviour``
        (also as ``archetype``), ``district``, ``deteriorating``,
        ``deteriorate_from`` and ``migration_month``.

    Returns
    -------
    PaymentData
        ``payments`` (customer_id, paid_at, channel, amount, period, region),
        ``bills``, ``customers`` (region, meter, tariff, theft) and ``truth``
        (archetype and the parameters drawn for each customer).

    Examples
    --------
    >>> import payseg
    >>> data = payseg.synth.generate(200, seed=1, months=6)
    >>> data.truth["archetype"].value_counts().index[0]
    'prompt_online'
    >>> data.payments.dtypes.astype(str).tolist()
    ['str', 'datetime64[ns]', 'category', 'float64', 'period[M]', 'category']
    >>> bool(data.payments.equals(payseg.synth.generate(200, seed=1, months=6).payments))
    True
    """
    if scenario == "field":
        changed = [
            name
            for name, value, default in (
                ("market", market, "cn"),
                ("archetypes", archetypes, None),
                ("calendar", calendar, None),
                ("noise", noise, 1.0),
                ("missing_period", missing_period, 0.03),
            )
            if not (value is default or value == default)
        ]
        if changed:
            raise ValueError(
                f"scenario='field' plants its own behaviours, calendars and noise; "
                f"got {changed} too. Leave them at their defaults (the field "
                "scenario takes n_customers, seed, start and months)"
            )
        from ._field import generate_field

        return generate_field(n_customers, seed=seed, start=start, months=months)
    if scenario != "default":
        raise ValueError(f"scenario must be 'default' or 'field', got {scenario!r}")
    mk = get_market(market)
    specs = _resolve_archetypes(archetypes, mk)
    cal = mk.calendar if calendar is None else calendar
    n = int(n_customers)
    if n < 1:
        raise ValueError(f"n_customers must be >= 1, got {n_customers!r}")
    if int(months) < 1:
        raise ValueError(f"months must be >= 1, got {months!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    if not 0 <= missing_period <= 1:
        raise ValueError(f"missing_period must be in [0, 1], got {missing_period!r}")
    rng = np.random.default_rng(seed)
    g = _Gen(rng, mk, specs, cal, pd.Period(start, freq="M"), int(months), float(noise))
    return g.run(n, float(missing_period))


def _resolve_archetypes(archetypes, mk: Market) -> tuple[Archetype, ...]:
    defaults = {a.key: a for a in mk.archetypes}
    if archetypes is None:
        specs = tuple(defaults.values())
    elif isinstance(archetypes, Mapping):
        values = list(archetypes.values())
        if values and all(isinstance(v, Archetype) for v in values):
            specs = tuple(values)
        else:
            unknown = sorted(set(archetypes) - set(defaults))
            if unknown:
                raise ValueError(
                    f"unknown archetype keys {unknown} for market {mk.key!r}; "
                    f"known: {sorted(defaults)}"
                )
            specs = tuple(
                a.with_share(archetypes.get(k, 0.0)) for k, a in defaults.items()
            )
    elif isinstance(archetypes, Sequence) and all(
        isinstance(a, Archetype) for a in archetypes
    ):
        specs = tuple(archetypes)
    else:
        raise TypeError(
            "archetypes must be a list of Archetype, a mapping key -> Archetype or "
            f"a mapping key -> share, got {type(archetypes).__name__}"
        )
    keys = [a.key for a in specs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"archetype keys must be unique, got {keys}")
    total = sum(a.share for a in specs)
    if not total > 0:
        raise ValueError("archetype shares must add up to more than 0")
    known = set(_channels.codes())
    for a in specs:
        bad = sorted((set(a.channels) | set(a.migrate_to)) - known)
        if bad:
            raise ValueError(
                f"archetype {a.key!r} uses unknown channel codes {bad}; add them with "
                "payseg.channels.register(...)"
            )
    return tuple(replace(a, share=a.share / total) for a in specs)


class _Gen:
    """State shared by the generation steps (a private helper, not an estimator)."""

    def __init__(self, rng, mk, specs, cal, start, months, noise):
        self.rng, self.mk, self.specs, self.cal = rng, mk, specs, cal
        self.start, self.months, self.noise = start, months, noise
        self.codes = _channels.codes()
        self.pos = {c: i for i, c in enumerate(self.codes)}
        tab = _channels.table()
        group_names = list(_HOURS)
        self.group_of = np.array(
            [group_names.index(tab.loc[c, "group"]) for c in self.codes], dtype=np.int8
        )
        self.group_names = group_names
        # Bills for the periods [start, start + months); the extract ends with the
        # settlement month of the last period (payments after it have not happened).
        mpb = cal.months_per_bill
        lag = mpb if cal.settlement_lag is None else int(cal.settlement_lag)
        self.periods = cal.periods(start, months)
        self.d0 = int(month_start_days([start.ordinal])[0])
        last = int(self.periods.asi8[-1])
        self.d_end = int(month_start_days([last + lag + 1])[0])  # exclusive

    # ------------------------------------------------------------------ helpers
    def _mix(self, mapping):
        keys = list(mapping)
        w = np.array([mapping[k] for k in keys], dtype=float)
        return np.array([self.pos[k] for k in keys], dtype=np.int16), w / w.sum()

    def _choose(self, mapping, size):
        idx, p = self._mix(mapping)
        return idx[self.rng.choice(len(idx), size=size, p=p)]

    def _uniform(self, lohi, size):
        lo, hi = lohi
        return lo + (hi - lo) * self.rng.random(size)

    # ------------------------------------------------------------------ main
    def run(self, n, missing_period):
        rng, mk, specs = self.rng, self.mk, self.specs
        shares = np.array([a.share for a in specs])
        arch = rng.choice(len(specs), size=n, p=shares).astype(np.int16)
        ids = _make_ids(n)

        regions = list(mk.urban_regions) + list(mk.rural_regions)
        rural_share = np.array([a.rural_share for a in specs])[arch]
        rural = rng.random(n) < rural_share
        nu, nr = len(mk.urban_regions), len(mk.rural_regions)
        # Regions of unequal size: weights 1, 0.85, 0.7, ...
        wu = 1 - 0.15 * np.arange(nu)
        wr = 1 - 0.15 * np.arange(nr)
        region = np.where(
            rural,
            nu + rng.choice(nr, size=n, p=wr / wr.sum()),
            rng.choice(nu, size=n, p=wu / wu.sum()),
        ).astype(np.int16)
        prepaid_arch = np.array([a.meter == "prepaid" for a in specs])
        theft_p = np.where(
            np.array([a.key == "chronic_late" for a in specs]), 0.01, 0.002
        )[arch]
        theft = rng.random(n) < theft_p
        self.rural = rural

        truth = _TruthCollector(n)
        pay_parts, bill_parts = [], []
        for k, spec in enumerate(specs):
            members = np.flatnonzero(arch == k)
            if members.size == 0:
                continue
            if spec.meter == "prepaid":
                pay_parts.append(self._prepaid(spec, members, truth))
            else:
                pays, bills = self._postpaid(spec, members, truth)
                pay_parts.append(pays)
                bill_parts.append(bills)

        pay = {}
        for key in list(pay_parts[0]):
            pay[key] = np.concatenate([p.pop(key) for p in pay_parts])
        del pay_parts
        self._calendar_effects(pay, truth.payday)
        # Only payments made inside the extract are in it (a Spring Festival shift
        # can carry one past its end).
        inside = (pay["day"] >= self.d0) & (pay["day"] < self.d_end)
        if not inside.all():
            pay = {k: v[inside] for k, v in pay.items()}
        pay["amount"] = self._late_fees(pay)
        del pay["issued"], pay["due"]  # only needed for the calendar effects
        secs = self._time_of_day(pay["chan"])
        if missing_period > 0:
            has = pay["period"] != _NAT
            blank = has & (rng.random(has.size) < missing_period)
            pay["period"] = np.where(blank, _NAT, pay["period"])

        payments = self._payments_frame(pay, secs, ids, region, regions)
        del pay, secs
        bills = self._bills_frame(bill_parts, ids, ~prepaid_arch[arch])
        del bill_parts
        customers = pd.DataFrame(
            {
                "region": pd.Categorical.from_codes(region, categories=regions),
                "meter": pd.Categorical.from_codes(
                    prepaid_arch[arch].astype(np.int8),
                    categories=["postpaid", "prepaid"],
                ),
                "tariff": pd.Categorical.from_codes(
                    np.zeros(n, dtype=np.int8), categories=["residential"]
                ),
                "theft": theft,
            },
            index=pd.Index(_take_ids(ids, np.arange(len(ids))), name="customer_id"),
        )
        truth_frame = truth.frame(
            ids, [a.key for a in specs], arch, self.codes, self.d0
        )
        return PaymentData(
            payments=payments,
            bills=bills,
            customers=customers,
            rejected=empty_rejected(),
            truth=truth_frame,
            counts={},
        )

    # ------------------------------------------------------------------ per customer
    def _common(self, spec, members, truth):
        """Favourite channel, migration, consumption and payday of each member."""
        rng, m = self.rng, members.size
        fav = self._choose(spec.channels, m)
        p_mig = min(1.0, spec.migrate_share * self.noise)
        migrant = rng.random(m) < p_mig if p_mig > 0 else np.zeros(m, dtype=bool)
        mig_ch = (
            self._choose(spec.migrate_to, m)
            if spec.migrate_to
            else np.full(m, -1, dtype=np.int16)
        )
        span = self.d_end - self.d0
        mig_day = np.where(
            migrant,
            self.d0 + (span * (0.25 + 0.5 * rng.random(m))).astype(np.int64),
            _FAR,
        )
        kwh = (
            spec.kwh[0]
            * self.mk.kwh_scale
            * np.exp(spec.kwh[1] * rng.standard_normal(m))
        )
        payday = np.where(
            rng.random(m) < spec.payday_share, _PAYDAYS[rng.integers(0, 2, size=m)], 0
        )
        truth.put(
            members,
            favourite=fav,
            migrate_to=np.where(migrant, mig_ch, -1),
            migrate_on=np.where(migrant, mig_day, _NAT),
            kwh=kwh,
            payday=payday,
        )
        return fav, migrant, mig_ch, mig_day, kwh, payday

    def _channel_of(self, spec, local, day, fav, migrant, mig_ch, mig_day, members):
        """Channel index of each payment of one archetype."""
        rng = self.rng
        ch = fav[local].copy()
        moved = migrant[local] & (day >= mig_day[local])
        ch[moved] = mig_ch[local[moved]]
        p_other = min(1.0, spec.p_other * self.noise)
        if p_other > 0:
            other = rng.random(local.size) < p_other
            n_other = int(other.sum())
            if spec.meter == "prepaid":
                ch[other] = self._choose(spec.channels, n_other)
            else:
                rural = self.rural[members[local[other]]]
                urban_draw = self._choose(self.mk.urban_other, n_other)
                rural_draw = self._choose(self.mk.rural_other, n_other)
                ch[other] = np.where(rural, rural_draw, urban_draw)
        return ch

    # ------------------------------------------------------------------ postpaid
    def _postpaid(self, spec, members, truth):
        rng, mk, cal = self.rng, self.mk, self.cal
        m = members.size
        fav, migrant, mig_ch, mig_day, kwh, payday = self._common(spec, members, truth)
        ords = self.periods.asi8
        P = ords.size
        mpb = cal.months_per_bill
        rday = cal.draw_reading_days(m, rng)
        issued, due = cal.dates(ords, rday, rng)

        # Amounts: tiered tariff on consumption with summer and winter peaks.
        month_idx = (ords[:, None] + np.arange(mpb)[None, :]) % 12
        season = np.asarray(mk.season)[month_idx].sum(axis=1)  # (P,)
        use = (
            kwh[:, None] * season[None, :] * np.exp(0.12 * rng.standard_normal((m, P)))
        )
        amount_due = np.round(_tiered(use, mk.tier_kwh, mk.tier_price, mpb), 2)
        amount_due = np.maximum(amount_due, 0.01)

        # Which bills get paid.
        delay_mean = self._uniform(spec.delay_days, m)
        skip_p = self._uniform(spec.skip_prob, m)
        k_lo, k_hi = spec.pay_every
        every = rng.integers(k_lo, k_hi + 1, size=m)
        phase = rng.integers(0, every)
        if spec.skip_prob[1] > 0:
            skip = rng.random((m, P)) < skip_p[:, None]
        else:
            skip = np.zeros((m, P), dtype=bool)
        if k_hi > 1:
            turn = ((np.arange(P)[None, :] + phase[:, None]) % every[:, None]) == (
                every[:, None] - 1
            )
        else:
            turn = np.ones((m, P), dtype=bool)
        paid = turn & ~skip

        # When: a gamma delay around the customer's mean, from issue or due date.
        shape = spec.delay_shape
        gam = rng.gamma(shape, 1.0, size=(m, P)) * (np.abs(delay_mean)[:, None] / shape)
        offset = np.floor(gam).astype(np.int64)
        late_p = min(1.0, spec.late_prob * self.noise)
        if spec.anchor == "issued":
            day = np.minimum(issued + offset, due)
        elif spec.delay_days[0] < 0:  # before the due date
            sign = np.sign(delay_mean)[:, None].astype(np.int64)
            day = np.where(sign < 0, np.maximum(due - offset, issued), due + 1 + offset)
        else:  # after the due date: chronically late
            day = due + 1 + offset
        if late_p > 0:
            # A punctual payer now and then forgets and pays a few days late.
            r, c = np.nonzero((rng.random((m, P)) < late_p) & (day <= due))
            late_by = 1 + np.floor(rng.gamma(1.5, 4.0 / 1.5, size=r.size))
            day[r, c] = due[r, c] + late_by.astype(np.int64)
        if spec.catch_up > 0:
            # A skipped bill is often settled with the next payment, one row per bill.
            big = np.iinfo(np.int64).max
            own_day = np.where(paid, day, big)
            nxt = np.minimum.accumulate(own_day[:, ::-1], axis=1)[:, ::-1]
            nxt = np.concatenate([nxt[:, 1:], np.full((m, 1), big)], axis=1)
            caught = skip & turn & (nxt < big) & (rng.random((m, P)) < spec.catch_up)
            day = np.where(caught, nxt, day)
            paid = paid | caught

        r_loc, c_loc = np.nonzero(paid)
        bill_amt = amount_due[r_loc, c_loc]
        if k_hi > 1:
            # Pays every k-th bill: settles everything since the previous payment.
            cum = np.cumsum(amount_due, axis=1)[r_loc, c_loc]
            prev = np.r_[0.0, cum[:-1]]
            first = np.r_[True, r_loc[1:] != r_loc[:-1]]
            bill_amt = np.round(np.where(first, cum, cum - prev), 2)
        pday = day[r_loc, c_loc]
        pdue = due[r_loc, c_loc]
        # The late fee is added once the calendar effects have fixed the day.
        amount = bill_amt
        chan = self._channel_of(
            spec, r_loc, pday, fav, migrant, mig_ch, mig_day, members
        )
        truth.put(
            members,
            delay_mean=delay_mean,
            skip_prob=skip_p,
            catch_up=np.full(m, spec.catch_up),
            late_prob=np.full(m, late_p),
            pay_every=every,
            reading_day=rday,
        )
        pays = {
            "cust": members[r_loc].astype(np.int64),
            "day": pday.astype(np.int64),
            "chan": chan.astype(np.int16),
            "amount": amount,
            "period": ords[c_loc],
            "issued": issued[r_loc, c_loc],
            "due": pdue,
        }
        bills = {
            "cust": np.repeat(members.astype(np.int64), P),
            "period": np.tile(ords, m),
            "issued": issued.ravel(),
            "due": due.ravel(),
            "amount": amount_due.ravel(),
        }
        return pays, bills

    # ------------------------------------------------------------------ prepaid
    def _prepaid(self, spec, members, truth):
        """Balance simulation: top up when the balance falls to the threshold."""
        rng, mk = self.rng, self.mk
        m = members.size
        fav, migrant, mig_ch, mig_day, kwh, payday = self._common(spec, members, truth)
        ndays = self.d_end - self.d0
        day_no = self.d0 + np.arange(ndays)
        month = (
            day_no.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
        )
        # Cumulative consumption profile (in "typical days"), shared by all customers.
        cum = np.r_[0.0, np.cumsum(np.asarray(mk.season)[month])]
        price = mk.tier_price[0]
        rate = kwh * price / 30.44  # currency per typical day
        step = spec.topup_round
        usual = np.maximum(
            np.round(self._uniform(spec.topup_amount, m) / step) * step, step
        )
        thr = self._uniform(spec.topup_threshold, m)
        r_lo, r_hi = spec.response_days

        act = np.arange(m)
        t = np.zeros(m, dtype=np.int64)
        bal = thr + usual * rng.random(m)
        out_c, out_d, out_a = [], [], []
        while act.size:
            need = np.maximum(bal - thr[act], 0) / rate[act]
            cross = np.searchsorted(cum, cum[t] + need, side="left")
            d = np.maximum(cross + rng.integers(r_lo, r_hi + 1, size=act.size), t + 1)
            live = d < ndays
            act, d, t, bal = act[live], d[live], t[live], bal[live]
            if not act.size:
                break
            left = np.maximum(bal - rate[act] * (cum[d] - cum[t]), 0.0)
            vary = rng.random(act.size) < 0.25
            mult = np.where(vary, np.exp(0.35 * rng.standard_normal(act.size)), 1.0)
            amt = np.maximum(np.round(usual[act] * mult / step) * step, step)
            out_c.append(act)
            out_d.append(d)
            out_a.append(amt)
            bal = left + amt
            t = d
        local = np.concatenate(out_c) if out_c else np.zeros(0, dtype=np.int64)
        pday = self.d0 + (np.concatenate(out_d) if out_d else np.zeros(0, np.int64))
        amount = np.concatenate(out_a) if out_a else np.zeros(0)
        chan = self._channel_of(
            spec, local, pday, fav, migrant, mig_ch, mig_day, members
        )
        truth.put(members, topup_amount=usual, topup_threshold=thr)
        return {
            "cust": members[local].astype(np.int64),
            "day": pday.astype(np.int64),
            "chan": chan.astype(np.int16),
            "amount": amount.astype(np.float64),
            "period": np.full(local.size, _NAT, dtype=np.int64),
            "issued": np.full(local.size, -_FAR, dtype=np.int64),
            "due": np.full(local.size, _FAR, dtype=np.int64),
        }

    # ------------------------------------------------------------------ everyone
    def _calendar_effects(self, pay, payday_of):
        """Spring Festival, quiet weekends and paydays, keeping each payment's
        on-time/late status (and never moving it before its bill was issued).

        Each effect touches only the rows it may move (a few per cent for the
        festival, two days in seven for weekends), drawn as index subsets.
        """
        rng = self.rng
        if pay["day"].size == 0:
            return
        day, issued, due = pay["day"].copy(), pay["issued"], pay["due"]
        grp_all = self.group_of[pay["chan"]]

        def move(rows, new, prob_by_group):
            """Move ``rows`` to ``new`` with a probability by channel family."""
            grp = grp_all[rows]
            p = np.array([prob_by_group[g] for g in self.group_names])[grp]
            late = day[rows] > due[rows]
            ok = (
                (rng.random(rows.size) < p)
                & (new >= issued[rows])
                & ((new > due[rows]) == late)
            )
            day[rows[ok]] = new[ok]

        if self.cal.holidays == "cn" or self.mk.key == "cn":
            from ..calendar import _covered_years, spring_festival

            lo, hi = _covered_years()
            y0, y1 = (
                int(str(np.datetime64(int(x), "D"))[:4]) for x in (day.min(), day.max())
            )
            years = [y for y in range(y0, y1 + 1) if lo <= y <= hi]
            blocks = spring_festival(years) if years else None
            for _, row in blocks.iterrows() if blocks is not None else ():
                s = int(np.datetime64(row["start"], "D").astype(np.int64))
                e = int(np.datetime64(row["end"], "D").astype(np.int64))
                after = int(next_workday(np.array([e + 1], dtype=np.int64))[0])
                rows = np.flatnonzero((day >= s) & (day <= e))
                move(rows, np.full(rows.size, after, dtype=day.dtype), _FESTIVAL_MOVE)

        dow = (day + 3) % 7  # Monday = 0
        rows = np.flatnonzero(dow >= 5)
        move(rows, day[rows] - (dow[rows] - 4), _WEEKEND_MOVE)

        pd_day = payday_of[pay["cust"]]
        rows = np.flatnonzero(pd_day > 0)
        rows = rows[grp_all[rows] != self.group_names.index("automatic")]
        dom = _day_of_month(day[rows])
        gap = pd_day[rows] - dom
        near = (gap >= 1) & (gap <= 4)
        rows, gap = rows[near], gap[near]
        new = day[rows] + gap + rng.integers(0, 2, size=rows.size)
        move(rows, new, dict.fromkeys(self.group_names, _PAYDAY_MOVE))
        pay["day"] = day

    def _late_fees(self, pay):
        """Amount paid: the bill plus the late fee for the days it is overdue."""
        mk = self.mk
        days_late = np.maximum(pay["day"] - pay["due"], 0)
        if mk.late_fee_rate <= 0:
            return pay["amount"]
        fee = np.where(
            days_late > 0,
            np.maximum(pay["amount"] * mk.late_fee_rate * days_late, mk.min_late_fee),
            0.0,
        )
        return np.round(pay["amount"] + fee, 2)

    def _time_of_day(self, chan):
        """Seconds after midnight, from an hour profile by channel family.

        The hour comes from a lookup table of 4096 equal-probability bins per family
        (inverse CDF, quantised), one gather per payment.
        """
        rng = self.rng
        bins = 4096
        centres = (np.arange(bins) + 0.5) / bins
        table = np.empty((len(self.group_names), bins), dtype=np.int64)
        for gi, name in enumerate(self.group_names):
            w = np.asarray(_HOURS[name], dtype=float)
            cdf = np.cumsum(w) / w.sum()
            table[gi] = np.minimum(np.searchsorted(cdf, centres, side="right"), 23)
        grp = self.group_of[chan]
        u = rng.integers(0, bins * 3600, size=chan.size)
        return table[grp, u // 3600] * 3600 + u % 3600

    # ------------------------------------------------------------------ frames
    def _payments_frame(self, pay, secs, ids, region, regions):
        cust = pay["cust"]
        stamp = pay["day"] * 86_400 + secs
        n = len(ids)
        # Parts arrive customer-sorted per archetype: a stable (run-aware) sort of one
        # combined key is much faster than a lexsort or a quicksort.
        if n < (1 << 22):
            base = stamp.min() if stamp.size else 0
            order = np.argsort((cust << 40) | (stamp - base), kind="stable")
        else:
            order = np.lexsort((stamp, cust))
        cust = cust[order]
        return _frame(
            {
                "customer_id": _take_ids(ids, cust),
                "paid_at": (stamp[order] * 1_000_000_000).view("datetime64[ns]"),
                "channel": pd.Categorical.from_codes(
                    pay["chan"][order], categories=self.codes
                ),
                "amount": pay["amount"][order],
                "period": pd.arrays.PeriodArray(
                    pay["period"][order], dtype=pd.PeriodDtype("M")
                ),
                "region": pd.Categorical.from_codes(region[cust], categories=regions),
            }
        )

    def _bills_frame(self, parts, ids, postpaid):
        if not parts:
            return empty("bills")
        # Every postpaid customer has one bill per period: scatter each archetype's
        # rows straight to their place (customer-major) instead of sorting.
        P = self.periods.size
        rank = np.cumsum(postpaid) - 1
        total = int(postpaid.sum()) * P
        out = {k: np.empty(total, dtype=parts[0][k].dtype) for k in parts[0]}
        while parts:
            part = parts.pop()
            cust = part["cust"]
            dest = rank[cust] * P + np.tile(np.arange(P), cust.size // P)
            for k, v in part.items():
                out[k][dest] = v
            del part, cust, dest
        return _frame(
            {
                "customer_id": _take_ids(ids, out["cust"]),
                "period": pd.arrays.PeriodArray(
                    out["period"], dtype=pd.PeriodDtype("M")
                ),
                "issued_on": (out["issued"] * 86_400_000_000_000).view(
                    "datetime64[ns]"
                ),
                "due_on": (out["due"] * 86_400_000_000_000).view("datetime64[ns]"),
                "amount_due": out["amount"],
            }
        )


def _day_of_month(day: np.ndarray) -> np.ndarray:
    """Day of month (1-31) of day numbers, through a lookup over the range spanned."""
    if day.size == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = int(day.min()), int(day.max())
    span = np.arange(lo, hi + 1).astype("datetime64[D]")
    dom = (span - span.astype("datetime64[M]").astype("datetime64[D]")).astype(
        np.int64
    ) + 1
    return dom[day - lo]


class _TruthCollector:
    """Per-customer drawn parameters, NaN where an archetype has none."""

    _FLOAT = (
        "kwh",
        "delay_mean",
        "skip_prob",
        "catch_up",
        "late_prob",
        "topup_amount",
        "topup_threshold",
    )
    _INT = ("favourite", "migrate_to", "payday", "pay_every", "reading_day")

    def __init__(self, n):
        self.n = n
        self.cols = {k: np.full(n, np.nan) for k in self._FLOAT}
        self.cols.update({k: np.full(n, -1, dtype=np.int64) for k in self._INT})
        self.cols["migrate_on"] = np.full(n, _NAT, dtype=np.int64)

    @property
    def payday(self):
        return np.maximum(self.cols["payday"], 0)

    def put(self, members, **values):
        for k, v in values.items():
            self.cols[k][members] = v

    def frame(self, ids, keys, arch, codes, d0):
        c = self.cols
        code_cats = list(codes)

        def chan(col):
            return pd.Categorical.from_codes(c[col], categories=code_cats)

        mig = c["migrate_on"]
        mig_ns = np.where(mig == _NAT, _NAT, mig * 86_400_000_000_000)
        out = pd.DataFrame(
            {
                "archetype": pd.array(
                    np.asarray(keys, dtype=object)[arch], dtype="str"
                ),
                "favourite_channel": chan("favourite"),
                "migrate_to": chan("migrate_to"),
                "migrate_on": mig_ns.view("datetime64[ns]"),
                "kwh_month": c["kwh"],
                "delay_mean": c["delay_mean"],
                "skip_prob": c["skip_prob"],
                "catch_up": c["catch_up"],
                "late_prob": c["late_prob"],
                "pay_every": np.where(c["pay_every"] < 0, np.nan, c["pay_every"]),
                "reading_day": np.where(c["reading_day"] < 0, np.nan, c["reading_day"]),
                "payday": np.where(c["payday"] < 0, np.nan, c["payday"]),
                "topup_amount": c["topup_amount"],
                "topup_threshold": c["topup_threshold"],
            },
            index=pd.Index(_take_ids(ids, np.arange(len(ids))), name="customer_id"),
        )
        return out
