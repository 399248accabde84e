"""Dependencies point inward: core/ imports no web framework, HTTP client, or outer layer."""

from __future__ import annotations

import ast
from pathlib import Path

import patronkit

PACKAGE = Path(patronkit.__file__).parent
FORBIDDEN_IN_CORE = (
    "flask",
    "werkzeug",
    "requests",
    "urllib3",
    "httpx",
    "shopify",
    "woocommerce",
    "huey",
    "patronkit.adapters",
    "patronkit.sync",
    "patronkit.webapp",
    "patronkit.cli",
)
# The domain is plain Python: not even the persistence layer.
FORBIDDEN_IN_DOMAIN = (*FORBIDDEN_IN_CORE, "sqlalchemy", "alembic", "patronkit.core.store")
PLATFORM_NAMES = ("shopify", "woocommerce", "magento")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return found


def test_core_imports_no_outer_layer_or_http() -> None:
    assert _violations(PACKAGE / "core", FORBIDDEN_IN_CORE) == []


def test_domain_imports_no_persistence() -> None:
    assert _violations(PACKAGE / "core" / "domain", FORBIDDEN_IN_DOMAIN) == []


def test_core_names_no_platform() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / "core").rglob("*.py")
        if any(name in path.read_text().lower() for name in PLATFORM_NAMES)
    ]
    assert offenders == []


def test_the_checker_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import Flask\nimport patronkit.sync.inbox\n")
    assert _imports(bad) == {"flask", "patronkit.sync.inbox"}
