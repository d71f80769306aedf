"""``facemirror ane-report``: which ops of a CoreML ML Program are expected to run on the Neural Engine."""

from __future__ import annotations

import json
from pathlib import Path

import click

from facemirror.convert.ane import COMPUTE_UNITS, ane_report


@click.command("ane-report")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full report (every op) as JSON.")
@click.option("--ops", "all_ops", is_flag=True, help="List every op in the text report.")
@click.option(
    "--measure/--no-measure",
    default=None,
    help="Read Core ML's compute plan (macOS 14.4+ only). Default: on macOS.",
)
@click.option(
    "--compute-units",
    type=click.Choice(COMPUTE_UNITS),
    default="CPU_AND_NE",
    show_default=True,
    help="Compute units the measured plan is made for.",
)
def ane_report_cmd(model: Path, as_json: bool, all_ops: bool, measure: bool | None, compute_units: str) -> None:
    """Estimate (and on macOS measure) the Neural-Engine coverage of MODEL.mlpackage."""
    report = ane_report(model, measure=measure, compute_units=compute_units)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(report.format_text(all_ops=all_ops))
