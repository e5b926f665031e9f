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

A model file is treated as untrusted input: both zips are read within the limits of
:mod:`._modelzip` (size, member count, nesting depth, compression), the skops schema and
every array header are checked before skops reads them, and the state loaded is checked
against the Segmenter's parameters and fitted attributes (:func:`check_state`), so that
a damaged or crafted file fails at load with a :class:`ModelFileError` naming the file
and the cause, never later in ``predict``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import numbers
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .._schema import NOISE
from ..exceptions import ModelFileError
from . import _backends
from ._modelzip import (
    MAX_JSON_DEPTH,
    MAX_MEMBERS,
    MAX_MODEL_BYTES,
    Budget,
    load_json,
    open_zip,
    read_member,
)

FORMAT = "payseg.Segmenter"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_PAYLOAD = "segmenter.skops"
_SCHEMA = "schema.json"
#: Largest manifest.json and skops schema.json read (payseg's are a few KiB; the
#: arrays live in their own members).
MAX_JSON_BYTES = 16 << 20
#: Bytes of an array member kept to read its header (numpy caps headers at 10,000).
_NPY_HEAD = 1 << 16


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
    "payseg.cluster._preprocess.LowUseShortfall",
    "payseg.cluster._segmenter.Segmenter",
    "sklearn.cluster._agglomerative.AgglomerativeClustering",
    "sklearn.cluster._kmeans.KMeans",
    "sklearn.cluster._kmeans.MiniBatchKMeans",
    "sklearn.compose._column_transformer.ColumnTransformer",
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


def read_manifest(path, *, max_bytes=None) -> dict:
    """Return the manifest of a model file (checked), without loading the model."""
    return _read(path, max_bytes)[0]


def _limit(max_bytes) -> int:
    if max_bytes is None:
        return MAX_MODEL_BYTES
    if (
        isinstance(max_bytes, bool)
        or not isinstance(max_bytes, numbers.Integral)
        or max_bytes < 1
    ):
        raise ValueError(f"max_bytes must be a positive int, got {max_bytes!r}.")
    return int(max_bytes)


def _read_json(zf, name, where, budget, what):
    size = zf.getinfo(name).file_size
    if size > MAX_JSON_BYTES:
        raise ModelFileError(
            f"{where}: {what} declares {size:,} bytes, more than the "
            f"{MAX_JSON_BYTES:,} a payseg model file uses; it is damaged or crafted. "
            "Re-save the model from its source."
        )
    raw, _ = read_member(zf, name, where, budget)
    return load_json(raw, where, what)


def _read(path, max_bytes=None):
    path = Path(path)
    budget = Budget(_limit(max_bytes))
    if path.exists() and not path.is_file():
        raise ModelFileError(
            f"{path}: not a regular file (a directory, device or pipe); a model file "
            "is the .payseg file Segmenter.save() writes."
        )
    try:
        zf = open_zip(path, str(path), budget, max_members=2)
    except OSError as exc:
        raise ModelFileError(
            f"{path}: cannot read the model file ({exc.strerror or exc}); check the "
            "path."
        ) from exc
    with zf:
        names = set(zf.namelist())
        if names != {_MANIFEST, _PAYLOAD}:
            raise ModelFileError(
                f"{path} is not a payseg model file (members {sorted(names)}, "
                f"expected {_MANIFEST} and {_PAYLOAD}); write one with "
                "Segmenter.save()."
            )
        manifest = _read_json(zf, _MANIFEST, str(path), budget, _MANIFEST)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ModelFileError(f"{path} is not a payseg Segmenter file.")
        payload, _ = read_member(zf, _PAYLOAD, str(path), budget)
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


@functools.cache
def _skops_protocol() -> int:
    """The newest skops protocol this skops reads: the one it writes."""
    import skops.io as sio

    with zipfile.ZipFile(io.BytesIO(sio.dumps(0))) as zf:
        return int(json.loads(zf.read(_SCHEMA))["protocol"])


