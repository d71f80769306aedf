"""Import optional heavy dependencies with an error that names the pip extra to install."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from facemirror.errors import MissingExtraError

#: module -> the facemirror extra that installs it
EXTRAS = {
    "torch": "torch",
    "coremltools": "coreml",
    "mediapipe": "mediapipe",
    "ray": "ray",
    "pillow_heif": "heic",
    "matplotlib": "report",
    "onnx": "torch",
    "onnxconverter_common": "torch",
}


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` saying which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(module, EXTRAS.get(module, module), purpose) from None


def available(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it twice."""
    return importlib.util.find_spec(module) is not None
