"""Bytes that are not UTF-8 in a damaged record of a CSV file: the rows rejected and
why are as before, and nothing but payseg's own output reaches stderr (pyarrow used
to print "Exception ignored in ... UnicodeDecodeError" with a traceback)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Line 3: five fields for four columns (damaged) with bytes that are not UTF-8;
# line 5: four fields, one with such bytes. Both are "undecodable bytes".
_BODY = (
    "户号,缴费日期,缴费方式,实收金额\n".encode()
    + b"001,2024-01-10,\xe6\x94\xaf\xe4\xbb\x98\xe5\xae\x9d,100\n"
    + b"002,2024-01-11,\xff\xfe\xe6\x9f\x9c\xe5\x8f\xb0,80,extra\n"
    + b"003,2024-01-12,\xe5\xbe\xae\xe4\xbf\xa1,50\n"
    + b"004,2024-01-12,\xff\xe5\xbe\xae\xe4\xbf\xa1,50\n"
)
# The same with a quoted cell (another Arrow read: quoted line breaks).
_QUOTED = _BODY.replace(b"003,", b'"003",')

_SCRIPT = textwrap.dedent(
    """
    import sys
    import payseg
    hook = sys.unraisablehook
    data = payseg.load(sys.argv[1])
    assert sys.unraisablehook is hook, "the unraisable hook was not restored"
    print(sorted(data.payments["customer_id"]))
    print(sorted(zip(data.rejected["line"], data.rejected["reason"])))
    """
)


@pytest.mark.parametrize("body", [_BODY, _QUOTED], ids=["plain", "quoted"])
def test_undecodable_damaged_record_leaves_stderr_clean(tmp_path, body):
    path = tmp_path / "payments.csv"
    path.write_bytes(body)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Exception ignored" not in done.stderr
    assert "Traceback" not in done.stderr
    assert "UnicodeDecodeError" not in done.stderr
    ids, rejected = done.stdout.splitlines()
    assert ids == "['001', '003']"
    assert rejected == "[(3, 'undecodable bytes'), (5, 'undecodable bytes')]"


def test_other_unraisable_reports_still_reach_the_previous_hook(monkeypatch):
    """Only Arrow's report for payseg's own handler is dropped."""
    from payseg import _read

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)

    def handler(row):
        return "skip"

    class Report:
        def __init__(self, obj, exc_type):
            self.object, self.exc_type = obj, exc_type

    with _read._quiet_undecodable(handler):
        sys.unraisablehook(Report(handler, UnicodeDecodeError))  # dropped
        sys.unraisablehook(Report(handler, ValueError))  # another error
        sys.unraisablehook(Report(print, UnicodeDecodeError))  # another object
    assert [(r.object, r.exc_type) for r in seen] == [
        (handler, ValueError),
        (print, UnicodeDecodeError),
    ]
    assert sys.unraisablehook == seen.append
