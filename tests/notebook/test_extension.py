"""%load_ext igniter_nb: formatters and the %%contract magic, in a real in-process IPython shell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from contracts import PriceContract
from IPython.core.interactiveshell import InteractiveShell

import igniter_nb as ig
from igniter_nb.notebook.extension import sanitizer_path


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "igniter_nb")
    yield ip


def test_contract_magic_defines_a_class_in_the_namespace(shell):
    result = shell.run_cell(
        '%%contract Doubler\n'
        'c.input("total", type="numeric")\n'
        '\n'
        '@c.compute\n'
        'def doubled(total):\n'
        '    return total * FACTOR\n'
        'c.output("doubled")\n',
    )
    assert result.success, result.error_in_exec
    shell.user_ns["FACTOR"] = 3  # the body sees the notebook's globals when it runs
    cls = shell.user_ns["Doubler"]
    assert issubclass(cls, ig.Contract) and cls.__name__ == "Doubler"
    assert cls(total=2).result.doubled == 6


def test_contract_magic_errors_point_at_the_cell_line(shell):
    # cell lines are counted as the editor shows them: the %%contract line is line 1
    result = shell.run_cell('%%contract Broken\nc.input("total")\nc.output("missing")\n')
    assert not result.success
    err = result.error_in_exec
    assert isinstance(err, ig.CompileError)
    assert err.source_location.endswith(":3")
    assert "Broken" not in shell.user_ns


def _shown(shell, capsys, cell):
    capsys.readouterr()
    result = shell.run_cell(cell)
    assert not result.success
    return result.error_in_exec, re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)


def test_contract_magic_compile_errors_are_one_line_with_the_cell_line(shell, capsys):
    err, shown = _shown(shell, capsys, '%%contract Broken\nc.input("total")\n\nc.output("missing")\n')
    lines = shown.strip().splitlines()
    assert lines[0] == "ValidationError at cell line 4: Unknown output source 'missing' for output 'missing'"
    assert lines[1:] == ['  4 | c.output("missing")', "  [graph=Broken, node=missing, path=output.missing]"]
    assert "validators.py" not in shown and "Traceback" not in shown
    assert isinstance(err, ig.ValidationError) and err.__traceback__ is not None  # %debug still has it all
    err, shown = _shown(shell, capsys, '%%contract Twice\nc.input("a")\nc.input("a")\n')
    assert "Duplicate node name: a (first declared at cell line 2)" in shown and "  3 | c.input" in shown


def test_contract_magic_errors_of_the_cell_code_itself_are_short_too(shell, capsys):
    err, shown = _shown(shell, capsys, '%%contract Typo\nc.input("total")\nc.output(totl)\n')
    assert isinstance(err, NameError)
    assert shown.strip().splitlines() == ["NameError at cell line 3: name 'totl' is not defined",
                                          "  3 | c.output(totl)"]
    err, shown = _shown(shell, capsys, '%%contract Unclosed\nc.input("total"\n')
    assert isinstance(err, ig.CompileError) and isinstance(err.__cause__, SyntaxError)
    assert shown.strip().splitlines() == [
        "CompileError at cell line 2: the cell is not valid Python: '(' was never closed",
        '  2 | c.input("total"', "             ^", "  [graph=Unclosed]"]


def test_contract_magic_usage_errors(shell):
    assert not shell.run_cell("%%contract\nc.input('a')\n").success
    assert not shell.run_cell("%%contract A --bogus\nc.input('a')\n").success


def test_contract_magic_takes_non_ascii_class_names_and_refuses_non_identifiers(shell):
    result = shell.run_cell('%%contract Счёт\nc.input("сумма", type="numeric")\nc.output("сумма")\n')
    assert result.success, result.error_in_exec
    cls = shell.user_ns["Счёт"]
    assert cls.__name__ == "Счёт" and cls.compiled_graph().name == "Счёт"
    assert shell.run_cell("Счёт(сумма=2).result.сумма").result == 2
    # a name Python normalises (NFKC) is bound as Python spells it, so later cells find it
    assert shell.run_cell('%%contract ﬁle_check\nc.input("a")\nc.output("a")\n').success
    assert shell.run_cell("file_check.__name__").result == "file_check"
    for bad in ("1abc", "a-b", "class", "Na<b>me"):
        result = shell.run_cell(f'%%contract {bad}\nc.input("a")\nc.output("a")\n')
        assert isinstance(result.error_in_exec, ValueError), bad
        assert "identifier" in str(result.error_in_exec)


def test_contract_magic_show_displays_the_graph(shell):
    result = shell.run_cell('%%contract Shown --show\nc.input("a")\nc.output("a")\n')
    assert result.success
    data, _ = shell.display_formatter.format(result.result)
    assert "image/svg+xml" in data


def test_formatters_registered_for_every_object(shell):
    from igniter_nb.stores import MemoryStore

    c = PriceContract(order_total=1, country="UA")
    for obj, mime in [(PriceContract.graph, "image/svg+xml"), (c, "image/svg+xml"), (c.result, "text/html"),
                      (c.plan(), "text/html"), (c.diagnostics, "text/html"), (c.audit, "text/html"),
                      (MemoryStore(), "text/html")]:
        data, _ = shell.display_formatter.format(obj)
        assert "text/plain" in data and mime in data, type(obj)


def test_sanitizer_file_is_shipped_and_masks_ids_and_times():
    from nbval.plugin import get_sanitize_patterns

    path = Path(sanitizer_path())
    assert path.is_file() and path.parent.name == "notebook"
    patterns = get_sanitize_patterns(path.read_text())
    assert len(patterns) >= 5
    text = ("<PriceContract 1b4e28ba-2fa1-11d2-883f-0016d3cca427 waiting> token 9f86d081884c7d659a2feaa0c55ad015 "
            "at 2026-11-27T21:03:40.825806+00:00 / 2026-11-27 21:03:40.825806856+00:00 "
            "age 0 days 00:00:31.2 <object at 0x7f3a2c> <td>1b4e28ba…:crm</td> ServiceStore(http://127.0.0.1:40131)")
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    assert text == ("<PriceContract UUID waiting> token TOKEN at TIMESTAMP / TIMESTAMP age DURATION <object at 0xADDR> "
                    "<td>SHORTID:crm</td> ServiceStore(http://127.0.0.1:PORT)")


def test_wheel_includes_the_sanitizer():
    # hatchling packages every file under igniter_nb/ that git does not ignore
    import subprocess

    root = Path(__file__).resolve().parents[2]
    ignored = subprocess.run(["git", "check-ignore", "igniter_nb/notebook/nbval_sanitize.cfg"], cwd=root,
                             capture_output=True, check=False)
    assert ignored.returncode == 1
