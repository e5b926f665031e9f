"""CLI end to end, each command in a fresh process: ``--cycle-months`` and customer
ids whose leading zeros make different customers ("007", "07", "7")."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from test_cli import run

# Bimonthly customers of a payments-only export (the bills are inferred from 电费年月):
# B1 paid the bills of 2024-02, -06, -10 and -12 only (two skipped), so its paid
# periods are 4, 4 and 2 months apart; B3 paid every bill: 2 and 2. The export's
# cycle is the modal gap over its customers, 2 (three gaps of 2, two of 4), so B1
# gets bills for the skipped 2024-04 and -08 and its cycle is 2 too; B2 paid one
# bill: no gap, no cycle of its own (only --cycle-months 2 gives it one).
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
    assert _cycles(tmp_path / "inferred") == {"B1": "2.0", "B2": "", "B3": "2.0"}
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


# Three customers whose ids differ only by leading zeros, each with its own name,
# channel, amounts and bills; "7" also pays one bill late.
_IDS = {
    "007": ("张三", "支付宝", 100),
    "07": ("李四", "柜台", 80),
    "7": ("王五", "微信", 50),
}


def _zero_files(folder):
    pay, bills, cust = ["户号,缴费日期,缴费方式,实收金额,电费年月"], [], []
    bills.append("户号,电费年月,应收金额,发行日期,缴费截止日期")
    cust.append("户号,户名,供电单位")
    for cid, (name, channel, amount) in _IDS.items():
        cust.append(f"{cid},{name},城东")
        for m in range(1, 7):
            day = 28 if (cid == "7" and m == 6) else 10
            paid = f"2024-{m + 1:02d}-{day:02d}" if day == 28 else f"2024-{m:02d}-20"
            pay.append(f"{cid},{paid},{channel},{amount},2024-{m:02d}")
            bills.append(f"{cid},2024-{m:02d},{amount},2024-{m:02d}-02,2024-{m:02d}-25")
    paths = []
    for name, lines in (("payments", pay), ("bills", bills), ("customers", cust)):
        path = folder / f"{name}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def test_ids_differing_by_leading_zeros_stay_three_customers(tmp_path):
    import payseg

    pay, bills, cust = _zero_files(tmp_path)
    # the library: load keeps the three ids and joins each to its own name
    data = payseg.load(pay, bills=bills, customers=cust)
    assert sorted(data.payments["customer_id"].unique()) == ["007", "07", "7"]
    assert sorted(data.bills["customer_id"].unique()) == ["007", "07", "7"]
    assert data.customers["customer_name"].to_dict() == {
        cid: name for cid, (name, _, _) in _IDS.items()
    }
    assert len(data.rejected) == 0

    # the CLI, in a fresh process: every output keeps them apart
    out = tmp_path / "res"
    r = run(
        [
            "segment",
            pay,
            "--bills",
            bills,
            "--customers",
            cust,
            "--k",
            "2",
            "--out",
            out,
            "--quiet",
        ]
    )
    assert r.exit_code == 0, r.output
    with (out / "customers.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = {row["customer_id"]: row for row in csv.DictReader(f)}
    assert sorted(rows) == ["007", "07", "7"]
    codes = {"支付宝": "alipay", "柜台": "counter", "微信": "wechat"}
    for cid, (name, channel, _amount) in _IDS.items():
        assert rows[cid]["customer_name"] == name
        assert rows[cid]["dominant_channel"] == codes[channel]
    import openpyxl

    wb = openpyxl.load_workbook(out / "workbook.xlsx", read_only=True)
    sheet = wb.worksheets[1]  # all customers
    cells = list(sheet.iter_rows(values_only=True))
    wb.close()
    col = next(i for i, v in enumerate(cells[0]) if v in ("户号", "customer_id"))
    assert sorted(str(c[col]) for c in cells[1:] if c[col] is not None) == [
        "007",
        "07",
        "7",
    ]
    assigned = tmp_path / "assigned.csv"
    r = run(
        [
            "predict",
            "--model",
            out / "model.payseg",
            pay,
            "--bills",
            bills,
            "--out",
            assigned,
            "--quiet",
        ]
    )
    assert r.exit_code == 0, r.output
    with assigned.open(encoding="utf-8-sig", newline="") as f:
        got = sorted(row["customer_id"] for row in csv.DictReader(f))
    assert got == ["007", "07", "7"]


def test_ids_differing_by_leading_zeros_out_of_core(tmp_path):
    import payseg
    from payseg.scale import build_features_out_of_core

    pay, bills, cust = _zero_files(tmp_path)
    data = payseg.load(pay, bills=bills, customers=cust)
    data.payments.to_parquet(tmp_path / "p.parquet")
    data.bills.to_parquet(tmp_path / "b.parquet")
    X = build_features_out_of_core(
        tmp_path / "p.parquet",
        bills=tmp_path / "b.parquet",
        n_buckets=2,
        progress=False,
    )
    assert X.index.tolist() == ["007", "07", "7"]
    pd.testing.assert_frame_equal(
        X, payseg.build_features(data), check_exact=False, rtol=1e-12
    )
