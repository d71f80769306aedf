"""Click callbacks that check path arguments with facemirror's own errors, so a bad path is one line and exit 1.

Click's ``Path(exists=..., file_okay=...)`` checks would print a usage block and exit 2, which the
command line keeps for a malformed command (unknown option, missing argument).
"""

from __future__ import annotations

from pathlib import Path

import click

from facemirror.atomic import check_not_a_file
from facemirror.batch.discover import check_input_folder


def output_folder(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """An output (or cache) folder: may not exist yet, must not be a file."""
    return None if value is None else check_not_a_file(value)


def input_folder(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """An input folder: must exist and be a folder."""
    return check_input_folder(value)
