"""``facemirror info VIDEO``: what a video holds (size, rotation, exact frame rate, audio), as text or JSON."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import click

from facemirror.cli.options import is_quiet
from facemirror.video.probe import VideoInfo, probe


def format_info(info: VideoInfo) -> str:
    """A short human-readable description of ``info``, one fact per line."""
    fps, avg_fps = _ratio(info.fps), _ratio(info.avg_fps) if info.avg_fps else ""
    rotation = f" (stored {info.coded_width}x{info.coded_height}, rotated {info.rotation}°)" if info.rotation else ""
    avg = f", average {float(info.avg_fps):.3f} ({avg_fps})" if info.avg_fps and info.avg_fps != info.fps else ""
    audio = (
        f"{info.audio_codec}, {info.audio_sample_rate} Hz, {info.audio_channels} channel(s)"
        if info.has_audio
        else "none"
    )
    lines = [
        f"file:       {info.path}",
        f"container:  {info.container_format}",
        f"video:      {info.codec}, {info.pix_fmt}, {info.width}x{info.height}{rotation}",
        f"frame rate: {float(info.fps):.3f} fps ({fps}){avg}",
        f"frames:     {info.frame_count} (container estimate)",
        f"duration:   {info.duration:.3f} s (time base {_ratio(info.time_base)})",
        f"audio:      {audio}",
    ]
    if info.truncated:
        lines.append("warning:    the file is truncated: its index points past the end of the file")
    return "\n".join(lines)


def _ratio(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def format_faces(faces: dict[str, Any]) -> str:
    """The face scan's lines: in how many frames the subject was found, their face's width, the faces seen."""
    lines = [f"faces:      found in {faces['frames_with_face']} of {faces['frames']} frames ({faces['face']})"]
    size = faces["face_size"]
    if size:
        small = f"; under {size['small_below_px']:g} px: numbers are less precise" if size["small"] else ""
        lines.append(f"face width: {size['min_px']:.0f}-{size['max_px']:.0f} px, median {size['median_px']:.0f}{small}")
    if faces.get("faces_seen", 0) > 1:
        lines.append(f"people:     up to {faces['faces_seen']} faces in view; following {faces['primary_face_rule']}")
    if "damaged_input" in faces:
        lines.append(f"damaged:    {faces['damaged_input']}")
    return "\n".join(lines)


@click.command("info")
@click.argument("video", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the facts as a JSON object.")
@click.option(
    "--faces",
    is_flag=True,
    help="Also run the embedded face tracker over the video (nothing is written): frames with a face, face width.",
)
@click.pass_context
def info_cmd(ctx: click.Context, video: Path, as_json: bool, faces: bool) -> None:
    """Print what VIDEO holds: size, rotation, exact frame rate, frame count, duration, codecs, audio."""
    info = probe(video)
    scan = None
    if faces:
        from facemirror.pipeline import Pipeline

        scan = Pipeline(progress=not is_quiet(ctx)).scan_faces(video)
    if as_json:
        click.echo(json.dumps({**info.to_dict(), **({"faces": scan} if scan is not None else {})}, indent=2))
    else:
        click.echo(format_info(info) + (f"\n{format_faces(scan)}" if scan is not None else ""))
