"""The per-video HTML report: one self-contained file with every section, written atomically, and drawn by a real
browser (headless Chromium) with every figure, picture and table where the page puts it.

The data are synthetic but shaped like a clinical recording: 1.5 s at rest, a blink at 1 s, then a smile that the
subject's left makes fully and the right only a little, frames without a face (held, then none), a few frames with
the head turned, and key frames cut from a real photo (tests/data/single_face.jpg) and from its mirror image.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import itertools
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

from blink_series import TrueBlink, lid_profile
from facemirror.atomic import OutputGroup
from facemirror.blinks import find_blinks
from facemirror.blinks.summary import summarize_blinks
from facemirror.blinks.synkinesis import SynkinesisIndex
from facemirror.errors import MissingExtraError
from facemirror.measures.geometry import MEASURES
from facemirror.optional import available
from facemirror.provenance import build_provenance, model_record
from facemirror.report import ReportData, ReportFrame, write_report
from facemirror.report.figures import LEFT_COLOUR, RIGHT_COLOUR, STATUS_STYLE, most_active
from facemirror.summary import compare_sides

#: the tests that draw a report; the one about a missing matplotlib runs either way
drawn = pytest.mark.skipif(not available("matplotlib"), reason="the report needs the 'report' extra (matplotlib)")

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[1]
FPS, SECONDS = 30.0, 6.0
REST_S = 1.5
NO_FACE = slice(100, 118)  # 0.6 s without a face: held for 0.5 s (15 frames), then none
TURNED = slice(150, 157)
FACE_BOX = (165, 110, 415, 430)  # x1, y1, x2, y2 of the face in single_face.jpg
#: AU / blendshape column -> (range on the left-mirrored face, on the right-mirrored face), all distinct
AU_AMPLITUDES = {
    "bs_mouthSmileLeft": (0.90, 0.20),
    "bs_eyeBlinkLeft": (0.80, 0.75),
    "bs_cheekSquintLeft": (0.55, 0.10),
    "bs_jawOpen": (0.35, 0.42),
    "bs_mouthSmileRight": (0.30, 0.12),
    "bs_browInnerUp": (0.05, 0.06),
}
FLAT = ("bs_noseSneerLeft", "bs_tongueOut", "bs_mouthPucker", "bs_cheekPuff")
TOP = 5  # AU traces plotted in the report under test
NOTES = (
    "18 frames without a face (3.33-3.93 s): no measures there.",
    "The input is damaged: 2 frames could not be decoded (at 4.80 s and 4.83 s).",
)
DIAGNOSIS_WORDS = ("palsy", "paralys", "paresis", "weak", "abnormal", "lesion", "healthy", "affected")


def smile(t: np.ndarray) -> np.ndarray:
    """0 at rest, ramps to 1 over 2.5-3.0 s, held to 4.5 s, back to 0 by 5.0 s."""
    up = np.clip((t - 2.5) / 0.5, 0, 1)
    down = np.clip((5.0 - t) / 0.5, 0, 1)
    return np.minimum(up, down)


def face_crops(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(as recorded, left-mirrored, right-mirrored, heat map) of the face box; the subject's left is the image right."""
    x1, y1, x2, y2 = FACE_BOX
    face = photo[y1:y2, x1:x2].copy()
    half = face.shape[1] // 2
    left = face.copy()
    left[:, :half] = face[:, -half:][:, ::-1]  # the subject's left half (image right) and its reflection
    right = face.copy()
    right[:, -half:] = face[:, :half][:, ::-1]
    difference = cv2.absdiff(face, face[:, ::-1]).max(axis=2)
    colours = cv2.applyColorMap(cv2.convertScaleAbs(difference, alpha=3.0), cv2.COLORMAP_INFERNO)
    return face, left, right, cv2.addWeighted(face, 0.45, colours, 0.55, 0)


