"""facemirror: facial midline mirroring and action units for face videos in facial palsy research.

>>> from facemirror import Pipeline
>>> result = Pipeline().mirror("patient01.mp4", "out/")

Heavy parts (models, video, the pipeline) are imported on first use, so
``import facemirror`` stays fast and works without the optional extras.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from facemirror.errors import (
    BackendUnavailable,
    FaceMirrorError,
    MissingExtraError,
    NoFaceError,
    NoVideoStreamError,
    OutputBusyError,
    OutputError,
    UnreadableVideoError,
    VideoError,
    VideoNotFoundError,
    WeightsCorruptError,
    WeightsError,
    WeightsMissingError,
)

__version__ = "0.1.0"

#: public name -> module that defines it, imported lazily
_LAZY = {
    "Pipeline": "facemirror.pipeline",
    "JobResult": "facemirror.results",
    "MirrorResult": "facemirror.results",
    "AUResult": "facemirror.results",
    "PipelineConfig": "facemirror.settings",
    "Runtime": "facemirror.settings",
    "Tracking": "facemirror.settings",
    "Mirroring": "facemirror.settings",
    "Outputs": "facemirror.settings",
    "Measures": "facemirror.settings",
    "probe": "facemirror.video",
    "VideoReader": "facemirror.video",
    "VideoWriter": "facemirror.video",
    "read_csv": "facemirror.aus",
}

__all__ = [
    "BackendUnavailable",
    "FaceMirrorError",
    "MissingExtraError",
    "NoFaceError",
    "NoVideoStreamError",
    "OutputBusyError",
    "OutputError",
    "UnreadableVideoError",
    "VideoError",
    "VideoNotFoundError",
    "WeightsCorruptError",
    "WeightsError",
    "WeightsMissingError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'facemirror' has no attribute {name!r}")
