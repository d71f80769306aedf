"""Clips with more than one person in view, made from the real photos of ../shared/media, with every face's true box.

- :func:`panned_group`: the five people of multi_face.jpg, the camera panning gently (the issue's clip);
- :func:`walk_in`: one person followed, then a second, larger face slides in and stays;
- :func:`leave_and_return`: the subject slides out of the frame while someone else stays, then comes back.

True boxes are RetinaFace MobileNet-0.25's boxes on the photos (measured once, below), moved with the pasting.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from video_fixtures import shared_media

#: RetinaFace MobileNet-0.25 (../shared/weights) boxes (x1, y1, x2, y2) of the five faces in multi_face.jpg
GROUP_FACES = np.array(
    [
        [313.7, 230.4, 412.7, 361.2],  # woman, left of centre
        [213.7, 62.3, 310.4, 173.7],  # man with sunglasses, top left
        [532.6, 305.9, 629.0, 433.1],  # woman, right of centre
        [686.6, 289.7, 786.8, 420.8],  # woman, right
        [437.4, 219.3, 516.8, 312.5],  # boy, centre back
    ]
)
#: the same detector's box of the face in single_face.jpg
SINGLE_FACE = np.array([193.3, 142.7, 374.4, 396.9])
FPS = 30
SIZE = (640, 360)


@dataclass
class Clip:
    """A written clip and, per frame, every person's true face box (NaN while out of view)."""

    path: Path
    boxes: np.ndarray  # (frames, people, 4)

    def person_at(self, frame: int, point: np.ndarray) -> int | None:
        """The person whose true box (grown by 15%) contains ``point`` in ``frame`` (0-based), else None."""
        for person, box in enumerate(self.boxes[frame]):
            if np.isnan(box).any():
                continue
            grow = 0.15 * (box[2:] - box[:2])
            if (box[:2] - grow <= point).all() and (point <= box[2:] + grow).all():
                return person
        return None


def _write(path: Path, frames: list[np.ndarray]) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(FPS), options={"crf": "14", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def panned_group(path: Path, frames: int = 150) -> Clip:
    """multi_face.jpg seen through a 640x360 window that pans 100 px right and 30 px down over the clip."""
    photo = cv2.imread(str(shared_media("multi_face.jpg")))
    images, boxes = [], []
    for i in range(frames):
        t = i / max(1, frames - 1)
        x0, y0 = 150.0 + 100.0 * t, 120.0 + 30.0 * t
        shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]])
        images.append(cv2.warpAffine(photo, shift, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
        boxes.append(GROUP_FACES - [x0, y0, x0, y0])
    _write(path, images)
    return Clip(path, np.array(boxes))


def _face_patch(photo: np.ndarray, box: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """A crop around ``box`` (1.8x its size) scaled so the face is ``width`` px wide; and the face box in the crop."""
    centre, size = (box[:2] + box[2:]) / 2, box[2:] - box[:2]
    half = 0.9 * size
    x1, y1 = (centre - half).astype(int)
    x2, y2 = (centre + half).astype(int)
    crop = photo[max(0, y1) : y2, max(0, x1) : x2]
    scale = width / size[0]
    patch = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    inner = (box - [max(0, x1), max(0, y1), max(0, x1), max(0, y1)]) * scale
    return patch, inner


def _background() -> np.ndarray:
    x = np.linspace(0, 1, SIZE[0])[None, :, None]
    y = np.linspace(0, 1, SIZE[1])[:, None, None]
    colour = np.array([120.0, 130.0, 125.0]) + 40.0 * x - 30.0 * y
    return np.broadcast_to(colour, (SIZE[1], SIZE[0], 3)).astype(np.uint8)


def _paste(canvas: np.ndarray, patch: np.ndarray, left: float, top: float) -> None:
    """Paste ``patch`` with its top-left corner at (left, top), clipped to the canvas."""
    h, w = patch.shape[:2]
    x1, y1 = round(left), round(top)
    cx1, cy1 = max(0, x1), max(0, y1)
    cx2, cy2 = min(canvas.shape[1], x1 + w), min(canvas.shape[0], y1 + h)
    if cx2 > cx1 and cy2 > cy1:
        canvas[cy1:cy2, cx1:cx2] = patch[cy1 - y1 : cy2 - y1, cx1 - x1 : cx2 - x1]


def _visible(box: np.ndarray) -> np.ndarray:
    """The box, or NaN when less than half of it is inside the frame."""
    inside_w = min(box[2], SIZE[0]) - max(box[0], 0)
    return box if inside_w > 0.5 * (box[2] - box[0]) else np.full(4, np.nan)


def _scene(path: Path, people: list[tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]]) -> Clip:
    """Paste each person's patch at its per-frame (left, top) on the background; True boxes follow."""
    frames = len(people[0][2])
    images, boxes = [], []
    for i in range(frames):
        canvas = _background().copy()
        row = []
        for patch, inner, track in people:
            left, top = track[i]
            _paste(canvas, patch, left, top)
            row.append(_visible(inner + np.array([left, top, left, top])))
        images.append(canvas)
        boxes.append(row)
    _write(path, images)
    return Clip(path, np.array(boxes))


def walk_in(path: Path, frames: int = 120) -> Clip:
    """Person 0 (a woman of multi_face.jpg, face 110 px) left of centre from the start; from 1 s person 1 (the man
    of single_face.jpg, face 190 px: larger) slides in from the right edge and stays on the right."""
    group = cv2.imread(str(shared_media("multi_face.jpg")))
    single = cv2.imread(str(shared_media("single_face.jpg")))
    subject, subject_box = _face_patch(group, GROUP_FACES[2], 110.0)
    walker, walker_box = _face_patch(single, SINGLE_FACE, 190.0)
    still = [(110.0, 80.0)] * frames
    enter = [(SIZE[0] + 10 - min(1.0, max(0.0, (i - FPS) / FPS)) * 300.0, 10.0) for i in range(frames)]
    return _scene(path, [(subject, subject_box, still), (walker, walker_box, enter)])


def leave_and_return(path: Path, frames: int = 150) -> Clip:
    """Person 0 (the man of single_face.jpg, face 150 px, near the centre: the subject) slides out to the left
    over 1.0-1.5 s, stays out until 3.0 s and slides back to where he was by 3.5 s; person 1 (a woman of
    multi_face.jpg, face 110 px) stays on the right all along."""
    group = cv2.imread(str(shared_media("multi_face.jpg")))
    single = cv2.imread(str(shared_media("single_face.jpg")))
    subject, subject_box = _face_patch(single, SINGLE_FACE, 150.0)
    other, other_box = _face_patch(group, GROUP_FACES[3], 110.0)

    def away(t: float) -> float:  # 0 in place, 1 out of view
        if t < 1.0 or t >= 3.5:
            return 0.0
        if t < 1.5:
            return (t - 1.0) / 0.5
        return 1.0 if t < 3.0 else 1.0 - (t - 3.0) / 0.5

    track = [(170.0 - away(i / FPS) * 500.0, 20.0) for i in range(frames)]
    return _scene(path, [(subject, subject_box, track), (other, other_box, [(420.0, 90.0)] * frames)])
