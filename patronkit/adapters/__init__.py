"""One package per storefront platform, each implementing core's ports."""
