"""The domain. Plain Python: no Flask, no HTTP client, no platform names.

`core.domain` holds the model; `core.store` maps it onto SQLAlchemy.
"""
