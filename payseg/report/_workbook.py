"""The field-staff workbook: the lists people act on, one Excel file.

:func:`write_workbook` writes ``workbook.xlsx`` from a
:class:`payseg.SegmentationResult`: a sheet per recommended action and per 供电单位,
the VIP list with its sub-tiers, the 失信 bad-credit list, the 缴费提醒 reminder
schedule, the early-warning list and the customers who moved between segments.
Customer ids are text cells (leading zeros kept), every sheet has a frozen header row
and an autofilter, headers are Chinese (English with ``lang="en"``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._vocab import VALUE_CLASSES, WARNING_LEVELS

__all__ = [
    "BAD_CREDIT_PAYMENT",
    "VIP_TIERS",
    "reminder_schedule",
    "write_workbook",
    "vip_list",
    "bad_credit_list",
]

#: VIP sub-tiers of tier A, best first: (中文, English, cumulative share of tier A by
#: amount, action 中文, action English). Pass your own to ``vip_tiers``.
VIP_TIERS = (
    (
        "钻石卡",
        "diamond",
        0.10,
        "客户经理专人服务，每季度上门走访，业务优先办理",
        "dedicated account manager, quarterly visits, priority handling",
    ),
    (
        "白金卡",
        "platinum",
        0.40,
        "客户经理半年走访，绿色通道",
        "account-manager visit every half-year, green channel",
    ),
    (
        "金卡",
        "gold",
        1.00,
        "年度回访，绿色通道，电子账单",
        "yearly follow-up call, green channel, e-bill",
    ),
)

#: Payment method recommended by credit grade for the 失信 list: (中文, English).
BAD_CREDIT_PAYMENT = {
    "D": (
        "改用预付费（费控）缴费，先缴费后用电",
        "switch to prepaid (fee-control) metering: pay before use",
    ),
    "C": ("签约银行代扣", "sign up for bank auto-debit"),
}

# Column headers: canonical name -> (中文, English).
_HEADERS = {
    "customer_id": ("户号", "customer id"),
    "customer_name": ("户名", "customer name"),
    "address": ("用电地址", "address"),
    "region": ("供电单位", "region"),
    "collector": ("收费员", "collector"),
    "meter": ("表计类型", "meter"),
    "tariff": ("电价类别", "tariff"),
    "segment": ("分群", "segment"),
    "name": ("分群名称", "segment name"),
    "pyramid_tier": ("价值等级", "value tier"),
    "vip_tier": ("VIP等级", "VIP tier"),
    "value_class": ("价值类型", "value class"),
    "credit_grade": ("信用等级", "credit grade"),
    "credit_score": ("信用分", "credit score"),
    "warning_level": ("预警等级", "warning level"),
    "warning_score": ("预警分", "warning score"),
    "warning_reasons": ("预警原因", "warning reasons"),
    "dominant_channel": ("主要缴费渠道", "main channel"),
    "arrears_amount": ("欠费金额（元）", "arrears (yuan)"),
    "max_months_in_arrears": ("最长欠费月数", "longest arrears (months)"),
    "amount_per_year": ("年缴费金额（元）", "amount per year (yuan)"),
    "action": ("建议措施", "recommended action"),
    "action_code": ("措施代码", "action code"),
    "vip_action": ("VIP服务", "VIP service"),
    "bad_credit_reason": ("失信原因", "reason"),
    "payment_method": ("建议缴费方式", "recommended payment method"),
    "usual_pay_day": ("平时缴费日（距截止日）", "usual payment day (vs due date)"),
    "next_due": ("下次截止日", "next due date"),
    "remind_on": ("提醒日期", "reminder date"),
    "remind_channel": ("提醒渠道", "reminder channel"),
    "from_window": ("原时段", "from period"),
    "to_window": ("新时段", "to period"),
    "from_name": ("原分群", "from segment"),
    "to_name": ("新分群", "to segment"),
    "explanation": ("说明", "explanation"),
}

_SHEETS = {
    "readme": ("说明", "read me"),
    "all": ("全部客户", "all customers"),
    "vip": ("VIP客户", "VIP customers"),
    "bad_credit": ("失信客户", "bad credit"),
    "reminders": ("缴费提醒", "payment reminders"),
    "warnings": ("预警名单", "early warnings"),
    "movers": ("分群迁移", "segment moves"),
    "action": ("措施", "action"),
    "region": ("供电单位", "region"),
}


def _pick(pair, lang):
    return pair[0] if lang == "zh" else pair[1]


def _base(result) -> pd.DataFrame:
    """customers with the few features the lists need, index customer_id."""
    c = result.customers.copy()
    X = result.features if isinstance(result.features, pd.DataFrame) else None
    for col in (
        "amount_per_year",
        "arrears_amount",
        "max_months_in_arrears",
        "days_to_due_mean",
    ):
        if col not in c and X is not None and col in X:
            c[col] = X[col].reindex(c.index)
    return c


def vip_list(result, *, vip_tiers=VIP_TIERS, lang="zh") -> pd.DataFrame:
    """Tier-A customers, best first, with their VIP sub-tier and its service.

    ``vip_tiers``: (中文, English, cumulative share of tier A, action 中文, action
    English) rows, best first (default :data:`VIP_TIERS`: 钻石卡 top 10%, 白金卡 next
    30%, 金卡 the rest). The ranking is by ``amount_per_year``.
    """
    c = _base(result)
    if "pyramid_tier" not in c:
        return c.iloc[:0]
    vip = c[c["pyramid_tier"].astype(str) == "A"].copy()
    amount = vip.get("amount_per_year", pd.Series(0.0, index=vip.index))
    vip = vip.assign(_v=pd.to_numeric(amount, errors="coerce").fillna(0.0))
    vip = vip.sort_values("_v", ascending=False, kind="stable").drop(columns="_v")
    n = len(vip)
    rank = (np.arange(n) + 1) / max(n, 1)
    tiers = list(vip_tiers)
    if not tiers:
        raise ValueError("vip_tiers needs at least one tier")
    idx = np.searchsorted([float(t[2]) for t in tiers], rank - 1e-12)
    idx = np.minimum(idx, len(tiers) - 1)
    vip["vip_tier"] = [_pick((tiers[i][0], tiers[i][1]), lang) for i in idx]
    vip["vip_action"] = [_pick((tiers[i][3], tiers[i][4]), lang) for i in idx]
    return vip


def bad_credit_list(result, *, arrears_months=3.0, lang="zh") -> pd.DataFrame:
    """The 失信 list: grade D, theft, or arrears for ``arrears_months`` or longer."""
    c = _base(result)
    data_c = result.data.customers
    theft = (
        data_c["theft"].reindex(c.index).fillna(False).astype(bool)
        if "theft" in data_c
        else pd.Series(False, index=c.index)
    )
    grade_d = c.get("credit_grade", pd.Series("", index=c.index)).astype(str) == "D"
    months = pd.to_numeric(
        c.get("max_months_in_arrears", pd.Series(np.nan, index=c.index)),
        errors="coerce",
    )
    long = months >= arrears_months
    keep = theft | grade_d | long
    out = c[keep].copy()
    why = []
    for cid in out.index:  # the listed customers only, a few
        parts = []
        if theft.get(cid, False):
            parts.append(("窃电", "electricity theft"))
        if long.get(cid, False):
            parts.append(
                (f"欠费 {months[cid]:.1f} 个月", f"in arrears {months[cid]:.1f} months")
            )
        if grade_d.get(cid, False):
            parts.append(("信用等级 D", "credit grade D"))
        why.append(("；" if lang == "zh" else "; ").join(_pick(p, lang) for p in parts))
    out["bad_credit_reason"] = why
    out["payment_method"] = _pick(BAD_CREDIT_PAYMENT["D"], lang)
    return (
        out.sort_values("credit_score", kind="stable") if "credit_score" in out else out
    )


def _channel_for_reminder(row, lang) -> str:
    group = str(row.get("_group", ""))
    if group in ("online", "automatic", "self_service"):
        return _pick(("网上国网App推送+短信", "app push + SMS"), lang)
    if group == "counter":
        return _pick(
            ("短信+电话（老年客户）", "SMS + phone call (elderly customers)"), lang
        )
    if group == "agent":
        return _pick(
            ("短信，必要时收费员上门提醒", "SMS; the collector calls if needed"), lang
        )
    return _pick(("短信", "SMS"), lang)


def reminder_schedule(result, *, lead_days=3, lang="zh") -> pd.DataFrame:
    """The 缴费提醒 schedule: when and through which channel to remind each customer.

    For each customer with bills who does not pay by auto-debit or prepaid meter:
    the next due date after the data (the customer's usual due day of the month),
    the day they usually pay (``days_to_due_mean`` before the due date, or after it
    when negative), and a reminder ``lead_days`` before whichever comes first, never
    before the day after the data ends. The channel follows the customer's main
    payment channel: app push for online payers, SMS and a phone call for counter
    payers, SMS and the collector for agent-outlet payers.
    """
    c = _base(result)
    data = result.data
    b, p = data.bills, data.payments
    if "days_to_due_mean" not in c or not len(b) or "due_on" not in b:
        return c.iloc[:0]
    as_of = p["paid_at"].max().normalize() if len(p) else pd.Timestamp.today()
    keep = c["days_to_due_mean"].notna()
    if "archetype" in c:
        keep &= ~c["archetype"].astype(str).isin(
            ["auto_debit", "prepaid_frequent", "prepaid_occasional", "dormant"]
        )
    c = c[keep].copy()
    due_day = (
        b.dropna(subset=["due_on"])
        .groupby("customer_id")["due_on"]
        .agg(lambda s: int(s.dt.day.median()))
    )
    day = (
        due_day.reindex(c.index)
        .fillna(int(due_day.median()) if len(due_day) else 28)
        .astype(int)
    )
    month = as_of.to_period("M")
    nxt = []
    for d in day.to_numpy():  # per customer; dates are cheap
        m = month
        cand = m.to_timestamp() + pd.Timedelta(days=min(int(d), m.days_in_month) - 1)
        if cand <= as_of:
            m = m + 1
            cand = m.to_timestamp() + pd.Timedelta(
                days=min(int(d), m.days_in_month) - 1
            )
        nxt.append(cand)
    c["next_due"] = pd.to_datetime(nxt)
    before = c["days_to_due_mean"].round().astype(int)
    usual = c["next_due"] - pd.to_timedelta(before, unit="D")
    first = usual.where(usual < c["next_due"], c["next_due"])
    remind = first - pd.Timedelta(days=int(lead_days))
    c["remind_on"] = remind.where(remind > as_of, as_of + pd.Timedelta(days=1)).dt.date
    c["next_due"] = c["next_due"].dt.date
    c["usual_pay_day"] = [
        (f"截止日前 {v} 天" if v >= 0 else f"截止日后 {-v} 天")
        if lang == "zh"
        else (f"{v} days before due" if v >= 0 else f"{-v} days after due")
        for v in before
    ]
    from ..channels import table

    groups = table()["group"] if "group" in table().columns else pd.Series(dtype=str)
    dom = c.get("dominant_channel", pd.Series(np.nan, index=c.index))
    c["_group"] = dom.map(groups)
    c["remind_channel"] = [
        _channel_for_reminder(r, lang) for r in c[["_group"]].to_dict("records")
    ]
    return c.drop(columns="_group").sort_values("remind_on", kind="stable")


def _sheet_name(text: str, used: set) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "_", str(text)).strip("'")[:31] or "sheet"
    base, i = name, 2
    while name.lower() in used:
        suffix = f" {i}"
        name = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(name.lower())
    return name


def _short_action(zh_or_en: str) -> str:
    return re.split(r"[：:，,、；;（(]", zh_or_en, maxsplit=1)[0].strip()


def _frame(rows: pd.DataFrame, cols, lang, channel_names) -> pd.DataFrame:
    """The listed columns (those present), with readable values and headers."""
    out = pd.DataFrame(index=rows.index)
    out["customer_id"] = rows.index.astype(str)
    for col in cols:
        if col == "name":
            src = "name_zh" if lang == "zh" else "name_en"
            if src in rows:
                out["name"] = rows[src]
        elif col == "action":
            src = "action_zh" if lang == "zh" else "action_en"
            if src in rows:
                out["action"] = rows[src]
        elif col == "warning_reasons":
            src = "warning_reasons_zh" if lang == "zh" else "warning_reasons"
            if src in rows:
                out["warning_reasons"] = rows[src]
            elif "warning_reasons" in rows:
                out["warning_reasons"] = rows["warning_reasons"]
        elif col == "explanation":
            src = "explanation_zh" if lang == "zh" else "explanation_en"
            if src in rows:
                out["explanation"] = rows[src]
        elif col == "dominant_channel" and col in rows:
            out[col] = rows[col].map(lambda v: channel_names.get(v, v))
        elif col in _WORDS and col in rows:  # codes as words of the book's language
            words = {k: _pick(v, lang) for k, v in _WORDS[col].items()}
            codes = rows[col].astype(object)
            out[col] = codes.map(words).where(codes.isin(list(words)), codes)
        elif col in rows:
            out[col] = rows[col]
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(2)
    out = out.rename(columns={k: _pick(v, lang) for k, v in _HEADERS.items()})
    return out.reset_index(drop=True)


# Columns holding codes, shown as words: column -> {code: (中文, English)}.
_WORDS = {
    "warning_level": WARNING_LEVELS,
    "value_class": {
        k: (r["name_zh"], r["name_en"]) for k, r in VALUE_CLASSES.iterrows()
    },
}

_PEOPLE = ["customer_name", "address", "region", "collector"]


def write_workbook(
    result,
    path,
    *,
    lang="zh",
    vip_tiers=VIP_TIERS,
    sheets=None,
    reminder_lead_days=3,
    arrears_months=3.0,
) -> Path:
    """Write the field-staff workbook (``.xlsx``) of a segmentation result.

    Parameters
    ----------
    result : payseg.SegmentationResult
    path : str or path-like
    lang : {"zh", "en"}, default "zh"
        Language of sheet names, headers and texts.
    vip_tiers : sequence, default :data:`VIP_TIERS`
        VIP sub-tiers of tier A (see :func:`vip_list`).
    sheets : collection of str, optional
        Only these kinds of sheet: ``all``, ``action``, ``region``, ``vip``,
        ``bad_credit``, ``reminders``, ``warnings``, ``movers`` (default: all of
        them). The read-me sheet is always written.
    reminder_lead_days : int, default 3
        Days between the reminder and the usual payment (or due) day.
    arrears_months : float, default 3
        Months in arrears that put a customer on the 失信 list.

    Returns
    -------
    pathlib.Path
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    kinds = (
        "all",
        "action",
        "region",
        "vip",
        "bad_credit",
        "reminders",
        "warnings",
        "movers",
    )
    chosen = set(kinds if sheets is None else sheets)
    unknown = chosen - set(kinds)
    if unknown:
        raise ValueError(f"unknown sheets {sorted(unknown)}; choose from {list(kinds)}")
    from ..channels import table

    t = table()
    channel_names = dict(zip(t.index, t["name_zh" if lang == "zh" else "name_en"]))
    c = _base(result)
    common = _PEOPLE + [
        "name",
        "pyramid_tier",
        "credit_grade",
        "warning_level",
        "dominant_channel",
        "arrears_amount",
        "action",
    ]
    parts: list[tuple[str, str, pd.DataFrame]] = []  # (kind, sheet title, frame)
    if "all" in chosen:
        parts.append(
            (
                "all",
                _pick(_SHEETS["all"], lang),
                _frame(
                    c,
                    _PEOPLE
                    + [
                        "segment",
                        "name",
                        "value_class",
                        "pyramid_tier",
                        "credit_grade",
                        "credit_score",
                        "warning_level",
                        "warning_score",
                        "warning_reasons",
                        "dominant_channel",
                        "arrears_amount",
                        "action",
                        "explanation",
                    ],
                    lang,
                    channel_names,
                ),
            )
        )
    if "vip" in chosen:
        parts.append(
            (
                "vip",
                _pick(_SHEETS["vip"], lang),
                _frame(
                    vip_list(result, vip_tiers=vip_tiers, lang=lang),
                    _PEOPLE
                    + [
                        "vip_tier",
                        "vip_action",
                        "amount_per_year",
                        "name",
                        "credit_grade",
                        "dominant_channel",
                    ],
                    lang,
                    channel_names,
                ),
            )
        )
    if "bad_credit" in chosen:
        parts.append(
            (
                "bad_credit",
                _pick(_SHEETS["bad_credit"], lang),
                _frame(
                    bad_credit_list(result, arrears_months=arrears_months, lang=lang),
                    _PEOPLE
                    + [
                        "bad_credit_reason",
                        "credit_grade",
                        "credit_score",
                        "arrears_amount",
                        "max_months_in_arrears",
                        "payment_method",
                        "dominant_channel",
                        "name",
                    ],
                    lang,
                    channel_names,
                ),
            )
        )
    if "reminders" in chosen:
        parts.append(
            (
                "reminders",
                _pick(_SHEETS["reminders"], lang),
                _frame(
                    reminder_schedule(result, lead_days=reminder_lead_days, lang=lang),
                    _PEOPLE
                    + [
                        "remind_on",
                        "remind_channel",
                        "next_due",
                        "usual_pay_day",
                        "dominant_channel",
                        "name",
                    ],
                    lang,
                    channel_names,
                ),
            )
        )
    if "warnings" in chosen and "warning_score" in c:
        w = c[c["warning_level"].astype(str).isin(["high", "medium"])]
        w = w.sort_values("warning_score", ascending=False, kind="stable")
        parts.append(
            (
                "warnings",
                _pick(_SHEETS["warnings"], lang),
                _frame(
                    w,
                    _PEOPLE
                    + [
                        "warning_level",
                        "warning_score",
                        "warning_reasons",
                        "name",
                        "action",
                    ],
                    lang,
                    channel_names,
                ),
            )
        )
    mig = getattr(result, "migration", None)
    if "movers" in chosen and mig is not None and len(getattr(mig, "movers_", [])):
        mv = mig.movers_.copy()
        seg = result.segments
        col = "name_zh" if lang == "zh" else "name_en"
        mv["from_name"] = (
            mv["from_segment"].map(seg[col]).fillna(mv["from_segment"].astype(str))
        )
        mv["to_name"] = (
            mv["to_segment"].map(seg[col]).fillna(mv["to_segment"].astype(str))
        )
        mv = mv.set_index("customer_id").join(c[[x for x in _PEOPLE if x in c]])
        parts.append(
            (
                "movers",
                _pick(_SHEETS["movers"], lang),
                _frame(
                    mv,
                    _PEOPLE + ["from_window", "to_window", "from_name", "to_name"],
                    lang,
                    channel_names,
                ),
            )
        )
    if "action" in chosen and "action" in c:
        text = "action_zh" if lang == "zh" else "action_en"
        order = c["action"].value_counts().index
        for code in order:  # a sheet per action, most customers first
            rows = c[c["action"] == code]
            label = _short_action(str(rows[text].iloc[0])) if text in rows else code
            parts.append(
                (
                    "action",
                    f"{_pick(_SHEETS['action'], lang)}-{label or code}",
                    _frame(rows, common, lang, channel_names),
                )
            )
    if "region" in chosen and "region" in c and c["region"].notna().any():
        for region, rows in c.groupby(c["region"].astype(str), sort=True):
            parts.append(
                (
                    "region",
                    f"{_pick(_SHEETS['region'], lang)}-{region}",
                    _frame(rows, common, lang, channel_names),
                )
            )
    return _write(path, parts, lang)


def _readme(parts, lang) -> pd.DataFrame:
    what = {
        "all": ("全部客户及其分群、等级、预警和建议措施", "every customer"),
        "vip": (
            "A 级（VIP）客户，按年缴费金额分为钻石卡/白金卡/金卡及其服务",
            "tier-A customers by VIP sub-tier and its service",
        ),
        "bad_credit": (
            "失信客户：信用等级 D、窃电或长期欠费，及建议缴费方式",
            "bad credit: grade D, theft or long arrears",
        ),
        "reminders": ("缴费提醒计划：提醒日期与渠道", "reminder dates and channels"),
        "warnings": ("高、中风险预警客户及原因", "high and medium warnings"),
        "movers": ("分群发生变化的客户", "customers who changed segment"),
        "action": ("执行该措施的客户", "customers with this action"),
        "region": ("该供电单位的客户", "customers of this region"),
    }
    rows = [
        (title, _pick(what[kind], lang), len(frame)) for kind, title, frame in parts
    ]
    head = (
        ("工作表", "内容", "客户数")
        if lang == "zh"
        else ("sheet", "contents", "customers")
    )
    return pd.DataFrame(rows, columns=list(head))


def _widths(frame: pd.DataFrame, sample: int = 2000) -> list[float]:
    """Column widths (Excel characters) that show the header and the contents of the
    first ``sample`` rows: a Chinese character counts two, at least 8, at most 60."""
    head = frame.head(sample)
    out = []
    for col in frame.columns:
        text = pd.concat(
            [pd.Series([str(col)]), head[col].astype(str).where(head[col].notna(), "")]
        )
        wide = text.str.len() + text.str.count(_WIDE)  # CJK: two columns each
        out.append(float(min(60, max(8, int(wide.max()) + 2))))
    return out


# Widest sheet (in Excel characters) printed one page wide: landscape A4 at about 65%.
_PRINT_WIDTH = 220

# Full-width characters (Han, kana, full-width punctuation): two columns wide.
_WIDE = r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]"


