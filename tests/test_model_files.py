"""Damaged and crafted model files: each one a ModelFileError naming the file and cause.

The files are built here byte by byte (zipfile for well-formed archives, struct for
the headers zipfile would not write), as someone would who wants payseg to crash,
hang, allocate gigabytes or run code. The model's checksums are recomputed after every
change, as an attacker can, so that the checks under test are the ones reached.
"""

import copy
import hashlib
import io
import json
import pickle
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.cluster import KMeans

from payseg.cluster import ModelFileError, Segmenter, _modelzip, _persist
from payseg.cluster._backends import GMMBackend

MANIFEST, PAYLOAD, SCHEMA = "manifest.json", "segmenter.skops", "schema.json"


def table(n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    X = rng.normal(size=(y.size, 3)) + 8 * np.eye(3)[y]
    index = pd.Index([f"{i:07d}" for i in range(y.size)], name="customer_id")
    return pd.DataFrame(X, index=index, columns=["a", "b", "c"])


@pytest.fixture(scope="module")
def fitted():
    return Segmenter(n_clusters=3, random_state=0).fit(table())


@pytest.fixture
def model(tmp_path, fitted):
    path = tmp_path / "model.payseg"
    fitted.save(path)
    return path


# -- forging -------------------------------------------------------------------------
def members(path_or_bytes):
    src = path_or_bytes
    if isinstance(src, bytes):
        src = io.BytesIO(src)
    with zipfile.ZipFile(src) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def digest(manifest):
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def forge(path, payload=None, edit=None):
    """Rewrite the model at ``path`` with a new payload/manifest, checksums redone."""
    items = members(path)
    manifest = json.loads(items[MANIFEST])
    payload = items[PAYLOAD] if payload is None else payload
    if edit is not None:
        edit(manifest)
    manifest["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    manifest["manifest_sha256"] = digest(manifest)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest))
        zf.writestr(PAYLOAD, payload)


def zip_of(items):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return buf.getvalue()


def edit_payload(path, change):
    """Apply ``change`` to the payload's members (a dict name -> bytes) and forge."""
    inner = members(members(path)[PAYLOAD])
    change(inner)
    forge(path, payload=zip_of(inner))


def edit_schema(path, change):
    def apply(inner):
        schema = json.loads(inner[SCHEMA])
        change(schema)
        inner[SCHEMA] = json.dumps(schema).encode()

    edit_payload(path, apply)


def nodes(schema, loader):
    """Every node of ``schema`` with this ``__loader__`` (a slow obvious walk)."""
    found = []

    def walk(o):
        if isinstance(o, dict):
            if o.get("__loader__") == loader:
                found.append(o)
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(schema)
    return found


def forge_state(path, fitted, change):
    """Save ``fitted``'s state after ``change(state)``, as skops would, and forge."""
    state = copy.deepcopy({k: _persist._encode(v) for k, v in vars(fitted).items()})
    state.pop("segment_names_")
    change(state)
    forge(path, payload=sio.dumps(state))


def raw_zip(entries, *, count=None):
    """A zip built with struct: entries of (name, stored bytes, method, crc, size,
    flags); ``count`` overrides the member count written in the end record."""
    out, central = bytearray(), bytearray()
    for name, blob, method, crc, size, flags in entries:
        n = name.encode()
        offset = len(out)
        out += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            flags,
            method,
            0,
            0,
            crc,
            len(blob),
            size,
            len(n),
            0,
        )
        out += n + blob
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            flags,
            method,
            0,
            0,
            crc,
            len(blob),
            size,
            len(n),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += n
    k = len(entries) if count is None else count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, k, k, len(central), len(out), 0)
    return bytes(out + central + end)


def stored(name, data, *, method=0, flags=0):
    return (name, data, method, zlib.crc32(data), len(data), flags)


def bomb(mib, level=6):
    """A raw deflate stream of ``mib`` MiB of zeros, made in 1 MiB steps."""
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    zeros, parts, crc = bytes(1 << 20), [], 0
    for _ in range(mib):
        parts.append(comp.compress(zeros))
        crc = zlib.crc32(zeros, crc)
    parts.append(comp.flush())
    return b"".join(parts), crc


def manifest_bytes():
    return json.dumps({"format": _persist.FORMAT}).encode()


