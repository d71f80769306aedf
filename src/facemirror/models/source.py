"""Describe a checkpoint-backed network as a :class:`NetworkSource` for the backends.

An ``.onnx`` path is loaded as it is. A PyTorch checkpoint is loaded strictly
into its ``torch.nn`` module for the torch backend, and exported once to a
cached ONNX file (``facemirror.convert.cached_onnx``) for the onnx backend.
Shared by the OpenFace 3.0 models (RetinaFace, STAR, MTL).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.backends.base import NetworkSource
from facemirror.optional import require


def weights_path(name: str, path: str | Path | None) -> Path:
    """``path`` as given, or the verified manifest file for ``name`` when ``path`` is None."""
    if path is not None:
        return Path(path).expanduser()
    from facemirror.weights import resolve

    return resolve(name)


def bundled_coreml(name: str) -> Path | None:
    """The shipped CoreML package made from the shipped weights ``name`` (entry ``<name>_coreml``); None if absent.

    Lets the coreml backend run e.g. ``face_landmarks`` without converting
    anything. The package is verified: a present but altered one raises
    WeightsCorruptError (a damaged installation).
    """
    from facemirror.weights import load_manifest, resolve
    from facemirror.weights.store import find

    entry = f"{name}_coreml"
    if entry not in load_manifest() or find(entry) is None:
        return None
    return resolve(entry)


def checkpoint_source(
    name: str,
    path: Path,
    network: str,
    *,
    input_names: Sequence[str],
    output_names: Sequence[str],
    example_inputs: Callable[[], tuple[np.ndarray, ...]],
    dynamic_axes: Mapping[str, Mapping[int, str]],
    container_keys: Sequence[str] = ("state_dict",),
    precision: str = "fp32",
) -> NetworkSource:
    """A source for ``path``: ONNX or a CoreML package as is, or a checkpoint loaded into ``network``
    (and exported to ONNX on demand).

    ``network`` names the ``torch.nn.Module`` class as ``"package.module:Class"``;
    it is imported only when the checkpoint is loaded, so running a cached ONNX
    never imports torch (hundreds of MB). ``example_inputs`` makes the tensors the
    ONNX export traces (only called when an export is needed).
    """
    inputs, outputs = tuple(input_names), tuple(output_names)
    extra: dict[str, Any] = {"weights": str(path), "precision": precision}
    if path.suffix.lower() == ".onnx":
        return NetworkSource(name, inputs, outputs, onnx_path=path, extra=extra)
    if path.suffix.lower() == ".mlpackage":  # made by conversion/export_coreml.py, for the coreml backend
        return NetworkSource(name, inputs, outputs, coreml_path=path, extra={"weights": str(path)})

    def torch_module() -> Any:
        from facemirror.models.checkpoint import load_module

        require("torch", f"Loading the PyTorch checkpoint {path}")
        module_name, _, class_name = network.partition(":")
        build = getattr(importlib.import_module(module_name), class_name)
        return load_module(build(), path, container_keys=container_keys)

    def onnx_export() -> Path:
        from facemirror.convert.cache import cached_onnx

        return cached_onnx(
            name, path, torch_module, example_inputs(), inputs, outputs, dynamic_axes, precision=precision
        )

    return NetworkSource(name, inputs, outputs, torch_module=torch_module, onnx_export=onnx_export, extra=extra)
