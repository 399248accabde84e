"""A shopper in a real browser: the widget on the simulated Shopify storefront, the double
opt-in email, the confirmation click, and a withdrawal on the preference page — through the
real web app, worker, outbox and Shopify simulator.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright; screenshots go to
$PATRONKIT_TEST_ARTIFACTS/screenshots (default: test-artifacts/screenshots, git-ignored).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel, SourceKind
from patronkit.core.domain.wording import ConsentWording
from patronkit.sync.importer import sync_shop
from tests.e2e.stack import Stack, running_stack, wait_for
from tests.webapp.storefront import mailbox

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WORDING = "Yes, email me news, offers and early access. I can unsubscribe at any time."
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def screenshots() -> Path:
    base = Path(os.environ.get("PATRONKIT_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder = base / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def stack(database_url: str, tmp_path: Path, clean_db: object) -> Iterator[Stack]:
    with running_stack(database_url, tmp_path, customers=20) as stack:
        sync_shop(stack.runtime.sync, stack.merchant_id, stack.shop_id, full=True)
        stack.settle()
        with stack.runtime.unit_of_work() as uow:
            tenant = uow.tenant(stack.merchant_id)
            tenant.wordings.add(ConsentWording(stack.merchant_id, Channel.EMAIL, "en", 1, WORDING))
            settings = tenant.settings.get()
            # The simulated storefront is served from loopback, not https://<shop domain>:
            # it is the merchant's "custom storefront domain".
            settings.set_storefront_origins([stack.sim.url])
            tenant.settings.save(settings)
            uow.commit()
        stack.sim.app.config["STOREFRONT_APP_URL"] = stack.url
        yield stack


@pytest.fixture
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def admin_customer_url(stack: Stack, customer_id: object) -> str:
    """The customer's admin page as Shopify's admin opens it: with a session token (id_token)
    signed with the app's secret, for the simulated shop."""
    now = int(time.time())
    domain = stack.sim.shop_domain
    token = jwt.encode(
        {
            "iss": f"https://{domain}/admin",
            "dest": f"https://{domain}",
            "aud": stack.sim.client_id,
            "sub": "1001",
            "exp": now + 60,
            "nbf": now,
            "iat": now,
            "jti": "e2e-admin",
            "sid": "e2e-session",
        },
        stack.sim.client_secret,
        "HS256",
    )
    query = urlencode({"shop": domain, "embedded": "1", "id_token": token})
    return f"{stack.url}/admin/customers/{customer_id}?{query}"


def never_asked(stack: Stack) -> tuple[int, str]:
    """A shop customer with an email whose email marketing was never asked."""
    with stack.sim.state.lock:
        for customer in sorted(stack.sim.state.customers.values(), key=lambda c: c.id):
            if customer.email and customer.email_consent.marketing_state == "NOT_SUBSCRIBED":
                return customer.id, customer.email
    raise AssertionError("the seed has no customer who was never asked")


def shop_email_consent(stack: Stack, remote_id: int) -> tuple[str, str | None]:
    with stack.sim.state.lock:
        consent = stack.sim.state.customers[remote_id].email_consent
        return consent.marketing_state, consent.opt_in_level


