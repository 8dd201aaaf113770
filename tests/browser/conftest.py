"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

`playwright install` cannot download browsers here, so the system Chromium is used. Playwright's sync
API runs an asyncio loop in the test thread; Django's ORM calls from that thread (fixtures, asserts)
would then raise SynchronousOnlyOperation, though nothing in them is actually concurrent.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# axe-core from npm (pinned in tests/browser/package-lock.json, installed by scripts/browser-deps.sh).
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA; only violations axe rates serious or critical fail a test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_FAILING_IMPACTS = {"serious", "critical"}


# Per module, not per session: Playwright's sync API keeps an asyncio loop running in the test thread
# while it is open, and later tests that call async_to_sync (the health checks) refuse to run there.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `make test` installs it (scripts/system-deps.sh --with-browser)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """Serious or critical WCAG 2 A/AA violations axe-core finds on the page as it is now."""
    if not AXE_JS.is_file():
        pytest.fail("axe-core is not installed: `make test` installs it (scripts/browser-deps.sh)")
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol rather than a <script> tag: the site's Content
        # Security Policy (script-src 'self') rightly refuses inline scripts, and must stay on in tests.
        page.evaluate(_axe_source() + "\n;void 0")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [v for v in result["violations"] if v.get("impact") in AXE_FAILING_IMPACTS]


def describe_violations(violations: list[dict]) -> str:
    """One line per failing element, so a failing test says what to fix and where."""
    lines = []
    for violation in violations:
        for node in violation["nodes"][:8]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"{violation['id']} ({violation['impact']}): {' '.join(node['target'])}: {summary}")
    return "\n".join(lines)


@pytest.fixture
def check_accessible():
    """Assert the page has no serious/critical WCAG 2 A/AA violation (axe-core), naming what failed."""

    def check(page, name: str) -> None:
        page.wait_for_load_state("networkidle")
        violations = axe_violations(page)
        assert not violations, f"{name}: accessibility violations\n{describe_violations(violations)}"

    return check
