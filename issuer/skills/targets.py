"""Target profiles (``badge_templates/targets``): the skills and levels a role, programme or
Korean grade (5급 … 고위공무원) asks for, checked against the catalogue's frameworks. Gaps
(``issuer.reports.gaps``) and development plans (``issuer.orgs.plans``) read them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import badge_templates
from issuer.catalogue import Catalogue
from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.skills.frameworks import catalogue

TARGETS = badge_templates.PATH / "targets"


def load_targets(catalogue_: Catalogue, directory: Path = TARGETS) -> dict[str, dict[str, Any]]:
    """Every target profile, checked against the catalogue's frameworks."""
    targets: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.toml")):
        for target in tomllib.loads(path.read_text("utf-8")).get("targets", []):
            for skill in target["skills"]:
                catalogue_.skill(skill["framework"], skill["code"])  # raises if unknown
                if not 1 <= int(skill["level"]) <= 5:
                    raise ValueError(f"{path.name}: level of {skill['code']} is not 1-5")
            if not target.get("name_ko") or not target.get("description_ko"):
                needs = "needs name_ko and description_ko"
                raise ValueError(f"{path.name}: target {target['id']!r} {needs}")
            targets[target["id"]] = target
    return targets


def targets(services: Services) -> dict[str, dict[str, Any]]:
    found = services.cache.get("targets")
    if not isinstance(found, dict):
        found = services.cache["targets"] = load_targets(catalogue(services))
    return found


def target_label(target: dict[str, Any], lang: str) -> str:
    """A target's display name in ``lang`` (its ``name_ko`` on a Korean page)."""
    return str(target.get("name_ko") or target["name"]) if lang == "ko" else str(target["name"])


def target(services: Services, target_id: str) -> dict[str, Any]:
    found = targets(services).get(target_id)
    if found is None:
        raise NotFound(
            f"there is no target profile {target_id!r}; "
            f"known: {', '.join(sorted(targets(services)))}"
        )
    return found
