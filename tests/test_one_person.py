"""One person per video: the followed face never switches to someone else (issue 15), for both kinds of tracker:
the embedded MediaPipe tracker, and the detect-then-landmark tracker with the real RetinaFace."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from facemirror import Outputs, Pipeline, Tracking
from facemirror.face import DetectLandmarkTracker, FaceTracker, SubjectLock
from facemirror.models import RetinaFace
from fixtures_retinaface import retinaface_weights
from layout_faces import MeanShape
from multi_face_clips import Clip, leave_and_return, panned_group, walk_in

FAST = Outputs(quality="fast", debug_video=False)


def embedded(**tracking: object) -> Pipeline:
    return Pipeline(tracking=Tracking(**tracking), outputs=FAST, progress=False)  # type: ignore[arg-type]


def detect_then_landmark(face_box: tuple[float, ...] | None = None) -> Pipeline:
    """RetinaFace (real weights) + a fast stand-in landmark model, behind the generic detect-then-landmark tracker."""
    detector = RetinaFace.from_weights(retinaface_weights(), backend="onnx")
    tracker = DetectLandmarkTracker(detector, MeanShape(), subject=SubjectLock(face_box))
    return Pipeline(tracker, outputs=FAST, progress=False)


def followed(pipeline: Pipeline, clip: Clip, out: Path) -> tuple[list[int | None], list[dict[str, str]]]:
    """Mirror the clip; per frame, the person whose true box holds the followed face's box centre (None: no face)."""
    result = pipeline.mirror(clip.path, out)
    with open(result.outputs["midline_csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    who: list[int | None] = []
    for i, row in enumerate(rows):
        if row["face_x1"] == "":
            who.append(None)
            continue
        box = np.array([float(row[k]) for k in ("face_x1", "face_y1", "face_x2", "face_y2")])
        person = clip.person_at(i, (box[:2] + box[2:]) / 2)
        who.append(-1 if person is None else person)  # -1: a face box on no one
    return who, rows


TRACKERS = {"embedded": embedded, "detect-then-landmark": detect_then_landmark}


@pytest.mark.parametrize("kind", TRACKERS)
def test_the_panned_group_keeps_one_person(kind: str, tmp_path: Path) -> None:
    clip = panned_group(tmp_path / "group.mp4")
    who, rows = followed(TRACKERS[kind](), clip, tmp_path / "out")
    subject = who[0]
    assert subject is not None and subject >= 0
    assert who == [subject] * len(who), "".join("-" if w is None else str(w) for w in who)
    assert all(row["success"] == "1" for row in rows)
    if kind == "embedded":  # the mesh follows the face between detections: the midline moves with the camera only
        x = np.array([float(row["midline_x"]) for row in rows])
        assert np.abs(np.diff(x)).max() < 100 / 150 + 1.0  # the pan is 0.67 px per frame


@pytest.mark.parametrize("kind", TRACKERS)
def test_a_larger_face_walking_in_does_not_take_over(kind: str, tmp_path: Path) -> None:
    clip = walk_in(tmp_path / "walk.mp4")
    who, _ = followed(TRACKERS[kind](), clip, tmp_path / "out")
    assert who == [0] * len(who)  # the subject, never the larger newcomer (who is in view from frame 45)
    assert not np.isnan(clip.boxes[-1, 1]).any()


@pytest.mark.parametrize("kind", TRACKERS)
def test_subject_leaves_and_returns_while_someone_else_stays(kind: str, tmp_path: Path) -> None:
    clip = leave_and_return(tmp_path / "leave.mp4")
    who, rows = followed(TRACKERS[kind](), clip, tmp_path / "out")
    in_place = [i for i in range(len(who)) if i / 30 < 1.0 or i / 30 >= 3.6]
    away = [i for i in range(len(who)) if np.isnan(clip.boxes[i, 0]).any()]
    assert len(away) > 40
    assert all(who[i] == 0 for i in in_place), "".join("-" if w is None else str(w) for w in who)
    # never the other person's numbers: while the subject is away, no face (the midline is held 0.5 s, then none)
    assert 1 not in who
    assert all(who[i] is None and rows[i]["success"] == "0" for i in away if i / 30 > 2.0)


@pytest.mark.parametrize("kind", TRACKERS)
def test_a_user_chosen_face_is_followed_instead(kind: str, tmp_path: Path) -> None:
    clip = panned_group(tmp_path / "group.mp4", frames=60)
    right = clip.boxes[0, 3]  # the woman on the right, not the default rule's choice
    x1, y1, x2, y2 = right
    box = (float(x1), float(y1), float(x2 - x1), float(y2 - y1))
    pipeline = embedded(face_box=box) if kind == "embedded" else detect_then_landmark(face_box=box)
    who, _ = followed(pipeline, clip, tmp_path / "out")
    assert who == [3] * len(who)


def test_face_box_and_face_index_on_the_cli(tmp_path: Path) -> None:
    from facemirror.cli import main

    clip = panned_group(tmp_path / "group.mp4", frames=30)
    x1, y1, x2, y2 = clip.boxes[0, 3]
    for option, value, person in (
        ("--face-box", f"{x1:.0f},{y1:.0f},{x2 - x1:.0f},{y2 - y1:.0f}", 3),
        ("--face-index", "0", 0),
    ):
        out = tmp_path / option.strip("-")
        with pytest.raises(SystemExit) as done:
            main(["-q", "mirror", str(clip.path), "-o", str(out), "--quality", "fast", "--no-debug", option, value])
        assert done.value.code == 0
        with open(out / "group_midline.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        centres = [
            np.array([float(r["face_x1"]) + float(r["face_x2"]), float(r["face_y1"]) + float(r["face_y2"])]) / 2
            for r in rows
        ]
        assert [clip.person_at(i, c) for i, c in enumerate(centres)] == [person] * len(rows), option


def test_the_summary_and_sidecar_say_who_was_followed(tmp_path: Path) -> None:
    import json

    clip = panned_group(tmp_path / "group.mp4", frames=90)
    result = embedded().mirror(clip.path, tmp_path / "out")
    report = result.face_report
    assert report["faces_seen"] >= 4 and report["frames_with_other_faces_ignored"] == report["detections"] == 2
    assert "largest face" in report["primary_face_rule"]
    assert "faces in view; following largest face" in result.summary()
    sidecar = json.loads(Path(f"{result.outputs['midline_csv']}.json").read_text())
    assert sidecar["parameters"]["face_report"]["faces_seen"] == report["faces_seen"]


def test_a_tracker_is_a_face_tracker() -> None:
    assert issubclass(DetectLandmarkTracker, FaceTracker)


def test_a_second_detector_on_the_same_frame_is_one_detection() -> None:
    """The far-face fallback asks the lock again in the frame where the short-range detector missed the subject."""
    from facemirror.models import Face

    image = np.zeros((200, 400, 3), np.uint8)
    subject, other = Face(np.array([140.0, 40, 240, 160]), 0.9), Face(np.array([300.0, 60, 360, 130]), 0.9)
    lock = SubjectLock()
    assert lock.choose([subject, other], image, 0.0) is subject  # the primary face, one other ignored
    lock.seen(subject.box, 0.0)
    assert lock.choose([other], image, 0.1) is None  # the short-range detector sees only the other person
    assert lock.choose([subject, other], image, 0.1) is subject  # the far-face detector finds the subject too
    report = lock.report.as_dict()
    assert report["detections"] == 2 and report["other_faces_ignored_at_s"] == [0.0, 0.1]
