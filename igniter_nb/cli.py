"""The ``igniter-nb`` command. Each subcommand registers itself with ``add_<name>_command(commands)`` and
imports what it needs only when it runs, so ``igniter-nb --help`` and ``--version`` work on a plain install.

    igniter-nb serve myapp.contracts:CONTRACTS --store sqlite:///igniter.db --workers 2   # token: $IGNITER_SERVER_TOKEN
    igniter-nb new contract LeadWorkflow --inputs request_id --correlate-by request_id --awaits crm_received
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from igniter_nb import __version__
from igniter_nb.scaffold.command import add_new_command


class CommandError(Exception):
    """A subcommand cannot run as asked; printed as ``igniter-nb <command>: error: <message>`` (exit code 2)."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a command did work it undoes when stopped (``new``'s writes), raised where
    the work was, like ``KeyboardInterrupt`` for Ctrl-C; ``main`` ends with 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


class OutputError(Exception):
    """Standard output could not be written (``> /dev/full``, an I/O error) after the command's work was done;
    printed as ``igniter-nb <command>: error: cannot write to standard output: ...`` (exit code 1)."""


@contextlib.contextmanager
def _writing_stdout() -> Iterator[None]:
    """Around a write to standard output: one that cannot be written is an :class:`OutputError` (a closed pipe stays
    a ``BrokenPipeError``: the reader went away, and main ends quietly with 141)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(exc.strerror or str(exc)) from exc


def say(line: str) -> None:
    """Print one line of a command's report. A standard output that cannot be written is an :class:`OutputError`; a
    closed one (``>&-``: ``sys.stdout`` is None) drops the line, as ``print`` does."""
    with _writing_stdout():
        print(line)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, except that help and ``--version`` printed to a standard output that cannot be written
    (``> /dev/full``) is an :class:`OutputError` (argparse drops the error and exits 0); its subcommands' parsers
    are of this class too."""

    def _print_message(self, message: str, file: Any = None) -> None:
        if not message or file is not sys.stdout:  # (errors go to stderr, as argparse writes them)
            super()._print_message(message, file)
            return
        _say_text(message)
        _flush_stdout()


def _say_text(text: str) -> None:
    """Write ``text`` to standard output as it is, failing as :func:`say` does."""
    if sys.stdout is None:  # started with standard output closed
        return
    with _writing_stdout():
        sys.stdout.write(text)


def _flush_stdout() -> None:
    if sys.stdout is None:  # started with standard output closed
        return
    with _writing_stdout():
        sys.stdout.flush()


def _whole_number(minimum: int, maximum: int | None = None, unit: str = "") -> Callable[[str], int]:
    """An argparse ``type=`` taking a whole number from ``minimum`` (to ``maximum``): anything else is argparse's
    error naming the flag and the range (``argument --max-body-bytes: must be a whole number of bytes >= 1, got 0``),
    with the usage, before any setting is read."""
    what = f"a whole number{f' of {unit}' if unit else ''} " + (
        f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r:.80}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
        return value

    return parse


