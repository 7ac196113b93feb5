"""The built documentation site in headless Chromium: the index, a tutorial notebook page and an API page.

Each page is served over HTTP on 127.0.0.1 (search needs a web worker, which file:// pages cannot start),
checked for its heading and, where the page shows one, a graph drawn as SVG; a screenshot of each is saved to
``artifacts/docs/`` to be looked at. Chromium is Debian's ``/usr/bin/chromium``, launched as in
tests/browser/test_jupyterlab.py; nothing is skipped.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "docs"
CHROMIUM = os.environ.get("IGNITER_NB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
UI_TIMEOUT_MS = 30_000

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(site_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make setup` (scripts/system-deps.sh installs chromium)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            # The site must work offline: a request to any other host fails the page.
            outside: list[str] = []

            def only_local(route: object) -> None:
                url = route.request.url  # type: ignore[attr-defined]
                if url.startswith(site_url) or url.startswith("data:"):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    outside.append(url)
                    route.abort()  # type: ignore[attr-defined]

            context.route("**/*", only_local)
            page = context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.outside_requests = outside  # type: ignore[attr-defined]
            yield page
            context.close()
        finally:
            with contextlib.suppress(Exception):
                browser.close()
    finally:
        pw.stop()


def open_page(page: object, url: str) -> None:
    """Go to ``url`` and wait until the theme's fade-ins have finished (so screenshots show the navigation tabs)."""
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.querySelector('.md-tabs') && document.getAnimations().every(a => a.playState !== 'running')"
    )


def heading(page: object) -> str:
    """The page's first <h1>, without the permalink sign."""
    return str(page.locator("article h1").first.inner_text()).replace("¶", "").strip()  # type: ignore[attr-defined]


def svg_graphs(page: object) -> int:
    """Graphs drawn as SVG and actually painted: inline <svg> of our renderer or <img> of an SVG that loaded."""
    return int(page.evaluate(  # type: ignore[attr-defined]
        """() => {
            const inline = [...document.querySelectorAll('article svg g.node')].length;
            const images = [...document.querySelectorAll('article img')].filter(img =>
                (img.src.startsWith('data:image/svg+xml') || img.src.endsWith('.svg'))
                && img.complete && img.naturalWidth > 100);
            return inline + images.length;
        }"""
    ))


def test_docs_index_page_shows_heading_and_waiting_workflow_graph(page: object, site_url: str) -> None:
    open_page(page, f"{site_url}/index.html")
    assert heading(page) == "igniter_nb"
    assert svg_graphs(page) >= 1, "the index page shows no SVG graph"
    page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)  # type: ignore[attr-defined]


def test_docs_tutorial_notebook_page_shows_stored_outputs(page: object, site_url: str) -> None:
    open_page(page, f"{site_url}/notebooks/04_distributed_workflow.html")
    assert heading(page) == "Distributed workflow with the event simulator"
    assert svg_graphs(page) >= 2, "the notebook's stored graph outputs are not shown"
    page.screenshot(path=str(ARTIFACTS / "notebook_04.png"), full_page=True)  # type: ignore[attr-defined]


def test_docs_api_page_documents_contract(page: object, site_url: str) -> None:
    open_page(page, f"{site_url}/reference/igniter_nb.html")
    assert heading(page) == "igniter_nb"
    contract = page.locator("[id='igniter_nb.Contract']")  # type: ignore[attr-defined]
    assert contract.count() == 1 and "Contract" in contract.inner_text()
    page.screenshot(path=str(ARTIFACTS / "api_igniter_nb.png"), full_page=False)  # type: ignore[attr-defined]


def _search(page: object, words: str) -> list[str]:
    box = page.locator("input.md-search__input")  # type: ignore[attr-defined]
    box.click()
    box.fill(words)
    results = page.locator(".md-search-result__item")  # type: ignore[attr-defined]
    results.first.wait_for()
    # the first batch of results (the theme renders more on scroll): ranking decides what is in it
    return [str(a.get_attribute("href")) for a in page.locator(".md-search-result__link").all()]  # type: ignore[attr-defined]


def test_docs_search_finds_api_and_guide_pages(page: object, site_url: str) -> None:
    open_page(page, f"{site_url}/index.html")
    api = _search(page, "deliver_event")
    assert any("reference/" in link for link in api), api
    open_page(page, f"{site_url}/index.html")  # a fresh page: the old results would still be listed meanwhile
    guide = _search(page, "awaited events correlation")
    assert any("workflows.html" in link for link in guide), guide
    page.screenshot(path=str(ARTIFACTS / "search.png"))  # type: ignore[attr-defined]


def test_docs_pages_load_nothing_from_other_hosts(page: object) -> None:
    assert page.outside_requests == []  # type: ignore[attr-defined]
