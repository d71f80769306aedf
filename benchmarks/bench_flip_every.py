"""Accuracy and CPU cost of FaceLandmarker(flip_every=k): the symmetric mesh pair every k-th tracked frame.

For each video, tracks every frame with ``flip_every=1`` (the pair on every frame: the reference) and with
each k, and compares with the reference, frame by frame: the mean landmark shift, and the midline
(estimate_midline, raw and after the pipeline's StreamingSmoother) as its horizontal position at the face
centre row (the reference midline's point) and its angle; smoothed midlines on the frames where both have a face
(frames held through a gap repeat the last one). The plain mesh (no flip averaging at all) is a
reference row: how far the whole bias correction moves things. CPU ms are process CPU time of ``track()``
alone (frames decoded beforehand; one thread, as bench_stages.py), the least of ``--repeat`` interleaved runs;
compare them within one run.

    python benchmarks/bench_flip_every.py [--k 2 3 4 6] [--backend auto] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

from common import SHARED, clip_prefix, machine, machine_lines, md_table, write_result
from facemirror.mirror.midline import Midline, estimate_midline, head_pose
from facemirror.mirror.smoothing import SmoothingParams, StreamingSmoother
from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.models.facemesh import INPUT_SIZE, FaceMesh
from facemirror.models.roi import Roi
from facemirror.video import VideoReader


@dataclass
class Track:
    """One tracking run over a video: per frame landmarks (None without a face), raw and smoothed midlines."""

    landmarks: list[np.ndarray | None]
    rois: list[Roi | None]
    raw: list[Midline | None]
    smoothed: list[Midline | None]
    times: list[float]
    cpu_ms: float


def load(path: Path) -> tuple[list[np.ndarray], list[float]]:
    """All frames of ``path`` (BGR) and their timestamps."""
    with VideoReader(path) as reader:
        frames = [(f.image, f.timestamp) for f in reader]
    return [f for f, _ in frames], [t for _, t in frames]


def track(landmarker: FaceLandmarker, frames: list[np.ndarray], times: list[float]) -> Track:
    """Track every frame; the midlines as the mirror job computes and smooths them."""
    landmarker.reset()
    landmarks: list[np.ndarray | None] = []
    rois: list[Roi | None] = []
    cpu = 0.0
    for frame in frames:
        start = time.process_time()
        face = landmarker.track(frame)
        cpu += time.process_time() - start
        landmarks.append(None if face is None else face.landmarks)
        rois.append(None if face is None else face.roi)
    raw = [None if lm is None else estimate_midline(lm, pose=head_pose(lm)) for lm in landmarks]
    smoother = StreamingSmoother(SmoothingParams())
    smoothed = [s.midline for t, m in zip(times, raw) for s in smoother.push(t, m)]
    smoothed += [s.midline for s in smoother.flush()]
    return Track(landmarks, rois, raw, smoothed, times, 1000 * cpu / len(frames))


def corrections(mesh: FaceMesh, frames: list[np.ndarray], rois: list[Roi | None]) -> tuple[float, float]:
    """The flip correction on the reference's ROIs, in image px: mean size, and mean change from frame to frame."""
    scaled = [
        None if roi is None else mesh.run_pair(frame, roi)[1][:, :2] * roi.width / INPUT_SIZE
        for frame, roi in zip(frames, rois)
    ]
    size = np.mean([np.linalg.norm(c, axis=1).mean() for c in scaled if c is not None])
    steps = [np.linalg.norm(a - b, axis=1).mean() for a, b in pairwise(scaled) if a is not None and b is not None]
    return float(size), float(np.mean(steps))


def x_at(midline: Midline, y: float) -> float:
    """The midline's x at image row ``y``."""
    (px, py), (dx, dy) = midline.point, midline.direction
    return px + (y - py) * dx / dy


