"""``facemirror run | mirror | aus``: the jobs a researcher runs on a video."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from facemirror.cli.options import (
    AU_MODEL,
    BACKEND,
    FACE,
    HEATMAP,
    SELFIE,
    THREADS,
    aus_options,
    is_quiet,
    measure_options,
    pipeline_options,
    pop_pipeline_config,
)
from facemirror.cli.paths import output_folder
from facemirror.pipeline import Pipeline
from facemirror.profiling import profile_report
from facemirror.results import JobResult

_OUT_DIR = click.option(
    "-o",
    "--out-dir",
    type=click.Path(path_type=Path),
    callback=output_folder,
    help="Output folder (default: <video folder>/<stem>_facemirror).",
)
_PROFILE = click.option(
    "--profile", is_flag=True, help="Print where the time went; also saved as <stem>.profile.txt/.json."
)


def _pipeline(ctx: click.Context, params: dict[str, Any], au_model: str = "auto", profile: bool = False) -> Pipeline:
    config = pop_pipeline_config(params, au_model)
    return Pipeline.from_config(config, progress=not is_quiet(ctx), profile=profile)


def _report(ctx: click.Context, result: JobResult, profile: bool) -> None:
    """Print the job's summary unless --quiet, and its profile when --profile asked for it."""
    if not is_quiet(ctx):
        click.echo(result.summary())
    if profile:
        click.echo(profile_report(result))


@click.command("run")
@click.argument("video", type=click.Path(path_type=Path))
@_OUT_DIR
@AU_MODEL
@pipeline_options
@measure_options
@HEATMAP
@click.option("--report", is_flag=True, help="Also write <stem>_report.html (needs the 'report' extra).")
@_PROFILE
@click.pass_context
def run_cmd(ctx: click.Context, video: Path, out_dir: Path | None, au_model: str, profile: bool, **params: Any) -> None:
    """Mirror VIDEO, extract the AUs of both mirrored faces and measure the face, in one pass.

    Writes VIDEO's left- and right-mirrored videos, a debug video, a midline
    CSV, an AU CSV per mirrored face, the clinical measures per frame and side
    (<stem>_measures.csv), the blinks, a per-video summary, and a provenance
    .json beside each.
    """
    result = _pipeline(ctx, params, au_model, profile).run(video, out_dir)
    _report(ctx, result, profile)


@click.command("mirror")
@click.argument("video", type=click.Path(path_type=Path))
@_OUT_DIR
@pipeline_options
@_PROFILE
@click.pass_context
def mirror_cmd(ctx: click.Context, video: Path, out_dir: Path | None, profile: bool, **params: Any) -> None:
    """Write left- and right-mirrored videos, a debug video and a midline CSV for VIDEO."""
    result = _pipeline(ctx, params, profile=profile).mirror(video, out_dir)
    _report(ctx, result, profile)


@click.command("aus")
@click.argument("video", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out-dir",
    type=click.Path(path_type=Path),
    callback=output_folder,
    help="Folder for <stem>.csv (default: beside the video).",
)
@aus_options
@_PROFILE
@click.pass_context
def aus_cmd(ctx: click.Context, video: Path, out_dir: Path | None, au_model: str, profile: bool, **params: Any) -> None:
    """Write VIDEO's per-frame action units as an OpenFace-2.0-style CSV (<stem>.csv)."""
    pipeline = _pipeline(ctx, params, au_model, profile)
    csv_path = (out_dir / f"{video.stem}.csv") if out_dir is not None else None
    result = pipeline.extract_aus(video, csv_path)
    _report(ctx, result, profile)


@click.command("measure")
@click.argument("video", type=click.Path(path_type=Path))
@_OUT_DIR
@FACE
@BACKEND
@THREADS
@SELFIE
@measure_options
@_PROFILE
@click.pass_context
def measure_cmd(ctx: click.Context, video: Path, out_dir: Path | None, profile: bool, **params: Any) -> None:
    """Measure VIDEO's face per frame and side in millimetres (brow, lids, mouth corners), its blinks and a summary.

    Writes <stem>_measures.csv, <stem>_blinks.csv and <stem>_summary.json/.csv (docs/measures.md).
    """
    params.update(face_box=None, face_index=None, only_produced_columns=False)
    result = _pipeline(ctx, params, profile=profile).measure(video, out_dir)
    _report(ctx, result, profile)
