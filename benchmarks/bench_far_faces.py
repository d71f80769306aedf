"""Faces at any distance (issue 17): face detectors on real faces 60-500 px wide in 1080p frames, the mesh and the
midline on them, and what the far detector costs.

Real faces (tests/data/single_face.jpg, the five faces of multi_face.jpg, and
frames of ../shared/media/single_face.mp4 and face_noface.mov) are placed with
a known similarity transform in 1920x1080 frames (tests/far_face_scenes.py):
still, slowly moving, and darkened to 10% with noise. Sections:

1. detectors side by side: detection rate, best-face rate, score, eye keypoint
   error, box width, false detections and CPU ms per call (one thread);
2. false detections on no-face footage, before and after the mesh's presence check;
3. the mesh ROI for a RetinaFace face: calibration and the first mesh pass;
4. following: the tracker's expected design (short-range first, the far detector
   when it finds no face), frames followed per size;
5. the midline of a face made exactly symmetric, by face width (symmetric mesh);
6. the far detector's cost on close-up videos, where it never runs, and where
   the face is lost and it runs on every frame.

The candidates the issue names that facemirror does not ship are built here:
MediaPipe's full-range BlazeFace (``face_detection_full_range_sparse.tflite``
from the mediapipe 0.10.21 wheel, on LiteRT), tiles of the short-range
BlazeFace, and a cascade of scales. Get the full-range model with::

    pip download mediapipe==0.10.21 --no-deps -d /tmp/mp && unzip -o -d /tmp/mp /tmp/mp/mediapipe-0.10.21-*.whl \\
        mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite

    python benchmarks/bench_far_faces.py [--full-range /tmp/mp/mediapipe/modules/face_detection/...tflite]
        [--frames 4] [--moving-frames 12] [--quick]

Runs in about 30 minutes on the shared 2-core machine (``--quick``: about 10).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from common import SHARED, clip_prefix, machine, machine_lines, md_table, write_result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from facemirror.backends.base import NetworkSource, select_engine
from facemirror.mirror.midline import Midline, estimate_midline
from facemirror.models.base import Face
from facemirror.models.blazeface import BlazeFace, make_anchors, weighted_nms
from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.models.facemesh import FaceMesh, roi_from_detection, roi_from_landmarks
from facemirror.models.far_face import (
    MAX_SIZE,
    ROI_SHIFT,
    ROI_SIDE,
    face_width,
    far_face_detector,
    roi_from_retinaface,
)
from facemirror.models.retinaface import RetinaFace
from facemirror.models.roi import Roi, rotation_between
from facemirror.video import VideoReader, VideoWriter
from far_face_scenes import (
    EYES,
    SceneFrame,
    SourceFace,
    clip,
    clutter,
    noisy,
    photo_sources,
    video_source,
)
from symmetric_face import Pose, SymmetricFace, line_errors, make_symmetric_face, render

SIZES = (60, 76, 80, 100, 115, 120, 160, 200, 500)
KINDS = ("still", "moving", "dark")
MIDLINE_SIZES = (60, 70, 80, 100, 120, 160, 200, 300, 500)
MEDIA = SHARED / "media"
#: real videos whose first 30 frames give source faces (150 and 225 px wide)
VIDEOS = ("single_face.mp4", "face_noface.mov")
#: section 6's throttle: while no face is followed, the far detector on every n-th frame
LOST_FAR_EVERY = 6
#: x264 quality of the compressed clips (sections 4 and 5)
H264_CRF = 23
FOLLOW_KINDS = ("still", "moving", "dark", "moving, H.264")
WIDE = (1920, 1080)
Detect = Callable[[np.ndarray], list[Face]]


# --- the candidates ------------------------------------------------------------------------------------------------


class FullRangeBlazeFace(BlazeFace):
    """MediaPipe's full-range BlazeFace: 192x192 input, one 48x48 anchor grid, the short-range model's decoding."""

    name = "blazeface_full_range"
    input_size = 192
    anchors = make_anchors(192, ((4, 1),))

    @classmethod
    def from_tflite(cls, path: Path, threads: int = 1) -> FullRangeBlazeFace:
        source = NetworkSource(
            cls.name,
            ("input",),
            ("regressors", "classificators"),
            tflite_path=path,
            tflite_names={"input": "input_1", "regressors": "Identity", "classificators": "Identity_1"},
        )
        return cls(select_engine(source, "litert", threads=threads))


def squares(width: int, height: int, side: int, columns: int, rows: int) -> list[tuple[int, int, int]]:
    """``columns`` x ``rows`` overlapping squares ``(x0, y0, side)`` covering a ``width`` x ``height`` frame."""
    xs = np.linspace(0, width - side, columns).round().astype(int)
    ys = np.linspace(0, height - side, rows).round().astype(int)
    return [(int(x), int(y), side) for y in ys for x in xs]


def in_squares(detect: Detect, tiles: Sequence[tuple[int, int, int]]) -> Detect:
    """``detect`` on each square of the frame, the faces mapped back and merged (MediaPipe's weighted NMS)."""

    def run(image: np.ndarray) -> list[Face]:
        found = []
        for x0, y0, side in tiles:
            for face in detect(image[y0 : y0 + side, x0 : x0 + side]):
                offset = np.array([x0, y0], np.float32)
                found.append(Face(face.box + np.tile(offset, 2), face.score, face.keypoints + offset))
        if not found:
            return []
        merged = weighted_nms(
            np.array([f.box for f in found], np.float64),
            np.array([f.score for f in found]),
            np.array([f.keypoints for f in found], np.float64),
            0.3,
        )
        return [Face(b.astype(np.float32), s, k.astype(np.float32)) for b, s, k in merged]

    return run


def cascade(levels: Sequence[Detect]) -> Detect:
    """The first level that finds a face (a search at a second, third scale when the first finds nothing)."""

    def run(image: np.ndarray) -> list[Face]:
        for level in levels:
            faces = level(image)
            if faces:
                return faces
        return []

    return run


@dataclass
class Candidate:
    name: str
    detect: Detect
    roi: Callable[[Face], Roi]
    backend: str


def candidates(short: BlazeFace, full_range: Path | None, quick: bool) -> list[Candidate]:
    """The detectors compared, all at one thread."""
    w, h = WIDE
    shipped = far_face_detector(threads=1)
    plain = RetinaFace(shipped.engine, max_size=MAX_SIZE)
    small = RetinaFace(shipped.engine, max_size=480, min_brightness=shipped.min_brightness)
    tiles = in_squares(short.detect, squares(w, h, 540, 5, 3))
    out = [
        Candidate(
            "short-range BlazeFace, whole frame (today)", short.detect, roi_from_detection, short.engine_info.backend
        ),
        Candidate("RetinaFace 640, dark frames brightened (shipped)", shipped.detect, roi_from_retinaface, "onnx"),
        Candidate("RetinaFace 640, as is", plain.detect, roi_from_retinaface, "onnx"),
        Candidate("RetinaFace 480, dark frames brightened", small.detect, roi_from_retinaface, "onnx"),
    ]
    if full_range is not None:
        full = FullRangeBlazeFace.from_tflite(full_range)
        out += [
            Candidate("full-range BlazeFace, whole frame", full.detect, roi_from_detection, "litert"),
            Candidate(
                "full-range BlazeFace, 2 squares of 1080",
                in_squares(full.detect, squares(w, h, h, 2, 1)),
                roi_from_detection,
                "litert",
            ),
        ]
    if not quick:
        out += [
            Candidate("short-range BlazeFace, 15 tiles of 540", tiles, roi_from_detection, short.engine_info.backend),
            Candidate(
                "short-range cascade: frame, 2 squares, 15 tiles",
                cascade([short.detect, in_squares(short.detect, squares(w, h, h, 2, 1)), tiles]),
                roi_from_detection,
                short.engine_info.backend,
            ),
        ]
    return out


# --- section 1: detection ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Per-frame outcomes of one detector on one condition."""

    found: list[bool] = field(default_factory=list)
    top: list[bool] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    eye_error: list[float] = field(default_factory=list)  # mean of the two eyes, fraction of face width
    width_ratio: list[float] = field(default_factory=list)
    others: list[int] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)


