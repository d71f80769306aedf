"""Draw docs/figures/measures.png: every clinical measure on a real face, read where facemirror reads it.

The face, its midline and the measured points come from the project's own code: the tracker the measures
job uses (the flip-averaged mesh), :func:`estimate_midline`, :func:`side_points` and :func:`frame_measures`,
so each drawn segment is the one the measure's number comes from. Run from the repository root:

    python docs/figures/make_measures_figure.py [PHOTO] [-o docs/figures/measures.png]
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facemirror.face.mediapipe import MediaPipeTracker
from facemirror.layouts import MEDIAPIPE_478
from facemirror.measures.geometry import MEASURES, POWER, face_coordinates, frame_measures, iris_diameter, side_points
from facemirror.measures.geometry import _lower_lip_on_midline as lower_lip_on_midline
from facemirror.mirror.midline import Midline, estimate_midline
from facemirror.settings import IRIS_MM

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "tests" / "data" / "single_face.jpg"
OUT = Path(__file__).resolve().parent / "measures.png"

FONT = cv2.FONT_HERSHEY_DUPLEX
WHITE, BLACK, GREY = (255, 255, 255), (0, 0, 0), (215, 215, 215)
BACKGROUND = 32
# one colour per measure (BGR)
BROW, MRD1, MRD2, FISSURE = (0, 150, 255), (255, 230, 0), (255, 80, 255), (0, 240, 255)
HEIGHT, EXCURSION, ANGLE, AREA = (80, 230, 80), (80, 80, 255), (255, 150, 200), (255, 150, 40)
#: the subject's left is index 0 of every per-side array (and the image right of this upright photo)
LEFT, RIGHT = 0, 1


@dataclass
class Face:
    """What the measures read on one face, in the face's own coordinates (u across, v down; image pixels)."""

    landmarks: np.ndarray
    midline: Midline
    uv: dict[str, np.ndarray]  # pupil, brow, upper_lid, lower_lid, corner: (2 sides, 2)
    crossing: np.ndarray  # (u, v) where the lower lip's outer edge crosses the midline
    mm: np.ndarray  # the measures in mm / mm2 / degrees (measures, 2 sides)
    iris_px: float

    def image(self, u: float, v: float) -> np.ndarray:
        """The image point at face coordinates (u, v)."""
        m = self.midline
        return np.asarray(m.point) + u * np.asarray(m.normal) + v * np.asarray(m.direction)


def measure(photo: np.ndarray) -> Face:
    """The face of ``photo`` as the measures job sees it (the flip-averaged mesh, its midline fit, the iris scale)."""
    tracker = MediaPipeTracker.from_weights().for_job(needs_midline=True)
    face = tracker.track(photo, 0.0)
    if face is None:
        raise SystemExit("no face in the photo")
    landmarks, layout = face.landmarks[:, :2].astype(np.float64), face.layout
    midline = estimate_midline(landmarks, layout)
    points = side_points(landmarks, layout, midline)
    kinds = ("pupil", "brow", "upper_lid", "lower_lid", "corner")
    uv = {kind: face_coordinates(getattr(points, kind), midline) for kind in kinds}
    crossing = lower_lip_on_midline(face_coordinates(landmarks, midline), layout)
    iris_px = iris_diameter(landmarks, layout)
    mm_per_px = IRIS_MM / iris_px
    power = np.array([POWER[unit] for _, unit in MEASURES])[:, None]
    mm = frame_measures(landmarks, layout, midline, points=points) * mm_per_px**power
    return Face(landmarks, midline, uv, crossing, mm, iris_px)


