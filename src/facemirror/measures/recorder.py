"""Per-frame clinical measures of a video, landmarks corrected by the asymmetry field, in millimetres per side.

Each frame (``add``) gives the measures twice, in pixels: from the landmarks,
and from the landmarks moved by the mirror-flow asymmetry field
(:func:`facemirror.asymmetry.correct_pairs`), whose left-right *difference*
is the true one (landmarks capture about half of a one-sided movement; the
field 0.95-1.00, docs/measures.md). The field cannot say which side moved, so
at the end (``finish``) the part of each difference the landmarks missed is
given to the sides in proportion to the square of how far each side's
landmarks moved from the rest segment (squared, because the landmarks spread
a one-sided movement a little onto the other side; both sides equally when
neither moved, e.g. a photo; all to the affected side when the user names it
and there is no rest to compare with). A measure read on one side only keeps
that side's landmark value. Then the video's scale turns pixels into
millimetres.

Only frames with a face, a midline and a head turned less than ``max_yaw_deg``
are measured (``success``); the rest get empty cells. Memory: a few numbers per
frame, and the crops of the few key frames kept for the report.
"""

from __future__ import annotations

import heapq
import math
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from facemirror.asymmetry import AsymmetryField, asymmetry_field, correct_pairs, overlay_heatmap
from facemirror.layouts import LandmarkLayout
from facemirror.measures.geometry import (
    MEASURES,
    NAMES,
    POWER,
    SidePoints,
    frame_measures,
    iris_diameter,
    pupil_distance,
    side_points,
)
from facemirror.measures.rest import rest_mask
from facemirror.measures.scale import Scale, video_scale
from facemirror.mirror.midline import Midline
from facemirror.mirror.reflect import mirror_both, reflection_matrix
from facemirror.settings import Measures
from facemirror.tabular import CsvTableWriter

#: the measures in millimetres (lengths), whose differences rank frames for the report's key frames
_LENGTHS = [i for i, (_, unit) in enumerate(MEASURES) if unit == "mm"]
#: full scale of the heat map: 5 mm at an adult's 63-mm pupil distance
HEATMAP_FULL_SCALE = 5.0 / 63.0
#: key frames are at least this far apart (seconds)
KEY_FRAME_SPACING_S = 1.0
#: a side whose landmarks moved no more than this from rest counts as not moving, per unit: lengths 0.25 px, the lip
#: opening 5 px² (0.25 px along a 20-px half-opening), the smile angle 0.25 degrees (0.25 px at a corner 57 px out)
STILL = {"mm": 0.25, "mm2": 5.0, "deg": 0.25}
_STILL = np.array([STILL[unit] for _, unit in MEASURES])


def measure_columns() -> list[str]:
    """The columns of ``{stem}_measures.csv``."""
    return [
        "frame",
        "timestamp",
        "success",
        "mm_per_px",
        *(f"{name}_{side}" for name in NAMES for side in ("left", "right")),
    ]


