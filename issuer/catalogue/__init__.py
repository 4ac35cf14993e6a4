"""The badge catalogue: skill frameworks, achievement templates and programmes as TOML data.

``badge_templates/`` holds ``frameworks/{id}.toml`` (one skill framework each),
``achievements/*.toml`` (``[[achievements]]``) and ``programs/*.toml`` (``[[programs]]``); the
format is described in ``badge_templates/README.md``. ``load_catalogue`` reads and validates it
all; ``to_ob_achievement`` turns a template into an OB 3.0 ``Achievement`` object.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

import badge_templates

DEFAULT_PATH = badge_templates.PATH
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
CODE = r"^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$"
COLOUR = r"^#[0-9A-Fa-f]{6}$"
COMPETENCY = "ceasn:Competency"
EXTENSION = re.compile(r"^ext:[A-Za-z0-9._-]+$")
DURATION = re.compile(r"^P(\d+Y)?(\d+M)?(\d+D)?$")  # what issuance.add_duration accepts
HTTP_URL = re.compile(r"^https?://[^\s/]+\S*$")
BADGE_AREAS = ("knowledge", "skills", "proficiency", "qualifications", "general")
"""IBM's five areas of open badges (the study, section 2.4.3), in the study's order."""
BadgeArea = Literal["knowledge", "skills", "proficiency", "qualifications", "general"]
Language = Literal["en", "ko"]

T = TypeVar("T", bound=BaseModel)


@cache
def achievement_types() -> frozenset[str]:
    """The OB 3.0 AchievementType vocabulary, from the bundled JSON Schema."""
    schema = resources.files("verifier.schemas").joinpath("achievementcredential.json")
    achievement = json.loads(schema.read_text("utf-8"))["$defs"]["Achievement"]
    return frozenset(achievement["properties"]["achievementType"]["oneOf"][0]["enum"])


class CatalogueError(ValueError):
    """The catalogue data is malformed or inconsistent; the message names the file and entry."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Korean(_Model):
    """Korean ``name_ko`` and ``description_ko`` that every catalogue item carries; ``translated``
    (default true) says the Korean is Laurel's translation, not wording of the source, so pages
    can mark it "(번역)"."""

    name: str = Field(min_length=1)
    name_ko: str = Field(min_length=1)
    description_ko: str = Field(min_length=1)
    translated: bool = True

    def label(self, lang: str) -> str:
        """The name in ``lang`` ("ko" or anything else for English)."""
        return self.name_ko if lang == "ko" else self.name