class Panel:
    """A zoomed crop of the photo to draw on; points are given in image pixels (the landmarks' convention)."""

    def __init__(self, photo: np.ndarray, origin: np.ndarray, zoom: float, size: tuple[int, int]) -> None:
        self.origin, self.zoom = np.asarray(origin, dtype=np.float64), zoom
        ox, oy = self.origin
        # pixel index i (centre x = i + 0.5) lands on panel index zoom * (i + 0.5 - ox) - 0.5
        warp = np.array([[zoom, 0.0, zoom * (0.5 - ox) - 0.5], [0.0, zoom, zoom * (0.5 - oy) - 0.5]])
        crop = cv2.warpAffine(photo, warp, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        # the photo in grey, dimmed, so the colours of the drawing stand out (and the PNG stays small)
        grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        self.canvas = cv2.cvtColor(cv2.convertScaleAbs(grey, alpha=0.8, beta=8.0), cv2.COLOR_GRAY2BGR)

    def at(self, point: Sequence[float] | np.ndarray) -> tuple[int, int]:
        """Panel pixel coordinates of an image point, fixed-point with 4 fractional bits (``shift=4``)."""
        x, y = self.zoom * (np.asarray(point, dtype=np.float64) - self.origin) - 0.5
        return round(x * 16), round(y * 16)

    def line(self, a: np.ndarray, b: np.ndarray, colour: tuple[int, int, int], thickness: int = 2) -> None:
        cv2.line(self.canvas, self.at(a), self.at(b), BLACK, thickness + 2, cv2.LINE_AA, 4)
        cv2.line(self.canvas, self.at(a), self.at(b), colour, thickness, cv2.LINE_AA, 4)

    def dashed(self, a: np.ndarray, b: np.ndarray, colour: tuple[int, int, int], dash: float = 9.0) -> None:
        """A dashed line, dashes ``dash`` panel pixels long."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        steps = max(1, int(self.zoom * np.hypot(*(b - a)) / dash))
        for k in range(0, steps, 2):
            self.line(a + (b - a) * k / steps, a + (b - a) * min(k + 1, steps) / steps, colour, 1)

    def dimension(self, a: np.ndarray, b: np.ndarray, colour: tuple[int, int, int], tick: float = 6.0) -> None:
        """A measured distance: the segment with short bars across its ends (``tick`` panel pixels long)."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        along = (b - a) / max(np.hypot(*(b - a)), 1e-9)
        across = np.array([-along[1], along[0]]) * tick / self.zoom
        for end in (a, b):
            self.line(end - across, end + across, colour, 2)
        self.line(a, b, colour, 2)

    def dot(self, point: np.ndarray, colour: tuple[int, int, int], radius: int = 4) -> None:
        cv2.circle(self.canvas, self.at(point), (radius + 1) * 16, BLACK, -1, cv2.LINE_AA, 4)
        cv2.circle(self.canvas, self.at(point), radius * 16, colour, -1, cv2.LINE_AA, 4)

    def cross(self, point: np.ndarray, size: float = 7.0) -> None:
        """The pupil centre: a white cross in a ring."""
        p = np.asarray(point, dtype=np.float64)
        d = size / self.zoom
        for step in (np.array([d, 0.0]), np.array([0.0, d])):
            self.line(p - step, p + step, WHITE, 1)
        cv2.circle(self.canvas, self.at(p), round(size * 0.6 * 16), WHITE, 1, cv2.LINE_AA, 4)

    def text(self, words: str, point: np.ndarray, colour: tuple[int, int, int], align: str = "left") -> None:
        """``words`` with a dark outline, its baseline's ``align`` end (left, right, centre) at image ``point``."""
        x, y = (v / 16 for v in self.at(point))
        write(self.canvas, words, (x, y), colour, align)


def write(
    canvas: np.ndarray,
    words: str,
    at: tuple[float, float],
    colour: tuple[int, int, int],
    align: str,
    outline: bool = True,
) -> None:
    """Text (outlined, to stand out on the photo) with its baseline's ``align`` end at panel pixel ``at``."""
    scale = 0.58
    (w, _), _ = cv2.getTextSize(words, FONT, scale, 1)
    x = at[0] - {"left": 0, "right": w, "centre": w / 2}[align]
    origin = (round(x), round(at[1]))
    if outline:
        cv2.putText(canvas, words, origin, FONT, scale, BLACK, 4, cv2.LINE_AA)
    cv2.putText(canvas, words, origin, FONT, scale, colour, 1, cv2.LINE_AA)


def face_panel(photo: np.ndarray, face: Face, width: int) -> tuple[Panel, np.ndarray]:
    """The whole face: the axes, the pupils and the lower face's measures; returns the panel and the eye box."""
    xy = face.landmarks
    lo, hi = xy.min(axis=0) - np.array([22.0, 26.0]), xy.max(axis=0) + np.array([22.0, 6.0])
    zoom = width / (hi[0] - lo[0])
    panel = Panel(photo, lo, zoom, (width, round(zoom * (hi[1] - lo[1]))))
    uv = face.uv
    pupil_v = float(np.mean(uv["pupil"][:, 1]))
    (left_edge, top), (right_edge, bottom) = face_coordinates(np.array([lo, hi]), face.midline)

    # lip opening area: the inner lip contour, each side of the midline (a half-plane mask)
    inner = np.array([panel.at(xy[i]) for i in MEDIAPIPE_478.lips_inner], dtype=np.int32)
    mouth = np.zeros(panel.canvas.shape[:2], np.uint8)
    cv2.fillPoly(mouth, [inner], 255, cv2.LINE_AA, 4)
    rows, cols = np.indices(mouth.shape, dtype=np.float64)
    across = face.midline.signed_distance((cols + 0.5) / zoom + lo[0], (rows + 0.5) / zoom + lo[1])
    for side, shade in ((LEFT, 1.0), (RIGHT, 0.75)):
        half = ((mouth / 255.0) * ((across >= 0) if side == LEFT else (across < 0)))[..., None]
        tint = np.array(AREA, dtype=np.float64) * shade
        panel.canvas[:] = (panel.canvas * (1 - 0.55 * half) + tint * 0.55 * half).astype(np.uint8)
    ring = xy[list(MEDIAPIPE_478.lips_inner)]
    for a, b in zip(ring, np.roll(ring, -1, axis=0)):
        panel.line(a, b, AREA, 1)

    # the axes: the midline (vertical) and the perpendicular through the pupils' midpoint (horizontal)
    panel.dashed(face.image(0, top), face.image(0, bottom), GREY)
    panel.dashed(face.image(left_edge, pupil_v), face.image(right_edge, pupil_v), GREY)
    panel.text("midline (vertical axis)", face.image(3, top + 20), GREY)
    panel.text("pupil line (horizontal axis)", face.image(left_edge + 3, pupil_v - 8), GREY)
    for side in (LEFT, RIGHT):
        panel.cross(face.image(*uv["pupil"][side]))

    # commissure height: from the pupil line down to each corner, along the vertical axis
    for side in (LEFT, RIGHT):
        u, v = uv["corner"][side]
        panel.dashed(face.image(u, pupil_v), face.image(uv["pupil"][side][0], pupil_v), HEIGHT)
        panel.dimension(face.image(u, pupil_v), face.image(u, v), HEIGHT)
    u, v = uv["corner"][RIGHT]
    panel.text("5 commissure", face.image(u - 4, (pupil_v + v) / 2 - 3), HEIGHT, "right")
    panel.text("height", face.image(u - 4, (pupil_v + v) / 2 + 7), HEIGHT, "right")

    # commissure excursion and smile angle: from the lower lip on the midline to each corner
    crossing = face.image(*face.crossing)
    for side in (LEFT, RIGHT):
        panel.dimension(crossing, face.image(*uv["corner"][side]), EXCURSION, tick=5.0)
    u, v = uv["corner"][LEFT]
    panel.dashed(crossing, face.image(u + 10, face.crossing[1]), ANGLE)
    radius = 0.7 * u
    angle = math.atan2(face.crossing[1] - v, u)
    arc = [face.image(radius * math.cos(t), face.crossing[1] - radius * math.sin(t)) for t in np.linspace(0, angle, 24)]
    for a, b in itertools.pairwise(arc):
        panel.line(a, b, ANGLE, 2)
    panel.dot(crossing, WHITE, 3)
    panel.text("7 smile angle", face.image(u + 2, face.crossing[1] + 11), ANGLE)
    u, v = uv["corner"][RIGHT]
    panel.text("6 excursion", face.image(u - 3, v + 14), EXCURSION, "right")
    panel.text("8 lip opening area", face.image(0, face.crossing[1] + 21), AREA, "centre")
    panel.text("(each side)", face.image(0, face.crossing[1] + 30), AREA, "centre")

    # the sides are the subject's
    write(panel.canvas, "subject's RIGHT", (10, 24), WHITE, "left")
    write(panel.canvas, "subject's LEFT", (width - 10, 24), WHITE, "right")

    # the box the eye panel enlarges: the subject's left eye, from above the brow to below the lid
    pupil = uv["pupil"][LEFT]
    box = np.array([pupil[0] - 39.0, uv["brow"][LEFT][1] - 9.0, pupil[0] + 27.0, uv["lower_lid"][LEFT][1] + 12.0])
    corners = [face.image(u, v) for u, v in ((box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3]))]
    for a, b in zip(corners, corners[1:] + corners[:1]):
        panel.line(a, b, WHITE, 1)
    return panel, box