def match(faces: list[Face], truth: SceneFrame) -> int | None:
    """Index of the first face whose box centre is within half a face width of the true face's, of a face's size."""
    centre = (truth.box[:2] + truth.box[2:]) / 2
    w = truth.width
    for k, face in enumerate(faces):
        if np.linalg.norm(np.array(face.center) - centre) < 0.5 * w and 0.4 * w < face.width < 2.5 * w:
            return k
    return None


def score_frame(tally: Tally, faces: list[Face], truth: SceneFrame, seconds: float) -> None:
    k = match(faces, truth)
    tally.ms.append(1000 * seconds)
    tally.found.append(k is not None)
    tally.top.append(k == 0)
    tally.others.append(len(faces) - (k is not None))
    if k is not None:
        face = faces[k]
        tally.scores.append(face.score)
        tally.eye_error.append(float(np.linalg.norm(face.keypoints[:2] - truth.eyes, axis=1).mean()) / truth.width)
        tally.width_ratio.append(face.width / truth.width)


def cpu_call(detect: Detect, image: np.ndarray) -> tuple[list[Face], float]:
    """The faces and the CPU seconds the call took (process time: other processes disturb it less)."""
    start = time.process_time()
    out = detect(image)
    return out, time.process_time() - start


def scene_clips(
    sources: Sequence[SourceFace], width: int, kind: str, frames: int, moving_frames: int
) -> Iterable[SceneFrame]:
    count = moving_frames if kind == "moving" else frames
    for k, source in enumerate(sources):
        yield from clip(source, width, kind, count, seed=1000 * k + width)


