"""The IGNITER_* environment variables (issue 15 point 5): each is read when first needed, never at import; an
argument in code wins over the variable, the variable over the default; a bad value is a SettingsError naming
the variable (and its value, except the token's, and never a store URL's password)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb import settings
from igniter_nb.config import configure, default_store
from igniter_nb.errors import SettingsError

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

BAD = {
    "IGNITER_STORE_URL": "nosuch://x",
    "IGNITER_SERVER_TOKEN": "two words",
    "IGNITER_LOG_LEVEL": "verbose",
    "IGNITER_MAX_BODY_BYTES": "1MB",
    "IGNITER_PUBLIC_URL": "ftp://files.example.com",
    "IGNITER_CORS_ORIGINS": "https://app.example.com/path",
    "IGNITER_SERVER_THREADS": "0",
    "IGNITER_CALLBACK_RETRIES": "-1",
    "IGNITER_SERVER_BALANCE": "kernel",
    "IGNITER_MAX_STREAMS": "0",
    "IGNITER_LEGACY_CALLBACK_TOKENS": "maybe",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in settings.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def igniter_logger() -> Iterator[logging.Logger]:
    """The igniter_nb logger, its level put back after the test (levels are process-wide)."""
    logger = logging.getLogger("igniter_nb")
    level = logger.level
    try:
        yield logger
    finally:
        logger.setLevel(level)


@pytest.fixture
def fresh_default() -> Iterator[None]:
    """No default store configured during the test; the one before put back, and whatever it built closed."""
    from igniter_nb import config

    saved, config._default = config._default, None
    try:
        yield
    finally:
        built, config._default = config._default, saved
        if built is not None and built is not saved:
            built.close()


def test_the_bad_values_are_bad() -> None:
    assert set(BAD) == set(settings.VARIABLES)


def test_importing_reads_no_variable_and_bad_values_do_not_break_it() -> None:
    """Every IGNITER_* variable set to a bad value: importing the package and its service modules succeeds, reads
    none of them (os.environ is watched) and configures no logger; the first use then fails naming the variable."""
    code = """
import json, logging, os
read = []
class Watched(type(os.environ)):
    def __getitem__(self, key):
        if str(key).startswith("IGNITER_"):
            read.append(key)
        return super().__getitem__(key)
os.environ.__class__ = Watched
import igniter_nb, igniter_nb.config, igniter_nb.settings, igniter_nb.server, igniter_nb.server.app
import igniter_nb.server.serve, igniter_nb.integrations.rq, igniter_nb.integrations.webhooks, igniter_nb.cli
levels = [logging.getLogger("igniter_nb").level, logging.getLogger().level, len(logging.getLogger().handlers)]
read_at_import = list(read)
failures = []
for fix in ("IGNITER_LOG_LEVEL", "IGNITER_STORE_URL"):
    try:
        igniter_nb.config.default_store()
    except igniter_nb.SettingsError as exc:
        failures.append([str(exc), exc.context["variable"]])
    os.environ[fix] = "info" if fix == "IGNITER_LOG_LEVEL" else "memory://"
