"""Progress bars as a terminal shows them: a video's bar ends at the frames really decoded, a batch shows two bars."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import av
import cv2
import pytest

from facemirror import Outputs, Pipeline
from facemirror.cli import main

FACE = Path(__file__).resolve().parent / "data" / "single_face.jpg"
_ESCAPE = re.compile(r"\x1b\[(\d*)([A-Za-z])")


def face_clip_with_a_gap(path: Path, frames: int = 12, gap: int = 6) -> Path:
    """A Matroska clip of a face whose frame count the container can only estimate wrong.

    Matroska stores no frame count, so it is estimated as duration x frame rate; ``gap`` missing
    frame times in the middle make the estimate ``frames + gap`` while ``frames`` decode.
    """
    image = cv2.resize(cv2.imread(str(FACE)), (192, 192), interpolation=cv2.INTER_AREA)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(30), options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 192, 192, "yuv420p"
        stream.time_base = Fraction(1, 30)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = i + (gap if i >= frames // 2 else 0), Fraction(1, 30)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def screen(text: str) -> tuple[list[str], int]:
    """(the lines a terminal shows after ``text``, the most lines ever in use) with CR, LF and cursor-up applied."""
    rows, row, col, used = [""], 0, 0, 1
    pos = 0
    while pos < len(text):
        escape = _ESCAPE.match(text, pos)
        if escape is not None:
            assert escape.group(2) == "A", f"unexpected terminal escape {escape.group()!r}"
            row = max(0, row - int(escape.group(1) or 1))
            pos = escape.end()
            continue
        char = text[pos]
        pos += 1
        if char == "\r":
            col = 0
        elif char == "\n":  # a terminal's output processing turns LF into CR LF
            row, col = row + 1, 0
            rows += [""] * (row + 1 - len(rows))
        else:
            line = rows[row].ljust(col)
            rows[row] = line[:col] + char + line[col + 1 :]
            col += 1
            used = max(used, sum(1 for r in rows if r.strip()))
    lines = [r.rstrip() for r in rows]
    while lines and not lines[-1]:
        lines.pop()  # the line the cursor waits on
    return lines, used


def test_video_bar_ends_at_the_frames_decoded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = face_clip_with_a_gap(tmp_path / "gap.mkv")
    pipeline = Pipeline(outputs=Outputs(quality="fast", debug_video=False), progress=True)
    assert pipeline.mirror(clip, tmp_path / "out").frames == 12
    lines, _ = screen(capsys.readouterr().err)
    assert len(lines) == 1, lines
    assert re.match(r"gap\.mkv: 100%\|.*\| 12/12 ", lines[0]), lines[0]


def test_batch_shows_one_bar_for_the_batch_and_one_for_the_video(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    videos = tmp_path / "in"
    videos.mkdir()
    for name in ("a.mkv", "b.mkv"):
        face_clip_with_a_gap(videos / name)
    args = ["batch", str(videos), str(tmp_path / "out"), "--job", "mirror", "--quality", "fast", "--no-debug"]
    with pytest.raises(SystemExit) as done:
        main([*args, "--workers", "1"])
    assert done.value.code == 0
    captured = capsys.readouterr()
    lines, used = screen(captured.err)
    assert used == 2  # the batch's bar and the current video's, never more
    assert len(lines) == 1, lines  # at the end: the batch's bar alone, no blank lines
    assert re.match(r"batch: 100%\|.*\| 2/2 ", lines[0]), lines[0]
    assert "2 done" in captured.out
