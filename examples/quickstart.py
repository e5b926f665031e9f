"""Segment generated customers and write a report: python examples/quickstart.py [OUT]"""

import sys
from pathlib import Path

import payseg


def main(out: Path) -> None:
    data = payseg.synth.generate(n_customers=5_000, seed=0, months=24)
    print(data.summary())
    result = payseg.segment(data, random_state=0, progress=True)
    print(result.segments[["name_en", "name_zh", "size", "share", "action"]])
    print(result.k_reason)
    ari = payseg.evaluate.ari(result.labels, data.truth["archetype"])
    print(f"agreement with the planted archetypes: ARI {ari:.3f}")
    print("report:", result.report(out / "quickstart_report.html"))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