print(json.dumps({"read": read_at_import, "then": read, "levels": levels, "failures": failures}))
"""
    env = {**os.environ, **BAD, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["read"] == [] and "IGNITER_STORE_URL" in seen["then"]  # the watch does see reads
    assert seen["levels"] == [logging.NOTSET, logging.WARNING, 0]
    (level, level_variable), (store, store_variable) = seen["failures"]
    assert level_variable == "IGNITER_LOG_LEVEL" and "'verbose' is not a log level" in level
    assert store_variable == "IGNITER_STORE_URL" and "nosuch://x" in store and "unknown store URL scheme" in store


def test_the_default_store_comes_from_the_variable(clean_env: pytest.MonkeyPatch, fresh_default: None,
                                                    tmp_path: Path) -> None:
    clean_env.setenv("IGNITER_STORE_URL", f"  sqlite:///{tmp_path / 'env.db'}  ")
    store = default_store()
    assert type(store).__name__ == "SQLStore" and default_store() is store
    configure(store="memory://")  # code wins over the variable
    assert type(default_store()).__name__ == "MemoryStore"


@pytest.mark.parametrize(("url", "says"), [
    ("nosuch://x", "unknown store URL scheme 'nosuch'"),
    ("file://", "names no directory"),
    ("no-scheme-at-all", "has no scheme"),
    ("postgresql://app:hunter2@db:notaport/app", "ValueError"),
    ("postgresql+nodriver://app:hunter2@db/app", "NoSuchModuleError"),
])
def test_a_bad_store_url_names_the_variable_and_hides_the_password(clean_env: pytest.MonkeyPatch,
                                                                   fresh_default: None, url: str, says: str) -> None:
    clean_env.setenv("IGNITER_STORE_URL", url)
    with pytest.raises(SettingsError) as caught:
        default_store()
    message = str(caught.value)
    assert message.startswith("IGNITER_STORE_URL=") and says in message
    assert caught.value.context["variable"] == "IGNITER_STORE_URL"
    assert "hunter2" not in message and caught.value.__cause__ is None and caught.value.__suppress_context__
    if "hunter2" in url:
        assert "app:***@db" in message
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ig.IgniterError)


@pytest.mark.parametrize(("variable", "value", "read", "says"), [
    ("IGNITER_MAX_BODY_BYTES", "1MB", settings.max_body_bytes, "not a whole number of bytes"),
    ("IGNITER_MAX_BODY_BYTES", "-5", settings.max_body_bytes, "not a whole number of bytes"),
    ("IGNITER_MAX_BODY_BYTES", "1e6", settings.max_body_bytes, "not a whole number of bytes"),
    ("IGNITER_LOG_LEVEL", "verbose", settings.log_level_name, "is not a log level: use one of critical, error"),
    ("IGNITER_LOG_LEVEL", "trace", settings.apply_log_level, "is not a log level"),
    ("IGNITER_PUBLIC_URL", "ftp://files.example.com", settings.public_url, "http:// or https:// base URL"),
    ("IGNITER_PUBLIC_URL", "https://x.example.com/?a=1", settings.public_url, "http:// or https:// base URL"),
    ("IGNITER_PUBLIC_URL", "localhost:8000", settings.public_url, "http:// or https:// base URL"),
    ("IGNITER_CORS_ORIGINS", "https://ok.example.com, https://app.example.com/path", settings.cors_origins,
     "'https://app.example.com/path' is not an origin"),
    ("IGNITER_CORS_ORIGINS", "app.example.com", settings.cors_origins, "is not an origin"),
    ("IGNITER_CORS_ORIGINS", "https://a.example.com,", settings.cors_origins, "'' is not an origin"),
    ("IGNITER_CORS_ORIGINS", "https://a.example.com:99999", settings.cors_origins, "is not an origin"),
    ("IGNITER_CORS_ORIGINS", "https://user@a.example.com", settings.cors_origins, "is not an origin"),
    ("IGNITER_SERVER_THREADS", "2.5", settings.server_threads, "not a whole number of threads >= 0"),
    ("IGNITER_SERVER_THREADS", "two", settings.server_threads, "not a whole number of threads >= 0"),
    ("IGNITER_SERVER_THREADS", "-1", settings.server_threads, "not a whole number of threads >= 0"),
    ("IGNITER_CALLBACK_RETRIES", "-1", settings.callback_retries, "not a whole number of retries >= 0"),
    ("IGNITER_CALLBACK_RETRIES", "many", settings.callback_retries, "not a whole number of retries >= 0"),
    ("IGNITER_CALLBACK_RETRIES", "2.0", settings.callback_retries, "not a whole number of retries >= 0"),
    ("IGNITER_MAX_STREAMS", "0", settings.max_streams, "IGNITER_MAX_STREAMS='0' is not a whole number of streams >= 1"),
    ("IGNITER_MAX_STREAMS", "lots", settings.max_streams, "not a whole number of streams >= 1 (e.g. 100)"),
    ("IGNITER_SERVER_BALANCE", "kernel", settings.server_balance, "is not a way to balance connections: use one of "
                                                                  "supervisor, reuseport, shared"),
    ("IGNITER_SERVER_BALANCE", "no-reuse-port", settings.server_balance, "is not a way to balance connections"),
    ("IGNITER_LEGACY_CALLBACK_TOKENS", "maybe", settings.legacy_callback_tokens, "is not a yes or no: use 1, true"),
])
def test_a_bad_value_names_the_variable_and_the_value(clean_env: pytest.MonkeyPatch, variable: str, value: str,
                                                      read: Any, says: str) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        read()
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r}") and says in message
    assert caught.value.context["variable"] == variable


@pytest.mark.parametrize("token", ["zq1 zq2", " zq3", "zq4\nzq5", "zq6\tzq7", "zq8\x07", "   "])
def test_a_bad_token_names_the_variable_but_never_shows_the_value(clean_env: pytest.MonkeyPatch, token: str) -> None:
    clean_env.setenv("IGNITER_SERVER_TOKEN", token)
    with pytest.raises(SettingsError) as caught:
        settings.server_token()
    message = str(caught.value)
    assert message.startswith("IGNITER_SERVER_TOKEN contains whitespace or control characters")
    assert "its value is not shown" in message
    assert "zq" not in message
    assert token not in repr(caught.value) and token not in repr(caught.value.context)


def test_arguments_win_over_variables_and_variables_over_defaults(clean_env: pytest.MonkeyPatch) -> None:
    assert (settings.server_token(), settings.max_body_bytes(), settings.public_url(), settings.cors_origins(),
            settings.log_level_name(), settings.store_url()) == (None, 1_000_000, None, None, None, None)
    clean_env.setenv("IGNITER_SERVER_TOKEN", "from-env")
    clean_env.setenv("IGNITER_MAX_BODY_BYTES", " 2_000 ")
    clean_env.setenv("IGNITER_PUBLIC_URL", "https://igniter.example.com/base")
    clean_env.setenv("IGNITER_CORS_ORIGINS", "https://a.example.com , http://localhost:3000,*")
    clean_env.setenv("IGNITER_LOG_LEVEL", "DEBUG")
    clean_env.setenv("IGNITER_STORE_URL", "  memory://  ")
    assert settings.server_token() == "from-env" and settings.server_token("given") == "given"
    assert settings.max_body_bytes() == 2000 and settings.max_body_bytes(1) == 1
    assert settings.public_url() == "https://igniter.example.com/base"
    assert settings.public_url("http://given:8000") == "http://given:8000"
    assert settings.cors_origins() == ["https://a.example.com", "http://localhost:3000", "*"]
    assert settings.cors_origins([]) == [] and settings.cors_origins(("https://b.example.com",)) == [
        "https://b.example.com"]
    assert settings.log_level_name() == "debug" and settings.store_url() == "memory://"
    for name in ("IGNITER_SERVER_TOKEN", "IGNITER_MAX_BODY_BYTES", "IGNITER_PUBLIC_URL", "IGNITER_CORS_ORIGINS"):
        clean_env.setenv(name, "")  # empty is unset
    assert (settings.server_token(), settings.max_body_bytes(), settings.public_url(),
            settings.cors_origins()) == (None, 1_000_000, None, None)


def test_callback_retries_come_from_the_argument_else_the_variable_else_5(clean_env: pytest.MonkeyPatch) -> None:
    assert settings.callback_retries() == 5
    clean_env.setenv("IGNITER_CALLBACK_RETRIES", " 2 ")
    assert settings.callback_retries() == 2 and settings.callback_retries(7) == 7 and settings.callback_retries(0) == 0
    clean_env.setenv("IGNITER_CALLBACK_RETRIES", "")  # empty is unset
    assert settings.callback_retries() == 5
    for bad in (-1, True, 2.5, "2"):
        with pytest.raises(SettingsError, match="callback_retries must be an int >= 0"):
            settings.callback_retries(bad)  # type: ignore[arg-type]


def test_max_streams_come_from_the_argument_else_the_variable_else_100(clean_env: pytest.MonkeyPatch) -> None:
    assert settings.max_streams() == 100
    clean_env.setenv("IGNITER_MAX_STREAMS", " 3 ")
    assert settings.max_streams() == 3 and settings.max_streams(7) == 7
    clean_env.setenv("IGNITER_MAX_STREAMS", "")  # empty is unset
    assert settings.max_streams() == 100
    for bad in (0, -1, True, 2.5, "2"):
        with pytest.raises(SettingsError, match="max_streams must be an int >= 1"):
            settings.max_streams(bad)  # type: ignore[arg-type]


def test_server_threads_come_from_the_argument_else_the_variable_else_the_threadpool_default(
        clean_env: pytest.MonkeyPatch) -> None:
    assert settings.server_threads() is None
    clean_env.setenv("IGNITER_SERVER_THREADS", " 2 ")
    assert settings.server_threads() == 2 and settings.server_threads(5) == 5 and settings.server_threads(0) == 0
    clean_env.setenv("IGNITER_SERVER_THREADS", "0")
    assert settings.server_threads() == 0
    for bad in (-1, -3, True, 2.5, "2"):
        with pytest.raises(SettingsError, match="threads must be an int >= 0"):
            settings.server_threads(bad)  # type: ignore[arg-type]


def test_the_log_level_sets_the_igniter_nb_logger_only(clean_env: pytest.MonkeyPatch,
                                                       igniter_logger: logging.Logger) -> None:
    root = logging.getLogger()
    root_state = (root.level, list(root.handlers))
    igniter_logger.setLevel(logging.NOTSET)
    settings.apply_log_level()  # unset: nothing changes
    assert igniter_logger.level == logging.NOTSET
    clean_env.setenv("IGNITER_LOG_LEVEL", "Debug")
    settings.apply_log_level()
    assert igniter_logger.level == logging.DEBUG
    assert logging.getLogger("igniter_nb.server").getEffectiveLevel() == logging.DEBUG
    assert (root.level, list(root.handlers)) == root_state and igniter_logger.handlers == []
    igniter_logger.setLevel(logging.ERROR)  # a level set in code wins over the variable
    settings.apply_log_level()
    assert igniter_logger.level == logging.ERROR


def test_the_default_store_applies_the_log_level(clean_env: pytest.MonkeyPatch, fresh_default: None,
                                                 igniter_logger: logging.Logger) -> None:
    igniter_logger.setLevel(logging.NOTSET)
    clean_env.setenv("IGNITER_LOG_LEVEL", "warning")
    clean_env.setenv("IGNITER_STORE_URL", "memory://")
    default_store()
    assert igniter_logger.level == logging.WARNING


def test_redact_url_hides_passwords_in_urls_and_messages() -> None:
    url = "postgresql+psycopg://app:s3cr%40t@db:5432/app"
    assert settings.redact_url(url) == "postgresql+psycopg://app:***@db:5432/app"
    assert settings.redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert settings.redact_url("redis://:pw@127.0.0.1/0") == "redis://:***@127.0.0.1/0"
    message = settings.redact_url(url, f"cannot use {url}: password s3cr%40t rejected")
    assert "s3cr" not in message and "app:***@db" in message


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://u:pw@127.0.0.1:1/db?password=s3cretq", "postgresql://u:***@127.0.0.1:1/db?password=***"),
    ("redis://127.0.0.1:1/0?namespace=a&password=s3cretq", "redis://127.0.0.1:1/0?namespace=a&password=***"),
    ("postgresql://u@h/db?sslmode=require&PassWord=s3cretq&x=1", "postgresql://u@h/db?sslmode=require&PassWord=***&x=1"),
    ("postgresql://u:s3cret@qq7@127.0.0.1:1/db", "postgresql://u:***@127.0.0.1:1/db"),
    ("redis://:s3cret@qq7@127.0.0.1:1/0?password=", "redis://:***@127.0.0.1:1/0?password="),
])
def test_redact_url_hides_a_password_in_the_query_or_holding_an_at_sign(url: str, shown: str) -> None:
    """libpq and redis-py both take ``?password=`` in the URL, and a password holding an unencoded ``@`` is read
    up to the last ``@`` of the host part: neither may be shown, in the URL or in a driver's message about it."""
    assert settings.redact_url(url) == shown
    message = settings.redact_url(url, f"cannot use {url}: failed to resolve host 'qq7@127.0.0.1'")
    assert "s3cret" not in message and ("qq7" not in message or "qq7" not in url), message


