"""``igniter-nb serve MODULE:CONTRACTS``: the contracts object named, imported and checked, and when that fails, a
one-line :class:`ServeError` naming the module and the file and line of the user's code where it failed."""

from __future__ import annotations

import importlib
import os
from typing import Any

from igniter_nb._error_text import described, text_of
from igniter_nb.settings import redacted_line


class ServeError(Exception):
    """The command cannot start as asked; the message says what to change."""


def load_contracts(target: str) -> Any:
    """The object ``module:attribute`` names, checked to be something ``create_app(contracts=...)`` takes."""
    from igniter_nb.server.served import ServedContracts

    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ServeError(f"{target!r} is not MODULE:CONTRACTS (for example myapp.contracts:CONTRACTS)")
    if "/" in module_name or "\\" in module_name or module_name.endswith(".py"):
        # checked before importing: `m.py` would run m before failing, `./m.py` fails as a relative import
        stem = module_name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].removesuffix(".py") or "myapp"
        raise ServeError(f"{module_name!r} (from {target!r}) is a file path: MODULE is the module's dotted import "
                         f"name, such as {stem!r} (its directory the current one or on PYTHONPATH) or "
                         f"myapp.contracts")
    if module_name.startswith("."):  # importlib's answer is a TypeError about a missing "package" argument
        absolute = module_name.lstrip(".") or "myapp"
        raise ServeError(f"{module_name!r} (from {target!r}) is a relative module name, which serve does not take: "
                         f"MODULE is the module's full dotted import name, such as {absolute!r} (its directory the "
                         f"current one or on PYTHONPATH) or mypackage.{absolute}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if not _found(module_name, exc):  # the module itself (or its package) is not there
            raise ServeError(f"cannot import module {module_name!r} (from {target!r}): "
                             f"{redacted_line(exc) or type(exc).__name__}") from exc
        raise ServeError(f"importing module {module_name!r} (from {target!r}) failed{_failed_at(exc)}: "
                         f"{_first_line(exc)}") from exc
    except Exception as exc:  # the module itself raised while being imported
        raise ServeError(f"importing module {module_name!r} (from {target!r}) failed{_failed_at(exc)}: "
                         f"{_first_line(exc)}") from exc
    except SystemExit as exc:  # a script part run on import (argparse's parse_args() exits on igniter-nb's arguments)
        raise ServeError(f"importing module {module_name!r} (from {target!r}) called sys.exit({exc.code!r})"
                         f"{_failed_at(exc)}: a "
                         "module served must not run a script when imported; put that part under "
                         "`if __name__ == \"__main__\":`") from None
    found: Any = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise ServeError(f"module {module_name!r} has no attribute {attribute!r} (from {target!r})") from None
        except Exception as exc:  # a module-level __getattr__ or a property that raised
            raise ServeError(f"reading {target} failed{_failed_at(exc)}: {_first_line(exc)}") from exc
    try:
        ServedContracts(found)
    except (TypeError, ValueError) as exc:
        raise ServeError(f"{target!r}: {redacted_line(exc)}") from exc
    return found


def _found(module_name: str, exc: ImportError) -> bool:
    """Whether ``module_name`` itself was found, so that ``exc`` was raised by its code (an ``import`` of a package
    not installed, a name its import could not find) rather than by the module or one of its packages missing."""
    if not isinstance(exc, ModuleNotFoundError) or exc.name is None:
        return bool(_frames_run(exc))
    parts = module_name.split(".")
    return exc.name not in {".".join(parts[: i + 1]) for i in range(len(parts))}


def _frames_run(exc: BaseException) -> list[tuple[str, int]]:
    """The frames of ``exc``'s traceback past ``load_contracts`` and the import machinery: the code the contracts
    module ran (its own lines, and what they called), outermost first."""
    import traceback

    here = os.path.abspath(__file__)
    machinery = os.path.dirname(os.path.abspath(importlib.__file__))
    frames = [(frame.filename, frame.lineno) for frame in traceback.extract_tb(exc.__traceback__)
              if frame.lineno is not None]
    while frames and (frames[0][0].startswith("<") or os.path.abspath(frames[0][0]) == here
                      or os.path.dirname(os.path.abspath(frames[0][0])) == machinery):
        frames.pop(0)
    return frames


def _library_paths() -> tuple[str, ...]:
    """Where the files of Python's standard library, installed packages and igniter_nb itself live."""
    import sysconfig

    import igniter_nb

    paths = {sysconfig.get_paths().get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.add(os.path.dirname(os.path.abspath(igniter_nb.__file__)))
    return tuple(os.path.join(os.path.abspath(path), "") for path in paths if path)


def _user_frame(exc: BaseException) -> tuple[str, int] | None:
    """Where the contracts module failed: the innermost frame run in the user's own files (not Python's, not an
    installed package's, not igniter_nb's), the module's line that raised or called what raised; for a module
    installed as a package, its own outermost line."""
    frames = _frames_run(exc)
    libraries = _library_paths()
    own = [(name, line) for name, line in frames
           if not name.startswith("<") and not os.path.abspath(name).startswith(libraries)]
    if own:
        return own[-1]
    return frames[0] if frames and not frames[0][0].startswith("<") else None


def _failed_at(exc: BaseException) -> str:
    """`` at FILE:LINE`` for the user's line where ``exc`` arose; empty for a ``SyntaxError`` (its text names the
    file and line already) or when no frame is the user's."""
    if isinstance(exc, SyntaxError):
        return ""
    where = _user_frame(exc)
    return f" at {where[0]}:{where[1]}" if where else ""


def _first_line(exc: BaseException) -> str:
    """``Type: first non-blank line of the message`` (passwords hidden, cut as every quoted cause is: the shared
    ``described``/``redacted_line``), with how many lines were left out, or ``Type`` alone: one line on stderr,
    whatever the exception's text (an exception whose ``__str__`` raises included)."""
    text = text_of(exc)
    left_out = sum(1 for line in text.splitlines() if line.strip()) - 1
    more = f" ({left_out} more line{'s' if left_out > 1 else ''})" if left_out > 0 else ""
    return described(exc, redacted_line(text)) + more


__all__ = ["ServeError", "load_contracts"]
