"""CPU cost per 1080p frame of the pipeline's stages alone (one thread each), and of cheaper alternatives.

The numbers behind the proposals in README.md: symmetric vs plain landmarks
on ONNX Runtime and on LiteRT (where ai-edge-litert is installed), the
reflection (BGR vs the decoder's I420) and its warp on BGR vs BGRA vs an
I420 luma plane vs nearest-neighbour, a frame copy, MTL
preprocessing (float antialiased vs uint8 INTER_AREA) and the MTL network.
Process CPU time, so other processes on the machine disturb it less than
wall time. Runs in about a minute.

    python benchmarks/bench_stages.py [--frames 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

import cv2
import numpy as np

from common import clip_prefix, machine, machine_lines, md_table, random_mtl_weights, write_result
from facemirror.mirror.midline import Midline
from facemirror.mirror.reflect import mirror_both, mirror_both_i420, reflection_matrix, to_pixel_indices
from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.models.mtl import MTL
from facemirror.optional import available
from facemirror.video import VideoReader


def cpu_ms(fn: Callable[[int], object], calls: int) -> float:
    """Process CPU milliseconds per call of ``fn(i)`` (after one warm-up call)."""
    fn(0)
    start = time.process_time()
    for i in range(calls):
        fn(i)
    return 1000 * (time.process_time() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    facts = machine()
    with VideoReader(clip_prefix(1), yuv=True) as reader:
        decoded = [f for f, _ in zip(reader, range(args.frames))]
    frames = [f.image for f in decoded]
    planar = [f.yuv for f in decoded]
    n = len(frames)
    h, w = frames[0].shape[:2]
    rows = []
    for backend in ("onnx", "litert") if available("ai_edge_litert") else ("onnx",):
        for symmetric in (True, False):
            lm = FaceLandmarker.from_weights(backend=backend, symmetric=symmetric, with_blendshapes=False, threads=1)
            lm.reset()
            track = lm.track
            ms = cpu_ms(lambda i, t=track: t(frames[i % n]), n)
            rows.append([f"landmarks, symmetric={symmetric}, {backend}", f"{ms:.1f}"])
    midline = Midline(point=(w / 2 + 0.3, h / 2 + 0.2), direction=(0.05, 0.9987))
    rows.append(
        [
            "mirror_both (reflection + both outputs), BGR",
            f"{cpu_ms(lambda i: mirror_both(frames[i % n], midline), n):.1f}",
        ]
    )
    rows.append(
        [
            "mirror_both_i420 (the same on the decoder's I420, as the pipeline runs it)",
            f"{cpu_ms(lambda i: mirror_both_i420(planar[i % n], midline), n):.1f}",
        ]
    )
    matrix = reflection_matrix(to_pixel_indices(midline))
    inverse = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    bgra = [cv2.cvtColor(f, cv2.COLOR_BGR2BGRA) for f in frames]
    warps = {
        "warpAffine bilinear, BGR": lambda i: cv2.warpAffine(frames[i % n], matrix, (w, h), flags=inverse),
        "warpAffine bilinear, BGRA": lambda i: cv2.warpAffine(bgra[i % n], matrix, (w, h), flags=inverse),
        "warpAffine bilinear, I420 luma plane": lambda i: cv2.warpAffine(
            planar[i % n][:h], matrix, (w, h), flags=inverse
        ),
        "warpAffine nearest, BGR": lambda i: cv2.warpAffine(
            frames[i % n], matrix, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
        ),
        "frame copy (as VideoWriter.write)": lambda i: np.array(frames[i % n], order="C", copy=True),
    }
    rows += [[name, f"{cpu_ms(fn, n):.1f}"] for name, fn in warps.items()]
    mtl = MTL.from_weights(random_mtl_weights(), "onnx", threads=1, batch_size=32)
    side = int(0.42 * h)
    crop = frames[0][h // 2 - side // 2 : h // 2 + side // 2, w // 2 - side // 2 : w // 2 + side // 2]

    def uint8_first(_: int) -> np.ndarray:
        small = cv2.resize(crop, (224, 224), interpolation=cv2.INTER_AREA)
        return (cv2.cvtColor(small, cv2.COLOR_BGR2RGB).astype(np.float32) / np.float32(255)).transpose(2, 0, 1)

    rows.append(
        [f"MTL preprocess, float antialiased ({side}px crop)", f"{cpu_ms(lambda i: mtl.preprocess_crop(crop), 10):.1f}"]
    )
    rows.append([f"uint8 INTER_AREA resize, then float ({side}px crop)", f"{cpu_ms(uint8_first, 10):.1f}"])
    batch = mtl.preprocess([crop] * 32)
    rows.append(["MTL network, batch 32, per crop", f"{cpu_ms(lambda i: mtl.forward(batch), 3) / 32:.1f}"])

    command = "python benchmarks/bench_stages.py " + " ".join(sys.argv[1:])
    lines = [
        f"{n} frames of the 1080p60 clip; one thread each (ONNX Runtime 1 intra-op thread, LiteRT 1 thread, "
        "cv2.setNumThreads(1)).",
        *machine_lines(facts, " ".join(f"{x:.2f}" for x in os.getloadavg())),
        "",
        *md_table(["stage", "CPU ms per call"], rows),
    ]
    write_result("stages", "CPU cost of the pipeline's stages alone (1080p)", command, lines)


if __name__ == "__main__":
    main()
