"""Weights manifest, cache, verification, fetch (against a local HTTP server) and import; and the CLI.

Everything is offline: downloads come from a ThreadingHTTPServer on 127.0.0.1
serving small generated files, with manifest entries built here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from facemirror.cli import cli
from facemirror.errors import WeightsCorruptError, WeightsError, WeightsMissingError
from facemirror.weights import (
    cache_dir,
    fetch,
    identify,
    import_file,
    load_manifest,
    resolve,
    sha256_file,
    status,
    verify,
)
from facemirror.weights import store as weights_store
from facemirror.weights.manifest import WeightEntry, parse_entry

SHARED_RETINAFACE = Path(__file__).resolve().parents[2] / "shared" / "weights" / "retinaface_mobilenet0.25_Final.pth"
RETINAFACE_SHA = "2979b33ffafda5d74b6948cd7a5b9a7a62f62b949cef24e95fd15d2883a65220"


# --- fixtures ----------------------------------------------------------------------------


class Server:
    """A local HTTP server over a folder, counting the requests it answers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                server.requests.append(self.path)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def put(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return self.url(name)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "served"
    root.mkdir()
    srv = Server(root)
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache, also set as $FACEMIRROR_CACHE so nothing touches the user's real cache."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("FACEMIRROR_CACHE", str(folder))
    return folder


PAYLOAD = os.urandom(3000) + b"weights"
OTHER = os.urandom(2000)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(name: str, file: str, data: bytes | None, urls: list[str], shipped: bool = False) -> WeightEntry:
    """A manifest entry; ``data=None`` means its sha256 and size are not published."""
    raw = {
        "model": f"test model {name}",
        "file": file,
        "sha256": sha(data) if data is not None else None,
        "size": len(data) if data is not None else None,
        "urls": urls,
        "license": "test-license",
        "source": "tests",
        "shipped": shipped,
    }
    return parse_entry(name, raw)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- manifest ----------------------------------------------------------------------------


def test_real_manifest_lists_openface_weights_unshipped_with_sources() -> None:
    manifest = load_manifest()
    assert {"retinaface", "star", "mtl"} <= set(manifest)
    files = {manifest[n].file for n in ("retinaface", "star", "mtl")}
    assert files == {"Alignment_RetinaFace.pth", "Landmark_98.pkl", "MTL_backbone.pth"}
    for name in ("retinaface", "star", "mtl"):
        e = manifest[name]
        assert not e.shipped
        assert e.urls and all(u.startswith("https://") for u in e.urls)
        assert "non-commercial" in e.license
    alt = manifest["retinaface"].candidate("mobilenet0.25_Final.pth")
    assert (alt.sha256, alt.size, alt.license) == (RETINAFACE_SHA, 1789735, "MIT")
    # provenance records are plain JSON
    assert json.loads(json.dumps(manifest["retinaface"].as_dict()))["alternatives"][0]["sha256"] == RETINAFACE_SHA


def test_every_shipped_entry_is_in_weights_with_its_notice() -> None:
    """Each shipped file is in the repository's weights/ folder (the wheel's facemirror._bundled) and verifies,
    and the license names a notice file that is there too."""
    folder = Path(__file__).resolve().parents[1] / "weights"
    for name, entry in load_manifest().items():
        if not entry.shipped:
            continue
        assert verify(name).path == folder / entry.file, name
        notices = [word.rstrip(";)") for word in entry.license.split() if word.startswith("weights/NOTICE")]
        assert notices and all((folder.parent / n).is_file() for n in notices), (name, entry.license)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"sha256": "abc"}, "64 lowercase hex"),
        ({"file": "../x.bin"}, "bare file name"),
        ({"shipped": True, "sha256": None}, "must give their sha256"),
        ({"size": "big"}, "malformed"),
    ],
)
def test_malformed_entries_are_rejected_with_the_entry_name(change: dict[str, object], problem: str) -> None:
    base = {"model": "m", "file": "a.bin", "sha256": sha(b"x"), "size": 1, "license": "l", "source": "s"}
    raw = {**base, "shipped": False, **change}
    with pytest.raises(WeightsError, match=problem) as info:
        parse_entry("broken", raw)
    assert "broken" in str(info.value)


def test_load_manifest_from_a_path_and_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "m.json"
    raw = {"model": "m", "file": "x.bin", "sha256": None, "size": None, "license": "l", "source": "s", "shipped": False}
    good.write_text(json.dumps({"format": 1, "weights": {"x": raw}}))
    assert load_manifest(good)["x"].urls == ()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(WeightsError, match=r"bad\.json"):
        load_manifest(bad)


