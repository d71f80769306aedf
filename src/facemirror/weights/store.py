"""Where weight files live (bundled folder, user cache) and how they are found, checked and imported.

A file is checked by size and sha256 against the manifest; a folder entry
(a CoreML ``.mlpackage``) by its total size and :func:`sha256_tree`. Files whose hash
is not published (the OpenFace 3.0 weights) are checked against the hash
recorded beside them when they were fetched or imported (``<file>.sha256``,
in ``sha256sum`` format), so later corruption is still caught.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from facemirror.atomic import atomic_output
from facemirror.errors import WeightsCorruptError, WeightsError, WeightsMissingError
from facemirror.weights.manifest import WeightEntry, WeightFile, bundled_dir, load_manifest

CACHE_ENV = "FACEMIRROR_CACHE"
_CHUNK = 1 << 20

#: how a file's hash was checked: against the manifest, against the hash recorded at download, or not at all
Basis = Literal["published", "recorded", "unverified"]
Status = Literal["shipped", "installed", "missing", "corrupt"]


@dataclass(frozen=True)
class Verified:
    """A weight file that passed its checks, with what it was checked against."""

    name: str
    path: Path
    file: WeightFile
    sha256: str
    basis: Basis


# --- locations ---------------------------------------------------------------


def cache_dir(override: str | Path | None = None) -> Path:
    """The facemirror cache root: ``override``, else $FACEMIRROR_CACHE, else the platform's user cache folder."""
    if override is not None:
        return Path(override).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "facemirror"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "facemirror" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else home / ".cache") / "facemirror"


def weights_dir(cache: str | Path | None = None) -> Path:
    """The folder user-fetched and imported weight files go to: ``<cache>/weights``."""
    return cache_dir(cache) / "weights"


def _manifest(manifest: Mapping[str, WeightEntry] | None) -> Mapping[str, WeightEntry]:
    return load_manifest() if manifest is None else manifest


def get_entry(name: str, manifest: Mapping[str, WeightEntry] | None = None) -> WeightEntry:
    """The manifest entry ``name``, else a WeightsError listing the known names."""
    entries = _manifest(manifest)
    if name not in entries:
        raise WeightsError(f"unknown weights '{name}' (known: {', '.join(sorted(entries)) or 'none'})")
    return entries[name]


# --- hashing -------------------------------------------------------------------

_hash_cache: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, streamed; remembered per (path, size, mtime) so a file is hashed once per process."""
    path = Path(path).resolve()
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        if key in _hash_cache:
            return _hash_cache[key]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    remember_sha256(path, digest.hexdigest())
    return digest.hexdigest()


def sha256_tree(path: str | Path) -> str:
    """Hex sha256 of a folder (a CoreML ``.mlpackage``): of one line per file, sorted by relative POSIX path.

    Each line is ``<relative path>\0<size>\0<sha256>\n``, so renaming, adding,
    removing or changing any file changes the hash, while the folder's own
    timestamps and the order the file system lists it in do not.
    """
    root = Path(path)
    digest = hashlib.sha256()
    for rel, file in _tree(root):
        digest.update(f"{rel}\0{file.stat().st_size}\0{sha256_file(file)}\n".encode())
    return digest.hexdigest()


def tree_size(path: str | Path) -> int:
    """Total bytes of the files under a folder (the manifest ``size`` of a folder entry)."""
    return sum(file.stat().st_size for _, file in _tree(Path(path)))


def _tree(root: Path) -> list[tuple[str, Path]]:
    return sorted((p.relative_to(root).as_posix(), p) for p in root.rglob("*") if p.is_file())


def sha256_path(path: str | Path) -> str:
    """:func:`sha256_tree` of a folder, else :func:`sha256_file`."""
    return sha256_tree(path) if Path(path).is_dir() else sha256_file(path)


def path_size(path: str | Path) -> int:
    """:func:`tree_size` of a folder, else the file's size."""
    return tree_size(path) if Path(path).is_dir() else Path(path).stat().st_size


def remember_sha256(path: str | Path, sha256: str) -> None:
    """Tell :func:`sha256_file` the hash of a file just written (hashed while it was downloaded or copied)."""
    path = Path(path).resolve()
    st = path.stat()
    with _hash_lock:
        _hash_cache[(str(path), st.st_size, st.st_mtime_ns)] = sha256


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def recorded_sha256(path: str | Path) -> str | None:
    """The sha256 recorded beside ``path`` when it was fetched or imported, if any."""
    try:
        text = _record_path(Path(path)).read_text(encoding="utf-8")
    except OSError:
        return None
    token = text.split(maxsplit=1)[0] if text.strip() else ""
    return token.lower() if len(token) == 64 else None


