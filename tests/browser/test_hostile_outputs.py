"""Hostile-user outputs in a real JupyterLab: a node failing with a 5,000-character, many-line error message, a
workflow awaiting 60 events with 150-character names (its plan, audit and EventSimulator), a graph named by a
200-character token, node names of wide letters, labels shaped like markup, a graph of 291 nodes and 12,001
edges. After Run All, no output may be wider than its output area (a table of long tokens scrolled sideways),
no markup from the data may have become elements, no picture's title may run past its edge, and every cut table cell must open (``<details>``) to its
whole text. Screenshots: ``artifacts/browser/hostile-*.png`` (to be looked at)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_jupyterlab import _PANEL, ARTIFACTS, Lab, browser, notebook_page, run_all, start_lab  # noqa: F401 - browser is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]

_CELLS = [
    "import igniter_nb as ig\n"
    "from igniter_nb.stores import MemoryStore\n"
    "MESSAGE = '\\n'.join(f'line {i}: <b>boom</b> `x` {{{{y}}}} ' + 'word ' * 60 for i in range(20))[:5000]\n\n"
    "class Failing(ig.Contract):\n"
    "    def define(c):\n"
    "        c.input('x')\n"
    "        c.compute('explode', depends_on=['x'], call=lambda x: (_ for _ in ()).throw(ValueError(MESSAGE)),\n"
    "                  label='\"]; x -> y [ <b>b</b> #quot; {{z}}')\n"
    "        c.compute('after', depends_on=['explode'], call=lambda explode: 1)\n"
    "        c.output('after')\n\n"
    "class ManyAwaits(ig.Contract):\n"
    "    def define(c):\n"
    "        c.correlate_by('rid')\n"
    "        c.input('rid')\n"
    "        for i in range(60):\n"
    "            c.await_event(f'wait_{i}', event=f'event_{\"e\" * 150}_{i}')\n"
    "        c.compute('all', depends_on=[f'wait_{i}' for i in range(60)], call=lambda **kw: 1)\n"
    "        c.output('all')\n\n"
    "failing = Failing(x=1)\n"
    "try:\n"
    "    failing.resolve_all()\n"
    "except Exception:\n"
    "    pass\n"
    "store = MemoryStore()\n"
    "waiting = ManyAwaits.start({'rid': 'r1'}, store=store)\n"
    "def define(c):\n"
    "    c.input('a')\n"
    "    c.compute('b', depends_on=['a'], call=lambda a: a)\n"
    "    c.output('b')\n"
    "named = ig.compile(define, name='G' * 200)",
    "failing",
    "failing.diagnostics",
    "failing.result",
    "waiting.audit",
    "waiting.plan()",
    "ig.nb.show(named)",
    "ig.nb.EventSimulator(ManyAwaits, store=store)",
    "def dense(c):  # 291 nodes, 12,001 edges: drawn collapsed into blocks\n"
    "    names = [f'input_{i}_' + 'x' * 190 for i in range(240)]\n"
    "    for name in names:\n"
    "        c.input(name)\n"
    "    for j in range(50):\n"
    "        c.compute(f'sum_{j}_' + 'y' * 190, depends_on=names, call=lambda **kw: 1)\n"
    "    c.output('sum_0_' + 'y' * 190)\n"
    "ig.compile(dense, name='Dense')",
    "def capitals(c):  # names of wide letters\n"
    "    c.input('W' * 40)\n"
    "    c.compute('MAX_RETRIES_FOR_PAYMENT_PROVIDER', depends_on=['W' * 40], call=lambda **kw: 1)\n"
    "    c.output('MAX_RETRIES_FOR_PAYMENT_PROVIDER')\n"
    "ig.compile(capitals, name='Capitals')",
]

# every output area whose content is wider than it (it would scroll sideways), and any element the data made
_MEASURE = """selector => {
  const panel = document.querySelector(selector);
  const areas = [...panel.querySelectorAll('.jp-OutputArea-output')];
  return {
    outputs: areas.length,
    wide: areas.filter(a => a.scrollWidth > a.clientWidth + 1).map(a => [a.scrollWidth, a.clientWidth,
                                                                         a.innerText.slice(0, 80)]),
    injected: panel.querySelectorAll('.jp-OutputArea-output td b').length,
    details: panel.querySelectorAll('.jp-OutputArea-output td details').length,
    errors: [...panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.innerText).filter(t => /Traceback|Error/.test(t)),
  };
}"""


# each picture's title lines as Chromium draws them, against the picture's own width ([text, right end, width]
# for any that runs past the edge, where it is clipped), each node's text against its box ([text, left, box left,
# box width] for any that runs out of it), and how many pictures were measured
_TITLES = """async selector => {
  const images = [...document.querySelector(selector).querySelectorAll('.jp-OutputArea-output img[src^="data:image/svg"]')];
  const past = [];
  for (const img of images) {
    const bytes = Uint8Array.from(atob(img.src.split(',')[1]), c => c.charCodeAt(0));
    const holder = document.createElement('div');
    holder.style.cssText = 'position:absolute;left:-100000px;top:0';
    holder.innerHTML = new TextDecoder().decode(bytes);
    document.body.appendChild(holder);
    const svg = holder.querySelector('svg');
    const width = svg.viewBox.baseVal.width;
    for (const text of svg.querySelectorAll('g.title text')) {
      const box = text.getBBox();
      if (box.x + box.width > width + 0.5) past.push([text.textContent.slice(0, 40), box.x + box.width, width]);
    }
    for (const node of svg.querySelectorAll('g.node[data-box]')) {  // each node's text within its box
      const [x, , w] = node.getAttribute('data-box').split(' ').map(Number);
      for (const text of node.querySelectorAll('text')) {
        const box = text.getBBox();
        if (box.x < x - 0.5 || box.x + box.width > x + w + 0.5) past.push([text.textContent.slice(0, 40), box.x, x, w]);
      }
    }
    holder.remove();
  }
  return {pictures: images.length, past};
}"""


@pytest.fixture(scope="module")
def hostile_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    import nbformat

    source = tmp_path_factory.mktemp("hostile-src") / "hostile.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cell) for cell in _CELLS]
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, source)
    for lab in start_lab(tmp_path_factory.mktemp("hostile-lab"), [source]):
        yield lab, source


def test_hostile_outputs_fit_stay_text_and_open_to_their_whole_text(hostile_lab: tuple[Lab, Path],
                                                                    browser: Any) -> None:  # noqa: F811
    lab, notebook = hostile_lab
    with notebook_page(lab, browser, notebook) as page:
        run_all(page, lab, notebook)
        page.wait_for_timeout(300)
        found = page.evaluate(_MEASURE, _PANEL)
        assert found["errors"] == [], found["errors"]
        assert found["outputs"] >= len(_CELLS) - 1, found
        assert found["wide"] == [], f"outputs wider than their output area: {found['wide']}"
        assert found["injected"] == 0, "markup from the data became elements"
        assert found["details"] >= 3, found  # the cut error cells of the diagnostics, result and audit
        titles = page.evaluate(_TITLES, _PANEL)
        assert titles["pictures"] >= 4 and titles["past"] == [], f"text past its picture's edge or its box: {titles}"
        outputs = page.locator(f"{_PANEL} .jp-OutputArea-output")
        for k in range(outputs.count()):
            outputs.nth(k).evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(150)
            page.screenshot(path=str(ARTIFACTS / f"hostile-{k + 1}.png"))
        # open the diagnostics' cut error message: the whole message, its lines kept, within the output's width
        diagnostics = outputs.filter(has_text="Diagnostics Failing").first
        cell = diagnostics.locator("tr", has_text="ResolutionError").first.locator("td details")
        cell.locator("summary").click()
        opened = cell.locator("div").inner_text()
        assert opened.startswith("ValueError: line 0: <b>boom</b>") and opened.endswith("line 15: <b>boom</b> `x` {{y}}")
        assert len(opened.splitlines()) == 16
        diagnostics.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(200)
        page.screenshot(path=str(ARTIFACTS / "hostile-opened.png"))
        assert diagnostics.evaluate("a => a.scrollWidth <= a.clientWidth + 1")