def make_report_data() -> ReportData:
    rng = np.random.default_rng(12)
    n = round(SECONDS * FPS)
    t = np.arange(n) / FPS
    s = smile(t)
    blink = lid_profile(t, TrueBlink(1.0, 1.0))
    noise = lambda scale: rng.normal(0, scale, n)  # noqa: E731
    mrd1 = (3.8 * (1 - blink) - 0.6 * s + noise(0.05), 3.9 * (1 - 0.9 * blink) - 0.2 * s + noise(0.05))
    mrd2 = (5.0 - 0.8 * s + noise(0.05), 5.1 - 0.3 * s + noise(0.05))
    pairs = {
        "brow_height_mm": (24.0 + 0.6 * s + noise(0.08), 24.6 + 0.2 * s + noise(0.08)),
        "mrd1_mm": mrd1,
        "mrd2_mm": mrd2,
        "palpebral_fissure_mm": (mrd1[0] + mrd2[0], mrd1[1] + mrd2[1]),
        "commissure_height_mm": (70.0 - 8.0 * s + noise(0.1), 70.4 - 2.0 * s + noise(0.1)),
        "commissure_excursion_mm": (24.0 + 9.0 * s + noise(0.1), 23.5 + 2.5 * s + noise(0.1)),
        "smile_angle_deg": (20.0 + 14.0 * s + noise(0.3), 21.0 + 4.0 * s + noise(0.3)),
        "lip_opening_area_mm2": (5.0 + 250.0 * s + noise(2.0), 5.0 + 200.0 * s + noise(2.0)),
    }
    status = np.array(["tracked"] * n, dtype=object)
    status[NO_FACE] = "held"
    status[NO_FACE.stop - 3 : NO_FACE.stop] = "none"
    status[TURNED] = "turned"
    measures = {}
    for name, (left, right) in pairs.items():
        left, right = np.array(left), np.array(right)
        left[NO_FACE] = right[NO_FACE] = np.nan
        measures[name] = (left, right)
    shapes = {"bs_mouthSmileLeft": s, "bs_cheekSquintLeft": s, "bs_mouthSmileRight": s, "bs_jawOpen": s}
    au_traces = {}
    for name, amplitudes in AU_AMPLITUDES.items():
        shape = shapes.get(name, blink if "Blink" in name else np.clip(np.sin(np.pi * t / SECONDS), 0, 1))
        au_traces[name] = tuple(a * shape + np.abs(noise(0.002)) for a in amplitudes)
    for name in FLAT:
        au_traces[name] = (np.full(n, 0.01), np.full(n, 0.01))
    au_traces["bs_never_seen"] = (np.full(n, np.nan), np.full(n, np.nan))
    for left, right in au_traces.values():
        left[NO_FACE] = right[NO_FACE] = np.nan
    rest = (t < REST_S) & np.isfinite(measures["mrd1_mm"][0])
    frames = np.arange(1, n + 1)
    units = dict(MEASURES)
    rows = [compare_sides("measure", k, units[k], v, frames, t, rest) for k, v in measures.items()]
    rows += [compare_sides("au", k, "score", v, frames, t, rest) for k, v in au_traces.items()]
    ear = tuple(0.3 * (1 - np.asarray(blink) * depth * 0.83) + noise(0.003) for depth in (1.0, 0.9))
    events = [find_blinks(e, FPS, timestamps=t) for e in ear]
    eyes = {
        "blinks": summarize_blinks(ear[0], ear[1], events[0], events[1], t).to_dict(),
        "ocular_synkinesis": {
            "left": SynkinesisIndex("left", 62, 88, 0.301, 0.18, 0.41, 0.93).to_dict(),
            "right": SynkinesisIndex("right", 31, 119, 0.305, 0.04, 0.12, 0.38).to_dict(),
        },
    }
    photo = cv2.imread(str(DATA / "single_face.jpg"))
    excursion = np.abs(measures["commissure_excursion_mm"][0] - measures["commissure_excursion_mm"][1])
    brow = np.abs(measures["brow_height_mm"][0] - measures["brow_height_mm"][1])
    key_frames = [
        ReportFrame(int(i) + 1, float(t[i]), why, *face_crops(picture))
        for i, why, picture in (
            (np.nanargmax(excursion), "largest commissure_excursion_mm difference between the sides", photo),
            (np.nanargmax(brow), "largest brow_height_mm difference between the sides", photo[:, ::-1]),
        )
    ]
    video = {"width": 1280, "height": 720, "rotation": 0, "fps": "30/1", "avg_fps": "30/1", "duration": SECONDS,
             "codec": "h264", "frame_count": n}  # fmt: skip
    decoding = {"frames_decoded": n - 2, "frames_lost": 2, "lost_times_s": [4.8, 4.833], "truncated_at_s": None}
    engine = {"backend": "litert", "provider": "XNNPACK", "precision": "fp32", "device": "cpu", "model": "facemesh"}
    models = [model_record("face_landmarks", ROOT / "weights" / "face_landmarker.task", engine)]
    provenance = build_provenance(
        DATA / "single_face.jpg", video, models, {"selfie": False, "measures": {"rest_seconds": REST_S}},
        decoding=decoding,
    )  # fmt: skip
    return ReportData(
        title="clinic_smile.mp4",
        provenance=provenance,
        timestamps=t,
        midline_status=list(status),
        measures=measures,
        au_traces=au_traces,
        summary_rows=rows,
        eyes=eyes,
        key_frames=key_frames,
        notes=NOTES,
        mm_per_px=0.0842,
        scale_source="iris diameter 11.77 mm over its median 139.8 px",
        rest_rule=f"the first {REST_S:g} s of frames with a face",
        heatmap_legend="brighter where the face differs more from its mirror image.",
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReportData]:
    data = make_report_data()
    path = tmp_path_factory.mktemp("report") / "clinic_smile_report.html"
    assert write_report(path, data, top_aus=TOP) == path
    return path, data


