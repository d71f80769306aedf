"""Download a weight file from its manifest URL into the cache, verified, with a progress bar.

Only the standard library's urllib is used. The download goes to a hidden
temporary file beside its final name and is renamed into place only after
its size and sha256 check out, so a failed or interrupted download leaves nothing.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from tqdm import tqdm

from facemirror.atomic import atomic_output
from facemirror.errors import WeightsCorruptError, WeightsError
from facemirror.weights.manifest import WeightEntry, WeightFile, bundled_dir
from facemirror.weights.store import (
    Verified,
    check_file,
    get_entry,
    remember_sha256,
    weights_dir,
    write_record,
)

log = logging.getLogger(__name__)
_CHUNK = 1 << 20
_USER_AGENT = "facemirror-weights/1 (+https://github.com/facemirror/facemirror)"


def fetch(
    name: str,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    url: str | None = None,
    file: str | None = None,
    manifest: Mapping[str, WeightEntry] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download weights ``name`` into ``<cache>/weights/`` and return the verified path.

    ``file`` picks one of the entry's accepted files (default: the preferred
    one); ``url`` replaces its manifest URLs (a mirror). A file already in the
    cache that checks out is kept; a corrupt one is replaced. Any failure
    (HTTP error, network unreachable, size or hash mismatch) raises a
    WeightsError and leaves no partial file.
    """
    entry = get_entry(name, manifest)
    cand = entry.candidate(file) if file else entry.candidates[0]
    bundled = bundled_dir()
    if entry.shipped and bundled is not None and (bundled / cand.file).exists():
        return check_file(entry, cand, bundled / cand.file).path
    dest = weights_dir(cache_dir) / cand.file
    if dest.is_file():
        try:
            return check_file(entry, cand, dest).path
        except WeightsCorruptError as exc:
            log.warning("%s; downloading it again", exc)
    urls = (url,) if url else cand.urls
    if not urls:
        raise WeightsError(f"weights '{name}' ({cand.file}) have no download URL in the manifest")
    failures: list[tuple[str, WeightsError]] = []
    for source in urls:
        try:
            checked = _download(entry, cand, source, dest, progress, timeout)
        except WeightsError as exc:
            failures.append((source, exc))
            continue
        if checked.basis == "unverified":
            log.warning(
                "%s: no published sha256 for '%s' (%s), so the download could not be verified; "
                "recorded its sha256 %s to catch later corruption",
                dest,
                name,
                cand.file,
                checked.sha256,
            )
        return dest
    if len(failures) == 1:
        raise failures[0][1]
    raise WeightsError(
        f"could not download '{name}' ({cand.file}) from any of its URLs: " + "; ".join(str(e) for _, e in failures)
    )


def _download(entry: WeightEntry, cand: WeightFile, url: str, dest: Path, progress: bool, timeout: float) -> Verified:
    """Stream ``url`` into a temporary file beside ``dest``, check it, rename it into place."""
    what = f"'{entry.name}' ({cand.file}) from {url}"
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with atomic_output(dest) as tmp:
            with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else cand.size
                with tqdm(
                    total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=cand.file, disable=not progress
                ) as bar:
                    while chunk := response.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        bar.update(len(chunk))
            size = tmp.stat().st_size
            if length and length.isdigit() and size != int(length):
                raise WeightsError(f"download of {what} was cut short: {size} of {length} bytes")
            actual = digest.hexdigest()
            if cand.size is not None and size != cand.size:
                raise WeightsCorruptError(f"download of {what}: expected {cand.size} bytes, got {size}")
            if cand.sha256 is not None and actual != cand.sha256:
                raise WeightsCorruptError(f"download of {what}: sha256 mismatch: expected {cand.sha256}, got {actual}")
    except urllib.error.HTTPError as exc:
        raise WeightsError(f"download of {what} failed: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        reason = f"cannot reach the server ({exc.reason}); is the network up?"
        raise WeightsError(f"download of {what} failed: {reason}") from exc
    except (TimeoutError, http.client.HTTPException, OSError) as exc:
        raise WeightsError(f"download of {what} failed: {type(exc).__name__}: {exc}") from exc
    if cand.sha256 is None:
        write_record(dest, actual)
    remember_sha256(dest, actual)
    return Verified(entry.name, dest, cand, actual, "published" if cand.sha256 else "unverified")