@pytest.fixture
def read_counter(monkeypatch):
    """Bytes returned by zipfile member reads, per member name."""
    counts = {}
    original = zipfile.ZipExtFile.read

    def read(self, n=-1):
        data = original(self, n)
        counts[self.name] = counts.get(self.name, 0) + len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    return counts


def refused(path, match, **kwargs):
    with pytest.raises(ModelFileError, match=match) as info:
        Segmenter.load(path, **kwargs)
    assert str(path) in str(info.value)
    return str(info.value)


# -- the payload is not a skops archive ------------------------------------------------
def test_pickle_payload(model):
    forge(model, payload=pickle.dumps({"n_clusters_": 3}))
    refused(model, r"payload is a Python pickle.*never loads pickles")


def test_random_payload(model):
    forge(model, payload=np.random.default_rng(0).bytes(4096))
    refused(model, r"segmenter\.skops\) is not a zip archive")


def test_empty_payload(model):
    forge(model, payload=b"")
    refused(model, r"payload is empty \(0 bytes\)")


def test_random_file(tmp_path):
    path = tmp_path / "m.payseg"
    path.write_bytes(np.random.default_rng(1).bytes(10_000))
    refused(path, "not a zip archive, so not a payseg model file")


@pytest.mark.parametrize(
    ("what", "match"),
    [
        ("missing", r"cannot read the model file \(No such file"),
        ("directory", "not a regular file"),
        ("fifo", "not a regular file"),  # reading a pipe would wait for ever
    ],
)
def test_unreadable_path(tmp_path, what, match):
    import os

    path = tmp_path / "m.payseg"
    if what == "directory":
        path.mkdir()
    elif what == "fifo":
        os.mkfifo(path)
    refused(path, match)


@pytest.mark.parametrize("trusted", [True, "mypkg.MyClusterer", [KMeans]])
def test_trusted_must_be_type_names(model, trusted):
    with pytest.raises(TypeError, match="trusted must be a list of type names"):
        Segmenter.load(model, trusted=trusted)


# -- the zip directories ---------------------------------------------------------------
@pytest.mark.parametrize("inner", [False, True], ids=["file", "payload"])
def test_encrypted_member(model, inner):
    if inner:
        items = members(members(model)[PAYLOAD])
        entries = [stored(n, d, flags=0x1) for n, d in items.items()]
        forge(model, payload=raw_zip(entries))
    else:
        items = members(model)
        model.write_bytes(
            raw_zip(
                [
                    stored(MANIFEST, items[MANIFEST], flags=0x1),
                    stored(PAYLOAD, items[PAYLOAD]),
                ]
            )
        )
    refused(model, r"member .* is encrypted; payseg model files are never")


@pytest.mark.parametrize("inner", [False, True], ids=["file", "payload"])
def test_unknown_compression(model, inner):
    if inner:
        items = members(members(model)[PAYLOAD])
        entries = [stored(n, d, method=99) for n, d in items.items()]
        forge(model, payload=raw_zip(entries))
    else:
        items = members(model)
        model.write_bytes(
            raw_zip(
                [
                    stored(MANIFEST, items[MANIFEST]),
                    stored(PAYLOAD, items[PAYLOAD], method=99),
                ]
            )
        )
    refused(model, r"compression method 99; payseg model files use only stored")


def test_duplicate_member(model):
    # the same name twice: zipfile would read the last copy, a check the first
    items = members(members(model)[PAYLOAD])
    entries = [stored(n, d) for n, d in items.items()]
    entries.append(stored(SCHEMA, b"{}"))
    forge(model, payload=raw_zip(entries))
    refused(model, r"lists the member\(s\) \['schema.json'\] more than once")


def test_too_many_members(model, monkeypatch):
    n = len(members(members(model)[PAYLOAD]))
    monkeypatch.setattr(_persist, "MAX_MEMBERS", n - 1)
    refused(model, rf"zip directory lists {n} members .* more than the {n - 1}")


def test_member_count_that_lies(model, monkeypatch):
    # the end record says 2 members, the directory holds every one: counted too
    items = members(members(model)[PAYLOAD])
    n = len(items)
    monkeypatch.setattr(_persist, "MAX_MEMBERS", n - 1)
    forge(model, payload=raw_zip([stored(k, v) for k, v in items.items()], count=2))
    refused(model, rf"the zip holds {n} members, more than the {n - 1}")