# --- cache location ----------------------------------------------------------------------


def test_cache_dir_argument_beats_env_and_env_beats_platform_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEMIRROR_CACHE", str(tmp_path / "env"))
    assert cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert cache_dir() == tmp_path / "env"
    monkeypatch.delenv("FACEMIRROR_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "facemirror"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == tmp_path / "home" / ".cache" / "facemirror"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert cache_dir() == tmp_path / "home" / "Library" / "Caches" / "facemirror"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert cache_dir() == tmp_path / "local" / "facemirror" / "Cache"


def test_fetch_and_resolve_use_the_cache_argument_over_the_env(cache: Path, tmp_path: Path, server: Server) -> None:
    other = tmp_path / "other-cache"
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, [server.put("tiny.bin", PAYLOAD)])}
    path = fetch("tiny", cache_dir=other, progress=False, manifest=manifest)
    assert path == other / "weights" / "tiny.bin"
    assert not cache.exists()
    assert resolve("tiny", cache_dir=other, manifest=manifest) == path
    with pytest.raises(WeightsMissingError):
        resolve("tiny", manifest=manifest)  # the env cache is still empty


# --- hashing -----------------------------------------------------------------------------


def test_sha256_file_is_streamed_and_cached_per_path_size_mtime(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    stamp = path.stat().st_mtime_ns
    assert sha256_file(path) == sha(PAYLOAD)
    same_size = bytes(len(PAYLOAD))
    path.write_bytes(same_size)
    os.utime(path, ns=(stamp, stamp))
    assert sha256_file(path) == sha(PAYLOAD)  # same (path, size, mtime): not read again
    os.utime(path, ns=(stamp + 1_000_000_000, stamp + 1_000_000_000))
    assert sha256_file(path) == sha(same_size)


# --- fetch -------------------------------------------------------------------------------


def test_fetch_downloads_verifies_and_is_idempotent(cache: Path, server: Server) -> None:
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, [server.put("tiny.bin", PAYLOAD)])}
    path = fetch("tiny", progress=False, manifest=manifest)
    assert path == cache / "weights" / "tiny.bin"
    assert path.read_bytes() == PAYLOAD
    assert files_in(cache / "weights") == ["tiny.bin"]  # no temp file, no hash record for a published hash
    assert verify("tiny", manifest=manifest).basis == "published"
    assert fetch("tiny", progress=False, manifest=manifest) == path
    assert len(server.requests) == 1  # the verified cached file was kept


def test_fetch_hash_mismatch_leaves_no_file(cache: Path, server: Server) -> None:
    url = server.put("tiny.bin", os.urandom(len(PAYLOAD)))  # right size, wrong bytes
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, [url])}
    with pytest.raises(WeightsCorruptError, match="sha256 mismatch") as info:
        fetch("tiny", progress=False, manifest=manifest)
    assert sha(PAYLOAD) in str(info.value)
    assert files_in(cache / "weights") == []


def test_fetch_wrong_size_leaves_no_file(cache: Path, server: Server) -> None:
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, [server.put("tiny.bin", PAYLOAD + b"!")])}
    with pytest.raises(WeightsCorruptError, match=f"expected {len(PAYLOAD)} bytes"):
        fetch("tiny", progress=False, manifest=manifest)
    assert files_in(cache / "weights") == []


def test_fetch_404_is_a_weights_error(cache: Path, server: Server) -> None:
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, [server.url("nothing-here.bin")])}
    with pytest.raises(WeightsError, match="HTTP 404"):
        fetch("tiny", progress=False, manifest=manifest)
    assert files_in(cache / "weights") == []


def test_fetch_unreachable_host_is_a_weights_error(cache: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, [f"http://127.0.0.1:{port}/tiny.bin"])}
    with pytest.raises(WeightsError, match="cannot reach the server"):
        fetch("tiny", progress=False, manifest=manifest, timeout=5)
    assert files_in(cache / "weights") == []


def test_fetch_falls_back_to_the_next_url(cache: Path, server: Server) -> None:
    urls = [server.url("missing.bin"), server.put("tiny.bin", PAYLOAD)]
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, urls)}
    assert fetch("tiny", progress=False, manifest=manifest).read_bytes() == PAYLOAD