class _Tags(HTMLParser):
    """Every start tag's name and attributes, in document order, and every h2's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_h2 = tag == "h2" or self._in_h2

    def handle_endtag(self, tag: str) -> None:
        self._in_h2 = self._in_h2 and tag != "h2"

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings.append(data)


def parse(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


def embedded_pictures(text: str) -> list[np.ndarray]:
    """Every <img> of the page decoded (BGR), in document order; fails on any picture that is not a PNG data URI."""
    pictures = []
    for tag, attrs in parse(text).tags:
        if tag == "img":
            prefix = "data:image/png;base64,"
            assert attrs["src"].startswith(prefix), attrs["src"][:60]
            picture = cv2.imdecode(np.frombuffer(base64.b64decode(attrs["src"][len(prefix) :]), np.uint8), 1)
            assert picture is not None and picture.size > 0
            pictures.append(picture)
    return pictures


@drawn
def test_report_is_one_self_contained_file_with_every_section(report: tuple[Path, ReportData]) -> None:
    path, data = report
    text = path.read_text(encoding="utf-8")
    tags = parse(text)
    names = [tag for tag, _ in tags.tags]
    # nothing fetched when opened: no address, no script, stylesheet or frame; the browser is told to load nothing
    for reference in ("http://", "https://", 'src="//', "url(", "@import"):
        assert reference not in text
    for tag in ("script", "link", "iframe", "object", "embed"):
        assert tag not in names
    policies = [a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert policies == ["default-src 'none'; img-src data:; style-src 'unsafe-inline'"]
    assert not [p for p in path.parent.iterdir() if p != path]  # no temporary file left, no picture beside it
    # every picture is inline: three plots and four faces per key frame
    pictures = embedded_pictures(text)
    assert len(pictures) == 3 + 4 * len(data.key_frames)
    ids = [a.get("id") for t, a in tags.tags if t == "img" and a.get("id")]
    assert ids == ["fig-midline", "fig-measures", "fig-aus"]
    heading = " ".join(tags.headings)
    for section in ("Input and provenance", "Midline quality", "Measures", "action units", "Summary", "Eyes",
                    "Key frames", "Read first"):  # fmt: skip
        assert section in heading
    for note in NOTES:
        assert html.escape(note) in text
    # provenance: the file's real checksum and size, the engine that ran the model, the damaged input
    photo = DATA / "single_face.jpg"
    assert hashlib.sha256(photo.read_bytes()).hexdigest() in text
    assert f"{photo.stat().st_size:,} bytes" in text
    assert "litert / XNNPACK" in text and "face_landmarker.task" in text
    assert "2 frames lost" in text
    # the summary has a row per measure, and the AU traces are the TOP with the largest range, largest first
    for name, _ in MEASURES:
        assert f">{name}<" in text
    ranked = sorted(AU_AMPLITUDES, key=lambda k: -max(AU_AMPLITUDES[k]))[:TOP]
    listed = re.search(r"largest first: (.*?)\. Each score", text)
    assert listed is not None
    assert [item.split(" (")[0] for item in listed[1].split(", ")] == ranked
    assert f"The {TOP} of {len(data.au_traces)} AU" in text
    # the one-sided smile: the subject's right moved less, and the table says by how much
    row = next(r for r in data.summary_rows if r["name"] == "commissure_excursion_mm")
    assert row["moved_less"] == "right"
    assert f"{row['difference']:.2f} mm" in text
    # tables: measures, most active AUs, all AUs, blinks, synkinesis, and the input/software/model tables
    assert names.count("table") == 8
    assert "subject&#x27;s left" in text and "subject&#x27;s right" in text
    words = re.sub(r'src="data:[^"]*"', "", text).lower()
    assert not [w for w in DIAGNOSIS_WORDS if w in words]


@drawn
def test_a_photo_with_nothing_but_its_measures_gets_a_report(tmp_path: Path) -> None:
    """One frame, no AU scores, eyes, key frames or provenance: the sections that have data, and no error."""
    measures = {name: (np.array([10.0]), np.array([9.0])) for name, _ in MEASURES}
    data = ReportData("rest.jpg", {}, np.array([0.0]), ["tracked"], measures)
    text = write_report(tmp_path / "rest_report.html", data).read_text(encoding="utf-8")
    headings = " ".join(parse(text).headings)
    assert "Measures" in headings and "Midline quality" in headings
    assert "Eyes" not in headings and "Key frames" not in headings and "Read first" not in headings
    assert "No AU or blendshape score changed" in text
    assert len(embedded_pictures(text)) == 2  # the midline strip and the measures


@drawn
def test_report_joins_the_jobs_output_group(tmp_path: Path) -> None:
    data = make_report_data()
    path = tmp_path / "clip_report.html"
    group = OutputGroup()
    assert write_report(path, data, group) == path
    assert not path.exists()  # finished under its temporary name, renamed only with the job's other outputs
    (partial,) = tmp_path.iterdir()
    assert partial.name.startswith(".clip_report.") and partial.name.endswith(".partial.html")
    group.commit()
    assert list(tmp_path.iterdir()) == [path]
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@drawn
def test_a_failed_report_leaves_no_file(tmp_path: Path) -> None:
    data = make_report_data()
    broken = dataclasses.replace(data.key_frames[0], original=np.zeros((8, 8, 3)))  # float, not a BGR picture
    with pytest.raises(ValueError, match="BGR uint8"):
        write_report(tmp_path / "clip_report.html", dataclasses.replace(data, key_frames=[broken]))
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_the_error_names_the_report_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_report_data()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'facemirror\[report\]'"):
        write_report(tmp_path / "clip_report.html", data)
    assert list(tmp_path.iterdir()) == []


def test_a_single_varying_au_gets_its_plot(tmp_path: Path) -> None:
    # e.g. a user's own AU model with one label: one panel, not a second column with nothing in it
    data = make_report_data()
    one = dataclasses.replace(data, au_traces={"AU12": data.au_traces["bs_mouthSmileLeft"]})
    page = write_report(tmp_path / "clip_report.html", one).read_text()
    assert 'id="fig-aus"' in page and "No AU or blendshape score changed" not in page


def test_most_active_ranks_by_the_larger_sides_range() -> None:
    flat = np.full(5, 0.2)
    traces = {
        "small": (np.array([0.0, 0.1, np.nan, 0.0, 0.0]), flat),
        "big_on_right": (flat, np.array([0.0, 0.0, 0.7, 0.1, 0.0])),
        "flat": (flat, flat),
        "never": (np.full(5, np.nan), np.full(5, np.nan)),
        "middle": (np.array([0.5, 0.2, 0.2, 0.2, 0.2]), flat),
    }
    assert most_active(traces, 2) == [("big_on_right", pytest.approx(0.7)), ("middle", pytest.approx(0.3))]
    assert [name for name, _ in most_active(traces, 10)] == ["big_on_right", "middle", "small"]


# --- a real browser -------------------------------------------------------------------------------------------

#: appended to a copy of the report (whose policy forbids scripts): after loading, writes where every picture and
#: table ended up, and whether each picture decoded, into the page, which --dump-dom then prints
PROBE = """<script>
window.addEventListener("load", () => {
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return [r.left + scrollX, r.top + scrollY, r.width, r.height];
  };
  const found = {
    height: document.documentElement.scrollHeight,
    images: [...document.images].map((i) => ({ id: i.id, complete: i.complete, width: i.naturalWidth,
      height: i.naturalHeight, box: box(i), frame: i.closest(".keyframe") ? i.closest(".keyframe").id : null })),
    tables: [...document.querySelectorAll("table")].map((t) => ({ caption: t.caption ? t.caption.textContent : "",
      rows: t.tBodies[0].rows.length, box: box(t), shown: t.checkVisibility() })),
  };
  const out = document.createElement("pre"); out.id = "probe"; out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
});
</script>"""
WINDOW_WIDTH = 1280


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium binary found (Debian: apt-get install chromium); .ci/run installs it")


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               "--force-device-scale-factor=1", f"--user-data-dir={profile}", *args]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def colour_share(region: np.ndarray, hex_colour: str, tolerance: int = 40) -> float:
    """Share of ``region``'s (BGR) pixels within ``tolerance`` of ``hex_colour`` in every channel."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return float((np.abs(region.astype(int) - rgb[::-1]).max(axis=2) <= tolerance).mean())