def _check_payload(payload: bytes, where: str, budget: Budget) -> None:
    """Check the skops archive before skops reads it.

    Its zip directory and every member within the limits, ``schema.json`` present,
    within the nesting limit, of a protocol this skops reads, every array member it
    names present, every JSON value it holds within the nesting limit, every numpy
    array header consistent with its member's size and free of Python objects.
    """
    if not payload:
        raise ModelFileError(
            f"{where}: the payload is empty (0 bytes); expected the skops archive "
            "that Segmenter.save() writes. Re-save the model from its source."
        )
    if payload[:1] == b"\x80":
        raise ModelFileError(
            f"{where}: the payload is a Python pickle, not a skops archive; payseg "
            "never loads pickles (they can run code). Re-save the model with "
            "Segmenter.save()."
        )
    with open_zip(payload, where, budget, max_members=MAX_MEMBERS) as zf:
        names = zf.namelist()
        if _SCHEMA not in names:
            raise ModelFileError(
                f"{where}: the payload has no {_SCHEMA} (members "
                f"{sorted(names)[:5]}{' ...' if len(names) > 5 else ''}), so it is "
                "not a skops archive. Re-save the model from its source."
            )
        schema = _read_json(zf, _SCHEMA, where, budget, _SCHEMA)
        _check_schema(schema, where, set(names))
        for name in names:  # each member once: at most MAX_MEMBERS
            if name == _SCHEMA:
                continue
            head, size = read_member(zf, name, where, budget, keep=_NPY_HEAD)
            if name.endswith(".npy"):
                _check_npy(head, size, name, where)


def _check_schema(schema, where: str, members: set[str]) -> None:
    if not isinstance(schema, dict):
        raise ModelFileError(
            f"{where}: {_SCHEMA} holds a {type(schema).__name__}, expected an object."
        )
    protocol, newest = schema.get("protocol"), _skops_protocol()
    if (
        isinstance(protocol, bool)
        or not isinstance(protocol, int)
        or not 0 <= protocol <= newest
    ):
        import skops

        raise ModelFileError(
            f"{where}: {_SCHEMA} declares skops protocol {protocol!r}; this skops "
            f"({skops.__version__}) reads protocols 0 to {newest}. If the file was "
            "written by a newer skops, upgrade skops; otherwise re-save the model."
        )
    # iterative walk: the depth was checked, but no recursion is needed either
    stack = [schema]
    while stack:  # one pass over the schema's nodes (not over customers)
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        if "__loader__" not in node:
            continue
        loader = node["__loader__"]
        if not isinstance(loader, str):
            raise ModelFileError(
                f"{where}: {_SCHEMA} has a node whose type is {loader!r}, expected a "
                "skops node name; the file is damaged or crafted."
            )
        if "file" in node and node["file"] not in members:
            raise ModelFileError(
                f"{where}: {_SCHEMA} refers to the array member {node['file']!r}, "
                "which the payload does not hold; the file is damaged. Re-save the "
                "model from its source."
            )
        content = node.get("content")
        if (
            loader == "JsonNode"
            and isinstance(content, str)
            # fewer opening brackets than the limit cannot nest deeper: no scan
            and content.count("[") + content.count("{") > MAX_JSON_DEPTH
        ):
            load_json(content.encode("utf-8"), where, f"a value in {_SCHEMA}")


