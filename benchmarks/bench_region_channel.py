"""Time payseg.plot.plot_region_channel (customers' channel mix per region).

    python benchmarks/bench_region_channel.py --payments 5000000 --customers 200000

Builds a payments frame (``customer_id`` as the ``str`` dtype of PaymentData, ``region`` and ``channel`` as
categoricals, 9 regions, 12 channels) and times the heatmap, which averages each
customer's channel-family shares over the region's customers (one ``numpy.unique``
over (customer, family) pairs, weighted ``bincount``s). Baseline in the same run: the
payment-count version it replaced (one ``bincount`` over (region, channel) codes, the
channels mapped to families, shares per region), drawn into the same heatmap. Prints
seconds and the ratio.
"""

from __future__ import annotations

import argparse
import time
import warnings


def baseline(p, ax) -> None:
    """The old heatmap's data work: payments counted per (region, channel family)."""
    import numpy as np
    import pandas as pd

    from payseg.channels import table

    groups = table()["group"]
    r, rn = pd.factorize(p["region"], sort=True)
    c, cn = pd.factorize(p["channel"], sort=True)
    cells = np.bincount(r * len(cn) + c, minlength=len(rn) * len(cn))
    counts = pd.DataFrame(cells.reshape(len(rn), len(cn)), columns=list(cn))
    counts = counts.T.groupby(counts.columns.map(lambda x: groups.get(x))).sum().T
    share = counts.div(counts.sum(axis=1), axis=0)
    ax.imshow(share.to_numpy(float), cmap="OrRd", vmin=0, vmax=1, aspect="auto")
    for i, row in enumerate(share.to_numpy()):
        for j, v in enumerate(row):
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=8)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=5_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    from payseg.plot import plot_region_channel

    rng = np.random.default_rng(args.seed)
    cust = rng.integers(0, args.customers, args.payments)
    ids = np.array([f"{i:010d}" for i in range(args.customers)], dtype=object)
    regions = [f"region{i}" for i in range(9)]
    channels = [
        "counter", "alipay", "wechat", "sgcc_app", "card_debit", "entrusted_debit",
        "agent_outlet", "postal", "ic_card", "utility_kiosk", "unionpay",
        "mobile_banking",
    ]  # fmt: skip
    p = pd.DataFrame(
        {
            "customer_id": pd.array(ids[cust], dtype="str"),  # as in PaymentData
            "region": pd.Categorical.from_codes(cust % 9, regions),
            "channel": pd.Categorical.from_codes(
                rng.integers(0, len(channels), args.payments), channels
            ),
        }
    )
    print(f"{len(p):,} payments, {args.customers:,} customers, 9 regions")

    fig = Figure(figsize=(8.0, 5.0))
    t = time.perf_counter()
    baseline(p, fig.subplots())
    t_base = time.perf_counter() - t

    fig = Figure(figsize=(8.0, 5.0))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plot_region_channel(p, lang="en", ax=fig.subplots())
    t_new = time.perf_counter() - t
    print(f"plot_region_channel (customers): {t_new:.2f} s")
    print(f"baseline (payments, one bincount): {t_base:.2f} s")
    print(f"ratio: {t_new / t_base:.1f}x")


if __name__ == "__main__":
    main()