def test_fetch_url_override_and_replacing_a_corrupt_cached_file(cache: Path, server: Server) -> None:
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, ["http://127.0.0.1:9/never-used"])}
    (cache / "weights").mkdir(parents=True)
    (cache / "weights" / "tiny.bin").write_bytes(OTHER)
    assert status("tiny", manifest=manifest)[0] == "corrupt"
    path = fetch("tiny", progress=False, url=server.put("mirror.bin", PAYLOAD), manifest=manifest)
    assert path.read_bytes() == PAYLOAD
    assert status("tiny", manifest=manifest) == ("installed", path)


def test_fetch_without_published_hash_records_it_and_later_catches_corruption(cache: Path, server: Server) -> None:
    manifest = {"open": entry("open", "open.bin", None, [server.put("open.bin", PAYLOAD)])}
    path = fetch("open", progress=False, manifest=manifest)
    assert (cache / "weights" / "open.bin.sha256").read_text().split()[0] == sha(PAYLOAD)
    checked = verify("open", manifest=manifest)
    assert (checked.basis, checked.sha256) == ("recorded", sha(PAYLOAD))
    path.write_bytes(OTHER)
    with pytest.raises(WeightsCorruptError) as info:
        resolve("open", manifest=manifest)
    message = str(info.value)
    assert sha(PAYLOAD) in message and sha(OTHER) in message and "facemirror weights fetch open" in message


# --- resolve -----------------------------------------------------------------------------


def test_missing_weights_error_names_file_places_and_commands(cache: Path) -> None:
    manifest = {"mtl": entry("mtl", "MTL_backbone.pth", None, ["https://example.invalid/MTL_backbone.pth"])}
    with pytest.raises(WeightsMissingError) as info:
        resolve("mtl", manifest=manifest)
    message = str(info.value)
    assert "MTL_backbone.pth" in message
    assert str(cache / "weights" / "MTL_backbone.pth") in message
    assert "facemirror weights fetch mtl" in message
    assert "facemirror weights import /path/to/MTL_backbone.pth" in message


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(WeightsError, match="known: a"):
        resolve("nope", manifest={"a": entry("a", "a.bin", PAYLOAD, [])})


def test_explicit_path_wins_and_is_checked(cache: Path, tmp_path: Path, server: Server) -> None:
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, [server.put("tiny.bin", PAYLOAD)])}
    fetch("tiny", progress=False, manifest=manifest)
    mine = tmp_path / "my-copy.bin"
    mine.write_bytes(PAYLOAD)
    assert resolve("tiny", path=mine, manifest=manifest) == mine
    with pytest.raises(WeightsMissingError, match=r"absent\.bin"):
        resolve("tiny", path=tmp_path / "absent.bin", manifest=manifest)
    wrong = tmp_path / "tiny.bin"
    wrong.write_bytes(OTHER)
    with pytest.raises(WeightsCorruptError):
        resolve("tiny", path=wrong, manifest=manifest)
    assert resolve("tiny", path=wrong, verify=False, manifest=manifest) == wrong


def test_shipped_weights_resolve_from_the_bundled_folder(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "face.onnx").write_bytes(PAYLOAD)
    monkeypatch.setattr(weights_store, "bundled_dir", lambda: bundled)
    manifest = {"face": entry("face", "face.onnx", PAYLOAD, [], shipped=True)}
    assert resolve("face", manifest=manifest) == bundled / "face.onnx"
    assert status("face", manifest=manifest) == ("shipped", bundled / "face.onnx")
    (bundled / "face.onnx").write_bytes(OTHER)
    with pytest.raises(WeightsCorruptError, match="reinstall facemirror"):
        resolve("face", manifest=manifest)
    (bundled / "face.onnx").unlink()
    with pytest.raises(WeightsMissingError, match="reinstall facemirror"):
        resolve("face", manifest=manifest)


def make_package(folder: Path) -> Path:
    """A folder shaped like a CoreML .mlpackage (a manifest, a spec and a weight blob in a subfolder)."""
    (folder / "Data" / "weights").mkdir(parents=True)
    (folder / "Manifest.json").write_text("{}")
    (folder / "Data" / "model.mlmodel").write_bytes(PAYLOAD)
    (folder / "Data" / "weights" / "weight.bin").write_bytes(OTHER)
    return folder


