"""One person per video: the subject's face is chosen once, then kept through every re-detection.

A detector returns every face it sees, best score first; following "the best
face" switches person whenever someone else scores higher (a clinician, a
parent, a passer-by). :class:`SubjectLock` picks the subject once, by a
documented rule or the user's choice, and afterwards accepts only the face
that continues the subject's track:

- soon after the subject was last seen (:data:`MAX_GAP_S`), the face nearest
  to where they were, within half a face size plus one face size per second
  since then, and of a similar size;
- otherwise (after a longer gap, or a face that moved further), a face whose
  appearance (a hue-saturation histogram of the middle of the face) matches
  the subject's at least :data:`MIN_APPEARANCE`.

Trackers whose landmark model cannot tell that it lost the face (no presence
score, as STAR) also check, frame by frame, that the followed box still looks
like the subject (:meth:`SubjectLock.looks_like`).

A frame where the subject is not among the faces gets no face (the pipeline
writes ``success=0``), whoever else is in view. Box sizes are compared as
square roots of areas, so detectors with different box conventions (BlazeFace's
box is smaller than RetinaFace's) still match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from facemirror.models.base import Face

#: the default rule for the primary face, as reported in summaries and sidecars
PRIMARY_RULE = "largest face at the first detection (faces within 20% of its area: the one nearest the frame centre)"
#: a face this much smaller than the largest still counts as "largest" (then the most central wins)
AREA_TIE = 0.8
#: within this many seconds of the subject's last sighting, continuity of position decides
MAX_GAP_S = 0.5
#: Bhattacharyya coefficient of the appearance histograms needed after a longer gap (different people in one
#: clip measured 0.82-0.94 on ../shared/media/multi_face.jpg, the same face under box jitter 0.97-1.0)
MIN_APPEARANCE = 0.95
#: accepted size ratio (sqrt of box areas) between a candidate and the subject's last box
SIZE_RATIO = (0.4, 2.5)
#: a followed box whose appearance matches the subject's less than this no longer holds their face (trackers
#: whose landmark model has no presence score check it; background against a face measured 0.1-0.5 on the test clips)
MIN_FOLLOW_APPEARANCE = 0.7


def _centre(box: np.ndarray) -> np.ndarray:
    return (box[:2] + box[2:4]) / 2


def box_size(box: np.ndarray) -> float:
    """The side of the square with the box's area (0 for an empty box)."""
    w, h = float(box[2] - box[0]), float(box[3] - box[1])
    return math.sqrt(max(w, 0.0) * max(h, 0.0))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = box_size(a) ** 2 + box_size(b) ** 2 - inter
    return inter / union if union > 0 else 0.0


def appearance(image: np.ndarray, box: Sequence[float] | np.ndarray) -> np.ndarray | None:
    """A normalised hue-saturation histogram of the middle half of a face box (None for a tiny or empty box)."""
    b = np.asarray(box, dtype=np.float64)[:4]
    centre, half = _centre(b), (b[2:4] - b[:2]) / 4
    h, w = image.shape[:2]
    x1, y1 = (int(max(0, v)) for v in centre - half)
    x2, y2 = int(min(w, centre[0] + half[0])), int(min(h, centre[1] + half[1]))
    if x2 - x1 < 4 or y2 - y1 < 4:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(image[y1:y2, x1:x2]), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [18, 8], [0, 180, 0, 256]).ravel()
    total = float(hist.sum())
    return hist / total if total > 0 else None


def similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Bhattacharyya coefficient of two histograms (1 = identical; 0 when either is missing)."""
    if a is None or b is None:
        return 0.0
    return float(np.sqrt(a * b).sum())


@dataclass
class SubjectReport:
    """What the subject lock saw: how many faces, which rule chose the subject, when others were ignored."""

    rule: str
    faces_seen: int = 0
    detections: int = 0
    #: timestamps (s) of detection frames in which another face was in view and ignored
    ignored_at: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "primary_face_rule": self.rule,
            "faces_seen": self.faces_seen,
            "detections": self.detections,
            "frames_with_other_faces_ignored": len(self.ignored_at),
            "other_faces_ignored_at_s": [round(t, 3) for t in self.ignored_at],
        }


class SubjectLock:
    """Chooses the subject among a detection's faces, and only the subject, frame after frame.

    ``face_box`` ``(x, y, w, h)`` in first-frame pixels picks the face that
    overlaps it most; ``face_index`` picks the k-th face from the left (0 =
    leftmost) at the first detection with that many faces; otherwise
    :data:`PRIMARY_RULE`.
    """

    def __init__(self, face_box: Sequence[float] | None = None, face_index: int | None = None) -> None:
        if face_box is not None and face_index is not None:
            raise ValueError("give face_box or face_index, not both")
        if face_box is not None:
            x, y, w, h = (float(v) for v in face_box)
            if w <= 0 or h <= 0:
                raise ValueError(f"face_box must have a positive width and height, got {tuple(face_box)}")
            self._given: np.ndarray | None = np.array([x, y, x + w, y + h])
            rule = f"the face overlapping the given box {x:g},{y:g},{w:g},{h:g} (x, y, width, height)"
        else:
            self._given = None
            rule = PRIMARY_RULE if face_index is None else f"face number {face_index} from the left (0 = leftmost)"
        if face_index is not None and face_index < 0:
            raise ValueError(f"face_index must be 0 or more, got {face_index}")
        self.face_index = face_index
        self.report = SubjectReport(rule)
        self._box: np.ndarray | None = None
        self._time = -math.inf
        self._look: np.ndarray | None = None
        self._chosen_at = math.nan  # the timestamp of the last detection (none yet)

    def reset(self) -> None:
        """A new video: no subject yet."""
        self.report = SubjectReport(self.report.rule)
        self._box, self._time, self._look, self._chosen_at = None, -math.inf, None, math.nan

    def choose(self, faces: Sequence[Face], image: np.ndarray, timestamp: float) -> Face | None:
        """The subject among one detection's ``faces``, or None when they are not among them.

        A second detector's faces in the same frame (the far-face fallback) count as the same detection.
        """
        report, again = self.report, timestamp == self._chosen_at
        self._chosen_at = timestamp
        report.detections += 0 if again else 1
        report.faces_seen = max(report.faces_seen, len(faces))
        if not faces:
            return None
        pick = self._primary(faces, image) if self._box is None else self._continuing(faces, image, timestamp)
        if len(faces) > (pick is not None) and not (again and report.ignored_at[-1:] == [timestamp]):
            report.ignored_at.append(float(timestamp))
        return pick

    def seen(self, box: np.ndarray, timestamp: float, image: np.ndarray | None = None) -> None:
        """The subject's face is at ``box`` in this frame; with ``image``, refresh their appearance from it."""
        self._box, self._time = np.asarray(box, dtype=np.float64)[:4], float(timestamp)
        if image is not None:
            look = appearance(image, self._box)
            if look is not None:
                self._look = look if self._look is None else 0.7 * self._look + 0.3 * look

    def looks_like(self, image: np.ndarray, box: np.ndarray) -> bool:
        """Whether ``box`` in ``image`` still looks like the subject (True before their appearance is known)."""
        if self._look is None:
            return True
        return similarity(self._look, appearance(image, box)) >= MIN_FOLLOW_APPEARANCE

    def _primary(self, faces: Sequence[Face], image: np.ndarray) -> Face | None:
        if self._given is not None:
            given = self._given
            scored = [(_iou(f.box, given), f) for f in faces]
            scored = [(s, f) for s, f in scored if s > 0 or _inside(_centre(f.box), given)]
            return max(scored, key=lambda sf: sf[0])[1] if scored else None
        if self.face_index is not None:
            ordered = sorted(faces, key=lambda f: float(_centre(f.box)[0]))
            return ordered[self.face_index] if len(ordered) > self.face_index else None
        areas = [box_size(f.box) ** 2 for f in faces]
        largest = max(areas)
        mid = np.array([image.shape[1], image.shape[0]], dtype=np.float64) / 2
        tied = [f for f, a in zip(faces, areas) if a >= AREA_TIE * largest]
        return min(tied, key=lambda f: float(np.hypot(*(_centre(f.box) - mid))))

    def _continuing(self, faces: Sequence[Face], image: np.ndarray, timestamp: float) -> Face | None:
        """The face that continues the subject's track: the nearest within the gate, else the best look-alike."""
        assert self._box is not None
        size = max(box_size(self._box), 1.0)
        gap = max(0.0, float(timestamp) - self._time)
        best: tuple[tuple[int, float], Face] | None = None
        for face in faces:
            ratio = box_size(face.box) / size
            if not SIZE_RATIO[0] <= ratio <= SIZE_RATIO[1] * (1.0 + gap):
                continue
            distance = float(np.hypot(*(_centre(face.box) - _centre(self._box)))) / size
            if gap <= MAX_GAP_S and distance <= 0.5 + gap:
                key = (0, distance)  # continues the track where it was
            else:
                match = similarity(self._look, appearance(image, face.box))
                if match < MIN_APPEARANCE:
                    continue
                key = (1, -match)  # came back elsewhere, or after a longer gap: recognised by appearance
            if best is None or key < best[0]:
                best = (key, face)
        return None if best is None else best[1]


def _inside(point: np.ndarray, box: np.ndarray) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])
