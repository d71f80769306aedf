"""Pipeline composed from the user's own parts, through the public API only (no patching): a custom AU model
and a custom face tracker with its own landmark layout."""

from __future__ import annotations

import csv
import json
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from custom_parts import Brightness, KnownFace, six_points
from facemirror import Mirroring, Outputs, Pipeline
from facemirror.models.base import crop_box
from facemirror.video import VideoReader
from video_fixtures import shared_media

ROOT = Path(__file__).resolve().parents[1]
FAST = Outputs(quality="fast")


def textured_clip(path: Path, frames: int = 12, width: int = 320, height: int = 240) -> list[np.ndarray]:
    """A smooth random texture whose brightness changes per frame; returns the frames as written (BGR)."""
    rng = np.random.default_rng(7)
    base = smooth(rng.uniform(40, 200, (height // 16, width // 16, 3)), width, height)
    images = [np.clip(base + 6 * i, 0, 255).astype(np.uint8) for i in range(frames)]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(30), options={"crf": "10", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return images


def smooth(small: np.ndarray, width: int, height: int) -> np.ndarray:
    """``small`` scaled up to ``width`` x ``height`` and blurred: a texture the encoder keeps well."""
    import cv2

    return cv2.GaussianBlur(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC), (0, 0), 3)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


@pytest.fixture(autouse=True)
def no_user_weights(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEMIRROR_CACHE", str(tmp_path_factory.mktemp("cache")))


def test_a_custom_au_model_fills_its_column_in_extract_aus(tmp_path: Path) -> None:
    clip = tmp_path / "face.mp4"
    with av.open(str(shared_media("single_face.mp4"))) as src, av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for i, frame in enumerate(src.decode(video=0)):
            if i == 10:
                break
            copy = av.VideoFrame.from_ndarray(frame.to_ndarray(format="bgr24"), format="bgr24")
            copy.pts = i
            out.mux(stream.encode(copy))
        out.mux(stream.encode(None))
    pipeline = Pipeline(au_model=Brightness(), outputs=FAST, progress=False)
    result = pipeline.extract_aus(clip, tmp_path / "aus.csv")
    assert result.au_model == "brightness" and result.au_columns["AU model brightness"] == ["brightness"]
    table = rows(result.outputs["csv"])
    assert len(table) == 10 and all(r["success"] == "1" for r in table)
    # the expected value of every frame, from the same tracker's face box cut as OpenFace 3.0 cuts it
    tracker = Pipeline(progress=False).face_tracker.for_job(needs_midline=False)
    tracker.reset()
    with VideoReader(clip) as reader:
        for frame, row in zip(reader, table):
            face = tracker.track(frame.image, frame.timestamp)
            assert face is not None
            x1, y1, x2, y2 = crop_box(face.box, frame.image.shape)
            assert float(row["brightness"]) == pytest.approx(frame.image[y1:y2, x1:x2].mean(), abs=1e-3)
    sidecar = json.loads(Path(f"{result.outputs['csv']}.json").read_text())
    assert sidecar["parameters"]["au_model"].endswith("custom_parts.Brightness")
    assert sidecar["parameters"]["au_model_used"] == "brightness"
    assert {"name": "brightness", "class": "custom_parts.Brightness"} in sidecar["models"]


def test_a_custom_tracker_and_au_model_drive_mirror_and_run(tmp_path: Path) -> None:
    images = textured_clip(tmp_path / "texture.mp4")
    axis_x, axis_y, angle = 160.0, 120.0, 0.0
    tracker = KnownFace(six_points(axis_x, axis_y, angle))
    pipeline = Pipeline(tracker, Brightness(), mirroring=Mirroring(feather_px=0.0), outputs=FAST, progress=False)
    result = pipeline.run(tmp_path / "texture.mp4", tmp_path / "out")
    assert tracker.frames == len(images) and result.face == "known"
    # the summary names what filled the AU columns: the model and blink, no pose (the layout has no pose points)
    assert list(result.au_columns) == ["AU model brightness", "blink (eye landmarks)"]
    # the midline is the declared layout's symmetry axis
    for row in rows(result.outputs["midline_csv"]):
        assert row["status"] == "tracked"
        assert float(row["midline_angle_deg"]) == pytest.approx(angle, abs=1e-6)
        assert float(row["midline_x"]) == pytest.approx(axis_x, abs=1e-6)
        assert row["pose_yaw_deg"] == ""  # the layout has no pose points: never invented
    # the left-mirrored video keeps the image-right half (the subject's left) and reflects it about x = 160:
    # reflected about any column one pixel off, the left half matches the source worse
    left = decoded(result.outputs["left"])
    for source, mirrored in zip(decoded(tmp_path / "texture.mp4"), left):
        assert np.abs(mirrored[:, 170:].astype(int) - source[:, 170:]).mean() < 5.0
        errors = [
            np.abs(mirrored[:, 8:150].astype(int) - np.roll(source[:, ::-1], k, axis=1)[:, 8:150]).mean()
            for k in (-1, 0, 1)
        ]
        assert errors[1] < 5.0 and errors[1] < min(errors[0], errors[2]), errors
        assert np.abs(mirrored[:, :150].astype(int) - source[:, :150]).mean() > 20.0  # and it was reflected
    # the AU model ran on both mirrored faces, frame by frame: the crop's mean follows each frame's brightness
    for side in ("left", "right"):
        values = [float(r["brightness"]) for r in rows(result.outputs[f"{side}_csv"])]
        assert len(values) == len(images)
        assert np.diff(values) == pytest.approx(np.full(len(images) - 1, 6.0), abs=1.0)
    sidecar = json.loads(Path(f"{result.outputs['left']}.json").read_text())
    assert sidecar["parameters"]["face"] == "custom_parts.KnownFace"
    assert {"name": "known", "class": "custom_parts.KnownFace"} in sidecar["models"]


def test_a_tilted_declared_layout_gives_its_tilted_midline(tmp_path: Path) -> None:
    textured_clip(tmp_path / "texture.mp4", frames=8)
    tracker = KnownFace(six_points(150.0, 110.0, -12.0))
    result = Pipeline(tracker, outputs=FAST, progress=False).mirror(tmp_path / "texture.mp4", tmp_path / "out")
    for row in rows(result.outputs["midline_csv"]):
        assert float(row["midline_angle_deg"]) == pytest.approx(-12.0, abs=1e-6)
        # (150, 110) lies on the fitted line
        a = math.radians(float(row["midline_angle_deg"]))
        nx, ny = math.cos(a), math.sin(a)
        assert nx * (150.0 - float(row["midline_x"])) + ny * (110.0 - float(row["midline_y"])) == pytest.approx(
            0.0,
            abs=1e-3,  # the CSV keeps 4 decimals
        )


def test_an_au_model_that_reads_another_layout_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="reads mediapipe478 landmarks, but the face tracker gives six"):
        Pipeline(KnownFace(six_points(0, 0, 0)), "blendshapes", progress=False).au_model_for()


def test_parts_are_checked_when_the_pipeline_is_made() -> None:
    with pytest.raises(ValueError, match="unknown face tracker 'mediapip'; registered: mediapipe, openface3"):
        Pipeline("mediapip")
    with pytest.raises(ValueError, match="unknown AU model 'openface'"):
        Pipeline(au_model="openface")
    with pytest.raises(TypeError, match="face must be"):
        Pipeline(face=3)  # type: ignore[arg-type]
