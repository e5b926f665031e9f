"""Service actions table and recommend()."""

import pandas as pd
import pytest

from payseg.labels import ACTION_COLUMNS, load_actions, recommend


def test_bundled_table_covers_every_archetype_and_vip():
    t = load_actions()
    assert tuple(t.columns) == ACTION_COLUMNS
    from payseg.labels import ARCHETYPES

    archetypes = set(t.loc[t["kind"] == "archetype", "key"])
    assert archetypes == set(ARCHETYPES.index) - {"mixed"}
    vip = t[(t["kind"] == "tier") & (t["key"] == "A")].iloc[0]
    assert "绿色通道" in vip["action_zh"] and "visits" in vip["action_en"]
    assert ((t["kind"] == "*") & (t["key"] == "*")).sum() == 1


def test_recommend_priorities():
    c = pd.DataFrame(
        {
            "archetype": [
                "chronic_late",
                "counter_loyal 2",
                "mixed",
                "deadline",
                "auto_debit",
            ],
            "tier": ["D", "D", "D", "B", "A"],
            "grade": ["D", "A", "A", "C", "A"],
            "value_class": ["low_value", "mass", "mass", "potential", "high_value"],
            "warning": ["high", "low", "low", "low", "low"],
        },
        index=pd.Index(list("abcde"), name="customer_id"),
    )
    r = recommend(c)
    assert r["action"].tolist() == [
        "arrears_recovery",
        "move_to_self_service",
        "standard_service",
        "key_account_care",
        "vip_green_channel",
    ]
    assert r.loc["a", "reason"] == "grade=D"
    assert r.loc["a", "actions"] == (
        "arrears_recovery, risk_follow_up, reminder_autodebit_offer"
    )
    assert r.loc["d", "actions"] == (
        "key_account_care, deadline_sms_autodebit_offer, payment_reminder, growth_offer"
    )
    assert r.loc["c", "reason"] == "*=*"
    assert r.index.equals(c.index)


def test_edited_table_from_csv(tmp_path):
    t = load_actions()
    t.loc[
        (t["kind"] == "archetype") & (t["key"] == "counter_loyal"),
        ["action", "priority"],
    ] = ["open_more_counters", 0]
    path = tmp_path / "mine.csv"
    t.to_csv(path, index=False)
    c = pd.DataFrame({"archetype": ["counter_loyal"], "tier": ["A"]}, index=["x"])
    assert recommend(c, table=load_actions(path))["action"].item() == (
        "open_more_counters"
    )
    # Custom column names.
    c2 = pd.DataFrame({"seg_name": ["dormant"]}, index=["y"])
    r = recommend(c2, columns={"archetype": "seg_name"})
    assert r["action"].item() == "vacancy_check"


def test_empty_customers_and_no_default_row():
    empty = pd.DataFrame({"archetype": pd.Series([], dtype="str")})
    assert recommend(empty).empty
    t = load_actions()
    t = t[t["kind"] != "*"]
    r = recommend(pd.DataFrame({"archetype": ["mixed"]}, index=["z"]), table=t)
    assert r["action"].item() == ""


def test_bad_tables():
    with pytest.raises(ValueError, match=r"actions table lacks columns \['priority'"):
        recommend(
            pd.DataFrame({"archetype": ["x"]}),
            table=load_actions().drop(columns="priority"),
        )
    bad = load_actions().astype({"priority": "str"})
    bad.loc[0, "priority"] = "high"
    with pytest.raises(ValueError, match="priority must be a number"):
        recommend(pd.DataFrame({"archetype": ["x"]}), table=bad)
    with pytest.raises(TypeError, match="customers must be a DataFrame"):
        recommend(["x"])


def test_vacant_homes_get_a_vacancy_check_not_a_cut_off_notice():
    """Issue 17: the dormant segment got 欠费催收 with a cut-off notice (grade D)."""
    c = pd.DataFrame(
        {
            "archetype": ["dormant", "dormant 2"],
            "grade": ["D", "D"],
            "warning": ["high", "low"],
            "arrears_amount": [600.0, 20.0],
        },
        index=["v1", "v2"],
    )
    r = recommend(c)
    assert r["action"].tolist() == ["vacancy_check", "vacancy_check"]
    assert not r["action_zh"].str.contains("停电前").any()


