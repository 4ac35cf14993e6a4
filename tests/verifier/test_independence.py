"""``verifier/`` is a standalone library: it never imports the issuer service, a web framework, a
database or settings (docs/verifier.md). Checked statically, file by file, with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import verifier

PACKAGE = Path(verifier.__file__).resolve().parent
FORBIDDEN = frozenset(
    {"issuer", "fastapi", "sqlmodel", "sqlalchemy", "pydantic_settings", "starlette"}
)
SOURCES = sorted(PACKAGE.rglob("*.py"))


def imported_modules(source: str, filename: str = "<source>") -> set[str]:
    """Every absolute module name a file imports: ``import x.y``, ``from x.y import z``, and
    ``importlib.import_module("x")`` / ``__import__("x")`` with a literal name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                names.add(node.module)
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            called = (
                function.attr
                if isinstance(function, ast.Attribute)
                else function.id
                if isinstance(function, ast.Name)
                else None
            )
            first = node.args[0]
            if (
                called in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                names.add(first.value)
    return names


def forbidden_imports(source: str, filename: str = "<source>") -> list[str]:
    return sorted(
        name for name in imported_modules(source, filename) if name.split(".")[0] in FORBIDDEN
    )


def test_the_walk_finds_the_whole_package() -> None:
    relative = {path.relative_to(PACKAGE).as_posix() for path in SOURCES}
    assert {"__init__.py", "verify.py", "sources.py", "baking.py", "proof/jwt.py"} <= relative


@pytest.mark.parametrize(
    "source",
    [
        "import issuer",
        "import issuer.cli as cli",
        "from issuer.keys import did_key",
        "from fastapi import FastAPI",
        "import sqlmodel, json",
        "from sqlalchemy.orm import Session",
        "from pydantic_settings import BaseSettings",
        "from starlette.requests import Request",
        "def f():\n    import fastapi",
        "try:\n    import sqlalchemy\nexcept ImportError:\n    pass",
        "import importlib\nimportlib.import_module('issuer.crypto.signing')",
        "__import__('starlette')",
    ],
)
def test_the_check_catches_forbidden_imports(source: str) -> None:
    assert forbidden_imports(source)


@pytest.mark.parametrize(
    "source",
    [
        "import json",
        "from . import issuer",
        "from .issuer import x",
        "import issuers",
        "from verifier.fetch import Fetcher",
        "issuer = 'https://example.org'",
    ],
)
def test_the_check_allows_other_imports(source: str) -> None:
    assert forbidden_imports(source) == []


@pytest.mark.parametrize(
    "path", SOURCES, ids=[path.relative_to(PACKAGE).as_posix() for path in SOURCES]
)
def test_verifier_module_imports_nothing_forbidden(path: Path) -> None:
    found = forbidden_imports(path.read_text("utf-8"), str(path))
    assert found == [], f"{path.relative_to(PACKAGE)} imports {found}"