def share_left(plain: np.ndarray, rest: np.ndarray, affected_side: str | None = None) -> np.ndarray:
    """(frames, M): the part of each frame's missed difference given to the subject's left side.

    ``plain`` (frames, M, 2): the landmarks' measures; ``rest``: which frames are at rest. Shared in proportion
    to the square of how far each side moved from its rest median; equally when neither side moved by more than
    :data:`STILL` (in the measure's pixel unit); without a rest segment, all to ``affected_side`` when named, else
    equally.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a measure never read at rest: its median is NaN
        resting = np.nanmedian(plain[rest], axis=0) if rest.any() else np.full(plain.shape[1:], np.nan)
        moved = np.abs(plain - resting)
        weight = moved**2  # squared: the landmarks spread a one-sided movement a little onto the other side
        share = np.where(moved.max(axis=-1) > _STILL, weight[..., 0] / (weight[..., 0] + weight[..., 1]), np.nan)
    fallback = {"left": 1.0, "right": 0.0}.get(affected_side or "", 0.5)
    still = ~np.isfinite(share)
    share[still] = fallback if rest.sum() <= 1 else 0.5
    return share


@dataclass
class KeyFrame:
    """A frame of large asymmetry: the face as recorded, both mirrored faces and the heat map (BGR crops)."""

    frame: int
    timestamp: float
    score: float
    measure: str  # the measure whose sides differed most (relative to the pupil distance)
    original: np.ndarray
    left_mirrored: np.ndarray
    right_mirrored: np.ndarray
    heatmap: np.ndarray | None

    def __lt__(self, other: KeyFrame) -> bool:
        return self.score < other.score


@dataclass
class MeasureTable:
    """A video's measures: per frame (``values[frame, measure, side]``, side 0 = subject's left), in final units."""

    frames: np.ndarray
    timestamps: np.ndarray
    success: np.ndarray
    values: np.ndarray
    scale: Scale
    rest: np.ndarray
    key_frames: list[KeyFrame] = field(default_factory=list)

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(left, right) per-frame series of measure ``name`` (NaN where not measured)."""
        i = NAMES.index(name)
        return self.values[:, i, 0], self.values[:, i, 1]

    def to_csv(self, path: str | Path) -> CsvTableWriter:
        """``{stem}_measures.csv`` written under its temporary name: the caller finishes it (its output group)."""
        table = CsvTableWriter(path, measure_columns())
        for k in range(len(self.frames)):
            row: dict[str, object] = {"frame": int(self.frames[k]), "timestamp": float(self.timestamps[k])}
            row["success"] = int(self.success[k])
            if self.success[k]:
                row["mm_per_px"] = self.scale.mm_per_px
                for i, name in enumerate(NAMES):
                    row[f"{name}_left"], row[f"{name}_right"] = self.values[k, i]
            table.write(row)
        return table