def _check_npy(head: bytes, size: int, name: str, where: str) -> None:
    from numpy.lib import format as npformat

    buf = io.BytesIO(head)
    try:
        version = npformat.read_magic(buf)
        if version == (1, 0):
            shape, _, dtype = npformat.read_array_header_1_0(buf)
        elif version == (2, 0):
            shape, _, dtype = npformat.read_array_header_2_0(buf)
        else:
            shape, dtype = None, None  # numpy checks the rare version 3 itself
    except (ValueError, EOFError) as exc:
        raise ModelFileError(
            f"{where}: array member {name} is not a numpy array file ({exc}); the "
            "file is damaged. Re-save the model from its source."
        ) from exc
    if dtype is None:
        return
    if dtype.hasobject:
        raise ModelFileError(
            f"{where}: array member {name} holds Python objects (dtype {dtype}), "
            "which only pickle can read; payseg refuses it."
        )
    expected = buf.tell() + math.prod(shape) * dtype.itemsize
    if expected != size:
        raise ModelFileError(
            f"{where}: array member {name} declares shape {shape} of {dtype} "
            f"({expected:,} bytes with its header) but holds {size:,} bytes; the "
            "file is damaged or crafted. Re-save the model from its source."
        )


def _skops(call, where: str):
    """Run a skops read; any failure of skops on the checked payload is the file's."""
    try:
        return call()
    except ModelFileError:
        raise
    except Exception as exc:  # skops raises many types on a bad state
        import skops

        raise ModelFileError(
            f"{where}: skops {skops.__version__} cannot read the payload "
            f"({type(exc).__name__}: {exc}); expected the state Segmenter.save() "
            "writes. Re-save the model from its source with this payseg."
        ) from exc


def warn_version(manifest: dict, path) -> None:
    """Warn when the model was written by another payseg (once it has loaded)."""
    from .._version import __version__

    if manifest.get("payseg_version") != __version__:
        warnings.warn(
            f"{path} was saved by payseg {manifest.get('payseg_version')}, this is "
            f"payseg {__version__}; predictions may differ. Re-fit and save the "
            "model with this version to silence this warning.",
            ModelVersionWarning,
            stacklevel=3,
        )


def load_state(path, *, trusted=None, max_bytes=None) -> tuple[dict, dict]:
    """Check and read a model file written by :func:`save`.

    Returns the manifest and the fitted state (attribute name -> value) from which
    :meth:`payseg.cluster.Segmenter.load` rebuilds the estimator; it checks the
    result with :func:`check_state`, then calls :func:`warn_version`.
    """
    import skops.io as sio

    if trusted is not None and (
        not isinstance(trusted, (list, tuple, set, frozenset))
        or not all(isinstance(t, str) for t in trusted)
    ):
        raise TypeError(
            f"trusted must be a list of type names (str), got {trusted!r}; e.g. "
            "trusted=['mypkg.MyClusterer']."
        )
    limit = _limit(max_bytes)
    manifest, payload = _read(path, limit)
    where = f"{path} ({_PAYLOAD})"
    # the payload's own members get the same budget as the file's
    _check_payload(payload, where, Budget(limit))
    found = _skops(lambda: sio.get_untrusted_types(data=payload), where)
    allowed = set(TRUSTED_TYPES) | set(trusted or ())
    untrusted = [t for t in found if t not in allowed]
    if untrusted:
        raise ModelFileError(
            f"{path} holds types payseg does not trust: {untrusted}. If the file "
            "comes from a source you trust (e.g. a custom clusterer as method), "
            "pass them as Segmenter.load(path, trusted=[...])."
        )
    state = _skops(lambda: sio.loads(payload, trusted=sorted(found)), where)
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise ModelFileError(
            f"{where}: the saved state is a {type(state).__name__}, expected a dict "
            "of attribute names to values; re-save the model from its source."
        )
    decoded = _skops(lambda: {k: _decode(v) for k, v in state.items()}, where)
    return manifest, decoded


# -- the loaded state ------------------------------------------------------------------
def _int_array(value, ndim=1) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.ndim == ndim
        and value.dtype.kind in "iu"
    )


def _real(value) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
    )


