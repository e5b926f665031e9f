"""Reference values for the real data sets of this folder, in plain pandas.

Run from the repository root:

    python tests/data/real/expected.py

It writes, next to the data:

- ``receivables_expected.csv``: one row per ``customerID`` of the IBM accounts
  receivable sample (invoices, days to settle, days past due, late share, amount);
- ``credit_card_expected.csv``: one row per ``ID`` of the UCI credit card clients
  (late share over the six months, totals billed and paid, next-month default);
- ``credit_card_auc_expected.csv``: ROC AUC of the late share alone and of a
  5-fold cross-validated logistic regression on the raw columns.

Deliberately independent of payseg (no payseg import): these numbers are what a
payment-behaviour library should reproduce from the same files. Nothing runs on
import, so pytest's doctest collection of this folder stays cheap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RECEIVABLES = HERE / "WA_Fn-UseC_-Accounts-Receivable.csv"
CREDIT_CARD = HERE / "UCI_Credit_Card.csv"

DATE_FORMAT = "%m/%d/%Y"  # US dates without zero padding, e.g. 1/15/2013
PAY_STATUS = ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"]
BILL_AMT = [f"BILL_AMT{i}" for i in range(1, 7)]
PAY_AMT = [f"PAY_AMT{i}" for i in range(1, 7)]
TARGET = "default.payment.next.month"
RANDOM_STATE = 0
N_FOLDS = 5


def read_receivables(path: Path = RECEIVABLES) -> pd.DataFrame:
    """The invoices with the three dates parsed explicitly as month/day/year."""
    df = pd.read_csv(path, dtype={"invoiceNumber": str, "customerID": str})
    for col in ["InvoiceDate", "DueDate", "SettledDate"]:
        df[col] = pd.to_datetime(df[col], format=DATE_FORMAT)
    return df


def receivables_expected(df: pd.DataFrame) -> pd.DataFrame:
    """Per customer: counts, days to settle, days past due, late share, amount."""
    days_to_settle = (df["SettledDate"] - df["InvoiceDate"]).dt.days
    days_past_due = (df["SettledDate"] - df["DueDate"]).dt.days  # > 0 = late
    # the file carries its own derived columns: ours must agree with them
    assert (days_to_settle == df["DaysToSettle"]).all()
    assert (days_past_due.clip(lower=0) == df["DaysLate"]).all()
    work = pd.DataFrame(
        {
            "customerID": df["customerID"],
            "days_to_settle": days_to_settle,
            "days_past_due": days_past_due,
            "paid_late": (days_past_due > 0).astype(float),
            "amount": df["InvoiceAmount"],
        }
    )
    g = work.groupby("customerID", sort=True)
    out = pd.DataFrame(
        {
            "n_invoices": g.size(),
            "mean_days_to_settle": g["days_to_settle"].mean(),
            "median_days_to_settle": g["days_to_settle"].median(),
            "mean_days_past_due": g["days_past_due"].mean(),
            "late_share": g["paid_late"].mean(),
            "total_amount": g["amount"].sum().round(2),
        }
    )
    return out.reset_index()


def read_credit_card(path: Path = CREDIT_CARD) -> pd.DataFrame:
    return pd.read_csv(path)


def credit_card_expected(df: pd.DataFrame) -> pd.DataFrame:
    """Per client: share of the 6 months paid late (PAY_x >= 1), totals, outcome."""
    out = pd.DataFrame(
        {
            "ID": df["ID"],
            "late_share": (df[PAY_STATUS] >= 1).sum(axis=1) / len(PAY_STATUS),
            "total_billed": df[BILL_AMT].sum(axis=1),
            "total_paid": df[PAY_AMT].sum(axis=1),
            "default_next_month": df[TARGET],
        }
    )
    return out.sort_values("ID").reset_index(drop=True)


def credit_card_auc(df: pd.DataFrame, per_client: pd.DataFrame) -> pd.DataFrame:
    """ROC AUC of late_share alone, and of a cross-validated logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = df[TARGET].to_numpy()
    auc_late_share = roc_auc_score(
        per_client["default_next_month"], per_client["late_share"]
    )

    # "raw columns": the 23 original explanatory variables (all but ID and target),
    # standardised inside each training fold so that lbfgs converges
    X = df.drop(columns=["ID", TARGET]).to_numpy(dtype=float)
    folds = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=RANDOM_STATE)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    proba = cross_val_predict(model, X, y, cv=folds, method="predict_proba")[:, 1]
    fold_aucs = [roc_auc_score(y[test], proba[test]) for _, test in folds.split(X, y)]

    rows = [
        ("late_share_alone", "whole data, no fitting", auc_late_share, np.nan),
        (
            "logreg_raw_columns",
            f"mean of {N_FOLDS} stratified folds (shuffle, random_state={RANDOM_STATE})",
            float(np.mean(fold_aucs)),
            float(np.std(fold_aucs)),
        ),
        (
            "logreg_raw_columns_pooled",
            "out-of-fold predictions of the same folds, pooled",
            roc_auc_score(y, proba),
            np.nan,
        ),
    ]
    return pd.DataFrame(rows, columns=["score", "how", "roc_auc", "roc_auc_std"])


def main() -> None:
    ar = read_receivables()
    assert ar.shape == (2466, 12), ar.shape
    rec = receivables_expected(ar)
    rec.to_csv(HERE / "receivables_expected.csv", index=False, float_format="%.6f")

    cc = read_credit_card()
    assert cc.shape == (30000, 25), cc.shape
    per_client = credit_card_expected(cc)
    per_client.to_csv(
        HERE / "credit_card_expected.csv", index=False, float_format="%.6f"
    )
    auc = credit_card_auc(cc, per_client)
    auc.to_csv(HERE / "credit_card_auc_expected.csv", index=False, float_format="%.6f")

    print(f"receivables: {len(ar)} invoices, {len(rec)} customers")
    print(f"credit card: {len(cc)} clients, default rate {cc[TARGET].mean():.4f}")
    print(auc.to_string(index=False))


if __name__ == "__main__":
    main()
