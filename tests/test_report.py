"""Tests of payseg.report on hand-made SegmentationResult objects."""

import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import payseg  # noqa: E402
from payseg import _fonts, report  # noqa: E402
from payseg._pipeline import SegmentationResult  # noqa: E402

EVIL = "<script>alert(1)</script>"
N = 1200  # customers, so sizes need thousands separators
_REAL_CJK_FONT = _fonts.cjk_font  # before the autouse fixture replaces it


@pytest.fixture(autouse=True)
def _english(monkeypatch):
    # Plots in English whatever fonts this machine has; the report stays bilingual.
    monkeypatch.setattr(_fonts, "cjk_font", lambda: None)


def _data(with_channel=True):
    rng = np.random.default_rng(0)
    ids = np.array([f"{i:05d}" for i in range(N)], dtype=object)
    ids[7] = EVIL
    cid = np.repeat(ids, 2)
    n = len(cid)
    raw = pd.DataFrame(
        {
            "户号": cid,
            "缴费日期": (
                pd.Timestamp("2024-01-01")
                + pd.to_timedelta(rng.integers(0, 400, n), "D")
            ).strftime("%Y-%m-%d"),
            "实收金额": rng.gamma(3, 40, n).round(2).astype(str),
        }
    )
    if with_channel:
        raw["缴费方式"] = rng.choice(["网银", "支付宝", "营业厅", "银行代扣"], n)
        raw.loc[3, "缴费方式"] = EVIL  # unknown channel: rejected, value kept in ledger
        raw["供电单位"] = np.where(np.arange(n) % 2 == 0, EVIL, "北区供电所")
    raw.loc[5, "缴费日期"] = "not a date"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unknown channel spelling
        return payseg.load(raw)


def _migration(labels):
    """A fitted Migration: every tenth customer moves to the next segment."""
    from payseg.labels import Migration

    class Frozen:  # the segmenter, frozen: reads the segment off the features
        def predict(self, X):
            return X["segment"].to_numpy()

    before = labels[labels >= 0]
    after = before.copy()
    after.iloc[::10] = (after.iloc[::10] + 1) % 3
    windows = pd.DataFrame(
        {
            "start": pd.to_datetime(["2024-01-01", "2024-07-01"]),
            "end": pd.to_datetime(["2024-07-01", "2025-01-01"]),
        },
        index=["2024H1", "2024H2"],
    )
    return Migration(Frozen()).fit(
        {"2024H1": before.to_frame(), "2024H2": after.to_frame()}, windows=windows
    )


