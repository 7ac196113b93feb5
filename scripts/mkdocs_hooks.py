"""MkDocs hooks: put the notebooks and the change log into the site without copying them under docs/.

The notebooks live in ``notebooks/`` (nbval runs them there). At build time each is written to a build folder
(``.cache/docs-notebooks/``, gitignored) without its saved widget state, and added to the site from there, so
mkdocs-jupyter renders its stored outputs with each widget's static HTML view: the live widget views would need
a widget manager fetched from a CDN, which an offline reader (and CI) cannot load. The change log at the root
is added as ``changelog.md``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / ".cache" / "docs-notebooks"


def static_copy(notebook: Path, target: Path) -> None:
    """Write the notebook without its widget state (outputs untouched); rewrite only when the content changed."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("widgets", None)
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # write-then-rename: a concurrent build (a test and `make docs`) never reads half a file
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, target)


# Before mkdocs-jupyter's own on_files (default priority 0), which wraps the notebook files it will render.
@event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        static_copy(notebook, BUILD / "notebooks" / notebook.name)
        # A plain File rooted at the build folder (not File.generated): mkdocs-jupyter's wrapper reads the
        # source path from src_dir + src_uri.
        files.append(File(f"notebooks/{notebook.name}", src_dir=str(BUILD), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    files.append(File.generated(config, "changelog.md", abs_src_path=str(ROOT / "CHANGELOG.md")))
    return files
