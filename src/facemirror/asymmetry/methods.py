"""The named mirror-flow methods compared in benchmarks/results/asymmetry_recovery.md, and the default.

The default, ``mirror-flow``, is DIS with a weaker smoothness term than OpenCV's MEDIUM preset
(alpha 10 instead of 20), run in three warp-then-flow passes that each start from a flow made
consistent between the two halves, on the face resampled to 400 px tall: the best recovery of the
methods measured at the mouth corner, brow and upper lid, the fewest failures on bent features,
and a fixed cost whatever the video's resolution (numbers in the benchmark's results).
"""

from __future__ import annotations

from facemirror.asymmetry.flow import DisParams, FlowMethod

_WORK_FACE_PX = (400.0, 400.0)
_HALF_SMOOTH = DisParams(alpha=10.0)

METHODS: dict[str, FlowMethod] = {
    # OpenCV's DIS MEDIUM preset, one pass, at the video's own resolution
    "dis-medium": FlowMethod(),
    # DIS down to full resolution with more refinement, one pass
    "dis-fine": FlowMethod(dis=DisParams(finest_scale=0, refinement_iterations=10)),
    "farneback": FlowMethod(algorithm="farneback"),
    # DIS MEDIUM in three warp-then-flow passes
    "dis-iterated": FlowMethod(passes=3),
    # the default: three consistent passes, half the smoothness, the face worked at 400 px
    "mirror-flow": FlowMethod(dis=_HALF_SMOOTH, passes=3, consistent=True, face_px=_WORK_FACE_PX),
    # the same at the video's own resolution
    "mirror-flow-full": FlowMethod(dis=_HALF_SMOOTH, passes=3, consistent=True),
    # the default on contrast-equalised (CLAHE) crops
    "mirror-flow-clahe": FlowMethod(dis=_HALF_SMOOTH, passes=3, consistent=True, face_px=_WORK_FACE_PX, clahe=True),
}

DEFAULT_METHOD = "mirror-flow"