def _result(
    *,
    with_channel=True,
    migration=True,
    stability="object",
    k_scores=True,
    warnings_=True,
):
    data = _data(with_channel)
    rng = np.random.default_rng(1)
    ids = pd.Index(sorted(data.payments["customer_id"].unique()), name="customer_id")
    seg = np.arange(len(ids)) % 4 - 1  # -1 (noise), 0, 1, 2
    labels = pd.Series(seg, index=ids, name="segment")
    online = np.where(seg == 0, 0.9, 0.2) if with_channel else np.nan
    X = pd.DataFrame(
        {
            "delay_days_mean": np.where(seg == 2, 20.0, -3.0)
            + rng.normal(0, 1, len(ids)),
            "late_share": np.where(seg == 2, 0.8, 0.05),
            "online_share": online,
            "counter_share": 1 - online if with_channel else np.nan,
            "pay_count_per_year": rng.poisson(8, len(ids)) + 1.0,
            "amount_per_year": rng.gamma(3, 300, len(ids)),
        },
        index=ids,
    )
    segments = pd.DataFrame(
        {
            "key": ["mixed", "prompt_online", "counter_loyal", "chronic_late"],
            "name_en": ["mixed", "prompt online", "counter-loyal", "chronically late"],
            "name_zh": ["混合型", "线上及时型", "柜台忠实型", "长期逾期型"],
            "rule": [
                "noise",
                "online_share 0.9 >= 0.5",
                "counter_share 0.8 >= 0.4",
                "late_share 0.8 >= 0.5",
            ],
            "action": [
                "standard service",
                "keep_e_bill",
                "guide to self-service terminals",
                "payment reminders and an auto-debit offer",
            ],
        },
        index=pd.Index([-1, 0, 1, 2], name="segment"),
    )
    tiers = pd.Series(
        np.where(
            np.arange(len(ids)) < 12, "A", np.where(np.arange(len(ids)) < 60, "B", "D")
        ),
        index=ids,
    )
    value = pd.Series(
        np.array(["high_value", "mass", "potential", "low_value"])[
            np.arange(len(ids)) % 4
        ],
        index=ids,
    )
    customers = pd.DataFrame(
        {
            "segment": labels,
            "name": labels.map(segments["name_en"]),
            "value_class": value,
            "pyramid_tier": tiers,
            "credit_grade": np.where(seg == 2, "C", "A"),
            "warning_score": rng.uniform(0, 1, len(ids)),
            "action": labels.map(segments["action"]),
        },
        index=ids,
    )
    ks = pd.DataFrame(
        {
            "silhouette": [0.31, 0.42, 0.38],
            "davies_bouldin": [1.1, 0.8, 0.9],
            "gap": [1.0, 1.2, 1.25],
            "gap_se": [0.01, 0.01, 0.01],
        },
        index=pd.Index([2, 3, 4], name="k"),
    )
    stab = None
    if stability == "object":
        from payseg.cluster import StabilityResult

        stab = StabilityResult(
            jaccard=pd.DataFrame(
                {
                    "mean": [0.9, 0.8, 0.55],
                    "min": [0.8, 0.6, 0.3],
                    "std": [0.05, 0.1, 0.2],
                    "dissolved": [0.0, 0.1, 0.6],
                },
                index=[0, 1, 2],
            ),
            boot_jaccard=pd.DataFrame(),
            ari=pd.Series([0.8, 0.9]),
        )
    # As payseg.segment makes it (EarlyWarning.top).
    warn = pd.DataFrame(
        {
            "warning_score": [0.7, 0.9],
            "warning_level": ["high"] * 2,
            "reasons": ["delay rising", f"arrears {EVIL}"],
        },
        index=pd.Index([ids[0], EVIL], name="customer_id"),
    )
    mig = _migration(labels) if migration else None
    return SegmentationResult(
        data=data,
        features=X,
        segmenter=None,
        labels=labels,
        segments=segments,
        customers=customers,
        profiles=pd.DataFrame(),
        k_scores=ks if k_scores else pd.DataFrame(),
        k_reason=f"k=3: highest silhouette (0.42) over k=2..4 {EVIL}",
        stability=stab,
        warnings=warn if warnings_ else pd.DataFrame(),
        migration=mig,
    )


SECTIONS = [
    "Data health",
    "Segments",
    "Regions and outlets",
    "Segment profiles",
    "Choosing the number of segments",
    "Stability",
    "Customer value",
    "Early warnings",
    "Segment migration",
]


def _render(result, path, **kwargs):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_fonts, "cjk_font", lambda: None)
        return report.render(result, path, **kwargs)


@pytest.fixture(scope="module")
def html_report(tmp_path_factory):
    path = _render(_result(), tmp_path_factory.mktemp("r") / "r.html")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def md_report(tmp_path_factory):
    res = _result()
    res.segments.loc[0, "action"] = "a | b"
    path = _render(res, tmp_path_factory.mktemp("m") / "report.md")
    return path


@pytest.fixture
def cheap_plots(monkeypatch):
    """Every plot draws nothing (figures are still made and saved)."""
    import payseg.plot

    for name in payseg.plot.__all__:
        if name.startswith("plot_"):
            monkeypatch.setattr(payseg.plot, name, lambda *a, **k: None)


@pytest.fixture
def cheap_figures(monkeypatch):
    """Text-only tests: each figure is a stored 1x1 PNG, so rendering is fast."""
    from payseg.report import _model

    png = b"\x89PNG\r\n\x1a\n-stub"
    monkeypatch.setattr(
        _model,
        "_figure",
        lambda name, draw, caption, size=None: _model._Figure(name, png, caption),
    )


