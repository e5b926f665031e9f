"""Dask back-end: features per customer partition, segments fitted on a seeded sample.

Payments, bills and customers are shuffled on a hash of the customer id into the same
number of partitions (skipped when the caller says they already are partitioned by
customer), then :func:`payseg.build_features` runs on each partition with the
data-wide ``as_of`` and channel columns computed first, exactly as the out-of-core
path does (``_conform``). Results equal the pandas path.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from .._sklearn_compat import InvalidParameterError
from ..data import PaymentData
from ..features import build_features, check_families, first_day
from . import _conform
from ._sampling import sample_fraction, sample_mask
from ._segment import predict_bucket

__all__ = ["dask_build_features", "dask_segment"]

_ROW = "_payseg_row"
_BUCKET = "_payseg_bucket"
_PERIOD = "_payseg_period"


def _dd():
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - exercised without dask only
        raise ImportError(
            "the Dask back-end needs dask[dataframe] and distributed: "
            "pip install 'payseg[scale]'"
        ) from exc
    return dd


def _as_dask(frame, name: str, npartitions: int | None):
    dd = _dd()
    if frame is None:
        return None
    if isinstance(frame, pd.DataFrame):
        return dd.from_pandas(frame, npartitions=npartitions or 1, sort=False)
    if isinstance(frame, dd.DataFrame):
        return frame
    raise TypeError(
        f"{name} must be a dask or pandas DataFrame, got {type(frame).__name__}"
    )


# ------------------------------------------------------------- partition helpers


def _prepare_part(df: pd.DataFrame, n_buckets: int, offset: int) -> pd.DataFrame:
    """Add row number and bucket; make columns Arrow-friendly for the shuffle."""
    df = df.copy()
    if "customer_id" not in df.columns:  # customers indexed by id
        df = df.reset_index()
    df["customer_id"] = df["customer_id"].astype("str")
    df[_ROW] = np.arange(offset, offset + len(df), dtype=np.int64)
    ids = np.asarray(df["customer_id"], dtype=object)
    df[_BUCKET] = (
        pd.util.hash_array(ids, categorize=False) % np.uint64(n_buckets)
    ).astype(np.int64)
    if "period" in df.columns:
        df[_PERIOD] = df["period"].astype("period[M]").array.asi8
        df = df.drop(columns="period")
    for col in df.columns:
        if isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype("str")
    return df


def _restore(df: pd.DataFrame | None, kind: str) -> pd.DataFrame | None:
    """Canonical table of one partition: input row order and dtypes restored."""
    if df is None:
        return None
    if _ROW in df.columns:
        df = df.sort_values(_ROW, kind="stable")
    if _PERIOD in df.columns:
        df = df.assign(
            period=pd.arrays.PeriodArray(
                df[_PERIOD].to_numpy(np.int64), dtype=pd.PeriodDtype("M")
            )
        )
    df = df.drop(columns=[c for c in (_ROW, _BUCKET, _PERIOD) if c in df.columns])
    if (
        kind == "payments"
        and "channel" in df.columns
        and not isinstance(df["channel"].dtype, pd.CategoricalDtype)
    ):
        df = df.assign(channel=df["channel"].astype("category"))
    if kind != "customers":
        return df.reset_index(drop=True)
    if "customer_id" in df.columns:
        df = df.set_index("customer_id")
    return df


def _partition_stats(pay: pd.DataFrame | None, bills: pd.DataFrame | None) -> dict:
    empty = pd.DataFrame(
        {
            "paid_at": pd.Series(dtype="datetime64[ns]"),
            "amount": pd.Series(dtype="float64"),
        }
    )
    pay = empty if pay is None else pay
    bills = pd.DataFrame() if bills is None else bills
    return {
        "as_of_ns": _conform.default_as_of_ns(pay, bills),
        "channel_first_ns": _conform.channel_first_ns(pay),
        "first_ns": _first_ns(pay, bills),
    }


def _first_ns(pay: pd.DataFrame, bills: pd.DataFrame) -> int | None:
    """First dated day of a partition (:func:`payseg.features.first_day`, the rule
    of ``build_features``), for the data-wide check of a given ``as_of``."""
    day = first_day(SimpleNamespace(payments=pay, bills=bills))
    return None if pd.isna(day) else int(day.value)


def _features_part(pay, bills, cust, params) -> pd.DataFrame:
    pay = _restore(pay, "payments")
    bills = _restore(bills, "bills")
    cust = _restore(cust, "customers")
    data = PaymentData(payments=pay)
    if bills is not None:
        data.bills = bills
    if cust is not None:
        data.customers = cust
    as_of = pd.Timestamp(params["as_of"])
    # A given as_of is checked once on the whole data (dask_build_features), not
    # per partition: a partition whose customers all start later is no error.
    X = build_features(
        data,
        families=params["families"],
        as_of=as_of,
        _check_coverage=False,
        # dask runs the partitions in parallel already (a given n_jobs wins)
        **{"n_jobs": 1, **params["feature_kw"]},
    )
    X.attrs.pop("as_of_coverage", None)
    X = _conform.conform(X, families=params["families"], channels=params["channels"])
    return _conform.fill_values(X, params["fill"])


def _check_as_of(as_of, stats) -> None:
    """Refuse a given ``as_of`` before every dated row of the whole data, as
    :func:`payseg.build_features` does in memory (the warning for an ``as_of`` that
    leaves most customers empty needs per-customer counts and is not made here)."""
    firsts = [s["first_ns"] for s in stats if s["first_ns"] is not None]
    if not firsts:
        return
    day, first = pd.Timestamp(as_of).normalize(), pd.Timestamp(min(firsts))
    if day < first.normalize():
        raise InvalidParameterError(
            f"The 'as_of' parameter of dask_build_features is {day:%Y-%m-%d}, before "
            f"every payment and bill in the data (the first is {first:%Y-%m-%d}): "
            "every customer would have all-NaN features. Pass an as_of after that "
            "day, or None for the latest date in the data."
        )


def _shuffled(frame, n_buckets: int):
    """Frame with row numbers, shuffled so each partition holds whole customers."""
    import dask

    lengths = frame.map_partitions(len).compute()
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    prepared = [
        dask.delayed(_prepare_part)(p, n_buckets, int(o))
        for p, o in zip(frame.to_delayed(), offsets)
    ]
    meta = _prepare_part(frame._meta, n_buckets, 0)
    out = _dd().from_delayed(prepared, meta=meta, verify_meta=False)
    return out.shuffle(_BUCKET, npartitions=n_buckets)


def _ship(obj):
    """One copy of ``obj`` for every task: scattered to the workers of a distributed
    client, else a single graph key (not one copy per partition)."""
    import dask

    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):  # no distributed client: local schedulers
        return dask.delayed(obj, pure=True)
    return client.scatter(obj, broadcast=True)


# -------------------------------------------------------------------- public API


def dask_build_features(
    payments,
    bills=None,
    customers=None,
    *,
    families=None,
    as_of=None,
    fill=None,
    npartitions: int | None = None,
    partitioned: bool = False,
    **feature_kw,
):
    """:func:`payseg.build_features` on Dask DataFrames, one customer partition at a time.

    Parameters
    ----------
    payments : dask.dataframe.DataFrame or DataFrame
        Canonical payments (``customer_id``, ``paid_at``, ``channel``, ``amount``,
        optional ``period``), e.g. ``dd.read_parquet`` of files written from
        :func:`payseg.load` output.
    bills : dask.dataframe.DataFrame or DataFrame, optional
        Canonical bills.
    customers : dask.dataframe.DataFrame or DataFrame, optional
        Canonical customers, indexed by ``customer_id`` or with that column.
    families, as_of, fill, **feature_kw
        As in :func:`payseg.build_features` (``fill="median"`` is not supported).
    npartitions : int, optional
        Partitions after the shuffle; default that of ``payments``.
    partitioned : bool, default False
        True when the inputs already have the same number of partitions and partition
        ``i`` of each holds all rows of the same customers: no shuffle then.

    Returns
    -------
    dask.dataframe.DataFrame
        Features indexed by ``customer_id`` (sorted within each partition; customers
        are spread over partitions by hash). ``compute().sort_index()`` equals the
        pandas ``build_features`` result. Write it with ``.to_parquet(path)``.

    Examples
    --------
    >>> import dask, payseg
    >>> from payseg.scale import dask_build_features
    >>> data = payseg.synth.generate(100, seed=0, months=4)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     X = dask_build_features(data.payments, data.bills, npartitions=3)
    ...     X = X.compute().sort_index()
    >>> bool(abs(X - payseg.build_features(data)).max().max() < 1e-12)
    True
    """
    import dask

    fams = list(check_families(families))
    if isinstance(fill, str):
        _conform.fill_values(pd.DataFrame(), fill)  # raises with the explanation
    pay = _as_dask(payments, "payments", npartitions)
    n = int(npartitions or pay.npartitions)
    if isinstance(payments, pd.DataFrame):
        pay = _as_dask(payments, "payments", n)
    frames = {
        "payments": pay,
        "bills": _as_dask(bills, "bills", n),
        "customers": _as_dask(customers, "customers", n),
    }
    if partitioned:
        sizes = {k: f.npartitions for k, f in frames.items() if f is not None}
        if len(set(sizes.values())) > 1:
            raise ValueError(
                f"partitioned=True needs inputs with equal partition counts, got "
                f"{sizes}; pass partitioned=False to shuffle them by customer"
            )
        n = pay.npartitions

    # Data-wide facts, one pass over the columns they need (Parquet inputs then
    # read only those).
    pay_cols = [c for c in ("paid_at", "amount", "channel") if c in pay.columns]
    stats = [
        dask.delayed(_partition_stats)(p, None) for p in pay[pay_cols].to_delayed()
    ]
    if frames["bills"] is not None:
        b = frames["bills"]
        bill_cols = [c for c in ("period", "issued_on", "amount_due") if c in b.columns]
        stats += [
            dask.delayed(_partition_stats)(None, part)
            for part in b[bill_cols].to_delayed()
        ]
    stats = dask.compute(*stats)
    if as_of is not None:
        _check_as_of(as_of, stats)
    if as_of is None:
        last = [s["as_of_ns"] for s in stats if s["as_of_ns"] is not None]
        as_of = pd.Timestamp(max(last) if last else 0)
    as_of = pd.Timestamp(as_of).normalize()  # build_features works in whole days
    cut = _conform.cutoff_ns(as_of)
    channels = _conform.used_channels(
        _conform.merge_first(s["channel_first_ns"] for s in stats), cut
    )
    params = {
        "as_of": str(as_of),
        "families": fams,
        "channels": channels,
        "fill": fill,
        "feature_kw": feature_kw,
    }
    # Already partitioned inputs go as they are: rows keep their order.
    shuffled = {
        k: (f if f is None or partitioned else _shuffled(f, n))
        for k, f in frames.items()
    }
    names = _conform.columns_for(fams, channels)
    meta = pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in names},
        index=pd.Index([], dtype="str", name="customer_id"),
    )
    return _dd().map_partitions(
        _features_part,
        shuffled["payments"],
        shuffled["bills"],
        shuffled["customers"],
        params,
        meta=meta,
        align_dataframes=False,
    )


def dask_segment(
    features, segmenter=None, *, sample_size=200_000, random_state=0, out=None
):
    """Fit a Segmenter on a seeded sample of a Dask feature table, predict per partition.

    Parameters
    ----------
    features : dask.dataframe.DataFrame
        From :func:`dask_build_features` (index ``customer_id``).
    segmenter : Segmenter, optional
        Unfitted; default ``payseg.Segmenter(random_state=random_state)``.
    sample_size : int, default 200_000
        Expected sample size (customers chosen by :func:`sample_mask`, the same ones
        the out-of-core and pandas paths would choose).
    random_state : int, default 0
        Seed of the sample.
    out : str or path, optional
        Folder to write the labels to as Parquet (then read back lazily).

    Returns
    -------
    segmenter : Segmenter
        Fitted on the sample.
    labels : dask.dataframe.DataFrame
        Column ``segment``, indexed by ``customer_id``.

    Examples
    --------
    >>> import dask, payseg
    >>> from payseg.scale import dask_build_features, dask_segment
    >>> data = payseg.synth.generate(300, seed=0, months=6)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     X = dask_build_features(data.payments, data.bills, npartitions=2)
    ...     seg, labels = dask_segment(X, payseg.Segmenter(n_clusters=3,
    ...                                                    random_state=0))
    ...     print(labels.compute()["segment"].nunique())
    3
    """
    from sklearn.base import clone

    if segmenter is None:
        from ..cluster import Segmenter

        segmenter = Segmenter(random_state=random_state)
    segmenter = clone(segmenter)
    # Sampling, then predicting, reads the features twice: keep them in the
    # workers' memory rather than recomputing them.
    features = features.persist()
    n = int(features.map_partitions(len).compute().sum())
    fraction = sample_fraction(sample_size, n)
    sample = (
        features.map_partitions(
            lambda X: X[sample_mask(X.index, fraction, random_state)],
            meta=features._meta,
        )
        .compute()
        .sort_index(kind="stable")
    )
    segmenter.fit(sample)
    meta = pd.DataFrame(
        {"segment": pd.Series(dtype="int64")},
        index=pd.Index([], dtype="str", name="customer_id"),
    )
    model = _ship(segmenter)
    labels = features.map_partitions(
        lambda X, seg: predict_bucket(seg, X), model, meta=meta
    )
    if out is not None:
        labels.to_parquet(str(out))
        labels = _dd().read_parquet(str(out))
    return segmenter, labels
