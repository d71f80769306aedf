"""The ``facemirror`` command line: one click group whose subcommands live in sibling modules.

Subcommands are imported lazily (``facemirror --help`` must not import
torch or onnxruntime), and every error is one line on stderr instead of a
traceback or a usage block: a :class:`~facemirror.errors.FaceMirrorError`
(bad path, video, weights...) exits 1, a malformed command line exits 2.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import NoReturn

import click

from facemirror.errors import FaceMirrorError, NoFaceError

#: exit codes of the ``facemirror`` command (listed in its --help and the README)
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_FACE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

#: subcommand name -> "module:attribute" of its click command
COMMANDS = {
    "run": "facemirror.cli.jobs:run_cmd",
    "mirror": "facemirror.cli.jobs:mirror_cmd",
    "measure": "facemirror.cli.jobs:measure_cmd",
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
    """facemirror: facial midline mirroring and action units for face videos.

    Errors are one line on stderr: "facemirror: error: <file>: <problem>".

    \b
    Exit codes:
      0    success
      1    a job or check failed: bad input or output path, unreadable video,
           missing weights... (batch: at least one video failed)
      2    bad command line: unknown command or option, missing argument,
           invalid value
      3    no face in any frame of the video: nothing was written
      130  interrupted (Ctrl-C)
    """
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"quiet": quiet, "verbose": verbose}


def _fail(message: str, code: int) -> NoReturn:
    """Print ``message`` as the one error line on stderr and exit with ``code``."""
    click.echo(f"facemirror: error: {' '.join(message.split())}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point of the ``facemirror`` script: every error is one line on stderr (exit codes: see ``cli``)."""
    try:
        rv = cli.main(args=argv, prog_name="facemirror", standalone_mode=False)
    except NoFaceError as exc:
        _fail(str(exc), EXIT_NO_FACE)
    except FaceMirrorError as exc:
        _fail(str(exc), EXIT_FAILED)
    except click.exceptions.Abort:
        click.echo("facemirror: aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.UsageError as exc:
        if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())):  # a bare group: its help (click>=8.2)
            exc.show()
            sys.exit(exc.exit_code)
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        _fail(exc.format_message().rstrip(".") + where, EXIT_USAGE)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)
