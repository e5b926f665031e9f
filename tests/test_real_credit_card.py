"""The public UCI credit-card data (tests/data/real/README.md): six monthly bills per
client with the repayment status of each, and next month's default.

Each month becomes one bill (due on the 21st) and one payment, made on time for a
status of -2..0 and ``status`` months late for 1..9. payseg's ``late_share`` must
then equal the reference computed by tests/data/real/expected.py straight from the
status columns, for all 30,000 clients; and the credit score must rank the default
outcome at least as well as ``late_share`` alone and a logistic regression on the
raw columns (the reference AUCs of expected.py).
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import payseg

REAL = Path(__file__).parent / "data" / "real"
STATUS = ["PAY_6", "PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0"]  # Apr..Sep 2005


@pytest.fixture(scope="module")
def features():
    df = pd.read_csv(REAL / "UCI_Credit_Card.csv")
    n, months = len(df), pd.period_range("2005-04", periods=6, freq="M")
    ids = np.repeat(df["ID"].astype(str).to_numpy(), 6)
    bill_id = [f"{i}-{k}" for i, k in zip(ids, np.tile(np.arange(6), n))]
    issued = np.tile(months.to_timestamp(), n)
    due = issued + pd.Timedelta(days=20)
    status = df[STATUS].to_numpy().ravel()
    paid = due + pd.to_timedelta(np.where(status >= 1, status * 30, -1), "D")
    bills = pd.DataFrame(
        {
            "customer_id": ids,
            "period": np.tile(months, n),
            "issued_on": issued,
            "due_on": due,
            "amount_due": 1.0,
            "bill_id": bill_id,
        }
    )
    payments = pd.DataFrame(
        {
            "customer_id": ids,
            "paid_at": paid,
            "amount": 1.0,
            "bill_id": bill_id,
            "channel": "网银",
        }
    )
    data = payseg.load(payments, bills=bills)
    assert len(data.payments) == len(data.bills) == 6 * n  # nothing lost
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return payseg.build_features(data, as_of="2005-12-31")


@pytest.fixture(scope="module")
def expected():
    return pd.read_csv(REAL / "credit_card_expected.csv", dtype={"ID": str}).set_index(
        "ID"
    )


def test_late_share_equals_the_reference_for_every_client(features, expected):
    got = features["late_share"].reindex(expected.index)
    assert got.notna().all()
    np.testing.assert_allclose(got, expected["late_share"], atol=1e-6)


def test_credit_score_ranks_default_at_least_as_well_as_the_baselines(
    features, expected
):
    auc = pd.read_csv(REAL / "credit_card_auc_expected.csv").set_index("score")[
        "roc_auc"
    ]
    grade = payseg.labels.CreditGrade().fit(features)
    y = expected["default_next_month"]
    # a low score means a bad risk
    score_auc = roc_auc_score(y, -grade.scores_.reindex(expected.index))
    assert score_auc >= auc["late_share_alone"] - 0.002
    assert score_auc >= auc.filter(like="logreg").max()
