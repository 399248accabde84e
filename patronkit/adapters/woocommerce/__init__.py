"""WooCommerce: the adapter and its simulator."""
