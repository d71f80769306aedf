"""``run_many``: a batch from a Pipeline, its configuration, or Pipeline keyword arguments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from facemirror.batch.runner import run_batch
from facemirror.batch.summary import BatchResult
from facemirror.pipeline import Pipeline
from facemirror.settings import PipelineConfig


def as_pipeline(spec: Pipeline | PipelineConfig | Mapping[str, Any] | None, progress: bool = True) -> Pipeline:
    """A Pipeline from what ``run_many`` accepts: one, a PipelineConfig, Pipeline keyword arguments, or None."""
    if isinstance(spec, Pipeline):
        return spec
    if isinstance(spec, PipelineConfig):
        return Pipeline.from_config(spec, progress=progress)
    return Pipeline(**{"progress": progress, **dict(spec or {})})


def run_many(
    pipeline: Pipeline | PipelineConfig | Mapping[str, Any] | None,
    inputs: str | Path | Sequence[str | Path],
    out_dir: str | Path,
    *,
    progress: bool = True,
    **options: Any,
) -> BatchResult:
    """Run a job on every video (or photo) of ``inputs``, writing under ``out_dir``.

    ``pipeline`` is a :class:`~facemirror.pipeline.Pipeline`, a
    :class:`~facemirror.settings.PipelineConfig`, Pipeline keyword arguments,
    or None (the defaults). ``options`` are :func:`~facemirror.batch.runner.run_batch`'s: ``job`` ("run",
    "mirror", "measure" or "aus"), ``extensions``, ``recursive``, ``force``, ``checksum``, ``workers``, ``ray``.
    """
    return run_batch(as_pipeline(pipeline, progress), inputs, out_dir, progress=progress, **options)
