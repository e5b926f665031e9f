"""From messy utility-export files to segments: python examples/real_export.py [OUT]

Writes generated customers as a marketing-system export (Chinese headers, channel
spelling variants, GB18030 encoding) with 1% defective rows of every kind, loads it
back, shows exactly which rows were rejected and why, registers a channel the registry
did not know, and segments the customers.
"""

import sys
import warnings
from pathlib import Path

import payseg


def main(out: Path) -> None:
    export = out / "export"
    data = payseg.synth.generate(n_customers=3_000, seed=1, months=12)
    injected = payseg.synth.write(data, export, defects=0.01, encoding="gb18030")
    print(f"wrote {export} with {len(injected)} defective rows")
    print((export / "payments.csv").read_bytes()[:120].decode("gb18030"))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = payseg.load(
            export / "payments.csv",
            bills=export / "bills.csv",
            customers=export / "customers.csv",
        )
    for w in caught:
        print("warning:", w.message)
    print(loaded.summary())
    print(loaded.rejected.head(10).to_string())
    assert len(loaded.rejected) == len(injected)

    # A spelling the registry does not know is one call away from being accepted.
    payseg.channels.register("alipay", aliases=["支付宝生活号"])

    result = payseg.segment(loaded, random_state=0)
    print(result.segments[["name_en", "size", "action"]])
    print("report:", result.report(out / "real_export_report.html"))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
