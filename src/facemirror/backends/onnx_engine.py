"""ONNX Runtime backend: CoreML on macOS, CUDA where present, else CPU execution provider."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.backends.base import Backend, Engine, EngineInfo, NetworkSource, default_threads, register_backend
from facemirror.errors import BackendUnavailable

#: execution providers in the order ``auto`` prefers them
PROVIDER_PREFERENCE = ("CoreMLExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
_DEVICE = {"CoreMLExecutionProvider": "ane", "CUDAExecutionProvider": "cuda", "CPUExecutionProvider": "cpu"}


class OnnxEngine(Engine):
    def __init__(self, session: Any, source: NetworkSource, path: Path) -> None:
        self.session = session
        self.input_names = tuple(i.name for i in session.get_inputs())
        self.output_names = tuple(o.name for o in session.get_outputs())
        provider = session.get_providers()[0]
        fp16 = any(i.type == "tensor(float16)" for i in session.get_inputs())
        self.info = EngineInfo(
            backend="onnx",
            provider=provider,
            precision="fp16" if fp16 else str(source.extra.get("precision", "fp32")),
            device=_DEVICE.get(provider, provider),
            model=source.name,
            source=str(path),
            weights=str(source.extra.get("weights", path)),
        )
        self._input_types = {i.name: i.type for i in session.get_inputs()}
        self.fallbacks = {}

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {}
        for name in self.input_names:
            arr = np.asarray(inputs[name])
            if self._input_types[name] == "tensor(float16)":
                arr = arr.astype(np.float16)
            elif self._input_types[name] == "tensor(float)" and arr.dtype != np.float32:
                arr = arr.astype(np.float32)
            feed[name] = arr
        outs = self.session.run(None, feed)
        return {
            n: np.asarray(o, dtype=np.float32) if o.dtype == np.float16 else o for n, o in zip(self.output_names, outs)
        }


class OnnxBackend(Backend):
    name = "onnx"

    def availability(self) -> str | None:
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:  # pragma: no cover - onnxruntime is a core dependency
            return f"onnxruntime is not importable ({exc})"
        return None

    def providers(self) -> list[str]:
        import onnxruntime as ort

        have = set(ort.get_available_providers())
        return [p for p in PROVIDER_PREFERENCE if p in have]

    def load(
        self,
        source: NetworkSource,
        *,
        provider: str | None = None,
        threads: int | None = None,
        **_: Any,
    ) -> Engine:
        import onnxruntime as ort

        path = source.onnx_path
        if path is None and source.onnx_export is not None:
            path = source.onnx_export()
        if path is None:
            raise BackendUnavailable(f"no ONNX file for {source.name}", {"onnx": "no ONNX file"})
        if not Path(path).is_file():
            raise BackendUnavailable(f"ONNX file {path} does not exist", {"onnx": "missing file"})
        available = self.providers()
        if provider is not None:
            if provider not in available:
                raise BackendUnavailable(
                    f"execution provider {provider} is not available here (have: {', '.join(available)})",
                    {"onnx": f"{provider} unavailable"},
                )
            chosen = [provider]
        else:
            chosen = available
        if "CPUExecutionProvider" not in chosen:
            chosen = [*chosen, "CPUExecutionProvider"]
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # Idle intra-op threads spin by default, burning the cores the decode and encode threads need.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(path), sess_options=opts, providers=chosen)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BackendUnavailable(f"onnxruntime could not load {path}: {exc}", {"onnx": str(exc)}) from exc
        return OnnxEngine(session, source, Path(path))


register_backend(OnnxBackend())
