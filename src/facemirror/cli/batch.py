"""``facemirror batch IN_DIR OUT_DIR``: one job over a folder of videos, resumable, locally or on Ray."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from facemirror.batch import INPUT_EXTENSIONS, RayOptions, run_many
from facemirror.batch.discover import normalize_extensions
from facemirror.batch.worker import JOBS
from facemirror.cli.options import AU_MODEL, is_quiet, pipeline_options, pop_pipeline_config
from facemirror.cli.paths import input_folder, output_folder
from facemirror.pipeline import Pipeline


def _extensions(_: click.Context, __: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return normalize_extensions(value)
    except ValueError as exc:  # `--ext .`
        raise click.BadParameter(f"{exc}, got {' '.join(value)!r}") from exc


@click.command("batch")
@click.argument("in_dir", type=click.Path(path_type=Path), callback=input_folder)
@click.argument("out_dir", type=click.Path(path_type=Path), callback=output_folder)
@click.option(
    "--job",
    type=click.Choice(list(JOBS)),
    default="run",
    show_default=True,
    help="run = mirror + AUs of each mirrored side + measures; mirror; aus = AUs of the video itself "
    "(<stem>.csv); measure = the clinical measures, blinks and summary.",
)
@click.option(
    "--ext",
    "extensions",
    multiple=True,
    default=INPUT_EXTENSIONS,
    callback=_extensions,
    show_default=True,
    help="Video or photo file extension, case-insensitive (repeat for several).",
)
@click.option("-r", "--recursive", is_flag=True, help="Also process the videos in subfolders (mirrored in OUT_DIR).")
@click.option("--force", is_flag=True, help="Redo videos that an earlier run finished.")
@click.option("--checksum", is_flag=True, help="Recognise unchanged inputs by sha256 instead of size and mtime.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Videos processed at once in local processes (default: cores / threads, 4 threads each).",
)
@click.option("--ray", "use_ray", is_flag=True, help="Run each video as a Ray task (RAY_ADDRESS, else a local Ray).")
@click.option("--ray-address", help="Ray cluster to use ('auto' = the one this machine joined); implies --ray.")
@click.option(
    "--ray-cpus",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    help="CPUs reserved per video on Ray.",
)
@click.option(
    "--ray-gpus", type=click.FloatRange(min=0), default=0.0, show_default=True, help="GPUs reserved per video on Ray."
)
@click.option(
    "--ray-retries", type=click.IntRange(min=0), default=3, show_default=True, help="Retries when a Ray worker dies."
)
@click.option(
    "--profile", is_flag=True, help="Write each video's profile (where the time went) as <stem>.profile.txt/.json."
)
@AU_MODEL
@pipeline_options
@click.pass_context
def batch_cmd(
    ctx: click.Context,
    in_dir: Path,
    out_dir: Path,
    job: str,
    extensions: tuple[str, ...],
    recursive: bool,
    force: bool,
    checksum: bool,
    workers: int | None,
    use_ray: bool,
    ray_address: str | None,
    ray_cpus: float,
    ray_gpus: float,
    ray_retries: int,
    profile: bool,
    au_model: str,
    **params: Any,
) -> None:
    """Process every video in IN_DIR; IN_DIR/a/b.mp4 -> OUT_DIR/a/b/, plus OUT_DIR/batch_summary.csv.

    Videos finished by an earlier run are skipped (see --force); a video that
    fails is listed in the summary and the others go on; the exit code is 1
    when any video failed.
    """
    quiet = is_quiet(ctx)
    ray = None
    if use_ray or ray_address:
        ray = RayOptions(address=ray_address, num_cpus=ray_cpus, num_gpus=ray_gpus, max_retries=ray_retries)
    pipeline = Pipeline.from_config(pop_pipeline_config(params, au_model), progress=not quiet, profile=profile)
    result = run_many(
        pipeline,
        in_dir,
        out_dir,
        job=job,
        extensions=extensions,
        recursive=recursive,
        force=force,
        checksum=checksum,
        workers=workers,
        ray=ray,
        progress=not quiet,
    )
    if not quiet or not result.ok:
        click.echo(result.summary(), err=not result.ok)
    if not result.ok:
        ctx.exit(1)
