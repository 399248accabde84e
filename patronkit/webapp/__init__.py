"""Flask: install/auth flows, admin pages, storefront widget API, webhook endpoints."""
