"""Helpers shared by the pipeline benchmarks: cached clips, random MTL weights, the I/O floor, machine facts, tables.

Everything heavy is cached in benchmarks/.cache/ (clips, the random MTL
checkpoint, facemirror's own cache of converted ONNX files).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results"
SHARED = HERE.parents[1] / "shared"
RETINAFACE_WEIGHTS = SHARED / "weights" / "retinaface_mobilenet0.25_Final.pth"
os.environ.setdefault("FACEMIRROR_CACHE", str(CACHE / "facemirror"))  # converted ONNX files stay here

sys.path.insert(0, str(HERE))
from bench_video_io import make_clip  # noqa: E402  (the 10 s 1080p60 clip of a real face; re-exported)
from facemirror import Outputs, Pipeline, Runtime  # noqa: E402
from facemirror.settings import AU_BATCH_SIZE, QUALITY  # noqa: E402
from facemirror.timing import StageTimes  # noqa: E402
from facemirror.video import VideoReader, VideoWriter  # noqa: E402


def clip_prefix(seconds: float) -> Path:
    """The first ``seconds`` of the cached 1080p60 clip (the whole clip for 10 s or more), cached."""
    full = make_clip()
    if seconds >= 10:
        return full
    out = CACHE / f"face_1080p60_{seconds:g}s.mp4"
    if not out.exists():
        with VideoReader(full) as reader:
            info = reader.info
            with VideoWriter(out, info.width, info.height, info.fps, encoder="libx264", preset="veryfast") as w:
                for frame in reader:
                    if frame.timestamp >= seconds:
                        break
                    w.write(frame.image)
    return out


def scaled_looped_clip(seconds: float, width: int, height: int, fps: int) -> Path:
    """The 1080p60 clip resized to ``width``x``height``, resampled to ``fps`` and looped to ``seconds``, cached."""
    out = CACHE / f"face_{width}x{height}_{fps}fps_{seconds:g}s.mp4"
    if out.exists():
        return out
    source = make_clip()
    with VideoReader(source) as reader:
        step = reader.info.fps / fps
        wanted = {int(i * step) for i in range(round(reader.info.frame_count / step))}
        picked = [
            cv2.resize(f.image, (width, height), interpolation=cv2.INTER_AREA) for f in reader if f.index in wanted
        ]
    loop = picked + picked[::-1]  # forwards then backwards: no jump at the seam
    total = int(seconds * fps)
    print(f"making {out.name} ({total} frames; cached for later runs)", file=sys.stderr)
    with VideoWriter(out, width, height, fps, encoder="libx264", preset="veryfast") as w:
        for i in range(total):
            w.write(loop[i % len(loop)])
    return out


def random_mtl_weights() -> Path:
    """Random MTL weights in the official layout (a plain state dict, as ``MTL_backbone.pth``), cached.

    Speed does not depend on the values; He-scaled like tests/fixtures_mtl.py so activations stay sane.
    """
    path = CACHE / "MTL_backbone_random.pth"
    if not path.exists():
        import torch

        from facemirror.models.nets.mtl_net import MTLNet

        g = torch.Generator().manual_seed(38)
        state = {}
        for name, value in MTLNet().state_dict().items():
            if value.is_floating_point() and value.dim() > 1:
                value = torch.randn(value.shape, generator=g) * (2.0 / value[0].numel()) ** 0.5
            state[name] = value
        CACHE.mkdir(exist_ok=True)
        torch.save(state, path)
    return path


def io_floor(
    video: Path,
    out_dir: Path,
    *,
    quality: str = "balanced",
    debug_scale: float = 0.5,
    content: dict[str, list[np.ndarray]] | None = None,
) -> dict[str, Any]:
    """Decode ``video`` and encode what ``mirror()`` writes (two full-size videos, the debug video at
    ``debug_scale``) with the pipeline's encoder settings, with no face work: the speed limit of I/O.

    It moves pixels the way the pipeline does and no more: the decoder's own I420 frames straight to the
    two full-size encoders (no copy, no colour conversion; BGR where the video is not 8-bit 4:2:0),
    and the BGR frame, shrunk, to the debug encoder. With ``content`` (``{"left": frames, "right": frames}``,
    see :func:`decoded_frames`) the two full-size encoders get those frames instead of the input's: the
    mirrored pictures a job made, which cost x264 more than the input's (a seam, halves moving apart).
    """
    crf, preset = QUALITY[quality]
    times = StageTimes()
    frames = 0
    with VideoReader(video, times=times, yuv=True) as reader, contextlib.ExitStack() as stack:
        info = reader.info
        common: dict[str, Any] = dict(time_base=info.time_base, quality=crf, preset=preset, times=times)
        colors = info.colors if reader.yuv else None
        sizes = {"left": (info.width, info.height), "right": (info.width, info.height)}
        sizes["debug"] = (max(1, round(info.width * debug_scale)), max(1, round(info.height * debug_scale)))
        writers = {
            name: stack.enter_context(
                VideoWriter(
                    out_dir / f"floor_{name}.mp4",
                    w,
                    h,
                    info.fps,
                    stage=f"encode-{name}",
                    i420_colors=colors if name != "debug" else None,
                    **common,
                )
            )
            for name, (w, h) in sizes.items()
        }
        for frame in reader:
            full = frame.yuv if frame.yuv is not None else frame.image
            for side in ("left", "right"):
                picture = full if content is None else content[side][frame.index]
                writers[side].write(picture, frame.pts, copy=False)
            with times.measure("debug"):
                small = cv2.resize(frame.image, sizes["debug"], interpolation=cv2.INTER_AREA)
            writers["debug"].write(small, frame.pts, copy=False)
            frames += 1
    timings = times.as_dict()
    seconds = timings["total"]["seconds"]
    return {
        "frames": frames,
        "seconds": seconds,
        "fps": frames / seconds,
        "timings": timings,
        "threads": times.threads(),
        "encoder": writers["left"].encoder,
    }


def decoded_frames(video: Path) -> list[np.ndarray]:
    """Every frame of ``video`` in the form the pipeline hands its encoders (I420 when it has it, else BGR)."""
    with VideoReader(video, yuv=True) as reader:
        return [frame.yuv if frame.yuv is not None else frame.image for frame in reader]


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn`` in seconds over ``repeats`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def stage_fps(timings: dict[str, dict[str, float]], frames: int, stages: Iterable[str]) -> dict[str, float]:
    """Frames per second each stage alone could sustain (frames / its seconds)."""
    return {s: frames / timings[s]["seconds"] for s in stages if s in timings and timings[s]["seconds"] > 0}


def engines_line(engines: dict[str, dict[str, str]]) -> str:
    """``model backend/provider`` for each model a job used."""
    return ", ".join(f"{name} {e.get('backend')}/{e.get('provider')}" for name, e in engines.items())


def _run(cmd: Sequence[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, str]:
    """The facts a number needs: cores, CPU model, RAM, OS, Python, package versions, load average."""
    import av
    import numpy
    import onnxruntime

    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    mem = (
        next(
            (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")),
            "0",
        )
        if Path("/proc/meminfo").exists()
        else "0"
    )
    versions = {
        "numpy": numpy.__version__,
        "opencv": cv2.__version__,
        "av": av.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        versions["ai-edge-litert"] = importlib.metadata.version("ai-edge-litert")
    try:
        import torch

        versions["torch"] = torch.__version__
    except ImportError:
        pass
    load = os.getloadavg()
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{int(mem) / 2**20:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "load": " ".join(f"{x:.2f}" for x in load),
    }


def machine_lines(facts: dict[str, str], load_after: str | None = None) -> list[str]:
    """The machine as markdown lines."""
    load = f"load average (1/5/15 min) at start {facts['load']}" + (f", at end {load_after}" if load_after else "")
    return [
        f"Machine: {facts['cores']} cores ({facts['cpu']}), {facts['ram']} RAM, {facts['os']}, "
        f"Python {facts['python']}; {facts['packages']}.",
        f"Other processes shared the machine: {load}. Compare ratios measured side by side in one run.",
    ]


def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A markdown table (numbers right-aligned)."""
    out = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |",
    ]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def write_result(name: str, title: str, command: str, lines: Sequence[str]) -> Path:
    """Write ``benchmarks/results/<name>.md`` and print it."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    text = f"# {title}\n\nMade by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n"
    text += "\n".join(lines) + "\n"
    path.write_text(text)
    print(text)
    return path


def quiet_pipeline(
    face: str = "mediapipe",
    au_model: str = "auto",
    *,
    backend: str | Sequence[str] = "auto",
    threads: int | None = None,
    quality: str = "balanced",
    au_batch_size: int = AU_BATCH_SIZE,
    weights: dict[str, str] | None = None,
    load: Sequence[str] = (),
) -> Pipeline:
    """A Pipeline without a progress bar whose face tracker and the AU models named in ``load`` are loaded
    already, so that loading stays outside a job's clock."""
    runtime = Runtime(
        backend=backend if isinstance(backend, str) else tuple(backend),
        threads=threads,
        au_batch_size=au_batch_size,
        weights=weights or {},
    )
    pipeline = Pipeline(face, au_model, runtime=runtime, outputs=Outputs(quality=quality), progress=False)
    pipeline.face_tracker  # noqa: B018
    for name in load:
        pipeline.au_model_for(name)
    return pipeline