def detection_section(cands: list[Candidate], sources: list[SourceFace], args: argparse.Namespace) -> list[str]:
    tallies: dict[tuple[int, str, str], Tally] = {}
    for width in args.sizes:
        for kind in KINDS:
            for truth in scene_clips(sources, width, kind, args.frames, args.moving_frames):
                for cand in cands:
                    faces, seconds = cpu_call(cand.detect, truth.image)
                    score_frame(tallies.setdefault((width, kind, cand.name), Tally()), faces, truth, seconds)
        print(f"  detection: {width} px done", file=sys.stderr)
    lines = ["## 1. Detectors side by side", ""]
    lines += [
        f"Per cell: frames where the face was found / where it was the best (first) face; median score. "
        f"{len(sources)} real faces; per face and size {args.frames} still frames, {args.moving_frames} moving, "
        f"{args.frames} dark. Found: a box centred within half a face width of the true face and 0.4-2.5 face "
        "widths wide. Face width: the mesh's extent along the eye line (cheek to cheek).",
        "",
    ]
    short_names = [c.name for c in cands]
    for kind in KINDS:
        lines += [f"**{kind}**", ""]
        rows = []
        for width in args.sizes:
            row: list[object] = [width]
            for name in short_names:
                t = tallies[(width, kind, name)]
                med = f"{np.median(t.scores):.3f}" if t.scores else "-"
                row.append(f"{np.mean(t.found):.0%} / {np.mean(t.top):.0%}; {med}")
            rows.append(row)
        lines += [*md_table(["face px", *short_names], rows), ""]
    lines += [
        "**Accuracy** (all conditions): eye keypoints' mean distance from the true iris centres, median (max), in % "
        "of face width; box width / face width, median (10-90th percentile); other detections per frame.",
        "",
    ]
    rows = []
    for width in args.sizes:
        row = [width]
        for name in short_names:
            ts = [tallies[(width, kind, name)] for kind in KINDS]
            eye = np.concatenate([t.eye_error for t in ts]) * 100
            ratio = np.concatenate([t.width_ratio for t in ts])
            others = np.mean(np.concatenate([t.others for t in ts]))
            if eye.size:
                p10, p90 = np.percentile(ratio, [10, 90])
                spread = f"{np.median(ratio):.2f} ({p10:.2f}-{p90:.2f})"
                row.append(f"{np.median(eye):.1f} ({eye.max():.0f}); {spread}; {others:.2f}")
            else:
                row.append(f"-; -; {others:.2f}")
        rows.append(row)
    lines += [*md_table(["face px", *short_names], rows), ""]
    rows = []
    for cand in cands:
        ms = np.concatenate([tallies[(w, k, cand.name)].ms for w in args.sizes for k in KINDS])
        rows.append([cand.name, cand.backend, f"{np.median(ms):.1f}", f"{np.percentile(ms, 90):.1f}"])
    lines += [
        "**Cost per call** on 1920x1080 frames, CPU ms at one thread (process time, every detector on the same "
        "frames one after the other), whatever it found:",
        "",
    ]
    lines += [*md_table(["detector", "backend", "median ms", "90th pct ms"], rows), ""]
    return lines


# --- section 2: false detections -----------------------------------------------------------------------------------


def no_face_frames(count: int) -> list[tuple[str, np.ndarray]]:
    """1080p frames with no face: no_face.mp4, face_noface.mov once the face has left, and clutter backgrounds."""
    frames = []
    for name, first in (("no_face.mp4", 0), ("face_noface.mov", 100)):
        if not (MEDIA / name).is_file():
            continue
        with VideoReader(MEDIA / name) as reader:
            for frame in reader:
                if frame.index >= first and frame.index % 2 == 0:
                    frames.append((name, cv2.resize(frame.image, WIDE, interpolation=cv2.INTER_LINEAR)))
    frames += [("clutter", np.array(clutter(5000 + k))) for k in range(count)]
    cv2.setRNGSeed(7)
    frames += [("clutter, dark", noisy(np.array(clutter(6000 + k)), 2.0, 0.1)) for k in range(count)]
    return frames