def test_small_arrears_get_a_reminder_never_a_cut_off_notice():
    c = pd.DataFrame(
        {
            "archetype": ["chronic_late"] * 3,
            "grade": ["D"] * 3,
            "arrears_amount": [20.0, 99.0, 450.0],
        },
        index=["a", "b", "c"],
    )
    r = recommend(c)
    assert r["action"].tolist() == [
        "small_arrears_reminder",
        "small_arrears_reminder",
        "arrears_recovery",
    ]
    assert "不发停电通知" in r.loc["a", "action_zh"]
    assert "停电前" in r.loc["c", "action_zh"]
    # the amount is a parameter
    r = recommend(c, small_arrears=500)
    assert (r["action"] == "small_arrears_reminder").all()
    r = recommend(c, small_arrears=10)
    assert (r["action"] == "arrears_recovery").all()
    with pytest.raises(ValueError, match="small_arrears"):
        recommend(c, small_arrears=-1)


def test_action_table_in_docs_matches_the_bundled_table():
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "labels.md").read_text(encoding="utf-8")
    for row in load_actions().itertuples():
        assert f"| {row.kind} | {row.key} | {row.priority:g} | `{row.action}` |" in doc


def test_archetype_action_needs_the_customers_own_channel_habit():
    # A segment named after a channel habit can hold customers without it (merged
    # behaviours): they get the next matching action, not "keep auto-debit".
    c = pd.DataFrame(
        {
            "archetype": ["auto_debit", "auto_debit", "auto_debit", "counter_loyal 2"],
            "value_class": ["high_value", "high_value", "high_value", "mass"],
            "automatic_share": [0.6, 0.0, float("nan"), 0.0],
            "counter_share": [0.4, 1.0, float("nan"), 0.0],
        },
        index=pd.Index(list("pqrs"), name="customer_id"),
    )
    r = recommend(c)
    # p pays by debit; q never does (its high-value care comes next); r has no
    # known channel, which rules nothing out; s is a counter archetype without a
    # counter payment: the default.
    assert r["action"].tolist() == [
        "loyalty_care",  # priority 16 comes before the archetype's 20
        "loyalty_care",
        "loyalty_care",
        "standard_service",
    ]
    assert r.loc["p", "actions"] == "loyalty_care, keep_e_bill"
    assert r.loc["r", "actions"] == "loyalty_care, keep_e_bill"
    assert "keep_e_bill" not in r.loc["q", "actions"]
    assert r.loc["s", "reason"] == "*=*"
    # Without the share columns every archetype keeps its action.
    plain = recommend(c.drop(columns=["automatic_share", "counter_share"]))
    assert "keep_e_bill" in plain.loc["q", "actions"]
    assert plain.loc["s", "action"] == "move_to_self_service"


def test_segment_gives_no_habit_action_to_customers_without_the_habit():
    # Counter-only and debit-only payers with the same timing share a segment
    # (named auto-debit on this data); the counter payers are not told to keep it.
    import numpy as np

    import payseg

    rng = np.random.default_rng(1)
    rows = []
    for c in range(60):
        gap = 1 if c % 3 else 3
        for m in range(0, 24, gap):
            per = pd.Period("2023-01", "M") + m
            day = (per + 1).to_timestamp() + pd.Timedelta(days=int(rng.integers(0, 25)))
            channel = ["支付宝", "柜台", "银行代扣"][c % 3]
            rows.append((str(1000 + c), day, 50.0 * gap, per.strftime("%Y%m"), channel))
    raw = pd.DataFrame(
        rows, columns=["户号", "缴费时间", "实收金额", "电费年月", "缴费方式"]
    )
    with pytest.warns(UserWarning):
        result = payseg.segment(payseg.load(raw), random_state=0)
    cust = result.customers.join(result.features[["automatic_share", "online_share"]])
    keep = cust["action"] == "keep_e_bill"
    auto = cust["archetype"].eq("auto_debit")
    assert not (keep & auto & cust["automatic_share"].eq(0)).any()
    assert not (
        keep & cust["archetype"].eq("prompt_online") & cust["online_share"].eq(0)
    ).any()
    counter = cust.index.astype(int) % 3 == 1  # 1001, 1004, ...: counter only
    assert not cust.loc[counter, "action"].eq("keep_e_bill").any()
