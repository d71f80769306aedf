"""The clinical measures of facial asymmetry, per side, in millimetres, per frame (docs/measures.md).

:func:`frame_measures` computes brow height, MRD1/MRD2, palpebral fissure,
commissure height and excursion, smile angle and lip opening area of one
frame from any landmark layout; :class:`MeasureRecorder` does it for a video,
corrected by the mirror-flow asymmetry field and scaled to millimetres.
"""

from facemirror.measures.geometry import MEASURES, NAMES, frame_measures, iris_diameter, pupil_distance
from facemirror.measures.recorder import KeyFrame, MeasureRecorder, MeasureTable, measure_columns
from facemirror.measures.scale import Scale, video_scale

__all__ = [
    "MEASURES",
    "NAMES",
    "KeyFrame",
    "MeasureRecorder",
    "MeasureTable",
    "Scale",
    "frame_measures",
    "iris_diameter",
    "measure_columns",
    "pupil_distance",
    "video_scale",
]
