"""The domain model: plain dataclasses and functions, no I/O."""
