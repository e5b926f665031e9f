"""Saving and loading a fitted Segmenter without pickle.

A model file is a zip archive with two members:

``manifest.json``
    format name and version, payseg and scikit-learn versions, method, feature
    names, parameters (as text), and sha256 checksums of the payload and of the
    manifest's own content.
``segmenter.skops``
    the fitted state in skops format. skops rebuilds objects from a description
    instead of running pickle's byte code, and refuses every type that is not on a
    trust list; payseg's list is the fixed set of types its own back-ends produce
    (:data:`TRUSTED_TYPES`), never taken from the file.

The checksums catch a file modified or truncated after saving (a clear error instead
of a half-loaded model). They are not a signature: someone who rewrites the file can
recompute them, and the protection against code execution is the trust list.
"""

from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import ModelFileError

FORMAT = "payseg.Segmenter"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_PAYLOAD = "segmenter.skops"


class ModelVersionWarning(UserWarning):
    """The model file was written by another payseg version."""


# Types the back-ends of payseg produce, and nothing else. skops also trusts its own
# defaults (builtins, numpy arrays and dtypes, ...).
TRUSTED_TYPES = [
    "payseg.cluster._backends.AgglomerativeBackend",
    "payseg.cluster._backends.EstimatorBackend",
    "payseg.cluster._backends.GMMBackend",
    "payseg.cluster._backends.HDBSCANBackend",
    "payseg.cluster._backends.KMeansBackend",
    "payseg.cluster._backends.KPrototypesBackend",
    "payseg.cluster._backends.MiniBatchKMeansBackend",
    "payseg.cluster._preprocess.ClippedRobustScaler",
    "payseg.cluster._segmenter.Segmenter",
    "sklearn.cluster._agglomerative.AgglomerativeClustering",
    "sklearn.cluster._kmeans.KMeans",
    "sklearn.cluster._kmeans.MiniBatchKMeans",
    "sklearn.decomposition._pca.PCA",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.mixture._gaussian_mixture.GaussianMixture",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "hdbscan.dist_metrics.EuclideanDistance",
    "hdbscan.hdbscan_.HDBSCAN",
    "hdbscan.prediction.PredictionData",
    "joblib.memory.Memory",
    "numpy.dtype",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.neighbors._kd_tree.KDTree",
    "kmodes.kprototypes.KPrototypes",
    "kmodes.util.dissim.matching_dissim",
    "kmodes.util.dissim.euclidean_dissim",
    "kmodes.util.init_methods.init_cao",
    "kmodes.util.init_methods.init_huang",
]