def test_sha256_tree_covers_names_and_contents_not_listing_order(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "a.mlpackage")
    lines = [
        f"Data/model.mlmodel\0{len(PAYLOAD)}\0{sha(PAYLOAD)}\n",
        f"Data/weights/weight.bin\0{len(OTHER)}\0{sha(OTHER)}\n",
        f"Manifest.json\0{2}\0{sha(b'{}')}\n",
    ]
    assert weights_store.sha256_tree(pkg) == sha("".join(lines).encode())
    assert weights_store.tree_size(pkg) == len(PAYLOAD) + len(OTHER) + 2
    assert weights_store.sha256_tree(make_package(tmp_path / "b.mlpackage")) == weights_store.sha256_tree(pkg)
    before = weights_store.sha256_tree(pkg)
    (pkg / "Data" / "model.mlmodel").rename(pkg / "Data" / "renamed.mlmodel")
    assert weights_store.sha256_tree(pkg) != before


def test_shipped_package_folder_is_verified_by_its_tree_hash(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "bundled"
    pkg = make_package(bundled / "face.mlpackage")
    monkeypatch.setattr(weights_store, "bundled_dir", lambda: bundled)
    raw = {
        "model": "a package",
        "file": "face.mlpackage",
        "sha256": weights_store.sha256_tree(pkg),
        "size": weights_store.tree_size(pkg),
        "license": "test-license",
        "source": "tests",
        "shipped": True,
    }
    manifest = {"face_coreml": parse_entry("face_coreml", raw)}
    assert resolve("face_coreml", manifest=manifest) == pkg
    assert status("face_coreml", manifest=manifest) == ("shipped", pkg)
    assert verify(pkg, manifest=manifest).basis == "published"  # identified by its tree hash
    blob = pkg / "Data" / "weights" / "weight.bin"
    blob.write_bytes(OTHER[::-1])  # same size, other bytes; a later mtime so no cached hash is reused
    os.utime(blob, ns=(blob.stat().st_atime_ns, blob.stat().st_mtime_ns + 10**9))
    with pytest.raises(WeightsCorruptError, match=r"sha256 mismatch.*reinstall facemirror"):
        resolve("face_coreml", manifest=manifest)
    (pkg / "extra.bin").write_bytes(b"x")
    with pytest.raises(WeightsCorruptError, match="wrong size"):
        resolve("face_coreml", manifest=manifest)


# --- import ------------------------------------------------------------------------------


def test_import_identifies_by_sha256_and_never_touches_the_source(cache: Path, tmp_path: Path) -> None:
    manifest = {
        "tiny": entry("tiny", "tiny.bin", PAYLOAD, []),
        "other": entry("other", "other.bin", OTHER, []),
    }
    source = tmp_path / "downloaded (1).bin"
    source.write_bytes(PAYLOAD)
    before = source.stat()
    path = import_file(source, manifest=manifest)
    assert path == cache / "weights" / "tiny.bin"
    assert path.read_bytes() == PAYLOAD
    after = source.stat()
    assert source.read_bytes() == PAYLOAD and (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert files_in(cache / "weights") == ["tiny.bin"]
    assert import_file(source, manifest=manifest) == path  # already there: nothing to do


def test_import_by_file_name_or_given_name_records_unpublished_hash(cache: Path, tmp_path: Path) -> None:
    manifest = {"open": entry("open", "open.bin", None, [])}
    by_name = tmp_path / "open.bin"
    by_name.write_bytes(PAYLOAD)
    path = import_file(by_name, manifest=manifest)
    assert verify("open", manifest=manifest).basis == "recorded"
    renamed = tmp_path / "weights-v2.bin"
    renamed.write_bytes(OTHER)
    with pytest.raises(WeightsError, match="--name"):
        import_file(renamed, manifest=manifest)
    assert import_file(renamed, name="open", manifest=manifest) == path
    assert path.read_bytes() == OTHER
    assert verify("open", manifest=manifest).sha256 == sha(OTHER)


def test_import_of_a_wrong_file_for_a_published_entry_copies_nothing(cache: Path, tmp_path: Path) -> None:
    manifest = {"tiny": entry("tiny", "tiny.bin", PAYLOAD, [])}
    wrong = tmp_path / "tiny.bin"
    wrong.write_bytes(os.urandom(len(PAYLOAD)))
    with pytest.raises(WeightsCorruptError, match="expected"):
        import_file(wrong, manifest=manifest)
    with pytest.raises(WeightsMissingError):
        import_file(tmp_path / "absent.bin", manifest=manifest)
    assert files_in(cache / "weights") == []


@pytest.mark.skipif(not SHARED_RETINAFACE.is_file(), reason=f"real RetinaFace weights not found at {SHARED_RETINAFACE}")
def test_real_retinaface_file_is_identified_as_the_mit_alternative(cache: Path) -> None:
    checked = identify(SHARED_RETINAFACE)
    assert (checked.name, checked.file.file, checked.basis) == ("retinaface", "mobilenet0.25_Final.pth", "published")
    path = import_file(SHARED_RETINAFACE)
    assert path == cache / "weights" / "mobilenet0.25_Final.pth"
    assert resolve("retinaface") == path


# --- CLI ---------------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_list_fetch_verify_path(cache: Path, server: Server) -> None:
    code, out = run_cli("weights", "list")
    assert code == 0
    rows = {line.split()[0]: line.split()[2] for line in out.splitlines()[1:]}
    assert rows["mtl"] == rows["star"] == rows["retinaface"] == "missing"

    url = server.put("MTL_backbone.pth", PAYLOAD)
    code, out = run_cli("weights", "fetch", "mtl", "--url", url)
    assert code == 0, out
    assert "no published sha256" in out
    assert (cache / "weights" / "MTL_backbone.pth").read_bytes() == PAYLOAD

    code, out = run_cli("weights", "verify", "mtl")
    assert code == 0 and "recorded" in out
    code, out = run_cli("weights", "path", "mtl")
    assert (code, out.strip()) == (0, str(cache / "weights" / "MTL_backbone.pth"))
    code, out = run_cli("weights", "list", "--json")
    assert {r["name"]: r["status"] for r in json.loads(out)}["mtl"] == "installed"

    (cache / "weights" / "MTL_backbone.pth").write_bytes(OTHER)
    with pytest.raises(WeightsCorruptError, match="mtl"):
        run_cli("weights", "verify")


def _cells(line: str) -> list[tuple[int, str]]:
    """(start column, text) of each cell of a table line: runs of text with at most single spaces inside."""
    return [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]


def test_cli_list_columns_are_separated_and_aligned(cache: Path) -> None:
    """Every cell of `weights list` stands apart (two spaces at least) and starts under its header, however long."""
    code, out = run_cli("weights", "list")
    assert code == 0
    header, *lines = (_cells(line) for line in out.splitlines())
    entries = json.loads(run_cli("weights", "list", "--json")[1])
    assert [text for _, text in header] == ["NAME", "FILE", "STATUS", "SIZE", "LICENSE"]
    assert len(lines) == len(entries) and any(len(e["name"]) >= 21 for e in entries)  # a name that filled the column
    for cells, entry in zip(lines, entries):
        expected = [entry["name"], entry["file"], entry["status"], cells[3][1], entry["license"]]
        assert [text for _, text in cells] == expected
        assert [start for start, _ in cells[:3] + cells[4:]] == [start for start, _ in header[:3] + header[4:]]
        assert cells[3][0] + len(cells[3][1]) == header[3][0] + len("SIZE")  # sizes right-aligned under SIZE


def test_cli_quiet_fetch_prints_nothing(cache: Path, server: Server, tmp_path: Path) -> None:
    url = server.put("Landmark_98.pkl", PAYLOAD)
    code, out = run_cli("--quiet", "weights", "--cache-dir", str(tmp_path / "c2"), "fetch", "star", "--url", url)
    assert (code, out) == (0, "")
    assert (tmp_path / "c2" / "weights" / "Landmark_98.pkl").is_file()


def test_cli_fetch_needs_a_name_or_all(cache: Path) -> None:
    result = CliRunner().invoke(cli, ["weights", "fetch"])
    assert result.exit_code == 2 and "NAME or --all" in result.output


@pytest.mark.skipif(not SHARED_RETINAFACE.is_file(), reason=f"real RetinaFace weights not found at {SHARED_RETINAFACE}")
def test_cli_import_real_file(cache: Path) -> None:
    code, out = run_cli("weights", "import", str(SHARED_RETINAFACE))
    assert code == 0 and "retinaface: imported" in out and "matches the manifest" in out
    code, out = run_cli("weights", "path", "retinaface")
    assert out.strip() == str(cache / "weights" / "mobilenet0.25_Final.pth")


def test_facemirror_command_reports_missing_weights_in_one_line(cache: Path) -> None:
    exe = Path(sys.executable).with_name("facemirror")
    command = [str(exe)] if exe.is_file() else [sys.executable, "-c", "from facemirror.cli import main; main()"]
    proc = subprocess.run([*command, "weights", "path", "mtl"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facemirror: error:")
    assert "facemirror weights fetch mtl" in lines[0] and "facemirror weights import" in lines[0]
