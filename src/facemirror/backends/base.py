"""Engines run one network on named numpy tensors; the registry picks a backend at run time.

A model class (RetinaFace, FaceMesh, MTL, ...) owns its pre- and
post-processing and describes the network it needs as a :class:`NetworkSource`
(an ONNX file, a CoreML package, a TFLite model, a function that builds a torch module). The
backend layer only turns that source into an :class:`Engine` and runs tensors.
Adding a backend is one module that subclasses :class:`Backend` and calls
:func:`register_backend`.
"""

from __future__ import annotations

import importlib
import logging
import os
import platform
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facemirror.errors import BackendUnavailable, NotApplicable
from facemirror.optional import available

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineInfo:
    """What actually ran a network: recorded in every result and provenance file."""

    backend: str  # "onnx" | "coreml" | "litert" | "torch" | ...
    provider: str  # e.g. "CPUExecutionProvider", "cpu", "cuda:0", "CPU_AND_NE", "XNNPACK"
    precision: str  # "fp32" | "fp16" | "int8"
    device: str  # "cpu" | "cuda" | "mps" | "ane" | ...
    model: str  # network name, e.g. "retinaface"
    source: str = ""  # file the engine loaded (for an ONNX exported on demand: the exported file)
    weights: str = ""  # the weight file the network's parameters came from (a .pth, or the ONNX itself)

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


class Engine(ABC):
    """One loaded network: named numpy inputs in, named numpy outputs out."""

    info: EngineInfo
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    #: why earlier backends in the preference list could not load (backend -> reason)
    fallbacks: dict[str, str]

    @abstractmethod
    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the network once; every output is returned as a numpy array."""

    def __repr__(self) -> str:
        i = self.info
        return f"<{type(self).__name__} {i.model} on {i.backend}/{i.provider} {i.precision}>"


@dataclass
class NetworkSource:
    """Everything a backend may load one network from; a model class fills in what it has.

    ``torch_module`` builds the ``torch.nn.Module`` (weights loaded) whose
    ``forward`` takes the inputs positionally in ``input_names`` order and
    returns a tuple in ``output_names`` order.

    The TFLite model is ``tflite_path`` itself, or its zip member
    ``tflite_member`` when ``tflite_path`` is a bundle (a MediaPipe ``.task``).
    TFLite tensor names are the converter's (``Identity_1``, ...), so
    ``tflite_names`` maps each of ``input_names``/``output_names`` whose TFLite
    name differs to that name.
    """

    name: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    onnx_path: Path | None = None
    coreml_path: Path | None = None
    torch_module: Callable[[], Any] | None = None
    #: ONNX file made on demand from the torch module when ``onnx_path`` is absent
    onnx_export: Callable[[], Path] | None = None
    tflite_path: Path | None = None
    tflite_member: str | None = None
    tflite_names: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


class Backend(ABC):
    """Turns a :class:`NetworkSource` into an :class:`Engine`, or says why it cannot."""

    name: str

    @abstractmethod
    def availability(self) -> str | None:
        """``None`` when this backend can run here, else the reason it cannot."""

    @abstractmethod
    def load(self, source: NetworkSource, **options: Any) -> Engine:
        """Load the network; raise :class:`BackendUnavailable` with the reason on failure."""

    def providers(self) -> list[str]:
        """Devices or execution providers this backend can use here, best first."""
        return []


def default_threads(sharing: int = 1) -> int:
    """Intra-op threads when none are asked for: ``FACEMIRROR_THREADS``, else the cores split between
    ``sharing`` engines that run at the same time."""
    env = os.environ.get("FACEMIRROR_THREADS")
    if env:
        return max(1, int(env))
    return max(1, (os.cpu_count() or 1) // max(1, sharing))


_REGISTRY: dict[str, Backend] = {}
#: the built-in backends' modules, imported on first use (each registers itself)
BUILTIN_MODULES = {
    "coreml": "facemirror.backends.coreml_engine",
    "litert": "facemirror.backends.litert_engine",
    "onnx": "facemirror.backends.onnx_engine",
    "torch": "facemirror.backends.torch_engine",
}


def register_backend(backend: Backend) -> Backend:
    """Add a backend to the registry under ``backend.name``."""
    _REGISTRY[backend.name] = backend
    return backend


def get_backend(name: str) -> Backend:
    """The registered backend called ``name``."""
    _ensure_builtin_backends()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise BackendUnavailable(
            f"unknown backend {name!r}; known: {', '.join(sorted(_REGISTRY))}",
            {name: "not registered"},
        ) from None


def registered_backends() -> list[str]:
    _ensure_builtin_backends()
    return list(_REGISTRY)


def default_preference() -> list[str]:
    """The order ``auto`` tries: LiteRT where installed, CoreML on macOS, then ONNX Runtime, then PyTorch.

    LiteRT only has the embedded face networks (their original TFLite, checked
    against ONNX Runtime in the tests on every platform), so they run there
    first; every other network goes to CoreML on a Mac. CoreML takes the face
    networks when LiteRT is absent (Intel Macs have no LiteRT wheel).
    """
    names = ["litert"] if available("ai_edge_litert") else []
    if platform.system() == "Darwin":
        names.append("coreml")
    return [*names, "onnx", "torch"]


def resolve_preference(preference: str | Sequence[str]) -> tuple[list[str], bool]:
    """Expand a preference into backend names; the flag says whether fallback is allowed."""
    if isinstance(preference, str):
        if preference == "auto":
            return default_preference(), True
        return [p.strip() for p in preference.split(",") if p.strip()], "," in preference
    names = list(preference)
    return names, len(names) > 1


def select_engine(source: NetworkSource, preference: str | Sequence[str] = "auto", **options: Any) -> Engine:
    """Load ``source`` on the first backend of ``preference`` that works.

    ``"auto"`` (or a list / comma-separated string of names) falls back through
    the list, keeping each reason in ``engine.fallbacks``. The fallback is a
    warning when a backend failed, an info line when the skipped ones only had
    no model for this network (:class:`NotApplicable`). A single explicit name
    that cannot load raises :class:`BackendUnavailable`.
    """
    names, allow_fallback = resolve_preference(preference)
    reasons: dict[str, str] = {}
    failed = False
    for name in names:
        try:
            backend = get_backend(name)
            why = backend.availability()
            if why is not None:
                raise BackendUnavailable(why, {name: why})
            engine = backend.load(source, **options)
        except BackendUnavailable as exc:
            reasons[name] = str(exc)
            failed = failed or not isinstance(exc, NotApplicable)
            if allow_fallback:
                log.info("backend %s cannot run %s: %s; trying the next one", name, source.name, exc)
            continue
        engine.fallbacks = dict(reasons)
        if reasons:
            log.log(
                logging.WARNING if failed else logging.INFO,
                "%s runs on %s (%s) after fallback: %s",
                source.name,
                engine.info.backend,
                engine.info.provider,
                "; ".join(f"{k}: {v}" for k, v in reasons.items()),
            )
        return engine
    detail = "; ".join(f"{k}: {v}" for k, v in reasons.items())
    raise BackendUnavailable(f"no backend could load {source.name} ({detail})", reasons)


def _ensure_builtin_backends() -> None:
    """Import the built-in backend modules not yet registered (each registers itself on import)."""
    for name, module in BUILTIN_MODULES.items():
        if name not in _REGISTRY:
            importlib.import_module(module)
