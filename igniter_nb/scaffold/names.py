"""Which names the generators accept, and the names they derive (``LeadWorkflow`` → module ``lead_workflow``).

Every check returns the problem as text naming the argument it came from (``NAME``, ``--inputs``, ...), so a
command can report all of them at once. Node names follow the engine's rule (``str.isidentifier()``, any
script); the generated code also needs them to survive the parser unchanged, hence the keyword and NFKC checks.
"""

from __future__ import annotations

import builtins
import importlib.util
import keyword
import re
import sys
import unicodedata
from pathlib import Path

MAX_NAME_LENGTH = 100
"""Longer names are refused, so messages and file names stay short; the file names' 255-byte limit (reached
sooner by names outside ASCII) is checked on the names themselves (``generate.MAX_FILE_NAME_BYTES``)."""

# Module-level names of the generated test and notebook: a contract class with one of these names would be
# overwritten by them.
GENERATED_GLOBALS = frozenset({"INPUTS", "CORRELATION", "PAYLOADS", "EXPECTED", "NOW", "CONTRACTS"})

MODULE_IMPORTS = {"Any": "from typing import Any"}
"""Names the generated module imports that a class name could take (``ig`` cannot: a class name is in CapWords)."""

WINDOWS_DEVICE_NAMES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in range(10))})
"""File names Windows keeps for devices, whatever their case and extension (``con.py``, ``Nul.ipynb``): a generated
module, notebook or project directory of such a name could not be made or opened there."""
_DEVICES = "CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9"

# Event names travel in JSON bodies and webhook configurations; keep them to what reads well in a URL, a log
# line and a Python string: a letter or underscore, then letters, digits and `_ . : -`.
_EVENT = re.compile(r"[^\W\d][\w.:-]*")
_EVENT_SEPARATORS = re.compile(r"[.:-]+")
_PROJECT = re.compile(r"[a-z](?:[a-z0-9_]*[a-z0-9])?")  # PEP 508: a distribution name ends with a letter or digit


def identifier_problem(name: str, argument: str) -> str | None:
    """Why ``name`` cannot be a node or parameter name in generated code, or ``None`` if it can."""
    if not name:
        return f"{argument}: a name cannot be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"{argument}: {_short(name)} is longer than {MAX_NAME_LENGTH} characters"
    if not name.isidentifier():
        return (f"{argument}: {_short(name)} is not a Python identifier (letters of any script, digits and "
                "underscores, not starting with a digit)")
    if keyword.iskeyword(name):
        return f"{argument}: {name!r} is a Python keyword"
    if name == "__debug__":
        return f"{argument}: '__debug__' cannot be assigned in Python (a parameter or function of that name does not compile)"
    if name.startswith("__") and not name.endswith("__"):
        # Inside the class body Python renames `__x` to `_Class__x` (name mangling): the compute's parameter
        # would no longer match the node it reads.
        return (f"{argument}: {_short(name)} starts with two underscores, which Python renames inside a class "
                f"(name mangling); write {_short(name.lstrip('_') or '_')}")
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:
        # Python reads identifiers in NFKC form: a parameter spelled this way would be another name than the
        # string naming the node, and the contract would not compile.
        problem = f"{argument}: {name!r} is not in NFKC form (Python would read it as {normal!r}); write {normal!r}"
        marks = sorted({f"U+{ord(ch):04X}" for ch in name if unicodedata.combining(ch)})
        if marks and unicodedata.normalize("NFC", name) == normal:
            # the two spellings look the same: say where they differ
            problem += (f" — its accented letters are written as a letter plus a combining mark "
                        f"({', '.join(marks)}), which the composed form writes as one letter")
        return problem
    return None


def class_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the generated contract's class name, or ``None``."""
    problem = identifier_problem(name, "NAME")
    if problem:
        return problem
    if name.startswith("_") or name[0].islower():
        suggestion = name.lstrip("_")
        suggestion = suggestion[:1].upper() + suggestion[1:] if suggestion else "LeadWorkflow"
        return f"NAME: {name!r} is not a class name in CapWords (for example {suggestion!r})"
    if name.startswith("Test"):
        # pytest's python_classes: the generated test imports the class, so pytest tries to collect it (a
        # PytestCollectionWarning, and a collection error under `-W error` or filterwarnings = error)
        return (f"NAME: {_short(name)} starts with 'Test': pytest would collect it as a test class wherever it is "
                "imported (a warning, an error under -W error); choose another name")
    if name in GENERATED_GLOBALS:
        return f"NAME: {name!r} is a name the generated test and notebook use for their own data"
    if name in MODULE_IMPORTS:
        return (f"NAME: {name!r} would replace `{name}`, which the generated module imports ({MODULE_IMPORTS[name]}) "
                "and annotates its functions with; choose another name")
    if hasattr(builtins, name):
        return f"NAME: {name!r} would shadow Python's built-in {name}"
    module = module_name(name)
    if module.upper() in WINDOWS_DEVICE_NAMES:
        return (f"NAME: its file {module + '.py'!r} is a device name on Windows ({_DEVICES}, in any case and with any "
                "extension): it could not be written, opened or checked out there; choose another name")
    return None


