"""LiteRT (TFLite) backend: runs a network's original ``.tflite`` on the CPU through XNNPACK.

MediaPipe's face networks ship as TFLite (members of ``face_landmarker.task``);
LiteRT runs them about twice as fast as ONNX Runtime runs their ONNX
conversions on a CPU. The TFLite models have batch 1, so a batch of N is run
as N invocations (``resize_tensor_input`` to N gives the same numbers but was
no faster, and re-plans the graph whenever N changes).
"""

from __future__ import annotations

import os
import sys
import threading
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from facemirror.backends.base import Backend, Engine, EngineInfo, NetworkSource, default_threads, register_backend
from facemirror.errors import BackendUnavailable, NotApplicable
from facemirror.optional import available


class LiteRTEngine(Engine):
    """One TFLite interpreter; tensors are exchanged under the source's names (``NetworkSource.tflite_names``)."""

    def __init__(self, interpreter: Any, source: NetworkSource, origin: str, threads: int) -> None:
        self.interpreter = interpreter
        self.input_names = source.input_names
        self.output_names = source.output_names
        self._inputs = _match(interpreter.get_input_details(), source.input_names, source, origin, "input")
        self._outputs = _match(interpreter.get_output_details(), source.output_names, source, origin, "output")
        self._lock = threading.Lock()  # an interpreter holds its tensors: one call at a time
        self.threads = threads
        self.info = EngineInfo(
            backend="litert",
            provider="XNNPACK",
            precision="fp32",
            device="cpu",
            model=source.name,
            source=origin,
            weights=str(source.tflite_path),
        )
        self.fallbacks = {}

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        arrays = {n: np.asarray(inputs[n], dtype=np.float32) for n in self.input_names}
        batch = len(arrays[self.input_names[0]])
        parts: dict[str, list[np.ndarray]] = {n: [] for n in self.output_names}
        with self._lock:
            for k in range(batch):
                for name, detail in self._inputs.items():
                    self.interpreter.set_tensor(detail["index"], arrays[name][k : k + 1])
                self.interpreter.invoke()
                for name, detail in self._outputs.items():
                    parts[name].append(self.interpreter.get_tensor(detail["index"]))
        if batch == 1:
            return {n: p[0] for n, p in parts.items()}
        # outputs with a leading batch-1 axis are concatenated; unbatched ones (blendshapes' (52,)) are stacked
        return {n: np.concatenate(p) if _batched(self._outputs[n]) else np.stack(p) for n, p in parts.items()}


def _batched(detail: dict[str, Any]) -> bool:
    """Whether a TFLite tensor has a leading batch axis of 1 (blendshapes' ``(52,)`` output has none)."""
    shape = detail["shape"]
    return len(shape) > 1 and shape[0] == 1


def _match(
    details: list[dict[str, Any]], names: tuple[str, ...], source: NetworkSource, origin: str, kind: str
) -> dict[str, dict[str, Any]]:
    """facemirror tensor name -> the TFLite tensor's details, through ``source.tflite_names``; every one must exist."""
    by_name = {d["name"]: d for d in details}
    wanted = {n: source.tflite_names.get(n, n) for n in names}
    missing = [f"{n} (TFLite {t!r})" for n, t in wanted.items() if t not in by_name]
    if missing or len(details) != len(names):
        raise BackendUnavailable(
            f"{origin}: the TFLite {kind}s {sorted(by_name)} do not match {source.name}'s {list(names)}"
            + (f"; missing {', '.join(missing)}" if missing else ""),
            {"litert": f"{kind} names do not match"},
        )
    return {n: by_name[t] for n, t in wanted.items()}


_first_allocation = threading.Lock()
_announced = False


def _allocate(interpreter: Any) -> None:
    """``allocate_tensors``, the process's first one with file descriptor 2 muted.

    LiteRT then writes "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." straight to stderr (once per
    process; neither an API nor TF_CPP_MIN_LOG_LEVEL turns it off), which would break the CLI's one-line errors.
    """
    global _announced
    with _first_allocation:
        if _announced:
            interpreter.allocate_tensors()
            return
        _announced = True
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no stderr to keep clean
            interpreter.allocate_tensors()
            return
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
            interpreter.allocate_tensors()
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _model_bytes(source: NetworkSource) -> tuple[bytes, str]:
    """The TFLite flatbuffer and where it came from (``file`` or ``bundle:member``)."""
    path = source.tflite_path
    if path is None:
        raise NotApplicable(f"no TFLite model for {source.name}", {"litert": "no TFLite model"})
    if not path.is_file():
        raise BackendUnavailable(f"TFLite model {path} does not exist", {"litert": "missing file"})
    if source.tflite_member is None:
        return path.read_bytes(), str(path)
    origin = f"{path}:{source.tflite_member}"
    try:
        with zipfile.ZipFile(path) as bundle:
            return bundle.read(source.tflite_member), origin
    except zipfile.BadZipFile:
        raise BackendUnavailable(f"{path} is not a zip bundle (MediaPipe .task)", {"litert": "not a zip"}) from None
    except KeyError:
        raise BackendUnavailable(f"{path} has no member {source.tflite_member}", {"litert": "member missing"}) from None


class LiteRTBackend(Backend):
    name = "litert"

    def availability(self) -> str | None:
        if not available("ai_edge_litert"):
            return (
                "ai-edge-litert is not installed (a facemirror dependency wherever LiteRT has a wheel; "
                "there is none for Intel macOS): pip install ai-edge-litert"
            )
        return None

    def providers(self) -> list[str]:
        return ["XNNPACK"] if self.availability() is None else []

    def load(self, source: NetworkSource, *, threads: int | None = None, **_: Any) -> Engine:
        content, origin = _model_bytes(source)
        why = self.availability()
        if why is not None:
            raise BackendUnavailable(why, {"litert": why})
        from ai_edge_litert.interpreter import Interpreter

        count = threads or default_threads()
        try:
            # the AUTO op resolver applies LiteRT's default delegate, XNNPACK
            interpreter = Interpreter(model_content=content, num_threads=count)
            _allocate(interpreter)
        except (ValueError, RuntimeError) as exc:
            raise BackendUnavailable(f"LiteRT could not load {origin}: {exc}", {"litert": str(exc)}) from exc
        return LiteRTEngine(interpreter, source, origin, count)


register_backend(LiteRTBackend())
