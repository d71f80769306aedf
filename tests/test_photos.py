"""Photos (issue 12): recognised by their content, mirrored into PNG images with one-row CSVs, in batches too."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from facemirror import Outputs, Pipeline
from facemirror.batch import run_many
from facemirror.video.photo import is_photo, photo_format, read_photo
from video_fixtures import shared_media

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def no_user_weights(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEMIRROR_CACHE", str(tmp_path_factory.mktemp("cache")))


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_jpeg_named_mp4_is_a_photo_and_gives_pictures_and_one_row_tables(tmp_path: Path) -> None:
    photo = tmp_path / "smile.mp4"
    shutil.copy(DATA / "single_face.jpg", photo)
    assert is_photo(photo) and photo_format(photo) == "jpeg" and not is_photo(shared_media("single_face.mp4"))
    result = Pipeline(outputs=Outputs(quality="fast"), progress=False).run(photo, tmp_path / "out")
    for key in ("left", "right", "debug"):
        path = result.outputs[key]
        assert path.suffix == ".png" and cv2.imread(str(path)) is not None
    source = read_photo(photo)
    left = cv2.imread(str(result.outputs["left"]))
    assert left.shape == source.shape and np.abs(left.astype(int) - source).mean() > 1.0  # mirrored, not a copy
    for key in ("midline_csv", "left_csv", "right_csv", "measures_csv"):
        table = rows(result.outputs[key])
        assert len(table) == 1 and table[0]["success"] == "1", key
    assert float(rows(result.outputs["measures_csv"])[0]["commissure_excursion_mm_left"]) > 10.0
    assert "blinks_csv" not in result.outputs  # a photo has no blinks
    aus = Pipeline(progress=False).extract_aus(photo, tmp_path / "aus.csv")
    assert len(rows(aus.outputs["csv"])) == 1


def test_a_heic_photo_is_read_when_pillow_heif_is_installed(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif", reason="the heic extra is not installed")
    from PIL import Image

    pillow_heif.register_heif_opener()
    source = cv2.imread(str(DATA / "single_face.jpg"))
    Image.fromarray(np.ascontiguousarray(source[..., ::-1])).save(tmp_path / "iphone.heic", quality=95)
    assert photo_format(tmp_path / "iphone.heic") == "heic"
    image = read_photo(tmp_path / "iphone.heic")
    assert image.shape == source.shape and np.abs(image.astype(int) - source).mean() < 4.0
    result = Pipeline(progress=False).measure(tmp_path / "iphone.heic", tmp_path / "out")
    assert rows(result.outputs["measures_csv"])[0]["success"] == "1"


def test_a_batch_of_photos_has_one_summary_row_per_photo(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    folder.mkdir()
    image = cv2.imread(str(DATA / "single_face.jpg"))
    cv2.imwrite(str(folder / "rest.jpg"), image)
    cv2.imwrite(str(folder / "smile.png"), image)
    cv2.imwrite(str(folder / "pucker.JPG"), cv2.flip(image, 1))
    result = run_many(None, folder, tmp_path / "out", job="measure", workers=1, progress=False)
    assert result.ok and [o.file for o in result.outcomes] == ["pucker.JPG", "rest.jpg", "smile.png"]
    with open(result.summary_path, newline="") as f:
        assert [r["frames"] for r in csv.DictReader(f)] == ["1", "1", "1"]
    for outcome in result.outcomes:
        assert len(rows(Path(outcome.outputs["measures_csv"]))) == 1
