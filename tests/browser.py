"""Headless Chromium for tests that must see a page the way a reader does.

Use from a test module::

    from browser import browser_fixture
    browser = browser_fixture()          # module-scoped pytest fixture

    def test_x(browser):
        browser.open_html("<p>hi</p>")
        assert browser.severe_logs() == []

Tests using it are skipped, with the reason, when Selenium, chromium or
chromedriver is missing. CI installs them with
``apt-get install -y chromium chromium-driver`` and ``pip install selenium``.
Selenium Manager is never consulted (it would try to download a driver): the
binaries are passed explicitly and SE_OFFLINE is set while starting.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ALIGN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ALIGN_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--window-size=1366,900",
)


def missing_reason() -> str | None:
    """Why a browser cannot be started here, or None if it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} not found (apt-get install -y {pkg})"
    return None


class Browser:
    """A running headless Chromium plus the few operations tests need."""

    def __init__(self, driver, workdir: Path) -> None:
        self.driver = driver
        self.workdir = workdir
        self._pages = 0

    def open_html(self, page: str, name: str = "page.html") -> Path:
        """Write ``page`` to a fresh file and load it over file:// (as a user would)."""
        self._pages += 1
        path = self.workdir / f"{self._pages:03d}-{name}"
        path.write_text(page, encoding="utf-8")
        self.severe_logs()  # drop messages from earlier pages
        self.driver.get(path.as_uri())
        return path

    def severe_logs(self) -> list[dict]:
        """Console and page errors (level SEVERE) since the last call."""
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def wait_until(self, script: str, *args, timeout: float = 3.0) -> None:
        """Wait until ``script`` returns true (for effects that land a few frames later)."""
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout).until(lambda d: d.execute_script(script, *args))


def browser_fixture(scope: str = "module") -> Callable[..., Iterator[Browser]]:
    """Make a pytest fixture that yields a :class:`Browser`, started once per scope."""

    @pytest.fixture(scope=scope)
    def browser() -> Iterator[Browser]:
        reason = missing_reason()
        if reason:
            pytest.skip(f"headless browser unavailable: {reason}")
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        workdir = Path(tempfile.mkdtemp(prefix="align-browser-"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={workdir / 'profile'}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SE_OFFLINE", "true")
            service = Service(executable_path=CHROMEDRIVER, log_output=str(workdir / "chromedriver.log"))
            driver = webdriver.Chrome(service=service, options=options)
        try:
            yield Browser(driver, workdir)
        finally:
            driver.quit()
            shutil.rmtree(workdir, ignore_errors=True)

    return browser