def write_record(path: Path, sha256: str) -> None:
    """Record ``sha256`` beside ``path`` (sha256sum format), for files whose hash is not published."""
    with atomic_output(_record_path(path)) as tmp:
        tmp.write_text(f"{sha256}  {path.name}\n", encoding="utf-8")


# --- checking ------------------------------------------------------------------


def check_file(entry: WeightEntry, cand: WeightFile, path: Path, sha256: str | None = None) -> Verified:
    """Check ``path`` against ``cand`` (size, then sha256: published, else recorded); raise WeightsCorruptError."""
    size = path_size(path)
    if cand.size is not None and size != cand.size:
        raise WeightsCorruptError(
            f"{path}: wrong size for '{entry.name}' ({cand.file}): expected {cand.size} bytes, found {size}; "
            f"{_fix_hint(entry)}"
        )
    actual = sha256 or sha256_path(path)
    basis: Basis = "published" if cand.sha256 else "recorded"
    expected = cand.sha256 or recorded_sha256(path)
    if expected is None:
        return Verified(entry.name, path, cand, actual, "unverified")
    if actual != expected:
        raise WeightsCorruptError(
            f"{path}: sha256 mismatch for '{entry.name}' ({cand.file}): expected {expected} ({basis}), "
            f"found {actual}; {_fix_hint(entry)}"
        )
    return Verified(entry.name, path, cand, actual, basis)


def _fix_hint(entry: WeightEntry) -> str:
    if entry.shipped:
        return "the facemirror installation is damaged: reinstall facemirror"
    return f"delete it and run: facemirror weights fetch {entry.name}"


def match_file(entry: WeightEntry, path: Path) -> Verified:
    """Which of ``entry``'s accepted files ``path`` is (by sha256, then by name), checked."""
    actual = sha256_path(path)
    for cand in entry.candidates:
        if cand.sha256 == actual:
            return check_file(entry, cand, path, actual)
    for cand in entry.candidates:
        if cand.file == path.name:
            return check_file(entry, cand, path, actual)
    unpublished = [c for c in entry.candidates if c.sha256 is None]
    if unpublished:  # cannot tell: accept it as the first file without a published hash
        return check_file(entry, unpublished[0], path, actual)
    known = ", ".join(f"{c.file} {c.sha256}" for c in entry.candidates)
    raise WeightsCorruptError(f"{path}: not a known file for '{entry.name}': sha256 {actual} matches none of: {known}")


def identify(path: str | Path, manifest: Mapping[str, WeightEntry] | None = None) -> Verified:
    """Which manifest entry a file is, by its sha256, else by its file name; checked."""
    path = Path(path)
    entries = _manifest(manifest)
    actual = sha256_path(path)
    for entry in entries.values():
        for cand in entry.candidates:
            if cand.sha256 == actual:
                return check_file(entry, cand, path, actual)
    for entry in entries.values():
        for cand in entry.candidates:
            if cand.file == path.name:
                return check_file(entry, cand, path, actual)
    raise WeightsError(
        f"{path}: cannot tell which weights this is (sha256 {actual} and the file name match no manifest entry); "
        f"name it: facemirror weights import {path} --name NAME (names: {', '.join(sorted(entries))})"
    )


# --- finding ---------------------------------------------------------------------


def _places(entry: WeightEntry, cache: str | Path | None) -> list[Path]:
    """Every path where ``entry``'s files may be, in the order they are tried."""
    places = []
    bundled = bundled_dir()
    if entry.shipped and bundled is not None:
        places.append(bundled / entry.file)
    folder = weights_dir(cache)
    places += [folder / cand.file for cand in entry.candidates]
    return places


def find(
    name: str,
    cache_dir: str | Path | None = None,
    manifest: Mapping[str, WeightEntry] | None = None,
) -> Path | None:
    """The first existing file (or package folder) for ``name`` (bundled, then cache), unchecked; None if none."""
    entry = get_entry(name, manifest)
    return next((p for p in _places(entry, cache_dir) if p.exists()), None)


