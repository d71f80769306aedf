"""The LiteRT backend: the .task's original TFLite networks against their ONNX conversions, selection and fallback."""

from __future__ import annotations

import logging
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from facemirror.backends import (
    BackendUnavailable,
    NetworkSource,
    default_preference,
    get_backend,
    litert_engine,
    select_engine,
)
from facemirror.backends import base as backends_base
from facemirror.models.blazeface import BlazeFace
from facemirror.models.blendshapes import Blendshapes
from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.models.facemesh import FaceMesh, roi_from_detection
from facemirror.models.landmark_smoothing import OneEuroSmoother
from facemirror.optional import available
from facemirror.weights import resolve
from landmarker_inputs import DATA, first_frames, still_images, synthetic_video

needs_litert = pytest.mark.skipif(
    not available("ai_edge_litert"), reason="ai-edge-litert is not installed (no wheel for this platform)"
)
VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "single_face.mp4"
REFERENCE = np.load(DATA / "landmarker_reference.npz")
BACKENDS = ("onnx", "litert")
#: measured on the stills: raw outputs differ by <= 2e-6 of their largest magnitude, landmarks by <= 2.2e-4 px,
#: blendshapes by <= 6e-6 (XNNPACK and ONNX Runtime sum in different orders)
REL = 1e-5
LANDMARK_PX = 1e-3
BLENDSHAPE_ATOL = 5e-5


def assert_outputs_close(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> None:
    """Same names and shapes; every value within REL of the output's largest magnitude (1e-6 for tiny outputs)."""
    assert ours.keys() == theirs.keys()
    for name, want in theirs.items():
        assert ours[name].shape == want.shape, name
        atol = max(REL * float(np.abs(want).max()), 1e-6)
        np.testing.assert_allclose(ours[name], want, rtol=0, atol=atol, err_msg=name)


def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean())


@pytest.fixture(scope="module")
def stills() -> dict[str, np.ndarray]:
    return still_images()


@pytest.fixture(scope="module")
def detectors() -> dict[str, BlazeFace]:
    return {b: BlazeFace.from_weights(backend=b, threads=1) for b in BACKENDS}


@pytest.fixture(scope="module")
def meshes() -> dict[tuple[str, bool], FaceMesh]:
    return {(b, s): FaceMesh.from_weights(backend=b, symmetric=s, threads=1) for b in BACKENDS for s in (False, True)}


@pytest.fixture(scope="module")
def blendshapes() -> dict[str, Blendshapes]:
    return {b: Blendshapes.from_weights(backend=b, threads=1) for b in BACKENDS}


@pytest.fixture(scope="module")
def video_frames() -> list[np.ndarray]:
    if not VIDEO.is_file():
        pytest.skip(f"real test media not found at {VIDEO}")
    return first_frames(VIDEO, 20)


@needs_litert
def test_shipped_weights_run_on_litert_under_auto() -> None:
    task = resolve("face_landmarker_task")
    landmarker = FaceLandmarker.from_weights(threads=1)
    engines = {"face_detector": landmarker.detector.engine, "face_landmarks_detector": landmarker.mesh.engine}
    assert landmarker.blendshapes is not None
    engines["face_blendshapes"] = landmarker.blendshapes.engine
    for member, engine in engines.items():
        info = engine.info
        assert (info.backend, info.provider, info.precision, info.device) == ("litert", "XNNPACK", "fp32", "cpu")
        assert info.source == f"{task}:{member}.tflite" and info.weights == str(task)
        assert engine.fallbacks == {}


@needs_litert
@pytest.mark.parametrize("name", ["astronaut+0", "single_face+30", "single_face-30"])
def test_detector_matches_onnx(detectors: dict[str, BlazeFace], stills: dict, name: str) -> None:
    inputs = detectors["onnx"].preprocess(stills[name])
    assert_outputs_close(detectors["litert"].forward(inputs), detectors["onnx"].forward(inputs))
    ours, theirs = detectors["litert"].detect(stills[name]), detectors["onnx"].detect(stills[name])
    assert len(ours) == len(theirs) >= 1
    np.testing.assert_allclose(ours[0].box, theirs[0].box, atol=LANDMARK_PX)


