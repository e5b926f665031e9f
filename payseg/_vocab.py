"""The shared vocabulary: archetypes, value classes and channel groups, in zh and en.

Floor one, like :mod:`payseg._schema`: imported by synth, labels, plot and report,
imports nothing from payseg. Display colours stay with the plots.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "ARCHETYPES",
    "ARCHETYPE_KEYS",
    "CYCLE_WORDS",
    "FEATURE_NAMES",
    "GROUP_NAMES",
    "NOISE_NAMES",
    "NO_DATA_NAMES",
    "NOISE_OR_NO_DATA_NAMES",
    "VALUE_CLASSES",
    "WARNING_LEVELS",
]

#: Payment-behaviour archetypes: key -> Chinese and English name. The first nine are
#: planted by :mod:`payseg.synth`; ``mixed`` names a segment no rule matches.
ARCHETYPES = pd.DataFrame(
    {
        "name_zh": [
            "自动代扣型",
            "线上及时型",
            "截止日前缴费型",
            "长期逾期型",
            "柜台忠实型",
            "代收点/农村型",
            "预付费小额频繁型",
            "预付费大额偶尔型",
            "休眠/空置户型",
            "混合型",
        ],
        "name_en": [
            "auto-debit",
            "prompt online",
            "deadline-driven",
            "chronically late",
            "counter-loyal",
            "agent outlet / rural",
            "prepaid, frequent small top-ups",
            "prepaid, occasional large top-ups",
            "dormant / vacant",
            "mixed",
        ],
    },
    index=pd.Index(
        [
            "auto_debit",
            "prompt_online",
            "deadline",
            "chronic_late",
            "counter_loyal",
            "agent_rural",
            "prepaid_frequent",
            "prepaid_occasional",
            "dormant",
            "mixed",
        ],
        name="archetype",
    ),
)

#: The planted archetypes, in order (every key of :data:`ARCHETYPES` but ``mixed``).
ARCHETYPE_KEYS = tuple(k for k in ARCHETYPES.index if k != "mixed")

#: Value-matrix classes (payment count and amount against the population mean), in
#: display order.
VALUE_CLASSES = pd.DataFrame(
    {
        "name_zh": ["高价值型", "大众型", "潜力型", "低价值型"],
        "name_en": ["high value", "mass", "potential", "low value"],
        "count_above": [True, True, False, False],
        "amount_above": [True, False, True, False],
    },
    index=pd.Index(
        ["high_value", "mass", "potential", "low_value"], name="value_class"
    ),
)

#: Channel groups of :data:`payseg.channels.GROUPS`: key -> (Chinese, English).
GROUP_NAMES = {
    "automatic": ("自动代扣", "automatic debit"),
    "online": ("线上", "online"),
    "self_service": ("自助终端", "self-service"),
    "prepaid": ("预付费", "prepaid"),
    "counter": ("柜台", "counter"),
    "agent": ("代收点", "agent outlet"),
}

#: Early-warning levels (``payseg.labels.EarlyWarning``): key -> (Chinese, English).
WARNING_LEVELS = {
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
}

#: Display name of the noise label (``payseg._schema.NOISE``): (Chinese, English).
NOISE_NAMES = ("噪声点", "noise")

#: Display name of the segment row of customers without any payment or bill
#: (``payseg._schema.NO_DATA``, the noise label), when no customer is noise.
NO_DATA_NAMES = ("无数据", "no data")

#: ... and when density noise shares the label with them.
NOISE_OR_NO_DATA_NAMES = ("噪声点或无数据", "noise or no data")

#: Display name of every feature column of ``payseg.build_features``: column ->
#: (Chinese, English), for plots (profile heatmaps) and the report. The per-channel
#: ``channel_share__<code>`` columns are named from the channel registry instead.
#: tests/test_vocab.py checks that every column any family produces has both.
FEATURE_NAMES = {
    # timing
    "delay_days_mean": ("发行后缴费天数", "days from issue to payment"),
    "delay_days_median": ("发行后缴费天数中位数", "median days from issue to payment"),
    "delay_days_std": ("发行后缴费天数波动", "spread of days from issue to payment"),
    "delay_days_p90": ("发行后缴费天数90%分位", "days from issue to payment, 90th pct"),
    "days_to_due_mean": (
        "截止日前缴费天数（负数为逾期）",
        "days before due (negative = late)",
    ),
    "late_share": ("逾期缴费占比", "late payments"),
    "unpaid_share": ("未缴账单占比", "unpaid bills"),
    "pay_day_regularity": ("缴费日规律性", "pay-day regularity"),
    "weekend_share": ("周末缴费占比", "weekend payments"),
    "evening_share": ("晚间缴费占比", "evening payments"),
    "payments_per_bill": ("每张账单缴费次数", "payments per bill"),
    # channel
    "online_share": ("线上渠道占比", "online share"),
    "self_service_share": ("自助终端占比", "self-service share"),
    "automatic_share": ("代扣占比", "auto-debit share"),
    "prepaid_share": ("预付费占比", "prepaid share"),
    "counter_share": ("柜台占比", "counter share"),
    "agent_share": ("代收点占比", "agent-outlet share"),
    "channel_entropy": ("渠道多样性", "channel diversity"),
    "top_channel_share": ("最常用渠道占比", "main channel share"),
    "n_channels": ("使用渠道数", "channels used"),
    "channel_switch_rate": ("渠道切换率", "channel switch rate"),
    "channel_shift": ("渠道迁移程度", "channel shift (first vs last payments)"),
    "channel_migration": (
        "渠道迁移（检验后）",
        "channel migration (tested change to online)",
    ),
    # value
    "pay_count_per_year": ("年缴费次数", "payments per year"),
    "amount_per_year": ("年缴费金额（元）", "amount per year (yuan)"),
    "amount_total": ("缴费总金额（元）", "total amount paid (yuan)"),
    "amount_mean": ("单笔平均缴费金额（元）", "mean payment (yuan)"),
    "recency_days": ("距最近缴费天数", "days since last payment"),
    "tenure_days": ("距首次缴费天数", "days since first payment"),
    # arrears
    "arrears_amount": ("欠费金额（元）", "arrears (yuan)"),
    "max_months_in_arrears": ("最长欠费月数", "longest time in arrears (months)"),
    "late_fee_est": ("估算违约金（元）", "estimated late fees (yuan)"),
    # prepaid
    "topup_interval_mean": ("平均充值间隔（天）", "days between top-ups"),
    "topup_interval_cv": ("充值间隔离散度", "top-up interval variation (CV)"),
    "topup_amount_mean": ("平均充值金额（元）", "mean top-up (yuan)"),
    "topups_per_month": ("月充值次数", "top-ups per month"),
    # trend
    "delay_trend": ("缴费延迟变化（天/月）", "delay trend (days per month)"),
    "recent_late_share": ("近期逾期占比", "recent late bills"),
    "amount_trend": ("缴费金额变化趋势", "amount trend"),
    # cycle
    "cycle_months": ("抄表周期（月）", "billing cycle (months)"),
    "payments_per_cycle": ("每周期缴费次数", "payments per billing cycle"),
    "fallback_share": ("代扣失败后补缴占比", "paid late after a failed debit"),
    "lump_share": ("集中补缴账单占比", "bills paid in catch-up payments"),
}

#: Billing-cycle spellings of real exports (抄表周期 / 计费周期 / billing cycle column
#: of the customers table) -> months between bills, matched after NFKC folding, lower
#: case and without spaces. A number of months ("2", "2个月", "每2个月", "两个月",
#: "every 2 months") is read by :func:`payseg._parsers.parse_cycle_months` too.
#: 单月 is read as monthly (the contrast of 单月抄表 with 双月抄表 in tariff notices);
#: where it means "read in odd months" (a bimonthly cycle), the bill periods
#: contradict it and ``build_features`` warns.
CYCLE_WORDS = {
    "月": 1,
    "每月": 1,
    "单月": 1,
    "月度": 1,
    "按月": 1,
    "逐月": 1,
    "月抄": 1,
    "月结": 1,
    "单月抄表": 1,
    "每月抄表": 1,
    "monthly": 1,
    "month": 1,
    "everymonth": 1,
    "双月": 2,
    "每两月": 2,
    "每二月": 2,
    "隔月": 2,
    "两月": 2,
    "二月": 2,
    "双月抄表": 2,
    "双月结算": 2,
    "隔月抄表": 2,
    "bimonthly": 2,
    "bi-monthly": 2,
    "twomonthly": 2,
    "季": 3,
    "季度": 3,
    "每季": 3,
    "每季度": 3,
    "按季": 3,
    "quarterly": 3,
    "quarter": 3,
    "半年": 6,
    "每半年": 6,
    "semiannual": 6,
    "half-yearly": 6,
    "年": 12,
    "每年": 12,
    "按年": 12,
    "annual": 12,
    "annually": 12,
    "yearly": 12,
}