# -- pandas <-> plain values (skops does not store pandas objects) ---------------------
def _plain_array(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == object or pd.api.types.is_string_dtype(arr.dtype):
        return np.asarray([str(v) for v in arr.tolist()], dtype=str)
    return arr


def _encode(obj):
    if isinstance(obj, pd.Series):
        return {
            "__pandas__": "series",
            "values": _plain_array(obj.to_numpy()),
            "index": _plain_array(obj.index.to_numpy()),
            "index_name": obj.index.name,
            "name": obj.name,
        }
    if isinstance(obj, pd.DataFrame):
        return {
            "__pandas__": "frame",
            "columns": [str(c) for c in obj.columns],
            "column_name": obj.columns.name,
            "values": [_plain_array(obj[c].to_numpy()) for c in obj.columns],
            "index": _plain_array(obj.index.to_numpy()),
            "index_name": obj.index.name,
        }
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        return {"__numpy_object__": _plain_array(obj)}
    return obj


def _index(values, name):
    if values.dtype.kind == "U":
        return pd.Index(values.astype(object), name=name, dtype="str")
    return pd.Index(values, name=name)


def _column(values):
    if values.dtype.kind == "U":
        return pd.array(values.astype(object), dtype="str")
    return values


def _decode(obj):
    if isinstance(obj, dict) and obj.get("__pandas__") == "series":
        return pd.Series(
            _column(obj["values"]),
            index=_index(obj["index"], obj["index_name"]),
            name=obj["name"],
        )
    if isinstance(obj, dict) and obj.get("__pandas__") == "frame":
        data = {c: _column(v) for c, v in zip(obj["columns"], obj["values"])}
        frame = pd.DataFrame(data, index=_index(obj["index"], obj["index_name"]))
        frame.columns.name = obj["column_name"]
        return frame
    if isinstance(obj, dict) and "__numpy_object__" in obj:
        return obj["__numpy_object__"].astype(object)
    return obj


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_digest(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return _sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode())


def _names_to_json(segment_names, segments) -> dict:
    """Segment names (DataFrame or Series indexed by segment id) as plain JSON."""
    if isinstance(segment_names, pd.Series):
        segment_names = segment_names.to_frame(segment_names.name or "name")
    if not isinstance(segment_names, pd.DataFrame):
        raise TypeError(
            "segment_names must be a DataFrame or Series indexed by segment id, got "
            f"{type(segment_names).__name__}."
        )
    ids = segment_names.index
    if not pd.api.types.is_integer_dtype(ids.dtype):
        raise ValueError(
            f"segment_names must be indexed by segment id (int), got index dtype "
            f"{ids.dtype}; e.g. result.segments[['name_en', 'name_zh']]."
        )
    unknown = sorted(set(ids.tolist()) - {int(s) for s in segments})
    if unknown:
        raise ValueError(
            f"segment_names has segment ids the model does not have: {unknown[:10]}; "
            f"the model's segments are {[int(s) for s in segments]}."
        )
    return {
        "segment": [int(i) for i in ids],
        "columns": {
            str(c): [None if pd.isna(v) else str(v) for v in segment_names[c]]
            for c in segment_names.columns
        },
    }


def names_from_json(obj) -> pd.DataFrame | None:
    """The segment-name table stored in a manifest (None when there is none)."""
    if obj is None:
        return None
    index = pd.Index(np.asarray(obj["segment"], dtype=np.int64), name="segment")
    return pd.DataFrame(
        {c: pd.array(v, dtype="str") for c, v in obj["columns"].items()}, index=index
    )


def save(segmenter, path, *, segment_names=None) -> None:
    """Write ``segmenter`` (fitted) to ``path``; see the module docstring.

    ``segment_names`` (a table indexed by segment id) goes into the manifest, so
    that it can be read without loading the model.
    """
    import sklearn
    import skops.io as sio
    from sklearn.utils.validation import check_is_fitted

    from .._version import __version__

    check_is_fitted(segmenter, "preprocessor_")
    names_json = (
        None
        if segment_names is None
        else _names_to_json(segment_names, segmenter.profiles_.index)
    )
    # the names live in the manifest only (metadata, readable without the model)
    state = {k: _encode(v) for k, v in vars(segmenter).items() if k != "segment_names_"}
    try:
        payload = sio.dumps(state)
    except Exception as exc:  # skops raises several types for objects it cannot store
        raise ModelFileError(
            f"cannot save this Segmenter: skops cannot store part of it ({exc}). "
            "Use a named method, or a clusterer made of plain arrays."
        ) from exc
    names = getattr(segmenter, "feature_names_in_", None)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "payseg_version": __version__,
        "sklearn_version": sklearn.__version__,
        "class": "Segmenter",
        "method": str(segmenter.method),
        "params": {k: repr(v) for k, v in segmenter.get_params(deep=False).items()},
        "feature_names": None if names is None else [str(n) for n in names],
        "features_used": [str(n) for n in segmenter.features_used_],
        "n_features_in": int(segmenter.n_features_in_),
        "n_clusters": int(segmenter.n_clusters_),
        "segment_names": names_json,
        "payload_sha256": _sha256(payload),
    }
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    with zipfile.ZipFile(Path(path), "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        zf.writestr(_PAYLOAD, payload)


def read_manifest(path) -> dict:
    """Return the manifest of a model file (checked), without loading the model."""
    return _read(path)[0]


def _read(path):
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not {_MANIFEST, _PAYLOAD} <= names:
                raise ModelFileError(
                    f"{path} is not a payseg model file (members {sorted(names)}); "
                    "write one with Segmenter.save()."
                )
            manifest = json.loads(zf.read(_MANIFEST).decode("utf-8"))
            payload = zf.read(_PAYLOAD)
    except zipfile.BadZipFile as exc:
        raise ModelFileError(
            f"{path} is not a payseg model file (not a zip archive: {exc}); "
            "write one with Segmenter.save()."
        ) from exc
    except (zipfile.LargeZipFile, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: unreadable manifest ({exc}).") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a payseg Segmenter file.")
    if manifest.get("manifest_sha256") != _manifest_digest(manifest):
        raise ModelFileError(
            f"{path}: the manifest was modified after saving (sha256 mismatch); "
            "refusing to load it. Re-save the model from its source."
        )
    if manifest.get("payload_sha256") != _sha256(payload):
        raise ModelFileError(
            f"{path}: the model payload was modified or damaged after saving "
            "(sha256 mismatch); refusing to load it. Re-save the model from its source."
        )
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses model format {manifest.get('format_version')}, this payseg "
            f"reads format {FORMAT_VERSION}; load it with the payseg version "
            f"{manifest.get('payseg_version')} that wrote it."
        )
    return manifest, payload


def load_state(path, *, trusted=None) -> tuple[dict, dict]:
    """Check and read a model file written by :func:`save`.

    Returns the manifest and the fitted state (attribute name -> value) from which
    :meth:`payseg.cluster.Segmenter.load` rebuilds the estimator.
    """
    import skops.io as sio

    from .._version import __version__

    manifest, payload = _read(path)
    if manifest.get("payseg_version") != __version__:
        warnings.warn(
            f"{path} was saved by payseg {manifest.get('payseg_version')}, this is "
            f"payseg {__version__}; predictions may differ. Re-fit and save the "
            "model with this version to silence this warning.",
            ModelVersionWarning,
            stacklevel=3,
        )
    allowed = set(TRUSTED_TYPES) | set(trusted or ())
    untrusted = [t for t in sio.get_untrusted_types(data=payload) if t not in allowed]
    if untrusted:
        raise ModelFileError(
            f"{path} holds types payseg does not trust: {untrusted}. If the file "
            "comes from a source you trust (e.g. a custom clusterer as method), "
            "pass them as Segmenter.load(path, trusted=[...])."
        )
    state = sio.loads(
        payload, trusted=sorted(allowed & set(sio.get_untrusted_types(data=payload)))
    )
    return manifest, {k: _decode(v) for k, v in state.items()}
