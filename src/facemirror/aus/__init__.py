"""Action-unit output: the OpenFace-2.0-compatible CSV schema, its writer and reader, and blink (AU45)."""

from facemirror.aus.blink import Blink, au45, au45_intensity, layout_ear, mesh_ear, video_baseline, wflw_ear
from facemirror.aus.reader import read_csv
from facemirror.aus.schema import FrameOutputs, au_columns, blendshape_dict, column_sources, row_for_frame
from facemirror.aus.writer import AUCsvWriter
from facemirror.openface_angles import openface_gaze_angles, openface_pose

__all__ = [
    "AUCsvWriter",
    "Blink",
    "FrameOutputs",
    "au45",
    "au45_intensity",
    "au_columns",
    "blendshape_dict",
    "column_sources",
    "layout_ear",
    "mesh_ear",
    "openface_gaze_angles",
    "openface_pose",
    "read_csv",
    "row_for_frame",
    "video_baseline",
    "wflw_ear",
]
