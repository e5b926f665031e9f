"""Labellers: archetype names, value pyramid, value matrix, credit grade, warnings,
lifecycle stage and churn warning."""

from ._actions import (
    ACTION_COLUMNS,
    HABIT_COLUMNS,
    SMALL_ARREARS,
    action_text,
    action_texts,
    arrears_class,
    load_actions,
    recommend,
)
from ._archetype import ARCHETYPES, ArchetypeLabeller
from ._credit import CreditGrade
from ._explain import FEATURE_WORDS, distinct_names, explain_customers, plain_rules
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
    "SMALL_ARREARS",
    "CreditGrade",
    "EarlyWarning",
    "FEATURE_WORDS",
    "HABIT_COLUMNS",
    "LIFECYCLE_STAGES",
    "Lifecycle",
    "Migration",
    "VALUE_CLASSES",
    "ValueMatrix",
    "ValuePyramid",
    "action_text",
    "action_texts",
    "arrears_class",
    "backtest_high_value",
    "distinct_names",
    "explain_customers",
    "load_actions",
    "outlet_shares",
    "payment_stats",
    "plain_rules",
    "rank_high_value",
    "recommend",
    "value_metrics",
]