class Skill(_Korean):
    """One node of a skill framework (a qualification, competency or skill)."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    parent: str | None = None
    group: str | None = Field(default=None, pattern=SLUG)
    importance_current: int | None = Field(default=None, ge=1)
    importance_future: int | None = Field(default=None, ge=1)


class Framework(_Korean):
    """A skill framework; achievements align to its skills by code."""

    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    source: str = Field(min_length=1)
    skills: tuple[Skill, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes_and_parents(self) -> Framework:
        codes = [skill.code for skill in self.skills]
        for skill in self.skills:
            if codes.count(skill.code) > 1:
                raise ValueError(f"skill {skill.code!r}: duplicate code")
            if skill.parent is not None and skill.parent not in codes:
                raise ValueError(f"skill {skill.code!r}: unknown parent {skill.parent!r}")
        parents = {skill.code: [skill.parent] for skill in self.skills if skill.parent}
        _acyclic(parents, {code: f"skill {code!r}" for code in codes}, "parent")
        return self

    def skill(self, code: str) -> Skill:
        """The skill with ``code``; ``KeyError`` if there is none."""
        return _find(self.skills, "code", code, f"skill in framework {self.id!r}")


class Alignment(_Model):
    """A skill an achievement aligns to: in a catalogue framework, or external (with ``url``)."""

    framework: str = Field(min_length=1)
    code: str = Field(min_length=1)
    url: str | None = Field(default=None, pattern=HTTP_URL.pattern)
    name: str | None = None
    target_type: str = COMPETENCY


class Design(_Model):
    """How the badge image is drawn (rendered elsewhere)."""

    shape: Literal["circle", "shield", "hexagon", "ribbon"]
    color: str = Field(pattern=COLOUR)
    level: int | None = Field(default=None, ge=1)


class AchievementTemplate(_Korean):
    """An achievement the issuer can award; ``hours`` become ``creditsAvailable``."""

    key: str = Field(pattern=SLUG)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    criteria: str = Field(min_length=1)
    criteria_ko: str = Field(min_length=1)
    badge_area: BadgeArea
    """Which of IBM's five badge areas (``BADGE_AREAS``) it belongs to."""
    achievement_type: str
    hours: StrictInt | StrictFloat = Field(gt=0, allow_inf_nan=False)
    alignments: tuple[Alignment, ...] = ()
    tags: tuple[str, ...] = ()
    validity: str | None = None
    design: Design
    records_completion: bool = False
    """A badge that records learning counted elsewhere (the Ongoing Learning annual badge; every
    programme's award is one too): its ``hours`` describe it but are not learning hours of their
    own, so its credentials carry none and every hour is counted once."""

    @field_validator("achievement_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in achievement_types() and not EXTENSION.match(value):
            raise ValueError(f"{value!r} is not an OB 3.0 AchievementType nor 'ext:…'")
        return value

    @field_validator("validity")
    @classmethod
    def _iso_duration(cls, value: str | None) -> str | None:
        if value is not None and (not DURATION.match(value) or not re.search(r"[1-9]", value)):
            raise ValueError(f"validity {value!r} is not a positive ISO 8601 period like P3Y")
        return value


class Program(_Korean):
    """A programme: complete ``required``, ``electives_needed`` of ``electives`` and every nested
    programme in ``programs``, and ``award`` is issued."""

    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    required: tuple[str, ...] = ()
    electives: tuple[str, ...] = ()
    electives_needed: int = Field(default=0, ge=0)
    award: str
    programs: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Program:
        listed = [*self.required, *self.electives]
        if len(set(listed)) != len(listed) or self.award in listed:
            raise ValueError("an achievement is listed twice or is its own award")
        if self.electives_needed > len(self.electives):
            raise ValueError(f"electives_needed {self.electives_needed} exceeds the electives")
        return self


class Catalogue(_Model):
    """Every framework, achievement template and programme, validated together. The lookups
    (``achievement``, ``framework``, ``skill``, ``program``) raise ``KeyError`` when absent."""

    frameworks: tuple[Framework, ...]
    achievements: tuple[AchievementTemplate, ...]
    programs: tuple[Program, ...]

    def achievement(self, key: str) -> AchievementTemplate:
        return _find(self.achievements, "key", key, "achievement")

    def framework(self, id: str) -> Framework:
        return _find(self.frameworks, "id", id, "framework")

    def skill(self, framework: str, code: str) -> Skill:
        return self.framework(framework).skill(code)

    def program(self, id: str) -> Program:
        return _find(self.programs, "id", id, "programme")

    def skill_label(self, framework: str, code: str, lang: str, default: str) -> str:
        """A catalogue skill's name in ``lang`` ("ko" gives ``name_ko``); ``default`` for an
        English page or a skill the catalogue does not hold (an external alignment)."""
        if lang != "ko":
            return default
        try:
            return self.skill(framework, code).name_ko
        except KeyError:
            return default

    @property
    def programme_keys(self) -> frozenset[str]:
        """Achievement keys that count towards some programme (others never complete one)."""
        awards = {p.id: p.award for p in self.programs}
        return frozenset(
            key
            for p in self.programs
            for key in (*p.required, *p.electives, *(awards[n] for n in p.programs if n in awards))
        )

    @property
    def completion_keys(self) -> frozenset[str]:
        """Achievements that record completion of learning whose hours their parts carry: every
        programme's award and the templates marked ``records_completion``."""
        return frozenset(
            {p.award for p in self.programs}
            | {a.key for a in self.achievements if a.records_completion}
        )


def _find(items: Iterable[T], field: str, value: str, what: str) -> T:
    for item in items:
        if getattr(item, field) == value:
            return item
    raise KeyError(f"no {what} {value!r}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot read TOML: {exc}") from exc


def _parse(model: type[T], data: Any, where: str) -> T:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(str(p) for p in e["loc"]) + f": {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors()
        )
        raise CatalogueError(f"{where}: {problems}") from exc


def _entries(path: Path, table: str, model: type[T], label: str) -> list[tuple[T, str]]:
    """Every ``[[table]]`` entry of ``path`` as (model, "file: label 'id'")."""
    data = _read_toml(path)
    unknown = set(data) - {table}
    if unknown or not isinstance(data.get(table), list):
        raise CatalogueError(f"{path}: expected only [[{table}]] entries, found {sorted(data)}")
    parsed = []
    for index, raw in enumerate(data[table]):
        name = raw.get("key", raw.get("id")) if isinstance(raw, dict) else None
        where = f"{path}: {label} {name!r}" if name else f"{path}: {label} #{index + 1}"
        parsed.append((_parse(model, raw, where), where))
    return parsed


def _unique(entries: Iterable[tuple[Any, str]], ident: Callable[[Any], str], what: str) -> None:
    seen: dict[str, str] = {}
    for item, where in entries:
        if ident(item) in seen:
            raise CatalogueError(f"{where}: duplicate {what} (first in {seen[ident(item)]})")
        seen[ident(item)] = where


