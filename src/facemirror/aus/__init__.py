"""Action-unit output: the OpenFace-2.0-compatible CSV schema, its writer and reader, and blink (AU45)."""

from facemirror.aus.angles import openface_gaze_angles, openface_pose
from facemirror.aus.blink import Blink, au45, au45_intensity, mesh_ear, video_baseline, wflw_ear
from facemirror.aus.reader import read_csv
from facemirror.aus.schema import FrameOutputs, blendshape_dict, columns_for, row_for_frame
from facemirror.aus.writer import AUCsvWriter

__all__ = [
    "AUCsvWriter",
    "Blink",
    "FrameOutputs",
    "au45",
    "au45_intensity",
    "blendshape_dict",
    "columns_for",
    "mesh_ear",
    "openface_gaze_angles",
    "openface_pose",
    "read_csv",
    "row_for_frame",
    "video_baseline",
    "wflw_ear",
]
