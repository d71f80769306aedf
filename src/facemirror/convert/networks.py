"""The OpenFace 3.0 networks the conversion scripts know: how to build each and which tensors it has.

Input/output names come from the model modules (the same names their ONNX
files and engines use); the example shape is what the export traces and the
fixed CoreML shape (fixed shapes are the Neural Engine's best case).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facemirror.errors import ConversionError


@dataclass(frozen=True)
class NetworkSpec:
    """One convertible network."""

    name: str
    net: str  # "module:Class" of the torch.nn.Module
    model: str  # module holding INPUT_NAMES / OUTPUT_NAMES
    example_shape: tuple[int, ...]
    dynamic_axes: Mapping[str, Mapping[int, str]]  # ONNX dynamic axes, by tensor name
    container_keys: tuple[str, ...] = ("state_dict",)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(importlib.import_module(self.model).INPUT_NAMES)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(importlib.import_module(self.model).OUTPUT_NAMES)

    def build(self, weights: str | Path) -> Any:
        """The torch module with ``weights`` loaded strictly (eval mode)."""
        from facemirror.models.checkpoint import load_module

        module_name, cls = self.net.split(":")
        module = getattr(importlib.import_module(module_name), cls)()
        return load_module(module, weights, container_keys=self.container_keys)


_BATCH = {0: "batch"}

NETWORKS: dict[str, NetworkSpec] = {
    spec.name: spec
    for spec in (
        NetworkSpec(
            "retinaface",
            "facemirror.models.nets.retinaface_net:RetinaFaceNet",
            "facemirror.models.retinaface",
            (1, 3, 640, 640),
            {"input": {0: "batch", 2: "height", 3: "width"}, "loc": _BATCH, "conf": _BATCH, "landms": _BATCH},
        ),
        NetworkSpec(
            "star",
            "facemirror.models.nets.star_net:StackedHGNetV1",
            "facemirror.models.star",
            (1, 3, 256, 256),
            {"input": _BATCH, "landmarks": _BATCH},
            container_keys=("net", "state_dict"),
        ),
        NetworkSpec(
            "mtl",
            "facemirror.models.nets.mtl_net:MTLNet",
            "facemirror.models.mtl",
            (1, 3, 224, 224),
            {"image": _BATCH, "emotion": _BATCH, "gaze": _BATCH, "au": _BATCH},
        ),
    )
}


def network(name: str) -> NetworkSpec:
    """The spec called ``name``, or a ConversionError listing the known ones."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise ConversionError(f"unknown network {name!r}; known: {', '.join(NETWORKS)}") from None
