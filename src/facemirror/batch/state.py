"""Resume records: a JSON done-marker per finished video, so a rerun skips what is already done.

``OUT_DIR/.facemirror/done/<relative input path>.json`` is written (atomically)
only after the job returned, i.e. after every output was complete and renamed
into place. It records the input's fingerprint (size and mtime, or sha256
with ``checksum=True``), the job, the pipeline configuration that shapes the
outputs, each output's size, and what a damaged input lost (so a skipped
video's summary row still says so). A video is skipped only while all of these still match;
a crash before the marker is written simply means the video runs again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from facemirror.atomic import partial_target, stale_partials, write_file
from facemirror.batch.discover import VideoTask
from facemirror.batch.summary import SKIPPED, SUMMARY_NAME, VideoOutcome
from facemirror.locks import OutputLock
from facemirror.settings import PipelineConfig
from facemirror.video.decode import DecodeReport

MARKER_DIR = Path(".facemirror") / "done"
#: held by a running batch, so that a second batch on the same output folder fails at once
BATCH_LOCK = Path(".facemirror") / "batch.lock"

#: runtime settings that change speed, not the outputs: a change does not redo finished videos
NEUTRAL_RUNTIME = frozenset({"threads", "au_batch_size"})


def marker_path(out_dir: Path, task: VideoTask) -> Path:
    """Where the done-marker of ``task`` lives."""
    return out_dir / MARKER_DIR / f"{task.rel}.json"


def fingerprint(path: Path, checksum: bool = False) -> dict[str, Any]:
    """What identifies the input's content: size and mtime, or size and sha256."""
    st = path.stat()
    if not checksum:
        return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"size": st.st_size, "sha256": digest.hexdigest()}


def recorded_config(config: PipelineConfig) -> dict[str, Any]:
    """The configuration that shapes the outputs, as plain JSON values (as read back from a marker)."""
    data = config.to_dict()
    data["runtime"] = {k: v for k, v in data["runtime"].items() if k not in NEUTRAL_RUNTIME}
    result: dict[str, Any] = json.loads(json.dumps(data))
    return result


def write_done(
    out_dir: Path,
    task: VideoTask,
    job: str,
    config: PipelineConfig,
    stamp: Mapping[str, Any],
    outcome: VideoOutcome,
) -> Path:
    """Record ``task`` as finished (call only once all its outputs are in place); returns the marker's path."""
    outputs = {}
    for name, file in outcome.outputs.items():
        path = Path(file)
        rel = path.relative_to(out_dir).as_posix() if path.is_relative_to(out_dir) else str(path)
        outputs[name] = {"path": rel, "size": path.stat().st_size}
    record = {
        "input": task.rel,
        "fingerprint": dict(stamp),
        "job": job,
        "config": recorded_config(config),
        "outputs": outputs,
        "frames": outcome.frames,
        "decoding": outcome.decode.as_dict() if outcome.decode is not None else None,
        "frames_without_face": outcome.frames_without_face,
        "seconds": outcome.seconds,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    # an OS error (a full disk) is an OutputError naming the marker, and no temporary file stays
    return write_file(marker_path(out_dir, task), json.dumps(record, indent=1) + "\n")


def find_done(
    out_dir: Path,
    task: VideoTask,
    job: str,
    config: PipelineConfig,
    stamp: Mapping[str, Any],
    profile: bool = False,
) -> VideoOutcome | None:
    """A ``skipped`` outcome if ``task`` was done before with this input, job and configuration, outputs intact
    (and, when this batch profiles, with its profile)."""
    try:
        record = json.loads(marker_path(out_dir, task).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("fingerprint") != dict(stamp) or record.get("job") != job:
        return None
    if record.get("config") != recorded_config(config):
        return None
    if profile and "profile" not in record.get("outputs", {}):
        return None
    outputs = {}
    for name, entry in record.get("outputs", {}).items():
        path = out_dir / entry["path"]  # an absolute recorded path stays absolute
        if not path.is_file() or path.stat().st_size != entry["size"]:
            return None
        outputs[name] = str(path)
    decoding = record.get("decoding")
    decode = DecodeReport.from_dict(decoding) if isinstance(decoding, dict) else None
    faceless = record.get("frames_without_face")
    return VideoOutcome(
        task.rel, SKIPPED, frames=record.get("frames"), outputs=outputs, decode=decode, frames_without_face=faceless
    )


def clear_done(out_dir: Path, task: VideoTask) -> None:
    """Forget that ``task`` was finished (before it is redone, so a crash cannot leave a stale marker)."""
    marker_path(out_dir, task).unlink(missing_ok=True)


def batch_lock(out_dir: Path) -> OutputLock:
    """The lock a batch holds on ``out_dir`` while it runs (not yet acquired): a second batch there fails at once."""
    path = out_dir / BATCH_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    busy = "another facemirror batch is writing into this folder {holder}; wait for it or choose another output folder"
    return OutputLock(path, out_dir, busy, [out_dir])


def clear_stale_partials(out_dir: Path) -> list[Path]:
    """Remove the temporary summary and done-marker files a killed batch left in ``out_dir``; returns them.

    Call only while holding :func:`batch_lock`: then no other batch can be writing them.
    """
    stale = stale_partials([out_dir / SUMMARY_NAME])
    markers = out_dir / MARKER_DIR
    if markers.is_dir():
        stale += sorted(p for p in markers.rglob(".*") if p.is_file() and partial_target(p) is not None)
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
