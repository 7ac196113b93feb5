"""`igniter-nb new project shop` where `shop` (or `shop/shop`, `shop/tests`, `shop/notebooks`) is a symbolic link
to a directory elsewhere: the project's files were written through it, outside `--dir`. Such a link is refused by
name, with where it points, and nothing is written; a dangling one was refused already."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from igniter_nb.cli import main


@pytest.mark.parametrize("link", ["shop", "shop/shop", "shop/tests", "shop/notebooks"])
def test_a_link_to_a_directory_elsewhere_is_refused(tmp_path: Path, capsys: Any, link: str) -> None:
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (here / link).parent.mkdir(parents=True, exist_ok=True)
    (here / link).symlink_to(elsewhere, target_is_directory=True)
    assert main(["new", "project", "shop", "--dir", str(here)]) == 2
    err = capsys.readouterr().err
    assert f"{here / link} is a symbolic link (to {elsewhere})" in err and "nothing was written" in err, err
    assert list(elsewhere.iterdir()) == []
    assert sorted(str(p.relative_to(here)) for p in here.rglob("*")) == sorted(
        {str(Path(link))} | {str(parent) for parent in Path(link).parents if str(parent) != "."})
