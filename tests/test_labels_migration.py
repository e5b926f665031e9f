"""Migration: frozen model per window, transitions, movers, plot."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

import payseg
from payseg.labels import ArchetypeLabeller, Migration
from payseg.plot import plot_migration

matplotlib.use("Agg")


class _Rule:
    """A frozen 'model': late payers vs the rest."""

    feature_names_in_ = np.array(["late_share", "channel_share__counter"])

    def predict(self, X):
        assert list(X.columns) == list(self.feature_names_in_)
        assert not X["channel_share__counter"].isna().any()
        return np.where(X["late_share"] > 0.5, 1, 0)


def _windows():
    idx = pd.Index(["a", "b", "c", "d"], name="customer_id")
    return {
        "w1": pd.DataFrame({"late_share": [0.0, 0.0, 0.9, 0.0]}, index=idx),
        "w2": pd.DataFrame({"late_share": [0.0, 0.9, 0.9, 0.0]}, index=idx),
        # d is not active in w3; c recovered.
        "w3": pd.DataFrame({"late_share": [0.0, 0.9, 0.1]}, index=idx[:3]),
    }


def test_transitions_and_movers_known_answer():
    mig = Migration(_Rule()).fit(_windows())
    assert mig.labels_.columns.tolist() == ["w1", "w2", "w3"]
    assert pd.isna(mig.labels_.loc["d", "w3"])
    # Pairs: w1->w2: a 0->0, b 0->1, c 1->1, d 0->0; w2->w3: a 0->0, b 1->1, c 1->0.
    assert mig.transitions_.to_numpy().tolist() == [[3, 1], [1, 2]]
    assert mig.movers_[
        ["customer_id", "from_window", "to_window", "from_segment", "to_segment"]
    ].values.tolist() == [["b", "w1", "w2", 0, 1], ["c", "w2", "w3", 1, 0]]
    assert mig.mover_share_ == pytest.approx(2 / 7)
    shares = mig.transition_shares()
    assert shares.loc[0].tolist() == [0.75, 0.25]
    assert mig.windows_["customers"].tolist() == [4, 4, 3]
    assert mig.windows_["start"].isna().all()  # no windows= given


def test_names_and_empty_segment_rows():
    mig = Migration(_Rule(), names={0: "ok", 1: "late"}).fit(_windows())
    assert mig.transitions_.index.tolist() == ["late", "ok"]
    assert mig.movers_["to_segment"].tolist() == ["late", "ok"]
    one = Migration(_Rule()).fit({"w1": _windows()["w1"]})
    assert one.movers_.empty and one.mover_share_ == 0.0
    assert one.transitions_.to_numpy().sum() == 0


def test_plot_migration_returns_ax():
    import matplotlib.pyplot as plt

    mig = Migration(_Rule()).fit(_windows())
    fig, ax = plt.subplots()
    out = plot_migration(mig, ax=ax, lang="en")
    assert out is ax
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(["75%\n3", "25%\n1", "33%\n1", "67%\n2"])
    ax2 = plot_migration(
        mig.transitions_, normalize=False, lang="en", names={0: "ok", 1: "late"}
    )
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["ok", "late"]
    plt.close("all")


def test_bad_inputs():
    with pytest.raises(TypeError, match="model must have a predict"):
        Migration(object()).fit(_windows())
    data = payseg.synth.generate(50, seed=0, months=6)
    # Labels only label: PaymentData is cut into windows and featurised outside.
    with pytest.raises(
        TypeError,
        match=r"mapping of window label -> feature table, "
        r"got PaymentData; .*payseg.window_features\(data",
    ):
        Migration(_Rule()).fit(data)
    with pytest.raises(ValueError, match="window_months must divide 12"):
        payseg.window_features(data, window_months=5)
    with pytest.raises(ValueError, match="min_coverage must be a number"):
        payseg.window_features(data, min_coverage=2)
    with pytest.raises(TypeError, match="window_features needs a PaymentData"):
        payseg.window_features(data.payments)


def test_generated_data_with_a_segmenter():
    data = payseg.synth.generate(800, seed=3, months=24)
    X = payseg.build_features(data)
    seg = payseg.Segmenter(method="kmeans", n_clusters=6, random_state=0).fit(X)
    names = ArchetypeLabeller().fit(X, seg.labels_).names_
    tables, windows = payseg.window_features(data, return_windows=True)
    mig = Migration(seg, names=names).fit(tables, windows=windows)
    # 24 months from January: four half-years, the spill-over month dropped.
    assert mig.windows_.index.tolist() == ["2024H1", "2024H2", "2025H1", "2025H2"]
    assert mig.windows_["customers"].min() > 700
    assert mig.windows_["start"].tolist() == list(
        pd.to_datetime(["2024-01-01", "2024-07-01", "2025-01-01", "2025-07-01"])
    )
    assert (mig.windows_["end"] - mig.windows_["start"]).dt.days.between(181, 184).all()
    assert set(mig.transitions_.index) <= set(names)
    # A frozen model on stable customers: most stay where they are.
    assert 0 < mig.mover_share_ < 0.25
    t = mig.transitions_.to_numpy()
    assert len(mig.movers_) == t.sum() - np.trace(t)
