"""Shared vocabulary: every feature column has a Chinese and an English name."""

import re
import warnings

import payseg
from payseg._schema import CHANNEL_SHARE_PREFIX
from payseg._vocab import FEATURE_NAMES
from payseg.plot._common import feature_label

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _columns():
    """Every column of build_features with every family, on synthetic data that has
    bills and channels (so the channel_share__ columns appear too)."""
    data = payseg.synth.generate(60, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = payseg.build_features(data)
    return list(X.columns)


def test_every_feature_column_has_zh_and_en_names():
    columns = _columns()
    fixed = payseg.features.feature_names()
    assert set(fixed) <= set(columns)
    missing = [c for c in fixed if c not in FEATURE_NAMES]
    assert not missing, f"feature columns without a display name: {missing}"
    for col in fixed:
        zh, en = FEATURE_NAMES[col]
        assert _CJK.search(zh), (col, zh)
        assert en.isascii() and en.strip() and en != col, (col, en)
    # names are distinct: two columns never look the same on a plot
    for lang in (0, 1):
        names = [FEATURE_NAMES[c][lang] for c in fixed]
        assert len(set(names)) == len(names)
    # no stale entries for columns no family produces
    assert set(FEATURE_NAMES) <= set(fixed)


def test_channel_share_columns_named_from_the_registry():
    shares = [c for c in _columns() if c.startswith(CHANNEL_SHARE_PREFIX)]
    assert shares
    table = payseg.channels.table()
    for col in shares:
        code = col[len(CHANNEL_SHARE_PREFIX) :]
        assert feature_label(col, "zh") == f"{table.loc[code, 'name_zh']}占比"
        assert feature_label(col, "en") == f"{table.loc[code, 'name_en']} share"
    assert feature_label("cycle_months", "zh") == "抄表周期（月）"
    assert feature_label("cycle_months", "en") == "billing cycle (months)"
    assert feature_label("not_a_feature", "en") == "not_a_feature"
