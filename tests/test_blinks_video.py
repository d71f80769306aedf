"""Blinks through the real pipeline's EAR: the real clips' blink at the frames where the eyes are seen shut, and sides.

Frames of single_face.mp4 looked at by eye (face_noface.mov is the same recording for its first 72 frames): both eyes
open at 25 and 31, the upper lids half down at 26 and 30, shut at 27 and 28, a slit at 29.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from facemirror import Pipeline, read_csv
from facemirror.blinks import find_blinks
from facemirror.layouts import mediapipe_topology as topo
from facemirror.models import FaceLandmarker
from video_fixtures import shared_media

DATA = Path(__file__).resolve().parent / "data"


def _ears(video: Path, out: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(timestamps, subject's left EAR, subject's right EAR) from the blendshapes pipeline."""
    Pipeline(au_model="blendshapes", progress=False).extract_aus(video, out / f"{video.stem}.csv")
    table = read_csv(out / f"{video.stem}.csv")
    times, left, right = (table[c].to_numpy(dtype=np.float64) for c in ("timestamp", "ear_left", "ear_right"))
    return times, left, right


def _fps(times: np.ndarray) -> float:
    return 1.0 / float(np.median(np.diff(times)))


@pytest.mark.parametrize("name", ["single_face.mp4", "face_noface.mov"])
def test_real_blink_is_where_the_eyes_are_seen_shut(name: str, tmp_path: Path) -> None:
    times, left, right = _ears(shared_media(name), tmp_path)
    for ear in (left, right):
        events = find_blinks(ear, _fps(times), timestamps=times)
        assert len(events) == 1
        (e,) = events
        # frames numbered from 1 as in the CSVs: shut at 27-28 (deepest 28), a slit at 29
        assert (e.start + 1, e.peak + 1, e.end + 1) == (27, 28, 29)
        assert e.complete and e.closure > 0.95
        assert 0.07 < e.duration_s < 0.15  # about three frames at half depth


def _close_subject_right_eye(image: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """Paint the eye outlined by ``eye`` (lid points, pixels) with the skin above it: a shut lid, lashes below."""
    width = float(np.ptp(eye[:, 0]))
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(eye).astype(np.int32)], 255)
    k = int(width * 0.4) | 1
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    skin_above = np.roll(image, round(1.5 * float(np.ptp(eye[:, 1]))), axis=0)
    alpha = cv2.GaussianBlur(mask, (k, k), 0).astype(np.float32)[..., None] / 255
    return (image * (1 - alpha) + skin_above * alpha).astype(np.uint8)


def _clip(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps), options={"preset": "ultrafast", "crf": "18"})
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


SHUT_FRAMES = [range(20, 25), range(55, 61)]  # 0-based frames of the clip in which the subject's right eye is shut


@pytest.fixture(scope="module")
def right_eye_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 frames of single_face.jpg (twice its size) in which only the subject's right eye shuts, twice."""
    image = cv2.imread(str(DATA / "single_face.jpg"))
    image = cv2.resize(image, (image.shape[1] * 2, image.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
    face = FaceLandmarker.from_weights(symmetric=False).process_image(image)
    assert face is not None
    ring = [topo.RIGHT_EYE_OUTER, *topo.RIGHT_EYE_UPPER, topo.RIGHT_EYE_INNER, *topo.RIGHT_EYE_LOWER[::-1]]
    eye = face.landmarks[ring, :2]
    # the subject's right eye is on the image left of a camera (non-mirrored) picture
    assert eye[:, 0].mean() < face.landmarks[[topo.LEFT_EYE_OUTER, topo.LEFT_EYE_INNER], 0].mean()
    shut = _close_subject_right_eye(image, eye)
    frames = [shut if any(i in r for r in SHUT_FRAMES) else image for i in range(90)]
    folder = tmp_path_factory.mktemp("right_eye")
    cv2.imwrite(str(folder / "shut.png"), shut)
    return _clip(folder / "right_eye_blinks.mp4", frames)


def test_only_the_subject_right_eye_blinks(right_eye_clip: Path, tmp_path: Path) -> None:
    times, left, right = _ears(right_eye_clip, tmp_path)
    assert find_blinks(left, 30.0, timestamps=times) == []
    events = find_blinks(right, 30.0, timestamps=times)
    assert [(e.start, e.end) for e in events] == [(r.start, r.stop - 1) for r in SHUT_FRAMES]
