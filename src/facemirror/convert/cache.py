"""ONNX files exported once from PyTorch weights and kept in ``<cache>/converted/`` with a manifest.

The cache key is (network name, sha256 of the weight file, precision,
facemirror version): new weights or a new release export again. Every entry
records the file's own sha256, checked on each reuse, so a truncated or
edited file is exported again instead of being loaded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from facemirror import __version__
from facemirror.atomic import atomic_output
from facemirror.convert.onnx_export import OPSET, check_precision, export_onnx
from facemirror.errors import WeightsMissingError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_FORMAT = 1


@dataclass(frozen=True)
class ConvertedEntry:
    """One converted file in the manifest."""

    name: str
    file: str
    sha256: str
    weights_sha256: str
    precision: str
    opset: int
    facemirror_version: str
    created: str

    def matches(self, name: str, weights_sha256: str, precision: str, version: str) -> bool:
        return (self.name, self.weights_sha256, self.precision, self.facemirror_version) == (
            name,
            weights_sha256,
            precision,
            version,
        )


def converted_dir(cache_dir: str | Path | None = None) -> Path:
    """``<cache>/converted``; the cache root is ``facemirror.weights.cache_dir()`` unless given."""
    if cache_dir is None:
        from facemirror.weights import cache_dir as weights_cache_dir

        cache_dir = weights_cache_dir()
    return Path(cache_dir) / "converted"


def read_manifest(folder: Path) -> list[ConvertedEntry]:
    """Entries of ``folder/manifest.json``; a missing or unreadable manifest is an empty cache."""
    path = folder / MANIFEST
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [ConvertedEntry(**entry) for entry in data["entries"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s is unreadable (%s); converted files will be exported again", path, exc)
        return []


def write_manifest(folder: Path, entries: Sequence[ConvertedEntry]) -> None:
    """Write the manifest through a temporary name, so readers never see half a file."""
    with atomic_output(folder / MANIFEST) as tmp:
        tmp.write_text(json.dumps({"format": _FORMAT, "entries": [asdict(e) for e in entries]}, indent=2) + "\n")


def cached_onnx(
    name: str,
    weights_path: str | Path,
    build_module: Callable[[], Any],
    example_inputs: Sequence[np.ndarray],
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Mapping[str, Any],
    precision: str = "fp32",
    cache_dir: str | Path | None = None,
) -> Path:
    """The ONNX export of ``build_module()`` for these weights, made on first use and reused after.

    ``build_module`` is only called when an export is needed (it loads the
    weights into the torch module). A cached file whose sha256 no longer
    matches the manifest is exported again.
    """
    from facemirror.weights import sha256_file

    check_precision(precision)
    weights_path = Path(weights_path)
    if not weights_path.is_file():
        raise WeightsMissingError(f"{weights_path}: weight file not found (needed to export {name} to ONNX)")
    folder = converted_dir(cache_dir)
    weights_sha = sha256_file(weights_path)
    version = __version__
    entries = read_manifest(folder)
    found = next((e for e in entries if e.matches(name, weights_sha, precision, version)), None)
    if found is not None:
        path = folder / found.file
        if path.is_file() and sha256_file(path) == found.sha256:
            return path
        log.warning("%s is missing or does not match its recorded sha256; exporting %s again", path, name)
    path = folder / f"{name}-{weights_sha[:16]}-{precision}-{version}.onnx"
    log.info("exporting %s (%s, %s) to %s", name, weights_path.name, precision, path)
    export_onnx(
        build_module(), example_inputs, path, input_names, output_names, dynamic_axes, precision=precision, opset=OPSET
    )
    entry = ConvertedEntry(
        name=name,
        file=path.name,
        sha256=sha256_file(path),
        weights_sha256=weights_sha,
        precision=precision,
        opset=OPSET,
        facemirror_version=version,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    # re-read: another process may have added entries while this one exported
    others = [e for e in read_manifest(folder) if not e.matches(name, weights_sha, precision, version)]
    write_manifest(folder, [*others, entry])
    return path