def eye_panel(photo: np.ndarray, face: Face, box: np.ndarray, width: int) -> Panel:
    """The subject's left eye: brow height, MRD1, MRD2, palpebral fissure at the pupil, and the iris diameter."""
    zoom = width / (box[2] - box[0])
    corner = face.image(box[0], box[1])
    panel = Panel(photo, corner, zoom, (width, round(zoom * (box[3] - box[1]))))
    uv = face.uv
    u, pupil = uv["pupil"][LEFT]
    brow, upper, lower = uv["brow"][LEFT][1], uv["upper_lid"][LEFT][1], uv["lower_lid"][LEFT][1]

    # the lids and the brow as the layout's polylines, and the points read on them at the pupil
    eye = MEDIAPIPE_478.eyes["left"]
    for chain, colour in (
        ([eye.outer, *eye.upper_lid, eye.inner], MRD1),
        ([eye.outer, *eye.lower_lid, eye.inner], MRD2),
        (list(MEDIAPIPE_478.brows["left"]), BROW),
    ):
        points = face.landmarks[chain]
        for a, b in itertools.pairwise(points):
            panel.line(a, b, colour, 1)
    panel.dashed(face.image(u, box[1]), face.image(u, box[3] - 6), GREY, dash=6.0)

    # the mesh's iris ring and the horizontal diameter the scale comes from (ring points 0 and 2)
    ring = face.landmarks[list(eye.iris)]
    centre, radius = face.landmarks[eye.pupil], np.hypot(*(ring[0] - ring[2])) / 2
    cv2.circle(panel.canvas, panel.at(centre), round(radius * zoom * 16), WHITE, 1, cv2.LINE_AA, 4)
    panel.dimension(ring[0], ring[2], WHITE, tick=5.0)

    temporal, nasal, fissure = u + 12.0, u - 12.5, u - 19.5
    for v, colour, start in ((brow, BROW, nasal), (upper, MRD1, fissure), (lower, MRD2, fissure)):
        panel.dashed(face.image(start, v), face.image(temporal, v), colour, dash=5.0)
        panel.dot(face.image(u, v), colour, 3)
    panel.dot(face.image(u, pupil), WHITE, 3)
    panel.dimension(face.image(nasal, pupil), face.image(nasal, brow), BROW)
    panel.dimension(face.image(temporal, pupil), face.image(temporal, upper), MRD1)
    panel.dimension(face.image(temporal, pupil), face.image(temporal, lower), MRD2)
    panel.dimension(face.image(fissure, upper), face.image(fissure, lower), FISSURE)

    panel.text("1 brow height", face.image(nasal - 1.5, (pupil + brow) / 2), BROW, "right")
    panel.text("2 MRD1", face.image(temporal + 1, upper - 3.5), MRD1)
    panel.text("3 MRD2", face.image(temporal + 1, lower + 5.0), MRD2, "right")
    panel.text("4 palpebral", face.image(fissure - 1.5, pupil - 0.5), FISSURE, "right")
    panel.text("fissure", face.image(fissure - 1.5, pupil + 2.5), FISSURE, "right")
    panel.text("pupil centre", face.image(u - 2, lower + 5.0), WHITE, "right")
    panel.text("iris diameter = 11.77 mm", face.image(u, box[3] - 1.5), WHITE, "centre")
    panel.text("brow's upper edge", face.image(box[2] - 1.0, brow + 9.0), BROW, "right")
    write(panel.canvas, "subject's left eye (box)", (10, 24), WHITE, "left")
    return panel


