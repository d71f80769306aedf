"""The ONNX Face Landmarker (BlazeFace + FaceMesh + Blendshapes) against MediaPipe numbers stored in tests/data.

These run without mediapipe: tests/data/landmarker_reference.npz holds
mediapipe 1.2.2's own outputs for the same inputs (made by
tests/data/make_landmarker_reference.py). test_face_landmarker_mediapipe.py
compares against a live mediapipe where it is installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from facemirror.errors import FaceMirrorError
from facemirror.layouts.mediapipe_topology import MIRROR_PERMUTATION
from facemirror.models.base import Face
from facemirror.models.blazeface import ANCHORS, BlazeFace, weighted_nms
from facemirror.models.blendshapes import BLENDSHAPE_NAMES, Blendshapes
from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.models.facemesh import FLIP_ORIGIN, FaceMesh, roi_from_landmarks
from facemirror.models.landmark_smoothing import OneEuroSmoother
from facemirror.models.roi import Roi
from landmarker_inputs import DATA, astronaut, still_images, synthetic_video

REFERENCE = np.load(DATA / "landmarker_reference.npz")
#: MediaPipe parity required of the 478 points (mean distance, pixels)
MEAN_PX = 0.05


@pytest.fixture(scope="module")
def landmarker() -> FaceLandmarker:
    return FaceLandmarker.from_weights(threads=1)


@pytest.fixture(scope="module")
def stills() -> dict[str, np.ndarray]:
    return still_images()


def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean())


def test_anchor_layout() -> None:
    assert ANCHORS.shape == (896, 2)
    np.testing.assert_allclose(ANCHORS[:2], [[1 / 32, 1 / 32]] * 2)  # stride 8: 2 per cell
    np.testing.assert_allclose(ANCHORS[2], [3 / 32, 1 / 32])
    np.testing.assert_allclose(ANCHORS[512:518], [[1 / 16, 1 / 16]] * 6)  # stride 16: 6 per cell
    np.testing.assert_allclose(ANCHORS[-1], [15 / 16, 15 / 16])


def test_weighted_nms_averages_overlapping_boxes_by_score() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=np.float64)
    scores = np.array([0.9, 0.6, 0.7])
    kps = np.zeros((3, 6, 2))
    kps[1] += 5
    kept = weighted_nms(boxes, scores, kps, 0.3)
    assert [round(s, 2) for _, s, _ in kept] == [0.9, 0.7]
    np.testing.assert_allclose(kept[0][0], [0.4, 0.4, 10.4, 10.4])
    np.testing.assert_allclose(kept[0][2], 2.0)
    np.testing.assert_allclose(kept[1][0], boxes[2])


def test_roi_maps_crop_corners_back_to_its_corners() -> None:
    roi = Roi(200.0, 150.0, 120.0, 120.0, 0.4)
    corners = roi.to_image(np.array([[0, 256], [0, 0], [256, 0], [256, 256]], dtype=np.float64), 256)
    np.testing.assert_allclose(corners, roi.corners(), atol=1e-3)
    crop = np.array([[10.0, 20.0, 1.0]])
    pix = roi.to_image(crop, 256)
    back = roi.matrix(256) @ np.array([pix[0, 0], pix[0, 1], 1.0])
    np.testing.assert_allclose(back[:2] / back[2], crop[0, :2], atol=1e-3)
    assert pix[0, 2] == pytest.approx(120.0 / 256)


@pytest.mark.parametrize(
    "name", sorted(k.split("/")[1] for k in REFERENCE.files if k.endswith("/landmarks") and k.startswith("image/"))
)
def test_image_mode_matches_stored_mediapipe(landmarker: FaceLandmarker, stills: dict, name: str) -> None:
    result = landmarker.process_image(stills[name])
    assert result is not None and result.source == "detected"
    assert result.presence > 0.9 and result.detection_score is not None and result.detection_score > 0.5
    assert mean_distance(result.landmarks, REFERENCE[f"image/{name}/landmarks"]) < MEAN_PX
    assert result.blendshapes is not None and result.blendshapes.shape == (len(BLENDSHAPE_NAMES),)
    np.testing.assert_allclose(result.blendshapes, REFERENCE[f"image/{name}/blendshapes"], atol=0.01)


@pytest.mark.parametrize("name", ["astronaut+0", "single_face+30", "single_face-30"])
def test_detector_matches_stored_mediapipe(landmarker: FaceLandmarker, stills: dict, name: str) -> None:
    faces = landmarker.detector.detect(stills[name])
    boxes, kps = REFERENCE[f"detect/{name}/boxes"], REFERENCE[f"detect/{name}/keypoints"]
    assert len(faces) == len(boxes)
    # MediaPipe reports an integer origin and integer size (each truncated): compare those
    ours = np.concatenate([faces[0].box[:2], faces[0].box[2:] - faces[0].box[:2]])
    theirs = np.concatenate([boxes[0][:2], boxes[0][2:] - boxes[0][:2]])
    np.testing.assert_allclose(ours, theirs, atol=1.0)
    np.testing.assert_allclose(faces[0].keypoints, kps[0], atol=1.0)


def test_video_mode_tracks_and_matches_stored_mediapipe() -> None:
    landmarker = FaceLandmarker.from_weights(with_blendshapes=False, threads=1)
    smoother = OneEuroSmoother()
    reference = REFERENCE["video/landmarks"]
    sources = []
    for k, frame in enumerate(synthetic_video()):
        result = landmarker.track(frame)
        assert result is not None
        sources.append(result.source)
        smoothed = smoother(result.landmarks, k / 30)
        assert mean_distance(smoothed, reference[k]) < MEAN_PX, k
    assert sources == ["detected"] + ["tracked"] * (len(reference) - 1)


def test_tracking_roi_follows_the_eye_line(landmarker: FaceLandmarker) -> None:
    result = landmarker.process_image(astronaut())
    assert result is not None
    roi = roi_from_landmarks(result.landmarks)
    lm = result.landmarks
    assert roi.width == roi.height == pytest.approx(1.5 * np.ptp(lm[:, :2], axis=0).max())
    eyes = lm[263, :2] - lm[33, :2]
    assert roi.rotation == pytest.approx(np.arctan2(eyes[1], eyes[0]), abs=1e-6)


def test_no_face_gives_no_detection(landmarker: FaceLandmarker) -> None:
    rng = np.random.default_rng(0)
    blank = np.full((360, 640, 3), 120, np.uint8) + rng.integers(0, 8, (360, 640, 3), dtype=np.uint8)
    assert landmarker.detector.detect(blank) == []
    assert landmarker.process_image(blank) is None
    tracker = FaceLandmarker(landmarker.detector, landmarker.mesh)
    assert tracker.track(astronaut()) is not None
    assert tracker.track(blank) is None  # tracking lost, re-detection finds nothing
    assert tracker.track(astronaut()).source == "detected"


def test_a_detection_the_mesh_rejects_keeps_the_followed_face(landmarker: FaceLandmarker) -> None:
    """A scheduled re-detection whose face the mesh scores too low must not drop the track that is going well."""
    image = astronaut()
    tracker = FaceLandmarker(landmarker.detector, landmarker.mesh)
    assert tracker.track(image) is not None
    height, width = image.shape[:2]
    nowhere = Face(np.array([0.0, 0.0, width / 8, height / 8]), 0.9, np.zeros((6, 2)))  # a corner without a face
    assert tracker.start(image, nowhere) is None
    followed = tracker.follow(image)
    assert followed is not None and followed.source == "tracked"


def test_symmetric_mode_reflects_exactly(landmarker: FaceLandmarker) -> None:
    """Swapping the crop and its mirror in the batch must mirror the averaged points (crop coordinates)."""
    mesh = FaceMesh(landmarker.mesh.engine, symmetric=True)
    result = landmarker.process_image(astronaut())
    assert result is not None and result.roi is not None
    pair = mesh.preprocess(astronaut(), result.roi)["input"]
    identity = Roi(128.0, 128.0, 256.0, 256.0, 0.0)  # crop coordinates pass through unchanged
    points = mesh.postprocess(mesh.forward({"input": pair}), identity).landmarks[0]
    swapped = mesh.postprocess(mesh.forward({"input": pair[::-1].copy()}), identity).landmarks[0]
    np.testing.assert_allclose(swapped[:, 0], FLIP_ORIGIN - points[MIRROR_PERMUTATION, 0], atol=1e-3)
    np.testing.assert_allclose(swapped[:, 1], points[MIRROR_PERMUTATION, 1], atol=1e-3)
    # averaging with the mirror moves points a little (the network's own asymmetry), never far
    plain = landmarker.mesh.predict(astronaut(), result.roi)
    assert 0 < mean_distance(mesh.run(astronaut(), result.roi).landmarks[0], plain) < 1.0


def test_batched_rois_equal_single_calls(landmarker: FaceLandmarker, stills: dict) -> None:
    image = stills["astronaut+0"]
    a = landmarker.process_image(image)
    assert a is not None and a.roi is not None
    shifted = Roi(a.roi.cx + 5, a.roi.cy - 3, a.roi.width, a.roi.height, a.roi.rotation)
    both = landmarker.mesh.run(image, [a.roi, shifted])
    np.testing.assert_allclose(both.landmarks[0], landmarker.mesh.run(image, a.roi).landmarks[0], atol=1e-3)
    np.testing.assert_allclose(both.landmarks[1], landmarker.mesh.run(image, shifted).landmarks[0], atol=1e-3)


def test_same_result_with_one_or_two_threads(landmarker: FaceLandmarker) -> None:
    two = FaceLandmarker.from_weights(with_blendshapes=False, threads=2)
    image = astronaut()
    a, b = landmarker.process_image(image), two.process_image(image)
    assert a is not None and b is not None
    np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-4)


def test_bad_inputs_raise_facemirror_errors(landmarker: FaceLandmarker) -> None:
    with pytest.raises(FaceMirrorError, match="BGR uint8"):
        landmarker.detector.detect(np.zeros((64, 64), np.uint8))
    with pytest.raises(FaceMirrorError, match="478"):
        Blendshapes(engine=None).preprocess(np.zeros((10, 2)))
    with pytest.raises(FaceMirrorError):
        BlazeFace.from_weights(DATA / "no_such_detector.onnx", backend="onnx")


def test_smoother_passes_first_frame_and_damps_jitter() -> None:
    smoother = OneEuroSmoother()
    base = np.random.default_rng(1).uniform(100, 300, (478, 3))
    np.testing.assert_array_equal(smoother(base, 0.0), base)
    jittered = base + 0.5
    out = smoother(jittered, 1 / 30)
    assert np.all(np.abs(out - base) < 0.5)  # pulled back towards the previous frame