def add_serve_command(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve contracts over HTTP (uvicorn)",
        description="Serve contracts over HTTP: the API of docs/server.md under uvicorn.",
        epilog="Example: igniter-nb serve myapp.contracts:CONTRACTS --store sqlite:///igniter.db --workers 2. "
               "A setting not given as a flag comes from its IGNITER_* environment variable (IGNITER_STORE_URL, "
               "IGNITER_SERVER_TOKEN, IGNITER_LOG_LEVEL, IGNITER_MAX_BODY_BYTES, IGNITER_PUBLIC_URL, "
               "IGNITER_CORS_ORIGINS, IGNITER_SERVER_THREADS, IGNITER_CALLBACK_RETRIES, IGNITER_SERVER_BALANCE, "
               "IGNITER_MAX_STREAMS, IGNITER_LEGACY_CALLBACK_TOKENS: docs/integrations.md, Configuration), else its default.",
    )
    parser.add_argument("target", metavar="MODULE:CONTRACTS",
                        help="a dict {name: ContractClass}, a list of contract classes or one class, by import path")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_whole_number(0, 65535), default=8000,
                        help="port to listen on (default: 8000; 0: any free port)")
    parser.add_argument("--store", metavar="URL", default=None,
                        help="store URL shared by all workers (default: $IGNITER_STORE_URL, else memory://)")
    parser.add_argument("--workers", type=_whole_number(1), default=1,
                        help="worker processes (default: 1; >1 needs a shared store)")
    parser.add_argument("--balance", choices=["supervisor", "reuseport", "shared"], default=None, type=str.lower,
                        help="with --workers > 1, how connections reach the workers: supervisor (the default on "
                             "Linux) accepts each one and hands it to the worker with the fewest open connections; "
                             "reuseport gives each worker a SO_REUSEPORT socket of its own, the kernel spreading "
                             "connections by a hash (Linux); shared is uvicorn's one socket shared by the workers "
                             "(the default elsewhere); default: $IGNITER_SERVER_BALANCE when set")
    parser.add_argument("--no-reuse-port", dest="reuse_port", action="store_false",
                        help="the same as --balance shared")
    parser.add_argument("--token-env", metavar="VAR", default=None,
                        help="require 'Authorization: Bearer <token>', the token read from environment variable VAR "
                             "(default: $IGNITER_SERVER_TOKEN when set, else no token)")
    parser.add_argument("--threads", type=_whole_number(0, unit="threads"), default=None, metavar="N",
                        help="threads per worker running store and contract work at once (default: "
                             "$IGNITER_SERVER_THREADS, else 40); 1-2 shorten the tail of store-bound contracts; 0 "
                             "runs that work on the event loop (SQLite or memory store, nodes that never wait on a "
                             "network)")
    parser.add_argument("--max-streams", type=_whole_number(1, unit="streams"), default=None, metavar="N",
                        help="live event streams each worker keeps open at once; more get 503 (default: "
                             "$IGNITER_MAX_STREAMS, else 100)")
    parser.add_argument("--max-body-bytes", type=_whole_number(1, unit="bytes"), default=None,
                        help="larger request bodies get 413 (default: $IGNITER_MAX_BODY_BYTES, else 1000000)")
    parser.add_argument("--cors-origin", action="append", default=None, metavar="ORIGIN",
                        help="allow browser calls from ORIGIN (repeatable; default: $IGNITER_CORS_ORIGINS, "
                             "comma-separated, else CORS is off)")
    parser.add_argument("--public-url", metavar="URL", default=None,
                        help="this server's base URL as other servers reach it; remote nodes then ask to be called "
                             "back there when their remote execution finishes (default: $IGNITER_PUBLIC_URL, else "
                             "no callbacks)")
    parser.add_argument("--callback-retries", type=_whole_number(0, unit="retries"), default=None, metavar="N",
                        help="how many times a callback this server sends (an execution finished: reported to the URL the "
                             "caller gave, e.g. the server whose remote node started it) is retried after its first "
                             "attempt, with back-off (default: $IGNITER_CALLBACK_RETRIES, else 5)")
    parser.add_argument("--legacy-callback-tokens", action=argparse.BooleanOptionalAction, default=None,
                        help="whether the callback route still takes callback tokens without a tag (handed out before "
                             "tags existed), judging them by the store; --no-legacy-callback-tokens refuses them with "
                             "401 before any store read (default: $IGNITER_LEGACY_CALLBACK_TOKENS, else on)")
    parser.add_argument("--log-level", default=None, choices=["critical", "error", "warning", "info", "debug"],
                        type=str.lower,  # any case, as IGNITER_LOG_LEVEL
                        help="uvicorn's and igniter_nb's log level (default: $IGNITER_LOG_LEVEL, else info)")
    parser.add_argument("--env-file", metavar="PATH", default=None,
                        help="read settings from PATH's KEY=value lines (a .env file), each value as written ('#' and "
                             "'$' included); a variable already set in the environment wins, a flag wins over both")
    parser.set_defaults(run=_serve)


_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def read_env_file(path: str) -> dict[str, str]:
    """The ``KEY=value`` lines of an env file (``.env``), each value as written: no ``$`` expansion, no escapes, ``#``
    a comment only at the start of a line. An ``export`` before the key and one pair of matching quotes around the
    value are dropped. Raises :class:`CommandError` naming the file and the line number of any other line (never its
    text: it may hold a secret)."""
    shown = f"--env-file {path}"
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read(1_000_001)
    except OSError as exc:
        raise CommandError(f"{shown}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{shown}: not UTF-8 text (byte {exc.start})") from exc
    if len(text) > 1_000_000:
        raise CommandError(f"{shown}: longer than 1,000,000 characters; an env file holds a few settings")
    found: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export") and line[6:7] in (" ", "\t"):
            line = line[6:].lstrip()
        key, equals, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not _ENV_KEY.fullmatch(key):
            raise CommandError(f"{shown}, line {number}: not a KEY=value line (KEY: letters, digits and _, not "
                               "starting with a digit; a comment starts with #)")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if "\0" in value:
            raise CommandError(f"{shown}, line {number}: the value of {key} holds a NUL character, which no "
                               "environment variable can")
        found[key] = value
    return found


