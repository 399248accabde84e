"""patronkit: customer consent, referrals and reviews, synced across storefronts."""

__version__ = "0.1.0"
