"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright (never a browser
downloaded by a test tool), and screenshots saved under test-artifacts/.

    with chromium() as browser:                                   # one browser for a module
        with browser_page("survey-email", browser=browser) as page:
            page.goto(url)
            screenshot(page, "survey-email")

`browser_page` without a browser starts one of its own. A page that throws a script error or logs a console
error (a failed request, a CSP refusal) fails the test when the block ends, and a failing block leaves a
`<name>-failure.png` behind.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
# Chromium asks every page for /favicon.ico; our pages have none and the 404 is not the page's fault.
IGNORED_CONSOLE = re.compile(r"favicon\.ico")


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser (Playwright's Browser), closed on exit."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (`make test` does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    """Save the whole page as test-artifacts/<name>.png; the path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextlib.contextmanager
def browser_page(name: str, *, browser=None, allowed_errors: str | None = None, **context_options) -> Iterator:
    """A fresh browser context and page (Playwright's Page); `context_options` go to `browser.new_context`
    (java_script_enabled=False, extra_http_headers={...}, viewport=...). `allowed_errors` is a regular
    expression for console errors the test expects (a page answered with a 4xx on purpose)."""
    if browser is None:
        with (
            chromium() as own,
            browser_page(name, browser=own, allowed_errors=allowed_errors, **context_options) as page,
        ):
            yield page
        return
    options = {"viewport": {"width": 1100, "height": 900}, **context_options}
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def on_console(message) -> None:
        where = (message.location or {}).get("url", "")
        text = where + " " + message.text
        if message.type != "error" or IGNORED_CONSOLE.search(text):
            return
        if allowed_errors is None or not re.search(allowed_errors, text):
            problems.append(f"console error: {message.text} ({where})")

    page.on("console", on_console)
    try:
        yield page
    except BaseException:
        with contextlib.suppress(Exception):
            screenshot(page, f"{name}-failure")
        raise
    finally:
        context.close()
    assert not problems, f"the page {name!r} reported problems:\n" + "\n".join(problems)
