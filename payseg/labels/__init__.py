"""Labellers: archetype names, value pyramid, value matrix, credit grade, warnings,
lifecycle stage and churn warning."""

from ._actions import (
    ACTION_COLUMNS,
    action_text,
    action_texts,
    load_actions,
    recommend,
)
from ._archetype import ARCHETYPES, ArchetypeLabeller
from ._credit import CreditGrade
from ._lifecycle import LIFECYCLE_STAGES, Lifecycle
from ._migration import Migration
from ._outlets import outlet_shares
from ._pyramid import ValuePyramid
from ._value_matrix import (
    VALUE_CLASSES,
    ValueMatrix,
    backtest_high_value,
    payment_stats,
    rank_high_value,
    value_metrics,
)
from ._warning import EarlyWarning

__all__ = [
    "ACTION_COLUMNS",
    "ARCHETYPES",
    "ArchetypeLabeller",
    "CreditGrade",
    "EarlyWarning",
    "LIFECYCLE_STAGES",
    "Lifecycle",
    "Migration",
    "VALUE_CLASSES",
    "ValueMatrix",
    "ValuePyramid",
    "action_text",
    "action_texts",
    "backtest_high_value",
    "load_actions",
    "outlet_shares",
    "payment_stats",
    "rank_high_value",
    "recommend",
    "value_metrics",
]
