"""Tests of payseg.plot and the CJK font detection in payseg._fonts."""

import matplotlib

matplotlib.use("Agg")

import warnings  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from payseg import _fonts  # noqa: E402
from payseg import plot as P  # noqa: E402
from payseg.plot import _common  # noqa: E402

N_PER = 30  # customers per segment


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def no_cjk(monkeypatch):
    """A machine without any CJK font (as in CI)."""
    monkeypatch.setattr(_fonts, "cjk_font", lambda: None)


@pytest.fixture
def fake_cjk(monkeypatch):
    """A machine with a CJK font (its name only: these tests do not draw)."""
    monkeypatch.setattr(_fonts, "cjk_font", lambda: "Fake CJK Sans")


def _features(seed=0):
    """Three segments plus noise; segment 2 is prepaid (no bills: delay NaN)."""
    rng = np.random.default_rng(seed)
    seg = np.repeat([0, 1, 2, -1], N_PER)
    n = len(seg)
    ids = pd.Index([f"{i:05d}" for i in range(n)], name="customer_id")
    delay = np.where(seg == 0, rng.normal(-5, 2, n), rng.normal(15, 5, n))
    delay[seg == 2] = np.nan
    online = np.clip(np.where(seg == 0, 0.9, 0.1) + rng.normal(0, 0.05, n), 0, 1)
    counter = 1 - online
    X = pd.DataFrame(
        {
            "delay_days_mean": delay + 20,  # days after issue, due 20 days later
            "days_to_due_mean": -delay,
            "late_share": np.clip(delay / 30, 0, 1),
            "online_share": online,
            "counter_share": counter,
            "automatic_share": 0.0,
            "agent_share": 0.0,
            "self_service_share": 0.0,
            "prepaid_share": np.where(seg == 2, 1.0, 0.0),
            "channel_share__alipay": online * 0.6,
            "channel_share__sgcc_app": online * 0.4,
            "channel_share__counter": counter,
            "pay_count_per_year": rng.poisson(np.where(seg == 2, 24, 10), n) + 1.0,
            "amount_per_year": rng.gamma(4, 300, n),
        },
        index=ids,
    )
    labels = pd.Series(seg, index=ids, name="segment")
    return X, labels


NAMES = pd.DataFrame(
    {
        "name_zh": ["线上及时型", "柜台忠实型", "预付费小额频繁型"],
        "name_en": [
            "prompt online",
            "counter-loyal",
            "prepaid, frequent small top-ups",
        ],
    },
    index=[0, 1, 2],
)


def _payments(n_customers=40, with_channel=True):
    rng = np.random.default_rng(1)
    n = n_customers * 6
    cid = np.repeat([f"{i:04d}" for i in range(n_customers)], 6)
    paid = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D")
    p = pd.DataFrame(
        {"customer_id": cid, "paid_at": paid, "amount": rng.gamma(3, 40, n)}
    )
    if with_channel:
        p["channel"] = pd.Categorical(
            rng.choice(["counter", "alipay", "card_debit", "agent_outlet"], n)
        )
        p["region"] = pd.Categorical(
            np.where(np.arange(n) // 6 % 3 == 0, "东乡供电所", "north")
        )
    else:
        p["channel"] = pd.Categorical([np.nan] * n, categories=["counter"])
    return p


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.figure.findobj(Text) if t.get_text()]


