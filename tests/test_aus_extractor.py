"""The AU stage with OpenFace 3.0's MTL (random weights, official layout): one batch queue shared by several CSVs."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("torch", reason="the torch extra is part of the test install")

import fixtures_mtl
from facemirror.aus.extractor import AUExtractor, AUFace
from facemirror.aus.schema import au_columns
from facemirror.aus.writer import AUCsvWriter
from facemirror.layouts import MEDIAPIPE_478
from facemirror.models.face_landmarker import FaceLandmarker
from facemirror.models.mtl import AU_NAMES, MTL

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mtl(tmp_path_factory: pytest.TempPathFactory) -> MTL:
    path = tmp_path_factory.mktemp("mtl") / "MTL_backbone.pth"
    return MTL.from_weights(fixtures_mtl.write_mtl_checkpoint(path, fixtures_mtl.mtl_state()), "torch")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("preprocess_on_add", [False, True])
def test_two_csvs_share_batches_and_keep_their_rows_in_order(mtl: MTL, tmp_path: Path, preprocess_on_add: bool) -> None:
    image = cv2.imread(str(ROOT / "tests" / "data" / "single_face.jpg"))
    face = FaceLandmarker.from_weights(backend="onnx", with_blendshapes=False).process_image(image)
    assert face is not None
    # stream b sees a darker face, so its network outputs differ from stream a's
    images = {"a": image, "b": (image // 2).astype(np.uint8)}
    no_face = {("b", 3), ("a", 6)}
    columns = au_columns(mtl)
    writers = {s: AUCsvWriter(tmp_path / f"{s}.csv", columns, blink_open_ear=0.3) for s in images}
    # batches of 3 crops straddle streams and frames
    extractor = AUExtractor(writers, mtl, batch_size=3, preprocess_on_add=preprocess_on_add)
    box = MEDIAPIPE_478.box_rule.apply(face.landmarks)
    for frame in range(1, 8):
        for stream, img in images.items():
            au_face = None if (stream, frame) in no_face else AUFace(face.landmarks, MEDIAPIPE_478, box, 0.9)
            extractor.add(stream, frame, frame / 30, img, au_face)
    extractor.close()
    for writer in writers.values():
        writer.close()

    for stream, img in images.items():
        alone = mtl.predict(mtl.crops(img, [box])).values["au"][0]
        table = _rows(tmp_path / f"{stream}.csv")
        assert [int(r["frame"]) for r in table] == list(range(1, 8))
        for r in table:
            has_face = (stream, int(r["frame"])) not in no_face
            assert r["success"] == ("1" if has_face else "0")
            if has_face:
                got = np.array([float(r[f"{au}_p"]) for au in AU_NAMES])
                np.testing.assert_allclose(got, alone, atol=1e-4)  # the CSV keeps 4 decimals
            else:
                assert r["AU01_p"] == ""
    a = _rows(tmp_path / "a.csv")[0]
    b = _rows(tmp_path / "b.csv")[0]
    assert any(a[f"{au}_p"] != b[f"{au}_p"] for au in AU_NAMES)


def test_unknown_stream_is_refused(mtl: MTL, tmp_path: Path) -> None:
    writer = AUCsvWriter(tmp_path / "a.csv", au_columns(mtl))
    extractor = AUExtractor({"a": writer}, mtl)
    with pytest.raises(KeyError, match="no AU CSV called 'left'"):
        extractor.add("left", 1, 0.0, np.zeros((8, 8, 3), np.uint8), None)
    extractor.cancel()
    writer.abort()
