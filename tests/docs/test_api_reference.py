"""The API reference covers the public API, and every public function, class and method on it says what it
promises (a docstring). The pages are docs/reference/*.md; their ``::: path`` lines are what mkdocstrings renders.
"""

from __future__ import annotations

import importlib
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"

# Every namespace a user imports from, and where its public names are listed.
NAMESPACES = [
    "igniter_nb",
    "igniter_nb.errors",
    "igniter_nb.stores",
    "igniter_nb.notebook",
    "igniter_nb.server",
    "igniter_nb.llm",
    "igniter_nb.llm.testing",
    "igniter_nb.integrations",
    "igniter_nb.integrations.rq",
    "igniter_nb.integrations.webhooks",
    "igniter_nb.config",
    "igniter_nb.settings",
]


def directives() -> list[str]:
    """The object paths of every ``::: path`` line on the API pages."""
    found = []
    for page in sorted(REFERENCE.glob("*.md")):
        found += re.findall(r"^:::\s+(\S+)\s*$", page.read_text(encoding="utf-8"), flags=re.M)
    return found


def inventory(site: Path) -> list[str]:
    """The names in the site's objects.inv (Sphinx inventory v2): every object mkdocstrings rendered."""
    raw = (site / "objects.inv").read_bytes()
    header_end = 0
    for _ in range(4):  # four plain-text header lines, then zlib
        header_end = raw.index(b"\n", header_end) + 1
    lines = zlib.decompress(raw[header_end:]).decode().splitlines()
    return [line.split(" ", 1)[0] for line in lines if " py:" in line]


def resolve(path: str) -> Any:
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def public_names(module: ModuleType) -> list[str]:
    return list(getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")])


def test_every_public_name_is_on_an_api_page(built_site: Path) -> None:
    # the names each rendered object is documented under (an error re-exported by ig.llm is the one on the
    # errors page); a name counts as documented when an object it names is rendered under that same name
    documented: dict[int, set[str]] = {}
    for path in inventory(built_site):
        try:
            documented.setdefault(id(resolve(path)), set()).add(path.rsplit(".", 1)[-1])
        except (ImportError, AttributeError):
            continue
    missing = []
    for ns in NAMESPACES:
        module = importlib.import_module(ns)
        missing += [f"{ns}.{name}" for name in public_names(module)
                    if name not in documented.get(id(getattr(module, name)), set())]
    assert not missing, (
        "public names missing from the API reference (add a `::: path` line to a page under docs/reference/, "
        "and a docstring):\n  " + "\n  ".join(missing)
    )


def load_package() -> griffe.Object:
    return griffe.load("igniter_nb", search_paths=[str(ROOT)], resolve_aliases=True, resolve_external=False)


def rendered_members(obj: griffe.Object | griffe.Alias) -> Iterator[griffe.Object | griffe.Alias]:
    """The public members of ``obj``: no name starting with "_" (mkdocs.yml's filter); in a module, what
    ``__all__`` lists when it has one, else what the module defines itself."""
    for member in obj.members.values():
        if member.name.startswith("_"):
            continue
        if obj.is_module and member.is_alias and not member.is_exported:
            continue
        if obj.is_module and obj.exports and member.name not in obj.exports and not member.is_alias:
            continue
        yield member


# Classes that keep a documented protocol's promises without subclassing it (structural typing), or that mirror
# another class's API: their methods are documented once, on the protocol or the mirrored class.
IMPLEMENTS = {
    "igniter_nb.stores.base.StoreBase": "stores.base.ExecutionStore",
    "igniter_nb.llm.cache.MemoryCache": "llm.cache.ResponseCache",
    "igniter_nb.llm.cache.StoreCache": "llm.cache.ResponseCache",
    "igniter_nb.server.client.AsyncClient": "server.client.Client",
}


def documented_in_a_base(method: griffe.Object, package: griffe.Object) -> bool:
    """An override of a documented base-class (or protocol) method keeps that method's promise (a store's
    ``save``, a cache's ``get``)."""
    cls = method.parent
    if cls is None or not cls.is_class:
        return False
    try:
        classes = [cls, *cls.mro()]
    except Exception:  # a base griffe cannot resolve (outside the package)
        classes = [cls]
    classes += [package[IMPLEMENTS[c.path]] for c in list(classes) if c.path in IMPLEMENTS]
    return any(c is not cls and method.name in c.members and c.members[method.name].docstring for c in classes)


def undocumented(path: str, package: griffe.Object) -> Iterator[str]:
    root = package[path.removeprefix("igniter_nb.")] if path != "igniter_nb" else package
    seen: set[str] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        target = obj.final_target if obj.is_alias else obj
        if target.path in seen:
            continue
        seen.add(target.path)
        is_property = target.is_attribute and "property" in target.labels
        needs_docstring = target.is_class or target.is_function or is_property
        if needs_docstring and not target.docstring and (target.is_class or not documented_in_a_base(target, package)):
            yield target.path
        if target.is_module or target.is_class:
            stack += list(rendered_members(target))


def test_public_functions_classes_and_methods_have_docstrings() -> None:
    package = load_package()
    missing: list[str] = []
    for path in directives():
        missing += [name for name in undocumented(path, package) if name not in missing]
    assert not missing, (
        f"{len(missing)} public functions, classes, methods or properties on the API pages have no docstring "
        "(say in a line or two what each promises):\n  " + "\n  ".join(sorted(missing))
    )
