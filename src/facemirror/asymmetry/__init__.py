"""Asymmetry measured on the pixels: the displacement between a face and its mirror image (see ``field``)."""

from facemirror.asymmetry.face_frame import FaceFrame
from facemirror.asymmetry.field import AsymmetryField, PairAsymmetry, asymmetry_field, correct_pairs, split_sides
from facemirror.asymmetry.flow import DisParams, FarnebackParams, FlowMethod, mirror_flow
from facemirror.asymmetry.heatmap import overlay_heatmap
from facemirror.asymmetry.methods import DEFAULT_METHOD, METHODS

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "AsymmetryField",
    "DisParams",
    "FaceFrame",
    "FarnebackParams",
    "FlowMethod",
    "PairAsymmetry",
    "asymmetry_field",
    "correct_pairs",
    "mirror_flow",
    "overlay_heatmap",
    "split_sides",
]