def test_other_members(tmp_path):
    path = tmp_path / "m.payseg"
    path.write_bytes(raw_zip([stored(MANIFEST, b"{}"), stored("other.txt", b"x")]))
    refused(path, r"not a payseg model file \(members \['manifest.json', 'other")


# -- sizes: declared, actual and compression ratio ---------------------------------------
def test_declared_size_over_the_limit_is_refused_before_reading(tmp_path, read_counter):
    data, crc = bomb(8)  # 8 MiB of zeros in about 8 KiB
    path = tmp_path / "m.payseg"
    path.write_bytes(
        raw_zip(
            [stored(MANIFEST, manifest_bytes()), (PAYLOAD, data, 8, crc, 8 << 20, 0)]
        )
    )
    assert path.stat().st_size < 64 << 10
    refused(
        path,
        r"member segmenter.skops declares 8 MiB, more than the 1 MiB",
        max_bytes=1 << 20,
    )
    assert read_counter.get(PAYLOAD, 0) == 0


def test_zip_bomb_ratio_refused_with_the_default_limit(tmp_path, read_counter):
    data, crc = bomb(72)
    path = tmp_path / "m.payseg"
    path.write_bytes(
        raw_zip(
            [stored(MANIFEST, manifest_bytes()), (PAYLOAD, data, 8, crc, 72 << 20, 0)]
        )
    )
    assert path.stat().st_size < 200 << 10
    refused(path, r"declares 72 MiB from .* compressed \(ratio .*\); a zip bomb")
    assert read_counter.get(PAYLOAD, 0) == 0


@pytest.mark.parametrize("crc_of", ["declared", "whole"])
def test_lying_header_cannot_inflate_past_its_declared_size(
    tmp_path, read_counter, crc_of, monkeypatch
):
    # the header declares 256 KiB; the deflate stream holds 8 MiB
    monkeypatch.setattr(_modelzip, "CHUNK_BYTES", 64 << 10)
    data, whole_crc = bomb(8)
    declared = 256 << 10
    crc = zlib.crc32(bytes(declared)) if crc_of == "declared" else whole_crc
    path = tmp_path / "m.payseg"
    path.write_bytes(
        raw_zip(
            [stored(MANIFEST, manifest_bytes()), (PAYLOAD, data, 8, crc, declared, 0)]
        )
    )
    # a CRC of the declared bytes reads them and stops; of the whole stream fails
    # at the declared size: never past it
    refused(
        path,
        r"Bad CRC-32 for file 'segmenter.skops'|manifest was modified",
        max_bytes=1 << 20,
    )
    assert read_counter.get(PAYLOAD, 0) <= declared
    if crc_of == "declared":
        assert read_counter[PAYLOAD] == declared


def test_payload_members_over_the_limit(model):
    # a deflated payload: its members inflate to more than the file's members
    inner = members(members(model)[PAYLOAD])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in inner.items():
            zf.writestr(name, data)
    forge(model, payload=buf.getvalue())
    outer = sum(len(v) for v in members(model).values())
    total = sum(len(v) for v in inner.values())
    assert total > outer + 1
    refused(
        model,
        r"segmenter.skops\): .*more than the .* a model file may inflate",
        max_bytes=outer + 1,
    )
    assert Segmenter.load(model, max_bytes=total).n_clusters_ == 3


@pytest.mark.parametrize("max_bytes", [0, -1, 1.5, True])
def test_bad_max_bytes(model, max_bytes):
    with pytest.raises(ValueError, match="max_bytes must be a positive int"):
        Segmenter.load(model, max_bytes=max_bytes)


# -- JSON nesting ----------------------------------------------------------------------
def reference_depth(text):
    """Nesting depth by walking the text one character at a time."""
    depth = best = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


def random_value(rng, depth):
    """A random JSON value nested exactly ``depth`` deep, with tricky strings."""
    pieces = ['"', "\\", "[", "]", "{", "}", "电", "\\\\", '\\"', ","]
    text = "".join(rng.choice(pieces, size=rng.integers(0, 8)))
    if depth == 0:
        return text if rng.random() < 0.7 else float(rng.random())
    inner = [random_value(rng, rng.integers(0, depth)) for _ in range(2)]
    inner.append(random_value(rng, depth - 1))
    return (
        inner if rng.random() < 0.5 else {text + str(i): v for i, v in enumerate(inner)}
    )


