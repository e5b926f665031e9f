"""scikit-learn's common estimator checks on every estimator and back-end of cluster.

Every check scikit-learn yields is run; the ones expected to fail are listed in
``expected_failed_checks`` with the reason, and are strict xfails: a listed check
that starts passing fails this file, so the list cannot go stale.
"""

import os
import pickle
import subprocess
import sys

from sklearn.cluster import KMeans
from sklearn.utils.estimator_checks import parametrize_with_checks

from payseg.cluster import ClippedRobustScaler, Segmenter

ESTIMATORS = [
    Segmenter(n_clusters=3, random_state=0),
    Segmenter(random_state=0),  # n_clusters="auto"
    Segmenter(method="minibatch_kmeans", n_clusters=3, random_state=0),
    Segmenter(method="gmm", n_clusters=3, random_state=0),
    Segmenter(method="agglomerative", n_clusters=3, random_state=0),
    Segmenter(method="hdbscan", random_state=0),
    Segmenter(method="kprototypes", n_clusters=3, random_state=0),
    Segmenter(method=KMeans(n_init=2), n_clusters=3, random_state=0),
    ClippedRobustScaler(),
]

_HDBSCAN_K = (
    "the check sets n_clusters (check_clustering sets 3, the others through "
    "sklearn's _set_checking_parameters); method='hdbscan' finds the number of "
    "segments itself and refuses an explicit n_clusters with InvalidParameterError"
)
_KPROTOTYPES = (
    "method='kprototypes' clusters numbers plus categories; the checks pass numeric "
    "arrays, which have neither channel_share__* columns nor named categorical "
    "columns, so fit raises SegmentInputError (tested with categories in "
    "test_cluster_segmenter.py::test_kprototypes_*)"
)
# kprototypes: every check that fits. Those that never call fit (cloning, repr,
# get/set_params, tags, unfitted errors, sparse input refused, ...) pass.
_KPROTOTYPES_FAILING = [
    "check_array_api_input",
    "check_clustering",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
]


def expected_failed_checks(estimator):
    """Check name -> why it fails, for one estimator (empty: every check passes)."""
    method = estimator.get_params().get("method")
    if method == "hdbscan":
        return {
            "check_clustering": _HDBSCAN_K,
            "check_dont_overwrite_parameters": _HDBSCAN_K,
            "check_fit2d_1feature": _HDBSCAN_K,
            "check_fit2d_predict1d": _HDBSCAN_K,
            "check_methods_sample_order_invariance": _HDBSCAN_K,
            "check_methods_subset_invariance": _HDBSCAN_K,
        }
    if method == "kprototypes":
        return dict.fromkeys(_KPROTOTYPES_FAILING, _KPROTOTYPES)
    return {}


def _check_name(check) -> str:
    return getattr(check, "func", check).__name__


def _run_with_scipy_array_api(estimator, check):
    """Run ``check`` in a fresh interpreter with SCIPY_ARRAY_API=1.

    check_array_api_input (for estimators without array API support: numpy input
    with array API dispatch on, results unchanged) needs scipy's array API mode,
    which is fixed when scipy is imported, so in this process sklearn would skip
    it. A child process runs it for real; its failure is this test's failure.
    """
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    code = (
        "import pickle, sys\n"
        "estimator, check = pickle.loads(sys.stdin.buffer.read())\n"
        "check(estimator)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps((estimator, check)),
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible(estimator, check):
    if (
        _check_name(check) == "check_array_api_input"
        and os.environ.get("SCIPY_ARRAY_API") != "1"
    ):
        _run_with_scipy_array_api(estimator, check)
    else:
        check(estimator)


def test_expected_failures_name_real_checks():
    """Every listed check exists for its estimator, so the lists cannot go stale."""
    from sklearn.utils.estimator_checks import estimator_checks_generator

    for est in ESTIMATORS:
        names = {_check_name(c) for _, c in estimator_checks_generator(est)}
        assert set(expected_failed_checks(est)) <= names, est


def test_clipped_robust_scaler_declares_nan():
    tags = ClippedRobustScaler().__sklearn_tags__()
    assert tags.input_tags.allow_nan
