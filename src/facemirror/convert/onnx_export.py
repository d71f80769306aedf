"""PyTorch -> ONNX (opset 17, the classic TorchScript exporter) and the fp32 -> fp16 rewrite.

The classic exporter (``dynamo=False``) is used on purpose: it needs only the
``onnx`` package (the torch.export-based one also needs ``onnxscript``) and it
folds BatchNorm into the convolutions, which gives small, clean graphs
(Conv/Relu/Gemm, no training-only nodes).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facemirror import __version__
from facemirror.atomic import atomic_output
from facemirror.errors import ConversionError
from facemirror.optional import require

OPSET = 17
PRECISIONS = ("fp32", "fp16")

#: ONNX op types kept in fp32 by the fp16 rewrite, on top of onnxconverter-common's default
#: block list (TopK, Resize/Upsample, Range, CumSum, Min, Max, NonMaxSuppression, RoiAlign, ML ops).
#: Softmax/Exp overflow or lose the small probabilities in fp16; reductions that sum many
#: elements (ReduceSum, ReduceL2) can overflow 65504 - see docs/conversion.md for the measured errors.
FP16_KEEP_FP32 = ("Softmax", "LogSoftmax", "Exp", "ReduceSum", "ReduceL2", "ReduceLogSumExp")


def check_precision(precision: str) -> str:
    """Return ``precision`` if it is one the converters write, else raise ConversionError."""
    if precision not in PRECISIONS:
        raise ConversionError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    return precision


def export_onnx(
    module: Any,
    example_inputs: Sequence[Any],
    path: str | Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Mapping[str, Any] | None = None,
    *,
    precision: str = "fp32",
    opset: int = OPSET,
) -> Path:
    """Export ``module`` (traced on ``example_inputs``) to ``path``; written under a temp name, then renamed.

    ``example_inputs`` are numpy arrays (or tensors) passed positionally in
    ``input_names`` order; ``dynamic_axes`` is torch.onnx's mapping
    ``{tensor name: {axis: "label"}}``. ``precision="fp16"`` stores fp16
    weights and compute with fp32 inputs/outputs (see :func:`to_fp16`).
    """
    torch = require("torch", "Exporting a network to ONNX")
    onnx = require("onnx", "Exporting a network to ONNX")
    check_precision(precision)
    path = Path(path)
    args = tuple(torch.from_numpy(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a for a in example_inputs)
    buffer = io.BytesIO()
    module.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # "legacy TorchScript-based exporter"
            torch.onnx.export(
                module,
                args,
                buffer,
                input_names=list(input_names),
                output_names=list(output_names),
                dynamic_axes={
                    k: dict(v) if isinstance(v, Mapping) else list(v) for k, v in (dynamic_axes or {}).items()
                },
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as exc:  # the exporter raises many unrelated types
        raise ConversionError(f"{path}: torch.onnx.export of {type(module).__name__} failed: {exc}") from exc
    model = onnx.load_from_string(buffer.getvalue())
    if precision == "fp16":
        model = to_fp16(model)
    _stamp(model, precision)
    return save_onnx(model, path)


def to_fp16(model: Any, keep_fp32: Sequence[str] = FP16_KEEP_FP32) -> Any:
    """An fp16 copy of an fp32 ONNX ``ModelProto``: fp16 weights and compute, fp32 inputs and outputs.

    Uses onnxconverter-common's ``convert_float_to_float16(keep_io_types=True)``;
    op types in ``keep_fp32`` (plus its default block list) stay fp32 behind Casts.
    """
    float16 = require("onnxconverter_common.float16", "Converting an ONNX model to fp16")
    original = {o.name: o.type.tensor_type.elem_type for o in model.graph.output}
    casts = {n.name for n in model.graph.node if n.op_type == "Cast"}
    block = sorted(set(float16.DEFAULT_OP_BLOCK_LIST) | set(keep_fp32))
    try:
        with warnings.catch_warnings():  # "the float32 number 1e-9 will be truncated to 1e-7": expected
            warnings.filterwarnings("ignore", category=UserWarning, module="onnxconverter_common")
            converted = float16.convert_float_to_float16(model, keep_io_types=True, op_block_list=block)
    except Exception as exc:
        raise ConversionError(f"fp16 conversion of ONNX graph {model.graph.name!r} failed: {exc}") from exc
    _retarget_casts(converted, casts, set(block))
    _restore_output_types(converted, original)
    # the converter leaves stale fp32 value_info behind; onnxruntime infers the types itself
    del converted.graph.value_info[:]
    return converted


def fp16_onnx(src: str | Path, dst: str | Path, keep_fp32: Sequence[str] = FP16_KEEP_FP32) -> Path:
    """Write an fp16 copy of the fp32 ONNX file ``src`` to ``dst`` (e.g. for tf2onnx face-mesh models)."""
    onnx = require("onnx", "Converting an ONNX model to fp16")
    try:
        model = onnx.load(str(src))
    except Exception as exc:
        raise ConversionError(f"{src}: not a readable ONNX file ({exc})") from exc
    converted = to_fp16(model, keep_fp32)
    _stamp(converted, "fp16")
    return save_onnx(converted, Path(dst))


def save_onnx(model: Any, path: Path) -> Path:
    """Check ``model`` and write it to ``path`` through a temporary name in the same folder."""
    onnx = require("onnx", "Writing an ONNX model")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise ConversionError(f"{path}: the converted graph is not valid ONNX: {exc}") from exc
    with atomic_output(path) as tmp:
        onnx.save(model, str(tmp))
    return path


def _retarget_casts(model: Any, names: set[str], blocked: set[str]) -> None:
    """Make the graph's own ``Cast(to=float)`` nodes (e.g. a bool mask ``.to(x.dtype)``) cast to fp16.

    onnxconverter-common 1.16 keeps them casting to fp32, so their fp16
    neighbours get mixed-type inputs and onnxruntime refuses the graph. Casts
    feeding a graph output or an op kept in fp32 are left alone.
    """
    from onnx import TensorProto

    outputs = {o.name for o in model.graph.output}
    consumers: dict[str, list[Any]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    for node in model.graph.node:
        if node.op_type != "Cast" or node.name not in names or node.output[0] in outputs:
            continue
        if any(c.op_type in blocked for c in consumers.get(node.output[0], [])):
            continue
        for attr in node.attribute:
            if attr.name == "to" and attr.i == TensorProto.FLOAT:
                attr.i = TensorProto.FLOAT16


def _restore_output_types(model: Any, original: Mapping[str, int]) -> None:
    """Make fp32 graph outputs fp32 again.

    onnxconverter-common 1.16 leaves an output fp16 when the node producing it
    is in the block list (it appends a Cast to fp16 and relabels the output);
    here that Cast is turned into a Cast to fp32, or one is appended.
    """
    from onnx import TensorProto, helper

    producers = {out: node for node in model.graph.node for out in node.output}
    for value in model.graph.output:
        tensor = value.type.tensor_type
        if original.get(value.name) != TensorProto.FLOAT or tensor.elem_type != TensorProto.FLOAT16:
            continue
        node = producers.get(value.name)
        cast_to = next((a for a in node.attribute if a.name == "to"), None) if node is not None else None
        if node is not None and node.op_type == "Cast" and cast_to is not None:
            cast_to.i = TensorProto.FLOAT
        else:
            half = f"{value.name}_fp16"
            for n in model.graph.node:
                n.output[:] = [half if o == value.name else o for o in n.output]
                n.input[:] = [half if i == value.name else i for i in n.input]
            model.graph.node.append(helper.make_node("Cast", [half], [value.name], to=TensorProto.FLOAT))
        tensor.elem_type = TensorProto.FLOAT


def _stamp(model: Any, precision: str) -> None:
    """Record who made the file and in which precision in the model's metadata."""
    props = {"facemirror.version": __version__, "facemirror.precision": precision}
    kept = [p for p in model.metadata_props if p.key not in props]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