def _all_plots(X, labels, names, lang):
    """Call every plot once on the given data; returns {name: Axes}."""
    p = _payments()
    mig = pd.DataFrame([[20, 3], [4, 10]], index=[0, 1], columns=[0, 1])
    k_scores = pd.DataFrame({"silhouette": [0.3, 0.5, 0.4]}, index=[2, 3, 4])
    return {
        "delay": P.plot_delay_distribution(X, labels, names=names, lang=lang),
        "mix": P.plot_channel_mix(X, labels, names=names, lang=lang),
        "mix_channel": P.plot_channel_mix(
            X, labels, names=names, by="channel", lang=lang
        ),
        "calendar": P.plot_payment_calendar(p, lang=lang),
        "k": P.plot_k_scores(k_scores, chosen=3, lang=lang),
        "embedding": P.plot_embedding(X, labels, names=names, lang=lang),
        "profiles": P.plot_profiles(X, labels, names=names, lang=lang),
        "value": P.plot_value_matrix(
            X["pay_count_per_year"], X["amount_per_year"], lang=lang
        ),
        "pyramid": P.plot_pyramid(["A"] * 2 + ["B"] * 8 + ["D"] * 90, lang=lang),
        "migration": P.plot_migration(mig, names=names, lang=lang),
        "region": _region_quietly(p, lang),
    }


def _region_quietly(p, lang):
    # Without a CJK font the Chinese region names are coded R1, R2, ... with a
    # warning (tested in test_region_names_coded_without_cjk_font).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*region names have Chinese", UserWarning)
        return P.plot_region_channel(p, lang=lang)


# ------------------------------------------------------------------- every plot
def test_every_plot_returns_axes_with_content(no_cjk):
    X, labels = _features()
    axes = _all_plots(X, labels, NAMES, "auto")
    for name, ax in axes.items():
        assert isinstance(ax, Axes), name
        drawn = (
            len(ax.patches)
            + len(ax.collections)
            + len(ax.images)
            + len(ax.lines)
            + len(ax.texts)
        )
        assert drawn > 0, name
        assert ax.get_title(), name
    # Every figure renders to pixels under Agg.
    for ax in axes.values():
        ax.figure.canvas.draw()


def test_english_fallback_has_no_cjk_text(no_cjk):
    """Without a CJK font nothing Chinese is drawn (it would be tofu boxes)."""
    X, labels = _features()
    axes = _all_plots(X, labels, NAMES, "auto")
    for name, ax in axes.items():
        bad = [t for t in _texts(ax) if _fonts.has_cjk(t)]
        assert bad == [], (name, bad)
    yt = [t.get_text() for t in axes["delay"].get_yticklabels()]
    assert yt[0].startswith("prompt online (n=30)")
    assert yt[-1].startswith("noise")
    region = [t.get_text() for t in axes["region"].get_yticklabels()]
    assert any(t.startswith("R1 (") for t in region)  # 东乡供电所 cannot be drawn
    assert any(t.startswith("north") for t in region)


def test_chinese_labels_when_cjk_font(fake_cjk):
    X, labels = _features()
    ax = P.plot_channel_mix(X, labels, names=NAMES, by="channel")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "支付宝" in legend and "供电企业营业厅缴费" in legend
    yt = ax.get_yticklabels()
    assert yt[0].get_text() == "线上及时型"
    assert yt[0].get_fontfamily()[0] == "Fake CJK Sans"
    ax = P.plot_channel_mix(X, labels, names=NAMES)
    assert "线上" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_lang_en_forces_english_even_with_font(fake_cjk):
    X, labels = _features()
    ax = P.plot_channel_mix(X, labels, names=NAMES, by="channel", lang="en")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Alipay" in legend
    assert not any(_fonts.has_cjk(t) for t in _texts(ax))


def test_real_font_renders_chinese_without_missing_glyphs():
    """On this machine: Chinese with a CJK font, English without; never tofu."""
    _fonts.cjk_font.cache_clear()
    X, labels = _features()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = P.plot_profiles(X, labels, names=NAMES)
        ax.figure.canvas.draw()
    tofu = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert tofu == []
    has_zh = any(_fonts.has_cjk(t) for t in _texts(ax))
    assert has_zh == (_fonts.cjk_font() is not None)


def test_resolve_lang_zh_without_font_warns(no_cjk):
    with pytest.warns(UserWarning, match="no CJK font is installed"):
        assert _fonts.resolve_lang("zh") == "en"
    assert _fonts.resolve_lang("auto") == "en"
    with pytest.raises(ValueError, match="lang must be one of"):
        _fonts.resolve_lang("fr")


