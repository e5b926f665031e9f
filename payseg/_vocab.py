"""The shared vocabulary: archetypes, value classes and channel groups, in zh and en.

Floor one, like :mod:`payseg._schema`: imported by synth, labels, plot and report,
imports nothing from payseg. Display colours stay with the plots.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "ARCHETYPES",
    "ARCHETYPE_KEYS",
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
