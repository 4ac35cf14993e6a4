"""Which skill an OB alignment names: (framework, code)."""

from __future__ import annotations

from typing import Any


def framework_of(alignment: dict[str, Any]) -> str:
    """Laurel's own frameworks carry their id in the ``targetUrl`` (``…/frameworks/{id}/{code}``);
    any other alignment is kept under its ``targetFramework`` name (ESCO, O*NET, …)."""
    url = str(alignment.get("targetUrl", ""))
    if "/frameworks/" in url:
        return url.split("/frameworks/", 1)[1].split("/", 1)[0]
    return str(alignment.get("targetFramework") or "external")


def skill_of(alignment: dict[str, Any]) -> tuple[str, str]:
    return framework_of(alignment), str(alignment.get("targetCode") or alignment.get("targetName"))
