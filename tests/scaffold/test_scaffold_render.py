"""The template renderer, the notebook builder and the all-or-nothing writer behind `igniter-nb new`."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import nbformat
import pytest

from igniter_nb.scaffold import ScaffoldError, contract_spec
from igniter_nb.scaffold.contract_files import contract_notebook
from igniter_nb.scaffold.render import notebook, render, template
from igniter_nb.scaffold.writer import write_all

SCAFFOLD = Path(__file__).resolve().parents[2] / "igniter_nb" / "scaffold"


def test_templates_are_package_data_and_every_one_is_used() -> None:
    shipped = sorted(p.name for p in resources.files("igniter_nb.scaffold").joinpath("templates").iterdir()
                     if p.name.endswith(".tmpl"))
    code = "".join(p.read_text() for p in SCAFFOLD.glob("*.py"))
    used = sorted(set(re.findall(r'"([\w.]+\.tmpl)"', code)))
    assert shipped == used
    # hatch packs every file under igniter_nb/ into the wheel; the templates have no other way in
    assert all((SCAFFOLD / "templates" / name).is_file() for name in used)


def test_render_fills_placeholders_and_refuses_drift() -> None:
    text = render("project_init.py.tmpl", name="shop")
    assert text == '"""shop: contracts and workflows served with igniter_nb (see contracts.py)."""\n'
    with pytest.raises(KeyError, match=r"no value for \['name'\]"):
        render("project_init.py.tmpl")
    with pytest.raises(KeyError, match=r"no placeholder for \['extra'\]"):
        render("project_init.py.tmpl", name="shop", extra="x")
    assert "{{ name }}" in template("project_init.py.tmpl")


def test_a_value_is_inserted_verbatim_never_rendered_again() -> None:
    assert render("project_init.py.tmpl", name="{{ name }}").startswith('"""{{ name }}:')


def test_notebooks_are_valid_nbformat_with_stable_ids() -> None:
    spec = contract_spec("LeadWorkflow", inputs=["request_id"], correlate_by=["request_id"],
                         awaits=["crm_received", "billing_received"])
    text = contract_notebook(spec, import_line="from lead_workflow import LeadWorkflow", notebook_file="x.ipynb")
    document = nbformat.reads(text, as_version=4)
    nbformat.validate(document)
    assert [cell.id for cell in document.cells] == [f"cell-{i:02d}" for i in range(1, len(document.cells) + 1)]
    assert all(cell.outputs == [] for cell in document.cells if cell.cell_type == "code")
    assert text == contract_notebook(spec, import_line="from lead_workflow import LeadWorkflow",
                                     notebook_file="x.ipynb")
    sources = [cell.source for cell in document.cells]
    assert any("sim.select(event=\"billing_received\"" in source for source in sources)


def test_notebook_text_needs_cell_markers() -> None:
    with pytest.raises(ValueError, match="before the first"):
        notebook("print(1)\n#%% code\nprint(2)\n")
    assert len(nbformat.reads(notebook("#%% code\n\n#%% markdown\n# Title\n"), as_version=4).cells) == 1


def test_write_all_writes_every_file(tmp_path: Path) -> None:
    files = {tmp_path / "a.py": "a\n", tmp_path / "new" / "deeper" / "b.py": "b\n"}
    assert write_all(files) == list(files)
    assert (tmp_path / "new" / "deeper" / "b.py").read_text() == "b\n"


def test_a_failed_write_removes_what_it_wrote(tmp_path: Path) -> None:
    (tmp_path / "mine").write_text("")
    files = {tmp_path / "first.py": "1\n", tmp_path / "made" / "second.py": "2\n",
             tmp_path / "made" / "third.py": "\ud800\n"}  # created, then its text cannot be encoded: this write fails
    with pytest.raises(UnicodeEncodeError):
        write_all(files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_write_all_refuses_a_file_where_a_directory_goes(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ScaffoldError) as refused:
        write_all({tmp_path / "first.py": "1\n", tmp_path / "a_file" / "third.py": "3\n"})
    assert refused.value.problems == [f"{tmp_path / 'a_file'} exists and is not a directory; nothing was written "
                                      "(move it away or choose another name or --dir)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_write_all_refuses_existing_targets(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text("mine")
    with pytest.raises(ScaffoldError) as refused:
        write_all({tmp_path / "a.py": "a", tmp_path / "b.py": "b"})
    assert refused.value.problems == [f"{tmp_path / 'b.py'} exists already; nothing was written (move it away or "
                                      "choose another name or --dir)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.py"]
