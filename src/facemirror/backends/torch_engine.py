"""PyTorch backend: runs a model's ``torch.nn.Module`` on CPU, CUDA or Apple MPS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from facemirror.backends.base import Backend, Engine, EngineInfo, NetworkSource, register_backend
from facemirror.errors import BackendUnavailable
from facemirror.optional import available


class TorchEngine(Engine):
    def __init__(self, module: Any, source: NetworkSource, device: str, precision: str) -> None:
        import torch

        self._torch = torch
        self.device = torch.device(device)
        self.dtype = torch.float16 if precision == "fp16" else torch.float32
        self.module = module.to(self.device, self.dtype).eval()
        self.input_names = source.input_names
        self.output_names = source.output_names
        self.info = EngineInfo(
            backend="torch",
            provider=str(self.device),
            precision=precision,
            device=self.device.type,
            model=source.name,
            source=str(source.extra.get("weights", "")),
            weights=str(source.extra.get("weights", "")),
        )
        self.fallbacks = {}

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self._torch
        args = []
        for name in self.input_names:
            t = torch.from_numpy(np.ascontiguousarray(inputs[name])).to(self.device)
            if t.is_floating_point():
                t = t.to(self.dtype)
            args.append(t)
        with torch.inference_mode():
            outs = self.module(*args)
        if isinstance(outs, torch.Tensor):
            outs = (outs,)
        return {
            n: o.detach().to("cpu", torch.float32).numpy() if o.is_floating_point() else o.cpu().numpy()
            for n, o in zip(self.output_names, outs)
        }


class TorchBackend(Backend):
    name = "torch"

    def availability(self) -> str | None:
        if not available("torch"):
            return "PyTorch is not installed (pip install 'facemirror[torch]')"
        return None

    def providers(self) -> list[str]:
        import torch

        devices = []
        if torch.cuda.is_available():
            devices.append("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            devices.append("mps")
        devices.append("cpu")
        return devices

    def load(
        self,
        source: NetworkSource,
        *,
        device: str | None = None,
        precision: str = "fp32",
        threads: int | None = None,
        **_: Any,
    ) -> Engine:
        if source.torch_module is None:
            raise BackendUnavailable(f"{source.name} has no PyTorch implementation", {"torch": "no torch module"})
        import torch

        if threads:
            torch.set_num_threads(threads)
        device = device or self.providers()[0]
        if device.split(":")[0] not in self.providers():
            raise BackendUnavailable(f"torch device {device} is not available here", {"torch": f"no {device}"})
        return TorchEngine(source.torch_module(), source, device, precision)


register_backend(TorchBackend())
