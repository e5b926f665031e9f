import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import payseg

CPH = Path(__file__).parents[1] / "examples" / "data" / "cph.csv"  # public sample


@pytest.fixture(scope="module")
def generated():
    data = payseg.synth.generate(2500, seed=3, months=24)
    return data, payseg.segment(data, random_state=0, stability=3)


def test_segment_recovers_planted_archetypes(generated):
    data, result = generated
    truth = data.truth["archetype"].reindex(result.labels.index)
    assert payseg.evaluate.ari(truth, result.labels) >= 0.9
    # the name given to each customer's segment is its planted archetype
    named = result.customers["archetype"]
    assert (named == truth).mean() >= 0.9


def test_customers_table_has_one_row_per_customer(generated):
    data, result = generated
    c = result.customers
    assert c.index.equals(result.features.index)
    assert len(c) == data.n_customers
    for col in (
        "segment",
        "name_zh",
        "name_en",
        "value_class",
        "pyramid_tier",
        "credit_grade",
        "warning_score",
        "action",
    ):
        assert c[col].notna().all(), col
    assert set(c["value_class"]) <= {"high_value", "mass", "potential", "low_value"}
    assert set(c["pyramid_tier"]) <= {"A", "B", "C", "D"}


def test_segments_table_sizes_add_up(generated):
    _, result = generated
    s = result.segments
    assert s["size"].sum() == len(result.labels)
    assert s["share"].sum() == pytest.approx(1.0)
    assert result.names.index.equals(s.index)
    assert s["rule"].str.len().gt(0).all()


def test_result_surfaces(generated, tmp_path):
    _, result = generated
    assert "segment" in result.to_frame().columns
    assert "delay_days_mean" in result.to_frame().columns
    assert "<table" in result._repr_html_()
    assert result.stability is not None and 0 <= result.stability.ari_mean <= 1
    assert result.migration is not None  # 24 months span several half-years
    md = result.report(tmp_path / "r.md")
    assert Path(md).read_text(encoding="utf-8").startswith("#")


def test_warning_list_is_the_top_scores(generated):
    _, result = generated
    n = inspect.signature(payseg.segment).parameters["n_warnings"].default
    scores = result.customers["warning_score"]
    # The documented list: the n highest scores above 0, highest first, ties in
    # table order, recomputed here from every customer's score.
    expected = scores[scores > 0].sort_values(ascending=False, kind="stable").head(n)
    assert len(expected) == n  # enough customers at risk for the test to bite
    assert result.warnings.index.tolist() == expected.index.tolist()
    assert result.warnings["warning_score"].tolist() == expected.tolist()
    assert (
        len(
            payseg.segment(
                result.data, n_clusters=9, migration=False, n_warnings=3
            ).warnings
        )
        == 3
    )


def _value_classes(payments: pd.DataFrame) -> pd.Series:
    """Value matrix by its definition: per year, strictly above the mean."""
    p = payments.assign(
        day=payments["paid_at"].dt.normalize(), year=payments["paid_at"].dt.year
    )
    g = p.groupby("customer_id")
    years = g["year"].nunique()
    count = g["day"].nunique() / years
    amount = g["amount"].sum() / years
    c, a = count > count.mean(), amount > amount.mean()
    return pd.Series(
        np.select(
            [c & a, c & ~a, ~c & a], ["high_value", "mass", "potential"], "low_value"
        ),
        index=count.index,
    )


def test_segment_on_cph_sample_without_channels_or_bills():
    data = payseg.load(CPH)
    result = payseg.segment(data, n_clusters=4, migration=False)
    expected = _value_classes(data.payments)
    got = result.customers["value_class"]
    assert got.reindex(expected.index).tolist() == expected.tolist()
    assert expected.nunique() == 4  # every class is present: the check can fail
    assert result.customers["dominant_channel"].isna().all()


@pytest.mark.parametrize(
    "data, error, match",
    [
        (pd.DataFrame(), TypeError, "needs a PaymentData"),
        (
            payseg.PaymentData(
                payments=pd.DataFrame({"customer_id": pd.Series([], dtype="str")})
            ),
            ValueError,
            "no payments to segment",
        ),
    ],
)
def test_segment_bad_input(data, error, match):
    with pytest.raises(error, match=match):
        payseg.segment(data)


