"""Pure CoreML backend (coremltools ``MLModel``); it can only run predictions on macOS."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.backends.base import Backend, Engine, EngineInfo, NetworkSource, register_backend
from facemirror.errors import BackendUnavailable, NotApplicable
from facemirror.optional import available

COMPUTE_UNITS = ("ALL", "CPU_AND_NE", "CPU_AND_GPU", "CPU_ONLY")


class CoreMLEngine(Engine):
    def __init__(self, model: Any, source: NetworkSource, path: Path, compute_units: str) -> None:
        self.model = model
        spec = model.get_spec()
        self.input_names = tuple(i.name for i in spec.description.input)
        self.output_names = tuple(o.name for o in spec.description.output)
        self.info = EngineInfo(
            backend="coreml",
            provider=compute_units,
            # the package records its own precision (convert.coreml.export_coreml writes it)
            precision=str(
                source.extra.get("precision", spec.description.metadata.userDefined.get("facemirror.precision", "fp16"))
            ),
            device="ane" if "NE" in compute_units or compute_units == "ALL" else "cpu",
            model=source.name,
            source=str(path),
            weights=str(source.extra.get("weights", path)),
        )
        self.fallbacks = {}

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {n: np.asarray(inputs[n], dtype=np.float32) for n in self.input_names}
        outs = self.model.predict(feed)
        return {n: np.asarray(outs[n], dtype=np.float32) for n in self.output_names}


class CoreMLBackend(Backend):
    name = "coreml"

    def availability(self) -> str | None:
        if platform.system() != "Darwin":
            return f"CoreML runs predictions only on macOS (this is {platform.system()})"
        if not available("coremltools"):
            return "coremltools is not installed (pip install 'facemirror[coreml]')"
        return None

    def providers(self) -> list[str]:
        return list(COMPUTE_UNITS) if self.availability() is None else []

    def load(self, source: NetworkSource, *, compute_units: str = "ALL", **_: Any) -> Engine:
        if source.coreml_path is None:
            raise NotApplicable(
                f"no CoreML package for {source.name} (convert one with the conversion/ scripts)",
                {"coreml": "no .mlpackage"},
            )
        if not Path(source.coreml_path).exists():
            raise BackendUnavailable(f"CoreML package {source.coreml_path} does not exist", {"coreml": "missing"})
        import coremltools as ct

        try:
            model = ct.models.MLModel(str(source.coreml_path), compute_units=getattr(ct.ComputeUnit, compute_units))
        except Exception as exc:  # coremltools raises untyped errors
            raise BackendUnavailable(
                f"CoreML could not load {source.coreml_path}: {exc}", {"coreml": str(exc)}
            ) from exc
        return CoreMLEngine(model, source, Path(source.coreml_path), compute_units)


register_backend(CoreMLBackend())