def notes(face: Face, size: tuple[int, int]) -> np.ndarray:
    """The axes, sides and scale in words."""
    lines = [
        "Axes: the midline is the vertical axis",
        "(+ down the face); the horizontal axis",
        "is perpendicular to it.",
        "Sides: the subject's own (a normal",
        "recording shows the subject's right",
        "on the image left).",
        "Scale: 11.77 mm over the iris diameter",
        f"(its median over a video); here {face.iris_px:.1f} px:",
        f"{IRIS_MM / face.iris_px:.2f} mm per pixel.",
    ]
    canvas = np.full((size[1], size[0], 3), BACKGROUND, np.uint8)
    for k, words in enumerate(lines):
        write(canvas, words, (12, 30 + 22 * k + 10 * (k // 3)), GREY, "left", outline=False)
    return canvas


def legend(face: Face, width: int) -> np.ndarray:
    """The measures' definitions, with this face's values (from its landmarks; left / right)."""
    rows = [
        (BROW, "1 brow height: pupil centre up to the brow's upper edge"),
        (MRD1, "2 MRD1 (margin reflex distance 1): pupil centre to upper lid"),
        (MRD2, "3 MRD2 (margin reflex distance 2): pupil centre to lower lid"),
        (FISSURE, "4 palpebral fissure: upper to lower lid margin"),
        (HEIGHT, "5 commissure height: corner below the pupil line"),
        (EXCURSION, "6 commissure excursion: lower lip on the midline to corner"),
        (ANGLE, "7 smile angle: segment 6 above the horizontal"),
        (AREA, "8 lip opening area: oral opening on each side of the midline"),
    ]
    line = 25
    canvas = np.full((line * (len(rows) + 1) + 16, width, 3), BACKGROUND, np.uint8)
    write(canvas, "1-4 are read at the pupil's horizontal position", (12, 24), GREY, "left", outline=False)
    turned = f"this photo (head turned {abs(face.midline.yaw_deg):.0f} deg): left / right"
    write(canvas, turned, (width - 12, 24), GREY, "right", outline=False)
    for k, ((colour, words), (_, unit), (left, right)) in enumerate(zip(rows, MEASURES, face.mm)):
        y = line * (k + 2)
        cv2.rectangle(canvas, (12, y - 13), (26, y + 1), colour, -1)
        write(canvas, words, (36, y), colour, "left", outline=False)
        write(canvas, f"{left:.1f} / {right:.1f} {unit}", (width - 12, y), colour, "right", outline=False)
    return canvas


def figure(photo: np.ndarray, width: int = 900) -> np.ndarray:
    """The face panel beside the eye panel and the notes, the definitions below."""
    face = measure(photo)
    left, box = face_panel(photo, face, round(width * 0.56))
    gap = 6
    right_width = width - left.canvas.shape[1] - gap
    eye = eye_panel(photo, face, box, right_width)
    height = left.canvas.shape[0]
    top = np.full((height, width, 3), BACKGROUND, np.uint8)
    top[:, : left.canvas.shape[1]] = left.canvas
    top[: eye.canvas.shape[0], width - right_width :] = eye.canvas
    top[eye.canvas.shape[0] :, width - right_width :] = notes(face, (right_width, height - eye.canvas.shape[0]))
    return np.vstack([top, legend(face, width)])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("photo", nargs="?", type=Path, default=PHOTO)
    parser.add_argument("-o", "--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    photo = cv2.imread(str(args.photo))
    if photo is None:
        raise SystemExit(f"{args.photo}: not an image")
    cv2.imwrite(str(args.out), figure(photo), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
