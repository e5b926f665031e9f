import numpy as np
import pandas as pd
import pytest

from payseg import channels


@pytest.fixture(autouse=True)
def _fresh_registry():
    channels._reset()
    yield
    channels._reset()


def test_eighteen_reference_methods_in_order():
    t = channels.table()
    ref = t[t["number"].notna()].sort_values("number")
    assert ref["number"].tolist() == list(range(1, 19))
    assert ref.loc["counter", "name_zh"] == "供电企业营业厅缴费"
    assert ref.loc["partner_hall", "name_zh"] == "合作营业厅缴费"


def test_attributes_follow_domain_table():
    a = channels.attributes()
    assert a.loc["entrusted_debit", "automatic"] == 1.0
    assert a.loc["card_debit", "automatic"] == 1.0
    assert a.loc["postal", "automatic"] == 0.5
    assert a.loc["internet_banking", "online"] == 1.0
    assert a.loc["counter", "online"] == 0.0
    assert a.loc["ic_card", "prepaid"] == 1.0
    # every channel belongs to exactly one group
    groups = a[[f"group_{g}" for g in channels.GROUPS]]
    assert (groups.sum(axis=1) == 1).all()
    assert set(
        a.loc[:, ["online", "self_service", "automatic", "prepaid"]].stack().unique()
    ) <= {0.0, 0.5, 1.0}


def test_modern_channels_present():
    for name, code in [
        ("网上国网", "sgcc_app"),
        ("掌上电力", "sgcc_app"),
        ("电e宝", "sgcc_app"),
        ("南网在线", "csg_app"),
        ("支付宝", "alipay"),
        ("微信", "wechat"),
        ("云闪付", "unionpay"),
        ("自动充值", "auto_topup"),
    ]:
        assert channels.get(name).code == code


@pytest.mark.parametrize(
    "raw, code",
    [
        ("网上银行", "internet_banking"),
        ("网银", "internet_banking"),
        ("网银缴费", "internet_banking"),
        (" 网 银 ", "internet_banking"),
        ("网银\u3000", "internet_banking"),
        ("ＷｅＣｈａｔ　Ｐａｙ", "wechat"),
        ("Internet Banking", "internet_banking"),
        ("7", "internet_banking"),
        ("07", "internet_banking"),
        ("７", "internet_banking"),
        ("7.0", "internet_banking"),
        ("1", "counter"),
        ("18", "partner_hall"),
        ("营业厅", "counter"),
        ("代扣", "card_debit"),
        ("IC卡购电", "ic_card"),
        ("ic卡购电缴费", "ic_card"),
    ],
)
def test_resolve_spelling_variants(raw, code):
    codes, unknown = channels.resolve([raw])
    assert not unknown[0]
    assert codes[0] == code


def test_resolve_is_vectorised_and_flags_unknown():
    raw = ["支付宝", "比特币", None, "支付宝", "", "网银"] * 1000
    codes, unknown = channels.resolve(raw)
    assert len(codes) == 6000
    assert unknown.tolist()[:6] == [False, True, True, False, True, False]
    assert list(codes.categories) == channels.codes()


def test_no_alias_points_to_two_builtin_channels():
    seen = {}
    for ch in channels._BUILTIN:
        names = [ch.code, ch.name_zh, ch.name_en, *ch.aliases]
        for n in names:
            key = channels.normalise_name(n)
            assert seen.setdefault(key, ch.code) == ch.code, n


def test_register_new_channel_and_alias():
    channels.register(
        "douyin_pay",
        "抖音支付",
        "Douyin Pay",
        aliases=["抖音"],
        group="online",
        online=1,
        self_service=1,
    )
    codes, unknown = channels.resolve(["抖音", "抖音支付", "Douyin Pay"])
    assert not unknown.any()
    assert set(codes) == {"douyin_pay"}
    assert channels.attributes(["douyin_pay"]).loc["douyin_pay", "online"] == 1.0
    channels.register("alipay", aliases="支付宝APP缴费")
    assert channels.get("支付宝APP缴费").code == "alipay"
    assert channels.get("alipay").group == "online"  # attributes kept


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"group": "crypto"}, "group must be one of"),
        ({"online": 2}, r"online must be a weight in \[0, 1\]"),
        ({"automatic": -0.1}, r"automatic must be a weight"),
    ],
)
def test_register_rejects_bad_attributes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        channels.register("bad_channel", **kwargs)


def test_get_unknown_names_the_fix():
    with pytest.raises(KeyError, match=r"payseg\.channels\.register"):
        channels.get("比特币")


def test_table_with_aliases_lists_spellings():
    t = channels.table(include_aliases=True)
    assert "网上银行" in t.loc["internet_banking", "aliases"]
    assert isinstance(t, pd.DataFrame)
    assert np.isin(["counter", "alipay"], t.index).all()


def test_docs_channel_table_is_current():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "docs" / "_gen_channels.py"
    spec = importlib.util.spec_from_file_location("_gen_channels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = path.with_name("channels.md").read_text(encoding="utf-8")
    assert current == module.render(), "run: python docs/_gen_channels.py"