def test_json_depth_matches_the_structure_and_a_character_walk():
    rng = np.random.default_rng(0)
    for _ in range(150):
        depth = int(rng.integers(0, 9))
        text = json.dumps(
            random_value(rng, depth), ensure_ascii=bool(rng.random() < 0.5)
        )
        assert _modelzip.json_depth(text.encode()) == depth == reference_depth(text)
    for text in ['{"a": [1, {"b": "[[["}]}', '["\\\\", ["\\"[", [[]]]]', "", "[[["]:
        assert _modelzip.json_depth(text.encode()) == reference_depth(text), text


def test_deep_manifest(tmp_path):
    path = tmp_path / "m.payseg"
    deep = '{"format": "payseg.Segmenter", "x": ' + "[" * 200_000 + "]" * 200_000 + "}"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, deep)
        zf.writestr(PAYLOAD, b"")
    refused(path, r"manifest.json is nested 200,001 levels deep, more than the 100")


def test_deep_schema(model):
    def deepen(inner):
        inner[SCHEMA] = (
            b'{"protocol": 1, "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
        )

    edit_payload(model, deepen)
    refused(model, r"schema.json is nested 200,001 levels deep")


def test_deep_json_value_in_schema(model):
    def deepen(schema):
        nodes(schema, "JsonNode")[0]["content"] = "[" * 5_000 + "]" * 5_000

    edit_schema(model, deepen)
    refused(model, r"a value in schema.json is nested 5,000 levels deep")


# -- the skops schema and arrays -------------------------------------------------------
def test_missing_schema(model):
    edit_payload(model, lambda inner: inner.pop(SCHEMA))
    refused(model, r"payload has no schema.json .* not a skops archive")


def test_missing_array_member(model):
    def drop(inner):
        name = next(n for n in inner if n.endswith(".npy"))
        inner.pop(name)

    edit_payload(model, drop)
    refused(model, r"refers to the array member '.*\.npy', which the payload does not")


@pytest.mark.parametrize("protocol", [999, -1, "1", True, None])
def test_bad_protocol(model, protocol):
    edit_schema(model, lambda schema: schema.update(protocol=protocol))
    refused(
        model,
        rf"declares skops protocol {protocol!r}; this skops .* reads "
        r"protocols 0 to \d",
    )


def test_unknown_node_type(model):
    def evil(schema):
        nodes(schema, "JsonNode")[0]["__loader__"] = "EvilNode"

    edit_schema(model, evil)
    refused(model, r"skops .* cannot read the payload \(TypeError: .*EvilNode")


def test_array_header_that_lies_about_its_shape(model):
    def lie(inner):
        name = next(n for n in inner if n.endswith(".npy"))
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"shape": (10**12,), "fortran_order": False, "descr": "<f8"}
        )
        inner[name] = buf.getvalue() + bytes(80)

    edit_payload(model, lie)
    refused(model, r"declares shape \(1000000000000,\) of float64 .* but holds")


def test_object_array(model):
    def objects(inner):
        name = next(n for n in inner if n.endswith(".npy"))
        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        inner[name] = buf.getvalue()

    edit_payload(model, objects)
    refused(model, r"holds Python objects \(dtype object\)")


# -- the state loaded ------------------------------------------------------------------
def test_empty_state_fails_at_load(model, fitted):
    forge(model, payload=sio.dumps({}))
    message = refused(model, r"not a fitted Segmenter: it lacks \[")
    assert "preprocessor_" in message and "_backend" in message


def test_state_that_is_not_a_dict(model):
    forge(model, payload=sio.dumps([1, 2, 3]))
    refused(model, r"the saved state is a list, expected a dict")