class MeasureRecorder:
    """Collects a video's measures frame by frame; ``finish`` scales and shares them (see the module docstring)."""

    def __init__(
        self,
        settings: Measures,
        selfie: bool = False,
        max_yaw_deg: float = 25.0,
        feather_px: float = 4.0,
        key_frames: int | None = None,
    ) -> None:
        """``feather_px``: the mirrored key frames' seam blend, as the mirrored videos' (``Mirroring.feather_px``).
        ``key_frames``: how many key frames to keep (default ``settings.key_frames``); 0 when no report shows them,
        which saves mirroring and drawing the candidates."""
        self.settings = settings
        self.key_frames = settings.key_frames if key_frames is None else key_frames
        self.selfie = selfie
        self.max_yaw_deg = max_yaw_deg
        self.feather_px = feather_px
        self._frames: list[int] = []
        self._times: list[float] = []
        self._plain: list[np.ndarray] = []  # (M, 2) px per frame, NaN when not measured
        self._difference: list[np.ndarray] = []  # (M,) px, left - right after the field's correction
        self._iris: list[float] = []
        self._pupils: list[float] = []
        self._keys: list[KeyFrame] = []  # a min-heap of the best key frames
        self._full_scale_px: float | None = None

    def add(
        self,
        frame: int,
        timestamp: float,
        image: np.ndarray,
        landmarks: np.ndarray | None,
        layout: LandmarkLayout | None,
        midline: Midline | None,
        yaw_deg: float = 0.0,
        field: AsymmetryField | None = None,
    ) -> AsymmetryField | None:
        """Measure frame number ``frame`` (from 1) of BGR ``image``; returns its asymmetry field (None if not made).

        ``field``: the frame's field made beforehand by :meth:`field_for` (e.g. on another thread); made here if
        None and needed.
        """
        self._frames.append(frame)
        self._times.append(float(timestamp))
        if landmarks is None or layout is None or midline is None or self._turned(yaw_deg):
            self._record(np.full((len(MEASURES), 2), np.nan), np.full(len(MEASURES), np.nan), math.nan, math.nan)
            return None
        points = side_points(landmarks, layout, midline, self.selfie)  # read once, corrected below
        plain = frame_measures(landmarks, layout, midline, self.selfie, points)
        difference = plain[:, 0] - plain[:, 1]
        if field is None:
            field = self.field_for(image, landmarks, midline, yaw_deg)
        if field is not None:
            corrected, at = self._corrected(field, landmarks, layout, points)
            moved = frame_measures(corrected, layout, midline, self.selfie, at)
            difference = np.where(np.isfinite(moved[:, 0] - moved[:, 1]), moved[:, 0] - moved[:, 1], difference)
        pupils = pupil_distance(landmarks, layout)
        self._record(plain, difference, iris_diameter(landmarks, layout), pupils)
        if self._full_scale_px is None and math.isfinite(pupils):
            self._full_scale_px = HEATMAP_FULL_SCALE * pupils
        self._consider_key_frame(frame, timestamp, image, landmarks, midline, field, difference, pupils)
        return field

    def field_for(
        self, image: np.ndarray, landmarks: np.ndarray | None, midline: Midline | None, yaw_deg: float = 0.0
    ) -> AsymmetryField | None:
        """The asymmetry field :meth:`add` uses for a frame (None where it measures without one). It reads no
        state, so the fields of several frames can be made at once: they are most of the measures' cost."""
        if not self.settings.flow or landmarks is None or midline is None or self._turned(yaw_deg):
            return None
        return asymmetry_field(image, midline, np.asarray(landmarks)[:, :2])

    def _turned(self, yaw_deg: float) -> bool:
        return math.isfinite(yaw_deg) and abs(yaw_deg) > self.max_yaw_deg

    @staticmethod
    def _corrected(
        field: AsymmetryField, landmarks: np.ndarray, layout: LandmarkLayout, points: SidePoints
    ) -> tuple[np.ndarray, SidePoints]:
        """The landmarks' mirror pairs and the measures' own ``points``, moved so their asymmetry is the field's."""
        corrected = np.array(landmarks, dtype=np.float64, copy=True)[:, :2]
        pairs = layout.mirror_pairs
        fixed = correct_pairs(field, corrected[pairs[:, 0]], corrected[pairs[:, 1]])
        corrected[pairs[:, 0]], corrected[pairs[:, 1]] = fixed.left, fixed.right
        stacked = points.stacked()  # (5, side, xy), a new array
        at = correct_pairs(field, stacked[:, 0], stacked[:, 1])
        stacked[:, 0], stacked[:, 1] = at.left, at.right
        return corrected, SidePoints.from_stacked(stacked)

    def heatmap(
        self,
        image: np.ndarray,
        field: AsymmetryField,
        landmarks: np.ndarray,
        scale: float = 1.0,
        origin: tuple[int, int] = (0, 0),
    ) -> np.ndarray:
        """``image`` (``scale`` times the frame, or its cut-out at ``origin``) with the signed asymmetry map over
        the face ``landmarks`` outline; one full scale for the whole video."""
        full_scale = self._full_scale_px or 10.0
        return overlay_heatmap(image, field, full_scale, scale=scale, signed=True, outline=landmarks, origin=origin)

    def finish(self) -> MeasureTable:
        """The video's measures in millimetres (and degrees), sides shared as the module docstring says."""
        plain = np.array(self._plain).reshape(len(self._frames), len(MEASURES), 2)
        difference = np.array(self._difference).reshape(len(self._frames), len(MEASURES))
        times = np.array(self._times)
        success = np.isfinite(plain).any(axis=(1, 2))
        rest = rest_mask(times, success, self.settings)
        share = share_left(plain, rest, self.settings.affected_side)
        missed = difference - (plain[..., 0] - plain[..., 1])
        missed[~np.isfinite(missed)] = 0.0  # a side read without its partner keeps its landmarks' value
        final = plain.copy()
        final[..., 0] += share * missed
        final[..., 1] -= (1.0 - share) * missed
        scale = video_scale(self.settings, np.array(self._iris), np.array(self._pupils))
        for i, (_, unit) in enumerate(MEASURES):
            final[:, i, :] *= scale.mm_per_px ** POWER[unit]
        keys = sorted(self._keys, key=lambda k: k.frame)
        return MeasureTable(np.array(self._frames), times, success, final, scale, rest, keys)

    def _record(self, plain: np.ndarray, difference: np.ndarray, iris: float, pupils: float) -> None:
        self._plain.append(plain)
        self._difference.append(difference)
        self._iris.append(iris)
        self._pupils.append(pupils)

    def _consider_key_frame(
        self,
        frame: int,
        timestamp: float,
        image: np.ndarray,
        landmarks: np.ndarray,
        midline: Midline,
        field: AsymmetryField | None,
        difference: np.ndarray,
        pupils: float,
    ) -> None:
        """Keep this frame's crops if its largest side difference (relative to the pupil distance) is among the best."""
        if self.key_frames <= 0 or not math.isfinite(pupils) or pupils <= 0:
            return
        lengths = np.abs(difference[_LENGTHS])
        if not np.isfinite(lengths).any():
            return
        score = float(np.nanmax(lengths)) / pupils
        measure = NAMES[_LENGTHS[int(np.nanargmax(lengths))]]
        near = [k for k in self._keys if abs(k.timestamp - timestamp) < KEY_FRAME_SPACING_S]
        if any(k.score >= score for k in near):
            return
        if len(self._keys) - len(near) >= self.key_frames and score <= min(
            (k.score for k in self._keys if k not in near), default=math.inf
        ):
            return
        self._keys = [k for k in self._keys if k not in near]
        heapq.heapify(self._keys)
        heapq.heappush(self._keys, self._crops(frame, timestamp, score, measure, image, landmarks, midline, field))
        while len(self._keys) > self.key_frames:
            heapq.heappop(self._keys)

    def _crops(
        self,
        frame: int,
        timestamp: float,
        score: float,
        measure: str,
        image: np.ndarray,
        landmarks: np.ndarray,
        midline: Midline,
        field: AsymmetryField | None,
    ) -> KeyFrame:
        xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        pad = 0.25 * (hi - lo)
        h, w = image.shape[:2]
        x1, y1 = (int(max(0, v)) for v in lo - pad)
        x2, y2 = int(min(w, hi[0] + pad[0])), int(min(h, hi[1] + pad[1]))
        # mirrored from the part of the frame the crop and its reflection cover (the same pixels as the whole
        # frame's mirror image, at a fraction of the cost)
        corners = np.array([[x1, y1], [x2, y1], [x1, y2], [x2, y2]], dtype=np.float64)
        reflect = reflection_matrix(midline)
        covered = np.vstack([corners, corners @ reflect[:, :2].T + reflect[:, 2]])
        sx1, sy1 = (int(max(0, math.floor(v) - 2)) for v in covered.min(axis=0))
        sx2, sy2 = int(min(w, math.ceil(covered[:, 0].max()) + 2)), int(min(h, math.ceil(covered[:, 1].max()) + 2))
        part = image[sy1:sy2, sx1:sx2]
        shifted = replace(midline, point=(midline.point[0] - sx1, midline.point[1] - sy1))
        left, right = mirror_both(part, shifted, self.feather_px, self.selfie)
        inner = (slice(y1 - sy1, y2 - sy1), slice(x1 - sx1, x2 - sx1))
        crop = (slice(y1, y2), slice(x1, x2))
        heat = self.heatmap(image[crop], field, xy, origin=(x1, y1)) if field is not None else None
        return KeyFrame(
            frame, timestamp, score, measure, image[crop].copy(), left[inner].copy(), right[inner].copy(), heat
        )