def similarity(region: np.ndarray, picture: np.ndarray) -> float:
    """Correlation of two pictures' grey levels, ``picture`` scaled to the rendered region's size; both blurred a
    little, so that the browser's own resampling (a pixel's shift of a one-pixel line) does not count."""
    scaled = cv2.resize(picture, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_AREA)
    a, b = (cv2.GaussianBlur(cv2.cvtColor(p, cv2.COLOR_BGR2GRAY), (0, 0), 2.0).astype(np.float64).ravel()
            for p in (region, scaled))  # fmt: skip
    return float(np.corrcoef(a, b)[0, 1])


@drawn
@pytest.mark.slow
def test_report_renders_in_chromium(report: tuple[Path, ReportData], tmp_path: Path) -> None:
    binary = chromium()
    path, data = report
    text = path.read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text).replace(
        "</body>", PROBE + "</body>"), encoding="utf-8")  # fmt: skip
    dom = run_chromium(binary, tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom",
                       f"--window-size={WINDOW_WIDTH},1000", probe.as_uri()).stdout  # fmt: skip
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found is not None, "the page did not finish loading"
    layout = json.loads(html.unescape(found[1]))
    pictures = embedded_pictures(text)
    images = layout["images"]
    assert len(images) == len(pictures) == 3 + 4 * len(data.key_frames)
    for image, picture in zip(images, pictures):
        assert image["complete"] and (image["height"], image["width"]) == picture.shape[:2]

    # the report itself (scripts forbidden), the whole page in one screenshot
    shot = tmp_path / "report.png"
    run_chromium(binary, tmp_path / "profile", f"--screenshot={shot}",
                 f"--window-size={WINDOW_WIDTH},{layout['height']}", path.as_uri())  # fmt: skip
    page = cv2.imread(str(shot))
    assert page is not None and page.shape[:2] == (layout["height"], WINDOW_WIDTH)
    assert page.std() > 20  # not a blank page

    def region(box: list[float], inset: int = 1) -> np.ndarray:
        """The page inside ``box`` (x, y, width, height), less ``inset`` pixels all round (the 1 px borders)."""
        x, y, w, h = (round(v) for v in box)
        assert w > 100 and h > 50 and x >= 0 and x + w <= WINDOW_WIDTH and y + h <= page.shape[0], box
        return page[y + inset : y + h - inset, x + inset : x + w - inset]

    # every picture is drawn where the page put it, as the file holds it
    for image, picture in zip(images, pictures):
        assert similarity(region(image["box"]), picture) > 0.95, image
    plots = {image["id"]: region(image["box"]) for image in images if image["id"]}
    assert list(plots) == ["fig-midline", "fig-measures", "fig-aus"]
    assert plots["fig-midline"].shape[1] > 1000  # the plots use the page's width
    for status, (colour, _) in STATUS_STYLE.items():
        assert colour_share(plots["fig-midline"], colour, 12) > 0.003, status  # every status shows in the strip
    for figure in ("fig-measures", "fig-aus"):
        for colour in (LEFT_COLOUR, RIGHT_COLOUR):  # both sides' traces are drawn
            assert colour_share(plots[figure], colour) > 0.002, (figure, colour)

    # key frames: the four faces of a frame side by side, same size, top-aligned, left to right
    for k in range(1, len(data.key_frames) + 1):
        boxes = [image["box"] for image in images if image["frame"] == f"keyframe-{k}"]
        assert len(boxes) == 4
        assert max(b[1] for b in boxes) - min(b[1] for b in boxes) < 1
        assert max(b[3] for b in boxes) - min(b[3] for b in boxes) < 1
        assert all(b[2] > 200 for b in boxes) and max(b[2] for b in boxes) - min(b[2] for b in boxes) < 1
        assert all(a[0] + a[2] < b[0] for a, b in itertools.pairwise(boxes))

    # tables: every shown table is drawn with text in it; the full AU table waits behind its "All ... scores"
    shown = [t for t in layout["tables"] if t["shown"]]
    assert [t["caption"] for t in shown if t["caption"]] == [
        "Clinical measures", "Most active AU scores", "Blinks", "Ocular synkinesis"]  # fmt: skip
    assert len(shown) == 7 and len(layout["tables"]) == 8
    assert next(t for t in shown if t["caption"] == "Clinical measures")["rows"] == len(MEASURES)
    for table in shown:
        ink = cv2.cvtColor(region(table["box"], 2), cv2.COLOR_BGR2GRAY) < 110
        assert ink.mean() > 0.01, table["caption"]
