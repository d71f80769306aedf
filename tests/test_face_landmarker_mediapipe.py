"""The ONNX Face Landmarker against a live mediapipe on the real media in ../shared (skips without either)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.models.landmark_smoothing import OneEuroSmoother
from landmarker_inputs import ANGLES, first_frames, rotate

pytest.importorskip("mediapipe", reason="mediapipe (extra 'mediapipe') is not installed: live reference skipped")
from facemirror.models.mediapipe_landmarker import MediaPipeLandmarker

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
VIDEO = MEDIA / "single_face.mp4"
MEAN_PX = 0.05

pytestmark = pytest.mark.skipif(not VIDEO.is_file(), reason=f"real test media not found at {MEDIA}")


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return first_frames(VIDEO, 8)


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    with MediaPipeLandmarker() as ref:
        yield ref


@pytest.fixture(scope="module")
def landmarker() -> FaceLandmarker:
    return FaceLandmarker.from_weights(threads=1)


def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean())


@pytest.mark.parametrize("angle", ANGLES)
@pytest.mark.parametrize("which", ["frame0", "photo"])
def test_image_mode_matches_live_mediapipe(landmarker, reference, frames, which: str, angle: int) -> None:  # type: ignore[no-untyped-def]
    base = frames[0] if which == "frame0" else cv2.imread(str(MEDIA / "single_face.jpg"))
    image = rotate(base, angle)
    ours, theirs = landmarker.process_image(image), reference.process_image(image)
    assert ours is not None and theirs is not None
    assert mean_distance(ours.landmarks, theirs.landmarks) < MEAN_PX
    np.testing.assert_allclose(ours.blendshapes, theirs.blendshapes, atol=0.01)


def test_video_mode_matches_live_mediapipe(reference, frames) -> None:  # type: ignore[no-untyped-def]
    ours = FaceLandmarker.from_weights(with_blendshapes=False, threads=1)
    smoother = OneEuroSmoother()
    for k, frame in enumerate(frames):
        timestamp_ms = int(k * 1000 / 30)
        mine, theirs = ours.track(frame), reference.track(frame, timestamp_ms)
        assert mine is not None and theirs is not None
        assert mine.source == ("detected" if k == 0 else "tracked")
        assert mean_distance(smoother(mine.landmarks, timestamp_ms / 1000), theirs.landmarks) < MEAN_PX, k


def test_detector_boxes_match_live_mediapipe(landmarker, reference) -> None:  # type: ignore[no-untyped-def]
    image = cv2.imread(str(MEDIA / "multi_face.jpg"))
    ours, theirs = landmarker.detector.detect(image), reference.detect(image)
    assert len(ours) == len(theirs) >= 2
    for a, b in zip(ours, theirs):
        size_a, size_b = a.box[2:] - a.box[:2], b.box[2:] - b.box[:2]
        np.testing.assert_allclose(np.r_[a.box[:2], size_a], np.r_[b.box[:2], size_b], atol=1.0)
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1.0)