def test_html_has_every_section(html_report):
    for heading in SECTIONS:
        assert re.search(rf"<h2>.*{re.escape(heading)}", html_report), heading
    for sub in (
        "Rejected rows by reason",
        "Value matrix",
        "Value pyramid",
        "Credit grades",
    ):
        assert sub in html_report
    assert "could not be drawn" not in html_report


def test_html_is_self_contained(html_report):
    n_img = html_report.count('src="data:image/png;base64,')
    assert n_img >= 9  # calendar, region, mix, delay, embedding, profiles, k,
    assert "<link" not in html_report  # value matrix, pyramid, migration
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html_report)
    assert "<style>" in html_report
    assert html_report.count("<script") == 0


def test_html_escapes_data_strings(html_report):
    assert EVIL not in html_report
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # customer id in the warnings table, reasons text, k reason, and the rejected
    # channel value in the rejected-rows table.
    assert html_report.count(escaped) >= 3
    assert "unknown channel" in html_report


def test_html_numbers_are_formatted(html_report):
    assert "1,200" in html_report  # customers card
    assert "2,400" in html_report  # payments read
    assert "25.0%" in html_report  # segment shares
    assert "线上及时型" in html_report and "prompt online" in html_report
    # Key points at the top.
    assert (
        "300 customers (25.0%) are in deadline-driven or chronically late"
        in html_report
    )
    assert "300 customers (25.0%) fit no segment (noise)" in html_report
    assert "1 input rows were rejected" not in html_report
    assert "2 input rows were rejected" in html_report


def test_action_codes_become_text(html_report):
    # keep_e_bill is worded per archetype in the actions table.
    assert "保持线上缴费，推送电子账单" in html_report
    assert "keep paying online; e-bill" in html_report
    assert "keep_e_bill" not in html_report


def test_warnings_sorted_by_score(html_report):
    part = html_report[html_report.index('id="warnings"') :]
    first = part.index("&lt;script&gt;alert(1)&lt;/script&gt;</td>")
    assert first < part.index(">00000</td>")
    assert "0.90" in part and "<td>high<" not in part  # 高 with "high" under it
    assert '<td>高<br><span class="en">high</span></td>' in part


def test_segment_colours_match_the_plots(html_report):
    from payseg.plot import segment_colors

    colors = segment_colors([-1, 0, 1, 2])
    for c in colors.values():
        assert f"background:{c}" in html_report


def test_chosen_k_row_highlighted(html_report):
    row = re.search(r'<tr class="hl"><td class="num">(\d+)</td>', html_report)
    assert row and row.group(1) == "3"


def test_stability_object_and_missing(tmp_path, cheap_figures):
    text = report.render(
        _result(stability="object", migration=False), tmp_path / "a.html"
    ).read_text("utf-8")
    assert "unstable" in text and "highly stable" in text
    assert "0.85" in text  # mean ARI of the refits
    assert "Segment migration" not in text
    text = report.render(
        _result(stability=None, k_scores=False, warnings_=False), tmp_path / "b.html"
    ).read_text("utf-8")
    assert "Stability was not computed" in text
    assert "The number of segments was fixed" in text
    assert "No early warnings" in text


def test_low_warnings_are_not_listed(tmp_path, cheap_figures):
    res = _result(migration=False)
    res.warnings["warning_level"] = ["low", "medium"]
    text = report.render(res, tmp_path / "w.html").read_text("utf-8")
    part = text[text.index('id="warnings"') :]
    assert "The 1 customers with the highest" in part
    assert ">00000</td>" not in part
    res.warnings["warning_level"] = "low"
    text = report.render(res, tmp_path / "w.html").read_text("utf-8")
    assert (
        "No customer reached a medium or high warning level (highest score "
        "0.90)" in text
    )


def test_data_without_channels(tmp_path):
    text = _render(_result(with_channel=False), tmp_path / "c.html").read_text("utf-8")
    assert "The data has no payment channel" in text
    assert "No channel mix" in text
    assert "could not be drawn" not in text


