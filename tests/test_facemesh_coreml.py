"""The shipped CoreML packages of the MediaPipe face networks: spec, precision, manifest, fallback; macOS predictions.

Made by conversion/convert_face_landmarker_coreml.py from the shipped ONNX files
(docs/conversion.md): same input/output names and layout as the ONNX, the
detector in fp16 (ANE), face_landmarks and face_blendshapes in fp32 (fp16 moved
the landmarks 0.10-0.15 px mean at 1080 rows and overflows the blendshapes'
normalisation).
"""

from __future__ import annotations

import functools
import importlib.util
import platform
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from facemirror.backends import BackendUnavailable, NetworkSource, select_engine
from facemirror.convert import ane_report
from facemirror.models.blazeface import BlazeFace
from facemirror.models.blendshapes import Blendshapes
from facemirror.models.facemesh import FaceMesh, roi_from_detection
from facemirror.models.source import bundled_coreml
from facemirror.optional import available
from facemirror.weights import bundled_dir, resolve, verify
from landmarker_inputs import DATA

pytestmark = pytest.mark.skipif(not available("coremltools"), reason="coremltools (extra 'coreml') is not installed")
on_macos = pytest.mark.skipif(platform.system() != "Darwin", reason="CoreML predictions need macOS")

#: network -> (input name, input shapes (enumerated when several), output names, precision)
PACKAGES = {
    "face_detector": ("input", [(1, 128, 128, 3)], ("regressors", "classificators"), "fp16"),
    "face_landmarks": ("input", [(1, 256, 256, 3), (2, 256, 256, 3)], ("landmarks", "presence_logit", "aux"), "fp32"),
    "face_blendshapes": ("points", [(1, 146, 2)], ("blendshapes",), "fp32"),
}
#: CoreML vs onnxruntime, max |diff| / max(1, max |output|): fp32 (torch rebuild measured <= 1.2e-5 on CPU);
#: fp16 detector: 4x the 2.3e-3 measured with torch half on the test stills (the ANE accumulates differently)
BOUND = {"fp32": 1e-4, "fp16": 1e-2}


def load_spec(path: Path):  # type: ignore[no-untyped-def]
    from facemirror.convert.coreml import import_coremltools

    return import_coremltools("tests").utils.load_spec(str(path))


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_package_keeps_the_onnx_contract(name: str) -> None:
    input_name, shapes, outputs, precision = PACKAGES[name]
    path = bundled_coreml(name)
    assert path is not None and path.parent == bundled_dir() and path.name == f"{name}.mlpackage"
    spec = load_spec(path)
    assert spec.WhichOneof("Type") == "mlProgram"
    graph = onnx.load(str(resolve(name))).graph
    assert [i.name for i in spec.description.input] == [i.name for i in graph.input] == [input_name]
    assert [o.name for o in spec.description.output] == [o.name for o in graph.output] == list(outputs)
    array = spec.description.input[0].type.multiArrayType
    assert array.dataType == array.FLOAT32
    assert all(o.type.multiArrayType.dataType == array.FLOAT32 for o in spec.description.output)
    if len(shapes) == 1:
        assert tuple(array.shape) == shapes[0]
    else:
        assert [tuple(s.shape) for s in array.enumeratedShapes.shapes] == shapes
    assert spec.description.metadata.userDefined["facemirror.precision"] == precision


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_precision_and_neural_engine_estimate(name: str) -> None:
    path = bundled_coreml(name)
    assert path is not None
    report = ane_report(path, measure=False)
    dtypes = {op.dtype for op in report.ops if op.dtype.startswith("fp")}
    if PACKAGES[name][3] == "fp16":
        assert dtypes == {"fp16"}
        assert report.op_coverage == 1.0 and report.flop_coverage == 1.0
    else:
        assert dtypes == {"fp32"}
        assert report.op_coverage == 0.0  # fp32 ML Programs run on CPU/GPU
    assert report.flexibility == ("enumerated" if len(PACKAGES[name][1]) > 1 else "fixed")


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_packages_verify_against_the_manifest(name: str) -> None:
    checked = verify(f"{name}_coreml")
    assert checked.basis == "published" and checked.path == bundled_coreml(name)
    assert verify(checked.path).name == f"{name}_coreml"  # identified by its tree hash


def test_bundled_coreml_is_none_without_a_package() -> None:
    assert bundled_coreml("retinaface") is None  # an entry, but no CoreML twin
    assert bundled_coreml("no_such_network") is None


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_default_sources_offer_the_shipped_package_to_the_coreml_backend(name: str) -> None:
    source = network_source(name, None)
    assert source.coreml_path == bundled_coreml(name) == bundled_dir() / f"{name}.mlpackage"
    assert source.onnx_path is not None and source.tflite_path is not None  # every format for every backend


def test_a_user_package_path_is_taken_as_coreml_only(tmp_path: Path) -> None:
    package = tmp_path / "mine.mlpackage"
    package.mkdir()
    source = network_source("face_landmarks", package)
    assert (source.coreml_path, source.onnx_path, source.tflite_path) == (package, None, None)


@pytest.mark.skipif(platform.system() == "Darwin", reason="checks the non-macOS refusal")
def test_a_converted_openface_package_is_a_coreml_only_source(tmp_path: Path) -> None:
    package = tmp_path / "mtl.mlpackage"
    package.mkdir()
    from facemirror.models.mtl import MTL

    with pytest.raises(BackendUnavailable) as refused:
        MTL.from_weights(package, ["coreml", "onnx"])
    assert "only on macOS" in refused.value.reasons["coreml"] and "no ONNX" in refused.value.reasons["onnx"]