def midline_diffs(
    ref: list[Midline | None], other: list[Midline | None], faces: list[bool] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """|x difference| at the reference's face centre row (px) and |angle difference| (deg), where both exist
    (and ``faces`` is true: smoothed midlines are compared on face frames only, not held through gaps)."""
    dx, da = [], []
    for i, (a, b) in enumerate(zip(ref, other)):
        if a is None or b is None or (faces is not None and not faces[i]):
            continue
        dx.append(abs(x_at(b, a.point[1]) - a.point[0]))
        da.append(abs((b.angle_deg - a.angle_deg + 180.0) % 360.0 - 180.0))
    return np.array(dx), np.array(da)


def mean_max(values: np.ndarray, digits: int = 3) -> str:
    """``mean / 95th percentile / max`` of per-frame differences."""
    if len(values) == 0:
        return "-"
    return " / ".join(f"{v:.{digits}f}" for v in (values.mean(), np.percentile(values, 95), values.max()))


def inside_runs(times: list[float], faces: list[bool], margin: float) -> list[bool]:
    """Face frames at least ``margin`` seconds from the video's ends and from any frame without a face."""
    t = np.asarray(times)
    gaps = t[~np.asarray(faces)]
    return [
        face and t[0] + margin <= ti <= t[-1] - margin and not np.any(np.abs(gaps - ti) <= margin)
        for ti, face in zip(t, faces)
    ]


def row(name: str, ref: Track, run: Track) -> list[str]:
    shifts = np.array(
        [
            float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean())
            for a, b in zip(ref.landmarks, run.landmarks)
            if a is not None and b is not None
        ]
    )
    face_differs = sum((a is None) != (b is None) for a, b in zip(ref.landmarks, run.landmarks))
    both = [a is not None and b is not None for a, b in zip(ref.landmarks, run.landmarks)]
    raw_x, raw_a = midline_diffs(ref.raw, run.raw)
    smooth_x, smooth_a = midline_diffs(ref.smoothed, run.smoothed, both)
    inner_x, _ = midline_diffs(ref.smoothed, run.smoothed, inside_runs(ref.times, both, SmoothingParams().lookahead))
    return [
        name,
        f"{len(shifts)}" + (f" ({face_differs} differ)" if face_differs else ""),
        mean_max(shifts),
        mean_max(raw_x),
        mean_max(raw_a),
        mean_max(smooth_x),
        mean_max(inner_x),
        mean_max(smooth_a),
        f"{run.cpu_ms:.1f}",
        f"{run.cpu_ms / ref.cpu_ms:.2f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, nargs="+", default=[2, 3, 4, 6])
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration; CPU time is the least")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    facts = machine()
    videos = [SHARED / "media" / "single_face.mp4", SHARED / "media" / "face_noface.mov", clip_prefix(3)]
    options = dict(backend=args.backend, with_blendshapes=False, threads=1)
    landmarkers = {f"k={k}": FaceLandmarker.from_weights(symmetric=True, flip_every=k, **options) for k in [1, *args.k]}
    landmarkers["plain mesh (no flip)"] = FaceLandmarker.from_weights(symmetric=False, **options)
    engine = landmarkers["k=1"].mesh.engine.info
    header = [
        "run",
        "frames compared",
        "landmark shift px",
        "raw midline x px",
        "raw midline angle deg",
        "smoothed midline x px",
        "same, inside runs",
        "smoothed midline angle deg",
        "CPU ms/frame",
        "vs k=1",
    ]
    lines = [
        f"Face mesh on {engine.backend}/{engine.provider}, one thread; cv2.setNumThreads(1). Each cell is the "
        "mean / 95th percentile / max over frames of the difference from `flip_every=1` (the symmetric pair on "
        "every frame). Landmark shift: mean distance over the 478 points (x, y). Midline x: horizontal position "
        "at the face centre row. Inside runs: frames at least the smoother's look-ahead (0.25 s) from the ends of a "
        "run of face frames, where its windows shrink towards the raw midline. CPU: process time of "
        f"`track()` alone, the least of {args.repeat} interleaved runs (the landmarks are the same in every run).",
        *machine_lines(facts, None),
    ]
    for path in videos:
        frames, times = load(path)
        h, w = frames[0].shape[:2]
        print(f"{path.name}: {len(frames)} frames {w}x{h}", file=sys.stderr)
        runs: dict[str, Track] = {}
        for _ in range(args.repeat):  # interleaved, so a change of load hits every configuration alike
            for name, landmarker in landmarkers.items():
                run = track(landmarker, frames, times)
                if name not in runs or run.cpu_ms < runs[name].cpu_ms:
                    runs[name] = run
        ref = runs.pop("k=1")
        rows = [["k=1 (reference)", str(sum(lm is not None for lm in ref.landmarks)), *["0"] * 6]]
        rows[0] += [f"{ref.cpu_ms:.1f}", "1.00"]
        rows += [row(name, ref, run) for name, run in runs.items()]
        jitter_x, jitter_a = midline_diffs(ref.raw[:-1], ref.raw[1:])
        size, step = corrections(landmarkers["k=1"].mesh, frames, ref.rois)
        lines += [
            "",
            f"## {path.name} ({w}x{h}, {len(frames)} frames)",
            "",
            *md_table(header, rows),
            "",
            f"For scale: the reference's raw midline moves {mean_max(jitter_x)} px and {mean_max(jitter_a)} deg "
            "from one frame to the next (mean / p95 / max). The flip correction (pair average minus plain crop, "
            f"image px) is {size:.3f} px on average over the points and changes by {step:.3f} px from one frame "
            "to the next: what a held correction misses.",
        ]
        del frames
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines[1:3] = machine_lines(facts, load_after)
    command = "python benchmarks/bench_flip_every.py " + " ".join(sys.argv[1:])
    write_result("flip_every", "Symmetric face mesh every k-th frame (flip_every) vs every frame", command, lines)


if __name__ == "__main__":
    main()
