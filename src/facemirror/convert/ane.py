"""Which ops of a CoreML ML Program are expected to run on the Apple Neural Engine (ANE).

Everywhere: an **estimate** read from the program's MIL ops in the package's
spec, against the table :data:`RULES` of op types and conditions known to keep
an op off the ANE (with the source of each piece of knowledge). Core ML's real
placement is not documented and can change with the OS and the chip; treat
the estimate as a lint, not a guarantee.

On macOS 14.4+ with coremltools >= 8 the report is also **measured**: Core
ML's own compute plan (``MLComputePlan``) gives each op's preferred device and
its estimated share of the model's cost.
"""

from __future__ import annotations

import logging
import math
import platform
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from facemirror.convert.coreml import COMPUTE_UNITS, import_coremltools
from facemirror.errors import ConversionError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AneRule:
    """One thing known to keep an op off the ANE, and where that knowledge comes from."""

    key: str
    reason: str
    source: str


_HOLLANCE = "hollance/neural-engine docs/unsupported-layers.md (community notes, Core ML NN-era)"
_HOLLANCE_2 = "hollance/neural-engine issue #2 (espresso kernel-validation warnings seen in Xcode os_log)"
_TYPED = "coremltools docs 'Typed Execution Workflow': fp32 ML Programs run on GPU and CPU only"
_ASSUMED = "facemirror assumption (not verified on a device): no ANE kernel is known for it"

#: every condition the estimate checks, by key
RULES: dict[str, AneRule] = {
    r.key: r
    for r in (
        AneRule("gather", "gather/scatter (indexed memory access)", _HOLLANCE),
        AneRule("recurrent", "recurrent layer (LSTM/GRU/RNN)", _HOLLANCE),
        AneRule("sort", "sorting/selection (topk, argsort, NMS)", _ASSUMED),
        AneRule(
            "control_flow",
            "data-dependent control flow (cond, while_loop)",
            "Orion, arXiv:2603.06728: the ANE runs ahead-of-time compiled static graphs; " + _ASSUMED,
        ),
        AneRule("data_dependent_shape", "output shape depends on tensor values (non_zero, random)", _ASSUMED),
        AneRule("not_fp16", "computes in fp32/int/bool: the ANE computes in fp16 only", _TYPED),
        AneRule(
            "dynamic_weight",
            "convolution whose weight is not a constant",
            "apple/coremltools issue #2536 (dynamic convolution falls off the Neural Engine)",
        ),
        AneRule("dilated_conv", "dilated convolution", _HOLLANCE),
        AneRule("pool_kernel", "pooling kernel larger than 13 or stride larger than 2", _HOLLANCE_2),
        AneRule(
            "axis_16384",
            "a tensor axis longer than 16384",
            "community measurements: ncdrone/rustane issue #13, Desert-Ant-Labs/desert-ant-core PR #187",
        ),
    )
}

#: op type -> rule key, for op types that never run on the ANE
OFF_ANE_TYPES: dict[str, str] = {
    **dict.fromkeys(
        ("gather", "gather_nd", "gather_along_axis", "scatter", "scatter_nd", "scatter_along_axis"), "gather"
    ),
    **dict.fromkeys(("lstm", "gru", "rnn"), "recurrent"),
    **dict.fromkeys(("topk", "argsort", "non_maximum_suppression"), "sort"),
    **dict.fromkeys(("cond", "while_loop"), "control_flow"),
    **dict.fromkeys(
        ("non_zero", "random_bernoulli", "random_categorical", "random_normal", "random_uniform"),
        "data_dependent_shape",
    ),
}

#: shapes Core ML accepts per input: how flexibility affects the ANE (model-level notes)
FLEXIBILITY_NOTES = {
    "range": (
        "inputs have range (RangeDim) flexibility: Core ML runs only the default shape on the ANE, other "
        "shapes on CPU/GPU (Apple engineer, developer.apple.com/forums/thread/724930; coremltools issue #2370). "
        "Export fixed or enumerated shapes for the ANE."
    ),
    "enumerated": (
        "inputs have enumerated shapes: each shape can be compiled for the ANE (coremltools docs 'Flexible Input "
        "Shapes'); layer_norm has been seen to keep enumerated models off the ANE (coremltools issue #1909)."
    ),
}

_NO_COMPUTE = {"const"}
_DEVICE_NAMES = {"MLNeuralEngineComputeDevice": "ane", "MLGPUComputeDevice": "gpu", "MLCPUComputeDevice": "cpu"}


