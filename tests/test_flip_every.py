"""FaceLandmarker(flip_every=k): the symmetric pair on every k-th tracked frame, a held flip correction between.

Counts the mesh's engine batches per ``track`` call (2 = crop and mirror, 1 = the crop alone) on a real
video, and checks the in-between frames against the correction computed by hand from raw network outputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pytest

from facemirror.layouts.mediapipe_topology import MIRROR_PERMUTATION
from facemirror.models.face_landmarker import FaceLandmarker, LandmarkResult
from facemirror.models.facemesh import FLIP_ORIGIN, INPUT_SIZE, FaceMesh, roi_from_landmarks
from facemirror.models.roi import Roi
from landmarker_inputs import first_frames
from video_fixtures import shared_media


@pytest.fixture(scope="module")
def base() -> FaceLandmarker:
    return FaceLandmarker.from_weights(symmetric=True, with_blendshapes=False, threads=1)


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return first_frames(shared_media("single_face.mp4"), 10)


def blank() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.full((360, 640, 3), 120, np.uint8) + rng.integers(0, 8, (360, 640, 3), dtype=np.uint8)


class Counting:
    """A landmarker sharing ``base``'s networks whose mesh records the batch size of every engine call."""

    def __init__(self, base: FaceLandmarker, flip_every: int, symmetric: bool = True) -> None:
        self.mesh = FaceMesh(base.mesh.engine, symmetric=symmetric)
        self.landmarker = FaceLandmarker(base.detector, self.mesh, flip_every=flip_every)
        self.batches: list[int] = []
        forward = self.mesh.forward

        def counted(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            self.batches.append(len(inputs["input"]))
            return forward(inputs)

        self.mesh.forward = counted  # type: ignore[method-assign]

    def track(self, image: np.ndarray) -> tuple[LandmarkResult | None, list[int]]:
        """``track(image)`` and the mesh batch sizes it ran."""
        self.batches = []
        return self.landmarker.track(image), self.batches

    def calls(self, images: list[np.ndarray]) -> Iterator[list[int]]:
        for image in images:
            yield self.track(image)[1]


def raw(mesh: FaceMesh, image: np.ndarray, roi: Roi) -> tuple[np.ndarray, np.ndarray]:
    """The symmetric pair's raw crop points for ``roi``: (plain, mirror mapped back), each (478, 3)."""
    points = np.asarray(mesh.forward(mesh.preprocess(image, roi))["landmarks"], np.float64).reshape(2, -1, 3)
    mirrored = points[1][MIRROR_PERMUTATION].copy()
    mirrored[:, 0] = FLIP_ORIGIN - mirrored[:, 0]
    return points[0], mirrored


def shift(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance (x, y) between two landmark sets, pixels."""
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean())


def test_k1_is_the_symmetric_mesh_on_every_tracked_roi(base: FaceLandmarker, frames: list[np.ndarray]) -> None:
    """k=1 is today's behaviour: every frame the pair on the aligned ROI of the previous frame's landmarks."""
    counting = Counting(base, flip_every=1)
    previous = None
    for i, frame in enumerate(frames):
        result, batches = counting.track(frame)
        assert result is not None and result.roi is not None
        assert result.source == ("detected" if i == 0 else "tracked")
        assert batches == ([2, 2] if i == 0 else [2])
        if previous is not None:
            assert result.roi == roi_from_landmarks(previous, aligned=True)
        np.testing.assert_array_equal(result.landmarks, base.mesh.run(frame, result.roi).landmarks[0])
        previous = result.landmarks


def test_k3_runs_the_pair_on_calls_1_4_7(base: FaceLandmarker, frames: list[np.ndarray]) -> None:
    counting = Counting(base, flip_every=3)
    batches = list(counting.calls(frames))
    assert batches == [[2, 2], [1], [1], [2], [1], [1], [2], [1], [1], [2]]


def test_between_pairs_the_crop_gets_the_held_correction(base: FaceLandmarker, frames: list[np.ndarray]) -> None:
    counting = Counting(base, flip_every=3)
    mesh = counting.mesh
    results = [counting.track(frame)[0] for frame in frames[:4]]
    assert all(r is not None and r.roi is not None for r in results)
    rois = [r.roi for r in results if r is not None and r.roi is not None]
    lms = [r.landmarks for r in results if r is not None]
    plain0, mirrored0 = raw(mesh, frames[0], rois[0])
    held = (plain0 + mirrored0) / 2 - plain0
    assert 0.05 < float(np.abs(held[:, :2]).mean()) < 2.0  # the network's own asymmetry: small, not zero
    for i in (1, 2):
        plain, _ = raw(mesh, frames[i], rois[i])
        expected = rois[i].to_image(plain + held, INPUT_SIZE)
        np.testing.assert_allclose(lms[i], expected, atol=1e-3)
        without = rois[i].to_image(plain, INPUT_SIZE)
        assert float(np.abs(lms[i] - without)[:, :2].mean()) > 0.05  # the correction was applied
    np.testing.assert_array_equal(lms[3], mesh.run(frames[3], rois[3]).landmarks[0])  # call 4: the pair again


def test_held_correction_removes_most_of_the_bias(base: FaceLandmarker, frames: list[np.ndarray]) -> None:
    """On the frames between pairs, crop + held correction is far closer to the pair than the crop alone."""
    counting = Counting(base, flip_every=3)
    held, uncorrected = [], []
    for frame in frames:
        result, batches = counting.track(frame)
        assert result is not None and result.roi is not None
        if batches != [1]:
            continue
        pair = counting.mesh.run(frame, result.roi).landmarks[0]
        plain, _ = raw(counting.mesh, frame, result.roi)
        held.append(shift(result.landmarks, pair))
        uncorrected.append(shift(result.roi.to_image(plain, INPUT_SIZE), pair))
    assert len(held) == 6
    assert np.mean(held) < 0.5 * np.mean(uncorrected)
    assert max(held) < 1.0


def test_reset_and_redetection_restart_the_cadence(base: FaceLandmarker, frames: list[np.ndarray]) -> None:
    counting = Counting(base, flip_every=3)
    assert list(counting.calls(frames[:2])) == [[2, 2], [1]]
    counting.landmarker.reset()
    assert list(counting.calls(frames[2:6])) == [[2, 2], [1], [1], [2]]
    result, batches = counting.track(blank())  # the crop alone loses the face; detection finds none
    assert result is None and batches == [1]
    assert list(counting.calls(frames[6:10])) == [[2, 2], [1], [1], [2]]


def test_image_mode_always_runs_the_pair(base: FaceLandmarker, frames: list[np.ndarray]) -> None:
    counting = Counting(base, flip_every=4)
    for frame in frames[:3]:
        counting.batches = []
        assert counting.landmarker.process_image(frame) is not None
        assert counting.batches == [2, 2]


def test_plain_mesh_ignores_the_cadence(base: FaceLandmarker, frames: list[np.ndarray]) -> None:
    one, three = Counting(base, 1, symmetric=False), Counting(base, 3, symmetric=False)
    for frame in frames[:4]:
        (a, batches_a), (b, batches_b) = one.track(frame), three.track(frame)
        assert a is not None and b is not None
        assert batches_a == batches_b and set(batches_b) == {1}
        np.testing.assert_array_equal(a.landmarks, b.landmarks)
    with pytest.raises(ValueError, match="symmetric"):
        three.mesh.run_pair(frames[0], Roi(320.0, 180.0, 200.0, 200.0))


@pytest.mark.parametrize("k", [0, -2, 1.5, True, "3"])
def test_invalid_flip_every_raises(base: FaceLandmarker, k: object) -> None:
    with pytest.raises(ValueError, match="flip_every"):
        FaceLandmarker(base.detector, base.mesh, flip_every=k)  # type: ignore[arg-type]
