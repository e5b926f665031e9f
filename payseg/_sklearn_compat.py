"""The scikit-learn internals payseg builds on, imported in this one place.

payseg requires scikit-learn >= 1.6, where everything below exists: parameter
validation (``_parameter_constraints`` checked by ``_fit_context``, ``validate_params``
for functions) lives in private modules, so a future move in scikit-learn is fixed
here and nowhere else (as skrub's ``_sklearn_compat`` and the ``sklearn-compat``
package do).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    RealNotInt,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import validate_data

__all__ = [
    "HasMethods",
    "IntInterval",
    "Interval",
    "InvalidParameterError",
    "RealNotInt",
    "StrOptions",
    "_fit_context",
    "validate_data",
    "validate_params",
]


class IntInterval(Interval):
    """``Interval(Integral, left, right, closed=...)`` that refuses booleans.

    scikit-learn's integer intervals accept ``True`` and ``False`` (``bool`` is an
    ``int`` subclass), so ``n_clusters=True`` would pass as 1. The error message is
    scikit-learn's own ("must be an int in the range [1, inf). Got True instead.").
    """

    def __init__(self, left, right, *, closed):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val):
        if isinstance(val, (bool, np.bool_)):
            return False
        return super().is_satisfied_by(val)
