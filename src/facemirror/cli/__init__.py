"""The ``facemirror`` command line: one click group whose subcommands live in sibling modules.

Subcommands are imported lazily (``facemirror --help`` must not import
torch or onnxruntime), and every :class:`~facemirror.errors.FaceMirrorError`
becomes a one-line message on stderr with exit code 1 instead of a traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import NoReturn

import click

from facemirror.errors import FaceMirrorError

#: subcommand name -> "module:attribute" of its click command
COMMANDS = {
    "run": "facemirror.cli.jobs:run_cmd",
    "mirror": "facemirror.cli.jobs:mirror_cmd",
    "aus": "facemirror.cli.jobs:aus_cmd",
    "info": "facemirror.cli.info:info_cmd",
    "backends": "facemirror.cli.backends:backends_cmd",
    "weights": "facemirror.cli.weights:weights_group",
    "ane-report": "facemirror.cli.ane:ane_report_cmd",
    "batch": "facemirror.cli.batch:batch_cmd",
}


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command: click.Command | None = getattr(module, attr, None)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-q", "--quiet", is_flag=True, help="Only print errors; no progress bars.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="facemirror")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """facemirror: facial midline mirroring and action units for face videos."""
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"quiet": quiet, "verbose": verbose}


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point of the ``facemirror`` script: FaceMirrorError -> one line on stderr, exit 1."""
    try:
        rv = cli.main(args=argv, prog_name="facemirror", standalone_mode=False)
    except FaceMirrorError as exc:
        click.echo(f"facemirror: error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("facemirror: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)