def test_markdown_writes_images_beside(md_report):
    text = md_report.read_text("utf-8")
    for i, heading in enumerate(SECTIONS, 1):
        assert f"## {i}. {heading}" in text
    images = re.findall(r"!\[[^\]]*\]\((report_files/[^)]+\.png)\)", text)
    assert len(images) >= 9
    for rel in images:
        assert (md_report.parent / rel).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert EVIL not in text
    assert "&lt;script&gt;" in text
    assert re.search(r"\| 1,200 \|", text)


def test_markdown_tables_escape_pipes(md_report):
    assert r"a \| b" in md_report.read_text("utf-8")


def test_markdown_embedded_images(tmp_path, cheap_figures):
    path = report.render(_result(migration=False), tmp_path / "r.md", embed_images=True)
    text = path.read_text("utf-8")
    assert text.count("](data:image/png;base64,") >= 8
    assert not (tmp_path / "r_files").exists()


def test_bad_suffix():
    with pytest.raises(ValueError, match="use a .html, .htm or .md file name"):
        report.render(_result(migration=False), "report.pdf")


def test_failing_figure_becomes_a_note(tmp_path, monkeypatch, cheap_plots):
    import payseg.plot

    def boom(*args, **kwargs):
        raise RuntimeError("kaputt <b>")

    monkeypatch.setattr(payseg.plot, "plot_pyramid", boom)
    with pytest.warns(RuntimeWarning, match="figure 'pyramid' failed"):
        path = report.render(_result(migration=False), tmp_path / "r.htm")
    text = path.read_text("utf-8")
    assert "Figure pyramid could not be drawn: RuntimeError: kaputt &lt;b&gt;" in text
    assert "Early warnings" in text


def test_summary_html_is_compact_and_escaped():
    res = _result(migration=False)
    res.segments.loc[0, "name_en"] = EVIL
    html = report.summary_html(res)
    assert EVIL not in html
    assert "&lt;script&gt;" in html
    assert "1,200 customers, 3 segments" in html
    assert html.count("<tr>") == 1 + 4  # header + one row per segment incl. noise
    assert "<img" not in html
    short = report.summary_html(res, max_rows=2)
    assert "2 more segments" in short


def _custom_action(res):
    """Segment 2 (chronic_late) gets a code that is not in the bundled table."""
    cust = res.customers
    late = (cust["segment"] == 2).to_numpy()
    cust["archetype"] = cust["segment"].map(res.segments["key"])
    cust.loc[late, "action"] = "sms_then_visit"
    # Bundled codes without wording here: the report falls back to the table.
    cust["action_zh"] = np.where(late, "短信提醒后上门走访", None)
    cust["action_en"] = np.where(late, "text reminder, then a <home> visit", None)
    res.segments.loc[2, "action"] = "sms_then_visit"
    res.warnings.index = pd.Index([cust.index[late][0], EVIL], name="customer_id")
    return res


def test_user_defined_actions_render_as_text(tmp_path, cheap_figures):
    res = _custom_action(_result(migration=False))
    html = report.render(res, tmp_path / "a.html").read_text("utf-8")
    assert "sms_then_visit" not in html
    # Segment table and the early-warning row of a chronic_late customer.
    part = html[html.index('id="warnings"') :]
    assert "短信提醒后上门走访" in html[: html.index('id="warnings"')]
    assert "短信提醒后上门走访" in part
    assert html.count("text reminder, then a &lt;home&gt; visit") >= 2
    md = report.render(res, tmp_path / "a.md").read_text("utf-8")
    assert "sms\\_then\\_visit" not in md and "sms_then_visit" not in md
    assert "短信提醒后上门走访 / text reminder, then a &lt;home&gt; visit" in md
    summary = report.summary_html(res)
    assert "短信提醒后上门走访 (text reminder, then a &lt;home&gt; visit)" in summary
    # Bundled codes keep their per-archetype wording.
    assert "保持线上缴费，推送电子账单" in html


