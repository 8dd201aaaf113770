"""The browser fixtures of tests/browser (Debian's Chromium through Playwright) for the CSP check."""

from tests.browser.conftest import browser, page  # noqa: F401
