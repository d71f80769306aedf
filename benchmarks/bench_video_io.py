"""Video I/O speed and memory: decode, encode and decode+encode of a 1080p60 clip.

Encoders: libx264 (ultrafast / veryfast) for 8-bit video, and libx265 (the same presets) for 10-bit I420
frames, which is how the mirrored videos of an iPhone's 10-bit HLG recording are written on a machine
without a hardware HEVC encoder.

The clip (10 s, 1920x1080, 60 fps) is made once from ../shared/media/single_face.jpg, a real face, with a
slowly moving and zooming crop, and cached in benchmarks/.cache/. Each measurement runs in its own
subprocess so its peak RSS (ru_maxrss) is its own. Results are printed and written as markdown.

    python benchmarks/bench_video_io.py [--out benchmarks/results/video_io.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from facemirror.video import VideoReader, VideoWriter
from facemirror.video.probe import ColorTags

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
CLIP = CACHE / "face_1080p60_10s.mp4"
FACE = HERE.parents[1] / "shared" / "media" / "single_face.jpg"
WIDTH, HEIGHT, FPS, SECONDS = 1920, 1080, Fraction(60), 10
POOL = 30  # decoded frames kept in memory to feed the encode-only runs

MEASUREMENTS = {
    "decode": "decode only (VideoReader, BGR frames)",
    "encode-ultrafast": "encode only, libx264 preset ultrafast, CRF 18",
    "encode-veryfast": "encode only, libx264 preset veryfast, CRF 18",
    "encode10-ultrafast": "encode only, 10-bit I420 (HLG tags), libx265 preset ultrafast, CRF 18",
    "encode10-veryfast": "encode only, 10-bit I420 (HLG tags), libx265 preset veryfast, CRF 18",
    "transcode-veryfast": "decode + encode (VideoReader -> VideoWriter veryfast)",
}


def make_clip() -> Path:
    """Render the cached test clip: a crop of a real face photo that pans and zooms, upscaled to 1080p."""
    if CLIP.exists():
        return CLIP
    if not FACE.exists():
        sys.exit(f"needs the face photo {FACE} (the ../shared folder beside the checkout)")
    CACHE.mkdir(exist_ok=True)
    photo = cv2.imread(str(FACE))
    h, w = photo.shape[:2]
    frames = int(SECONDS * FPS)
    with VideoWriter(CLIP, WIDTH, HEIGHT, FPS, encoder="libx264", preset="veryfast") as writer:
        for i in range(frames):
            phase = i / frames * 2 * np.pi
            crop_w = w * (0.8 + 0.15 * np.cos(phase))  # zoom in and out
            crop_h = crop_w * HEIGHT / WIDTH
            cx = w / 2 + 0.08 * w * np.sin(phase)  # drift sideways
            cy = h / 2 + 0.05 * h * np.sin(2 * phase)
            scale = WIDTH / crop_w
            affine = np.array([[scale, 0, -(cx - crop_w / 2) * scale], [0, scale, -(cy - crop_h / 2) * scale]])
            writer.write(cv2.warpAffine(photo, affine, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR))
    return CLIP


def measure(name: str) -> dict[str, float]:
    """Run one measurement in this process; returns frames, seconds, fps and peak RSS (MiB)."""
    frames = 0
    if name == "decode":
        start = time.perf_counter()
        with VideoReader(CLIP) as reader:
            for _ in reader:
                frames += 1
        seconds = time.perf_counter() - start
    elif name.startswith("encode"):
        kind, preset = name.split("-")
        with VideoReader(CLIP) as reader:
            pool = [frame.image for frame, _ in zip(reader, range(POOL))]
        options: dict[str, Any] = {"encoder": "libx264"}
        if kind == "encode10":  # the same pictures as 10-bit I420, as a 10-bit source decodes
            pool = [cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).astype(np.uint16) * 4 for image in pool]
            options = {"encoder": "libx265", "i420_colors": ColorTags(9, 1, 9, 18), "i420_format": "yuv420p10le"}
        total = int(SECONDS * FPS)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            with VideoWriter(Path(tmp) / "out.mp4", WIDTH, HEIGHT, FPS, preset=preset, **options) as w:
                for i in range(total):
                    w.write(pool[i % POOL])
            seconds = time.perf_counter() - start
        frames = total
    elif name == "transcode-veryfast":
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            with VideoReader(CLIP) as reader:
                info = reader.info
                out = Path(tmp) / "out.mp4"
                with VideoWriter(
                    out, info.width, info.height, info.fps, time_base=info.time_base, encoder="libx264"
                ) as w:
                    for frame in reader:
                        w.write(frame.image, frame.pts)
                        frames += 1
            seconds = time.perf_counter() - start
    else:
        raise ValueError(name)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return {"frames": frames, "seconds": seconds, "fps": frames / seconds, "peak_rss_mib": rss_mib}


def table(results: dict[str, dict[str, float]]) -> str:
    """The results as a markdown table with the machine it ran on."""
    lines = [
        f"Clip: {CLIP.name}, {WIDTH}x{HEIGHT} @ {FPS} fps, {int(SECONDS * FPS)} frames (H.264 CRF 18).",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info}).",
        f"Encode-only runs cycle {POOL} decoded frames held in memory "
        f"(~{POOL * WIDTH * HEIGHT * 3 / 2**20:.0f} MiB of the peak RSS).",
        "",
        "| measurement | frames | seconds | fps | peak RSS (MiB) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        cells = [MEASUREMENTS[name], f"{r['frames']:.0f}", f"{r['seconds']:.2f}", f"{r['fps']:.1f}"]
        lines.append("| " + " | ".join([*cells, f"{r['peak_rss_mib']:.0f}"]) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "video_io.md", help="markdown file to write")
    parser.add_argument("--measure", choices=sorted(MEASUREMENTS), help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    make_clip()
    results = {}
    for name in MEASUREMENTS:
        child = subprocess.run(
            [sys.executable, __file__, "--measure", name], capture_output=True, text=True, check=True
        )
        results[name] = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{name}: {results[name]['fps']:.1f} fps", file=sys.stderr)
    report = table(results)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("# Video I/O benchmark\n\nMade by `python benchmarks/bench_video_io.py`.\n\n" + report)


if __name__ == "__main__":
    main()
