"""Matplotlib figures of a segmentation; each takes ``ax=`` and returns the Axes.

Labels are Chinese when a CJK font is installed (``lang="auto"``) and English
otherwise, so Chinese text is never drawn as empty boxes. A segment id has the same
colour in every plot (:func:`segment_colors`). matplotlib is imported only when a plot
is drawn.
"""

from ._common import segment_colors, value_colors
from ._maps import (
    plot_migration,
    plot_payment_calendar,
    plot_region_channel,
    region_codes,
)
from ._segments import (
    plot_channel_mix,
    plot_delay_distribution,
    plot_embedding,
    plot_k_scores,
    plot_profiles,
    profile_columns,
)
from ._value import plot_pyramid, plot_value_matrix

__all__ = [
    "plot_channel_mix",
    "plot_delay_distribution",
    "plot_embedding",
    "plot_k_scores",
    "plot_migration",
    "plot_payment_calendar",
    "plot_profiles",
    "plot_pyramid",
    "plot_region_channel",
    "plot_value_matrix",
    "profile_columns",
    "region_codes",
    "segment_colors",
    "value_colors",
]