def false_detection_section(cands: list[Candidate], mesh: FaceMesh, count: int) -> list[str]:
    frames = no_face_frames(count)
    groups = sorted({g for g, _ in frames})
    rows = []
    for cand in cands:
        row: list[object] = [cand.name]
        for group in groups:
            hits, present, best = 0, 0, 0.0
            images = [img for g, img in frames if g == group]
            for image in images:
                faces = cand.detect(image)
                if faces:
                    hits += 1
                    best = max(best, faces[0].score)
                    present += bool(mesh.run(image, cand.roi(faces[0])).presence[0] >= 0.5)
            row.append(f"{hits}/{len(images)} ({best:.2f}); {present}")
        rows.append(row)
    return [
        "## 2. False detections",
        "",
        "Frames with a detection / frames (highest score); frames where the best detection's mesh presence is "
        ">= 0.5 (what the tracker would follow). no_face.mp4 and face_noface.mov (after frame 100: no face) "
        "upscaled to 1080p; random clutter backgrounds as in the scenes, also darkened to 10% with noise.",
        "",
        *md_table(["detector", *groups], rows),
        "",
    ]


# --- section 3: the mesh ROI for a far face ------------------------------------------------------------------------


def roi_section(
    far: RetinaFace, mesh: FaceMesh, sources: list[SourceFace], sizes: Sequence[int], frames: int
) -> list[str]:
    calib_rows, mesh_rows = [], []
    for width in sizes:
        offsets, sides, turns, passes = [], [], [], []
        for k, source in enumerate(sources):
            for truth in clip(source, width, "moving", frames, seed=2000 * k + width):
                faces = far.detect(truth.image)
                k_match = match(faces, truth)
                if k_match is None:
                    continue
                face = faces[k_match]
                ideal = roi_from_landmarks(truth.landmarks, aligned=True)
                x1, y1, x2, y2 = (float(v) for v in face.box)
                longer = max(x2 - x1, y2 - y1)
                rot = rotation_between(face.keypoints[0], face.keypoints[1])
                c, s = math.cos(rot), math.sin(rot)
                d = np.array([ideal.cx - (x1 + x2) / 2, ideal.cy - (y1 + y2) / 2])
                # along the eye line, and down the face, in units of the box's longer side
                offsets.append(np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1]]) / longer)
                sides.append(ideal.width / longer)
                turns.append(math.degrees(abs((ideal.rotation - rot + math.pi) % (2 * math.pi) - math.pi)))
                row = []
                for roi in (ideal, roi_from_retinaface(face)):
                    out = mesh.run(truth.image, roi)
                    row += [mesh_error(out.landmarks[0], truth), eye_error(out.landmarks[0], truth)]
                second = mesh.run(truth.image, roi_from_landmarks(out.landmarks[0], aligned=True))
                row += [mesh_error(second.landmarks[0], truth), float(out.presence[0])]
                passes.append(row)
        units = np.array(offsets)
        a = np.array(passes)
        calib_rows.append(
            [
                width,
                len(a),
                f"{np.median(units[:, 0]):+.3f}",
                f"{np.median(units[:, 1]):+.3f} ± {np.std(units[:, 1]):.3f}",
                f"{np.median(sides):.3f} ± {np.std(sides):.3f}",
                f"{np.median(turns):.1f} ({np.max(turns):.1f})",
            ]
        )
        mesh_rows.append(
            [
                width,
                f"{np.median(a[:, 0]):.2f} ({100 * np.median(a[:, 0]) / width:.2f}%)",
                f"{np.median(a[:, 2]):.2f} ({100 * np.median(a[:, 2]) / width:.2f}%)",
                f"{np.median(a[:, 4]):.2f}",
                f"{np.median(a[:, 1]):.2f} / {np.median(a[:, 3]):.2f} ({np.max(a[:, 3]):.2f})",
                f"{np.min(a[:, 5]):.2f}",
            ]
        )
    return [
        "## 3. The mesh ROI for a RetinaFace face",
        "",
        "Calibration: the ROI the mesh's own true landmarks give when tracking (`roi_from_landmarks(aligned=True)`), "
        "relative to the RetinaFace box: its centre's offset from the box centre along the eye line and down the "
        "face, and its side, in units of the box's longer side (median ± std), and the angle between the eye "
        "keypoints' line and the landmarks' (median (max)). Moving clips of every source face.",
        "",
        *md_table(["face px", "faces", "offset along", "offset down", "side", "angle deg"], calib_rows),
        "",
        f"`roi_from_retinaface` uses side {ROI_SIDE} and offset down {ROI_SHIFT} (the medians, rounded).",
        "",
        "The mesh (plain) against the reference mesh mapped into the frame: mean distance of the 478 points in px "
        "(and % of face width), from the ideal ROI, from `roi_from_retinaface` (the first pass), and from the "
        "second pass (the ROI of the first pass's landmarks, as tracking continues); iris centres' mean error "
        "ideal / first pass (max); lowest presence of the first pass. The reference is the same mesh on the "
        "source (faces 80-230 px wide), so this is agreement, not absolute accuracy: above the source size it "
        "grows with the upscaling blur.",
        "",
        *md_table(
            ["face px", "ideal ROI px", "first pass px", "second pass px", "irises ideal / first px", "min presence"],
            mesh_rows,
        ),
        "",
    ]


