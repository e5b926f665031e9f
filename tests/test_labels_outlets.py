"""Outlet planning: counter/agent share per region and its trend."""

import pandas as pd
import pytest

import payseg
from payseg.labels import outlet_shares


def _payments():
    rows = []
    # rural: Q1 all at agents, Q2 half, Q3 none -> trend -0.5 per quarter.
    for q, chans in enumerate(
        [["agent_outlet"] * 2, ["agent_outlet", "wechat"], ["wechat", "wechat"]]
    ):
        for i, ch in enumerate(chans):
            rows.append((f"r{i}", f"2024-{3 * q + 1:02d}-10", ch, "rural"))
    # city: counter then app, flat at 50%.
    for q in range(3):
        rows.append(("c0", f"2024-{3 * q + 1:02d}-10", "counter", "city"))
        rows.append(("c1", f"2024-{3 * q + 1:02d}-12", "sgcc_app", "city"))
    cid, day, ch, reg = zip(*rows)
    return pd.DataFrame(
        {
            "customer_id": list(cid),
            "paid_at": pd.to_datetime(day),
            "channel": list(ch),
            "amount": 100.0,
            "region": list(reg),
        }
    )


def test_known_shares_and_trend():
    out = outlet_shares(_payments())
    assert out.index.tolist() == ["city", "rural"]
    assert out.loc["rural", "agent_share"] == pytest.approx(0.5)
    assert out.loc["rural", "counter_share"] == 0.0
    assert out.loc["city", "counter_share"] == pytest.approx(0.5)
    assert out.loc["rural", "trend_per_year"] == pytest.approx(-2.0)  # -0.5 x 4
    assert out.loc["city", "trend_per_year"] == pytest.approx(0.0)
    assert out.loc["rural", "latest_share"] == 0.0
    assert out["needs_outlets"].tolist() == [True, False]
    assert out.loc["city", "customer_share"] == 0.5  # c0 pays mostly at the counter
    assert out.attrs["by_period"].shape == (2, 3)


def test_region_from_customers_and_monthly():
    data = payseg.synth.generate(300, seed=2, months=12)
    p = data.payments.drop(columns="region")
    out = outlet_shares(p, region=data.customers["region"], freq="M")
    ref = outlet_shares(data, freq="M")
    pd.testing.assert_series_equal(out["outlet_share"], ref["outlet_share"])
    pd.testing.assert_series_equal(
        out["outlet_share"],
        out["counter_share"] + out["agent_share"],
        check_names=False,
    )
    # Rural supply areas lean on outlets (generator plants it).
    assert out["outlet_share"].iloc[0] > out["outlet_share"].iloc[-1]


def test_errors():
    p = _payments()
    with pytest.raises(ValueError, match="freq must be one of"):
        outlet_shares(p, freq="W")
    with pytest.raises(ValueError, match="no region"):
        outlet_shares(p.drop(columns="region"))
    with pytest.raises(ValueError, match="needs payment channels"):
        outlet_shares(p.assign(channel=None))
    raw = p.rename(columns={"customer_id": "户号", "paid_at": "缴费日期"})
    with pytest.raises(
        payseg.PaymentDataError,
        match=r"outlet_shares: the payments table lacks the canonical "
        r"columns \['customer_id', 'paid_at'\] \(found \['户号', ",
    ):
        outlet_shares(raw)
