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
