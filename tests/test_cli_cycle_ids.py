"""CLI end to end, each command in a fresh process: ``--cycle-months`` and customer
ids whose leading zeros make different customers ("007", "07", "7")."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from test_cli import run

# Bimonthly customers of a payments-only export (the bills are inferred from 电费年月):
# B1 paid the bills of 2024-02, -06, -10 and -12 only (two skipped), so its paid
# periods are 4, 4 and 2 months apart: the inferred cycle is the median gap, 4;
# B2 paid one bill: no gap, no inferred cycle; B3 paid every bill: 2. The true cycle
# is 2 for all three, which only --cycle-months 2 says.
_BIMONTHLY = """户号,缴费日期,缴费方式,实收金额,电费年月
B1,2024-02-10,支付宝,100,2024-02
B1,2024-06-11,支付宝,100,2024-06
B1,2024-10-09,支付宝,100,2024-10
B1,2024-12-10,支付宝,100,2024-12
B2,2024-06-20,柜台,180,2024-06
B3,2024-08-05,微信,60,2024-08
B3,2024-10-06,微信,60,2024-10
B3,2024-12-04,微信,60,2024-12
"""


def _cycles(folder) -> dict[str, str]:
    """customer_id -> the cycle_months cell of customers.csv, as text."""
    path = folder / "customers.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {r["customer_id"]: r["cycle_months"] for r in csv.DictReader(f)}


def test_cycle_months_is_passed_through(tmp_path):
    pay = tmp_path / "payments.csv"
    pay.write_text(_BIMONTHLY, encoding="utf-8")
    base = ["segment", pay, "--k", "2", "--quiet"]
    inferred = run([*base, "--out", tmp_path / "inferred"])
    assert inferred.exit_code == 0, inferred.output
    given = run([*base, "--cycle-months", "2", "--out", tmp_path / "given"])
    assert given.exit_code == 0, given.output
    assert _cycles(tmp_path / "inferred") == {"B1": "4.0", "B2": "", "B3": "2.0"}
    assert _cycles(tmp_path / "given") == {"B1": "2.0", "B2": "2.0", "B3": "2.0"}
    # a longer gap between paid periods is no contradiction (bills never paid)
    assert "contradicts" not in given.output

    # predict takes the same option (the model was fitted with it)
    assigned = tmp_path / "assigned.csv"
    pred = run(
        [
            "predict",
            "--model",
            tmp_path / "given" / "model.payseg",
            pay,
            "--cycle-months",
            "2",
            "--out",
            assigned,
            "--quiet",
        ]
    )
    assert pred.exit_code == 0, pred.output
    assert sorted(pd.read_csv(assigned, dtype=str)["customer_id"]) == [
        "B1",
        "B2",
        "B3",
    ]


def test_cycle_months_given_against_monthly_bills_is_warned(tmp_path):
    pay = tmp_path / "payments.csv"
    lines = [f"M1,2024-{m:02d}-05,微信,50,2024-{m:02d}" for m in range(1, 7)]
    lines += [f"M2,2024-{m:02d}-15,柜台,70,2024-{m:02d}" for m in range(1, 7)]
    pay.write_text(
        "户号,缴费日期,缴费方式,实收金额,电费年月\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    r = run(
        ["segment", pay, "--k", "2", "--cycle-months", "2", "--out", tmp_path / "o"]
    )
    assert r.exit_code == 0, r.output
    assert "contradicts the bill periods of 2 customer(s)" in r.output
    assert _cycles(tmp_path / "o") == {"M1": "2.0", "M2": "2.0"}


@pytest.mark.parametrize(
    "command, value, found",
    [
        ("segment", "0", "0 is not in the range 1<=x<=12"),
        ("demo", "13", "13 is not in the range 1<=x<=12"),
        ("predict", "two", "'two' is not a valid integer"),
    ],
)
def test_bad_cycle_months_is_one_line_exit_2(tmp_path, command, value, found):
    pay = tmp_path / "p.csv"
    pay.write_text(_BIMONTHLY, encoding="utf-8")
    args = {
        "segment": ["segment", pay, "--out", tmp_path / "o"],
        "demo": ["demo", "--out", tmp_path / "o"],
        "predict": ["predict", "--model", pay, pay],
    }[command]
    r = run([*args, "--cycle-months", value])
    assert r.exit_code == 2
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1, r.output
    assert "--cycle-months" in lines[0] and found in lines[0]
    assert not (tmp_path / "o").exists()
