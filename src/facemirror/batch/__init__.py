"""Many videos at once: discover, run, resume, summarise (``facemirror batch``, ``Pipeline.run_many``)."""

from facemirror.batch.discover import INPUT_EXTENSIONS, VIDEO_EXTENSIONS, VideoTask, discover
from facemirror.batch.many import run_many
from facemirror.batch.ray_runner import RayOptions
from facemirror.batch.runner import run_batch
from facemirror.batch.summary import BatchResult, VideoOutcome

__all__ = [
    "INPUT_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "BatchResult",
    "RayOptions",
    "VideoOutcome",
    "VideoTask",
    "discover",
    "run_batch",
    "run_many",
]
