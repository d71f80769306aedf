"""Where a face differs from its own mirror image: a displacement field, and landmark pairs corrected by it.

Landmark networks pull points toward symmetry (a drooping mouth corner is
placed part of the way back up), so left-right differences of landmarks
underestimate asymmetry. The pixels keep it: comparing the face with its
reflection across the midline by dense optical flow gives, at every point x,

    a(x) = x - reflect(partner(x)),

how far the feature at x sits from the mirror image of its partner on the other
side (zero everywhere on a symmetric face). The field is estimated in the
face's own frame (:mod:`~facemirror.asymmetry.face_frame`) by
:func:`~facemirror.asymmetry.flow.mirror_flow`.

Sides. "Left" and "right" are always the SUBJECT's sides. In a normal
(non-mirrored) recording the subject's right is on the IMAGE LEFT;
``Midline.normal`` points to the subject's left there. A selfie recording is
mirrored, so there the subject's left is on the image left (:func:`split_sides`
takes ``selfie``). The field itself has no sides: both halves of the face differ
from their mirror images by the same amount, reflected.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facemirror.asymmetry.face_frame import FaceFrame
from facemirror.asymmetry.flow import FlowMethod, mirror_flow
from facemirror.asymmetry.methods import DEFAULT_METHOD, METHODS
from facemirror.mirror.landmarks import reflect_points
from facemirror.mirror.midline import Midline

#: How far (in face heights) from the image's edge the field is left undefined: on a symmetric texture whose
#: crop reached past the edge, the flow was off by up to 5 px within 0.05 face heights of it, 0.15 px beyond.
_EDGE_MARGIN = 0.05


@dataclass(frozen=True)
class AsymmetryField:
    """The asymmetry displacement of one frame over the face's crop.

    ``displacement`` (h, w, 2) float32 is ``a(x)`` in crop pixels along the crop's axes (x towards
    ``midline.normal``, y down the face); use :meth:`at` for image pixels. It is NaN where the crop or its
    mirror image reaches past the image's edge (nothing there to compare), and 0.05 face heights around that.
    """

    frame: FaceFrame
    midline: Midline
    displacement: np.ndarray

    def at(self, points: np.ndarray) -> np.ndarray:
        """``a(p)`` at image points (N, 2), in image pixels (x, y); NaN for points outside the crop."""
        q = self.frame.to_crop(points)
        w, h = self.frame.size
        inside = (q[:, 0] >= 0) & (q[:, 0] <= w) & (q[:, 1] >= 0) & (q[:, 1] <= h)
        idx = (q - 0.5).astype(np.float32)
        vec = cv2.remap(
            self.displacement, idx[:, :1], idx[:, 1:], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ).reshape(-1, 2)
        out = self.frame.vectors_to_image(vec)
        out[~inside] = np.nan
        return out  # NaN also where the bilinear footprint touches an invalid pixel

    def magnitude(self) -> np.ndarray:
        """``|a|`` over the crop (h, w float32), in image pixels."""
        ax, ay = self._axes_in_image_px()
        return np.hypot(ax, ay)

    def down(self) -> np.ndarray:
        """The down-the-face part of ``a`` over the crop (h, w float32), image pixels: positive where a point sits
        lower than the mirror image of its partner, negative where it sits higher."""
        return self._axes_in_image_px()[1]

    def _axes_in_image_px(self) -> tuple[np.ndarray, np.ndarray]:
        # the crop's rows are the normal and the direction, each scaled by that axis's crop pixels per image pixel
        per_px = np.linalg.norm(self.frame.matrix[:, :2], axis=1).astype(np.float32)
        return self.displacement[..., 0] / per_px[0], self.displacement[..., 1] / per_px[1]

    def to_image(
        self, values: np.ndarray, shape: tuple[int, int], scale: float = 1.0, origin: tuple[int, int] = (0, 0)
    ) -> np.ndarray:
        """A crop map (h, w) such as :meth:`magnitude` drawn into an image of ``shape`` (h, w), ``scale`` times
        the frame's size (``scale=0.5`` for a half-size debug frame) whose top-left pixel is the scaled frame's
        pixel ``origin`` (x, y) (a cut-out of it); NaN outside the field."""
        to_out = scale * np.linalg.inv(self.frame.matrix[:, :2])
        out_matrix = np.hstack([to_out, (-to_out @ self.frame.matrix[:, 2])[:, None]])  # crop -> output
        shift = out_matrix[:, 2] + out_matrix[:, :2] @ np.array([0.5, 0.5]) - 0.5 - origin  # pixel indices for cv2
        return cv2.warpAffine(
            np.asarray(values, dtype=np.float32),
            np.hstack([out_matrix[:, :2], shift[:, None]]),
            (shape[1], shape[0]),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=float("nan"),
        )


@dataclass(frozen=True)
class PairAsymmetry:
    """Mirror-partner points corrected by the asymmetry field (image pixels).

    ``left``, ``right`` (N, 2): the corrected positions. ``asymmetry`` (N, 2): ``left - reflect(right)``
    in the face's axes: ``[:, 0]`` outward (positive when the left point lies farther from the midline),
    ``[:, 1]`` down the face (positive when the left point lies lower). ``disagreement`` (N,): how far
    apart (px) the two halves' estimates of it were; large values mark points the flow did not resolve.
    ``valid`` (N,): False where the field does not reach a point (it is then left as given).
    """

    left: np.ndarray
    right: np.ndarray
    asymmetry: np.ndarray
    disagreement: np.ndarray
    valid: np.ndarray


def asymmetry_field(
    image: np.ndarray, midline: Midline, region: np.ndarray, method: str | FlowMethod = DEFAULT_METHOD
) -> AsymmetryField:
    """The asymmetry field of one frame.

    ``image``: BGR uint8 (or a uint8 grey image, e.g. the luma plane); ``midline``: the face's midline in that
    image's continuous pixel coordinates; ``region``: points outlining the face (N, 2), e.g. its landmarks, or a
    box (x1, y1, x2, y2); ``method``: a name in :data:`~facemirror.asymmetry.methods.METHODS` or a FlowMethod.
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 BGR or grey image, got {image.dtype} of shape {image.shape}")
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"unknown asymmetry method {method!r}; choose one of {', '.join(METHODS)}")
        method = METHODS[method]
    frame = FaceFrame.around(midline, region, face_range=method.face_px)
    crop = frame.take(image)
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    displacement = -mirror_flow(crop, method)
    inside = frame.inside(image.shape)
    compared = (inside & inside[:, ::-1]).astype(np.uint8)
    # the flow is wrong over the replicated border and for a few patches beyond it
    margin = _EDGE_MARGIN * frame.face_px * frame.scale
    displacement[cv2.distanceTransform(compared, cv2.DIST_L2, 5) <= margin] = np.nan
    return AsymmetryField(frame, midline, displacement)


