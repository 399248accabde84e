"""A burst of store-side activity, in random order: profile edits, consent changes on both
channels, new customers, deletions, orders by customers and guests.

Webhooks carry whole-second times, so two different profiles of one customer within one
second can only be told apart by reading the store (reconcile's job, tested apart). The storm
therefore changes each customer's profile-carrying record at most once: profile edits and
consent changes go to different customers, deleted customers are otherwise left alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from tests.conformance.connected import Connected, current_state, flipped


@dataclass(frozen=True)
class StormSize:
    profile_edits: int = 25
    consent_changes: int = 35  # customers whose email consent changes (and sms, if they can)
    new_customers: int = 8
    deletions: int = 5
    orders: int = 8
    guest_orders: int = 4


Action = Callable[[], int]  # does one thing in the store; returns the consent facts it made


def plan(connected: Connected, rng: random.Random, size: StormSize) -> list[Action]:
    harness = connected.harness
    snapshot = harness.snapshot()
    buyers = {o.customer_remote_id for o in harness.orders().values()}
    shoppers = rng.sample(harness.customer_ids(), len(harness.customer_ids()))
    doomed = [i for i in shoppers if i not in buyers][: size.deletions]
    alive = [i for i in shoppers if i not in doomed]
    edited = alive[: size.profile_edits]
    consenting = [i for i in alive[size.profile_edits :] if snapshot[i].email][
        : size.consent_changes
    ]

    def consent_change(remote_id: str, channel: Channel) -> Action:
        def act() -> int:
            state = flipped(current_state(connected, remote_id, channel))
            level = (
                rng.choice((OptInLevel.SINGLE, OptInLevel.CONFIRMED))
                if state is ConsentState.SUBSCRIBED
                else OptInLevel.SINGLE
            )
            harness.set_consent(remote_id, channel, state, level)
            return 1

        return act

    def quietly(step: Callable[..., object], *args: str | None, **kwargs: str | None) -> Action:
        """An action that changes no consent."""

        def act() -> int:
            step(*args, **kwargs)
            return 0

        return act

    actions: list[Action] = []
    for remote_id in edited:
        name = f"Renamed{rng.randint(1, 10**6)}"
        actions.append(quietly(harness.edit_profile, remote_id, first_name=name))
    for remote_id in consenting:
        for channel in (Channel.EMAIL, Channel.SMS):
            if channel in harness.channels(remote_id):
                actions.append(consent_change(remote_id, channel))
    for number in range(size.new_customers):
        email = f"storm.{number}.{rng.randint(1, 10**9)}@example.org"
        actions.append(quietly(harness.create_customer, email, "New", "Shopper"))
    for remote_id in doomed:
        actions.append(quietly(harness.delete_customer, remote_id))
    for remote_id in rng.sample(alive, size.orders):
        actions.append(quietly(harness.place_order, remote_id))
    known_emails = [known for i in alive if (known := snapshot[i].email)]
    for number in range(size.guest_orders):
        # Half the guests are known customers checking out without logging in.
        guest = rng.choice(known_emails) if number % 2 else f"guest.{number}@example.net"
        actions.append(quietly(harness.place_order, None, email=guest))
    rng.shuffle(actions)
    return actions


def run(actions: list[Action]) -> int:
    """Act in the store; the number of consent facts the actions created."""
    return sum(action() for action in actions)