def network_source(name: str, path: Path | None) -> NetworkSource:
    """The NetworkSource a model's from_weights builds for the manifest network ``name``."""
    model = {"face_detector": BlazeFace, "face_landmarks": FaceMesh, "face_blendshapes": Blendshapes}[name]
    captured: list[NetworkSource] = []

    def capture(source: NetworkSource, *args: object, **kwargs: object) -> object:
        captured.append(source)
        raise BackendUnavailable("captured", {})

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(f"{model.__module__}.select_engine", capture)
        with pytest.raises(BackendUnavailable, match="captured"):
            model.from_weights(path)
    return captured[0]


def landmarks_source() -> NetworkSource:
    return NetworkSource(
        name="facemesh",
        input_names=("input",),
        output_names=PACKAGES["face_landmarks"][2],
        onnx_path=resolve("face_landmarks"),
        coreml_path=bundled_coreml("face_landmarks"),
    )


@pytest.mark.skipif(platform.system() == "Darwin", reason="checks the non-macOS fallback")
def test_coreml_backend_off_macos_falls_back_to_onnx_with_the_reason() -> None:
    engine = select_engine(landmarks_source(), ["coreml", "onnx"])
    assert engine.info.backend == "onnx"
    assert "only on macOS" in engine.fallbacks["coreml"]
    with pytest.raises(BackendUnavailable, match="only on macOS"):
        select_engine(landmarks_source(), "coreml")


@functools.cache
def real_inputs() -> dict[str, list[dict[str, np.ndarray]]]:
    """What the models feed each network for tests/data/single_face.jpg (mesh: a crop, and crop + mirror)."""
    image = cv2.imread(str(DATA / "single_face.jpg"))
    onnx_run = {name: ort.InferenceSession(str(resolve(name)), providers=["CPUExecutionProvider"]) for name in PACKAGES}
    detector = BlazeFace(None)
    det_in = detector.preprocess(image)
    det_out = dict(zip(PACKAGES["face_detector"][2], onnx_run["face_detector"].run(None, det_in)))
    roi = roi_from_detection(detector.postprocess(det_out, image.shape)[0])
    mesh_in = [FaceMesh(None, symmetric=s).preprocess(image, roi) for s in (False, True)]
    mesh = FaceMesh(None)
    landmarks = mesh.postprocess(
        dict(zip(PACKAGES["face_landmarks"][2], onnx_run["face_landmarks"].run(None, mesh_in[0]))), roi
    ).landmarks[0]
    blend_in = Blendshapes(None).preprocess(landmarks)
    return {"face_detector": [det_in], "face_landmarks": mesh_in, "face_blendshapes": [blend_in]}


def load_rebuilder():  # type: ignore[no-untyped-def]
    """conversion/onnx_graph_torch.py (a build-time script, not part of the package)."""
    path = Path(__file__).resolve().parents[1] / "conversion" / "onnx_graph_torch.py"
    spec = importlib.util.spec_from_file_location("onnx_graph_torch", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_torch_rebuild_of_the_onnx_graph_matches_onnxruntime(name: str) -> None:
    torch = pytest.importorskip("torch")
    module = load_rebuilder().load_onnx_module(str(resolve(name)))
    session = ort.InferenceSession(str(resolve(name)), providers=["CPUExecutionProvider"])
    for feed in real_inputs()[name]:
        with torch.no_grad():
            got = module(*(torch.from_numpy(feed[n]) for n in module.input_names))
        for out, ours, want in zip(PACKAGES[name][2], got, session.run(None, feed)):
            assert ours.shape == want.shape, out
            error = float(np.abs(ours.numpy() - want).max()) / max(1.0, float(np.abs(want).max()))
            assert error <= 1e-4, (out, error)  # float32 summation order only (measured <= 1.2e-5)


def test_torch_rebuild_refuses_ops_it_does_not_know() -> None:
    pytest.importorskip("torch")
    node = onnx.helper.make_node("Softmax", ["x"], ["y"])
    value = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph(
        [node], "g", [value("x", onnx.TensorProto.FLOAT, [1, 4])], [value("y", onnx.TensorProto.FLOAT, [1, 4])]
    )
    with pytest.raises(NotImplementedError, match="Softmax"):
        load_rebuilder().OnnxGraphModule(onnx.helper.make_model(graph))


@on_macos
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_coreml_predictions_match_onnxruntime(name: str) -> None:
    import coremltools as ct

    precision = PACKAGES[name][3]
    units = ct.ComputeUnit.CPU_AND_NE if precision == "fp16" else ct.ComputeUnit.CPU_ONLY
    model = ct.models.MLModel(str(bundled_coreml(name)), compute_units=units)
    session = ort.InferenceSession(str(resolve(name)), providers=["CPUExecutionProvider"])
    for feed in real_inputs()[name]:
        got = model.predict(feed)
        for out, want in zip(PACKAGES[name][2], session.run(None, feed)):
            assert got[out].shape == want.shape, out
            error = float(np.abs(got[out] - want).max()) / max(1.0, float(np.abs(want).max()))
            assert error <= BOUND[precision], (out, error)
