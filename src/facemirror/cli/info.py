"""``facemirror info VIDEO``: what a video holds (size, rotation, exact frame rate, audio), as text or JSON."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import click

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


@click.command("info")
@click.argument("video", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the facts as a JSON object.")
def info_cmd(video: Path, as_json: bool) -> None:
    """Print what VIDEO holds: size, rotation, exact frame rate, frame count, duration, codecs, audio."""
    info = probe(video)
    click.echo(json.dumps(info.to_dict(), indent=2) if as_json else format_info(info))