def _check_fitted(seg, bad) -> None:
    """Types and shapes of the fitted attributes, each against the others."""
    from sklearn.pipeline import Pipeline

    from .._sklearn_compat import InvalidParameterError

    try:
        seg._validate_params()
        seg._check_params()
    except (InvalidParameterError, ValueError, TypeError) as exc:
        raise bad(f"its parameters are invalid ({exc})") from None
    if isinstance(seg.method, str):
        expected = _backends.BACKENDS[seg.method]
    else:
        expected = _backends.EstimatorBackend
    backend = seg._backend
    if type(backend) is not expected:
        raise bad(
            f"its back-end is a {type(backend).__name__}, method={seg.method!r} "
            f"needs a {expected.__name__}"
        )
    if not isinstance(seg.preprocessor_, Pipeline):
        raise bad(
            f"preprocessor_ is a {type(seg.preprocessor_).__name__}, expected a "
            "scikit-learn Pipeline"
        )
    n_in = seg.n_features_in_
    if not isinstance(n_in, numbers.Integral) or isinstance(n_in, bool) or n_in < 1:
        raise bad(f"n_features_in_ is {n_in!r}, expected a positive int")
    used, idx = seg.features_used_, seg._used_idx
    if not isinstance(used, np.ndarray) or used.ndim != 1 or used.size == 0:
        raise bad("features_used_ is not a non-empty 1-d array of column names")
    if not _int_array(idx) or idx.size != used.size:
        raise bad(
            f"_used_idx does not give a position for each of the {used.size} "
            "features used"
        )
    if idx.size and (idx.min() < 0 or idx.max() >= n_in):
        raise bad(f"_used_idx points outside the {n_in} input columns")
    names = getattr(seg, "feature_names_in_", None)
    if names is not None:
        if not isinstance(names, np.ndarray) or names.shape != (n_in,):
            raise bad(f"feature_names_in_ does not hold {n_in} names (n_features_in_)")
        if not np.array_equal(names[idx].astype(str), used.astype(str)):
            raise bad("features_used_ are not the columns _used_idx selects")
    ids = getattr(backend, "segment_ids_", None)
    if not _int_array(ids) or (
        ids.size and (ids.min() < 0 or np.any(np.diff(ids) <= 0))
    ):
        raise bad("the back-end's segment_ids_ are not increasing ids >= 0")
    if seg.n_clusters_ != ids.size:
        raise bad(f"n_clusters_={seg.n_clusters_!r} but {ids.size} segment ids")
    centers = getattr(backend, "centers_", None)
    if (
        not isinstance(centers, np.ndarray)
        or centers.ndim != 2
        or centers.shape[0] != ids.size
        or centers.dtype.kind != "f"
        or not np.isfinite(centers).all()
    ):
        shape = getattr(centers, "shape", type(centers).__name__)
        raise bad(
            f"the back-end's centers_ are {shape}, expected finite floats of shape "
            f"({ids.size}, n_components), one row per segment"
        )
    if not _real(getattr(backend, "temperature_", None)):
        raise bad("the back-end's temperature_ is not a finite number")
    labels = seg.labels_
    values = labels.to_numpy() if isinstance(labels, pd.Series) else labels
    if not _int_array(values) or values.size == 0:
        raise bad("labels_ are not a non-empty 1-d array of segment ids")
    known = np.isin(values, np.append(ids, NOISE))
    if not known.all():
        raise bad(
            f"labels_ hold segment ids the model does not have: "
            f"{np.unique(values[~known])[:10].tolist()}"
        )
    profiles = seg.profiles_
    if not isinstance(profiles, pd.DataFrame) or not np.array_equal(
        profiles.index.to_numpy(), np.unique(values)
    ):
        raise bad("profiles_ do not have one row per segment of labels_")
    if not isinstance(seg.k_reason_, str):
        raise bad("k_reason_ is not text")
    if seg.method == "kprototypes":
        modes, levels = (
            getattr(backend, "modes_", None),
            seg.__dict__.get("_cat_levels"),
        )
        n_cat = getattr(backend, "n_categorical", None)
        if (
            not isinstance(levels, list)
            or n_cat != len(levels)
            or not isinstance(modes, np.ndarray)
            or modes.shape != (ids.size, n_cat)
            or not _real(getattr(backend, "gamma_", None))
        ):
            raise bad("its k-prototypes modes_, gamma_ and categories do not match")