def set_backend(state, **attrs):
    backend = state["_backend"]
    for k, v in attrs.items():
        setattr(backend, k, v)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: s.update(n_clusters="many"), r"parameters are invalid .*n_clusters"),
        (lambda s: s.update(k_range=(5, 2)), r"parameters are invalid .*k_range"),
        (
            lambda s: s.update(_backend=GMMBackend()),
            r"back-end is a GMMBackend, "
            r"method='kmeans' needs a KMeansBackend",
        ),
        (lambda s: s.update(_backend=np.zeros(3)), r"back-end is a ndarray"),
        (
            lambda s: set_backend(s, centers_=np.zeros((3, 7))),
            r"centers_ have 7 columns, the preprocessor gives 3",
        ),
        (lambda s: set_backend(s, centers_=np.zeros((2, 3))), r"centers_ are \(2, 3\)"),
        (
            lambda s: set_backend(s, centers_=np.full((3, 3), np.nan)),
            r"centers_ are \(3, 3\), expected finite",
        ),
        (
            lambda s: set_backend(s, segment_ids_=np.array([0, 0, 1])),
            r"segment_ids_ are not increasing",
        ),
        (
            lambda s: set_backend(s, temperature_=np.inf),
            r"temperature_ is not a finite",
        ),
        (lambda s: s.update(n_features_in_=2), r"_used_idx points outside the 2"),
        (lambda s: s.update(n_features_in_=0), r"n_features_in_ is 0"),
        (
            lambda s: s.update(feature_names_in_=np.array(["a", "b"], dtype=object)),
            r"feature_names_in_ does not hold 3 names",
        ),
        (
            lambda s: s.update(features_used_=np.array(["a", "c", "b"], dtype=object)),
            r"features_used_ are not the columns _used_idx selects",
        ),
        (lambda s: s.update(_used_idx=np.array([0, 1])), r"_used_idx does not give"),
        (lambda s: s.update(n_clusters_=4), r"n_clusters_=4 but 3 segment ids"),
        (
            lambda s: s.update(labels_=np.arange(90) % 5),
            r"labels_ hold segment ids "
            r"the model does not have: \[3, 4\]",
        ),
        (lambda s: s.update(labels_=np.zeros(90)), r"labels_ are not a non-empty"),
        (lambda s: s.update(profiles_=np.zeros(3)), r"profiles_ do not have one row"),
        (lambda s: s.update(k_reason_=3), r"k_reason_ is not text"),
        (
            lambda s: s.update(preprocessor_=GMMBackend()),
            r"preprocessor_ is a "
            r"GMMBackend, expected a scikit-learn Pipeline",
        ),
        (
            lambda s: set_backend(s, estimator_=None),
            r"cannot assign a customer "
            r"\(AttributeError",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_inconsistent_state_fails_at_load(model, fitted, change, match):
    forge_state(model, fitted, change)
    refused(model, match)


def test_manifest_that_describes_another_model(model):
    forge(model, edit=lambda m: m.update(n_clusters=5))
    refused(model, r"manifest's n_clusters \(5\) differs from the state's \(3\)")


@pytest.mark.parametrize(
    "names",
    [{"segment": [0]}, {"segment": [9], "columns": {"name_en": ["x"]}}, [1, 2]],
)
def test_bad_segment_names_in_manifest(model, names):
    forge(model, edit=lambda m: m.update(segment_names=names))
    refused(model, r"segment_names are not the table|names segments the model")


def test_a_model_where_every_customer_is_noise_loads(tmp_path):
    # no segment at all: empty segment ids and centres are consistent, not damage
    X = table()
    seg = Segmenter(method="hdbscan", method_params={"min_cluster_size": 80}).fit(X)
    assert seg.n_clusters_ == 0
    seg.save(tmp_path / "noise.payseg")
    back = Segmenter.load(tmp_path / "noise.payseg")
    assert (back.predict(X) == -1).all()


def test_a_good_file_still_round_trips(model, fitted):
    X = table(seed=1)
    back = Segmenter.load(model)
    pd.testing.assert_series_equal(back.predict(X), fitted.predict(X))
    # and a file re-forged without any change loads too: the forging is faithful
    forge(model)
    pd.testing.assert_series_equal(Segmenter.load(model).predict(X), fitted.predict(X))


# -- the command line ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["random", "empty_state"])
def test_cli_predict_on_a_bad_model_is_one_line_exit_2(tmp_path, model, kind):
    if kind == "random":
        model.write_bytes(np.random.default_rng(2).bytes(5000))
    else:
        # written by another payseg too: no version warning for a file that fails
        forge(
            model,
            payload=sio.dumps({}),
            edit=lambda m: m.update(payseg_version="0.0.1"),
        )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "payseg.cli",
            "predict",
            "--model",
            str(model),
            str(tmp_path / "payments.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("payseg: error: ") and str(model) in lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
