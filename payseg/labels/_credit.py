"""Payment credit grade A/B/C/D from timeliness, arrears and their history."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ._common import (
    as_frame,
    check_columns,
    check_cuts,
    check_names,
    check_number,
    check_numbers,
    column,
    level_counts,
)

__all__ = ["CreditGrade"]

_DEFAULT_PENALTIES = {
    "late_share": 40.0,
    "recent_late_share": 20.0,
    "unpaid_share": 30.0,
    "max_months_in_arrears": 10.0,
}


class CreditGrade(BaseEstimator):
    """Payment credit grade from timeliness, arrears and their history.

    The score starts at 100 and loses ``penalties[feature] x value`` for each feature
    (``max_months_in_arrears`` is capped at ``arrears_months``, so with the defaults
    a customer late on every bill, recently too, with a third of bills unpaid and 3
    months of arrears scores 100 - 40 - 20 - 10 - 30 = 0). A NaN feature (no bills,
    e.g. prepaid) costs nothing. Then:

    - **new customers** get ``new_score``, which sits in the middle grade by
      default: unknown tenure, or ``tenure_days`` below ``new_tenure_days`` *and*
      below the length of the extract less ``new_grace_days`` (first seen well
      after the extract began). The extract length is ``extract_days``, else
      ``X.attrs["extract_days"]`` (written by :func:`payseg.build_features`: days
      from the first dated row to ``as_of``), else the largest ``tenure_days``.
      So a 6-month extract does not make every customer new: only those first
      seen more than ``new_grace_days`` after its start are; on two years of data
      the threshold is ``new_tenure_days``;
    - **forced lowest grade** for a theft flag or ``max_months_in_arrears >=
      arrears_months`` (3 by default), whatever the score; ``forced_`` says why.

    Grades come from the score: ``score >= cuts[0]`` is the first grade, ``>=
    cuts[1]`` the second, and so on; a score equal to a cut gets the higher grade.

    Parameters
    ----------
    grades : tuple of str, default ("A", "B", "C", "D")
        Grade names, best first (e.g. ``("A", "B", "C")`` with two cuts).
    cuts : tuple of float, default (85, 70, 50)
        Score cut points, strictly decreasing, one fewer than grades.
    penalties : mapping or None, default None
        Points lost per unit of each feature; default ``{"late_share": 40,
        "recent_late_share": 20, "unpaid_share": 30, "max_months_in_arrears": 10}``.
    arrears_months : float, default 3
        Months of arrears that force the lowest grade (and cap the arrears penalty).
    new_tenure_days : float, default 180
        Customers known for fewer days are new (on an extract long enough).
    new_grace_days : float, default 62
        Customers first seen within this many days of the extract's start are not
        new, whatever the extract length (a monthly payer shows up within two
        months): the threshold is ``min(new_tenure_days, extract - new_grace_days)``.
    extract_days : float or None, default None
        Length of the extract in days; None reads ``X.attrs["extract_days"]`` or
        takes the largest ``tenure_days``.
    new_score : float, default 75
        Score of a new customer (grade B with the default cuts).
    theft_column : str, default "theft"
        Column of ``X`` holding the theft flag, when ``theft`` is not passed to fit.

    Attributes
    ----------
    scores_ : Series
        customer_id -> score in [0, 100].
    labels_ : Series
        customer_id -> grade.
    forced_ : Series
        customer_id -> "theft", "arrears" or "" (grade not forced).
    new_ : Series of bool
        customer_id -> treated as a new customer.
    new_threshold_days_ : float
        The tenure below which a customer was new in this fit.
    counts_ : Series
        grade -> customers, every grade present.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"late_share": [0.0, 0.5, 0.0],
    ...                   "max_months_in_arrears": [0, 1, 4],
    ...                   "tenure_days": [700, 700, 700]},
    ...                  index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> cg = CreditGrade().fit(X)
    >>> cg.scores_.tolist(), cg.labels_.tolist()
    ([100.0, 70.0, 70.0], ['A', 'B', 'D'])
    >>> cg.forced_["c"]
    'arrears'
    """

    def __init__(
        self,
        *,
        grades=("A", "B", "C", "D"),
        cuts=(85.0, 70.0, 50.0),
        penalties=None,
        arrears_months=3.0,
        new_tenure_days=180.0,
        new_score=75.0,
        theft_column="theft",
        new_grace_days=62.0,
        extract_days=None,
    ):
        self.grades = grades
        self.cuts = cuts
        self.penalties = penalties
        self.arrears_months = arrears_months
        self.new_tenure_days = new_tenure_days
        self.new_score = new_score
        self.theft_column = theft_column
        self.new_grace_days = new_grace_days
        self.extract_days = extract_days

    def _check_params(self):
        grades = check_names(self.grades, "grades")
        check_cuts(
            self.cuts,
            "cuts",
            n=len(grades) - 1,
            unit="scores",
            which="one per grade but the last",
        )
        check_numbers(
            self, ("arrears_months", "new_tenure_days", "new_grace_days"), low=0
        )
        if self.extract_days is not None:
            check_number(self.extract_days, "extract_days", low=0)
        check_number(self.new_score, "new_score", low=0, high=100)

    def fit(self, X, y=None, *, theft=None):
        """Score and grade every customer of the feature table ``X``.

        Parameters
        ----------
        X : DataFrame
            Features indexed by customer_id (``late_share``, ``recent_late_share``,
            ``unpaid_share``, ``max_months_in_arrears``, ``tenure_days``; missing
            columns cost nothing).
        y : ignored
        theft : Series of bool, optional
            customer_id -> theft flag (e.g. ``data.customers["theft"]``); customers
            absent from it are not flagged.

        Returns
        -------
        self
        """
        self._check_params()
        X = as_frame(X)
        penalties = dict(
            _DEFAULT_PENALTIES if self.penalties is None else self.penalties
        )
        check_columns(X, [*penalties, "tenure_days"], "CreditGrade.fit")
        score = pd.Series(100.0, index=X.index)
        months = column(X, "max_months_in_arrears")
        for feat, points in penalties.items():
            v = column(X, feat)
            if feat == "max_months_in_arrears":
                v = v.clip(upper=self.arrears_months)
            score -= float(points) * v.fillna(0.0)
        score = score.clip(0.0, 100.0)
        tenure = column(X, "tenure_days")
        extract = self.extract_days
        if extract is None:
            extract = X.attrs.get("extract_days")
        if extract is None or pd.isna(extract):
            extract = tenure.max()
        extract = 0.0 if pd.isna(extract) else float(extract)
        threshold = min(
            float(self.new_tenure_days), extract - float(self.new_grace_days)
        )
        self.new_threshold_days_ = threshold
        new = ~(tenure >= threshold)
        score = score.where(~new, float(self.new_score))
        if theft is None and self.theft_column in X.columns:
            theft = X[self.theft_column]
        if theft is None:
            stole = pd.Series(False, index=X.index)
        else:
            stole = theft.reindex(X.index).fillna(False).astype(bool)
        in_arrears = months >= self.arrears_months
        forced = np.select(
            [stole.to_numpy(), in_arrears.to_numpy()], ["theft", "arrears"], ""
        )
        grades = np.asarray(self.grades, dtype=object)
        cuts = np.asarray(self.cuts, dtype="float64")
        pos = (score.to_numpy()[:, None] < cuts[None, :]).sum(axis=1)
        pos = np.where(forced != "", len(grades) - 1, pos)
        self.scores_ = score.rename("credit_score")
        self.labels_ = pd.Series(
            grades[pos], index=X.index, dtype="str", name="credit_grade"
        )
        self.forced_ = pd.Series(forced, index=X.index, dtype="str", name="forced")
        self.new_ = new.rename("new_customer")
        self.counts_ = level_counts(self.labels_, self.grades)
        return self
