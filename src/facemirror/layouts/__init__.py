"""Landmark layouts: the geometry of a landmark set as data (see :class:`LandmarkLayout`).

Built in: :data:`MEDIAPIPE_478` (the embedded Face Landmarker) and
:data:`WFLW_98` (STAR, OpenFace 3.0). A face tracker with another landmark set
declares its own ``LandmarkLayout``.
"""

from __future__ import annotations

from facemirror.layouts.base import SIDES, BoxRule, EyeRing, LandmarkLayout
from facemirror.layouts.mediapipe import MEDIAPIPE_478
from facemirror.layouts.wflw import WFLW_98

#: the built-in layouts by name
LAYOUTS = {layout.name: layout for layout in (MEDIAPIPE_478, WFLW_98)}


def get_layout(name: str) -> LandmarkLayout:
    """A built-in layout by name, or a ValueError listing them."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown landmark layout {name!r}; built in: {', '.join(LAYOUTS)}") from None


__all__ = ["LAYOUTS", "MEDIAPIPE_478", "SIDES", "WFLW_98", "BoxRule", "EyeRing", "LandmarkLayout", "get_layout"]