@needs_litert
@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("name", ["astronaut+0", "single_face+0", "single_face-30"])
def test_mesh_matches_onnx(
    detectors: dict[str, BlazeFace], meshes: dict, stills: dict, name: str, symmetric: bool
) -> None:
    image = stills[name]
    roi = roi_from_detection(detectors["onnx"].detect(image)[0])
    onnx_mesh, lite_mesh = meshes[("onnx", symmetric)], meshes[("litert", symmetric)]
    inputs = onnx_mesh.preprocess(image, roi)
    assert len(inputs["input"]) == (2 if symmetric else 1)  # the symmetric pair is a batch of 2
    assert_outputs_close(lite_mesh.forward(inputs), onnx_mesh.forward(inputs))
    ours, theirs = lite_mesh.run(image, roi), onnx_mesh.run(image, roi)
    np.testing.assert_allclose(ours.landmarks[..., :2], theirs.landmarks[..., :2], rtol=0, atol=LANDMARK_PX)
    np.testing.assert_allclose(ours.presence, theirs.presence, atol=1e-6)


@needs_litert
@pytest.mark.parametrize("name", ["astronaut+0", "single_face+0", "single_face+30"])
def test_blendshapes_match_onnx(meshes: dict, detectors: dict, blendshapes: dict, stills: dict, name: str) -> None:
    image = stills[name]
    points = meshes[("onnx", False)].predict(image, detectors["onnx"].detect(image)[0])
    ours, theirs = blendshapes["litert"].predict(points), blendshapes["onnx"].predict(points)
    assert ours.shape == theirs.shape == (52,)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=BLENDSHAPE_ATOL)


@needs_litert
def test_a_batch_is_the_single_calls_stacked(meshes: dict, blendshapes: dict, stills: dict) -> None:
    engine = meshes[("litert", False)].engine
    rng = np.random.default_rng(0)
    batch = rng.random((3, 256, 256, 3), dtype=np.float32)
    together = engine.run({"input": batch})
    singles = [engine.run({"input": item[None]}) for item in batch]
    assert together["landmarks"].shape == (3, 1, 1, 1434)
    for name, value in together.items():
        np.testing.assert_array_equal(value, np.concatenate([s[name] for s in singles]))
    # blendshapes' output has no batch axis: a batch of 2 gives (2, 52)
    points = rng.random((2, 146, 2), dtype=np.float32) * 256
    pair = blendshapes["litert"].engine.run({"points": points})["blendshapes"]
    assert pair.shape == (2, 52)
    np.testing.assert_array_equal(pair[1], blendshapes["litert"].engine.run({"points": points[1:]})["blendshapes"])


@needs_litert
def test_landmarker_on_video_frames_matches_onnx(video_frames: list[np.ndarray]) -> None:
    lite, onnx = (FaceLandmarker.from_weights(backend=b, threads=1) for b in BACKENDS)
    # IMAGE mode: the detection box's tiny difference moves the mesh ROI; measured <= 0.0036 px over all 72 frames
    for frame in video_frames[:5]:
        ours, theirs = lite.process_image(frame), onnx.process_image(frame)
        assert ours is not None and theirs is not None
        np.testing.assert_allclose(ours.landmarks[:, :2], theirs.landmarks[:, :2], rtol=0, atol=0.01)
    # VIDEO mode: each ROI comes from the previous landmarks, so the differences feed back; measured over
    # all 72 frames: <= 0.069 px for any point, <= 0.024 px mean per frame (MediaPipe parity asks 0.05 mean)
    for frame in video_frames:
        ours, theirs = lite.track(frame), onnx.track(frame)
        assert ours is not None and theirs is not None and ours.source == theirs.source
        distances = np.linalg.norm(ours.landmarks[:, :2] - theirs.landmarks[:, :2], axis=1)
        assert distances.mean() < 0.05 and distances.max() < 0.15


@pytest.mark.parametrize("backend", [pytest.param("litert", marks=needs_litert), "onnx"])
def test_stored_mediapipe_reference_on_each_backend(stills: dict, backend: str) -> None:
    landmarker = FaceLandmarker.from_weights(backend=backend, threads=1)
    names = sorted({k.split("/")[1] for k in REFERENCE.files if k.startswith("image/") and k.endswith("/landmarks")})
    for name in names:
        result = landmarker.process_image(stills[name])
        assert result is not None and result.blendshapes is not None
        assert mean_distance(result.landmarks, REFERENCE[f"image/{name}/landmarks"]) < 0.05, name
        np.testing.assert_allclose(result.blendshapes, REFERENCE[f"image/{name}/blendshapes"], atol=0.01)
    tracker = FaceLandmarker.from_weights(backend=backend, with_blendshapes=False, threads=1)
    smoother = OneEuroSmoother()
    for k, frame in enumerate(synthetic_video()):
        result = tracker.track(frame)
        assert result is not None
        assert mean_distance(smoother(result.landmarks, k / 30), REFERENCE["video/landmarks"][k]) < 0.05, k