def _acyclic(edges: Mapping[str, Iterable[str]], where: Mapping[str, str], what: str) -> None:
    """Raise if following ``edges`` from any node comes back to it."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycle = " -> ".join([*path[path.index(node) :], node])
            raise CatalogueError(f"{where[node]}: {what} cycle {cycle}")
        if node not in done:
            for nxt in edges.get(node, ()):
                visit(nxt, [*path, node])
            done.add(node)

    for node in edges:
        visit(node, [])


def _load_frameworks(folder: Path) -> list[Framework]:
    frameworks = []
    for path in sorted(folder.glob("*.toml")):
        framework = _parse(Framework, _read_toml(path), f"{path}: framework")
        if framework.id != path.stem:
            raise CatalogueError(f"{path}: framework id {framework.id!r} differs from file name")
        frameworks.append(framework)
    return frameworks


def _check_alignments(
    achievements: list[tuple[AchievementTemplate, str]], frameworks: list[Framework]
) -> None:
    codes = {f.id: {s.code for s in f.skills} for f in frameworks}
    for achievement, where in achievements:
        for align in achievement.alignments:
            target = f"{align.framework}/{align.code}"
            if align.framework in codes:
                if align.url:
                    raise CatalogueError(f"{where}: {target} is in the catalogue; drop its url")
                if align.code not in codes[align.framework]:
                    raise CatalogueError(f"{where}: alignment to unknown skill {target}")
            elif not align.url or not align.name:
                raise CatalogueError(
                    f"{where}: alignment to unknown framework {align.framework!r} "
                    "(an external alignment needs a url and a name)"
                )


def _check_programs(programs: list[tuple[Program, str]], keys: set[str]) -> None:
    ids = {program.id for program, _ in programs}
    for program, where in programs:
        for key in (*program.required, *program.electives, program.award):
            if key not in keys:
                raise CatalogueError(f"{where}: unknown achievement {key!r}")
        for nested in program.programs:
            if nested not in ids:
                raise CatalogueError(f"{where}: unknown programme {nested!r}")
    edges = {program.id: program.programs for program, _ in programs}
    _acyclic(edges, {program.id: where for program, where in programs}, "programme")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the catalogue under ``path`` (default: the repository's
    ``badge_templates/``). Raises ``CatalogueError`` naming the file and entry at fault."""
    root = DEFAULT_PATH if path is None else Path(path)
    if not root.is_dir():
        raise CatalogueError(f"{root}: no catalogue folder")
    frameworks = _load_frameworks(root / "frameworks")
    achievements = [
        entry
        for file in sorted((root / "achievements").glob("*.toml"))
        for entry in _entries(file, "achievements", AchievementTemplate, "achievement")
    ]
    programs = [
        entry
        for file in sorted((root / "programs").glob("*.toml"))
        for entry in _entries(file, "programs", Program, "programme")
    ]
    _unique(achievements, lambda a: a.key, "achievement key")
    _unique(programs, lambda p: p.id, "programme id")
    _check_alignments(achievements, frameworks)
    _check_programs(programs, {achievement.key for achievement, _ in achievements})
    return Catalogue(
        frameworks=tuple(frameworks),
        achievements=tuple(a for a, _ in achievements),
        programs=tuple(p for p, _ in programs),
    )


def program_hours(program: Program, catalogue: Catalogue) -> float:
    """The fewest learning hours that complete ``program``: its required achievements, its
    cheapest electives and (recursively) its nested programmes."""
    required = sum(catalogue.achievement(key).hours for key in program.required)
    electives = sorted(catalogue.achievement(key).hours for key in program.electives)
    nested = sum(program_hours(catalogue.program(p), catalogue) for p in program.programs)
    return required + sum(electives[: program.electives_needed]) + nested


def _ob_alignment(
    align: Alignment, catalogue: Catalogue, base_url: str, language: Language
) -> dict[str, Any]:
    if align.url:
        name, url, framework, definition = align.name, align.url, align.framework, None
    else:
        source = catalogue.framework(align.framework)
        skill = source.skill(align.code)
        name, framework = skill.label(language), source.label(language)
        definition = skill.description_ko if language == "ko" else skill.definition
        url = f"{base_url.rstrip('/')}/frameworks/{source.id}/{skill.code}"
    alignment = {
        "type": ["Alignment"],
        "targetName": name,
        "targetUrl": url,
        "targetFramework": framework,
        "targetCode": align.code,
        "targetType": align.target_type,
        "targetDescription": definition,
    }
    return {field: value for field, value in alignment.items() if value}


def to_ob_achievement(
    template: AchievementTemplate,
    catalogue: Catalogue,
    *,
    achievement_id: str,
    base_url: str,
    language: Language = "en",
) -> dict[str, Any]:
    """The OB 3.0 ``Achievement`` for ``template`` (no image); empty fields are omitted, and so
    are the hours of a badge that records completion (``Catalogue.completion_keys``): the
    courses it records carry them. With ``language="ko"`` its name, description, criteria and
    catalogue alignments are the Korean ones, and ``inLanguage`` says so."""
    completion = template.key in catalogue.completion_keys
    korean = language == "ko"
    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": template.achievement_type,
        "name": template.label(language),
        "description": template.description_ko if korean else template.description,
        "criteria": {"narrative": template.criteria_ko if korean else template.criteria},
        "creditsAvailable": None if completion else template.hours,
        "tag": list(template.tags),
        "alignment": [_ob_alignment(a, catalogue, base_url, language) for a in template.alignments],
        "inLanguage": language if korean else None,
    }
    return {field: value for field, value in achievement.items() if value}


def shared(cache: MutableMapping[object, object]) -> Catalogue:
    """The bundled catalogue, loaded once per process and kept in ``cache``."""
    found = cache.get("catalogue")
    if not isinstance(found, Catalogue):
        found = load_catalogue()
        cache["catalogue"] = found
    return found