def _check_manifest(seg, manifest, bad) -> None:
    """The manifest (readable without the model) must describe the state."""
    names = getattr(seg, "feature_names_in_", None)
    facts = {
        "method": str(seg.method),
        "n_clusters": int(seg.n_clusters_),
        "n_features_in": int(seg.n_features_in_),
        "feature_names": None if names is None else [str(n) for n in names],
        "features_used": [str(n) for n in seg.features_used_],
    }
    for key, value in facts.items():
        if key in manifest and manifest[key] != value:
            raise bad(
                f"the manifest's {key} ({str(manifest[key])[:80]}) differs from the "
                f"state's ({str(value)[:80]}): the file mixes two models"
            )
    names = getattr(seg, "segment_names_", None)
    if names is not None:
        unknown = ~names.index.isin(seg.profiles_.index)
        if not isinstance(names, pd.DataFrame) or unknown.any():
            raise bad("the manifest names segments the model does not have")


def _smoke(seg, bad) -> None:
    """Assign one made-up customer, as predict would: the state must work."""
    n_used = seg.features_used_.size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            width = seg.preprocessor_.transform(np.zeros((1, n_used))).shape[1]
    except Exception as exc:  # any failure of a crafted pipeline is the file's
        raise bad(f"its preprocessor cannot transform a row ({exc})") from None
    if seg._backend.centers_.shape[1] != width:
        raise bad(
            f"the back-end's centers_ have {seg._backend.centers_.shape[1]} columns, "
            f"the preprocessor gives {width} for the {n_used} features used"
        )
    names = getattr(seg, "feature_names_in_", None)
    X = np.zeros((1, int(seg.n_features_in_)))
    if names is not None:
        X = pd.DataFrame(X, columns=[str(n) for n in names])
    try:
        # predict, predict_proba and transform in one thread-limit context
        with warnings.catch_warnings(), _backends.numpy_context(1):
            warnings.simplefilter("ignore")
            Z, _ = seg._z(X)
            seg._backend.predict(Z)
            seg._backend.predict_proba(Z)
            seg._backend.transform(Z)
    except Exception as exc:  # a state that cannot predict is a bad file
        raise bad(
            f"it cannot assign a customer ({type(exc).__name__}: {exc})"
        ) from None


#: What Segmenter.fit sets and predict needs, besides the parameters.
_FITTED = (
    "preprocessor_",
    "_backend",
    "n_features_in_",
    "features_used_",
    "_used_idx",
    "n_clusters_",
    "labels_",
    "profiles_",
    "k_reason_",
)


def check_state(seg, manifest: dict, path) -> None:
    """Refuse a loaded Segmenter whose state is incomplete or inconsistent.

    Every parameter valid (``_parameter_constraints``); every fitted attribute
    present, of the type and shape the others imply (back-end class for the method,
    centres one row per segment and one column per preprocessed feature, labels among
    the segment ids, feature names one per input column); the manifest consistent with
    the state; and one made-up customer assigned by ``predict``, ``predict_proba`` and
    ``transform``. So a file that loads also predicts.
    """

    def bad(found):
        return ModelFileError(
            f"{path}: the saved state is not a fitted Segmenter: {found}. Re-save "
            "the model from its source with Segmenter.save()."
        )

    missing = [k for k in (*seg._get_param_names(), *_FITTED) if k not in seg.__dict__]
    if missing:
        raise bad(f"it lacks {missing}")
    try:
        _check_fitted(seg, bad)
    except ModelFileError:
        raise
    except Exception as exc:  # a check tripping on a crafted value
        raise bad(f"{type(exc).__name__}: {exc}") from None
    _check_manifest(seg, manifest, bad)
    _smoke(seg, bad)
