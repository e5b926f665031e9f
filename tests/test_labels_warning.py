"""EarlyWarning: signals, weights, reasons, complaints, top-N."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from payseg.data import PaymentData
from payseg.labels import EarlyWarning
from payseg.labels._warning import CHANGE_REASONS, SIGNALS


def _X(**cols):
    n = len(next(iter(cols.values())))
    return pd.DataFrame(
        cols, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id")
    )


def _sat(v, lo, full):
    return 1 - np.exp(-(v - lo) / (full - lo)) if v > lo else 0.0


def test_signals_known_answers():
    X = _X(
        delay_trend=[10.0, 0.25, 1.0, np.nan],
        late_share=[0.0, 0.0, 0.5, np.nan],
        recent_late_share=[1.0, 0.0, 0.6, np.nan],
        arrears_amount=[50.0, 0.0, 0.0, np.nan],
        amount_trend=[-0.08, 0.1, -0.019, np.nan],
    )
    ew = EarlyWarning().fit(X)
    sig = ew.signals_
    assert list(sig.columns) == list(SIGNALS)
    assert sig["rising_delay"].tolist() == pytest.approx(
        [_sat(10, 0.25, 2), 0.0, _sat(1, 0.25, 2), 0.0]
    )  # 0.25 is not > 0.25
    assert sig["more_late"].tolist() == pytest.approx([_sat(1, 0.1, 0.4), 0, 0, 0])
    assert sig["arrears"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert sig["falling_amount"].tolist() == pytest.approx(
        [_sat(0.08, 0.02, 0.06), 0, 0, 0]
    )
    expected = (
        0.27 * _sat(10, 0.25, 2)
        + 0.23 * _sat(1, 0.1, 0.4)
        + 0.15
        + 0.25 * _sat(0.08, 0.02, 0.06)
    )
    assert ew.scores_.tolist() == pytest.approx(
        [expected, 0.0, 0.27 * _sat(1, 0.25, 2), 0.0]
    )
    assert ew.labels_.tolist() == ["high", "low", "low", "low"]
    assert ew.reasons_["c0"] == (
        "delay rising 10 days/bill; late on 100% of recent "
        "bills vs 0%; arrears 50 yuan; amount falling "
        "8.0%/month"
    )
    assert ew.reasons_["c1"] == ""
    assert ew.history_ is None


def test_habitual_arrears_are_not_news():
    # a vacant home or chronic late payer always carries arrears: no signal
    X = _X(arrears_amount=[80.0, 80.0, 80.0], unpaid_share=[0.0, 0.1, 0.5])
    sig = EarlyWarning().fit(X).signals_["arrears"]
    assert sig.tolist() == pytest.approx([1.0, 0.6, 0.0])


def test_falling_consumption_alone_raises_a_level():
    X = _X(amount_trend=[-0.12, -0.03, 0.0])
    ew = EarlyWarning().fit(X)
    assert ew.scores_.iloc[0] < 0.25  # below the medium cut as a score
    assert ew.labels_.tolist() == ["medium", "low", "low"]


def test_ties_broken_by_the_size_of_the_change():
    X = _X(delay_trend=[3.0, 8.0, 5.0], arrears_amount=[10.0, 10.0, 10.0])
    ew = EarlyWarning().fit(X)
    assert ew.scores_.nunique() == 3
    assert ew.top(3).index.tolist() == ["c1", "c2", "c0"]


def _history_data():
    """Two customers, 12 monthly bills: c0 prompt then late and unpaid, c1 prompt."""
    periods = pd.period_range("2024-01", periods=12, freq="M")
    issued = periods.to_timestamp() + pd.Timedelta(days=35)
    bills, pays = [], []
    for cid in ("c0", "c1"):
        for j, (p, t) in enumerate(zip(periods, issued)):
            bills.append((cid, p, t, t + pd.Timedelta(days=20), 100.0))
            if cid == "c0" and j >= 10:
                continue  # the last two bills unpaid
            delay = 3 + (15 + 10 * (j - 6) if cid == "c0" and j >= 7 else j % 2)
            chan = "counter" if cid == "c0" and j >= 7 else "card_debit"
            pays.append((cid, t + pd.Timedelta(days=delay), chan, 100.0, p))
    bills = pd.DataFrame(
        bills, columns=["customer_id", "period", "issued_on", "due_on", "amount_due"]
    )
    pays = pd.DataFrame(
        pays, columns=["customer_id", "paid_at", "channel", "amount", "period"]
    )
    pays["channel"] = pays["channel"].astype("category")
    return PaymentData(payments=pays, bills=bills)


def test_against_the_customers_own_history():
    data = _history_data()
    X = _X(delay_trend=[0.0, 0.0])
    ew = EarlyWarning().fit(X, data=data, as_of="2025-02-10")
    h = ew.history_
    assert h.loc["c1", ["late_z", "unpaid_z", "auto_stop"]].tolist() == [0, 0, 0]
    assert h.loc["c0", "auto_stop"] == pytest.approx(1.0)
    assert h.loc["c0", "late_recent"] == pytest.approx(1.0)
    assert h.loc["c0", "unpaid_recent"] > 0
    assert ew.scores_["c0"] > 0.5 > ew.scores_["c1"] == 0.0
    assert ew.labels_.tolist() == ["high", "low"]
    assert "auto-debit share down 100%" in ew.reasons_["c0"]
    assert "late on 100% of recent bills vs 0% before" in ew.reasons_["c0"]


def test_change_reasons_in_both_languages():
    for key, (en, zh) in CHANGE_REASONS.items():
        assert en.format(v=0.5, w=0.1) and zh.format(v=0.5, w=0.1), key
        assert en != zh


def test_complaints_and_levels():
    X = _X(arrears_amount=[0.0, 0.0, 10.0])
    complaints = pd.DataFrame({"customer_id": ["c0", "c0", "c0", "c1", "zz"]})
    ew = EarlyWarning(levels=(0.15, 0.05), single_signal=1.1).fit(
        X, complaints=complaints
    )
    assert ew.signals_["complaints"].tolist() == [1.0, pytest.approx(1 / 3), 0.0]
    assert ew.labels_.tolist() == ["medium", "low", "high"]
    assert ew.reasons_["c0"] == "3 complaints"


def test_custom_weights():
    X = _X(arrears_amount=[10.0])
    ew = EarlyWarning(weights={"arrears": 1.0}).fit(X)
    assert ew.scores_.tolist() == [1.0]


def test_top_n_ties_keep_table_order_and_drop_zero():
    X = _X(arrears_amount=[0.0, 5.0, 5.0, 9.0], delay_trend=[0, 0, 0, 1.0])
    ew = EarlyWarning().fit(X)
    top = ew.top(10)
    assert top.index.tolist() == ["c3", "c1", "c2"]
    assert ew.top(1).index.tolist() == ["c3"]
    assert list(top.columns) == ["warning_score", "warning_level", "reasons"]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"weights": {"bogus": 1.0}}, r"unknown signals in weights: \['bogus'\]"),
        (
            {"levels": (0.1, 0.5)},
            r"levels must be 2 strictly decreasing scores \(the "
            r"high cut, then the medium cut\), got \(0.1, 0.5\)",
        ),
        ({"levels": (0.5,)}, "levels must be 2 strictly decreasing"),
        ({"delay_trend_full": 0}, "delay_trend_full must be a number"),
        ({"evidence_scale": 0}, "evidence_scale must be a number"),
        ({"reason_min": -1}, "reason_min must be a number"),
        ({"recent_bills": 0}, "recent_bills must be a number"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        EarlyWarning(**params).fit(_X(arrears_amount=[0.0]))


def test_bad_inputs():
    with pytest.raises(ValueError, match="complaints needs a 'customer_id' column"):
        EarlyWarning().fit(
            _X(arrears_amount=[0.0]), complaints=pd.DataFrame({"id": ["c0"]})
        )
    with pytest.raises(NotFittedError, match="not fitted yet"):
        EarlyWarning().top()
    X = pd.DataFrame({"amount": [1.0]}, index=pd.Index(["c0"], name="customer_id"))
    with pytest.raises(
        ValueError,
        match=r"EarlyWarning.fit: X has none of the columns "
        r"it reads \(delay_trend, .*\); found \['amount'\]",
    ):
        EarlyWarning().fit(X)


def test_reasons_in_chinese_too():
    """Issue 17: early-warning signals were in English only."""
    import pandas as pd

    from payseg.labels import EarlyWarning

    X = pd.DataFrame(
        {
            "delay_trend": [6.0, 0.0],
            "late_share": [0.1, 0.0],
            "recent_late_share": [0.6, 0.0],
            "arrears_amount": [120.0, 0.0],
            "amount_trend": [-0.1, 0.0],
        },
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    ew = EarlyWarning().fit(X)
    zh = ew.reasons_zh_
    assert zh["a"] == (
        "缴费延迟上升，每期增加 6 天；近期逾期比例 60%，历史为 10%；"
        "欠费 120 元；缴费金额下降，每月 10.0%"
    )
    assert zh["b"] == ""
    assert ew.reasons_["a"].startswith("delay rising 6 days/bill; ")


def _monthly(cid, delays, *, unpaid=(), chan="sgcc_app"):
    """Bills and payments of one customer: 12 monthly bills, paid ``delays[j]`` days
    after issue (bills listed in ``unpaid`` not paid)."""
    periods = pd.period_range("2024-01", periods=len(delays), freq="M")
    issued = periods.to_timestamp() + pd.Timedelta(days=35)
    bills = pd.DataFrame(
        {
            "customer_id": cid,
            "period": periods,
            "issued_on": issued,
            "due_on": issued + pd.Timedelta(days=20),
            "amount_due": 100.0,
        }
    )
    paid = [j for j in range(len(delays)) if j not in set(unpaid)]
    pays = pd.DataFrame(
        {
            "customer_id": cid,
            "paid_at": issued[paid] + pd.to_timedelta([delays[j] for j in paid], "D"),
            "channel": chan,
            "amount": 100.0,
            "period": periods[paid],
        }
    )
    return bills, pays


def _data(*parts, billed):
    bills = pd.concat([b for (b, _), keep in zip(parts, billed) if keep])
    pays = pd.concat([p for _, p in parts], ignore_index=True)
    pays["channel"] = pays["channel"].astype("category")
    return PaymentData(payments=pays, bills=bills.reset_index(drop=True))


def test_payments_only_customer_beside_billed_ones_has_a_history():
    # c1's district exports no bills: its bills are inferred from the periods
    # on its payments, so its rising delay is seen (it was all NaN)
    steady = _monthly("c0", [3] * 12)
    rising = _monthly("c1", [3] * 7 + [30] * 5)
    X = _X(delay_trend=[0.0, 0.0])
    ew = EarlyWarning().fit(X, data=_data(steady, rising, billed=[True, False]))
    h = ew.history_
    assert h.loc["c1", "earlier_bills"] == 7 and h.loc["c1", "recent_bills"] == 5
    # inferred bills are issued early in the settlement month (a day or two
    # later when that is a day off), so the delay rises by 27 +- 2 days, over
    # the 2-day floor of the spread
    assert 25 / 2 <= h.loc["c1", "delay_z"] <= 29 / 2
    assert ew.scores_["c1"] > ew.scores_["c0"] == 0.0


def test_open_bill_within_the_customers_usual_lateness_is_not_news():
    # pays 40 days after issue (20 after due) every month; on as_of the last
    # bill is 15 days past due: still within their normal, so not unpaid
    late = _monthly("c0", [40] * 11 + [40], unpaid=[11])
    prompt = _monthly("c1", [3] * 11 + [3], unpaid=[11])
    data = _data(late, prompt, billed=[True, True])
    as_of = data.bills["due_on"].max() + pd.Timedelta(days=15)
    ew = EarlyWarning().fit(_X(delay_trend=[0.0, 0.0]), data=data, as_of=as_of)
    h = ew.history_
    assert h.loc["c0", "unpaid_recent"] == 0.0
    assert h.loc["c1", "unpaid_recent"] == pytest.approx(1 / 5)


def test_fallback_payer_spread_uses_the_wide_range():
    # auto-debit on day 5, a fallback 30 days later on every third bill: three
    # fallbacks in the last five bills are within their usual range
    delays = [5, 5, 35] * 3 + [35, 35, 35]
    fb = _monthly("c0", delays, chan="card_debit")
    ew = EarlyWarning().fit(_X(delay_trend=[0.0]), data=_data(fb, billed=[True]))
    h = ew.history_
    early = np.array(delays[:7], dtype=float)
    wide = (np.quantile(early, 0.9) - np.quantile(early, 0.1)) / 3.8
    assert h.loc["c0", "delay_z"] == pytest.approx((35 - 5) / wide)
    assert h.loc["c0", "delay_z"] < (35 - 5) / 2.0


# --------------------------------------------------------------- issue 16, 0.3.0
def _tail_reference(k, n, ke, ne, rate, prior):
    """P(K >= k) summed term by term: K ~ binomial(n, p), p ~ Beta(a, b)."""
    a = rate * prior + ke
    b = (1 - rate) * prior + ne - ke

    def log_beta(x, y):
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    return sum(
        math.comb(n, j) * math.exp(log_beta(j + a, n - j + b) - log_beta(a, b))
        for j in range(k, n + 1)
    )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 8),
    data=st.data(),
    ne=st.integers(0, 30),
    rate=st.floats(0.01, 0.9),
    prior=st.floats(0.5, 10),
)
def test_surprise_is_the_beta_binomial_tail(n, data, ne, rate, prior):
    from payseg.labels._history import surprise

    k = data.draw(st.integers(0, n))
    ke = data.draw(st.integers(0, ne))
    got = float(surprise(k, n, ke, ne, rate, prior))
    want = 0.0 if k == 0 else -math.log10(_tail_reference(k, n, ke, ne, rate, prior))
    assert got == pytest.approx(want, rel=1e-6, abs=1e-9)


def test_surprise_one_late_bill_is_not_news_three_are():
    from payseg.labels._history import surprise

    # late on 2 of 17 earlier bills (12%): one late bill in five is ordinary
    # (p > 0.3), three are not (p < 0.05); for a never-late payer one is news
    assert surprise(1, 5, 2, 17, 0.1) < 0.5
    assert surprise(3, 5, 2, 17, 0.1) > 1.3
    assert surprise(1, 5, 0, 17, 0.1) > surprise(1, 5, 2, 17, 0.1)
    assert np.isnan(surprise(np.nan, 5, 2, 17, 0.1))
    assert surprise(0, 5, 2, 17, 0.1) == 0.0


def _late_rows(cid, late_at, n=24):
    """``n`` monthly bills paid 3 days after issue, or 25 (5 after due) on
    ``late_at``."""
    return _monthly(cid, [25 if j in late_at else 3 for j in range(n)])


def test_off_pattern_payer_one_late_bill_is_not_a_warning():
    # c0 is late on 2 of 19 earlier bills and on 1 of the last 5: its usual; c1
    # the same earlier and late on 3 of the last 5; c2 never late, then once
    parts = [
        _late_rows("c0", {4, 12, 21}),
        _late_rows("c1", {4, 12, 19, 21, 23}),
        _late_rows("c2", {21}),
    ]
    data = _data(*parts, billed=[True] * 3)
    as_of = data.bills["due_on"].max() + pd.Timedelta(days=10)
    ew = EarlyWarning().fit(_X(delay_trend=[0.0] * 3), data=data, as_of=as_of)
    h = ew.history_
    assert h["late_recent"].tolist() == pytest.approx([0.2, 0.6, 0.2])
    from payseg.labels._history import PRIOR_BILLS, surprise

    # the population's rate: 4 late of 57 earlier bills
    rate = 4 / 57
    for cid, k, ke in (("c0", 1, 2), ("c1", 3, 2), ("c2", 1, 0)):
        expected = surprise(k, 5, ke, 19, rate, PRIOR_BILLS)
        assert h.loc[cid, "late_surprise"] == pytest.approx(expected)
        assert expected == pytest.approx(
            -math.log10(_tail_reference(k, 5, ke, 19, rate, PRIOR_BILLS))
        )
    assert "late on" not in ew.reasons_["c0"]
    assert "late on 60% of recent bills vs 11% before" in ew.reasons_["c1"]
    assert ew.scores_["c1"] > ew.scores_["c2"] > ew.scores_["c0"]
    assert ew.labels_["c0"] == "low"


def _amounts(cid, amounts):
    periods = pd.period_range("2024-01", periods=len(amounts), freq="M")
    bills, pays = _monthly(cid, [3] * len(amounts))
    bills["amount_due"] = np.asarray(amounts, dtype=float)
    pays["amount"] = np.asarray(amounts, dtype=float)
    assert (bills["period"] == periods).all()
    return bills, pays


def test_falling_use_against_own_year_on_year_noise():
    rng = np.random.default_rng(0)
    season = np.tile([1.3, 1.2, 1.0, 0.9, 0.8, 0.9, 1.3, 1.4, 1.0, 0.9, 0.9, 1.1], 2)
    noise = np.exp(0.05 * rng.standard_normal(24))
    steady = 100 * season * noise
    falling = steady.copy()
    falling[-5:] *= 0.6  # the last five bills 40% lower
    # a seasonal home: lived in January, February, July and August
    lived = np.isin(np.arange(24) % 12, [0, 1, 6, 7])
    seasonal = np.where(lived, 150.0, 4.0) * noise
    parts = [
        _amounts("c0", steady),
        _amounts("c1", falling),
        _amounts("c2", seasonal),
    ]
    data = _data(*parts, billed=[True] * 3)
    as_of = data.bills["due_on"].max() + pd.Timedelta(days=10)
    ew = EarlyWarning().fit(_X(delay_trend=[0.0] * 3), data=data, as_of=as_of)
    fall = ew.history_["fall_surprise"]
    # slow reference for c1: year-on-year log ratios by hand
    r = np.log(np.maximum(falling[12:], 10) / np.maximum(falling[:12], 10))
    old, new = r[:7], r[7:]
    sd_own = 1.4826 * np.median(np.abs(old - np.median(old)))
    sds = []
    for amounts in (steady, falling, seasonal):
        o = np.log(np.maximum(amounts[12:19], 10) / np.maximum(amounts[:7], 10))
        sds.append(1.4826 * np.median(np.abs(o - np.median(o))))
    pop = np.median(sds)
    sd = max(math.sqrt((7 * sd_own**2 + 3 * pop**2) / 10), 0.1)
    from scipy.stats import t

    z = -new.mean() / (sd / math.sqrt(5))
    assert fall["c1"] == pytest.approx(-math.log10(min(2 * t.sf(z, 9), 1.0)))
    assert fall["c1"] > 3  # falling use alone raises a level
    assert ew.labels_["c1"] == "medium"
    drop = 1 - falling[19:].sum() / falling[7:12].sum()
    assert f"billed {drop:.0%} less than a year earlier" in ew.reasons_["c1"]
    # seasonal swings cancel year on year; nothing fires for c0 and c2
    assert fall["c0"] < 1 and fall["c2"] < 1
    assert ew.labels_[["c0", "c2"]].tolist() == ["low", "low"]


def test_open_bill_and_silence_of_a_payments_only_customer():
    # c0 pays 3 days after issue; its last bill, issued 18 days before as_of,
    # is unpaid: open longer than any earlier bill took (1 ban = p 0.1 or less)
    prompt = _monthly("c0", [3] * 12, unpaid=[11])
    # c1 (no bills exported) paid monthly, then nothing for the last 3 months
    quiet = _monthly("c1", [3] * 12, unpaid=[9, 10, 11])
    # c2 left 3 of its 7 earlier bills unpaid: slower than any, so its open
    # bill is less news (k = 3)
    habit = _monthly("c2", [3] * 12, unpaid=[1, 3, 5, 11])
    data = _data(prompt, quiet, habit, billed=[True, False, True])
    as_of = data.bills["issued_on"].max() + pd.Timedelta(days=18)
    ew = EarlyWarning().fit(_X(delay_trend=[0.0] * 3), data=data, as_of=as_of)
    h = ew.history_
    assert h.loc["c0", "open_days"] == 18
    assert h.loc["c0", "open_surprise"] == pytest.approx(-math.log10(0.5 / 8))
    assert h.loc["c2", "open_surprise"] == pytest.approx(-math.log10(3.5 / 8))
    # c1: 8 gaps of about a month earlier, none as long as the silence
    last = data.payments.loc[data.payments["customer_id"] == "c1", "paid_at"].max()
    days = (as_of.floor("D") - last.floor("D")).days
    assert h.loc["c1", "silent_days"] == days > 60
    assert h.loc["c1", "silent_surprise"] == pytest.approx(-math.log10(0.5 / 9))
    assert "latest bill open 18 days" in ew.reasons_["c0"]
    assert "最近账单已 18 天未缴" in ew.reasons_zh_["c0"]
    assert f"no payment for {days} days" in ew.reasons_["c1"]
