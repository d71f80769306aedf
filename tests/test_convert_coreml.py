"""PyTorch -> CoreML ML Program, the Neural-Engine report and its CLI (conversion only: no predictions on Linux)."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is part of the test install")
pytest.importorskip("coremltools", reason="the coreml extra is part of the test install")
from click.testing import CliRunner  # noqa: E402

from convert_toys import OffAneToy, Toy, image_batch, seeded  # noqa: E402
from facemirror.cli import cli  # noqa: E402
from facemirror.convert import ane_report, export_coreml  # noqa: E402
from facemirror.convert.ane import RULES, apply_compute_plan  # noqa: E402
from facemirror.convert.coreml import import_coremltools  # noqa: E402
from facemirror.errors import ConversionError  # noqa: E402

ct = import_coremltools("tests")


@pytest.fixture(scope="module")
def toy_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("coreml") / "toy.mlpackage"
    return export_coreml(seeded(Toy()), (image_batch(1),), ["x"], ["logits", "probs"], out)


@pytest.fixture(scope="module")
def off_ane_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("coreml") / "off.mlpackage"
    return export_coreml(
        seeded(OffAneToy()), (image_batch(2),), ["x"], ["top"], out, flexible_shapes={"x": {0: (1, 16)}}
    )


def mil_ops(path: Path) -> list[Any]:
    spec = ct.utils.load_spec(str(path))
    function = spec.mlProgram.functions["main"]
    return list(function.block_specializations[function.opset].operations)


def test_package_has_the_named_fp32_io_and_fp16_ops(toy_package: Path) -> None:
    assert toy_package.is_dir() and (toy_package / "Manifest.json").is_file()
    assert not list(toy_package.parent.glob(".*"))  # the temporary package was renamed
    spec = ct.utils.load_spec(str(toy_package))
    assert spec.WhichOneof("Type") == "mlProgram"
    assert [i.name for i in spec.description.input] == ["x"]
    assert [o.name for o in spec.description.output] == ["logits", "probs"]
    x = spec.description.input[0].type.multiArrayType
    assert list(x.shape) == [1, 3, 16, 16] and x.dataType == ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    assert x.WhichOneof("ShapeFlexibility") is None
    fp16 = ct.proto.MIL_pb2.DataType.Value("FLOAT16")
    compute = {op.type: op.outputs[0].type.tensorType.dataType for op in mil_ops(toy_package) if op.type != "const"}
    assert compute["conv"] == fp16 and compute["linear"] == fp16 and compute["softmax"] == fp16
    assert spec.description.metadata.userDefined["facemirror.precision"] == "fp16"


def test_flexible_shapes_reach_the_spec(tmp_path: Path, off_ane_package: Path) -> None:
    rng = ct.utils.load_spec(str(off_ane_package)).description.input[0].type.multiArrayType
    assert rng.WhichOneof("ShapeFlexibility") == "shapeRange"
    assert (rng.shapeRange.sizeRanges[0].lowerBound, rng.shapeRange.sizeRanges[0].upperBound) == (1, 16)
    enum = export_coreml(
        seeded(Toy()),
        (image_batch(1),),
        ["x"],
        ["logits", "probs"],
        tmp_path / "enum.mlpackage",
        flexible_shapes={"x": [(4, 3, 16, 16)]},
    )
    arr = ct.utils.load_spec(str(enum)).description.input[0].type.multiArrayType
    assert arr.WhichOneof("ShapeFlexibility") == "enumeratedShapes"
    assert sorted(tuple(s.shape) for s in arr.enumeratedShapes.shapes) == [(1, 3, 16, 16), (4, 3, 16, 16)]
    with pytest.raises(ConversionError, match="outside"):
        export_coreml(
            Toy(), (image_batch(1),), ["x"], ["a", "b"], tmp_path / "r.mlpackage", flexible_shapes={"x": {0: (2, 8)}}
        )
    with pytest.raises(ConversionError, match=r"\.mlpackage"):
        export_coreml(Toy(), (image_batch(1),), ["x"], ["a", "b"], tmp_path / "r.mlmodel")


def test_ane_report_flags_known_off_ane_ops(off_ane_package: Path) -> None:
    report = ane_report(off_ane_package, measure=False)
    by_type = {op.op_type: op for op in report.ops}
    assert by_type["topk"].reasons == ("sort",) and not by_type["topk"].on_ane
    assert by_type["conv"].reasons == ("dilated_conv",)
    assert by_type["linear"].on_ane and by_type["relu"].on_ane
    off = len(report.off_ane())
    assert off == 2 and report.op_coverage == pytest.approx((len(report.ops) - off) / len(report.ops))
    # the dilated conv carries almost all FLOPs: 2 * 8*16*16 outputs * 27 MACs
    assert by_type["conv"].flops == 2 * 8 * 16 * 16 * 27
    assert report.flop_coverage < 0.05
    assert report.flexibility == "range" and any("default shape" in n for n in report.notes)
    assert report.io_casts == 2 and report.measured_op_coverage is None


def test_ane_report_on_a_clean_model_and_fp32(toy_package: Path, tmp_path: Path) -> None:
    report = ane_report(toy_package, measure=False)
    assert report.op_coverage == 1.0 and report.flop_coverage == 1.0 and report.flexibility == "fixed"
    fp32 = export_coreml(
        seeded(Toy()), (image_batch(1),), ["x"], ["a", "b"], tmp_path / "f.mlpackage", precision="fp32"
    )
    report32 = ane_report(fp32, measure=False)
    assert report32.op_coverage == 0.0 and all("not_fp16" in op.reasons for op in report32.ops)


def test_measured_placement_is_joined_by_output_name(off_ane_package: Path) -> None:
    report = ane_report(off_ane_package, measure=False)
    devices = {
        op.output: ("cpu" if op.op_type == "topk" else "ane", 0.1 if op.op_type == "topk" else 0.3) for op in report.ops
    }
    apply_compute_plan(report, devices)
    n = len(report.ops)
    assert report.measured and report.measured_op_coverage == pytest.approx((n - 1) / n)
    assert report.measured_cost_coverage == pytest.approx(0.3 * (n - 1) / (0.3 * (n - 1) + 0.1))
    assert "measured (MLComputePlan)" in report.format_text()


@pytest.mark.skipif(platform.system() == "Darwin", reason="checks the error where Core ML cannot run (not macOS)")
def test_measuring_off_macos_is_a_clear_error(toy_package: Path) -> None:
    with pytest.raises(ConversionError, match="compute plan"):
        ane_report(toy_package, measure=True)


def test_cli_text_and_json(off_ane_package: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(cli, ["ane-report", str(off_ane_package), "--no-measure", "--ops"])
    assert text.exit_code == 0, text.output
    assert "estimated ANE coverage" in text.output and RULES["sort"].reason in text.output
    raw = runner.invoke(cli, ["ane-report", str(off_ane_package), "--json", "--no-measure"])
    data = json.loads(raw.output)
    assert data["estimated"]["op_coverage"] == pytest.approx(ane_report(off_ane_package, measure=False).op_coverage)
    assert {"sort", "dilated_conv"} <= set(data["rules"]) and data["measured"] is None
    assert any(op["op_type"] == "topk" and not op["on_ane"] for op in data["ops"])
    missing = runner.invoke(cli, ["ane-report", str(tmp_path / "none.mlpackage")])
    assert missing.exit_code != 0 and isinstance(missing.exception, ConversionError)


@pytest.mark.skipif(platform.system() != "Darwin", reason="Core ML predictions run only on macOS")
def test_prediction_matches_torch_on_macos(toy_package: Path) -> None:
    model = ct.models.MLModel(str(toy_package), compute_units=ct.ComputeUnit.CPU_ONLY)
    x = image_batch(1)
    got = model.predict({"x": x})
    with torch.no_grad():
        want = seeded(Toy())(torch.from_numpy(x))
    np.testing.assert_allclose(got["logits"], want[0].numpy(), rtol=2e-2, atol=2e-2)