def mesh_error(landmarks: np.ndarray, truth: SceneFrame) -> float:
    return float(np.linalg.norm(landmarks[:, :2] - truth.landmarks[:, :2], axis=1).mean())


def eye_error(landmarks: np.ndarray, truth: SceneFrame) -> float:
    return float(np.linalg.norm(landmarks[list(EYES), :2] - truth.eyes, axis=1).mean())


# --- the tracker's expected design -----------------------------------------------------------------------------------


class Follower:
    """The embedded tracker's expected design with the far detector, for measuring (the face stage integrates it).

    Detection on the first frame, on a lost track and every ``redetect`` frames: the short-range BlazeFace, and
    when it finds no face whose mesh is present, the far detector; while no face is followed the far detector
    runs only on every ``far_every``-th frame. Between detections the mesh follows its own landmarks. The steps
    are FaceLandmarker.track's (a symmetric mesh re-crops on the aligned ROI after detecting).
    """

    def __init__(
        self,
        short: BlazeFace,
        mesh: FaceMesh,
        far: RetinaFace | None,
        redetect: int | None = None,
        far_every: int = 1,
    ) -> None:
        self.short, self.mesh, self.far, self.redetect, self.far_every = short, mesh, far, redetect, far_every
        self.roi: Roi | None = None
        self.frame = 0
        self.lost = 0  # consecutive frames without a face
        self.far_runs = 0

    def reset(self) -> None:
        self.roi, self.frame, self.lost, self.far_runs = None, 0, 0, 0

    def step(self, image: np.ndarray) -> tuple[np.ndarray | None, str]:
        """This frame's landmarks (or None) and where they came from: "short", "far", "tracked" or "none"."""
        due = self.redetect is not None and self.frame > 0 and self.frame % self.redetect == 0
        self.frame += 1
        if self.roi is not None and not due:
            out = self.mesh.run(image, self.roi)
            if out.presence[0] >= 0.5:
                self.roi = roi_from_landmarks(out.landmarks[0], aligned=self.mesh.symmetric)
                return out.landmarks[0], "tracked"
        landmarks, source = self._detect(image, self.roi is not None or self.lost % self.far_every == 0)
        self.lost = 0 if landmarks is not None else self.lost + 1
        self.roi = None if landmarks is None else roi_from_landmarks(landmarks, aligned=self.mesh.symmetric)
        return landmarks, source

    def _detect(self, image: np.ndarray, far_allowed: bool) -> tuple[np.ndarray | None, str]:
        faces = self.short.detect(image)
        if faces:
            landmarks = self._start(image, roi_from_detection(faces[0]))
            if landmarks is not None:
                return landmarks, "short"
        if self.far is not None and far_allowed:
            self.far_runs += 1
            faces = self.far.detect(image)
            if faces:
                landmarks = self._start(image, roi_from_retinaface(faces[0]))
                if landmarks is not None:
                    return landmarks, "far"
        return None, "none"

    def _start(self, image: np.ndarray, roi: Roi) -> np.ndarray | None:
        out = self.mesh.run(image, roi)
        if out.presence[0] < 0.5:
            return None
        if self.mesh.symmetric:
            out = self.mesh.run(image, roi_from_landmarks(out.landmarks[0], aligned=True))
        return out.landmarks[0]


# --- section 4: following ------------------------------------------------------------------------------------------


