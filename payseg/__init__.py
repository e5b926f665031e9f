"""payseg: segment utility customers by when and through which channel they pay."""

from ._version import __version__
from .data import PaymentData, load
from .exceptions import ModelFileError, PaymentDataError

# Heavier sub-packages load on first use, so `import payseg` stays fast.
_LAZY = {
    "build_features": ("payseg.features", "build_features"),
    "Segmenter": ("payseg.cluster", "Segmenter"),
    "segment": ("payseg._pipeline", "segment"),
    "SegmentationResult": ("payseg._pipeline", "SegmentationResult"),
    "window_features": ("payseg._pipeline", "window_features"),
    "calendar": ("payseg.calendar", None),
    "channels": ("payseg.channels", None),
    "cluster": ("payseg.cluster", None),
    "evaluate": ("payseg.evaluate", None),
    "features": ("payseg.features", None),
    "labels": ("payseg.labels", None),
    "plot": ("payseg.plot", None),
    "report": ("payseg.report", None),
    "scale": ("payseg.scale", None),
    "synth": ("payseg.synth", None),
}

__all__ = [  # noqa: F822 - lazy names resolve through __getattr__
    "ModelFileError",
    "PaymentData",
    "PaymentDataError",
    "SegmentationResult",
    "Segmenter",
    "__version__",
    "build_features",
    "calendar",
    "channels",
    "cluster",
    "evaluate",
    "exceptions",
    "features",
    "labels",
    "load",
    "plot",
    "report",
    "scale",
    "segment",
    "synth",
    "window_features",
]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'payseg' has no attribute {name!r}")
    import importlib

    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__():
    return __all__