def test_font_family_lists_cjk_first(fake_cjk):
    assert _fonts.font_family() == ["Fake CJK Sans", "DejaVu Sans"]
    assert _fonts.resolve_lang("auto") == "zh"


def test_cjk_font_finds_an_installed_family(monkeypatch):
    monkeypatch.setattr(
        _fonts, "_installed_names", lambda: {"DejaVu Sans", "WenQuanYi Zen Hei"}
    )
    _fonts.cjk_font.cache_clear()
    try:
        assert _fonts.cjk_font() == "WenQuanYi Zen Hei"
    finally:
        _fonts.cjk_font.cache_clear()


# ------------------------------------------------------------ names and colours
def test_to_english_translates_payseg_vocabulary():
    assert _common.to_english("截止日前缴费型 2") == "deadline-driven 2"
    assert _common.to_english("高价值型") == "high value"
    assert _common.to_english("网上国网") == "State Grid app"
    assert _common.to_english("某某小区") is None
    assert _common.to_english("plain") == "plain"


def test_segment_names_fall_back_to_ids(no_cjk):
    names = pd.Series({0: "某某客户群", 1: "deadline $1"})
    out = _common.segment_names([0, 1, 2, -1], names, "en")
    assert out == {0: "segment 0", 1: r"deadline \$1", 2: "segment 2", -1: "noise"}


def test_segment_colors_are_stable_across_plots():
    a = P.segment_colors([0, 1, 2, -1])
    b = P.segment_colors([2, 5])
    assert a[2] == b[2]
    assert a[-1] == _common.NOISE_COLOR
    assert len({a[0], a[1], a[2]}) == 3
    strings = P.segment_colors(["b", "a"])
    assert strings["a"] == _common._PALETTE[0]


def test_embedding_uses_segment_colours(no_cjk):
    X, labels = _features()
    ax = P.plot_embedding(X, labels, lang="en")
    colors = P.segment_colors([0, 1, 2, -1])
    faces = {matplotlib.colors.to_hex(c.get_facecolor()[0]) for c in ax.collections}
    assert faces == set(colors.values())


# ----------------------------------------------------------- individual plots
def test_delay_distribution_marks_segments_without_bills(no_cjk):
    X, labels = _features()
    ax = P.plot_delay_distribution(X, labels, names=NAMES)
    assert "no bills: delay unknown" in [t.get_text() for t in ax.texts]
    assert len(ax.patches) == 3  # boxes for 0, 1 and noise; none for prepaid


def test_delay_distribution_without_bills_is_a_note(no_cjk):
    X, labels = _features()
    X["days_to_due_mean"] = np.nan
    ax = P.plot_delay_distribution(X, labels)
    assert any("payment delay needs bills" in t for t in _texts(ax))


def test_delay_distribution_draws_days_after_the_due_date(no_cjk):
    """Issue 17: the axis says "after the due date" and shows exactly that.

    Deadline payers settle 2 days before the due date, 18 days after the bill was
    issued: the box must sit at -2, not at +18.
    """
    ids = pd.Index([f"{i}" for i in range(40)], name="customer_id")
    X = pd.DataFrame(
        {
            "delay_days_mean": np.r_[np.full(20, 18.0), np.full(20, 25.0)],
            "days_to_due_mean": np.r_[np.full(20, 2.0), np.full(20, -5.0)],
        },
        index=ids,
    )
    labels = pd.Series(np.repeat([0, 1], 20), index=ids)
    ax = P.plot_delay_distribution(X, labels, lang="en")
    assert "after the due date" in ax.get_xlabel()
    assert "negative = before" in ax.get_xlabel()
    drawn = {
        float(x) for ln in ax.lines if ln.get_color() == "black" for x in ln.get_xdata()
    }
    assert drawn == {-2.0, 5.0}
    assert any(t.get_text().strip() == "due date" for t in ax.texts)
    # days after issue: drawn as such, labelled as such, no due-date line
    ax2 = P.plot_delay_distribution(X, labels, column="delay_days_mean", lang="en")
    assert "issue" in ax2.get_xlabel() and "due" not in ax2.get_xlabel()
    assert not any(t.get_text().strip() == "due date" for t in ax2.texts)


