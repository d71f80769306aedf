"""Test images for the face landmarker, made identically by the tests and by the reference recorder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

DATA = Path(__file__).resolve().parent / "data"
ANGLES = (0, 30, -30)


def rotate(image: np.ndarray, degrees: float, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """``image`` rotated about its centre (counter-clockwise degrees) and shifted, edges replicated."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[:, 2] += shift
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def still_images() -> dict[str, np.ndarray]:
    """name -> BGR image: the astronaut and single_face.jpg, each at 0 and +-30 degrees."""
    bases = {"astronaut": astronaut(), "single_face": cv2.imread(str(DATA / "single_face.jpg"))}
    return {f"{name}{angle:+d}": rotate(img, angle) for name, img in bases.items() for angle in ANGLES}


def synthetic_video(frames: int = 10) -> list[np.ndarray]:
    """A head that turns and drifts: the astronaut rotated 0..18 degrees and shifted a few pixels per frame."""
    base = astronaut()
    return [rotate(base, 2.0 * k, (3.0 * k, -2.0 * k)) for k in range(frames)]


def first_frames(video: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` BGR frames of a real video."""
    cap = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < count:
        ok, frame = cap.read()
        assert ok, f"{video} has fewer than {count} frames"
        frames.append(frame)
    cap.release()
    return frames