def _serve(args: argparse.Namespace) -> int:
    try:
        from igniter_nb.server.serve import ServeError, serve
    except ImportError as exc:
        raise CommandError(f"the server needs its extra: pip install 'igniter_nb[server]' ({exc})") from exc
    from igniter_nb.settings import LEGACY_CALLBACK_TOKENS

    # Every worker process builds its app from the environment it inherits (server/serve.py): the env file's settings
    # and the flag travel there, the flag over the variable it wins against.
    from_file = read_env_file(args.env_file) if args.env_file is not None else {}
    added = [key for key in from_file if key not in os.environ]
    os.environ.update({key: from_file[key] for key in added})
    before = os.environ.get(LEGACY_CALLBACK_TOKENS)
    if args.legacy_callback_tokens is not None:
        os.environ[LEGACY_CALLBACK_TOKENS] = "1" if args.legacy_callback_tokens else "0"
    try:
        return serve(args.target, host=args.host, port=args.port, store=args.store, workers=args.workers,
                     token_env=args.token_env, max_body_bytes=args.max_body_bytes, cors_origins=args.cors_origin,
                     log_level=args.log_level, public_url=args.public_url, threads=args.threads,
                     reuse_port=args.reuse_port, max_streams=args.max_streams, balance=args.balance,
                     callback_retries=args.callback_retries)
    except ServeError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        if before is None:
            os.environ.pop(LEGACY_CALLBACK_TOKENS, None)
        else:
            os.environ[LEGACY_CALLBACK_TOKENS] = before
        for key in added:
            os.environ.pop(key, None)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="igniter-nb", description="igniter_nb: contracts, workflows, notebooks.")
    parser.add_argument("--version", action="version", version=f"igniter-nb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_serve_command(commands)
    add_new_command(commands)
    return parser


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    return [name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``igniter-nb`` console script; returns the process exit code."""
    _tolerant_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if getattr(args, "run", None) is None:  # a usage error, as argparse reports one: stdout stays the output's
            parser.print_usage(sys.stderr)
            print(f"igniter-nb: error: choose a command: {', '.join(_command_names(parser))} (igniter-nb --help "
                  "describes them)", file=sys.stderr)
            return 2
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OutputError as exc:  # `igniter-nb --version > /dev/full`
        _silence_stdout()
        print(f"igniter-nb: error: cannot write to standard output: {exc}", file=sys.stderr)
        return 1
    run = args.run
    try:
        code = int(run(args))
        _flush_stdout()  # here, where a closed pipe or a full disk is caught, not in the interpreter's exit
        return code
    except BrokenPipeError:  # the reader of our output went away (`igniter-nb new ... | head -1`): end as Unix tools do
        _silence_stdout()
        return 141  # 128 + SIGPIPE
    except OutputError as exc:  # `> /dev/full`: one line, and no second failure when the interpreter flushes at exit
        _silence_stdout()
        print(f"igniter-nb {args.command}: error: cannot write to standard output: {exc} (the command's work is "
              "done and kept)", file=sys.stderr)
        return 1
    except CommandError as exc:
        print(f"igniter-nb {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the server runs (uvicorn handles its own): no traceback
        print(f"igniter-nb {args.command}: interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:  # SIGTERM or SIGHUP while `new` writes: what it wrote is undone, as on Ctrl-C
        print(f"igniter-nb {args.command}: terminated by {exc.name}", file=sys.stderr)
        return 128 + exc.signum


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's flush at exit does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (captured): nothing to flush
        pass


def _tolerant_output() -> None:
    """Text the terminal's encoding cannot show (a file named ``überweisung.py`` under ``PYTHONIOENCODING=ascii`` or
    a C locale) is printed escaped (``\\xfc``) rather than failing the command after its work is done."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors="backslashreplace")


if __name__ == "__main__":
    # `python -m igniter_nb.cli` runs this file as __main__, a second copy of the module: the subcommands raise
    # igniter_nb.cli.CommandError, which only igniter_nb.cli's own main catches.
    from igniter_nb.cli import main as package_main

    sys.exit(package_main())
