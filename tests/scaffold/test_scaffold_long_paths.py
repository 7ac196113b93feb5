"""A ``--dir`` (``--tests-dir``, ``--notebooks-dir``) the system cannot even look up — a name past 255 bytes, a path
past 4,096 — is refused as a bad argument, naming it and why, its text cut: it was reported as a write that failed
("writing failed and nothing was kept"), quoting the whole path and naming no argument."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from igniter_nb.cli import main
from tests.scaffold.generated import tree


@pytest.mark.parametrize("argument", ["--dir", "--tests-dir", "--notebooks-dir"])
@pytest.mark.parametrize("shape", ["long name", "long path"])
def test_a_directory_too_long_to_look_up_names_its_argument(tmp_path: Path, capsys: Any, argument: str,
                                                             shape: str) -> None:
    value = str(tmp_path / ("d" * 300)) if shape == "long name" else str(tmp_path) + "/ab" * 2000
    assert main(["new", "contract", "Lead", "--inputs", "a", "--dir", str(tmp_path), argument, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"igniter-nb new: error: {argument} {value[:20]}"), err
    assert "File name too long" in err and "writing failed" not in err, err
    assert len(err) < 400, err
    assert tree(tmp_path) == []


def test_a_project_directory_too_long_to_look_up_names_its_argument(tmp_path: Path, capsys: Any) -> None:
    value = str(tmp_path) + "/ab" * 2000
    assert main(["new", "project", "shop", "--dir", value]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"igniter-nb new: error: --dir {value[:20]}") and "File name too long" in err, err
    assert len(err) < 400, err
    assert tree(tmp_path) == []