def _write(path, parts, lang) -> Path:
    path = Path(path)
    used: set = set()
    readme_name = _sheet_name(_pick(_SHEETS["readme"], lang), used)
    named = [(kind, _sheet_name(title, used), frame) for kind, title, frame in parts]
    id_header = _pick(_HEADERS["customer_id"], lang)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in [(readme_name, _readme(named, lang))] + [
            (n, f) for _, n, f in named
        ]:
            frame.to_excel(xw, sheet_name=name, index=False, freeze_panes=(1, 0))
            ws = xw.sheets[name]
            ws.auto_filter.ref = ws.dimensions
            widths = _widths(frame)
            # Printed lists for field staff: landscape A4, the header row on every
            # page, one page wide when that stays readable (the full list with its
            # long explanations would shrink to an unreadable size).
            ws.page_setup.orientation = "landscape"
            ws.page_setup.paperSize = ws.PAPERSIZE_A4
            ws.print_title_rows = "1:1"
            if sum(widths) <= _PRINT_WIDTH:
                ws.sheet_properties.pageSetUpPr.fitToPage = True
                ws.page_setup.fitToWidth = 1
                ws.page_setup.fitToHeight = 0
            for col_cells in ws.iter_cols(min_row=1, max_row=1):
                cell = col_cells[0]
                letter = cell.column_letter
                ws.column_dimensions[letter].width = widths[cell.column - 1]
                if cell.value == id_header:
                    for c in ws[letter][1:]:
                        c.number_format = "@"  # text: Excel keeps the zeros
                    ws.column_dimensions[letter].width = 14
    return path
