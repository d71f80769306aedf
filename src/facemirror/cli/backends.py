"""``facemirror backends``: the inference backends that run here, and the face trackers and AU models registered."""

from __future__ import annotations

import json

import click

from facemirror.backends import default_preference, get_backend, registered_backends
from facemirror.registry import AU_MODELS, FACE_TRACKERS, Part, weights_state


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


def parts_report(parts: dict[str, Part]) -> list[dict[str, object]]:
    """One row per registered part: whether its weights are installed, what it is."""
    rows: list[dict[str, object]] = []
    for name, part in parts.items():
        ready, detail = weights_state(part)
        rows.append({"name": name, "ready": ready, "weights": detail, "description": part.description})
    return rows


@click.command("backends")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def backends_cmd(as_json: bool) -> None:
    """List the inference backends (and why unavailable ones are), the face trackers and the AU models."""
    rows = backend_report()
    trackers, au_models = parts_report(FACE_TRACKERS), parts_report(AU_MODELS)
    if as_json:
        report = {"auto_order": default_preference(), "backends": rows, "face_trackers": trackers}
        click.echo(json.dumps({**report, "au_models": au_models}, indent=2))
        return
    click.echo("Inference backends:")
    for row in rows:
        mark = "yes" if row["available"] else "no "
        detail = ", ".join(map(str, row["providers"])) if row["available"] else row["reason"]  # type: ignore[call-overload]
        click.echo(f"  {row['backend']:<8} {mark}  {detail}")
    click.echo(f"  auto tries: {' -> '.join(default_preference())}")
    for title, parts in (("Face trackers (--face)", trackers), ("AU models (--au-model)", au_models)):
        click.echo(f"{title}:")
        width = max(len(str(p["name"])) for p in parts)
        for part in parts:
            mark = "ready" if part["ready"] else "not ready"
            click.echo(f"  {part['name']:<{width}}  {mark:<9}  {part['description']} ({part['weights']})")