def newest_mail(outbox: Path, seen: int, timeout: float = 15.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        if len(files) > seen:
            return files[-1]
        time.sleep(0.05)
    raise AssertionError("no email arrived in the outbox")


def test_widget_double_opt_in_and_withdrawal_reach_the_shop(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    remote_id, email = never_asked(stack)
    outbox = tmp_path / "data" / "outbox"
    shots = screenshots()
    page = browser.new_page()
    page.goto(f"{stack.sim.url}/products/trail-jacket")

    # The widget renders the exact wording as the checkbox's label, fetched cross-origin.
    box = page.get_by_label(WORDING, exact=True)
    box.wait_for(timeout=10_000)
    page.get_by_label("Email address").fill(email)
    box.focus()
    page.keyboard.press("Space")  # keyboard only: label, focus and checkbox are real
    assert box.is_checked()
    page.screenshot(path=str(shots / "1-widget-filled.png"), full_page=True)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Subscribe"
    page.keyboard.press("Enter")
    done = page.locator(".pk-done")
    done.wait_for(timeout=10_000)
    assert done.get_attribute("data-status") == "confirmation_sent"
    assert "check your inbox" in done.inner_text()
    page.screenshot(path=str(shots / "2-widget-check-your-email.png"), full_page=True)

    customer = stack.customer_by_remote(remote_id)
    assert customer is not None
    status = customer.consent(Channel.EMAIL)
    assert status is not None and status.state is ConsentState.PENDING
    pending = customer.consent_events[-1]
    assert pending.evidence.touchpoint == "product_page"
    assert (
        pending.evidence.wording_sha256
        == ConsentWording(stack.merchant_id, Channel.EMAIL, "en", 1, WORDING).sha256
    )
    wait_for(lambda: shop_email_consent(stack, remote_id)[0] == "PENDING", timeout=15)

    # The confirmation email, read from the outbox folder, opened in the browser.
    message = mailbox.read(newest_mail(outbox, 0))
    assert message["To"] == email
    page.goto(mailbox.link(message, "/storefront/v1/confirm/"))
    page.screenshot(path=str(shots / "3a-confirm-page.png"), full_page=True)
    page.locator("#confirm").focus()
    page.keyboard.press("Enter")  # opening the link alone confirms nothing
    page.locator("#message").wait_for(timeout=10_000)
    assert "subscription is confirmed" in page.locator("#message").inner_text()
    page.screenshot(path=str(shots / "3-confirmed.png"), full_page=True)

    customer = stack.customer_by_remote(remote_id)
    assert customer is not None
    status = customer.consent(Channel.EMAIL)
    assert status is not None
    assert (status.state, status.opt_in_level) == (ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED)
    confirmation = customer.consent_events[-1]
    assert confirmation.source.kind is SourceKind.WIDGET
    evidence = confirmation.evidence
    assert (evidence.touchpoint, evidence.actor, evidence.ip) == (
        "double_opt_in_link",
        "shopper",
        "127.0.0.1",
    )
    assert evidence.user_agent and "Chrome" in evidence.user_agent
    assert evidence.wording_id == pending.evidence.wording_id
    wait_for(
        lambda: shop_email_consent(stack, remote_id) == ("SUBSCRIBED", "CONFIRMED_OPT_IN"),
        timeout=15,
    )

    # The merchant, in the embedded admin, sees the confirmed consent and its evidence.
    admin = browser.new_page()
    admin.goto(admin_customer_url(stack, customer.id))
    current = admin.locator('#current-consent tr[data-key="email"]')
    current.wait_for(timeout=10_000)
    cells = current.locator("td").all_inner_texts()
    assert cells[0].strip().lower() == "subscribed" and cells[1].strip() == "confirmed"
    assert "double_opt_in_link" in cells[4] and "127.0.0.1" in cells[4]
    history = admin.locator(f'#consent-history tr[data-event="{confirmation.id}"]')
    assert "double_opt_in_link" in history.inner_text()
    pending_row = admin.locator(f'#consent-history tr[data-event="{pending.id}"]').inner_text()
    assert "product_page" in pending_row and "pending" in pending_row.lower()
    admin.screenshot(path=str(shots / "3b-admin-customer-confirmed.png"), full_page=True)
    admin.close()

    # Withdrawal on the preference page (the link is in every email), keyboard only.
    page.goto(mailbox.link(message, "/p/"))
    consent_box = page.locator("#consent-email")
    assert consent_box.is_checked()
    consent_box.focus()
    page.keyboard.press("Space")
    page.locator("#save").focus()
    page.keyboard.press("Enter")
    page.locator("#saved").wait_for(timeout=10_000)
    assert page.locator("#state-email").get_attribute("data-state") == "unsubscribed"
    page.screenshot(path=str(shots / "4-preferences-withdrawn.png"), full_page=True)
    wait_for(lambda: shop_email_consent(stack, remote_id)[0] == "UNSUBSCRIBED", timeout=15)
    customer = stack.customer_by_remote(remote_id)
    assert customer is not None
    assert customer.consent_events[-1].evidence.touchpoint == "preference_page"
    page.close()


def test_a_page_on_another_origin_gets_no_widget(stack: Stack, browser: Any) -> None:
    """The same page served as http://localhost:<port> is another origin, not in the shop's
    list: the browser's CORS check stops the widget's fetch, and nothing renders."""
    page = browser.new_page()
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text) if "CORS" in msg.text else None)
    port = re.search(r":(\d+)$", stack.sim.url)
    assert port is not None
    page.goto(f"http://localhost:{port.group(1)}/products/trail-jacket")
    page.wait_for_load_state("networkidle")
    assert page.locator("#newsletter input[type=checkbox]").count() == 0
    assert refused, "the browser reported no CORS refusal"
    page.screenshot(path=str(screenshots() / "5-foreign-origin-no-widget.png"), full_page=True)
    page.close()