def test_channel_mix_without_channels_is_a_note(no_cjk):
    """cph.csv-like features: channel shares all NaN, no channel_share__ columns."""
    X, labels = _features()
    X = X.drop(columns=[c for c in X if c.startswith("channel_share__")])
    for c in (
        "online_share",
        "counter_share",
        "automatic_share",
        "agent_share",
        "self_service_share",
        "prepaid_share",
    ):
        X[c] = np.nan
    for by in ("group", "channel"):
        ax = P.plot_channel_mix(X, labels, by=by)
        assert any("no channel data" in t for t in _texts(ax))
        assert len(ax.patches) == 0


def test_channel_mix_bars_sum_to_one(no_cjk):
    X, labels = _features()
    ax = P.plot_channel_mix(X, labels, lang="en")
    widths = {}
    for rect in ax.patches:
        y = round(rect.get_y() + rect.get_height() / 2)
        widths[y] = widths.get(y, 0) + rect.get_width()
    assert len(widths) == 4
    assert all(abs(w - 1) < 1e-9 for w in widths.values())
    with pytest.raises(ValueError, match="by must be one of"):
        P.plot_channel_mix(X, labels, by="operator")


def test_channel_mix_top_channels_and_other(no_cjk):
    X, labels = _features()
    ax = P.plot_channel_mix(X, labels, by="channel", top=1, lang="en")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["utility service-hall counter", "other"]


def test_payment_calendar_blanks_missing_days(no_cjk):
    p = pd.DataFrame(
        {
            "paid_at": pd.to_datetime(
                ["2024-01-31", "2024-02-10", "2024-02-10", "2024-04-01"]
            )
        }
    )
    ax = P.plot_payment_calendar(p)
    arr = ax.images[0].get_array()
    assert arr.shape == (4, 31)  # Jan..Apr, March with no payment kept
    assert arr[1, 9] == 2 and arr[0, 30] == 1 and arr[2].sum() == 0
    assert np.ma.is_masked(arr[1, 29]) or np.isnan(arr[1, 29])  # 30 February


def test_payment_calendar_empty_is_a_note(no_cjk):
    p = pd.DataFrame({"paid_at": pd.Series([], dtype="datetime64[ns]")})
    ax = P.plot_payment_calendar(p)
    assert "no data" in _texts(ax)


def test_k_scores_scaled_and_inverted(no_cjk):
    scores = pd.DataFrame(
        {
            "silhouette": [0.2, 0.6, 0.4],
            "davies_bouldin": [1.5, 0.5, 1.0],
            "bic": [np.nan, np.nan, np.nan],
            "gap_se": [0.1, 0.1, 0.1],
        },
        index=pd.Index([2, 3, 4], name="k"),
    )
    ax = P.plot_k_scores(scores, chosen=3)
    lines = {
        line.get_label(): line.get_ydata()
        for line in ax.get_lines()
        if not line.get_label().startswith("_")
    }
    assert set(lines) == {"silhouette", "Davies-Bouldin (inverted)"}
    np.testing.assert_allclose(lines["silhouette"], [0, 1, 0.5])
    np.testing.assert_allclose(lines["Davies-Bouldin (inverted)"], [0, 1, 0.5])
    assert any("chosen k = 3" in t for t in _texts(ax))


def test_k_scores_empty_is_a_note(no_cjk):
    ax = P.plot_k_scores(pd.DataFrame())
    assert any("k was fixed" in t for t in _texts(ax))


