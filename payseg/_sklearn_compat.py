"""The scikit-learn tools payseg uses from private scikit-learn modules, in one place.

payseg requires scikit-learn >= 1.6, where these names exist; if a later release moves
them, only this module changes (as skrub's ``_sklearn_compat.py`` does).
"""

from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_params,
)

__all__ = ["Interval", "InvalidParameterError", "StrOptions", "validate_params"]
