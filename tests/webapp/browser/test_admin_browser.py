"""The embedded admin in a real browser: the dashboard charts the seeded ledger's numbers, the
pages work by keyboard alone, the content security policy blocks nothing of ours, and the
script keeps the session alive where App Bridge can mint tokens."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from patronkit.core.domain.consent import Channel, ConsentState
from tests.webapp.admin.support import Seeded, expected_counts, live_customers, platform_token
from tests.webapp.browser.conftest import Live

LAPTOP = {"width": 1366, "height": 800}


def open_page(browser: Browser, policy_errors: list[str], bridge_token: str | None = None) -> Page:
    page = browser.new_page(viewport=LAPTOP)
    # App Bridge loads from Shopify's CDN in production; here there is none.
    page.route("https://cdn.shopify.com/**", lambda route: route.abort())

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            policy_errors.append(message.text)

    page.on("console", watch)
    page.on("pageerror", lambda error: policy_errors.append(f"page error: {error}"))
    if bridge_token is not None:
        # What App Bridge offers the page: a function that mints a fresh session token.
        page.add_init_script(
            f"window.shopify = {{ idToken: () => Promise.resolve({bridge_token!r}) }};"
        )
    return page


def embedded_url(live: Live, seeded: Seeded, path: str = "/admin") -> str:
    query = {
        "platform": "shopify",
        "shop": seeded.admin_domain,
        "embedded": "1",
        "id_token": platform_token(seeded.admin_domain),
    }
    return f"{live.url}{path}?{urlencode(query)}"


def focused(page: Page) -> dict[str, str]:
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            const style = getComputedStyle(e);
            return {tag: e.tagName, id: e.id, text: (e.textContent || "").trim(),
                    outline: style.outlineStyle};
        }"""
    )


def tab_to(page: Page, predicate: str, limit: int = 60) -> dict[str, str]:
    """Press Tab until the focused element matches `predicate` (a JS expression on `e`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return {predicate}; }}"):
            return focused(page)
    raise AssertionError(f"Tab never reached {predicate}")


def test_dashboard_and_customer_page_by_keyboard(
    browser: Browser, live: Live, alpha: Seeded, screenshots: Path
) -> None:
    errors: list[str] = []
    page = open_page(browser, errors)
    page.goto(embedded_url(live, alpha))
    expect(page.get_by_role("heading", name="Consent dashboard")).to_be_visible()

    # The counts table and the chart show the ledger's numbers, as derive_current gives them.
    expected = expected_counts(live_customers(live.runtime, alpha))[("email", "marketing")]
    row = page.locator('#state-counts tr[data-channel="email"][data-purpose="marketing"]')
    for state, count in expected.items():
        expect(row.locator(f'td[data-state="{state}"]')).to_have_text(str(count))
    email_line = page.locator('#channel-chart g[data-series="email"]')
    circles = email_line.locator("circle")
    # A point per day from the first email consent (six days ago) on: seven.
    expect(circles).to_have_count(7)
    last = circles.last
    assert last.get_attribute("data-numerator") == str(expected["subscribed"])
    assert last.get_attribute("data-denominator") == str(sum(expected.values()))
    rate = 100 * expected["subscribed"] / sum(expected.values())
    assert f"{rate:.1f}% ({expected['subscribed']} of {sum(expected.values())})" in (
        last.locator("title").text_content() or ""
    )
    box = email_line.locator("polyline").first.bounding_box()
    assert box is not None and box["width"] > 100  # drawn, across the chart
    expect(page.locator('#touchpoint-chart g[data-series="checkout"]')).to_have_count(1)
    page.screenshot(path=str(screenshots / "admin-dashboard.png"), full_page=True)

    # Keyboard only: the skip link first, with a visible focus ring; then the navigation.
    page.locator("body").focus()
    first = tab_to(page, "true")
    assert first["text"] == "Skip to content" and first["outline"] == "solid"
    tab_to(page, "e.textContent.trim() === 'Customers'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/customers?*")
    tab_to(page, "e.id === 'q'")
    page.keyboard.type("fay")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=fay*")
    link = tab_to(page, f"e.textContent.trim() === 'fay{alpha.marker}'")
    assert link["tag"] == "A"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fay")
    expect(page.locator("#current-consent")).to_contain_text("Wordingv1")
    expect(page.locator("#consent-history")).to_contain_text("footer")
    page.screenshot(path=str(screenshots / "admin-customer.png"), full_page=True)

    # Change her email consent by keyboard: the form posts with its session and CSRF token.
    tab_to(page, "e.id === 'consent-state'")
    page.keyboard.type("unsub")  # a select's type-ahead picks "unsubscribed"
    tab_to(page, "e.tagName === 'BUTTON'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Consent saved")
    expect(page.locator('#current-consent tr[data-key="email"]')).to_contain_text("unsubscribed")
    with live.runtime.unit_of_work(read_only=True) as uow:
        fay = uow.tenant(alpha.merchant_id).customers.get(alpha.customer_id("fay"))
    status = fay.consent(Channel.EMAIL)
    assert status is not None and status.state is ConsentState.UNSUBSCRIBED
    assert [p.customer_remote_id for _, p in live.store.pushes] == ["1005"]

    assert errors == []
    page.close()


def test_the_script_refreshes_the_session_through_app_bridge(
    browser: Browser, live: Live, alpha: Seeded
) -> None:
    errors: list[str] = []
    page = open_page(browser, errors, bridge_token=platform_token(alpha.admin_domain, lifetime=600))
    page.clock.install()
    page.goto(embedded_url(live, alpha))
    meta = page.locator('meta[name="patronkit-session"]')
    before = meta.get_attribute("content")
    # Two minutes before the session's 15 would run out, the script fetches a new one.
    page.clock.run_for("13:30")
    expect(meta).not_to_have_attribute("content", before or "")
    after = meta.get_attribute("content") or ""
    nav = page.get_by_role("link", name="Settings")
    assert f"pk_session={after}" in (nav.get_attribute("href") or "")
    fields = page.locator('input[name="pk_session"]').evaluate_all("a => a.map(i => i.value)")
    assert fields and all(value == after for value in fields)
    # Only one refresh: the next is due two minutes before the new session ends.
    page.clock.run_for("05:00")
    expect(meta).to_have_attribute("content", after)
    nav.click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    assert errors == []
    page.close()


def test_a_refused_page_retries_once_with_an_app_bridge_token(
    browser: Browser, live: Live, alpha: Seeded
) -> None:
    errors: list[str] = []
    page = open_page(browser, errors, bridge_token=platform_token(alpha.admin_domain, lifetime=600))
    # A link whose session has gone (say, the laptop slept): the page asks App Bridge.
    page.goto(f"{live.url}/admin/customers?pk_session=gone")
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    assert "id_token=" in page.url

    # Without App Bridge the refusal stays, and says what to do.
    plain = open_page(browser, errors)
    plain.goto(f"{live.url}/admin/customers?pk_session=gone")
    expect(plain.get_by_role("heading", name="Sign-in needed")).to_be_visible()
    expect(plain.get_by_role("alert")).to_contain_text("expired")
    assert errors == []
    page.close()
    plain.close()
