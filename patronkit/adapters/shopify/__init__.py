"""Shopify: install flows, webhooks, GraphQL Admin client, mapping, and a simulator."""
