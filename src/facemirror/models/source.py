"""How a checkpoint-backed network is described once (:class:`NetworkSpec`) and turned into a :class:`NetworkSource`.

Each OpenFace 3.0 model class (RetinaFace, STAR, MTL) carries one
``NetworkSpec`` as its ``network`` attribute: the torch module that holds its
weights, its tensor names, the example input an export traces, its dynamic
axes and the checkpoint container. ``from_weights`` and the conversion tools
(``facemirror.convert``, ``conversion/``) both read it, so they cannot drift.
An ``.onnx`` path is loaded as it is; a PyTorch checkpoint is loaded strictly
into its module for the torch backend and exported once to a cached ONNX
file (``facemirror.convert.cached_onnx``) for the onnx backend.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class NetworkSpec:
    """One checkpoint-backed network, described once.

    ``net`` names the ``torch.nn.Module`` class as ``"package.module:Class"``
    (imported only when a checkpoint is loaded, so running a cached ONNX never
    imports torch); ``example_shape`` is the input an ONNX export traces and the
    fixed shape of a CoreML conversion; ``container_keys`` are the checkpoint
    keys that may wrap the state dict. Accepted weight files: a PyTorch
    checkpoint, an ``.onnx`` file, or a CoreML ``.mlpackage`` made by
    ``conversion/export_coreml.py``.
    """

    name: str
    net: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    example_shape: tuple[int, ...]
    dynamic_axes: Mapping[str, Mapping[int, str]]
    container_keys: tuple[str, ...] = ("state_dict",)

    def example_inputs(self) -> tuple[np.ndarray, ...]:
        """Zeros of ``example_shape``: what an export traces."""
        return (np.zeros(self.example_shape, np.float32),)

    def build(self, weights: str | Path) -> Any:
        """The torch module with ``weights`` loaded strictly (eval mode); needs the ``torch`` extra."""
        from facemirror.models.checkpoint import load_module

        require("torch", f"Loading the PyTorch checkpoint {weights}")
        module_name, _, class_name = self.net.partition(":")
        module = getattr(importlib.import_module(module_name), class_name)()
        return load_module(module, weights, container_keys=self.container_keys)

    def source(self, path: Path, precision: str = "fp32") -> NetworkSource:
        """A source for the weights at ``path``: ONNX or a CoreML package as is, or a checkpoint (ONNX on demand)."""
        inputs, outputs = self.input_names, self.output_names
        extra: dict[str, Any] = {"weights": str(path), "precision": precision}
        if path.suffix.lower() == ".onnx":
            return NetworkSource(self.name, inputs, outputs, onnx_path=path, extra=extra)
        if path.suffix.lower() == ".mlpackage":
            return NetworkSource(self.name, inputs, outputs, coreml_path=path, extra={"weights": str(path)})

        def torch_module() -> Any:
            return self.build(path)

        def onnx_export() -> Path:
            from facemirror.convert.cache import cached_onnx

            return cached_onnx(
                self.name,
                path,
                torch_module,
                self.example_inputs(),
                inputs,
                outputs,
                self.dynamic_axes,
                precision=precision,
            )

        return NetworkSource(
            self.name, inputs, outputs, torch_module=torch_module, onnx_export=onnx_export, extra=extra
        )
