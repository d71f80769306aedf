"""The named mirror-flow methods compared in benchmarks/results/asymmetry_recovery.md, and the default.

The default, ``mirror-flow``, is DIS with a weaker smoothness term than OpenCV's MEDIUM preset
(alpha 10 instead of 20), run in three warp-then-flow passes on the face resampled to 400 px tall:
it recovered 0.95-1.00 of 6-30 px displacements at the mouth corner, brow and upper lid where one
DIS MEDIUM pass recovered 0.76-0.98, at a fixed cost whatever the video's resolution.
"""

from __future__ import annotations

from facemirror.asymmetry.flow import DisParams, FlowMethod

_WORK_FACE_PX = (400.0, 400.0)

METHODS: dict[str, FlowMethod] = {
    # OpenCV's DIS MEDIUM preset, one pass, at the video's own resolution
    "dis-medium": FlowMethod(),
    # DIS down to full resolution with more refinement, one pass
    "dis-fine": FlowMethod(dis=DisParams(finest_scale=0, refinement_iterations=10)),
    "farneback": FlowMethod(algorithm="farneback"),
    # DIS MEDIUM in three warp-then-flow passes
    "dis-iterated": FlowMethod(passes=3),
    # the default: three passes, half the smoothness, the face worked at 400 px
    "mirror-flow": FlowMethod(dis=DisParams(alpha=10.0), passes=3, face_px=_WORK_FACE_PX),
    # the same at the video's own resolution
    "mirror-flow-full": FlowMethod(dis=DisParams(alpha=10.0), passes=3),
    # the default on contrast-equalised (CLAHE) crops
    "mirror-flow-clahe": FlowMethod(dis=DisParams(alpha=10.0), passes=3, face_px=_WORK_FACE_PX, clahe=True),
}

DEFAULT_METHOD = "mirror-flow"
