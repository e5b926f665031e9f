"""Write the example notebooks (without outputs): python examples/_make_notebooks.py

The notebooks are kept as code here so that a change to the API is one diff; CI
executes the written .ipynb files (tests/test_examples.py).
"""

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).parent


def notebook(cells):
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, text in cells:
        text = text.strip("\n")
        nb.cells.append(
            nbf.v4.new_markdown_cell(text)
            if kind == "md"
            else nbf.v4.new_code_cell(text)
        )
    return nb


QUICKSTART = [
    (
        "md",
        """
# payseg quick start

Generate residential customers with planted payment archetypes, segment them in one
call, and look at what came out. Everything runs offline in under a minute.
""",
    ),
    (
        "code",
        """
import matplotlib.pyplot as plt
import payseg

data = payseg.synth.generate(n_customers=4_000, seed=0, months=24)
print(data.summary())
""",
    ),
    (
        "md",
        """
`data.payments` holds one row per payment (customer, time, channel code, amount,
billing period, region); `data.bills` one row per bill; `data.truth` the archetype each
customer was generated from.
""",
    ),
    (
        "code",
        """
data.payments.head()
""",
    ),
    (
        "code",
        """
data.truth["archetype"].value_counts()
""",
    ),
    (
        "md",
        """
## Features

One row per customer: when (delay after the bill is issued, days before the due date,
late and unpaid shares), how (channel shares), how much, arrears, prepaid top-ups and
trends. `docs/features.md` defines every column.
""",
    ),
    (
        "code",
        """
X = payseg.build_features(data)
X[["delay_days_mean", "days_to_due_mean", "late_share", "online_share",
   "automatic_share", "counter_share", "amount_per_year"]].describe().round(2)
""",
    ),
    (
        "md",
        """
## Segments in one call

`payseg.segment` chooses the number of segments, names each segment from its profile
and labels every customer with a value class, pyramid tier, credit grade, warning score
and a recommended action.
""",
    ),
    (
        "code",
        """
result = payseg.segment(data, random_state=0)
result
""",
    ),
    (
        "code",
        """
result.segments[["name_en", "name_zh", "size", "share", "action", "rule"]]
""",
    ),
    (
        "code",
        """
print(result.k_reason)
print("agreement with the planted archetypes, ARI:",
      round(payseg.evaluate.ari(result.labels, data.truth["archetype"]), 3))
""",
    ),
    (
        "code",
        """
fig, axes = plt.subplots(1, 2, figsize=(14, 5))
payseg.plot.plot_channel_mix(result.features, result.labels, names=result.names,
                             ax=axes[0])
payseg.plot.plot_delay_distribution(result.features, result.labels,
                                    names=result.names, ax=axes[1])
fig.tight_layout()
""",
    ),
    (
        "code",
        """
result.customers.head()
""",
    ),
    (
        "code",
        """
path = result.report("quickstart_report.html")
print("report written to", path)
""",
    ),
]

CPH = [
    (
        "md",
        """
# The China Software Cup sample: value matrix

`data/cph.csv` is the public sample of the task on residential payment habits
(居民客户的用电缴费习惯分析): 100 customers, 664 payments, 2018-2019, with columns
用户编号 (customer id), 缴费日期 (payment date) and 缴费金额（元） (amount). It has no
channel and no bills, so this notebook uses the date-and-amount path.
""",
    ),
    (
        "code",
        """
from pathlib import Path

import matplotlib.pyplot as plt
import payseg
from payseg import labels

data = payseg.load(Path("data") / "cph.csv")
print(data.summary())
""",
    ),
    (
        "md",
        """
## Task 1: mean payment amount and count
""",
    ),
    (
        "code",
        """
stats = labels.payment_stats(data)
stats.head()
""",
    ),
    (
        "md",
        """
## Task 2: the four-way value matrix

Count and amount per customer against the population mean; a value equal to the mean
is "not above". The task text leaves the unit open; payseg offers both readings found
in published solutions: per calendar year (default) and over the whole extract.
""",
    ),
    (
        "code",
        """
per_year = labels.ValueMatrix(per="year").fit(data)
whole = labels.ValueMatrix(per=None).fit(data)
print("per year:     ", per_year.counts_.to_dict())
print("whole extract:", whole.counts_.to_dict())
""",
    ),
    (
        "code",
        """
m = per_year.metrics_
ax = payseg.plot.plot_value_matrix(m["count"], m["amount"], per_year.labels_)
""",
    ),
    (
        "md",
        """
## Task 3: who is most likely to become high value

`rank_high_value` ranks the customers not yet high value; `backtest_high_value` checks
the ranking on a time split (history before the split, outcome after it).
""",
    ),
    (
        "code",
        """
labels.rank_high_value(data, n=5)
""",
    ),
    (
        "code",
        """
labels.backtest_high_value(data)
""",
    ),
    (
        "md",
        """
With 100 customers who mostly pay every second month, no method beats chance at every
split: the backtest is the honest answer to "how sure are we".
""",
    ),
]

