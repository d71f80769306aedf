"""Dense optical flow between a face crop and its mirror image, and the named ways to compute it.

A single coarse-to-fine flow underestimates a local displacement: its smoothness
term spreads a bump over its neighbourhood and lowers its peak, the more so the
larger and the finer the structure (benchmarks/results/asymmetry_recovery.md).
``passes > 1`` runs the flow again between the crop and the mirror image warped
by the flow so far, and adds what is left: each pass sees a smaller residual,
where the flow is accurate, so the total converges on the displacement the
pixels support.

The two halves of the flow describe the same pairs of points, seen from either
side, and they can disagree: where one side's feature was pushed together (a
brow bowed down, a lid drawn into a V), matching the other side's intact feature
into it can fail while the opposite match succeeds. With ``consistent`` each
pass after the first starts from the mean of the flow and the flow its other
half implies (:func:`partner_implied`), which brings the failed half close
enough for the next pass to lock on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np


@dataclass(frozen=True)
class DisParams:
    """OpenCV DIS parameters (the defaults are its MEDIUM preset)."""

    finest_scale: int = 1
    patch_size: int = 8
    patch_stride: int = 3
    descent_iterations: int = 25
    refinement_iterations: int = 5
    alpha: float = 20.0
    delta: float = 5.0
    gamma: float = 10.0


@dataclass(frozen=True)
class FarnebackParams:
    """OpenCV Farneback parameters."""

    pyr_scale: float = 0.5
    levels: int = 5
    window: int = 15
    iterations: int = 5
    poly_n: int = 7
    poly_sigma: float = 1.5


@dataclass(frozen=True)
class FlowMethod:
    """How the mirror flow is computed.

    ``passes`` warp-then-flow passes; ``consistent`` starts each later pass from the flow averaged with what
    its other half implies; ``clahe`` equalises local contrast before the flow (the same crop for both
    images, so the pair stays exact mirror images); ``face_px`` is the range of face heights (crop pixels)
    the flow works at: a face outside it is resampled to the nearer end.
    """

    algorithm: Literal["dis", "farneback"] = "dis"
    dis: DisParams = field(default_factory=DisParams)
    farneback: FarnebackParams = field(default_factory=FarnebackParams)
    passes: int = 1
    consistent: bool = False
    clahe: bool = False
    face_px: tuple[float, float] = (0.0, 1e9)

    def __post_init__(self) -> None:
        if self.algorithm not in ("dis", "farneback"):
            raise ValueError(f"algorithm must be 'dis' or 'farneback', not {self.algorithm!r}")
        if self.passes < 1:
            raise ValueError(f"passes must be at least 1, got {self.passes}")


def mirror_flow(crop: np.ndarray, method: FlowMethod) -> np.ndarray:
    """Flow ``u`` (h, w, 2 float32, crop pixels) with ``crop(x) ~ mirror(x + u(x))``, ``mirror = crop[:, ::-1]``.

    ``crop`` is a uint8 grey image in the face's frame (the midline is its centre column).
    """
    if crop.dtype != np.uint8 or crop.ndim != 2:
        raise ValueError(f"expected a uint8 grey crop, got {crop.dtype} of shape {crop.shape}")
    if method.clahe:
        crop = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(crop)
    mirror = np.ascontiguousarray(crop[:, ::-1])
    flow = _flow(crop, mirror, method)
    for _ in range(method.passes - 1):
        if method.consistent:
            flow = 0.5 * (flow + partner_implied(flow))
        step = _flow(crop, warp(mirror, flow), method)
        flow = step + warp(flow, step)  # u(x) = du(x) + u(x + du(x))
    return flow


def partner_implied(flow: np.ndarray, rounds: int = 4) -> np.ndarray:
    """The flow at each pixel that the other half of ``flow`` implies (equal to ``flow`` where it is consistent).

    ``flow`` pairs pixel x with its partner p = F(x + u(x)), F the flip. The partner's own flow must lead
    back, p + u(p) = F(x); so at a pixel z the implied flow is F(q) - z with q + u(q) = F(z), solved by
    ``rounds`` fixed-point steps (a contraction while the flow's gradient stays below 1).
    """
    h, w = flow.shape[:2]
    zx = np.broadcast_to(np.arange(w, dtype=np.float32)[None, :], (h, w))
    zy = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
    fx = (w - 1) - zx  # the flip in pixel indices
    qx, qy = fx, zy
    for _ in range(rounds):
        at_q = cv2.remap(flow, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        qx, qy = fx - at_q[..., 0], zy - at_q[..., 1]
    return np.stack([(w - 1) - qx - zx, qy - zy], axis=-1)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image(x + flow(x))`` (bilinear, edges replicated)."""
    h, w = flow.shape[:2]
    xs = np.arange(w, dtype=np.float32)[None, :] + flow[..., 0]
    ys = np.arange(h, dtype=np.float32)[:, None] + flow[..., 1]
    return cv2.remap(image, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _flow(a: np.ndarray, b: np.ndarray, method: FlowMethod) -> np.ndarray:
    if method.algorithm == "farneback":
        f = method.farneback
        return np.asarray(
            cv2.calcOpticalFlowFarneback(
                a,
                b,
                None,
                f.pyr_scale,
                f.levels,
                f.window,
                f.iterations,
                f.poly_n,
                f.poly_sigma,
                cv2.OPTFLOW_FARNEBACK_GAUSSIAN,
            )
        )
    p = method.dis
    dis = cv2.DISOpticalFlow.create(cv2.DISOpticalFlow_PRESET_MEDIUM)
    dis.setFinestScale(p.finest_scale)
    dis.setPatchSize(p.patch_size)
    dis.setPatchStride(p.patch_stride)
    dis.setGradientDescentIterations(p.descent_iterations)
    dis.setVariationalRefinementIterations(p.refinement_iterations)
    dis.setVariationalRefinementAlpha(p.alpha)
    dis.setVariationalRefinementDelta(p.delta)
    dis.setVariationalRefinementGamma(p.gamma)
    return np.asarray(dis.calc(a, b, np.zeros((*a.shape, 2), np.float32)))  # output buffer (no initial flow)