def test_the_docs_table_lists_every_variable_and_the_scaffold_uses_only_them() -> None:
    text = (DOCS / "integrations.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `IGNITER_")]
    assert [row.split("`")[1] for row in rows] == [*settings.VARIABLES, *settings.SWITCHES]
    read = {name for path in (ROOT / "igniter_nb").rglob("*.py") for name in _environment_names(path)}
    assert read <= {*settings.VARIABLES, *settings.SWITCHES, *_SERVE_INTERNAL}, "a variable the table lacks"
    template = (ROOT / "igniter_nb/scaffold/templates/project_env.example.tmpl").read_text()
    named = {line.lstrip("# ").split("=", 1)[0] for line in template.splitlines() if "IGNITER_" in line.split("=")[0]}
    assert named <= set(settings.VARIABLES) and {"IGNITER_STORE_URL", "IGNITER_SERVER_TOKEN"} <= named
    for page in ("server.md", "stores.md"):
        assert "integrations.md#configuration" in (DOCS / page).read_text(), page


_SERVE_INTERNAL = {"IGNITER_NB_SERVE_TARGET", "IGNITER_NB_SERVE_STORE", "IGNITER_NB_SERVE_TOKEN_ENV",
                   "IGNITER_NB_SERVE_MAX_BODY_BYTES", "IGNITER_NB_SERVE_CORS_ORIGINS", "IGNITER_NB_SERVE_PUBLIC_URL",
                   "IGNITER_NB_SERVE_THREADS", "IGNITER_NB_SERVE_MAX_STREAMS", "IGNITER_NB_SERVE_CALLBACK_RETRIES"}