def follow_section(
    followers: dict[str, Follower], sources: list[SourceFace], sizes: Sequence[int], frames: int
) -> list[str]:
    rows = []
    for width in sizes:
        row: list[object] = [width]
        for kind in FOLLOW_KINDS:
            for follower in followers.values():
                on_face, total, errors = 0, 0, []
                for k, source in enumerate(sources):
                    follower.reset()
                    truths = list(clip(source, width, kind.split(",")[0], frames, seed=3000 * k + width))
                    images = h264([t.image for t in truths], H264_CRF) if "H.264" in kind else [t.image for t in truths]
                    for image, truth in zip(images, truths):
                        landmarks, _ = follower.step(image)
                        total += 1
                        if landmarks is not None:
                            err = eye_error(landmarks, truth)
                            on_face += err < 0.1 * truth.width
                            errors.append(err)
                row.append(f"{on_face / total:.0%}" + (f" ({np.median(errors):.2f} px)" if errors else ""))
        rows.append(row)
    names = list(followers)
    header = ["face px"] + [f"{kind}: {name}" for kind in FOLLOW_KINDS for name in names]
    return [
        "## 4. Following",
        "",
        f"Frames whose landmarks were on the face (iris centres within 10% of the face width of the truth), "
        f"{frames}-frame clips of every source face, the symmetric mesh (as the midline needs); in brackets "
        f"the median iris error in px of the frames with landmarks. H.264: x264 crf {H264_CRF}, veryfast.",
        "",
        *md_table(header, rows),
        "",
    ]


# --- section 5: the midline ----------------------------------------------------------------------------------------


def symmetric_clip(
    face: SymmetricFace, base_width: float, width: int, kind: str, frames: int
) -> Iterator[tuple[np.ndarray, Midline]]:
    """Frames of the symmetric face at ``width`` px and its true midline: still (tilted 7 degrees) or moving."""
    cv2.setRNGSeed(width)
    scale = width / base_width
    for i in range(frames):
        t = i / 30
        if kind == "still":
            pose = Pose(angle=7.0, scale=scale, cx=700.0, cy=600.0)
        else:
            pose = Pose(
                angle=10 * math.sin(2 * math.pi * t / 2),
                scale=scale * (1 + 0.05 * math.sin(2 * math.pi * t / 3)),
                cx=700 + 60 * t,
                cy=600 + 20 * t,
            )
        image, point, angle = render(face, pose)
        yield noisy(image, 1.5), Midline.from_angle(point, angle)


def real_clip(
    source: SourceFace, width: int, kind: str, frames: int, crf: int | None = None
) -> Iterator[tuple[np.ndarray, Midline]]:
    """Frames of a real face and its reference midline (the symmetric mesh's on the source, mapped into the frame);
    with ``crf`` the frames go through H.264 at that quality first, as a recording would."""
    truths = list(clip(source, width, kind, frames, seed=4000 + width))
    images = [t.image for t in truths] if crf is None else h264([t.image for t in truths], crf)
    for image, truth in zip(images, truths):
        yield image, estimate_midline(truth.landmarks)


