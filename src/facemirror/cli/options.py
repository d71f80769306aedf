"""Click options shared by the commands that build a Pipeline, so every command spells them the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from facemirror.pipeline import QUALITY

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
    type=int,
    help="Inference threads per network (default: half the cores; the face and AU networks run at once).",
)

_OPTIONS = (
    BACKEND,
    THREADS,
    click.option("--selfie", is_flag=True, help="The recording is mirrored (front camera app): swap the sides."),
    click.option(
        "--hold",
        "hold_seconds",
        type=float,
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
)


def pipeline_options(command: F) -> F:
    """Add the Pipeline's options to a click command; read them back with :func:`pop_pipeline_kwargs`."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def pop_pipeline_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """Take the values of :func:`pipeline_options` out of a command's ``params`` as Pipeline keyword arguments."""
    return {
        "backend": params.pop("backend"),
        "threads": params.pop("threads"),
        "selfie": params.pop("selfie"),
        "hold_seconds": params.pop("hold_seconds"),
        "debug_video": params.pop("debug_video"),
        "quality": params.pop("quality"),
        "copy_audio": not params.pop("no_audio"),
    }
