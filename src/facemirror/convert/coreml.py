"""PyTorch -> CoreML ML Program (fp16 by default) with coremltools, for the CoreML backend on macOS.

Conversion runs anywhere coremltools installs (Linux included); only
predictions need macOS. The module is traced with ``torch.jit.trace`` and
converted with ``ct.convert(convert_to="mlprogram")``. Fixed shapes are the
Neural Engine's best case; ``flexible_shapes`` adds enumerated shapes (each
one can be compiled for the ANE) or ranges (Apple: only the default shape
runs on the ANE, others on CPU/GPU).
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facemirror import __version__
from facemirror.atomic import check_writable_dir, partial_path
from facemirror.errors import ConversionError
from facemirror.optional import require

COMPUTE_UNITS = ("ALL", "CPU_AND_NE", "CPU_AND_GPU", "CPU_ONLY")

#: per input: ``{axis: (lower, upper)}`` for a range, or a list of full shapes to enumerate
FlexibleShape = Mapping[int, tuple[int, int]] | Sequence[Sequence[int]]


def export_coreml(
    module: Any,
    example_inputs: Sequence[np.ndarray],
    input_names: Sequence[str],
    output_names: Sequence[str],
    path: str | Path,
    precision: str = "fp16",
    compute_units: str = "CPU_AND_NE",
    flexible_shapes: Mapping[str, FlexibleShape] | None = None,
    deployment_target: str = "iOS16",
) -> Path:
    """Convert ``module`` to an ``.mlpackage`` at ``path`` (temp name, then renamed) and return the path.

    Inputs and outputs stay fp32 multi-arrays (the CoreML engine feeds float32);
    ``precision="fp16"`` makes every op inside fp16. ``deployment_target`` is a
    ``coremltools.target`` name; iOS16 equals macOS13, the first with fp16 I/O
    and ML Program fp16 everywhere.
    """
    torch = require("torch", "Converting a network to CoreML")
    ct = import_coremltools("Converting a network to CoreML")
    if precision not in ("fp16", "fp32"):
        raise ConversionError(f"unknown CoreML precision {precision!r}; use fp16 or fp32")
    if compute_units not in COMPUTE_UNITS:
        raise ConversionError(f"unknown compute units {compute_units!r}; use one of {', '.join(COMPUTE_UNITS)}")
    path = Path(path)
    if path.suffix != ".mlpackage":
        raise ConversionError(f"{path}: an ML Program is saved as a folder ending in .mlpackage")
    check_writable_dir(path.parent)
    arrays = [np.ascontiguousarray(a, dtype=np.float32) for a in example_inputs]
    flexible = dict(flexible_shapes or {})
    unknown = set(flexible) - set(input_names)
    if unknown:
        raise ConversionError(f"flexible_shapes names inputs the network does not have: {', '.join(sorted(unknown))}")
    inputs = [
        ct.TensorType(name=name, shape=_shape(ct, name, arr.shape, flexible.get(name)), dtype=np.float32)
        for name, arr in zip(input_names, arrays)
    ]
    outputs = [ct.TensorType(name=name, dtype=np.float32) for name in output_names]
    module.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # coremltools converts TorchScript traces
            traced = torch.jit.trace(module, tuple(torch.from_numpy(a) for a in arrays))
        model = ct.convert(
            traced,
            inputs=inputs,
            outputs=outputs,
            convert_to="mlprogram",
            compute_precision=ct.precision.FLOAT16 if precision == "fp16" else ct.precision.FLOAT32,
            minimum_deployment_target=getattr(ct.target, deployment_target),
            compute_units=getattr(ct.ComputeUnit, compute_units),
        )
    except Exception as exc:  # tracing and coremltools raise many unrelated types
        raise ConversionError(f"{path}: CoreML conversion of {type(module).__name__} failed: {exc}") from exc
    model.short_description = f"{type(module).__name__} converted by facemirror"
    model.user_defined_metadata.update(
        {
            "facemirror.version": __version__,
            "facemirror.precision": precision,
            "facemirror.compute_units": compute_units,
        }
    )
    return _save_package(model, path)


def _save_package(model: Any, path: Path) -> Path:
    """Save an ``.mlpackage`` (a folder) under a temporary name beside ``path``, then swap it in."""
    tmp = partial_path(path)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save(str(tmp))
        if path.exists():  # os.replace cannot put a folder over a non-empty folder
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def import_coremltools(purpose: str) -> Any:
    """Import coremltools without its import-time warnings (untested torch version; on Linux, no
    ``libcoremlpython``, which only means predictions cannot run here)."""
    logger = logging.getLogger("coremltools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return require("coremltools", purpose)
    finally:
        logger.setLevel(level)


def _shape(ct: Any, name: str, example: tuple[int, ...], flexible: FlexibleShape | None) -> Any:
    """The coremltools shape of one input: fixed, a range per axis, or enumerated shapes."""
    if flexible is None:
        return example
    if isinstance(flexible, Mapping):
        dims: list[Any] = list(example)
        for axis, (low, high) in flexible.items():
            if not low <= example[axis] <= high:
                raise ConversionError(
                    f"input {name}: example size {example[axis]} on axis {axis} is outside {low}..{high}"
                )
            dims[axis] = ct.RangeDim(lower_bound=low, upper_bound=high, default=example[axis])
        return ct.Shape(shape=dims)
    shapes = [tuple(int(d) for d in s) for s in flexible]
    if tuple(example) not in shapes:
        shapes.insert(0, tuple(example))
    return ct.EnumeratedShapes(shapes=shapes, default=tuple(example))