@needs_litert
def test_deterministic_across_runs_and_thread_counts(stills: dict) -> None:
    image = stills["single_face+30"]
    results = []
    for threads in (1, 1, 2):
        landmarker = FaceLandmarker.from_weights(backend="litert", symmetric=True, threads=threads)
        assert landmarker.mesh.engine.threads == threads
        result = landmarker.process_image(image)
        assert result is not None and result.blendshapes is not None
        raw = landmarker.detector.forward(landmarker.detector.preprocess(image))["regressors"]
        results.append((result.landmarks, result.blendshapes, raw))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


@needs_litert
def test_threads_default_follows_facemirror_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEMIRROR_THREADS", "3")
    assert Blendshapes.from_weights(backend="litert").engine.threads == 3


@needs_litert
def test_onnx_only_network_falls_back_quietly(caplog: pytest.LogCaptureFixture) -> None:
    onnx_file = resolve("face_landmarks")
    with caplog.at_level(logging.INFO, logger="facemirror.backends.base"):
        mesh = FaceMesh.from_weights(onnx_file, backend="auto", threads=1)
    assert mesh.engine.info.backend == "onnx"
    assert "no TFLite model" in mesh.engine.fallbacks["litert"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("after fallback" in r.getMessage() for r in caplog.records)


@needs_litert
def test_a_real_litert_failure_still_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    onnx_file, gone = resolve("face_landmarks"), tmp_path / "gone.tflite"
    source = NetworkSource("facemesh", ("input",), ("landmarks",), onnx_path=onnx_file, tflite_path=gone)
    with caplog.at_level(logging.WARNING, logger="facemirror.backends.base"):
        engine = select_engine(source, ["litert", "onnx"])
    assert engine.info.backend == "onnx" and "does not exist" in engine.fallbacks["litert"]
    assert any(r.levelno == logging.WARNING and "after fallback" in r.getMessage() for r in caplog.records)


@needs_litert
def test_explicit_litert_without_tflite_is_refused() -> None:
    with pytest.raises(BackendUnavailable, match="no TFLite model for facemesh") as err:
        FaceMesh.from_weights(resolve("face_landmarks"), backend="litert")
    assert list(err.value.reasons) == ["litert"]


@needs_litert
def test_user_tflite_and_task_paths(tmp_path: Path) -> None:
    task = resolve("face_landmarker_task")
    tflite = tmp_path / "face_blendshapes.tflite"
    tflite.write_bytes(zipfile.ZipFile(task).read("face_blendshapes.tflite"))
    from_file = Blendshapes.from_weights(tflite)  # auto: only litert has a model for it
    from_task = Blendshapes.from_weights(task)
    assert from_file.engine.info.source == str(tflite) and from_file.engine.info.backend == "litert"
    assert from_task.engine.info.source == f"{task}:face_blendshapes.tflite"
    points = np.random.default_rng(1).random((478, 3)) * 300
    np.testing.assert_array_equal(from_file.predict(points), from_task.predict(points))
    with pytest.raises(BackendUnavailable, match="no ONNX file"):
        Blendshapes.from_weights(tflite, backend="onnx")


@needs_litert
def test_a_tflite_of_another_network_is_a_clear_error(tmp_path: Path) -> None:
    wrong = tmp_path / "face_detector.tflite"
    wrong.write_bytes(zipfile.ZipFile(resolve("face_landmarker_task")).read("face_detector.tflite"))
    with pytest.raises(BackendUnavailable, match=r"face_detector\.tflite: the TFLite inputs .* do not match facemesh"):
        FaceMesh.from_weights(wrong, backend="litert")


@needs_litert
def test_loading_keeps_stderr_clean_and_working() -> None:
    code = (
        "import sys; from facemirror.models.blendshapes import Blendshapes; "
        "Blendshapes.from_weights(backend='litert'); Blendshapes.from_weights(backend='litert'); "
        "print('still here', file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stderr == "still here\n"  # no "INFO: Created TensorFlow Lite XNNPACK delegate" line


def test_missing_module_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litert_engine, "available", lambda module: False)
    monkeypatch.setattr(backends_base, "available", lambda module: False)
    reason = get_backend("litert").availability()
    assert reason is not None and "pip install ai-edge-litert" in reason and "Intel macOS" in reason
    assert "litert" not in default_preference()
    with pytest.raises(BackendUnavailable, match="pip install ai-edge-litert"):
        select_engine(NetworkSource("x", ("a",), ("b",), tflite_path=Path("x.tflite")), "litert")


@needs_litert
def test_litert_comes_before_onnx_in_auto() -> None:
    order = default_preference()
    assert order.index("litert") < order.index("onnx")
