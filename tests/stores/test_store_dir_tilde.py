"""``FileStore("~/igniter")``, ``--store file://~/igniter``: Python does not expand ``~``, so the store went into a
directory literally named ``~`` under the current one — the data somewhere unexpected, and a ``~`` folder that
``rm -rf ~`` would "clean up" by deleting the home directory. The file and parquet stores expand a leading ``~``
(``./~`` still names a folder called ``~``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.stores import FileStore, ParquetStore, from_url


@pytest.mark.parametrize("open_store", [lambda: FileStore("~/igniter"), lambda: ParquetStore("~/igniter"),
                                        lambda: from_url("file://~/igniter"), lambda: from_url("parquet://~/igniter")])
def test_a_leading_tilde_is_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               open_store: Callable[[], Any]) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    store = open_store()
    store.save({"execution_id": "ex-1"})
    assert store.root == home / "igniter"
    assert list(cwd.iterdir()) == []
    store.close()


def test_dot_slash_tilde_still_names_a_folder_called_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert FileStore("./~/igniter").root == tmp_path / "~" / "igniter"
