"""Speed of ``extract_aus()`` with OpenFace 3.0's MTL (random weights, official layout) on 1080p60 video.

Three comparisons, measured side by side in one run:

1. ``extract_aus()`` frames per second per MTL backend (onnx; torch), the
   embedded face model on the backend ``auto`` picks for it (LiteRT when
   installed, else ONNX Runtime).
2. MTL AU inference against the bare network at the same batch size and
   threads: ``MTL.predict_inputs`` (what the AU stage runs on each batch:
   network + postprocessing) vs ONNX Runtime's ``session.run`` alone on the same
   session and inputs, side by side (target >= 0.9); the AU stage inside the
   pipeline per crop; preprocessing per crop, which ``extract_aus()`` does on
   the face-stage thread as each crop arrives.
3. The straightforward way: PyTorch, RetinaFace (real weights from ../shared,
   full resolution, no size cap) on every frame, then MTL on one crop at a
   time. Target: ours >= 8x faster. It runs on the first ``--naive-frames``
   frames only (it is slow); fps is per frame, so the counts need not match.

    python benchmarks/bench_aus.py [--seconds 2] [--threads N] [--batch 8] [--naive-frames 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import (
    RETINAFACE_WEIGHTS,
    clip_prefix,
    engines_line,
    machine,
    machine_lines,
    md_table,
    quiet_pipeline,
    random_mtl_weights,
    write_result,
)
from facemirror.backends.base import default_preference, default_threads
from facemirror.models.mtl import BATCH_SIZE, MTL
from facemirror.profiling import profile_dict
from facemirror.results import JobResult
from facemirror.video import VideoReader


def ours(clip: Path, backend: str, weights: Path, threads: int | None, batch: int, out: Path) -> JobResult:
    """``extract_aus()`` with MTL on ``backend`` (models loaded before the clock starts)."""
    face_first = ["litert"] if "litert" in default_preference() else []  # the face nets' fastest backend here
    preference = [*face_first, backend] if backend == "onnx" else [*face_first, backend, "onnx"]
    pipeline = quiet_pipeline(
        au_model="openface3",
        backend=preference,
        threads=threads,
        au_batch_size=batch,
        weights={"mtl": str(weights)},
        load=["openface3"],
    )
    return pipeline.extract_aus(clip, out / f"aus_{backend}.csv")


def face_crops(clip: Path, count: int) -> list[np.ndarray]:
    """``count`` face crops of the clip (frame-centre squares about the face's size), for the bare network."""
    crops = []
    with VideoReader(clip) as reader:
        for frame in reader:
            h, w = frame.image.shape[:2]
            side = int(0.4 * h)
            crops.append(frame.image[h // 2 - side // 2 : h // 2 + side // 2, w // 2 - side // 2 : w // 2 + side // 2])
            if len(crops) == count:
                break
    return crops


def bare_network(weights: Path, threads: int, batch: int, crops: list[np.ndarray], repeats: int) -> dict[str, Any]:
    """ms per crop (median of ``repeats``, interleaved): ONNX Runtime alone, ``MTL.predict_inputs``, preprocessing."""
    mtl = MTL.from_weights(weights, "onnx", threads=threads, batch_size=batch)
    start = time.perf_counter()
    inputs = mtl.preprocess(crops[:batch])["image"]
    preprocess_ms = 1000 * (time.perf_counter() - start) / len(inputs)
    session = mtl.engine.session  # type: ignore[attr-defined]
    name = session.get_inputs()[0].name
    session.run(None, {name: inputs})  # warm-up
    bare, ours = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {name: inputs})
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        mtl.predict_inputs(inputs)
        ours.append(time.perf_counter() - start)
    return {
        "net_ms_per_crop": 1000 * statistics.median(bare) / batch,
        "predict_ms_per_crop": 1000 * statistics.median(ours) / batch,
        "preprocess_ms_per_crop": preprocess_ms,
        "provider": mtl.engine.info.provider,
    }


def straightforward(clip: Path, weights: Path, threads: int | None, frames: int) -> dict[str, Any]:
    """Torch RetinaFace at full resolution on every frame, then torch MTL on one crop: frames per second."""
    from facemirror.models.retinaface import RetinaFace

    if not RETINAFACE_WEIGHTS.exists():
        sys.exit(f"needs the real RetinaFace weights {RETINAFACE_WEIGHTS} (../shared beside the checkout)")
    threads = threads or os.cpu_count() or 1  # torch's own default (torch threads are global: set them back)
    detector = RetinaFace.from_weights(RETINAFACE_WEIGHTS, "torch", max_size=None, threads=threads)
    mtl = MTL.from_weights(weights, "torch", threads=threads, batch_size=1)
    found = done = 0
    detect_s = mtl_s = 0.0
    start, cpu_start = time.perf_counter(), time.process_time()
    with VideoReader(clip) as reader:
        for frame in reader:
            t0 = time.perf_counter()
            faces = detector.detect(frame.image)
            t1 = time.perf_counter()
            if faces:
                found += 1
                box = max(faces, key=lambda f: f.score).box
            else:  # RetinaFace misses big faces at full resolution: still pay for the AU crop
                h, w = frame.image.shape[:2]
                box = np.array([w / 2 - 0.2 * h, 0.3 * h, w / 2 + 0.2 * h, 0.7 * h])
            mtl.predict(frame.image, boxes=[box])
            detect_s += t1 - t0
            mtl_s += time.perf_counter() - t1
            done += 1
            if done == frames:
                break
    seconds = time.perf_counter() - start
    return {
        "cpu_ms": 1000 * (time.process_time() - cpu_start) / max(1, done),
        "frames": done,
        "seconds": seconds,
        "fps": done / seconds,
        "detect_ms": 1000 * detect_s / done,
        "mtl_ms": 1000 * mtl_s / done,
        "found": found,
        "engines": f"retinaface {detector.engine.info.backend}, mtl {mtl.engine.info.backend} "
        f"({__import__('torch').get_num_threads()} torch threads)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of the 1080p60 clip for extract_aus")
    parser.add_argument(
        "--threads",
        type=int,
        help="inference threads for every way (default: each its own: the pipeline's half the cores per network, "
        "torch's all cores for the straightforward way)",
    )
    parser.add_argument("--batch", type=int, default=BATCH_SIZE, help="MTL batch size")
    parser.add_argument("--naive-frames", type=int, default=30, help="frames for the straightforward way")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of the bare network")
    parser.add_argument("--backends", default="onnx,torch", help="comma-separated MTL backends for extract_aus")
    args = parser.parse_args()

    facts = machine()
    clip = clip_prefix(args.seconds)
    weights = random_mtl_weights()
    results: dict[str, JobResult] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            print(f"extract_aus() MTL on {backend} ...", file=sys.stderr)
            results[backend] = ours(clip, backend, weights, args.threads, args.batch, Path(tmp))
    print("bare MTL network ...", file=sys.stderr)
    bare_threads = args.threads or default_threads(sharing=2)
    bare = bare_network(weights, bare_threads, args.batch, face_crops(clip, args.batch), args.repeats)
    print("straightforward way (torch RetinaFace full-res + MTL batch 1) ...", file=sys.stderr)
    naive = straightforward(clip, weights, args.threads, args.naive_frames)

    profiles = {name: profile_dict(r) for name, r in results.items()}
    rows = []
    for name, r in results.items():
        p = profiles[name]
        au = p["stages"].get("au_model", {"seconds": 0.0})
        rows.append(
            [
                f"extract_aus(), MTL on {name}",
                r.frames,
                f"{r.timings['total']['seconds']:.1f}",
                f"{r.fps:.2f}",
                f"{1000 * au['seconds'] / max(1, r.frames):.1f}",
                f"{p['stages'].get('landmarks', {}).get('ms_per_frame', 0):.1f}",
                f"{p['bounding_thread']} ({100 * p['bounding_busy_share']:.0f}%)",
                f"{100 * (p['cpu_share_of_all_cores'] or 0):.0f}%",
                f"{1000 * (p['cpu_seconds'] or 0) / r.frames:.0f}",
                engines_line(r.engines),
            ]
        )
    rows.append(
        [
            "straightforward: torch RetinaFace full-res + MTL batch 1",
            naive["frames"],
            f"{naive['seconds']:.1f}",
            f"{naive['fps']:.2f}",
            f"{naive['mtl_ms']:.1f}",
            f"RetinaFace {naive['detect_ms']:.1f}",
            "one thread (serial)",
            "",
            f"{naive['cpu_ms']:.0f}",
            naive["engines"] + f"; faces found in {naive['found']}/{naive['frames']} frames",
        ]
    )
    onnx = results.get("onnx")
    compare = [
        f"MTL on ONNX Runtime ({bare['provider']}, batch {args.batch}, {bare_threads} threads as in the pipeline), "
        f"median of {args.repeats} interleaved runs: bare `session.run` {bare['net_ms_per_crop']:.1f} ms/crop; "
        f"`MTL.predict_inputs` (the AU stage's call: network + postprocessing) {bare['predict_ms_per_crop']:.1f} "
        f"ms/crop: **{bare['net_ms_per_crop'] / bare['predict_ms_per_crop']:.2f}** of the bare network's throughput "
        f"(target >= 0.9). Preprocessing, which extract_aus() does on the face-stage thread as each crop "
        f"arrives: {bare['preprocess_ms_per_crop']:.1f} ms/crop.",
    ]
    if onnx is not None:
        au_ms = 1000 * profiles["onnx"]["stages"]["au_model"]["seconds"] / onnx.frames
        ours_cpu = 1000 * (profiles["onnx"]["cpu_seconds"] or 0) / onnx.frames
        compare += [
            f"- The AU stage inside extract_aus() (network on its thread, sharing the 2 cores with decoding and the "
            f"face stage): {au_ms:.1f} ms/crop against {bare['net_ms_per_crop']:.1f} bare = "
            f"{bare['net_ms_per_crop'] / au_ms:.2f}.",
            f"- Ours (onnx) vs the straightforward way: {onnx.fps:.2f} / {naive['fps']:.2f} = "
            f"**{onnx.fps / naive['fps']:.1f}x** (target >= 8x); by process CPU time per frame "
            f"{naive['cpu_ms']:.0f} / {ours_cpu:.0f} = {naive['cpu_ms'] / ours_cpu:.1f}x.",
        ]
    command = "python benchmarks/bench_aus.py " + " ".join(sys.argv[1:])
    first = next(iter(results.values()))
    lines = [
        f"Clip: {clip.name}, {first.video.width}x{first.video.height} @ {float(first.video.fps):g} fps, "
        f"{first.frames} frames (the straightforward way: its first {naive['frames']}). MTL weights: random, "
        "official layout (speed does not depend on the values).",
        *machine_lines(facts, " ".join(f"{x:.2f}" for x in os.getloadavg())),
        "",
        *md_table(
            [
                "method",
                "frames",
                "seconds",
                "fps",
                "AU ms/frame",
                "face ms/frame",
                "bounding thread",
                "CPU use",
                "CPU ms/frame",
                "engines",
            ],
            rows,
        ),
        "",
        *compare,
    ]
    write_result("aus", "extract_aus() speed with OpenFace 3.0's MTL (1080p60)", command, lines)


if __name__ == "__main__":
    main()