@dataclass
class OpPlacement:
    """One MIL op: what it is, where it is expected to run, and (on macOS) where Core ML puts it."""

    index: int
    op_type: str
    output: str
    dtype: str
    shape: tuple[int | None, ...]
    flops: int
    on_ane: bool  # estimated
    reasons: tuple[str, ...] = ()  # rule keys that keep it off the ANE
    measured_device: str | None = None  # "ane" | "gpu" | "cpu" from MLComputePlan
    measured_cost: float | None = None  # MLComputePlan's share of the model's cost, 0..1


@dataclass
class AneReport:
    """Per-op ANE placement of one ML Program with its coverage figures."""

    path: str
    function: str
    flexibility: str  # "fixed" | "enumerated" | "range"
    ops: list[OpPlacement]
    io_casts: int  # fp32<->fp16 casts at the inputs/outputs, not counted in the coverage
    notes: list[str] = field(default_factory=list)
    measured: bool = False

    @property
    def op_coverage(self) -> float:
        """Estimated fraction of compute ops on the ANE."""
        return _fraction(sum(op.on_ane for op in self.ops), len(self.ops))

    @property
    def flop_coverage(self) -> float:
        """Estimated fraction of FLOPs on the ANE (flexible dims counted at size 1)."""
        return _fraction(sum(op.flops for op in self.ops if op.on_ane), sum(op.flops for op in self.ops))

    @property
    def measured_op_coverage(self) -> float | None:
        """Fraction of ops Core ML's compute plan prefers to run on the ANE (macOS only)."""
        placed = [op for op in self.ops if op.measured_device is not None]
        return _fraction(sum(op.measured_device == "ane" for op in placed), len(placed)) if self.measured else None

    @property
    def measured_cost_coverage(self) -> float | None:
        """Share of Core ML's estimated cost that runs on the ANE (macOS only)."""
        if not self.measured:
            return None
        costs = [(op.measured_device, op.measured_cost or 0.0) for op in self.ops]
        return _fraction(sum(c for d, c in costs if d == "ane"), sum(c for _, c in costs))

    def off_ane(self) -> list[OpPlacement]:
        """Ops estimated to run elsewhere."""
        return [op for op in self.ops if not op.on_ane]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the coverage figures, the rules used, every op."""
        return {
            "path": self.path,
            "function": self.function,
            "flexibility": self.flexibility,
            "estimated": {"op_coverage": self.op_coverage, "flop_coverage": self.flop_coverage},
            "measured": (
                {"op_coverage": self.measured_op_coverage, "cost_coverage": self.measured_cost_coverage}
                if self.measured
                else None
            ),
            "io_casts": self.io_casts,
            "notes": list(self.notes),
            "rules": {k: asdict(r) for k, r in RULES.items() if any(k in op.reasons for op in self.ops)},
            "ops": [asdict(op) for op in self.ops],
        }

    def format_text(self, all_ops: bool = False) -> str:
        """A human summary: coverage, off-ANE ops grouped by reason, notes; ``all_ops`` lists every op."""
        lines = [
            f"{self.path} (function {self.function}, {self.flexibility} shapes)",
            f"estimated ANE coverage: {self.op_coverage:.1%} of {len(self.ops)} ops, "
            f"{self.flop_coverage:.1%} of {_human(sum(op.flops for op in self.ops))} FLOPs "
            f"({self.io_casts} I/O casts not counted)",
        ]
        if self.measured:
            lines.append(
                f"measured (MLComputePlan): {self.measured_op_coverage:.1%} of ops, "
                f"{self.measured_cost_coverage:.1%} of estimated cost on the ANE"
            )
        off = self.off_ane()
        if off:
            lines.append("estimated off the ANE:")
            for key in RULES:
                hit = [op for op in off if key in op.reasons]
                if hit:
                    kinds = ", ".join(sorted({op.op_type for op in hit}))
                    lines.append(f"  {len(hit)} op(s) [{kinds}]: {RULES[key].reason}  (source: {RULES[key].source})")
        if all_ops:
            lines.append("ops:")
            for op in self.ops:
                where = "ANE" if op.on_ane else "off: " + ",".join(op.reasons)
                measured = f"  measured {op.measured_device}" if op.measured_device else ""
                lines.append(
                    f"  {op.index:4d} {op.op_type:<22} {op.dtype:<7} {_shape_text(op.shape):<22} "
                    f"{_human(op.flops):>8}  {where}{measured}"
                )
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def ane_report(mlpackage_path: str | Path, measure: bool | None = None, compute_units: str = "CPU_AND_NE") -> AneReport:
    """Estimate (and on macOS, measure) which ops of an ML Program run on the ANE.

    ``measure=None`` measures when running on macOS; ``True`` requires it.
    """
    ct = import_coremltools("Reading a CoreML model")
    if compute_units not in COMPUTE_UNITS:
        raise ConversionError(f"unknown compute units {compute_units!r}; use one of {', '.join(COMPUTE_UNITS)}")
    path = Path(mlpackage_path)
    if not path.exists():
        raise ConversionError(f"{path}: no such CoreML model")
    try:
        spec = ct.utils.load_spec(str(path))
    except Exception as exc:  # coremltools raises untyped errors for a bad package
        raise ConversionError(f"{path}: not a readable CoreML model ({exc})") from exc
    if spec.WhichOneof("Type") != "mlProgram":
        raise ConversionError(f"{path}: is a {spec.WhichOneof('Type')} model; the ANE report reads ML Programs only")
    report = estimate(spec, str(path))
    if measure is None:
        measure = platform.system() == "Darwin"
    if measure:
        apply_compute_plan(report, _compute_plan_devices(ct, path, compute_units))
    return report


def estimate(spec: Any, path: str = "") -> AneReport:
    """The estimated report of an ML Program spec (``coremltools.proto.Model_pb2.Model``)."""
    functions = spec.mlProgram.functions
    name = spec.description.defaultFunctionName or "main"
    if name not in functions:
        name = next(iter(functions))
    function = functions[name]
    block = function.block_specializations[function.opset]
    types: dict[str, Any] = {i.name: i.type for i in function.inputs}
    graph_inputs = set(types)
    consts: dict[str, Any] = {}
    ops: list[OpPlacement] = []
    io_casts = 0
    for op in _walk(block.operations):
        for out in op.outputs:
            types[out.name] = out.type
        if op.type in _NO_COMPUTE:
            consts[op.outputs[0].name] = op.attributes.get("val")
            continue
        args = {k: [b.name for b in v.arguments if b.WhichOneof("binding") == "name"] for k, v in op.inputs.items()}
        if op.type == "cast" and (set(args.get("x", [])) & graph_inputs or op.outputs[0].name in block.outputs):
            io_casts += 1
            continue
        ops.append(_place(len(ops), op, args, types, consts))
    report = AneReport(path=path, function=name, flexibility=_flexibility(spec), ops=ops, io_casts=io_casts)
    if report.flexibility in FLEXIBILITY_NOTES:
        report.notes.append(FLEXIBILITY_NOTES[report.flexibility])
    report.notes.append(
        "estimated from the op table in facemirror.convert.ane.RULES; Core ML decides placement at load time "
        "and may still run supported ops elsewhere (e.g. small models on the CPU)"
    )
    return report


def apply_compute_plan(report: AneReport, devices: Mapping[str, tuple[str | None, float | None]]) -> None:
    """Fill in measured devices (op output name -> (device, cost)) from Core ML's compute plan."""
    for op in report.ops:
        device, cost = devices.get(op.output, (None, None))
        op.measured_device, op.measured_cost = device, cost
    report.measured = True
    report.notes.append("measured: preferred device per op from Core ML's MLComputePlan on this Mac")


