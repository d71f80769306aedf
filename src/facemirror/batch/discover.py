"""Find the videos (and photos) of a batch and plan where each one's outputs go.

IN_DIR/a/b.mp4 is written to OUT_DIR/a/b/ (one folder per video, the
pipeline's usual ``<stem>_...`` file names inside), so a folder tree of
recordings becomes the same tree of results. Hidden files and folders
(``.partial`` files, macOS ``._x.mp4`` resource forks) and anything inside
OUT_DIR are never inputs.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from facemirror.errors import BatchError
from facemirror.video.photo import PHOTO_EXTENSIONS

#: file name suffixes of videos (compared case-insensitively)
VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".m4v")
#: what a batch takes when no suffixes are given: videos and photos (each file is read by its content)
INPUT_EXTENSIONS = VIDEO_EXTENSIONS + PHOTO_EXTENSIONS


@dataclass(frozen=True)
class VideoTask:
    """One video of a batch: where it is, its name relative to the input root, and its output folder."""

    source: Path
    #: POSIX path relative to the input root ("a/b.mp4"): the video's name in the summary and resume records
    rel: str
    out_folder: Path


def normalize_extensions(extensions: Iterable[str]) -> tuple[str, ...]:
    """``["MP4", ".mov"]`` -> ``(".mp4", ".mov")``."""
    exts = tuple(dict.fromkeys("." + e.lower().lstrip(".") for e in extensions if e.strip(". ")))
    if not exts:
        raise ValueError("no video extensions given")
    return exts


def check_input_folder(folder: str | Path) -> Path:
    """``folder`` as a Path, or BatchError if it is not an existing folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BatchError(f"{folder}: the input folder does not exist or is not a folder")
    return folder


def discover(
    folder: str | Path,
    extensions: Iterable[str] = INPUT_EXTENSIONS,
    recursive: bool = False,
    exclude: str | Path | None = None,
) -> list[Path]:
    """The videos in ``folder`` (sorted), optionally in its subfolders too, leaving out ``exclude`` and hidden names."""
    folder = check_input_folder(folder)
    exts = normalize_extensions(extensions)
    skip = Path(exclude).resolve() if exclude is not None else None
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d).resolve() != skip)
        found += [here / f for f in files if not f.startswith(".") and Path(f).suffix.lower() in exts]
        if not recursive:
            break
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def collect(
    inputs: str | Path | Sequence[str | Path],
    extensions: Iterable[str] = INPUT_EXTENSIONS,
    recursive: bool = False,
    exclude: str | Path | None = None,
) -> tuple[Path, list[Path]]:
    """The input root and the videos of ``inputs`` (a folder, or a list of files and folders), without duplicates."""
    items = [Path(inputs)] if isinstance(inputs, (str, os.PathLike)) else [Path(i) for i in inputs]
    if not items:
        raise BatchError("no inputs given")
    videos: list[Path] = []
    for item in items:
        if item.is_dir():
            videos += discover(item, extensions, recursive, exclude)
        elif item.is_file():
            videos.append(item)
        else:
            raise BatchError(f"{item}: no such file or folder")
    videos = list(dict.fromkeys(_absolute(v) for v in videos))
    if len(items) == 1 and items[0].is_dir():
        root = items[0].resolve()
    else:
        root = Path(os.path.commonpath([i.resolve() if i.is_dir() else _absolute(i).parent for i in items]))
    return root, videos


def _absolute(video: Path) -> Path:
    """``video`` with its folders resolved but not its own name: a symlinked video is an input under its link's
    name, wherever (and whether) its target is, so it keeps its place in the input tree."""
    return video.parent.resolve() / video.name


def plan(root: Path, videos: Sequence[Path], out_dir: Path) -> list[VideoTask]:
    """Map each video to its output folder, mirroring the tree under ``root``.

    Two videos of one folder with the same stem (``b.mp4``, ``b.mov``) would
    share OUT_DIR/a/b/, so those get the suffix in the folder name: b_mp4/, b_mov/.
    """
    rels = [v.relative_to(root) for v in videos]
    stems = Counter((r.parent, r.stem.lower()) for r in rels)
    tasks = []
    for video, rel in zip(videos, rels):
        name = rel.stem if stems[(rel.parent, rel.stem.lower())] == 1 else f"{rel.stem}_{rel.suffix.lstrip('.')}"
        tasks.append(VideoTask(video, rel.as_posix(), out_dir / rel.parent / name))
    return tasks
