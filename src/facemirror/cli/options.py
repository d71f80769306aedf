"""Click options shared by the commands that build a Pipeline, so every command spells them the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from facemirror.registry import AU_MODELS, FACE_TRACKERS
from facemirror.settings import QUALITY, Measures, Mirroring, Outputs, PipelineConfig, Runtime, Tracking

F = TypeVar("F", bound=Callable[..., Any])

#: ``--backend``: shared by every command that runs networks
BACKEND = click.option(
    "--backend",
    default="auto",
    show_default=True,
    help="auto, onnx, litert, torch, coreml, or a comma-separated list to try in order "
    "(litert runs only the embedded face networks: e.g. litert,onnx).",
)
#: ``--threads``: inference threads of every engine
THREADS = click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="Inference threads per network (default: half the cores; the face and AU networks run at once).",
)
#: ``--selfie``: every command that knows the subject's sides
SELFIE = click.option("--selfie", is_flag=True, help="The recording is mirrored (front camera app): swap the sides.")
FACE = click.option(
    "--face",
    type=click.Choice(list(FACE_TRACKERS)),
    default="mediapipe",
    show_default=True,
    help="Face tracker: mediapipe (embedded, offline) or openface3 (RetinaFace + STAR; needs their weights: "
    "facemirror weights fetch retinaface star). See facemirror backends.",
)
AU_MODEL = click.option(
    "--au-model",
    type=click.Choice(["auto", *AU_MODELS]),
    default="auto",
    show_default=True,
    help="openface3 (needs its weights: facemirror weights fetch mtl), blendshapes (embedded), or auto.",
)
COLUMNS = click.option(
    "--only-produced-columns",
    is_flag=True,
    help="AU CSVs: write only the columns something fills, not every OpenFace 2.0 column.",
)


def is_quiet(ctx: click.Context) -> bool:
    """Whether the top-level ``--quiet`` was given (only errors; no progress bars)."""
    return bool(ctx.obj and ctx.obj.get("quiet"))


def _face_box(_: click.Context, __: click.Parameter, value: str | None) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        box = tuple(float(v) for v in value.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise click.BadParameter(f"expected X,Y,W,H in first-frame pixels with a positive size, got {value!r}")
    return box


_TRACKING = (
    click.option(
        "--face-box",
        callback=_face_box,
        metavar="X,Y,W,H",
        help="Follow the face in this box of the first frame (pixels) instead of the largest, most central one.",
    ),
    click.option("--face-index", type=click.IntRange(min=0), help="Follow the N-th face from the left (0 = leftmost)."),
)


def _rest(_: click.Context, __: click.Parameter, value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        start, end = (float(v) for v in value.split(","))
    except ValueError:
        start = end = 0.0
    if not end > start:
        raise click.BadParameter(f"expected START,END seconds with END after START, got {value!r}")
    return start, end


#: the clinical measures' options (``measure`` and ``run``)
_MEASURES = (
    click.option("--mm-per-px", type=click.FloatRange(min=0, min_open=True), help="Known scale (default: the iris)."),
    click.option("--ipd-mm", type=click.FloatRange(min=0, min_open=True), help="The subject's pupil distance (mm)."),
    click.option(
        "--affected-side",
        type=click.Choice(["left", "right"]),
        help="The subject's affected side: ratios become affected over healthy.",
    ),
    click.option(
        "--rest", callback=_rest, metavar="START,END", help="Rest segment in seconds (default: the first 1 s)."
    ),
    click.option("--no-flow", is_flag=True, help="Landmarks only, without the asymmetry field (faster, less exact)."),
)
#: ``run`` only: the one job with both the measures' field and a debug video
HEATMAP = click.option("--heatmap", is_flag=True, help="Draw the asymmetry field over the debug video's face.")

_OPTIONS = (
    FACE,
    BACKEND,
    THREADS,
    *_TRACKING,
    SELFIE,
    click.option(
        "--hold",
        "hold_seconds",
        type=click.FloatRange(min=0),
        default=0.5,
        show_default=True,
        help="Hold the midline this long when the face is lost (s).",
    ),
    click.option("--debug/--no-debug", "debug_video", default=True, show_default=True, help="Write the debug video."),
    click.option(
        "--quality",
        type=click.Choice(list(QUALITY)),
        default="balanced",
        show_default=True,
        help="Encoder speed/size trade-off.",
    ),
    click.option("--no-audio", is_flag=True, help="Do not copy the audio into the mirrored videos."),
    COLUMNS,
)


def pipeline_options(command: F) -> F:
    """Add the Pipeline's options to a click command; read them back with :func:`pop_pipeline_config`."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def measure_options(command: F) -> F:
    """The clinical measures' options; read them back with :func:`pop_pipeline_config`."""
    for option in reversed(_MEASURES):
        command = option(command)
    return command


def aus_options(command: F) -> F:
    """The options of ``facemirror aus``: a face tracker, an AU model, where they run, which face, which columns."""
    for option in reversed((FACE, AU_MODEL, BACKEND, THREADS, *_TRACKING, COLUMNS)):
        command = option(command)
    return command


def pop_pipeline_config(params: dict[str, Any], au_model: str = "auto") -> PipelineConfig:
    """Take the values of :func:`pipeline_options` (or :func:`aus_options`) out of ``params`` as a PipelineConfig.

    A combination the settings refuse (``--face-box`` with ``--face-index``) is a usage error, not a traceback.
    """
    if params.get("face_box") is not None and params.get("face_index") is not None:
        raise click.UsageError("give --face-box or --face-index, not both", click.get_current_context(silent=True))
    try:
        return _pipeline_config(params, au_model)
    except ValueError as exc:
        raise click.UsageError(str(exc), click.get_current_context(silent=True)) from exc


def _pipeline_config(params: dict[str, Any], au_model: str) -> PipelineConfig:
    backend = params.pop("backend")
    return PipelineConfig(
        face=params.pop("face"),
        au_model=au_model,
        selfie=params.pop("selfie", False),
        runtime=Runtime(backend=backend, threads=params.pop("threads")),
        tracking=Tracking(face_box=params.pop("face_box"), face_index=params.pop("face_index")),
        mirroring=Mirroring(hold_seconds=params.pop("hold_seconds", 0.5)),
        outputs=Outputs(
            debug_video=params.pop("debug_video", True),
            quality=params.pop("quality", "balanced"),
            copy_audio=not params.pop("no_audio", False),
            openface_columns=not params.pop("only_produced_columns"),
            debug_heatmap=params.pop("heatmap", False),
            report=params.pop("report", False),
        ),
        measures=Measures(
            flow=not params.pop("no_flow", False),
            mm_per_px=params.pop("mm_per_px", None),
            ipd_mm=params.pop("ipd_mm", None),
            affected_side=params.pop("affected_side", None),
            rest=params.pop("rest", None),
        ),
    )
