"""``igniter-nb serve`` quotes what went wrong loading the contracts module or opening the store as one line, any
URL's password hidden; the whole error stays reachable as ``__cause__``. A module whose import raised a message of
several lines (a connection string with its password, then ``DETAIL:`` lines) printed all of it, password
included; a store path holding a newline broke the message over two lines, and the cause was dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from igniter_nb.cli import main
from igniter_nb.server.serve import ServeError, _check_store, load_contracts

SAID = "cannot reach postgresql://app:s3cr3t@db:5432/x (retrying)\nDETAIL: line two\nHINT: line three"


@pytest.mark.parametrize("kind", ["RuntimeError", "ImportError"])
def test_a_module_raising_a_long_message_is_one_line_without_the_password(
        tmp_path: Path, monkeypatch: Any, capsys: Any, kind: str) -> None:
    (tmp_path / "loud_contracts_mod.py").write_text(f"raise {kind}({SAID!r})\n")
    says = (f"importing module 'loud_contracts_mod' (from 'loud_contracts_mod:CONTRACTS') failed at "
            f"{tmp_path / 'loud_contracts_mod.py'}:1: {kind}: cannot reach postgresql://app:***@db:5432/x (retrying) "
            "(2 more lines)")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ServeError) as caught:
        load_contracts("loud_contracts_mod:CONTRACTS")
    assert caught.value.args[0] == says
    assert type(caught.value.__cause__).__name__ == kind and str(caught.value.__cause__) == SAID  # the whole
    assert main(["serve", "loud_contracts_mod:CONTRACTS", "--port", "1"]) == 2
    assert capsys.readouterr().err == f"igniter-nb serve: error: {says}\n"


def test_a_store_that_cannot_be_made_is_one_line_and_keeps_its_cause(tmp_path: Path) -> None:
    """A real FileStore whose directory cannot be made (a file sits in its path), the path holding a newline."""
    (tmp_path / "plain").write_text("")
    url = f"file://{tmp_path}/plain/a%0Ab"
    with pytest.raises(ServeError) as caught:
        _check_store(url, "--store")
    message = caught.value.args[0]
    assert message.startswith(f"--store {url!r}: FileStore(") and "cannot open the store's directory" in message
    assert "\n" not in message
    cause = caught.value.__cause__
    assert cause is not None and "\n" in str(cause)  # the whole, with its second line


def test_a_store_url_error_hides_the_password() -> None:
    url = "postgresql://u:s3cr3t@127.0.0.1:notaport/db"
    with pytest.raises(ServeError) as caught:
        _check_store(url, "IGNITER_STORE_URL")
    assert caught.value.args[0] == ("IGNITER_STORE_URL 'postgresql://u:***@127.0.0.1:notaport/db': store URL "
                                    "'postgresql://u:***@127.0.0.1:notaport/db' cannot be used: ValueError: invalid "
                                    "literal for int() with base 10: 'notaport'")
    assert caught.value.__cause__ is not None
