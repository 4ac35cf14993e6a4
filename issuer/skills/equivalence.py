"""One skill, however many frameworks list it; and competencies rolled up to their parent.

``badge_templates/equivalences.toml`` names competencies that two frameworks both list (ECQ1-3
Flexibility and the AI competency model's "flexibility", …): the skills picture shows each once,
under its first code (the *canonical* key), with all its codes, and a badge aligned to both
counts once for it (its larger contribution). ``ROLLUP`` frameworks roll each competency up to its
``parent`` in the catalogue (ECQ1-3 → ECQ1 Leading Change).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case

import badge_templates
from issuer.catalogue import Catalogue, load_catalogue

Key = tuple[str, str]
EQUIVALENCES = badge_templates.PATH / "equivalences.toml"
ROLLUP = ("ecq",)
"""Frameworks whose competencies roll up to their parent (the five ECQs)."""


@dataclass(frozen=True)
class SkillMap:
    canonical: dict[Key, Key] = field(default_factory=dict)
    """Every other code of a merged skill -> its canonical (first) key."""
    codes: dict[Key, tuple[Key, ...]] = field(default_factory=dict)
    """Canonical key of a merged skill -> all its keys, canonical first."""
    parent: dict[Key, Key] = field(default_factory=dict)
    """Canonical key of a competency in a ``ROLLUP`` framework -> its parent's key."""

    def canon(self, key: Key) -> Key:
        return self.canonical.get(key, key)

    def all_codes(self, key: Key) -> tuple[Key, ...]:
        key = self.canon(key)
        return self.codes.get(key, (key,))

    def children(self, parent: Key) -> list[Key]:
        return [child for child, up in self.parent.items() if up == parent]

    def sql(self, framework: Any, code: Any) -> tuple[Any, Any]:
        """SQL expressions for the canonical framework and code of the columns given."""
        if not self.canonical:
            return framework, code
        whens = [
            (and_(framework == f, code == c), target) for (f, c), target in self.canonical.items()
        ]
        return (
            case(*[(cond, target[0]) for cond, target in whens], else_=framework),
            case(*[(cond, target[1]) for cond, target in whens], else_=code),
        )


def _key(text: str, where: str) -> Key:
    framework, sep, code = text.partition(":")
    if not sep or not framework or not code:
        raise ValueError(f"{where}: {text!r} is not 'framework:code'")
    return framework, code


def load(catalogue: Catalogue, path: Path = EQUIVALENCES) -> SkillMap:
    """The equivalence table checked against the catalogue (every key must exist, none twice),
    and the roll-up parents of the ``ROLLUP`` frameworks."""
    data = tomllib.loads(path.read_text("utf-8"))
    result = SkillMap()
    for number, entry in enumerate(data.get("equivalent", []), 1):
        where = f"{path.name}: entry {number}"
        keys = [_key(str(text), where) for text in entry["skills"]]
        if len(keys) < 2:
            raise ValueError(f"{where}: an equivalence needs two skills or more")
        for key in keys:
            catalogue.skill(*key)  # KeyError if unknown
            if key in result.canonical or key in result.codes:
                raise ValueError(f"{where}: {key[0]}:{key[1]} is in two equivalences")
        result.codes[keys[0]] = tuple(keys)
        for alias in keys[1:]:
            result.canonical[alias] = keys[0]
    for framework in catalogue.frameworks:
        if framework.id in ROLLUP:
            for skill in framework.skills:
                if skill.parent:
                    result.parent[(framework.id, skill.code)] = (framework.id, skill.parent)
    return result


@cache
def bundled_catalogue() -> Catalogue:
    """The bundled catalogue, for code that has no ``Services`` at hand (loaded once)."""
    return load_catalogue()


@cache
def bundled() -> SkillMap:
    """The bundled table, loaded once per process."""
    return load(bundled_catalogue())