def _compute_plan_devices(ct: Any, path: Path, compute_units: str) -> dict[str, tuple[str | None, float | None]]:
    """Core ML's planned device and cost share per op (keyed by first output name); macOS 14.4+ only."""
    try:
        units = getattr(ct.ComputeUnit, compute_units)
        model = ct.models.MLModel(str(path), compute_units=units)
        plan = ct.models.compute_plan.MLComputePlan.load_from_path(model.get_compiled_model_path(), compute_units=units)
        program = plan.model_structure.program
    except Exception as exc:  # no compute plan API here (old macOS / coremltools), or the model does not load
        raise ConversionError(f"{path}: Core ML's compute plan is not available here ({exc})") from exc
    if program is None:
        raise ConversionError(f"{path}: the compute plan holds no ML Program")
    function = program.functions.get("main") or next(iter(program.functions.values()))
    devices: dict[str, tuple[str | None, float | None]] = {}
    for op in _walk(function.block.operations):
        if not op.outputs:
            continue
        usage = plan.get_compute_device_usage_for_mlprogram_operation(op)
        cost = plan.get_estimated_cost_for_mlprogram_operation(op)
        device = _DEVICE_NAMES.get(type(usage.preferred_compute_device).__name__) if usage is not None else None
        devices[op.outputs[0].name] = (device, cost.weight if cost is not None else None)
    return devices


def _walk(operations: Iterable[Any]) -> Iterator[Any]:
    """Ops in program order, descending into the blocks of cond/while_loop (spec or compute-plan ops)."""
    for op in operations:
        yield op
        for block in op.blocks:
            yield from _walk(block.operations)