def _environment_names(path: Path) -> set[str]:
    import re

    return set(re.findall(r"[\"'](IGNITER_[A-Z_]+)[\"']", path.read_text()))


@pytest.mark.parametrize(("given", "message"), [
    ("https://a.example.com", "must be a list of origins"),  # a string was taken as its characters: 'h', 't', ...
    (["https://a.example.com/app"], "'https://a.example.com/app' is not an origin"),
    ([5], "5 is not an origin"),
    (42, "must be a list of origins"),
])
def test_cors_origins_given_as_an_argument_are_checked_as_the_variable_is(given: Any, message: str) -> None:
    with pytest.raises(settings.SettingsError, match=message):
        settings.cors_origins(given)
    assert settings.cors_origins(("https://a.example.com", "*")) == ["https://a.example.com", "*"]


def test_legacy_callback_tokens_from_the_argument_the_variable_or_the_default(clean_env: pytest.MonkeyPatch) -> None:
    assert settings.legacy_callback_tokens() is True
    for value, expected in (("0", False), (" OFF ", False), ("no", False), ("True", True), ("on", True)):
        clean_env.setenv("IGNITER_LEGACY_CALLBACK_TOKENS", value)
        assert settings.legacy_callback_tokens() is expected, value
    assert settings.legacy_callback_tokens(False) is False  # the argument wins
    with pytest.raises(SettingsError, match="legacy_callback_tokens must be True or False, got 0"):
        settings.legacy_callback_tokens(0)  # type: ignore[arg-type]
