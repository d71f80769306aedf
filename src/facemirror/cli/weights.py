"""``facemirror weights``: list, locate, verify, download and import model weight files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from facemirror.cli.paths import output_folder
from facemirror.cli.table import format_table
from facemirror.errors import WeightsCorruptError
from facemirror.weights import Verified, fetch, import_file, load_manifest, resolve, status, verify
from facemirror.weights.store import path_size

_BASIS_TEXT = {
    "published": "sha256 matches the manifest",
    "recorded": "no published sha256; matches the hash recorded when it was fetched or imported",
    "unverified": "no published sha256, none recorded: not verified",
}


def _opts(ctx: click.Context) -> tuple[Path | None, bool]:
    """(cache folder, quiet) from the weights group and the top-level --quiet."""
    obj = ctx.obj or {}  # the root's dict (quiet), which the weights group adds cache_dir to
    return obj.get("cache_dir"), bool(obj.get("quiet"))


def _describe(v: Verified) -> str:
    return f"{v.name}: OK {v.path} (sha256 {v.sha256[:16]}..., {_BASIS_TEXT[v.basis]})"


def _human(size: int | None) -> str:
    if size is None:
        return "-"
    if size < 1024:
        return f"{size} B"
    value, unit = size / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


@click.group("weights")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    callback=output_folder,
    default=None,
    help="Cache folder (default: $FACEMIRROR_CACHE, else the platform's user cache folder).",
)
@click.pass_context
def weights_group(ctx: click.Context, cache_dir: Path | None) -> None:
    """List, locate, verify, download and import model weight files."""
    ctx.ensure_object(dict)
    ctx.obj["cache_dir"] = cache_dir


@weights_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List weight files: status, size, license.

    Status is shipped, installed (in the cache), missing or corrupt.
    """
    cache, _ = _opts(ctx)
    rows = []
    table = [["NAME", "FILE", "STATUS", "SIZE", "LICENSE"]]
    for name, entry in sorted(load_manifest().items()):
        state, path = status(name, cache_dir=cache)
        file = path.name if path else entry.file
        size = path_size(path) if path else entry.size
        license_ = entry.candidate(path.name).license if path else entry.license
        rows.append(
            {
                "name": name,
                "file": file,
                "status": state,
                "size": size,
                "license": license_,
                "path": str(path) if path else None,
            }
        )
        table.append([name, file, state, _human(size), license_])
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for line in format_table(table, right={3}):
        click.echo(line)


@weights_group.command("path")
@click.argument("name")
@click.option("--no-verify", is_flag=True, help="Do not check the file's size and sha256.")
@click.pass_context
def path_cmd(ctx: click.Context, name: str, no_verify: bool) -> None:
    """Print the checked path of weights NAME, or say how to get them."""
    cache, _ = _opts(ctx)
    click.echo(str(resolve(name, cache_dir=cache, verify=not no_verify)))


@weights_group.command("verify")
@click.argument("target", required=False, metavar="[NAME|FILE]")
@click.option("--name", "entry_name", default=None, help="Which weights FILE is (default: found from its hash/name).")
@click.pass_context
def verify_cmd(ctx: click.Context, target: str | None, entry_name: str | None) -> None:
    """Check size and sha256 of installed weights.

    NAME checks one entry, FILE one file; without either, every installed entry.
    """
    cache, _ = _opts(ctx)
    if target is not None:
        click.echo(_describe(verify(target, name=entry_name, cache_dir=cache)))
        return
    failed = []
    for name in sorted(load_manifest()):
        state, _ = status(name, cache_dir=cache)
        if state == "missing":
            click.echo(f"{name}: not installed")
            continue
        try:
            click.echo(_describe(verify(name, cache_dir=cache)))
        except WeightsCorruptError as exc:
            failed.append(name)
            click.echo(f"{name}: CORRUPT {exc}")
    if failed:
        raise WeightsCorruptError(f"{len(failed)} weight file(s) failed verification: {', '.join(failed)}")


@weights_group.command("fetch")
@click.argument("name", required=False)
@click.option("--all", "fetch_all", is_flag=True, help="Fetch every weight file that is not shipped.")
@click.option("--url", default=None, help="Download from this URL (a mirror) instead of the manifest's.")
@click.option("--file", "file_name", default=None, help="Which accepted file of NAME to fetch (default: preferred).")
@click.pass_context
def fetch_cmd(ctx: click.Context, name: str | None, fetch_all: bool, url: str | None, file_name: str | None) -> None:
    """Download weights NAME (or --all) into the cache, verified."""
    cache, quiet = _opts(ctx)
    if fetch_all == (name is not None):
        raise click.UsageError("give either NAME or --all")
    if fetch_all and (url or file_name):
        raise click.UsageError("--url and --file need a single NAME")
    names = [name] if name else [n for n, e in sorted(load_manifest().items()) if not e.shipped]
    for each in names:
        path = fetch(each, cache_dir=cache, progress=not quiet, url=url, file=file_name)
        if not quiet:
            click.echo(_describe(verify(path, name=each, cache_dir=cache)))


@weights_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Which weights FILE is (default: found from its sha256 or file name).")
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, name: str | None) -> None:
    """Check a downloaded file and copy it into the cache.

    FILE is identified by its sha256 or name (or --name) and is never moved or changed.
    """
    cache, quiet = _opts(ctx)
    path = import_file(file, name=name, cache_dir=cache)
    if not quiet:
        checked = verify(path, name=name, cache_dir=cache)
        click.echo(_describe(checked).replace(": OK ", f": imported {file} -> ", 1))
