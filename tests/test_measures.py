"""Clinical measures in millimetres per side, on a real face made exactly symmetric and then moved by known amounts.

The face of tests/data/single_face.jpg is made mirror-symmetric and rendered at 1080p (about 500 px tall). A
clip of it: a rest segment, the subject's right mouth corner drooping and coming back (a known one-sided
movement), the right brow lowered, the right upper lid lowered, and the left corner lowered. The truth of every
measure in every frame is the measure of the rest landmarks moved by the known warp
(:class:`facemirror.asymmetry.synthetic.Droop`); the measured left-right differences must recover it.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from facemirror import Measures, Pipeline
from facemirror.asymmetry.synthetic import Droop
from facemirror.layouts import MEDIAPIPE_478
from facemirror.measures import NAMES, frame_measures
from facemirror.measures.scale import Scale, video_scale
from facemirror.mirror.midline import Midline
from facemirror.models.face_landmarker import FaceLandmarker
from symmetric_face import HEIGHT, WIDTH, Pose, SymmetricFace, make_symmetric_face, render, write_video

FACE_PX = 500.0
#: (measure, the moved landmark, the droop's radii across/up/down in face heights, amount in face heights)
CORNER = ("commissure_height_mm", 61, (0.12, 0.14, 0.14), 0.02)  # 10 px, about 4 mm
BROW = ("brow_height_mm", 105, (0.20, 0.25, 0.07), 0.012)  # 6 px, kept clear of the pupil
LID = ("palpebral_fissure_mm", 159, (0.14, 0.10, 0.02), 0.008)  # 4 px, kept clear of the pupil
LEFT_CORNER = ("commissure_height_mm", 291, (0.12, 0.14, 0.14), 0.02)


@dataclass
class KnownClip:
    path: Path
    truth: np.ndarray  # (frames, measures, 2) in pixels
    face: SymmetricFace
    centre: tuple[float, float]


def _segments() -> list[tuple[tuple[str, int, tuple[float, float, float], float] | None, float]]:
    """(movement, fraction of it) per frame: 15 rest, 15 right corner up and down (peak at frame 22), 8 brow,
    8 lid, 8 left corner."""
    frames: list[tuple[tuple[str, int, tuple[float, float, float], float] | None, float]] = [(None, 0.0)] * 15
    frames += [(CORNER, 1.0 - abs(k - 7) / 7) for k in range(15)]
    frames += [(BROW, 1.0)] * 8 + [(LID, 1.0)] * 8 + [(LEFT_CORNER, 1.0)] * 8
    return frames


@pytest.fixture(scope="module")
def known_clip(tmp_path_factory: pytest.TempPathFactory) -> KnownClip:
    plain = FaceLandmarker.from_weights(backend="onnx", with_blendshapes=False)
    face = make_symmetric_face(plain)
    centre = (WIDTH / 2, HEIGHT / 2)
    base, _, _ = render(face, Pose(0.0, FACE_PX / face.face_height, *centre))
    landmarks = FaceLandmarker.from_weights(backend="onnx", with_blendshapes=False, symmetric=True)
    rest = landmarks.process_image(base)
    assert rest is not None
    points = rest.landmarks[:, :2].astype(np.float64)
    axis = Midline((centre[0], centre[1]), (0.0, 1.0))
    images, truth = [], []
    for movement, fraction in _segments():
        image, moved = base, points
        if movement is not None and fraction > 0:
            _, index, (across, up, down), amount = movement
            droop = Droop(
                tuple(points[index]),
                fraction * amount * FACE_PX,
                (0.0, 1.0),
                across * FACE_PX,
                up * FACE_PX,
                down * FACE_PX,
            )
            image, moved = droop.apply(base), points + droop.displacement(points)
        images.append(image)
        truth.append(frame_measures(moved, MEDIAPIPE_478, axis))
    path = write_video(tmp_path_factory.mktemp("known") / "known.mp4", images)
    return KnownClip(path, np.array(truth), face, centre)


def measured(table: Path) -> tuple[np.ndarray, float]:
    """(frames, measures, 2) from a measures CSV, and its mm_per_px."""
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    values = np.array([[[float(r[f"{n}_{s}"]) for s in ("left", "right")] for n in NAMES] for r in rows])
    return values, float(rows[0]["mm_per_px"])


@pytest.fixture(scope="module")
def measures(known_clip: KnownClip, tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, float, dict]:
    out = tmp_path_factory.mktemp("measured")
    result = Pipeline(progress=False).measure(known_clip.path, out)
    assert result.job == "measure"  # as the profiler and the batch summary name it
    values, mm_per_px = measured(result.outputs["measures_csv"])
    return values, mm_per_px, json.loads(result.outputs["summary_json"].read_text())


def recovery(values: np.ndarray, truth: np.ndarray, measure: str, frames: slice, mm_per_px: float) -> float:
    """Measured change of (left - right) from rest over the true change, averaged over ``frames``."""
    i = NAMES.index(measure)
    got = (values[frames, i, 0] - values[frames, i, 1]) - np.mean(values[:15, i, 0] - values[:15, i, 1])
    want = ((truth[frames, i, 0] - truth[frames, i, 1]) - (truth[0, i, 0] - truth[0, i, 1])) * mm_per_px
    return float(np.mean(got) / np.mean(want))


def test_a_symmetric_face_measures_the_same_on_both_sides(measures: tuple[np.ndarray, float, dict]) -> None:
    values, mm_per_px, _ = measures
    rest = values[:15]
    for i, name in enumerate(NAMES):
        if name == "lip_opening_area_mm2":
            continue  # an area: compared below in square millimetres
        limit = 0.5 if name.endswith("_deg") else 0.2
        assert np.abs(rest[:, i, 0] - rest[:, i, 1]).max() < limit, name
    area = NAMES.index("lip_opening_area_mm2")
    assert np.abs(rest[:, area, 0] - rest[:, area, 1]).max() < 2.0
    assert 0.05 < mm_per_px < 0.5


@pytest.mark.parametrize(
    ("movement", "frames", "bounds"),
    [(CORNER, slice(19, 26), (0.9, 1.1)), (BROW, slice(30, 38), (0.9, 1.1)), (LID, slice(38, 46), (0.85, 1.15))],
)
def test_known_one_sided_movements_are_recovered(
    known_clip: KnownClip, measures: tuple[np.ndarray, float, dict], movement: tuple, frames: slice, bounds: tuple
) -> None:
    values, mm_per_px, _ = measures
    got = recovery(values, known_clip.truth, movement[0], frames, mm_per_px)
    assert bounds[0] <= got <= bounds[1], got


def test_fields_made_on_several_threads_give_the_same_measures(
    known_clip: KnownClip, measures: tuple[np.ndarray, float, dict], tmp_path: Path
) -> None:
    """The asymmetry fields of successive frames are made at once on a pool; each still meets its own frame."""
    result = Pipeline(measures=Measures(flow_threads=3), progress=False).measure(known_clip.path, tmp_path)
    values, mm_per_px = measured(result.outputs["measures_csv"])
    assert mm_per_px == measures[1]
    np.testing.assert_array_equal(values, measures[0])


def test_landmarks_alone_fall_short(known_clip: KnownClip, tmp_path: Path) -> None:
    """Without the asymmetry field the same clip recovers far less: the field is what makes the numbers right."""
    result = Pipeline(measures=Measures(flow=False), progress=False).measure(known_clip.path, tmp_path)
    values, mm_per_px = measured(result.outputs["measures_csv"])
    assert recovery(values, known_clip.truth, CORNER[0], slice(19, 26), mm_per_px) < 0.8
    assert recovery(values, known_clip.truth, BROW[0], slice(30, 38), mm_per_px) < 0.8


def test_a_movement_of_the_subjects_right_shows_on_the_right(
    known_clip: KnownClip, measures: tuple[np.ndarray, float, dict], tmp_path: Path
) -> None:
    values, _, _ = measures
    height = NAMES.index("commissure_height_mm")
    rest = values[:15, height].mean(axis=0)
    right_corner, left_corner = values[22, height] - rest, values[50:54, height].mean(axis=0) - rest
    # the corner lowered shows in its own side's column; the other side's changes less than a fifth of it
    assert right_corner[1] > 3.0 and abs(right_corner[0]) < 0.2 * right_corner[1]
    assert left_corner[0] > 3.0 and abs(left_corner[1]) < 0.2 * left_corner[0]
    # the same clip recorded as a selfie (mirrored) gives the same sides when told so
    selfie = tmp_path / "selfie.mp4"
    frames = []
    import av

    with av.open(str(known_clip.path)) as container:
        frames = [f.to_ndarray(format="bgr24")[:, ::-1].copy() for f in container.decode(video=0)]
    write_video(selfie, frames)
    result = Pipeline(selfie=True, progress=False).measure(selfie, tmp_path / "out")
    mirrored, _ = measured(result.outputs["measures_csv"])
    rest = mirrored[:15, height].mean(axis=0)
    grew = mirrored[22, height] - rest
    assert grew[1] > 3.0 and abs(grew[0]) < 0.2 * grew[1]


def test_the_summary_finds_rest_peak_and_which_side_moved_less(measures: tuple[np.ndarray, float, dict]) -> None:
    _, _, summary = measures
    assert summary["rest_rule"] == "the first 1 s of frames with a face" and summary["rest_frames"] >= 15
    row = next(r for r in summary["measures"] if r["name"] == "commissure_height_mm")
    # the right corner's largest excursion is the clip's peak (frame 23, numbered from 1) or the left corner's
    assert row["peak_frame_right"] == 23
    assert row["excursion_right"] > 3.0
    assert 0.7 < row["ratio"] <= 1.0  # both corners moved by the same amount, at different times
    brow = next(r for r in summary["measures"] if r["name"] == "brow_height_mm")
    assert brow["moved_less"] == "left" and brow["ratio"] < 0.2


def test_the_iris_scale_follows_the_face_size(tmp_path: Path) -> None:
    """A face rendered at a known size gives millimetres per pixel in proportion (within 5%)."""
    plain = FaceLandmarker.from_weights(backend="onnx", with_blendshapes=False)
    face = make_symmetric_face(plain)
    scales = {}
    for px in (250.0, 600.0):
        image, _, _ = render(face, Pose(0.0, px / face.face_height, WIDTH / 2, HEIGHT / 2))
        path = write_video(tmp_path / f"face{int(px)}.mp4", [image] * 3)
        result = Pipeline(measures=Measures(flow=False), progress=False).measure(path, tmp_path / str(int(px)))
        scales[px] = result.video_summary["scale"]["mm_per_px"]
        assert result.video_summary["scale"]["method"] == "iris"
    assert scales[250.0] / scales[600.0] == pytest.approx(600.0 / 250.0, rel=0.05)
    # given scales take precedence, and say so
    result = Pipeline(measures=Measures(flow=False, ipd_mm=60.0), progress=False).measure(path, tmp_path / "ipd")
    assert result.video_summary["scale"]["source"] == "pupil distance given (60 mm)"
    assert result.video_summary["scale"]["method"] == "pupil distance"


def test_measure_on_the_command_line(known_clip: KnownClip, tmp_path: Path) -> None:
    from facemirror.cli import main

    with pytest.raises(SystemExit) as done:
        main(
            [
                "-q",
                "measure",
                str(known_clip.path),
                "-o",
                str(tmp_path),
                "--mm-per-px",
                "0.25",
                "--no-flow",
                "--affected-side",
                "right",
            ]
        )
    assert done.value.code == 0
    values, mm_per_px = measured(tmp_path / "known_measures.csv")
    assert mm_per_px == pytest.approx(0.25)
    summary = json.loads((tmp_path / "known_summary.json").read_text())
    assert summary["affected_side"] == "right"
    row = next(r for r in summary["measures"] if r["name"] == "brow_height_mm")
    assert row["affected_over_healthy"] > 1.0  # the right brow moved, the left not
    assert math.isfinite(values[0, 0, 0])


def test_the_scale_says_how_it_was_obtained() -> None:
    """Given, from a pupil distance, from the iris, assumed (a layout without an iris ring, e.g. WFLW-98), or none."""
    iris, pupils, nothing = np.array([20.0, np.nan, 22.0]), np.array([60.0, 62.0, np.nan]), np.full(3, np.nan)
    assert video_scale(Measures(mm_per_px=0.2), nothing, nothing).method == "given"
    assert video_scale(Measures(ipd_mm=61.0), iris, pupils).mm_per_px == pytest.approx(61.0 / 61.0)
    scale = video_scale(Measures(), iris, pupils)
    assert (scale.method, scale.mm_per_px) == ("iris", pytest.approx(11.77 / 21.0))
    assert video_scale(Measures(), nothing, pupils).method == "assumed"
    none = video_scale(Measures(), nothing, nothing)
    assert none.method == "none" and math.isnan(none.mm_per_px)
    with pytest.raises(ValueError, match="unknown scale method 'guessed'"):
        Scale(0.1, "guessed", "a guess")
