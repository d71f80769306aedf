"""A landmark layout as data: which points mirror which, which lie on the midline, where the eyes and features are.

Every stage that does geometry on landmarks (the midline fit, the mirrored
face's landmarks, blink, head pose, the AU crop box, the clinical measures)
reads these descriptions instead of importing one model's constants, so a face
tracker with any landmark set works with all of them. Sides are the
SUBJECT's anatomical sides; every pair lists the subject's-left point first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

SIDES = ("left", "right")


def _indices(values: Sequence[int] | np.ndarray, width: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=np.int64)
    if width is not None:
        array = array.reshape(-1, width)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class EyeRing:
    """One eye's points: the two corners, the lid contours, the points the eye aspect ratio uses, the iris.

    ``upper_lid`` and ``lower_lid`` run from the outer corner to the inner one.
    ``ear_upper[k]`` faces ``ear_lower[k]`` across the opening (the vertical
    distances of the eye aspect ratio). ``pupil`` is the iris centre and
    ``iris`` its ring (empty when the layout has none).
    """

    outer: int
    inner: int
    upper_lid: tuple[int, ...]
    lower_lid: tuple[int, ...]
    ear_upper: tuple[int, ...]
    ear_lower: tuple[int, ...]
    pupil: int | None = None
    iris: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.ear_upper) != len(self.ear_lower) or not self.ear_upper:
            raise ValueError("an eye ring needs as many upper as lower eye-aspect-ratio points (at least one)")


@dataclass(frozen=True)
class BoxRule:
    """A face box from landmarks: the bounding box of the points, its centre shifted and its size scaled.

    ``shift`` is in units of the bounding box's (width, height), ``scale``
    multiplies them. The built-in layouts map their points to RetinaFace's box,
    the crop OpenFace 3.0's AU network was trained on.
    """

    shift: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)

    def apply(self, landmarks: np.ndarray) -> np.ndarray:
        """``(x1, y1, x2, y2)`` float64 for ``(N, 2+)`` landmarks (NaN points ignored)."""
        xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
        lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
        size = hi - lo
        centre = (lo + hi) / 2 + np.asarray(self.shift) * size
        half = np.asarray(self.scale) * size / 2
        return np.concatenate([centre - half, centre + half])

    @classmethod
    def fitted(cls, landmarks: np.ndarray, box: Sequence[float] | np.ndarray) -> BoxRule:
        """The rule that maps these landmarks' bounding box onto ``box`` exactly (a detector's convention)."""
        xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
        lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
        size = np.maximum(hi - lo, 1e-9)
        b = np.asarray(box, dtype=np.float64)[:4]
        shift = ((b[:2] + b[2:]) / 2 - (lo + hi) / 2) / size
        scale = (b[2:] - b[:2]) / size
        return cls((float(shift[0]), float(shift[1])), (float(scale[0]), float(scale[1])))


#: the default of the midline fit's points: all pairs / sagittal points (filled in by ``__post_init__``)
_ALL = cast(np.ndarray, None)


@dataclass(frozen=True, eq=False)
class LandmarkLayout:
    """Everything the geometry needs to know about one landmark set (MediaPipe's 478, WFLW's 98, a user's own).

    Required: ``name``, ``num_points`` and ``mirror_pairs`` (every left/right
    pair, subject's left first). The rest is optional; a stage whose points a
    layout does not have writes NaN for them, never an invented value.

    - ``sagittal``: points on the facial midline (each its own mirror image).
    - ``midline_pairs`` / ``midline_sagittal``: the rigid subset the midline fit
      uses (no lids, brows or lips, which expressions and palsy move on one
      side); default: all pairs and sagittal points.
    - ``eyes``: the subject's ``"left"`` and ``"right"`` :class:`EyeRing` (blink, eye measures).
    - ``brows``: per side, the brow's upper edge from the outer end to the inner end.
    - ``mouth_corners``: per side, the commissure.
    - ``lips_outer`` / ``lips_inner``: closed contours of the lips' outer edge and
      of the oral opening; ``lower_lip_bottom``: the outer lower lip on the midline.
    - ``pose_points`` with ``pose_model``: points with 3-D model coordinates
      (x toward the subject's left, y up, z toward the viewer) for head pose.
    - ``box_rule``: the face box (AU crop) from the landmarks.
    """

    name: str
    num_points: int
    mirror_pairs: np.ndarray
    sagittal: np.ndarray = field(default_factory=lambda: _indices([]))
    midline_pairs: np.ndarray = _ALL
    midline_sagittal: np.ndarray = _ALL
    eyes: Mapping[str, EyeRing] = field(default_factory=dict)
    brows: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    mouth_corners: Mapping[str, int] = field(default_factory=dict)
    lips_outer: tuple[int, ...] = ()
    lips_inner: tuple[int, ...] = ()
    lower_lip_bottom: int | None = None
    pose_points: np.ndarray | None = None
    pose_model: np.ndarray | None = None
    box_rule: BoxRule = BoxRule()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "mirror_pairs", _indices(self.mirror_pairs, 2))
        set_(self, "sagittal", _indices(self.sagittal))
        set_(
            self, "midline_pairs", _indices(self.mirror_pairs if self.midline_pairs is None else self.midline_pairs, 2)
        )
        set_(
            self,
            "midline_sagittal",
            _indices(self.sagittal if self.midline_sagittal is None else self.midline_sagittal),
        )
        if (self.pose_points is None) != (self.pose_model is None):
            raise ValueError(f"layout {self.name}: pose_points and pose_model go together")
        if self.pose_points is not None:
            set_(self, "pose_points", _indices(self.pose_points))
            model = np.asarray(self.pose_model, dtype=np.float64)
            if model.shape != (len(self.pose_points), 3):
                raise ValueError(f"layout {self.name}: pose_model must be ({len(self.pose_points)}, 3)")
            set_(self, "pose_model", model)
        used = [self.mirror_pairs.ravel(), self.sagittal, self.midline_pairs.ravel(), self.midline_sagittal]
        used += [np.asarray(p, dtype=np.int64).ravel() for p in self._named()]
        for u in used:
            if u.size and not 0 <= int(u.min()) <= int(u.max()) < self.num_points:
                bad = int(u.min()) if u.min() < 0 else int(u.max())
                raise ValueError(f"layout {self.name}: point {bad} does not exist in {self.num_points} points")
        pairs = {tuple(sorted(p)) for p in self.mirror_pairs.tolist()}
        strays = [tuple(p) for p in self.midline_pairs.tolist() if tuple(sorted(p)) not in pairs]
        if strays:
            raise ValueError(f"layout {self.name}: midline pairs {strays} are not among the mirror pairs")
        if not set(self.midline_sagittal.tolist()) <= set(self.sagittal.tolist()):
            raise ValueError(f"layout {self.name}: midline sagittal points must be among the sagittal points")
        if len(self.midline_pairs) + len(self.midline_sagittal) < 2:
            raise ValueError(f"layout {self.name}: the midline fit needs at least two pairs or sagittal points")

    def _named(self) -> list[Sequence[int]]:
        out: list[Sequence[int]] = [self.lips_outer, self.lips_inner, list(self.mouth_corners.values())]
        out += list(self.brows.values())
        for eye in self.eyes.values():
            out += [(eye.outer, eye.inner), eye.upper_lid, eye.lower_lid, eye.ear_upper, eye.ear_lower, eye.iris]
            out += [(eye.pupil,)] if eye.pupil is not None else []
        if self.pose_points is not None:
            out.append(self.pose_points.tolist())
        if self.lower_lip_bottom is not None:
            out.append((self.lower_lip_bottom,))
        return out

    @property
    def mirror_permutation(self) -> np.ndarray:
        """``perm[i]``: the point mirror-symmetric to ``i`` (sagittal and unpaired points map to themselves)."""
        return mirror_permutation(self.num_points, self.mirror_pairs)

    @property
    def has_pose(self) -> bool:
        return self.pose_points is not None

    def check(self, landmarks: np.ndarray) -> np.ndarray:
        """``landmarks`` as ``(num_points, 2+)`` float64, or a ValueError saying what this layout expects."""
        lm = np.asarray(landmarks, dtype=np.float64)
        if lm.ndim != 2 or lm.shape[0] != self.num_points or lm.shape[1] not in (2, 3):
            raise ValueError(f"expected {self.name} landmarks of shape ({self.num_points}, 2 or 3), got {lm.shape}")
        return lm

    def __repr__(self) -> str:
        return f"<LandmarkLayout {self.name}: {self.num_points} points>"


def mirror_permutation(num_points: int, pairs: np.ndarray | Sequence[tuple[int, int]]) -> np.ndarray:
    """``perm[i]``: the point mirror-symmetric to ``i`` given the mirror ``pairs`` (others map to themselves)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    perm = np.arange(num_points, dtype=np.int64)
    perm[pairs[:, 0]] = pairs[:, 1]
    perm[pairs[:, 1]] = pairs[:, 0]
    return perm