STUDY = [
    (
        "md",
        """
# A full study: methods, k, stability and migration

Compare clustering back-ends against the planted truth, look at how k was chosen,
how stable the segments are under bootstrap refits, and how customers migrate between
segments from one half-year to the next.
""",
    ),
    (
        "code",
        """
import matplotlib.pyplot as plt
import pandas as pd
import payseg
from payseg.cluster import Segmenter, stability

data = payseg.synth.generate(n_customers=3_000, seed=7, months=24)
X = payseg.build_features(data)
truth = data.truth["archetype"]
""",
    ),
    (
        "md",
        """
## Method comparison
""",
    ),
    (
        "code",
        """
rows = {}
for method in ["kmeans", "minibatch_kmeans", "gmm", "agglomerative", "hdbscan"]:
    seg = Segmenter(method=method, random_state=0).fit(X)
    rows[method] = payseg.evaluate.score(seg.labels_, truth)
    rows[method]["k"] = seg.n_clusters_
pd.DataFrame(rows).T.round(3)
""",
    ),
    (
        "md",
        """
## How k was chosen
""",
    ),
    (
        "code",
        """
seg = Segmenter(random_state=0).fit(X)
print(seg.k_reason_)
ax = payseg.plot.plot_k_scores(seg.k_scores_, chosen=seg.n_clusters_)
""",
    ),
    (
        "code",
        """
names = payseg.labels.ArchetypeLabeller().fit(X, seg.labels_).names_
payseg.evaluate.confusion_table(seg.labels_.map(names), truth)
""",
    ),
    (
        "md",
        """
## Stability

Best-match Jaccard of each segment over bootstrap refits (above 0.75: stable; below
0.5: the segment dissolves).
""",
    ),
    (
        "code",
        """
stab = stability(seg, X, n_boot=5, random_state=0)
print("mean ARI across refits:", round(stab.ari_mean, 3))
stab.jaccard.assign(name=names).round(3)
""",
    ),
    (
        "md",
        """
## Profiles and embedding
""",
    ),
    (
        "code",
        """
fig, axes = plt.subplots(1, 2, figsize=(15, 6))
payseg.plot.plot_profiles(X, seg.labels_, names=names, ax=axes[0])
payseg.plot.plot_embedding(X, seg.labels_, names=names, ax=axes[1])
fig.tight_layout()
""",
    ),
    (
        "md",
        """
## Migration between half-years (dynamic classification)

The fitted model is frozen and applied to each half-year's features; movers between
segments are themselves a signal (for example counter payers moving to the app).
""",
    ),
    (
        "code",
        """
tables, windows = payseg.window_features(data, window_months=6, return_windows=True)
mig = payseg.labels.Migration(seg, names=names).fit(tables, windows=windows)
print(f"share of customers changing segment per half-year: {mig.mover_share_:.1%}")
ax = payseg.plot.plot_migration(mig)
""",
    ),
    (
        "code",
        """
mig.movers_.head()
""",
    ),
]


def main():
    for name, cells in [
        ("01_quickstart", QUICKSTART),
        ("02_cph_value_matrix", CPH),
        ("03_full_study", STUDY),
    ]:
        nbf.write(notebook(cells), HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main()
