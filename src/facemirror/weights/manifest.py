"""The weights manifest: which files each network needs, their sha256, size, source and license.

The manifest is data (``weights/manifest.json`` in the repository, installed
as ``facemirror/_bundled/manifest.json``), so adding a network's weights is
one JSON entry, not code.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facemirror.errors import WeightsError

MANIFEST_NAME = "manifest.json"
#: the package the repository's top-level weights/ folder is installed as
BUNDLED_PACKAGE = "facemirror._bundled"
#: the repository's weights/ folder, used when facemirror runs from a checkout (editable install)
_REPO_WEIGHTS = Path(__file__).resolve().parents[3] / "weights"
_FORMAT = 1


@dataclass(frozen=True)
class WeightFile:
    """One concrete file that provides a network's weights; ``sha256``/``size`` are None when unpublished."""

    file: str
    sha256: str | None
    size: int | None
    urls: tuple[str, ...]
    license: str
    source: str


@dataclass(frozen=True)
class WeightEntry(WeightFile):
    """A named set of weights: the preferred file (its own fields), accepted alternative files, and what uses them."""

    name: str
    model: str
    shipped: bool
    alternatives: tuple[WeightFile, ...] = ()

    @property
    def candidates(self) -> tuple[WeightFile, ...]:
        """Every accepted file, the preferred one first."""
        primary = WeightFile(**{f.name: getattr(self, f.name) for f in dataclasses.fields(WeightFile)})
        return (primary, *self.alternatives)

    def candidate(self, file: str) -> WeightFile:
        """The accepted file called ``file``, else a WeightsError listing the accepted names."""
        for cand in self.candidates:
            if cand.file == file:
                return cand
        names = ", ".join(c.file for c in self.candidates)
        raise WeightsError(f"'{file}' is not a known file for weights '{self.name}' (known: {names})")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, for provenance records."""
        return dataclasses.asdict(self)


def bundled_dir() -> Path | None:
    """The folder holding the shipped manifest and weights, or None if this installation has none.

    An installed wheel has it as the package ``facemirror._bundled``; an
    editable install from a checkout falls back to the repository's ``weights/``.
    """
    try:
        spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    except ModuleNotFoundError:
        spec = None
    folders = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    for folder in [*folders, _REPO_WEIGHTS]:
        if (folder / MANIFEST_NAME).is_file():
            return folder
    return None


def load_manifest(path: str | Path | None = None) -> dict[str, WeightEntry]:
    """Read the manifest (the bundled one unless ``path`` is given) into ``name -> WeightEntry``."""
    if path is None:
        folder = bundled_dir()
        if folder is None:
            raise WeightsError(
                f"the weights manifest ({MANIFEST_NAME}) is not in this installation of facemirror; reinstall it"
            )
        return dict(_load(str(folder / MANIFEST_NAME)))
    return dict(_load(str(Path(path).resolve())))


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Mapping[str, WeightEntry]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{path}: cannot read the weights manifest ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("weights"), dict):
        raise WeightsError(f"{path}: not a facemirror weights manifest (format {_FORMAT})")
    return {name: parse_entry(name, raw, path) for name, raw in data["weights"].items()}


def parse_entry(name: str, raw: Mapping[str, Any], where: str = "manifest") -> WeightEntry:
    """Build a WeightEntry from its JSON form, with an error naming the entry and the bad field."""
    try:
        alternatives = tuple(_parse_file(alt) for alt in raw.get("alternatives", ()))
        primary = _parse_file(raw)
        entry = WeightEntry(
            name=name,
            model=str(raw["model"]),
            shipped=bool(raw["shipped"]),
            alternatives=alternatives,
            **dataclasses.asdict(primary),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{where}: weights entry '{name}' is malformed ({type(exc).__name__}: {exc})") from exc
    if entry.shipped and (entry.sha256 is None or entry.size is None):
        raise WeightsError(f"{where}: shipped weights '{name}' must give their sha256 and size")
    return entry


def _parse_file(raw: Mapping[str, Any]) -> WeightFile:
    sha256 = raw["sha256"]
    if sha256 is not None and (len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256)):
        raise ValueError(f"sha256 of {raw['file']} is not 64 lowercase hex digits")
    file = str(raw["file"])
    if Path(file).name != file:
        raise ValueError(f"file {file!r} must be a bare file name")
    size = raw["size"]
    return WeightFile(
        file=file,
        sha256=sha256,
        size=None if size is None else int(size),
        urls=tuple(str(u) for u in raw.get("urls", ())),
        license=str(raw["license"]),
        source=str(raw["source"]),
    )