def test_user_defined_action_with_chinese_only(tmp_path, cheap_figures):
    res = _custom_action(_result(migration=False))
    res.customers = res.customers.drop(columns="action_en")
    html = report.render(res, tmp_path / "a.html").read_text("utf-8")
    # The code stands in for the unknown English; bundled codes keep theirs.
    assert '短信提醒后上门走访<br><span class="en">sms_then_visit</span>' in html
    assert "keep paying online; e-bill" in html


def test_segment_with_own_actions_csv_reports_their_text(tmp_path, cheap_figures):
    data = payseg.synth.generate(300, seed=1, months=12)
    table = payseg.labels.load_actions()
    mine = pd.DataFrame(
        [
            {
                "kind": "archetype",
                "key": "deadline",
                "priority": 0,
                "action": "wechat_due_date_nudge",
                "action_zh": "截止日前三天微信提醒",
                "action_en": "WeChat nudge three days before the due date",
            }
        ]
    )
    path = tmp_path / "my_actions.csv"
    pd.concat([mine, table]).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = payseg.segment(
            data, random_state=0, n_clusters=9, actions=payseg.labels.load_actions(path)
        )
    assert "wechat_due_date_nudge" in set(res.segments["action"])
    html = report.render(res, tmp_path / "r.html").read_text("utf-8")
    # customers carries action_zh and action_en: both texts of the user's own row.
    assert (
        '截止日前三天微信提醒<br><span class="en">WeChat nudge three days before '
        "the due date"
    ) in html
    assert "<td>wechat_due_date_nudge</td>" not in html


def test_result_fields_are_typed():
    res = _result(migration=False)
    frame = pd.DataFrame({"jaccard": [0.9]}, index=[0])
    with pytest.raises(
        TypeError,
        match=r"SegmentationResult.stability must be a "
        r"payseg.cluster.StabilityResult or None, got DataFrame",
    ):
        SegmentationResult(
            data=res.data,
            features=res.features,
            segmenter=None,
            labels=res.labels,
            segments=res.segments,
            customers=res.customers,
            profiles=pd.DataFrame(),
            stability=frame,
        )
    with pytest.raises(
        TypeError,
        match=r"SegmentationResult.migration must be a "
        r"payseg.labels.Migration or None, got DataFrame",
    ):
        SegmentationResult(
            data=res.data,
            features=res.features,
            segmenter=None,
            labels=res.labels,
            segments=res.segments,
            customers=res.customers,
            profiles=pd.DataFrame(),
            migration=frame,
        )


def test_segment_table_is_made_once_with_the_result():
    ids = pd.Index(["a", "b", "c", "d"], name="customer_id")
    labels = pd.Series([1, -1, 1, 0], index=ids)
    res = SegmentationResult(
        data=_data(),
        features=pd.DataFrame(index=ids),
        segmenter=None,
        labels=labels,
        segments=pd.DataFrame({"name_en": ["one"]}, index=[1]),
        customers=pd.DataFrame(index=ids),
        profiles=pd.DataFrame(),
    )
    segs = res.segments
    assert segs.index.tolist() == [0, 1, -1]  # sorted, noise last
    assert segs["size"].tolist() == [1, 2, 1]
    assert segs["share"].tolist() == [0.25, 0.5, 0.25]
    assert segs["name_en"].tolist() == ["segment 0", "one", "noise"]
    assert segs.columns[:7].tolist() == [
        "key",
        "name_en",
        "name_zh",
        "rule",
        "size",
        "share",
        "action",
    ]


def test_migration_section_reads_the_fitted_migration(html_report):
    part = html_report[html_report.index('id="migration"') :]
    # every tenth of the 900 segmented customers moved: 90 movers
    assert "10.0% of customers changed segment" in part
    assert "2024H1" in part and "2024-07-01" in part


