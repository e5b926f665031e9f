"""Docstrings tell the truth about defaults: ``name : type, default=X`` matches the code."""

from __future__ import annotations

import importlib
import inspect
import re

import numpy as np
import pytest

PUBLIC = [
    "payseg",
    "payseg.features",
    "payseg.cluster",
    "payseg.labels",
    "payseg.plot",
    "payseg.report",
    "payseg.synth",
    "payseg.scale",
    "payseg.channels",
    "payseg.calendar",
    "payseg.evaluate",
]
_DEFAULT = re.compile(r"^\s*(\w+)\s*:\s*.*?\bdefault[=: ]\s*(.+?)\s*$")


def _callables():
    for module_name in PUBLIC:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                yield f"{module_name}.{name}", obj, obj.__init__
                for meth_name, meth in inspect.getmembers(obj, inspect.isfunction):
                    if not meth_name.startswith("_") and meth.__module__.startswith(
                        "payseg"
                    ):
                        yield f"{module_name}.{name}.{meth_name}", meth, meth
            elif callable(obj) and getattr(obj, "__module__", "").startswith("payseg"):
                yield f"{module_name}.{name}", obj, obj


def _documented_defaults():
    for label, doc_owner, function in _callables():
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            continue
        for line in (inspect.getdoc(doc_owner) or "").splitlines():
            match = _DEFAULT.match(line)
            if match and match.group(1) in signature.parameters:
                yield (
                    label,
                    match.group(1),
                    match.group(2).rstrip("."),
                    signature,
                    function,
                )


CASES = sorted({(label, p, d) for label, p, d, _, _ in _documented_defaults()})
SIGNATURES = {(label, p): (sig, f) for label, p, _, sig, f in _documented_defaults()}
_ROLE = re.compile(r"^:\w+:`~?([\w.]+)`$")  # default=:data:`VIP_TIERS`


def test_some_defaults_are_documented():
    # guards the parser: if it stopped matching, the test below would check nothing
    assert len(CASES) > 30


@pytest.mark.parametrize("label, param, documented", CASES)
def test_documented_default_is_the_real_one(label, param, documented):
    signature, function = SIGNATURES[(label, param)]
    actual = signature.parameters[param].default
    assert actual is not inspect.Parameter.empty, f"{label}: {param} has no default"
    role = _ROLE.match(documented)
    if role:  # a documented constant: the default must be that very object
        name = role.group(1).rsplit(".", 1)[-1]
        assert function.__globals__.get(name) is actual, (
            f"{label}: docstring says {param} default={documented}, code has {actual!r}"
        )
        return
    try:
        value = eval(documented, {"np": np, "inf": float("inf")})  # noqa: S307 - our docs
    except Exception:
        value = documented.strip("\"'`")
    assert value == actual or str(value) == str(actual) or repr(actual) == documented, (
        f"{label}: docstring says {param} default={documented}, code has {actual!r}"
    )
