"""``sqlite:///~/x.db``: SQLAlchemy takes a URL's path as the file name as it is (no ``~`` expansion), so it named a
file in a folder literally called ``~`` under the working directory — silently, where one existed — while
``file://~/x`` is the home directory. It is refused with the URL to write instead, never expanded differently from
every other SQLAlchemy tool reading the same URL; ``./~/`` still names a folder called ``~``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores.sql import SQLStore
from igniter_nb.stores.url import from_url


@pytest.mark.parametrize("url", ["sqlite:///~/x.db", "sqlite:///~", "sqlite:///file:~/x.db?mode=ro&uri=true",
                                 "sqlite+pysqlite:///~/x.db"])
def test_a_tilde_in_a_sqlite_url_is_refused_with_the_url_to_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   url: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "~").mkdir()
    with pytest.raises(StoreArgumentError, match="does not expand '~'") as caught:
        from_url(url)
    assert "sqlite:///" + os.path.expanduser("~") in str(caught.value)
    assert os.listdir(tmp_path / "~") == []  # no database made in the folder named ~


def test_a_folder_named_tilde_is_spelled_with_dot_slash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "~").mkdir()
    store = SQLStore("sqlite:///./~/x.db")
    store.save({"execution_id": "e1"})
    store.close()
    assert (tmp_path / "~" / "x.db").is_file()