def _place(
    index: int, op: Any, args: Mapping[str, list[str]], types: Mapping[str, Any], consts: Mapping[str, Any]
) -> OpPlacement:
    """Apply the rules to one op."""
    out = op.outputs[0]
    dtype = _dtype(out.type)
    shape = _shape(out.type)
    reasons = []
    if op.type in OFF_ANE_TYPES:
        reasons.append(OFF_ANE_TYPES[op.type])
    if dtype != "fp16":
        reasons.append("not_fp16")
    if op.type in ("conv", "conv_transpose"):
        if any(w not in consts for w in args.get("weight", [])):
            reasons.append("dynamic_weight")
        if any(d > 1 for d in _const_ints(consts, args.get("dilations"))):
            reasons.append("dilated_conv")
    if op.type in ("avg_pool", "max_pool", "l2_pool") and (
        any(k > 13 for k in _const_ints(consts, args.get("kernel_sizes")))
        or any(s > 2 for s in _const_ints(consts, args.get("strides")))
    ):
        reasons.append("pool_kernel")
    if any(d is not None and d > 16384 for d in shape):
        reasons.append("axis_16384")
    return OpPlacement(
        index=index,
        op_type=op.type,
        output=out.name,
        dtype=dtype,
        shape=shape,
        flops=_flops(op.type, shape, args, types, transpose_x=bool(_const_values(consts, args.get("transpose_x")))),
        on_ane=not reasons,
        reasons=tuple(reasons),
    )


def _flops(
    op_type: str,
    shape: Sequence[int | None],
    args: Mapping[str, list[str]],
    types: Mapping[str, Any],
    transpose_x: bool = False,
) -> int:
    """Rough FLOPs of one op: 2 x MACs for conv/linear/matmul, one per output element otherwise."""
    out = math.prod(d or 1 for d in shape)

    def dims(arg: str) -> tuple[int | None, ...]:
        names = args.get(arg) or []
        return _shape(types[names[0]]) if names and names[0] in types else ()

    if op_type == "conv":
        w = dims("weight")  # (C_out, C_in / groups, kH, kW)
        return 2 * out * math.prod(d or 1 for d in w[1:])
    if op_type == "conv_transpose":
        w = dims("weight")  # (C_in, C_out / groups, kH, kW)
        return 2 * math.prod(d or 1 for d in dims("x")) * math.prod(d or 1 for d in w[1:])
    if op_type == "linear":
        w = dims("weight")  # (out_features, in_features)
        return 2 * out * (w[-1] or 1 if w else 1)
    if op_type == "matmul":
        x = dims("x")  # contracted axis: last of x, or second to last when transpose_x
        k = x[-2] if len(x) > 1 and transpose_x else (x[-1] if x else 1)
        return 2 * out * (k or 1)
    return out


def _const_ints(consts: Mapping[str, Any], names: Sequence[str] | None) -> list[int]:
    """The integer values of a const argument (e.g. dilations), or [] when it is not one."""
    return [int(v) for v in _const_values(consts, names)]


def _const_values(consts: Mapping[str, Any], names: Sequence[str] | None) -> list[Any]:
    """The int or bool values of a small const argument held in the spec, or []."""
    value = consts.get(names[0]) if names else None
    if value is None or value.WhichOneof("value") != "immediateValue":
        return []
    tensor = value.immediateValue.tensor
    return list(tensor.ints.values) or list(tensor.bools.values)


_DTYPES = {"FLOAT16": "fp16", "FLOAT32": "fp32", "INT32": "int32", "BOOL": "bool", "STRING": "string"}


def _dtype(value_type: Any) -> str:
    from coremltools.proto import MIL_pb2

    kind = value_type.WhichOneof("type")
    if kind != "tensorType":
        return kind or "unknown"
    name = MIL_pb2.DataType.Name(value_type.tensorType.dataType)
    return _DTYPES.get(name, name.lower())


def _shape(value_type: Any) -> tuple[int | None, ...]:
    if value_type.WhichOneof("type") != "tensorType":
        return ()
    return tuple(
        int(d.constant.size) if d.WhichOneof("dimension") == "constant" else None
        for d in value_type.tensorType.dimensions
    )


def _flexibility(spec: Any) -> str:
    """'range', 'enumerated' or 'fixed', from the inputs' multi-array shape flexibility."""
    kinds = set()
    for feature in spec.description.input:
        if feature.type.WhichOneof("Type") == "multiArrayType":
            kinds.add(feature.type.multiArrayType.WhichOneof("ShapeFlexibility"))
    if "shapeRange" in kinds:
        return "range"
    if "enumeratedShapes" in kinds:
        return "enumerated"
    return "fixed"


def _fraction(part: float, whole: float) -> float:
    return float(part) / whole if whole else 0.0


def _shape_text(shape: Sequence[int | None]) -> str:
    return "(" + ",".join("?" if d is None else str(d) for d in shape) + ")"


def _human(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(int(n))
