"""Rebuild a small ONNX graph as a ``torch.nn.Module``, for the MediaPipe face networks' CoreML conversion.

coremltools 9 converts PyTorch but no longer ONNX, and onnx2torch imports
torchvision at import time (which cannot be installed beside this torch). The
three shipped Face Landmarker graphs use only the ops in ``OPS``; the module
runs their nodes in order with the equivalent torch functions, so
``torch.jit.trace`` records a graph that coremltools converts. Integer
initializers (shapes, pads, axes) become Python constants; float ones become
buffers. An op or attribute outside this subset raises ``NotImplementedError``
naming it, so a changed graph fails loudly instead of converting wrongly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

Tensor = torch.Tensor
Attrs = dict[str, Any]
_INT_MAX = 2**31 - 1


def _pairs(pads: Sequence[int]) -> tuple[int, ...]:
    """ONNX pads (all begins, then all ends, outermost axis first) -> ``F.pad`` order (innermost axis first)."""
    rank = len(pads) // 2
    out: list[int] = []
    for axis in reversed(range(rank)):
        out += [int(pads[axis]), int(pads[axis + rank])]
    return tuple(out)


def _conv(attrs: Attrs, x: Tensor, w: Tensor, b: Tensor | None = None) -> Tensor:
    if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError(f"Conv auto_pad={attrs['auto_pad']!r}")
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    stride, dilation, groups = attrs.get("strides", [1, 1]), attrs.get("dilations", [1, 1]), attrs.get("group", 1)
    if pads[:2] == pads[2:]:
        return F.conv2d(x, w, b, stride, pads[:2], dilation, groups)
    return F.conv2d(F.pad(x, _pairs(pads)), w, b, stride, 0, dilation, groups)  # TF "SAME": more at the end


def _max_pool(attrs: Attrs, x: Tensor) -> Tensor:
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if any(pads) or attrs.get("ceil_mode", 0) or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError(f"MaxPool with {attrs}")
    return F.max_pool2d(x, attrs["kernel_shape"], attrs.get("strides", attrs["kernel_shape"]))


def _pad(attrs: Attrs, x: Tensor, pads: list[int], value: Tensor | None = None) -> Tensor:
    if attrs.get("mode", b"constant") not in (b"constant", "constant"):
        raise NotImplementedError(f"Pad mode {attrs['mode']!r}")
    return F.pad(x, _pairs(pads), value=0.0 if value is None else float(value))


def _reshape(attrs: Attrs, x: Tensor, shape: list[int]) -> Tensor:
    if attrs.get("allowzero", 0):
        raise NotImplementedError("Reshape allowzero=1")
    return x.reshape([x.shape[i] if d == 0 else d for i, d in enumerate(shape)])


def _slice(
    attrs: Attrs, x: Tensor, starts: list[int], ends: list[int], axes: list[int] | None = None, steps: Any = None
) -> Tensor:
    if steps is not None and any(s != 1 for s in steps):
        raise NotImplementedError(f"Slice steps {steps}")
    index: list[slice] = [slice(None)] * x.dim()
    for start, end, axis in zip(starts, ends, axes if axes is not None else range(len(starts))):
        index[axis] = slice(start, None if end >= _INT_MAX else end)
    return x[tuple(index)]


def _reduce(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """ReduceMean (axes attribute in opset 17) and ReduceSum (axes input since opset 13)."""

    def run(attrs: Attrs, x: Tensor, axes: list[int] | None = None) -> Tensor:
        axes = axes if axes is not None else attrs.get("axes")
        if not axes:
            raise NotImplementedError("reduction over all axes")
        return fn(x, dim=list(axes), keepdim=bool(attrs.get("keepdims", 1)))

    return run


#: ONNX op -> f(attributes, *inputs); integer initializer inputs arrive as Python lists
OPS: dict[str, Callable[..., Tensor]] = {
    "Conv": _conv,
    "MaxPool": _max_pool,
    "Pad": _pad,
    "Reshape": _reshape,
    "Slice": _slice,
    "Transpose": lambda a, x: x.permute(list(a["perm"])),
    "Concat": lambda a, *xs: torch.cat(xs, dim=a["axis"]),
    "Squeeze": lambda a, x, axes: x.squeeze(list(axes)) if len(axes) > 1 else x.squeeze(axes[0]),
    "Relu": lambda a, x: F.relu(x),
    "Sigmoid": lambda a, x: torch.sigmoid(x),
    "Sqrt": lambda a, x: torch.sqrt(x),
    "Neg": lambda a, x: -x,
    "Reciprocal": lambda a, x: torch.reciprocal(x),
    "Add": lambda a, x, y: x + y,
    "Sub": lambda a, x, y: x - y,
    "Mul": lambda a, x, y: x * y,
    "Div": lambda a, x, y: x / y,
    "Min": lambda a, x, y: torch.minimum(x, y),
    "ReduceMean": _reduce(torch.mean),
    "ReduceSum": _reduce(torch.sum),
}


class OnnxGraphModule(torch.nn.Module):
    """A torch module that computes an ONNX graph node by node; ``forward(*inputs)`` returns the outputs in order."""

    def __init__(self, model: onnx.ModelProto) -> None:
        super().__init__()
        graph = model.graph
        unknown = sorted({n.op_type for n in graph.node} - set(OPS))
        if unknown:
            raise NotImplementedError(f"ONNX ops not supported by this builder: {', '.join(unknown)}")
        several = sorted({n.op_type for n in graph.node if len(n.output) != 1})
        if several:
            raise NotImplementedError(f"ONNX nodes with more than one output: {', '.join(several)}")
        self.constants: dict[str, list[int]] = {}
        self.buffer_names: dict[str, str] = {}
        for i, init in enumerate(graph.initializer):
            array = numpy_helper.to_array(init)
            if np.issubdtype(array.dtype, np.integer):
                self.constants[init.name] = [int(v) for v in array.reshape(-1)]
            else:
                self.buffer_names[init.name] = f"w{i}"
                self.register_buffer(f"w{i}", torch.from_numpy(array.astype(np.float32).copy()))
        self.nodes = [
            (n.op_type, {a.name: helper.get_attribute_value(a) for a in n.attribute}, list(n.input), list(n.output))
            for n in graph.node
        ]
        self.input_names = [
            i.name for i in graph.input if i.name not in self.constants and i.name not in self.buffer_names
        ]
        self.output_names = [o.name for o in graph.output]

    def _value(self, env: dict[str, Any], name: str) -> Any:
        if name == "":
            return None
        if name in self.constants:
            return self.constants[name]
        if name in self.buffer_names:
            return getattr(self, self.buffer_names[name])
        return env[name]

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        env: dict[str, Any] = dict(zip(self.input_names, inputs))
        for op, attrs, names, outputs in self.nodes:
            env[outputs[0]] = OPS[op](attrs, *(self._value(env, n) for n in names))
        return tuple(env[n] for n in self.output_names)


def load_onnx_module(path: str) -> OnnxGraphModule:
    """The ONNX file at ``path`` as an eval-mode :class:`OnnxGraphModule`."""
    return OnnxGraphModule(onnx.load(path)).eval()
