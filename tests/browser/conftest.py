"""Browser tests: the app served on a free localhost port, driven by Debian's Chromium through Playwright.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``
(``scripts/install-system-deps --test`` installs it). axe-core comes from the npm
registry into ``tests/browser/node_modules`` (``make browser-deps``, or on demand here);
the tests skip, saying why, only when Chromium or npm is missing. Screenshots of each
main page, in zh-CN and English, go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug.serving import make_server

from mediation.engine import Engine as WorkflowEngine
from tests.web.conftest import compile_catalogues
from web import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.conftest import Database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = Path(os.environ.get("MEDIATION_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "secret-pass"  # what tests.factories hashes for every user
#: How long an explicit wait may take (ms): a slow CI machine renders PDFs while the page waits.
TIMEOUT = 30_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is a ``browser`` test."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


def axe_script() -> Path:
    """``axe.min.js`` from the npm registry: installed once (a lock serialises xdist workers)."""
    if AXE.is_file():
        return AXE
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: axe-core cannot be fetched for the accessibility checks")
    with (HERE / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE.is_file():
            subprocess.run(
                [npm, "install", "--prefix", str(HERE), "--no-package-lock", "--no-audit", "--no-fund", "--silent"],
                check=True, timeout=300, capture_output=True,
            )
    if not AXE.is_file():
        pytest.fail(f"npm install did not bring {AXE}")
    return AXE


@pytest.fixture(scope="session")
def axe() -> Path:
    """The path of ``axe.min.js``."""
    return axe_script()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), one per test process."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-system-deps --test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(database: Database, workflow_engine: WorkflowEngine, tmp_path: Path) -> Iterator[str]:
    """The app on the test database, served by a threaded werkzeug server on a free port; its base URL."""
    compile_catalogues()
    app = create_app({
        "SECRET_KEY": "browser-test-secret",
        "DATABASE_URL": database.url,
        "WORKFLOW_ENGINE": workflow_engine,
        "DOCUMENT_CACHE_DIR": tmp_path / "documents",
        "ATTACHMENT_DIR": str(tmp_path / "attachments"),
        "RATELIMIT_ENABLED": False,
        # No background consumer: its sweep and deliveries would outlive the test and act on the next one's data.
        "QUEUE_URL": "memory://", "QUEUE_CONSUMER": False,
    })
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["mediation"].db_engine.dispose()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab (its own cookies), a desktop window, explicit waits only."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", accept_downloads=True,
                                  bypass_csp=True)  # axe-core is injected inline; the app allows only its own scripts
    context.set_default_timeout(TIMEOUT)
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page: Page, base: str, username: str) -> None:
    """Log in through the form (logging out first if someone is logged in)."""
    page.goto(f"{base}/login")
    if page.locator("form[action$='/logout'] button").count():
        page.locator("form[action$='/logout'] button").click()
        page.wait_for_url("**/login**")
        page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action$='/login'] button[type=submit]")
    assert "/login" not in page.url, page.content()


def set_language(page: Page, locale: str) -> None:
    """Press 中文 or English in the header; waits for the page to come back."""
    with page.expect_navigation():
        page.click(f".lang-switch button[value={locale}]")
    page.wait_for_selector(f"html[lang={'en' if locale == 'en' else 'zh-CN'}]")


def check_accessibility(page: Page, axe: Path, name: str) -> None:
    """Run axe-core on the page; fail on any serious or critical violation, naming rule and nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    report = [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in bad
    ]
    details = json.dumps(report, ensure_ascii=False, indent=1)
    assert not bad, f"{name}: axe found serious or critical violations:\n{details}"


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG under ``test-artifacts/screenshots/``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def look(page: Page, axe: Path) -> Callable[..., None]:
    """``look("case-page")``: check accessibility and take screenshots in zh-CN and English, back in zh-CN.

    ``redo`` brings a page that a POST showed back after the language switch (which reloads by GET).
    """

    def do(name: str, redo: Callable[[], None] | None = None) -> None:
        for locale in ("zh_CN", "en"):
            if locale == "en":
                set_language(page, "en")
                if redo is not None:
                    redo()
            page.wait_for_load_state("load")
            check_accessibility(page, axe, f"{name} ({locale})")
            screenshot(page, f"{name}.{'zh-CN' if locale == 'zh_CN' else 'en'}")
        set_language(page, "zh_CN")
        if redo is not None:
            redo()

    return do