def test_embedding_samples_and_validates(no_cjk):
    X, labels = _features()
    ax = P.plot_embedding(X, labels, sample=50, random_state=1)
    assert sum(len(c.get_offsets()) for c in ax.collections) == 50
    assert ax.get_xlabel().startswith("PC 1")
    with pytest.raises(ValueError, match="method must be one of"):
        P.plot_embedding(X, labels, method="umap")
    with pytest.raises(ValueError, match="labels has shape"):
        P.plot_embedding(X, [0, 1])


def test_embedding_tsne(no_cjk):
    X, labels = _features()
    ax = P.plot_embedding(X, labels, method="tsne", sample=30)
    assert ax.get_xlabel() == "t-SNE 1"


def test_profiles_annotates_medians(no_cjk):
    X, labels = _features()
    cols = ["online_share", "amount_per_year"]
    ax = P.plot_profiles(X, labels, columns=cols)
    assert len(ax.texts) == 4 * len(cols)  # 3 segments + noise
    med = X.loc[labels == 0, "online_share"].median()
    assert f"{med:.0%}" in [t.get_text() for t in ax.texts]
    with pytest.raises(KeyError, match="columns not in features"):
        P.plot_profiles(X, labels, columns=["nope"])


def test_profiles_default_drops_constant_rows(no_cjk):
    X, labels = _features()
    ax = P.plot_profiles(X, labels)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert "auto-debit share" not in rows  # 0 everywhere
    assert "online share" in rows


def test_value_matrix_quadrants(no_cjk):
    ax = P.plot_value_matrix(
        pd.Series([1, 2, 10, 12, 3]), pd.Series([50.0, 900, 40, 800, 60])
    )
    texts = _texts(ax)
    for label in (
        "high value (n=1)",
        "mass (n=1)",
        "potential (n=1)",
        "low value (n=2)",
    ):
        assert label in texts
    assert len(ax.collections) == 4
    assert [line.get_xdata()[0] for line in ax.lines[:1]] == [pytest.approx(5.6)]


def test_value_matrix_accepts_chinese_class_names(fake_cjk):
    ax = P.plot_value_matrix([1, 10], [900, 20], ["潜力型", "大众型"])
    texts = _texts(ax)
    assert "潜力型 (n=1)" in texts and "大众型 (n=1)" in texts


def test_value_matrix_samples_points(no_cjk):
    rng = np.random.default_rng(0)
    ax = P.plot_value_matrix(rng.poisson(10, 500), rng.gamma(3, 100, 500), sample=100)
    assert sum(len(c.get_offsets()) for c in ax.collections) == 100
    assert (
        sum(
            int(t.get_text().split("n=")[1].rstrip(")").replace(",", ""))
            for t in ax.texts
            if "n=" in t.get_text()
        )
        == 500
    )


def test_pyramid_tiers_and_amount_share(no_cjk):
    tiers = pd.Series(["A", "B", "B", "C", "D", "D", "D", "D"])
    amount = pd.Series([500.0, 100, 100, 50, 10, 10, 10, 10])
    ax = P.plot_pyramid(tiers, amount=amount)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C", "D"]
    assert "1 customers (12.5%), 63.3% of amount" in _texts(ax)
    assert len(ax.patches) == 4


def test_pyramid_empty_is_a_note(no_cjk):
    ax = P.plot_pyramid(pd.Series([], dtype=object))
    assert "no data" in _texts(ax)


def test_migration_from_object_and_names(no_cjk):
    class FakeMigration:
        transitions_ = pd.DataFrame([[8, 0], [2, 10]], index=[0, 1], columns=[0, 1])

    ax = P.plot_migration(FakeMigration(), names=NAMES)
    assert [t.get_text() for t in ax.texts] == ["100%\n8", "17%\n2", "83%\n10"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "prompt online",
        "counter-loyal",
    ]
    ax = P.plot_migration(pd.DataFrame())
    assert "no migration data" in _texts(ax)


def test_migration_string_segments_chinese_fallback(no_cjk):
    m = pd.DataFrame(
        [[5, 1], [0, 4]], index=["线上及时型", "某类"], columns=["线上及时型", "某类"]
    )
    ax = P.plot_migration(m)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "prompt online",
        "segment 1",
    ]


