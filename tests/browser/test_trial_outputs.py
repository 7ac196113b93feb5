"""A hostile user's pictures and reprs in a real JupyterLab: a 200-node random graph top to bottom (its folded rows'
buses), a node with 300 dependencies (collapsed into blocks of inputs), names of 200 characters, Hebrew, Arabic,
emoji and markup (``</svg>``), eight nested scopes, a workflow of 40 awaits partly delivered (its picture,
diagnostics, plan, audit and store), three nodes failing with a 5,000-character many-line message, and an
EventSimulator given a payload that is not JSON (its dry run names the error; the widget opens with the payload), an
InputPlayground whose long input name must leave each input box room. After Run All no output may be wider than its output area, no
markup from the data may have become an element, no error may be hidden, and no picture's title or node text may
run past its edge. Screenshots: ``artifacts/browser/trial-*.png`` (to be looked at)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_hostile_outputs import _MEASURE, _TITLES
from test_jupyterlab import _PANEL, ARTIFACTS, Lab, browser, notebook_page, run_all, start_lab  # noqa: F401 - browser is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]

_CELLS = [
    "%load_ext igniter_nb\n"
    "import random\n"
    "import igniter_nb as ig\n"
    "from igniter_nb.stores import MemoryStore\n"
    "def dag(c):\n"
    "    rng = random.Random(7)\n"
    "    names = [f'in{i}' for i in range(5)]\n"
    "    for name in names:\n"
    "        c.input(name)\n"
    "    for i in range(195):\n"
    "        deps = sorted(set(rng.sample(names[-40:], k=min(len(names[-40:]), rng.randint(1, 3)))))\n"
    "        c.compute(f'n{i}', depends_on=deps, call=lambda **kw: 1)\n"
    "        names.append(f'n{i}')\n"
    "    c.output('n194')\n"
    "def fan(c):\n"
    "    for i in range(300):\n"
    "        c.input(f'dep_{i}')\n"
    "    c.compute('sink', depends_on=[f'dep_{i}' for i in range(300)], call=lambda **kw: 1)\n"
    "    c.output('sink')\n"
    "def names(c):\n"
    "    c.input('a' * 200)\n"
    "    c.input('x')\n"
    "    c.compute('שלום_עולם_' * 20, depends_on=['a' * 200], call=lambda **kw: 1)\n"
    "    c.compute('emoji', depends_on=['שלום_עולם_' * 20], call=lambda **kw: 1, label='🚀🔥' * 50)\n"
    "    c.compute('مرحبا' * 40, depends_on=['x', 'emoji'], call=lambda **kw: 1,\n"
    "              label='</svg><script>alert(1)</script><b>x</b>&amp;')\n"
    "    with c.scope('</svg>\\u202escope' + '🔥' * 30):\n"
    "        c.compute('scoped', depends_on=['x'], call=lambda **kw: 1, label='\\u202eabc ' * 5 + 'مرحبا ' * 10)\n"
    "    c.await_event('ev', event='</svg><b>x</b>' + 'e' * 150)\n"
    "    c.compute('after', depends_on=['ev', 'scoped', 'مرحبا' * 40], call=lambda **kw: 1)\n"
    "    c.output('after')\n"
    "def deep(c):\n"
    "    c.input('root')\n"
    "    prev = 'root'\n"
    "    scopes = [c.scope(f'level_{k}_scope') for k in range(8)]\n"
    "    for k, scope in enumerate(scopes):\n"
    "        scope.__enter__()\n"
    "        c.compute(f'n_{k}', depends_on=[prev], call=lambda **kw: 1)\n"
    "        prev = f'n_{k}'\n"
    "    for scope in reversed(scopes):\n"
    "        scope.__exit__(None, None, None)\n"
    "    c.compute('last', depends_on=[prev, 'root'], call=lambda **kw: 1)\n"
    "    c.output('last')\n"
    "class Awaits40(ig.Contract):\n"
    "    def define(c):\n"
    "        c.correlate_by('rid')\n"
    "        c.input('rid')\n"
    "        for i in range(40):\n"
    "            c.await_event(f'wait_{i}', event=f'event_{i}')\n"
    "        c.compute('all', depends_on=[f'wait_{i}' for i in range(40)], call=lambda **kw: 1)\n"
    "        c.output('all')\n"
    "MESSAGE = '\\n'.join(f'line {i}: <b>boom</b> </svg> ' + 'word ' * 50 for i in range(25))[:5000]\n"
    "class Failing(ig.Contract):\n"
    "    def define(c):\n"
    "        c.input('x')\n"
    "        for i in range(3):\n"
    "            c.compute(f'explode_{i}', depends_on=['x'], call=lambda x: (_ for _ in ()).throw(ValueError(MESSAGE)))\n"
    "        c.compute('after', depends_on=['explode_0', 'explode_1'], call=lambda **kw: 1)\n"
    "        c.output('after')\n"
    "store = MemoryStore()\n"
    "waiting = Awaits40.start({'rid': 'r1'}, store=store)\n"
    "for i in range(0, 40, 3):\n"
    "    waiting = Awaits40.deliver_event(f'event_{i}', correlation={'rid': 'r1'}, payload={'i': i, 'html': '<b>x</b>' * 300},\n"
    "                                     store=store)\n"
    "failing = Failing(x=1)\n"
    "try:\n"
    "    failing.resolve_all()\n"
    "except Exception:\n"
    "    pass",
    "ig.nb.show(ig.compile(dag, name='Dag200'), direction='TB')",
    "ig.compile(fan, name='Fan300')",
    "ig.compile(names, name='</svg><script>x</script>' + 'N' * 100)",
    "ig.nb.show(ig.compile(names, name='Names'), direction='LR')",
    "ig.compile(deep, name='Deep')",
    "waiting",
    "waiting.diagnostics",
    "waiting.plan()",
    "waiting.audit",
    "store",
    "failing",
    "ig.nb.show(failing, direction='LR')",
    "failing.diagnostics",
    "failing.result",
    "sim = ig.nb.EventSimulator(Awaits40, store=store)\n"
    "sim.select(correlation={'rid': 'r1'}, event='event_1', payload='{\"a\":\\u00a01}')  # a pasted no-break space\n"
    "sim.dry_run()",
    "sim",
    "from typing import Literal\n"
    "def playground(c):  # inputs of every control kind, one with a long name\n"
    "    c.input('count', type=int)\n"
    "    c.input('the_customer_onboarding_document_verification_' + 'x' * 20, type=str)\n"
    "    c.input('the_customer_onboarding_document_verification_' + 'y' * 20, type=str)\n"
    "    c.input('flag', type=bool)\n"
    "    c.input('tier', type=Literal['smb', 'enterprise'])\n"
    "    c.input('payload')\n"
    "    c.compute('total', depends_on=['count'], call=lambda count: count)\n"
    "    c.output('total')\n"
    "ig.nb.InputPlayground(ig.contract(playground, name='Playground')(count=10, flag=True, tier='smb', payload=[1],\n"
    "                      **{'the_customer_onboarding_document_verification_' + c * 20: 'text' for c in 'xy'}))",
]

# each InputPlayground control's input box (a text box, number, text area or choice): [its width, the output's]
_BOXES = """selector => [...document.querySelector(selector).querySelectorAll('.jp-OutputArea-output')]
  .filter(a => a.innerText.includes('InputPlayground Playground'))
  .flatMap(a => [...a.querySelectorAll('.widget-inline-hbox input[type=text], .widget-inline-hbox input[type=number],'
                                       + ' .widget-inline-hbox textarea, .widget-inline-hbox select')]
    .map(box => [box.getBoundingClientRect().width, a.clientWidth]))"""

# each InputPlayground label as shown: [its text, whether its box cuts it (text-overflow: ellipsis)]
_LABELS = """selector => [...document.querySelector(selector).querySelectorAll('.jp-OutputArea-output')]
  .filter(a => a.innerText.includes('InputPlayground Playground'))
  .flatMap(a => [...a.querySelectorAll('.widget-inline-hbox .widget-label')]
    .map(label => [label.innerText, label.scrollWidth > label.clientWidth + 1]))"""


@pytest.fixture(scope="module")
def trial_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    import nbformat

    source = tmp_path_factory.mktemp("trial-src") / "trial.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cell) for cell in _CELLS]
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, source)
    for lab in start_lab(tmp_path_factory.mktemp("trial-lab"), [source]):
        yield lab, source


def test_trial_outputs_fit_stay_text_and_show_their_errors(trial_lab: tuple[Lab, Path], browser: Any) -> None:  # noqa: F811
    lab, notebook = trial_lab
    with notebook_page(lab, browser, notebook) as page:
        run_all(page, lab, notebook)
        page.wait_for_timeout(500)
        found = page.evaluate(_MEASURE, _PANEL)
        outputs = page.locator(f"{_PANEL} .jp-OutputArea-output")
        for k in range(outputs.count()):
            outputs.nth(k).evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(150)
            page.screenshot(path=str(ARTIFACTS / f"trial-{k + 1}.png"))
        assert found["errors"] == [], found["errors"]
        assert found["outputs"] >= len(_CELLS) - 1, found
        assert found["wide"] == [], f"outputs wider than their output area: {found['wide']}"
        assert found["injected"] == 0, "markup from the data became elements"
        assert page.locator(f"{_PANEL} .jp-OutputArea-output script").count() == 0
        titles = page.evaluate(_TITLES, _PANEL)
        assert titles["pictures"] >= 8 and titles["past"] == [], f"text past its picture's edge or its box: {titles}"
        preview = outputs.filter(has_text="Dry run").first  # the bad payload's error is shown, not swallowed
        assert "a no-break space (U+00A0)" in preview.inner_text(), preview.inner_text()[:300]
        # the widget opens without that message (a view shows what its own buttons did), the payload kept
        assert outputs.nth(outputs.count() - 2).locator("textarea").input_value() == '{"a":\u00a01}'
        # a long input name left its box 22 px of the control's 300 (a value of 10 showed '1' over '0'): each box
        # keeps room for its value, within the output area
        boxes = page.evaluate(_BOXES, _PANEL)
        assert len(boxes) == 5 and all(180 <= width <= area for width, area in boxes), boxes
        # two long names that differ at their end both read cut at their end by the label box (the same text)
        labels = page.evaluate(_LABELS, _PANEL)
        shown = [text for text, _ in labels if text.strip("\u200b ")]  # (a checkbox keeps an empty label)
        assert len(shown) == 5 and len(set(shown)) == 5 and not any(cut for _, cut in labels), labels
        playground = outputs.last
        playground.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(150)
        page.screenshot(path=str(ARTIFACTS / "trial-playground.png"))