def h264(frames: list[np.ndarray], crf: int) -> list[np.ndarray]:
    """``frames`` encoded with x264 (yuv420p, ``crf``, preset veryfast) and decoded again."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        with VideoWriter(path, WIDE[0], WIDE[1], 30, encoder="libx264", quality=crf, preset="veryfast") as writer:
            for image in frames:
                writer.write(image)
        return frames_of(path)


@dataclass
class MidlineErrors:
    px: list[float] = field(default_factory=list)  # distance of the true line's point from the fitted line
    deg: list[float] = field(default_factory=list)
    still_offsets: list[float] = field(default_factory=list)  # signed, still frames: their spread is the jitter
    lost: int = 0


Clip = Iterable[tuple[np.ndarray, Midline]]


def measure_midline(follower: Follower, clips: Iterable[tuple[str, Clip]]) -> MidlineErrors:
    """Midline errors of ``follower`` over ``(kind, frames)`` clips, each followed from its first frame."""
    errors = MidlineErrors()
    for kind, frames in clips:
        follower.reset()
        for image, truth in frames:
            landmarks, _ = follower.step(image)
            if landmarks is None:
                errors.lost += 1
                continue
            mid = estimate_midline(landmarks)
            e_deg, e_px = line_errors(truth.point, truth.angle_deg, mid.point, mid.angle_deg)
            errors.px.append(e_px)
            errors.deg.append(e_deg)
            if kind == "still":
                normal = np.array([mid.direction[1], -mid.direction[0]])
                errors.still_offsets.append(float(normal @ (np.array(truth.point) - np.array(mid.point))))
    return errors


def midline_cells(width: int, e: MidlineErrors) -> list[object]:
    px, deg = np.array(e.px), np.array(e.deg)
    return [
        width,
        f"{np.median(px):.2f} / {px.max():.2f}",
        f"{np.median(deg):.2f} / {deg.max():.2f}",
        f"{100 * np.median(px) / width:.2f} / {100 * px.max() / width:.2f}",
        f"{np.std(e.still_offsets):.3f}",
        e.lost,
    ]


def midline_section(
    sym: Follower, plain: Follower, reference: FaceLandmarker, real: list[SourceFace], sizes: Sequence[int], frames: int
) -> list[str]:
    face = make_symmetric_face(reference)
    source = reference.process_image(face.image)
    assert source is not None
    base_width = face_width(source.landmarks)
    header = ["face px", "median / max px", "median / max degrees", "median / max % of face width", "still jitter px"]
    tables: dict[str, list[list[object]]] = {"sym": [], "plain": [], "real": [], "h264": []}
    for width in sizes:
        for key, follower in (("sym", sym), ("plain", plain)):
            clips = [(kind, symmetric_clip(face, base_width, width, kind, frames)) for kind in ("still", "moving")]
            tables[key].append(midline_cells(width, measure_midline(follower, clips)))
        for key, crf in (("real", None), ("h264", H264_CRF)):
            clips = [
                (kind, real_clip(src, width, kind, frames // 2, crf)) for src in real for kind in ("still", "moving")
            ]
            tables[key].append(midline_cells(width, measure_midline(sym, clips)))
        print(f"  midline: {width} px done", file=sys.stderr)
    names = ", ".join(s.name for s in real)
    return [
        "## 5. The midline by face width",
        "",
        "**A face made exactly symmetric** (tests/symmetric_face.py: single_face.jpg mirrored about its midline), "
        f"rendered in 1080p at each width: {frames} still frames (tilted 7 degrees) and {frames} moving (sway +-10 "
        "degrees, drift 2 px a frame, zoom +-5%), sensor noise on every frame. Per-frame midline (no temporal "
        "smoothing) of the symmetric (flip-averaged) mesh as `FaceLandmarker.from_weights(symmetric=True)` runs it, "
        "followed as in section 4 (far detector on). Error: distance of the true face centre from the fitted "
        "line, and the angle between the lines; still jitter: the spread (std) of the line's offset over the "
        "still frames.",
        "",
        *md_table([*header, "frames lost"], tables["sym"]),
        "",
        "The same with the plain mesh (its own left/right bias not cancelled):",
        "",
        *md_table([*header, "frames lost"], tables["plain"]),
        "",
        f"**Real faces** ({names}): the symmetric mesh's midline at each width against the same mesh's midline on "
        f"the source (where the face is 150-225 px wide), mapped into the frame; {frames // 2} still and "
        f"{frames // 2} moving frames per face. Above the source width the frame is an upscaled, blurred copy.",
        "",
        *md_table([*header, "frames lost"], tables["real"]),
        "",
        f"The same real-face clips after H.264 (x264 crf {H264_CRF}, veryfast, yuv420p: a phone-like recording):",
        "",
        *md_table([*header, "frames lost"], tables["h264"]),
        "",
    ]


# --- section 6: cost on close-up videos ----------------------------------------------------------------------------


def cost_section(short: BlazeFace, mesh: FaceMesh, far: RetinaFace, repeat: int) -> list[str]:
    videos: list[tuple[str, list[np.ndarray]]] = [("bench clip, 1080p60, face ~600 px, 2 s", frames_of(clip_prefix(2)))]
    for name, size in (("single_face.mp4", None), ("face_noface.mov", None), ("no_face.mp4", WIDE)):
        if (MEDIA / name).is_file():
            videos.append((name + (" (upscaled to 1080p)" if size else ""), frames_of(MEDIA / name, size)))
    modes: tuple[tuple[str, RetinaFace | None, int], ...] = (
        ("short only", None, 1),
        ("short + far", far, 1),
        (f"short + far every {LOST_FAR_EVERY}th lost frame", far, LOST_FAR_EVERY),
    )
    rows = []
    for name, frames in videos:
        fps = 60 if "1080p60" in name else 30
        cells: list[object] = [name, len(frames)]
        base = 0.0
        for _, far_det, every in modes:
            follower = Follower(short, mesh, far_det, redetect=2 * fps, far_every=every)
            best = math.inf
            for _ in range(repeat):
                follower.reset()
                start = time.process_time()
                for image in frames:
                    follower.step(image)
                best = min(best, time.process_time() - start)
            ms = 1000 * best / len(frames)
            if far_det is None:
                base = ms
                cells.append(f"{ms:.1f}")
            else:
                cells.append(f"{ms:.1f} ({ms - base:+.1f}); {follower.far_runs}")
        rows.append(cells)
    return [
        "## 6. The far detector's cost on close-up videos",
        "",
        "The face stage alone (section 4's Follower: detection, symmetric mesh), CPU ms per frame at one thread, "
        f"best of {repeat}; re-detection every 2 s; (difference to short only); frames the far detector ran on. "
        "Where the short-range detector finds the face the far detector never runs; where no face is followed "
        "(face_noface.mov after frame ~70, all of no_face.mp4) it runs on every frame, or on every "
        f"{LOST_FAR_EVERY}th (a far face is then found within {LOST_FAR_EVERY} frames, 0.2 s at 30 fps).",
        "",
        *md_table(["video", "frames", *(m for m, _, _ in modes)], rows),
        "",
    ]


def frames_of(path: Path, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        return [f.image if size is None else cv2.resize(f.image, size, interpolation=cv2.INTER_LINEAR) for f in reader]


# --- main ----------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full-range", type=Path, help="face_detection_full_range_sparse.tflite (mediapipe 0.10.21)")
    parser.add_argument("--frames", type=int, default=3, help="still and dark frames per face and size")
    parser.add_argument("--moving-frames", type=int, default=8, help="moving frames per face and size")
    parser.add_argument("--follow-frames", type=int, default=15, help="frames per clip when following")
    parser.add_argument("--midline-frames", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--midline-sizes", type=int, nargs="*", default=list(MIDLINE_SIZES))
    parser.add_argument("--repeat", type=int, default=2, help="runs of each video in section 6 (best kept)")
    parser.add_argument("--quick", action="store_true", help="fewer candidates, sizes and frames")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.frames, args.moving_frames, args.follow_frames, args.midline_frames = (
            [60, 80, 120, 200, 500],
            2,
            4,
            10,
            10,
        )
        args.midline_sizes = [60, 80, 120, 200, 500]
    os.environ.setdefault("FACEMIRROR_THREADS", "1")
    cv2.setNumThreads(1)
    facts = machine()
    reference = FaceLandmarker.from_weights(backend="onnx", with_blendshapes=False, threads=1)
    sources = photo_sources(reference)
    sources += [video_source(reference, MEDIA / name, 0, 30) for name in VIDEOS if (MEDIA / name).is_file()]
    print(f"{len(sources)} source faces, widths {[round(s.width) for s in sources]}", file=sys.stderr)

    short = BlazeFace.from_weights(threads=1)
    plain_mesh = FaceMesh.from_weights(threads=1)
    sym_mesh = FaceMesh(plain_mesh.engine, symmetric=True)
    far = far_face_detector(threads=1)
    cands = candidates(short, args.full_range, args.quick)
    lines = [
        f"Detectors: {', '.join(f'{c.name} ({c.backend})' for c in cands)}. Mesh: {plain_mesh.engine_info.backend}.",
        "",
    ]
    lines += detection_section(cands, sources, args)
    lines += false_detection_section(cands, plain_mesh, 4 if args.quick else 20)
    lines += roi_section(far, plain_mesh, sources, [s for s in (70, 100, 140, 200, 300, 500)], 2 if args.quick else 6)
    followers = {
        "short-range only (today)": Follower(short, sym_mesh, None),
        "short-range, then far": Follower(short, sym_mesh, far),
    }
    lines += follow_section(followers, sources, args.sizes, args.follow_frames)
    print("  following done", file=sys.stderr)
    sym_reference = FaceLandmarker(reference.detector, FaceMesh(reference.mesh.engine, symmetric=True))
    real = photo_sources(sym_reference)[:1] + [
        video_source(sym_reference, MEDIA / name, 0, 30) for name in VIDEOS if (MEDIA / name).is_file()
    ]
    lines += midline_section(
        Follower(short, sym_mesh, far),
        Follower(short, plain_mesh, far),
        reference,
        real,
        args.midline_sizes,
        args.midline_frames,
    )
    print("  midline done", file=sys.stderr)
    lines += cost_section(short, sym_mesh, far, args.repeat)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    cmd = "python benchmarks/bench_far_faces.py " + " ".join(sys.argv[1:])
    path = write_result(
        "far_faces" if not args.quick else "far_faces_quick",
        "Faces at any distance (issue 17)",
        cmd,
        [*machine_lines(facts, load_after), "", *lines],
    )
    print(path)


if __name__ == "__main__":
    main()