def test_region_channel_counts_customers_not_payments(no_cjk):
    # a pays 3 times at the counter and once online, b once online, both in one
    # region; c online in the other. Per customer: a = (online 1/4, counter 3/4),
    # b = (online 1, counter 0); their average is (5/8, 3/8), whereas counting
    # payments would give (2/5, 3/5).
    p = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "region": ["<script>alert(1)</script>"] * 5 + ["south"],
            "channel": ["counter"] * 3 + ["alipay"] * 3,
        }
    )
    ax = P.plot_region_channel(p)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["<script>alert(1)</script> (2 customers)", "south (1 customer)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["online", "counter"]
    np.testing.assert_allclose(ax.images[0].get_array()[0], [5 / 8, 3 / 8])
    np.testing.assert_allclose(ax.images[0].get_array()[1], [1.0, 0.0])
    assert "customers" in ax.get_title() and "customer" in ax.get_xlabel()
    ax = P.plot_region_channel(p, by="channel")
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "Alipay",
        "utility service-hall counter",
    ]
    np.testing.assert_allclose(ax.images[0].get_array()[0], [5 / 8, 3 / 8])
    with pytest.raises(ValueError, match="by must be 'group' or 'channel'"):
        P.plot_region_channel(p, by="x")
    with pytest.raises(ValueError, match="no customer_id column"):
        P.plot_region_channel(p.drop(columns="customer_id"))


def test_region_channel_matches_a_per_customer_reference(no_cjk):
    # The slow obvious way: each customer's group shares, then the mean per region.
    from payseg.channels import table

    rng = np.random.default_rng(5)
    n = 3000
    chans = ["counter", "alipay", "card_debit", "agent_outlet", "ic_card"]
    cid = rng.integers(0, 200, n).astype(str)
    region = {c: f"r{int(c) % 7}" for c in np.unique(cid)}
    p = pd.DataFrame(
        {
            "customer_id": cid,
            "region": [region[c] for c in cid],
            "channel": rng.choice(chans, n, p=[0.4, 0.3, 0.1, 0.15, 0.05]),
        }
    )
    group = table()["group"]
    ref = {}
    for c, rows in p.groupby("customer_id"):
        ref[c] = rows["channel"].map(group).value_counts(normalize=True)
    ref = pd.DataFrame(ref).T.fillna(0.0)
    ref = ref.groupby(ref.index.map(region)).mean()
    ax = P.plot_region_channel(p)
    shown = [t.get_text().split(" (")[0] for t in ax.get_yticklabels()]
    cols = [
        {
            "online": "online",
            "counter": "counter",
            "agent outlet": "agent",
            "automatic debit": "automatic",
            "prepaid": "prepaid",
        }[t.get_text()]
        for t in ax.get_xticklabels()
    ]
    np.testing.assert_allclose(
        ax.images[0].get_array(), ref.loc[shown, cols].to_numpy(), atol=1e-12
    )
    counts = p.groupby("region")["customer_id"].nunique()
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"{r} ({counts[r]} customers)" for r in shown
    ]


def test_region_names_coded_without_cjk_font(no_cjk):
    p = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "region": ["城西供电所", "城东供电所", "north"],
            "channel": ["counter", "alipay", "alipay"],
        }
    )
    with pytest.warns(UserWarning, match="2 region names have Chinese characters"):
        ax = P.plot_region_channel(p)
    codes = P.region_codes(p["region"])
    assert codes.to_dict() == {"城东供电所": "R1", "城西供电所": "R2"}
    rows = {t.get_text() for t in ax.get_yticklabels()}
    assert rows == {"R2 (1 customer)", "R1 (1 customer)", "north (1 customer)"}