def resolve(
    name: str,
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    verify: bool = True,
    manifest: Mapping[str, WeightEntry] | None = None,
) -> Path:
    """The weight file for ``name``: ``path`` if given, else the bundled file, else the cached one.

    With ``verify`` the file's size and sha256 are checked. A missing file
    raises WeightsMissingError naming every place looked and the command that gets it.
    """
    entry = get_entry(name, manifest)
    if path is not None:
        path = Path(path).expanduser()
        if not path.exists():
            raise WeightsMissingError(f"{path}: weight file for '{name}' not found")
        return match_file(entry, path).path if verify else path
    found = find(name, cache_dir, manifest)
    if found is None:
        raise WeightsMissingError(missing_message(entry, _places(entry, cache_dir)))
    if verify:
        check_file(entry, entry.candidate(found.name), found)
    return found


def missing_message(entry: WeightEntry, places: list[Path]) -> str:
    """Why ``entry`` is missing, where it was looked for, and the command that gets it."""
    looked = ", ".join(str(p) for p in places) or "nowhere (no bundled folder)"
    if entry.shipped:
        return f"shipped weights '{entry.name}' ({entry.file}) are missing from {looked}: reinstall facemirror"
    return (
        f"weights '{entry.name}' ({entry.file}, {entry.license}) not found; looked in: {looked}. "
        f"Get them with: facemirror weights fetch {entry.name}  "
        f"(or, with a file you downloaded: facemirror weights import /path/to/{entry.file})"
    )


def verify(
    name_or_path: str | Path,
    name: str | None = None,
    cache_dir: str | Path | None = None,
    manifest: Mapping[str, WeightEntry] | None = None,
) -> Verified:
    """Check a manifest entry's installed file, or a given file (identified by ``name`` or by its hash/name).

    Raises WeightsMissingError if there is no file, WeightsCorruptError with
    expected vs found if its size or sha256 is wrong.
    """
    entries = _manifest(manifest)
    if isinstance(name_or_path, str) and name_or_path in entries and name is None:
        path = resolve(name_or_path, cache_dir=cache_dir, verify=False, manifest=entries)
        entry = entries[name_or_path]
        return check_file(entry, entry.candidate(path.name), path)
    path = Path(name_or_path)
    if not path.exists():
        raise WeightsMissingError(f"{path}: weight file not found")
    return identify(path, entries) if name is None else match_file(get_entry(name, entries), path)


def status(
    name: str,
    cache_dir: str | Path | None = None,
    manifest: Mapping[str, WeightEntry] | None = None,
) -> tuple[Status, Path | None]:
    """``(status, path)`` of one entry: shipped, installed, missing or corrupt."""
    entry = get_entry(name, manifest)
    path = find(name, cache_dir, manifest)
    if path is None:
        return "missing", None
    try:
        check_file(entry, entry.candidate(path.name), path)
    except WeightsCorruptError:
        return "corrupt", path
    return ("shipped" if entry.shipped and path.parent == bundled_dir() else "installed"), path


# --- importing ---------------------------------------------------------------------


def _install_copy(source: Path, checked: Verified, cache_dir: str | Path | None = None) -> Verified:
    """Copy a checked file into the cache atomically (hashing the copy); record its hash if unpublished."""
    dest = weights_dir(cache_dir) / checked.file.file
    digest = hashlib.sha256()
    with atomic_output(dest) as tmp:
        with open(source, "rb") as src, open(tmp, "wb") as out:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != checked.sha256:
            raise WeightsCorruptError(f"{source}: the file changed while it was being copied; try again")
    if checked.file.sha256 is None:
        write_record(dest, checked.sha256)
    remember_sha256(dest, checked.sha256)
    return Verified(checked.name, dest, checked.file, checked.sha256, checked.basis)


def import_file(
    path: str | Path,
    name: str | None = None,
    cache_dir: str | Path | None = None,
    manifest: Mapping[str, WeightEntry] | None = None,
) -> Path:
    """Copy a user-downloaded weight file into the cache, after identifying and checking it.

    The entry is ``name`` or found from the file's sha256 or file name. The
    user's file is only read, never moved or changed.
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise WeightsMissingError(f"{source}: file to import not found")
    entries = _manifest(manifest)
    checked = identify(source, entries) if name is None else match_file(get_entry(name, entries), source)
    dest = weights_dir(cache_dir) / checked.file.file
    if dest.is_file() and sha256_file(dest) == checked.sha256:  # already there (or importing the cached file)
        if checked.file.sha256 is None and recorded_sha256(dest) is None:
            write_record(dest, checked.sha256)
        return dest
    return _install_copy(source, checked, cache_dir).path
