"""Small real inputs for the batch tests: a short cut of ../shared/media/single_face.mp4 and broken 'videos'."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import av

from facemirror.settings import Outputs, PipelineConfig
from video_fixtures import shared_media

#: frames in the clip made by :func:`face_clip` (a real face, short so a batch test takes seconds)
CLIP_FRAMES = 12

#: the pipeline every batch test runs: fast encoding, no debug video
FAST = PipelineConfig(outputs=Outputs(quality="fast", debug_video=False))


def face_clip(path: Path) -> Path:
    """The first CLIP_FRAMES frames of single_face.mp4 re-encoded to ``path`` (skips when ../shared is absent)."""
    with av.open(str(shared_media("single_face.mp4"))) as src, av.open(str(path), "w") as out:
        info = src.streams.video[0]
        stream = out.add_stream("libx264", rate=info.average_rate, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = info.width, info.height, "yuv420p"
        for i, frame in enumerate(src.decode(video=0)):
            if i == CLIP_FRAMES:
                break
            copy = av.VideoFrame.from_ndarray(frame.to_ndarray(format="bgr24"), format="bgr24")
            copy.pts = i
            out.mux(stream.encode(copy))
        out.mux(stream.encode(None))
    return path


def make_input_tree(folder: Path, clip: Path, good: Sequence[str], bad: Sequence[str] = ()) -> Path:
    """Copy ``clip`` to each name of ``good``; make each name of ``bad`` a corrupt video (text, or a truncated copy)."""
    for name in good:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(clip, folder / name)
    for i, name in enumerate(bad):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        if i % 2 == 0:
            (folder / name).write_text("this is not a video\n")
        else:
            data = clip.read_bytes()
            (folder / name).write_bytes(data[: len(data) // 2])
    return folder