def test_region_names_drawn_with_the_packaged_font():
    # payseg depends on pylopdf-fonts-zh-cn: Chinese region names are drawn with a
    # real font, without matplotlib's "Glyph ... missing from font" warning.
    _fonts.cjk_font.cache_clear()
    assert _fonts.cjk_font() is not None
    p = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "region": ["北岭镇供电所", "城西供电所"],
            "channel": ["counter", "alipay"],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = P.plot_region_channel(p)
        ax.figure.canvas.draw()
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["北岭镇供电所 (1 户)", "城西供电所 (1 户)"]
    assert "客户" in ax.get_title()


def test_region_channel_without_channel_or_region(no_cjk):
    ax = P.plot_region_channel(_payments(with_channel=False))
    assert any("no channel data" in t for t in _texts(ax))
    p = _payments().drop(columns="region")
    ax = P.plot_region_channel(p)
    assert "no region data" in _texts(ax)
    with pytest.raises(TypeError, match="payments must be PaymentData"):
        P.plot_region_channel([1, 2])


def test_region_from_payment_data_customers(no_cjk):
    import payseg

    p = _payments().drop(columns="region")
    cust = pd.DataFrame(
        {"region": pd.Categorical(["east"] * 40)},
        index=pd.Index([f"{i:04d}" for i in range(40)], name="customer_id"),
    )
    data = payseg.PaymentData(payments=p, customers=cust)
    ax = P.plot_region_channel(data)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["east (40 customers)"]


def test_plots_draw_on_given_axes(no_cjk):
    X, labels = _features()
    fig, axs = plt.subplots(1, 2)
    out = P.plot_delay_distribution(X, labels, ax=axs[1])
    assert out is axs[1]
    assert len(fig.axes) == 2


def test_single_segment_and_string_labels(no_cjk):
    X, _ = _features()
    labels = np.array(["b"] * len(X), dtype=object)
    labels[:10] = "a"
    for f in (
        P.plot_delay_distribution,
        P.plot_channel_mix,
        P.plot_profiles,
        P.plot_embedding,
    ):
        ax = f(X, labels)
        ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "segment a (10)",
        "segment b (110)",
    ]


def test_dollar_in_names_is_not_mathtext(no_cjk):
    X, labels = _features()
    ax = P.plot_channel_mix(X, labels, names={0: "$x$ payers"})
    ax.figure.canvas.draw()
    assert ax.get_yticklabels()[0].get_text() == r"\$x\$ payers"


def test_delay_outliers_are_thinned_on_big_data(no_cjk):
    rng = np.random.default_rng(0)
    n = 20_000
    X = pd.DataFrame({"days_to_due_mean": rng.standard_cauchy(n)})
    ax = P.plot_delay_distribution(X, np.zeros(n, dtype=int))
    fliers = [line for line in ax.lines if line.get_marker() not in ("", "None", None)]
    assert len(fliers) == 1
    y = fliers[0].get_xdata()
    assert len(y) == 300
    assert y.min() == -X["days_to_due_mean"].max()
    assert y.max() == -X["days_to_due_mean"].min()


def test_float_labels_with_missing_customers(no_cjk):
    """Labels made float by a missing segment (0.0, NaN) still read as ids."""
    X, labels = _features()
    lab = labels.astype("float64")
    lab.iloc[:5] = np.nan
    ax = P.plot_channel_mix(X, lab, names=NAMES)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "prompt online",
        "counter-loyal",
        "prepaid, frequent small top-ups",
        "noise",
    ]
    ax = P.plot_delay_distribution(X, lab)
    assert ax.get_yticklabels()[0].get_text() == "segment 0 (n=25)"


def test_region_channel_customer_counted_once_in_first_payment_region(no_cjk):
    # x pays first in "east", then in "west": one customer, in east only.
    p = pd.DataFrame(
        {
            "customer_id": ["y", "x", "x", "z"],
            "region": ["west", "east", "west", "west"],
            "channel": ["alipay", "counter", "alipay", "alipay"],
        }
    )
    ax = P.plot_region_channel(p)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["east (1 customer)", "west (2 customers)"]
    np.testing.assert_allclose(ax.images[0].get_array()[0], [0.5, 0.5])
