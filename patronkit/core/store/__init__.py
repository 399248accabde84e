"""Persistence: SQLAlchemy tables, the imperative mapping onto the domain, repositories and the
unit of work. The domain modules know nothing of this package."""