def correct_pairs(
    field: AsymmetryField, left: np.ndarray, right: np.ndarray, share_left: float = 0.5, iterations: int = 3
) -> PairAsymmetry:
    """Move mirror-partner points (``left[k]`` and ``right[k]``, the subject's sides) so that their asymmetry
    is the field's.

    The field gives only the difference between the sides, so the part of it the points miss is shared:
    ``share_left`` of it moves the left point, the rest the right one (0.5 when nothing says which side moved).
    Each estimate is the mean of the field read on both sides, at the corrected points (a fixed point,
    ``iterations`` rounds), so a point the landmarks left short of a moved feature is read where the feature is.
    """
    left = np.asarray(left, dtype=np.float64)[:, :2]
    right = np.asarray(right, dtype=np.float64)[:, :2]
    midline = field.midline
    n = np.asarray(midline.normal, dtype=np.float64)
    d = np.asarray(midline.direction, dtype=np.float64)
    flip = np.eye(2) - 2.0 * np.outer(n, n)
    mirrored_right = reflect_points(right, midline)
    given = left - mirrored_right
    estimate = given.copy()
    disagreement = np.full(len(left), np.nan)
    valid = np.zeros(len(left), dtype=bool)
    for _ in range(iterations):
        missing = np.where(valid[:, None], estimate - given, 0.0)
        at_left = field.at(left + share_left * missing)
        at_right = -field.at(reflect_points(mirrored_right - (1.0 - share_left) * missing, midline)) @ flip.T
        seen_left = np.asarray(np.isfinite(at_left).all(axis=1))
        seen_right = np.asarray(np.isfinite(at_right).all(axis=1))
        valid = seen_left | seen_right
        total = np.where(seen_left[:, None], at_left, 0.0) + np.where(seen_right[:, None], at_right, 0.0)
        count = seen_left.astype(np.float64) + seen_right
        estimate = np.where(valid[:, None], total / np.maximum(count, 1.0)[:, None], given)
        disagreement = np.linalg.norm(at_left - at_right, axis=1)
    missing = np.where(valid[:, None], estimate - given, 0.0)
    new_left = left + share_left * missing
    new_right = reflect_points(mirrored_right - (1.0 - share_left) * missing, midline)
    outward = np.sign(
        midline.signed_distance(left[:, 0], left[:, 1]) - midline.signed_distance(right[:, 0], right[:, 1])
    )
    outward[outward == 0] = 1.0
    asym = np.stack([outward * (estimate @ n), estimate @ d], axis=1)
    return PairAsymmetry(new_left, new_right, asym, disagreement, valid)


def split_sides(
    points_a: np.ndarray, points_b: np.ndarray, midline: Midline, selfie: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(left, right): each mirror pair ``(a[k], b[k])`` ordered by which side of the midline its points lie on.

    The subject's left is the side ``midline.normal`` points to (the image right of an upright face), or the
    other side in a selfie (mirrored) recording.
    """
    a = np.asarray(points_a, dtype=np.float64)
    b = np.asarray(points_b, dtype=np.float64)
    a_is_left = np.asarray(midline.signed_distance(a[:, 0], a[:, 1]) > midline.signed_distance(b[:, 0], b[:, 1]))
    if selfie:
        a_is_left = ~a_is_left
    return np.where(a_is_left[:, None], a, b), np.where(a_is_left[:, None], b, a)