def module_name(class_name: str) -> str:
    """The module file stem for a class name: ``LeadWorkflow`` → ``lead_workflow``, ``HTTPServer`` →
    ``http_server``, ``Überweisung`` → ``überweisung``."""
    out: list[str] = []
    for i, ch in enumerate(class_name):
        if ch.isupper() and i > 0:
            before = class_name[i - 1]
            after = class_name[i + 1] if i + 1 < len(class_name) else ""
            if (before.islower() or before.isdigit() or (before.isupper() and after.islower())) and out[-1] != "_":
                out.append("_")
        out.append(ch.lower())
    return "".join(out)


def module_name_problem(module: str, directory: Path, *, argument: str = "NAME") -> str | None:
    """Why a top-level module ``module`` in ``directory`` would be a problem: not an identifier after
    lower-casing, or the name of a module that is importable already (the standard library, an installed
    package) — one of the two would hide the other."""
    if not module.isidentifier() or keyword.iskeyword(module) or unicodedata.normalize("NFKC", module) != module:
        return f"{argument}: its module name {module!r} is not a usable Python module name"
    if module in sys.stdlib_module_names or module in sys.builtin_module_names:
        return f"{argument}: its module name {module!r} is a module of Python's standard library; choose another name"
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        where = spec.origin or ", ".join(spec.submodule_search_locations or []) or "?"
        if not _inside(where, directory):
            return (f"{argument}: a module named {module!r} is already importable ({where}); the generated one "
                    "would hide it or be hidden by it — choose another name")
    return None


def await_node_name(event: str) -> str:
    """The await node (and compute parameter) name for an event: the event name with ``.``, ``:`` and ``-``
    runs replaced by ``_`` (``order.paid`` → ``order_paid``)."""
    return _EVENT_SEPARATORS.sub("_", event)


def event_name_problem(event: str) -> str | None:
    """Why ``event`` cannot be an awaited event's name in generated code, or ``None``."""
    if not event:
        return "--awaits: an event name cannot be empty"
    if len(event) > MAX_NAME_LENGTH:
        return f"--awaits: {_short(event)} is longer than {MAX_NAME_LENGTH} characters"
    if not _EVENT.fullmatch(event):
        return (f"--awaits: {_short(event)} is not an event name (a letter or underscore, then letters, digits "
                "and _ . : -)")
    node = await_node_name(event)
    problem = identifier_problem(node, "--awaits")
    if problem:
        return f"{problem} (the await node's name for event {event!r})" if node != event else problem
    return None


def project_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a project (its directory, its package and its distribution), or ``None``."""
    if not name:
        return "NAME: a project name cannot be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"NAME: {_short(name)} is longer than {MAX_NAME_LENGTH} characters"
    if not _PROJECT.fullmatch(name) or keyword.iskeyword(name):
        # The name is the import package (`NAME.contracts:CONTRACTS`) and the distribution name in
        # pyproject.toml, which PEP 508 limits to ASCII: lower-case letters, digits and underscores.
        return (f"NAME: {_short(name)} is not a project name: lower-case ASCII letters, digits and underscores, "
                "starting with a letter and ending with a letter or digit (it is the package you import and the "
                "name in pyproject.toml)")
    if name.upper() in WINDOWS_DEVICE_NAMES:
        return (f"NAME: {name!r} is a device name on Windows ({_DEVICES}, in any case): the project's directory and "
                "package could not be made or opened there; choose another name")
    return None


def _inside(location: str, directory: Path) -> bool:
    try:
        return Path(location).resolve().is_relative_to(directory.resolve())
    except (OSError, ValueError):
        return False


def _short(name: str) -> str:
    """``repr`` of a name, cut for messages (a hostile 10 MB argument stays a one-line error)."""
    return repr(name if len(name) <= 60 else name[:57] + "...")