def test_regions_outlets_and_data_health_as_text(tmp_path):
    """Issue 17: where outlets are needed and why, as copyable text tables; the
    data-health section first; the delay plot's caption speaks of the due date."""
    import payseg

    data = payseg.synth.generate(1500, seed=5, months=24)
    result = payseg.segment(data, n_clusters=8, random_state=0, migration=False)
    with pytest.warns(UserWarning, match="labels 9 Chinese region names R1, R2"):
        path = _render(result, tmp_path / "r.md")
    text = path.read_text(encoding="utf-8")
    assert text.index("## 1. Data health") < text.index("## 2. Segments")
    region_sec = text[text.index("Regions and outlets") :]
    region_sec = region_sec[: region_sec.index("\n## ")]
    regions = result.customers["region"].dropna().astype(str).unique()
    assert all(r in region_sec for r in regions)
    assert "Customers per segment and region" in region_sec
    assert "outlets needed?" in region_sec
    assert ("需要" in region_sec) or ("可精简" in region_sec)
    assert "Action mix of each segment" in text
    # every row of the action mix adds up to 100% and shows the segment's main
    # action with its share (not a row of dashes for a rare action)
    mix_md = text[text.index("Action mix of each segment") :]
    lines = [x for x in mix_md.split("\n") if x.startswith("|")]
    # the three most common actions overall have a column too
    c = result.customers
    for code in c["action"].value_counts().index[:3]:
        want = c.loc[c["action"] == code, "action_zh"].iloc[0]
        assert want.split("：")[0] in lines[0], (code, lines[0])
    lines = lines[2 : 2 + result.customers["segment"].nunique()]
    top = pd.crosstab(
        result.customers["segment"], result.customers["action"], normalize="index"
    ).max(axis=1)
    names = result.segments["name_zh"]
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        shares = [float(c.rstrip("%")) for c in cells[1:] if c.endswith("%")]
        assert abs(sum(shares) - 100) < 0.5, line
        sid = next(k for k, v in names.items() if v in cells[0])
        assert max(shares) == pytest.approx(round(100 * top[sid], 1), abs=0.051), line
    assert "relative to the due date" in text
    assert "stability=True" not in text
    # the segment x region table counts customers: its total is every customer
    total = f"{len(result.customers):,}"
    assert "total 合计" in region_sec and total in region_sec
    # the heatmap of customers is in this section, not in data health; without a
    # CJK font its regions are coded and the code table says which is which
    assert (
        "region_channel" in region_sec
        and "region_channel" not in text[: text.index("## 2. Segments")]
    )
    assert "averaged over the region's customers" in region_sec
    for i, name in enumerate(sorted(regions)):
        assert f"| R{i + 1} | {name} |" in region_sec


def test_region_heatmap_draws_chinese_names_with_the_packaged_font(
    tmp_path, monkeypatch
):
    # With the font of payseg's pylopdf-fonts-zh-cn dependency: no codes, no
    # warning, no table of codes.
    import warnings

    import payseg

    monkeypatch.setattr(_fonts, "cjk_font", _REAL_CJK_FONT)  # undo the autouse fixture
    assert _fonts.cjk_font() is not None
    data = payseg.synth.generate(400, seed=5, months=12)
    result = payseg.segment(data, n_clusters=4, random_state=0, migration=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", ".*region names")
        path = report.render(result, tmp_path / "r.md", lang="zh")
    text = path.read_text(encoding="utf-8")
    assert "region_channel" in text and "code 代码" not in text


def test_data_health_lists_loader_checks_notes_and_as_of(tmp_path, cheap_figures):
    res = _result(migration=False)
    res.data.health = {"reversed_pairs": 3, "same_day_kept": 0}
    res.data.notes = ["payments: paid_at read month first (detected from '1/15/2013')"]
    res.features.attrs = {
        "as_of": pd.Timestamp("2025-01-31"),
        "as_of_rule": "default, outliers ignored",
        "notes": ["1 isolated row dated 2025-09-01 ignored"],
    }
    text = report.render(res, tmp_path / "h.html").read_text("utf-8")
    health = text[text.index('id="data"') : text.index('id="segments"')]
    assert "reversed payments cancelled by a reversal or refund row" in health
    assert "same-day repeats" not in health  # a zero count is no finding
    assert "read month first" in health
    assert "1 isolated row dated 2025-09-01 ignored" in health
    assert "as of 2025-01-31 (default, outliers ignored)" in health
