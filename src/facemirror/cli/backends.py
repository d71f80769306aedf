"""``facemirror backends``: which inference backends and providers can run here, and why others cannot."""

from __future__ import annotations

import json

import click

from facemirror.backends import default_preference, get_backend, registered_backends


def backend_report() -> list[dict[str, object]]:
    """One row per registered backend: whether it is available, its providers, or why not."""
    rows: list[dict[str, object]] = []
    for name in registered_backends():
        backend = get_backend(name)
        why = backend.availability()
        rows.append(
            {
                "backend": name,
                "available": why is None,
                "providers": backend.providers() if why is None else [],
                "reason": why or "",
            }
        )
    return rows


@click.command("backends")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def backends_cmd(as_json: bool) -> None:
    """List the inference backends, their execution providers, and why unavailable ones are."""
    rows = backend_report()
    if as_json:
        click.echo(json.dumps({"auto_order": default_preference(), "backends": rows}, indent=2))
        return
    for row in rows:
        mark = "yes" if row["available"] else "no "
        detail = ", ".join(map(str, row["providers"])) if row["available"] else row["reason"]  # type: ignore[call-overload]
        click.echo(f"{row['backend']:<8} {mark}  {detail}")
    click.echo(f"auto tries: {' -> '.join(default_preference())}")
