"""Ocular synkinesis: how much one eye narrows while the mouth corner on the same side moves away from rest.

Per side, from per-frame series of the eye's aperture (EAR) and the mouth corner's
excursion (distance from its rest position, in inner-canthal distances, from
:func:`commissure_positions` and :func:`commissure_excursion`). Frames are *active*
when the excursion is at least ``active`` (0.1 inner-canthal distances, about 3 mm:
several times the frame-to-frame jitter of a held smile, 0.02-0.03, and a fifth of a
full smile, 0.45-0.5 on single_face.mp4), at *rest* below it. Blink frames
(:func:`facemirror.blinks.blink_mask`) and frames without a face are left out. The
eye's rest aperture at a frame is the running median (``REST_WINDOW_S``) of its EAR
over the rest frames, which bridges each mouth movement and follows the EAR's slow
drift with head pose; its narrowing at a frame is ``1 - EAR / rest aperture``.

- ``narrowing``: mean narrowing over the active frames (0.2: the eye is 20 % narrower
  while the corner is away from rest; about 0 for an eye that does not follow the
  mouth, though a broad smile narrows healthy eyes too: 0.16-0.17 on single_face.mp4);
- ``slope``: least-squares slope of narrowing against excursion over all frames
  (narrowing per inner-canthal distance of corner movement: comparable between sides
  that move by different amounts);
- ``correlation``: Pearson's r of the same pairs (how consistently the eye follows).

Statistics need ``MIN_BASELINE_FRAMES`` rest and active frames each, else they are None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from facemirror.aus.blink import MIN_BASELINE_FRAMES
from facemirror.blinks.events import running_median
from facemirror.layouts import MEDIAPIPE_478, LandmarkLayout

#: Corner excursion (inner-canthal distances) from which a frame counts as mouth-active; below it, at rest.
ACTIVE_EXCURSION = 0.1
#: Seconds at the start of a recording taken as the mouth's rest position, unless the caller says which frames.
REST_S = 0.5
#: Running-median window (s) of the eye's rest aperture: longer than a held expression, so the rest frames on
#: either side of it set the level, short enough to follow the EAR's drift with head pose.
REST_WINDOW_S = 10.0


@dataclass(frozen=True)
class SynkinesisIndex:
    """One side's eye narrowing against its mouth corner's movement (see the module docstring)."""

    side: str
    active_frames: int
    rest_frames: int
    rest_aperture: float | None
    narrowing: float | None
    slope: float | None
    correlation: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain values for a JSON summary."""
        return asdict(self)


def commissure_positions(landmarks: np.ndarray, layout: LandmarkLayout = MEDIAPIPE_478) -> np.ndarray:
    """``(2, 2)``: the subject's left and right mouth corner (x, y) in a face frame, from the layout's points.

    Origin: midway between the inner eye corners; x along them towards the subject's left; y downwards; unit: their
    distance. The inner corners hardly move with expressions, so the frame follows the head, not the face's movement.
    NaN when the layout has no eye corners or mouth corners.
    """
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    if not {"left", "right"} <= set(layout.eyes) or not {"left", "right"} <= set(layout.mouth_corners):
        return np.full((2, 2), np.nan)
    right_inner, left_inner = pts[layout.eyes["right"].inner], pts[layout.eyes["left"].inner]
    axis = left_inner - right_inner
    scale = float(np.hypot(*axis))
    if not scale > 0:
        return np.full((2, 2), np.nan)
    x = axis / scale
    y = np.array([-x[1], x[0]])
    corners = pts[[layout.mouth_corners["left"], layout.mouth_corners["right"]]] - (left_inner + right_inner) / 2
    return np.stack([corners @ x, corners @ y], axis=1) / scale


def commissure_excursion(
    positions: Sequence[Sequence[float]] | np.ndarray,
    fps: float,
    *,
    rest: np.ndarray | None = None,
    rest_s: float = REST_S,
) -> np.ndarray:
    """Distance of one corner from its rest position at every frame (NaN where the position is NaN).

    ``positions``: ``(frames, 2)``, one side's column of :func:`commissure_positions`. The rest position is the
    per-axis median over ``rest`` (a boolean mask of frames known to be at rest), by default over the first
    ``rest_s`` seconds of frames with a face: clinical recordings start with the face at rest, while a whole-video
    median would take a smile held for most of a clip as rest.
    """
    xy = np.asarray(positions, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"positions must have shape (frames, 2), got {xy.shape}")
    seen = np.isfinite(xy).all(axis=1)
    if rest is None:
        chosen = xy[np.flatnonzero(seen)[: max(1, round(rest_s * fps))]]
    else:
        chosen = xy[np.asarray(rest, dtype=bool) & seen]
    if len(chosen) == 0:
        return np.full(len(xy), np.nan)
    return np.hypot(*(xy - np.median(chosen, axis=0)).T)


def ocular_synkinesis(
    side: str,
    aperture: Sequence[float] | np.ndarray,
    excursion: Sequence[float] | np.ndarray,
    fps: float,
    blinks: np.ndarray | None = None,
    *,
    active: float = ACTIVE_EXCURSION,
) -> SynkinesisIndex:
    """One side's index from its eye's aperture and its mouth corner's excursion, frame by frame.

    ``fps`` sets the rest window; ``blinks``: boolean mask of that eye's blink frames to leave out
    (:func:`facemirror.blinks.blink_mask`). ``rest_aperture`` in the result is the median EAR over the rest frames.
    """
    ear = np.asarray(aperture, dtype=np.float64)
    move = np.asarray(excursion, dtype=np.float64)
    if ear.shape != move.shape or ear.ndim != 1:
        raise ValueError(f"aperture and excursion must be 1-D series of one length, got {ear.shape} and {move.shape}")
    usable = np.isfinite(ear) & np.isfinite(move)
    if blinks is not None:
        usable &= ~np.asarray(blinks, dtype=bool)
    at_rest = usable & (move < active)
    moving = usable & (move >= active)
    n_active, n_rest = int(moving.sum()), int(at_rest.sum())
    if min(n_active, n_rest) < MIN_BASELINE_FRAMES:
        return SynkinesisIndex(side, n_active, n_rest, rest_aperture=None, narrowing=None, slope=None, correlation=None)
    rest_ear = running_median(np.where(at_rest, ear, np.nan), fps, REST_WINDOW_S)
    narrowing = 1.0 - ear / rest_ear
    x, y = move[usable], narrowing[usable]
    slope = float(np.polyfit(x, y, 1)[0])
    spread = float(np.std(x) * np.std(y))
    r = float(np.mean((x - x.mean()) * (y - y.mean())) / spread) if spread > 0 else None
    return SynkinesisIndex(
        side,
        n_active,
        n_rest,
        rest_aperture=float(np.median(ear[at_rest])),
        narrowing=float(np.mean(narrowing[moving])),
        slope=slope,
        correlation=r,
    )
