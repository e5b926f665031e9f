"""The field-realistic scenario of :func:`payseg.synth.generate` (``scenario="field"``).

A province extract as it comes from the field, built to test payseg against the mess
the default scenario leaves out: three districts (供电单位) with their own export
systems, one billed every two months, one whose export has no bills table; twelve
overlapping behaviours with per-customer favourite channels, delay spreads and 8-16%
off-pattern payments; new and closed accounts; reversed payments and duplicated
rows; and about 5% of postpaid customers deteriorating over their last 4-6 months.

Everything is vectorised over customers and bills: an accounts x months matrix of
bills (a bimonthly district uses every other column), payments drawn per group of
bills settled together (one bill for most behaviours, 2-4 for catch-up payers, a
failed debit's fallback), and prepaid top-ups from a customers x top-ups matrix of
gaps. One ``numpy.random.Generator`` seeded by ``seed`` draws everything in a fixed
order, so a seed gives the same frames bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import channels as _channels
from .._schema import empty, empty_rejected
from ..calendar import month_start_days
from ..data import PaymentData
from ._common import _frame, _make_ids, _take_ids, _tiered
from ._markets import get_market

__all__ = ["BEHAVIOURS", "DISTRICTS", "generate_field", "write_districts"]

#: behaviour key -> (share, 中文)
BEHAVIOURS = {
    "auto_debit": (0.12, "银行代扣"),
    "auto_debit_fallback": (0.06, "代扣失败后补缴"),
    "prompt_app": (0.15, "线上及时"),
    "deadline_app": (0.12, "线上截止日前"),
    "counter_loyal": (0.08, "柜台忠实"),
    "counter_to_app": (0.07, "柜台转线上"),
    "agent_rural": (0.08, "农村代收点"),
    "chronic_late": (0.06, "长期逾期"),
    "vacant_seasonal": (0.06, "空置/季节性"),
    "prepaid_small": (0.08, "预付费小额频繁"),
    "prepaid_large": (0.05, "预付费大额偶尔"),
    "catch_up": (0.07, "集中补缴"),
}
_KEYS = list(BEHAVIOURS)
_B = {k: i for i, k in enumerate(_KEYS)}

#: district -> (供电单位, months per bill, share of customers, export profile)
DISTRICTS = {
    "A": ("城东供电所", 1, 0.40, "marketing system, Chinese headers, CSV UTF-8, bills"),
    "B": (
        "西山供电所",
        2,
        0.30,
        "bimonthly billing, other Chinese headers, CSV GB18030, bills",
    ),
    "C": ("南湖镇供电所", 1, 0.30, "payments only (电费年月), Parquet, no bills table"),
}
_DISTRICT_KEYS = list(DISTRICTS)

# Favourite channel mix per behaviour.
_CHANNELS = {
    "auto_debit": {"card_debit": 0.6, "entrusted_debit": 0.4},
    "auto_debit_fallback": {"card_debit": 0.6, "entrusted_debit": 0.4},
    "prompt_app": {"sgcc_app": 0.4, "alipay": 0.3, "wechat": 0.3},
    "deadline_app": {"sgcc_app": 0.4, "alipay": 0.3, "wechat": 0.3},
    "counter_loyal": {"counter": 0.7, "bank_counter": 0.3},
    "counter_to_app": {"counter": 0.8, "bank_counter": 0.2},
    "agent_rural": {"agent_outlet": 0.6, "postal": 0.3, "partner_hall": 0.1},
    "chronic_late": {"wechat": 0.3, "alipay": 0.25, "sgcc_app": 0.25, "counter": 0.2},
    "vacant_seasonal": {"sgcc_app": 0.4, "alipay": 0.3, "counter": 0.3},
    "prepaid_small": {
        "sgcc_app": 0.4,
        "alipay": 0.25,
        "wechat": 0.25,
        "auto_topup": 0.1,
    },
    "prepaid_large": {
        "counter": 0.35,
        "ic_card": 0.35,
        "utility_kiosk": 0.15,
        "sgcc_app": 0.15,
    },
    "catch_up": {"counter": 0.4, "wechat": 0.3, "sgcc_app": 0.3},
}
# Where migrators go, where failed debits are paid, and the off-pattern mix.
_APPS = {"sgcc_app": 0.5, "wechat": 0.3, "alipay": 0.2}
_FALLBACK = {"counter": 0.5, "sgcc_app": 0.25, "wechat": 0.25}
_OFF = {
    "sgcc_app": 0.2,
    "alipay": 0.15,
    "wechat": 0.15,
    "counter": 0.15,
    "bank_counter": 0.05,
    "agent_outlet": 0.1,
    "bank_kiosk": 0.05,
    "utility_kiosk": 0.05,
    "mobile_banking": 0.1,
}
# Per-customer timing: (low, high) of the mean delay in days and of its spread;
# "issue" delays count from the issue day, "due" ones from the due date.
_TIMING = {
    "auto_debit": ("issue", (0.2, 1.0), (0.2, 0.8)),
    "auto_debit_fallback": ("issue", (0.2, 1.0), (0.2, 0.8)),
    "prompt_app": ("issue", (0.5, 3.0), (0.5, 2.0)),
    "deadline_app": ("due", (-2.5, -0.5), (0.3, 1.0)),
    "counter_loyal": ("issue", (3.0, 9.0), (1.0, 4.0)),
    "counter_to_app": ("issue", (3.0, 9.0), (1.0, 4.0)),
    "agent_rural": ("issue", (8.0, 15.0), (2.0, 5.0)),
    "chronic_late": ("due", (8.0, 25.0), (3.0, 8.0)),
    "vacant_seasonal": ("issue", (4.0, 20.0), (2.0, 8.0)),
    "catch_up": ("issue", (5.0, 25.0), (2.0, 6.0)),
    "prepaid_small": ("issue", (0.0, 0.0), (0.0, 0.0)),
    "prepaid_large": ("issue", (0.0, 0.0), (0.0, 0.0)),
}
# Hours of the day (start, length) by channel family.
_HOURS = {
    "automatic": (1, 4),
    "online": (8, 15),
    "self_service": (8, 12),
    "counter": (9, 8),
    "agent": (8, 10),
    "prepaid": (9, 9),
}
_NAT = np.iinfo(np.int64).min
_DAY_NS = 86_400_000_000_000


def generate_field(n_customers: int, seed=0, start="2024-01", months: int = 24):
    """Field-realistic customers (see :func:`payseg.synth.generate`)."""
    n = int(n_customers)
    if n < 1:
        raise ValueError(f"n_customers must be >= 1, got {n_customers!r}")
    P = int(months)
    if P < 8:
        raise ValueError(
            f"months must be >= 8 for scenario='field' (migrations and 4-6 months "
            f"of deterioration need room), got {months!r}"
        )
    return _Field(np.random.default_rng(seed), pd.Period(start, freq="M"), P).run(n)


class _Field:
    """State of one field generation (a private helper, not an estimator)."""

    def __init__(self, rng, start, P):
        self.rng, self.start, self.P = rng, start, P
        self.mk = get_market("cn")
        self.codes = _channels.codes()
        self.pos = {c: i for i, c in enumerate(self.codes)}
        tab = _channels.table()
        group = tab.loc[list(self.codes), "group"].to_numpy()
        names = list(_HOURS)
        # per channel code: its family's index in _HOURS, and "closed on Sundays"
        self.family = np.array([names.index(g) for g in group], dtype=np.int8)
        self.sunday_closed = np.isin(group, ["counter", "agent"])
        # First day of each month start .. start + P + 2.
        self.ms = month_start_days(start.ordinal + np.arange(P + 3)).astype(np.int64)
        self.d0, self.d_end = int(self.ms[0]), int(self.ms[P + 1])

    def choose(self, mapping, size):
        keys = list(mapping)
        w = np.array([mapping[k] for k in keys], dtype=float)
        idx = np.array([self.pos[k] for k in keys], dtype=np.int16)
        return idx[self.rng.choice(len(keys), size=size, p=w / w.sum())]

    def uniform(self, lo, hi, size):
        return lo + (hi - lo) * self.rng.random(size)

    # ------------------------------------------------------------------ customers
    def run(self, n):
        rng, P = self.rng, self.P
        shares = np.array([BEHAVIOURS[k][0] for k in _KEYS])
        beh = rng.choice(len(_KEYS), size=n, p=shares / shares.sum()).astype(np.int16)
        dshare = np.array([DISTRICTS[d][2] for d in _DISTRICT_KEYS])
        dist = rng.choice(3, size=n, p=dshare).astype(np.int8)
        mpb = np.array([DISTRICTS[d][1] for d in _DISTRICT_KEYS])[dist]
        prepaid = np.isin(beh, [_B["prepaid_small"], _B["prepaid_large"]])

        # Favourite channel, migration, fallback, off-pattern share, timing.
        fav = np.zeros(n, dtype=np.int16)
        for k in _KEYS:
            rows = np.flatnonzero(beh == _B[k])
            fav[rows] = self.choose(_CHANNELS[k], rows.size)
        app = self.choose(_APPS, n)
        fallback = self.choose(_FALLBACK, n)
        p_off = self.uniform(0.08, 0.16, n)
        anchor_due = np.zeros(n, dtype=bool)
        mean = np.zeros(n)
        spread = np.zeros(n)
        u1, u2 = rng.random(n), rng.random(n)
        for k in _KEYS:
            rows = beh == _B[k]
            kind, (mlo, mhi), (slo, shi) = _TIMING[k]
            anchor_due[rows] = kind == "due"
            mean[rows] = mlo + (mhi - mlo) * u1[rows]
            spread[rows] = slo + (shi - slo) * u2[rows]
        fail = np.where(
            beh == _B["auto_debit_fallback"], self.uniform(0.15, 0.45, n), 0.0
        )
        migrator = beh == _B["counter_to_app"]
        mig_j = np.where(migrator, rng.integers(5, P - 4, size=n), P + 10)
        mig_j = np.where(mpb == 2, mig_j // 2 * 2, mig_j)

        # Accounts opened during the extract (8%) or closed before its end (5%).
        r = rng.random(n)
        open_j = np.where(r < 0.08, rng.integers(2, P - 6, size=n), 0)
        close_j = np.where(
            (r >= 0.08) & (r < 0.13), rng.integers(6, P - 2, size=n), P + 10
        )
        open_j = np.where(mpb == 2, (open_j + 1) // 2 * 2, open_j)

        # Deterioration: 5% of postpaid customers open through the end.
        eligible = ~prepaid & (close_j > P) & (open_j <= P - 10)
        det = eligible & (rng.random(n) < 0.05 / max(eligible.mean(), 1e-9))
        det_len = rng.integers(4, 7, size=n)
        det_j = np.where(det, P - det_len, P + 10)
        sym = rng.random((n, 5)) < 0.5  # delay, debit stops, partial, unpaid, use
        auto = np.isin(beh, [_B["auto_debit"], _B["auto_debit_fallback"]])
        sym[:, 1] &= auto
        none = ~sym.any(axis=1)
        sym[none, 0] = True
        sym &= det[:, None]

        # Consumption (kWh a month): log-normal; vacant homes near 0, seasonal homes
        # lived in two or three months a year.
        kwh = 170 * np.exp(0.45 * rng.standard_normal(n))
        vacant = beh == _B["vacant_seasonal"]
        seasonal = vacant & (rng.random(n) < 0.4)
        kwh = np.where(vacant, self.uniform(0, 12, n), kwh)
        kwh = np.where(seasonal, self.uniform(100, 250, n), kwh)

        self.cust = {
            "beh": beh,
            "dist": dist,
            "mpb": mpb,
            "fav": fav,
            "app": app,
            "fallback": fallback,
            "p_off": p_off,
            "anchor_due": anchor_due,
            "mean": mean,
            "spread": spread,
            "fail": fail,
            "mig_j": mig_j,
            "open_j": open_j,
            "close_j": close_j,
            "det": det,
            "det_j": det_j,
            "sym": sym,
            "kwh": kwh,
            "seasonal": seasonal,
        }
        pay_post, bills = self._postpaid(np.flatnonzero(~prepaid))
        pay_pre = self._prepaid(np.flatnonzero(prepaid))
        pay = {k: np.concatenate([pay_post[k], pay_pre[k]]) for k in pay_post}
        pay = self._time_of_day(pay)
        # Districts A and B leave 2% of periods blank; C's payments always carry one.
        period = pay["period"]
        blank = (
            (period != _NAT)
            & (self.cust["dist"][pay["cust"]] != 2)
            & (rng.random(period.size) < 0.02)
        )
        pay["period"] = np.where(blank, _NAT, period)
        pay = self._defects(pay)
        ids = _make_ids(n)
        return self._frames(pay, bills, ids, prepaid)

    # ------------------------------------------------------------------ postpaid
    def _postpaid(self, members):
        rng, P, c, mk = self.rng, self.P, self.cust, self.mk
        m = members.size
        j = np.arange(P)
        mpb = c["mpb"][members][:, None]
        # Valid bills: open account, the district's cycle, issued inside the extract.
        valid = (
            (j >= c["open_j"][members][:, None])
            & (j < c["close_j"][members][:, None])
            & (j % mpb == 0)
            & (j + mpb <= P)
        )
        rday = rng.integers(1, 16, size=m)[:, None]
        issue = self.ms[np.minimum(j + mpb, P + 2)] + rday + rng.integers(1, 4, (m, P))
        due = self.ms[np.minimum(j + mpb + 1, P + 2)] - 1
        # Consumption of the months a bill covers.
        month = (self.start.month - 1 + j) % 12
        season = np.asarray(self.mk.season)
        cover = np.where(
            mpb == 2, season[month] + season[(month + 1) % 12], season[month]
        )
        kwh = (
            c["kwh"][members][:, None]
            * cover
            * np.exp(0.12 * rng.standard_normal((m, P)))
        )
        seas = c["seasonal"][members][:, None]
        lived = np.isin(month, [0, 1, 6, 7])  # winter and summer holidays
        kwh = np.where(seas & ~lived, kwh * 0.03, kwh)
        det_j = c["det_j"][members][:, None]
        sym = c["sym"][members]
        into = np.maximum(j - det_j + 1, 0)  # months into the deterioration
        kwh = np.where(sym[:, [4]] & (into > 0), kwh * 0.85**into, kwh)
        vac = (c["beh"][members] == _B["vacant_seasonal"])[:, None] & ~seas
        kwh = np.where(vac & (rng.random((m, P)) < 0.4), 0.0, kwh)
        kwh = np.round(kwh)
        # Tier bounds scale with the bill length: price the monthly average.
        amount = np.round(_tiered(kwh / mpb, mk.tier_kwh, mk.tier_price, 1) * mpb, 2)

        # Bills settled together: groups of 2-4 for catch-up payers, 3-8 for vacant
        # homes, a skipped bill settled with the next for 12% of chronic late bills.
        beh = c["beh"][members]
        size = np.ones((m, P), dtype=np.int64)
        cu = beh == _B["catch_up"]
        size[cu] = rng.integers(2, 5, size=(int(cu.sum()), P))
        vh = vac[:, 0]
        size[vh] = rng.integers(3, 9, size=(int(vh.sum()), P))
        cl = beh == _B["chronic_late"]
        size[cl] = 1 + (rng.random((int(cl.sum()), P)) < 0.12)
        # k-th valid bill of each customer -> group number.
        pays_bill = valid & (amount > 0)
        kth = np.cumsum(pays_bill, axis=1) - 1
        bounds = np.cumsum(size, axis=1)
        big = 10 * P  # > any row's last bound (group sizes <= 8)
        flat_bounds = (np.arange(m)[:, None] * big + bounds).ravel()
        r_loc, c_loc = np.nonzero(pays_bill)
        grp = np.searchsorted(
            flat_bounds, r_loc * big + kth[r_loc, c_loc], side="right"
        )
        # One payment per group, anchored on its last bill (grp is sorted already).
        new = np.r_[True, grp[1:] != grp[:-1]] if grp.size else np.zeros(0, bool)
        first_row = np.flatnonzero(new)
        inv = np.cumsum(new) - 1
        last_row = np.r_[first_row[1:], grp.size] - 1
        a_r, a_c = r_loc[last_row], c_loc[last_row]
        cust = members[a_r]
        G = first_row.size
        mean, spread = c["mean"][cust], c["spread"][cust]
        base = np.where(c["anchor_due"][cust], due[a_r, a_c], issue[a_r, a_c])
        delay = mean + spread * rng.standard_normal(G)
        # Deterioration: delay rising 4 days a month.
        into_g = into[a_r, a_c]
        delay = delay + np.where(sym[a_r, 0], 4.0 * into_g, 0.0)
        chan = c["fav"][cust].copy()
        is_auto = np.isin(c["beh"][cust], [_B["auto_debit"], _B["auto_debit_fallback"]])
        # Failed debits: paid late at the fallback channel.
        failed = is_auto & (rng.random(G) < c["fail"][cust])
        stop = is_auto & sym[a_r, 1] & (into_g > 0)
        manual = failed | stop
        late_by = self.uniform(2, 20, G)
        base = np.where(manual, due[a_r, a_c], base)
        delay = np.where(manual, late_by + np.where(stop, 3.0 * into_g, 0.0), delay)
        chan = np.where(manual, c["fallback"][cust], chan)
        # Migrators use an app from their migration month, paying sooner.
        mig = a_c >= c["mig_j"][cust]
        chan = np.where(mig, c["app"][cust], chan)
        delay = np.where(mig, self.uniform(0.5, 4, G), delay)
        # Off-pattern payments: another channel, any day from issue to 15 days late.
        off = rng.random(G) < c["p_off"][cust]
        off_chan = self.choose(_OFF, G)
        chan = np.where(off, off_chan, chan)
        span = due[a_r, a_c] - issue[a_r, a_c] + 15
        off_day = issue[a_r, a_c] + rng.random(G) * span
        day = np.where(off, off_day, base + delay)
        day = np.maximum(np.floor(day), issue[a_r, a_c]).astype(np.int64)
        # Counters are closed on Sundays: the next Monday.
        sunday = ((day + 3) % 7 == 6) & self.sunday_closed[chan]
        day = day + sunday
        # Partial payments and last bills left unpaid by deteriorating customers.
        unpaid = np.zeros(G, dtype=bool)
        chronic_unpaid = (c["beh"][cust] == _B["chronic_late"]) & (rng.random(G) < 0.04)
        last_col = np.max(np.where(valid, j, -1), axis=1)
        n_unpaid = 1 + (rng.random(m) < 0.5)
        unpaid |= sym[a_r, 3] & (a_c > last_col[a_r] - n_unpaid[a_r] * c["mpb"][cust])
        unpaid |= chronic_unpaid | (day >= self.d_end)
        part = np.where(
            sym[a_r, 2] & (into_g > 0) & (rng.random(G) < 0.6),
            self.uniform(0.4, 0.8, G),
            1.0,
        )
        # Amount: the bills of the group plus 0.1%/day late fees (at least 1 yuan).
        bill_amt = amount[r_loc, c_loc]
        late_days = np.maximum(day[inv] - due[r_loc, c_loc], 0)
        fee = np.where(
            late_days > 0,
            np.maximum(bill_amt * mk.late_fee_rate * late_days, mk.min_late_fee),
            0.0,
        )
        total = np.bincount(inv, weights=bill_amt + fee, minlength=G)
        pay_amt = np.round(total * part, 2)
        keep = ~unpaid
        period = self.start.ordinal + a_c
        pays = {
            "cust": cust[keep].astype(np.int64),
            "day": day[keep],
            "chan": chan[keep].astype(np.int16),
            "amount": pay_amt[keep],
            "period": period[keep].astype(np.int64),
        }
        br, bc = np.nonzero(valid)
        bills = {
            "cust": members[br].astype(np.int64),
            "period": (self.start.ordinal + bc).astype(np.int64),
            "issued": issue[br, bc],
            "due": due[br, bc],
            "amount": amount[br, bc],
        }
        self.n_groups = G
        return pays, bills

    # ------------------------------------------------------------------ prepaid
    def _prepaid(self, members):
        rng, c = self.rng, self.cust
        m = members.size
        small = c["beh"][members] == _B["prepaid_small"]
        price = self.mk.tier_price[0]
        daily = c["kwh"][members] * price / 30.44
        usual = np.where(
            small,
            np.round(self.uniform(30, 100, m) / 10) * 10,
            np.round(self.uniform(300, 800, m) / 50) * 50,
        )
        gap_mean = np.clip(usual / daily, 5, 400)
        span = self.d_end - self.d0
        K = int(np.ceil(span / gap_mean.min() * 1.6)) + 4 if m else 0
        shape = np.where(small, 6.0, 3.0)[:, None]
        gaps = rng.gamma(shape, 1.0, size=(m, K)) * (gap_mean[:, None] / shape)
        first = rng.random(m) * gap_mean
        at = self.d0 + first[:, None] + np.cumsum(gaps, axis=1) - gaps[:, :1]
        lo = self.ms[np.minimum(c["open_j"][members], self.P)][:, None]
        hi = np.where(
            c["close_j"][members] > self.P,
            self.d_end,
            self.ms[np.minimum(c["close_j"][members], self.P)],
        )[:, None]
        ok = (at >= lo) & (at < hi) & (at < self.d_end)
        r, k = np.nonzero(ok)
        T = r.size
        day = np.floor(at[r, k]).astype(np.int64)
        vary = rng.random(T) < 0.25
        mult = np.where(vary, np.exp(0.4 * rng.standard_normal(T)), 1.0)
        step = np.where(small[r], 10.0, 50.0)
        amt = np.maximum(np.round(usual[r] * mult / step) * step, step)
        cust = members[r]
        off = rng.random(T) < c["p_off"][cust]
        chan = np.where(off, self.choose(_OFF, T), c["fav"][cust])
        return {
            "cust": cust.astype(np.int64),
            "day": day,
            "chan": chan.astype(np.int16),
            "amount": amt,
            "period": np.full(T, _NAT, dtype=np.int64),
        }

    # ------------------------------------------------------------------ everyone
    def _time_of_day(self, pay):
        rng = self.rng
        g = self.family[pay["chan"]]
        h0 = np.array([v[0] for v in _HOURS.values()])[g]
        hl = np.array([v[1] for v in _HOURS.values()])[g]
        secs = (h0 * 3600 + rng.random(g.size) * hl * 3600).astype(np.int64)
        pay["stamp"] = pay["day"] * 86_400 + secs
        return pay

    def _defects(self, pay):
        """Reversed payments (a wrong payment and its negative, 0.4%) and exact
        duplicate rows (0.3%), as in real exports."""
        rng = self.rng
        N = pay["cust"].size
        rev = np.flatnonzero(rng.random(N) < 0.004)
        dup = np.flatnonzero(rng.random(N) < 0.003)
        wrong = {k: v[rev] for k, v in pay.items()}
        wrong["stamp"] = wrong["stamp"] - rng.integers(1800, 14_400, size=rev.size)
        neg = dict(wrong)
        neg["amount"] = -wrong["amount"]
        neg["stamp"] = wrong["stamp"] + rng.integers(60, 1200, size=rev.size)
        copy = {k: v[dup] for k, v in pay.items()}
        self.n_reversed, self.n_duplicated = rev.size, dup.size
        return {k: np.concatenate([pay[k], wrong[k], neg[k], copy[k]]) for k in pay}

    # ------------------------------------------------------------------ frames
    def _frames(self, pay, bills, ids, prepaid):
        c, P = self.cust, self.P
        n = ids.size
        regions = [DISTRICTS[d][0] for d in _DISTRICT_KEYS]
        if n < (1 << 22) and pay["stamp"].size:
            # one stable sort of a combined key (seconds span < 2**40)
            base = pay["stamp"].min()
            order = np.argsort(
                (pay["cust"] << 40) | (pay["stamp"] - base), kind="stable"
            )
        else:
            order = np.lexsort((pay["stamp"], pay["cust"]))
        cust = pay["cust"][order]
        period = pay["period"][order]
        payments = _frame(
            {
                "customer_id": _take_ids(ids, cust),
                "paid_at": (pay["stamp"][order] * 1_000_000_000).view("datetime64[ns]"),
                "channel": pd.Categorical.from_codes(
                    pay["chan"][order], categories=self.codes
                ),
                "amount": pay["amount"][order],
                "period": pd.arrays.PeriodArray(period, dtype=pd.PeriodDtype("M")),
                "region": pd.Categorical.from_codes(
                    c["dist"][cust], categories=regions
                ),
            }
        )
        if bills["cust"].size:
            border = np.lexsort((bills["period"], bills["cust"]))
            bc = bills["cust"][border]
            bills_frame = _frame(
                {
                    "customer_id": _take_ids(ids, bc),
                    "period": pd.arrays.PeriodArray(
                        bills["period"][border], dtype=pd.PeriodDtype("M")
                    ),
                    "issued_on": (bills["issued"][border] * _DAY_NS).view(
                        "datetime64[ns]"
                    ),
                    "due_on": (bills["due"][border] * _DAY_NS).view("datetime64[ns]"),
                    "amount_due": bills["amount"][border],
                }
            )
        else:
            bills_frame = empty("bills")
        index = pd.Index(_take_ids(ids, np.arange(n)), name="customer_id")
        customers = pd.DataFrame(
            {
                "region": pd.Categorical.from_codes(c["dist"], categories=regions),
                "meter": pd.Categorical.from_codes(
                    prepaid.astype(np.int8), categories=["postpaid", "prepaid"]
                ),
                "tariff": pd.Categorical.from_codes(
                    np.zeros(n, dtype=np.int8), categories=["residential"]
                ),
            },
            index=index,
        )
        start = self.start.ordinal

        def month(col, cond):
            return pd.arrays.PeriodArray(
                np.where(cond, start + col, _NAT), dtype=pd.PeriodDtype("M")
            )

        sym = c["sym"]
        names = np.array(["delay", "debit_stops", "partial", "unpaid", "use_falls"])
        sym_text = np.array(
            ["+".join(names[row]) for row in np.unique(sym, axis=0)], dtype=object
        )
        _, sym_code = np.unique(sym, axis=0, return_inverse=True)
        truth = pd.DataFrame(
            {
                "behaviour": pd.array(np.array(_KEYS, dtype=object)[c["beh"]], "str"),
                "district": pd.array(
                    np.array(_DISTRICT_KEYS, dtype=object)[c["dist"]], "str"
                ),
                "months_per_bill": c["mpb"],
                "meter": np.where(prepaid, "prepaid", "postpaid"),
                "favourite_channel": pd.Categorical.from_codes(
                    c["fav"], categories=self.codes
                ),
                "delay_mean": np.where(prepaid, np.nan, c["mean"]),
                "delay_spread": np.where(prepaid, np.nan, c["spread"]),
                "off_pattern": c["p_off"],
                "fail_share": np.where(
                    c["beh"] == _B["auto_debit_fallback"], c["fail"], np.nan
                ),
                "opened": month(c["open_j"], c["open_j"] > 0),
                "closed": month(c["close_j"], c["close_j"] < P),
                "migration_month": month(c["mig_j"], c["mig_j"] < P),
                "deteriorating": c["det"],
                "deteriorate_from": month(c["det_j"], c["det"]),
                "symptoms": pd.array(
                    np.where(c["det"], sym_text[sym_code.ravel()], ""), "str"
                ),
                "kwh_month": c["kwh"],
            },
            index=index,
        )
        truth.insert(1, "archetype", truth["behaviour"])
        return PaymentData(
            payments=payments,
            bills=bills_frame,
            customers=customers,
            rejected=empty_rejected(),
            truth=truth,
            counts={},
            health={
                "planted_reversals": int(self.n_reversed),
                "planted_duplicates": int(self.n_duplicated),
            },
        )


def write_districts(data, directory, seed=0, *, defects: float = 0.0) -> dict:
    """Write field data as three districts' exports, each in its own profile.

    Parameters
    ----------
    data : PaymentData
        From ``payseg.synth.generate(..., scenario="field")``.
    directory : str or path
        One sub-folder per district (``A``, ``B``, ``C``) is created in it.
    seed : int, default 0
        Seeds the spellings (and defects) of :func:`payseg.synth.write`.
    defects : float, default 0.0
        Passed to :func:`payseg.synth.write`.

    Returns
    -------
    dict
        ``{district: {"payments": path, "bills": path or None, "customers": path}}``.

    Examples
    --------
    >>> import tempfile, payseg
    >>> data = payseg.synth.generate(300, seed=0, months=12, scenario="field")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = payseg.synth.write_districts(data, tmp)
    ...     files["C"]["bills"] is None, files["B"]["payments"].name
    (True, 'payments.csv')
    """
    from ._export import write

    if data.truth is None or "district" not in data.truth:
        raise ValueError(
            "write_districts needs data from generate(..., scenario='field') (its "
            "truth has a 'district' column); got data without it"
        )
    out = {}
    district = data.truth["district"]
    for i, key in enumerate(_DISTRICT_KEYS):
        ids = district.index[district.to_numpy() == key]
        sub = PaymentData(
            payments=data.payments[data.payments["customer_id"].isin(ids)],
            bills=data.bills[data.bills["customer_id"].isin(ids)],
            customers=data.customers.loc[ids],
        )
        folder = Path(directory) / key
        if key == "A":
            write(sub, folder, seed=seed + i, defects=defects)
            paths = {t: folder / f"{t}.csv" for t in ("payments", "bills", "customers")}
        elif key == "B":
            write(
                sub,
                folder,
                seed=seed + i,
                defects=defects,
                encoding="gb18030",
                headers=_B_HEADERS,
            )
            paths = {t: folder / f"{t}.csv" for t in ("payments", "bills", "customers")}
        else:
            write(
                sub,
                folder,
                format="parquet",
                seed=seed + i,
                defects=defects,
                tables=("payments", "customers"),
            )
            paths = {
                "payments": folder / "payments.parquet",
                "bills": None,
                "customers": folder / "customers.parquet",
            }
        out[key] = paths
    return out


# District B's export system names its columns differently.
_B_HEADERS = {
    "payments": {
        "customer_id": "用户编号",
        "paid_at": "交费时间",
        "channel": "收费渠道",
        "amount": "交费金额",
        "period": "账务年月",
        "region": "供电单位",
    },
    "bills": {
        "customer_id": "用户编号",
        "period": "应收年月",
        "issued_on": "发行日期",
        "due_on": "交费截止日期",
        "amount_due": "应收电费金额",
    },
}