def test_segment_bad_n_warnings():
    with pytest.raises(ValueError, match="n_warnings must be an integer >= 0, got -1"):
        payseg.segment(payseg.load(CPH), n_warnings=-1)


def test_customer_names_are_the_segment_names_and_attributes_are_carried():
    """Issue 17: customers' name ('chronic_late 4') differed from segments' name_en
    ('chronically late 4'); 供电单位 and the other attributes were dropped."""
    data = payseg.synth.generate(600, seed=3, months=12)
    data.customers["customer_name"] = "户" + data.customers.index.str[-4:]
    data.customers["address"] = "幸福路" + data.customers.index.str[-3:] + "号"
    result = payseg.segment(data, n_clusters=6, random_state=0, migration=False)
    c, s = result.customers, result.segments
    assert "name" not in c
    for lang in ("name_zh", "name_en"):
        assert c[lang].equals(c["segment"].map(s[lang]).rename(lang))
    assert list(c.columns[:3]) == ["customer_name", "address", "region"]
    assert c["region"].equals(
        data.customers["region"].astype(object).reindex(c.index).rename("region")
    )
    # segments carry the wording of their action code
    for code, key, zh in zip(s["action"], s["key"], s["action_zh"]):
        assert zh == payseg.labels.action_text(code, key)[0]
    assert s["action_en"].notna().all()


def test_names_and_rules_read_in_words_and_twins_say_how_they_differ():
    """Issue 17: rules were feature codes; two segments both called 柜台忠实型."""
    data = payseg.synth.generate(1500, seed=0, months=12)
    result = payseg.segment(data, n_clusters=12, random_state=0, migration=False)
    s = result.segments
    assert not s["rule_en"].str.contains(r"_share|>=|<=").any()
    assert not s["rule_zh"].str.contains(r"_share|>=|<=").any()
    real = s[s["size"] > 0]
    assert real["name_zh"].is_unique and real["name_en"].is_unique
    twins = real[real["key"].duplicated(keep=False)]
    assert len(twins), "12 segments on 9 archetypes: some share an archetype"
    for _, r in twins.iterrows():
        assert r["differs_by"] in payseg.labels.FEATURE_WORDS
        word_zh, word_en = payseg.labels.FEATURE_WORDS[r["differs_by"]]
        assert word_zh in r["name_zh"] and word_en in r["name_en"]
        assert not r["name_en"][-1].isdigit() or r["name_en"].count(",") == 1
    assert (
        result.customers["warning_reasons_zh"]
        .str.contains("欠费|逾期|延迟|下降", regex=True)
        .any()
    )


def test_explain_names_segment_rule_features_grade_and_warning():
    data = payseg.synth.generate(800, seed=4, months=12)
    result = payseg.segment(data, n_clusters=8, random_state=0, migration=False)
    c = result.customers
    late = c.index[(c["warning_reasons_zh"] != "")][0]
    text = result.explain(late)
    seg = result.segments.loc[c.at[late, "segment"]]
    assert text.startswith(f"{seg['name_zh']}：{seg['rule_zh']}")
    assert "突出特征" in text and f"信用 {c.at[late, 'credit_grade']}" in text
    assert c.at[late, "warning_reasons_zh"] in text
    en = result.explain(late, lang="en")
    assert en.startswith(seg["name_en"]) and "Stands out by" in en
    assert en.count("median") >= 1
    assert c["explanation_zh"].str.len().gt(20).all()
    with pytest.raises(KeyError, match="no customer"):
        result.explain("nope")


def test_segment_passes_a_given_billing_cycle_to_the_features():
    # Monthly bills, a bimonthly cycle given: the feature column holds the given
    # cycle, and the contradiction with the bill periods is warned about.
    data = payseg.synth.generate(300, seed=5, months=8)
    with pytest.warns(UserWarning, match="contradicts the bill periods"):
        result = payseg.segment(data, n_clusters=3, cycle_months=2)
    billed = data.bills["customer_id"].unique()
    got = result.features.loc[result.features.index.isin(billed), "cycle_months"]
    assert len(got) > 0 and (got == 2).all()
    plain = payseg.segment(data, n_clusters=3)
    assert (plain.features.loc[got.index, "cycle_months"] == 1).mean() > 0.9
