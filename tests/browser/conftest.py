"""Browser tests: Playwright for Python driving Debian's Chromium against
Django's live server, with axe-core (from the axe-playwright-python
package) checking WCAG 2.1 A/AA rules."""

import os
import shutil

import pytest

# The ORM is used next to Playwright's sync API (which runs an event loop).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM) or shutil.which("chromium"):
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(
            f"Chromium is missing at {CHROMIUM}; browser tests may not skip in CI."
        )
    skip = pytest.mark.skip(
        reason=f"Chromium not installed at {CHROMIUM} (apt-get install chromium)"
    )
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def axe_check():
    """Run axe on the page and fail with a readable list of violations."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def _check(page):
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        violations = results.response["violations"]
        details = [
            f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:5]}"
            for v in violations
        ]
        assert not violations, f"axe violations on {page.url}:\n" + "\n".join(details)

    return _check


@pytest.fixture
def demo_site(transactional_db, live_server):
    """The live server with the demo data loaded."""
    from io import StringIO

    from django.core.management import call_command

    call_command("load_demo", stdout=StringIO())
    return live_server


@pytest.fixture(scope="session")
def base_url():
    # Overrides pytest-playwright's own (deprecated-style) fixture; tests
    # build URLs from the live server.
    return None
