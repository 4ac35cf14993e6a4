"""Request bodies of the HTTP API (pydantic), shared by routes, services and the CLI.

Every field carries the limits the server enforces (lengths, patterns, enumerations, ranges), so
the OpenAPI description accepts exactly what the server does. Text is Unicode without control
characters (and never U+0000, which PostgreSQL cannot store); in text of several lines a
vertical tab or form feed becomes a newline (``line_breaks``); links are absolute IRIs (RFC 3987),
http(s) where a page renders them; times lie between 1900 and 9999.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


def _invalid(message: str) -> PydanticCustomError:
    """A ``ValueError`` whose message pydantic reports as it is (no "Value error, " prefix)."""
    return PydanticCustomError("invalid", message)


# Text. Patterns are written for both pydantic (Rust regex) and JSON Schema (ECMA 262).
_NOT_IN_A_LINE = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
ONE_LINE = rf"^[^{_NOT_IN_A_LINE}]*$"
"""No control characters (C0, DEL, C1 with its "next line"), no line or paragraph separator (one
line wherever it is shown, a mail header included) and no bidirectional control (embeddings,
overrides, isolates, marks), which would make a name read as another: "etutitsnI DOOG" after a
right-to-left override (U+202E) is drawn "GOOD Institute" (audit 10)."""
DIRECTION_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""The bidirectional controls ``ONE_LINE`` refuses: the Arabic letter mark, the left-to-right and
right-to-left marks, embeddings, overrides and their pop, isolates and theirs."""
MULTI_LINE = r"^[^\x00-\x08\x0e-\x1f\x7f]*$"
"""No control characters but tab and line breaks (vertical tab and form feed become newlines)."""
NOT_BLANK = rf"^[^{_NOT_IN_A_LINE}]*[^\s{_NOT_IN_A_LINE}][^{_NOT_IN_A_LINE}]*$"
"""One line with at least one character that is not a space."""


@dataclass(frozen=True)
class Matching:
    """Metadata for a ``str``: it matches ``pattern`` in full (which the OpenAPI description
    shows), else the error is ``message``, which a person can act on."""

    pattern: str
    message: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        compiled = re.compile(self.pattern)

        def check(value: str) -> str:
            if compiled.fullmatch(value) is None:
                raise _invalid(self.message)
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        found["pattern"] = self.pattern
        return found


LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})
"""Vertical tab and form feed, as newlines. JSON-LD processors write them differently in
canonical N-Quads (RDFC-1.0 escapes them; pyld, behind openbadgeslib, does not), so a credential
holding one verifies in one stack and not in another; a newline reads the same everywhere."""


def line_breaks(value: Any) -> Any:
    """``value`` with vertical tabs and form feeds as newlines (other values as they are)."""
    return value.translate(LINE_BREAKS) if isinstance(value, str) else value


_ONE_LINE = Matching(
    ONE_LINE, "text here is one line without control characters or direction overrides"
)
_MULTI_LINE = Matching(MULTI_LINE, "text here has no control characters but tabs and line breaks")
Line100 = Annotated[str, Field(max_length=100), _ONE_LINE]
Word100 = Annotated[str, Field(min_length=1, max_length=100), _ONE_LINE]
Line200 = Annotated[str, Field(max_length=200), _ONE_LINE]
Text500 = Annotated[str, Field(max_length=500), BeforeValidator(line_breaks), _MULTI_LINE]
Text5000 = Annotated[str, Field(max_length=5000), BeforeValidator(line_breaks), _MULTI_LINE]
Name = Annotated[
    str,
    Field(max_length=200),
    Matching(
        NOT_BLANK,
        "a name is one line that is not blank, without control characters or direction overrides",
    ),
]


# Emails: trimmed and lower-cased before use (the pattern admits the spaces around).
_SPECIALS = r'()<>,;:"\[\]\\'
"""RFC 5322's specials but ``@`` and ``.`` (quoted, as a JSON Schema pattern in Unicode mode
allows: ``"`` needs no escape in a character class)."""
_ADDRESS = rf"[^@\s\x00-\x1f\x7f-\x9f{_SPECIALS}]"
EMAIL = re.compile(
    rf"^{_ADDRESS}{{1,64}}@{_ADDRESS}{{1,255}}\.[^@\s.\x00-\x1f\x7f-\x9f{_SPECIALS}]{{2,63}}$"
)
"""An address as one mailbox: letters, digits and ``.!#$%&'*+/=?^_`{|}~-`` (and non-ASCII
letters), never RFC 5322's specials, so that what is checked, counted and rate-limited is the
one mailbox the SMTP envelope names (audit round 9: ``(1)victim@corp.example``,
``<victim@…>`` and ``postmaster,victim@…`` each passed and went to the victim, or to two)."""
EMAIL_LENGTH = 400


def normalize_email(value: str) -> str:
    """Trimmed and lower-cased, the form that is hashed into credentials."""
    email = value.strip().lower()
    if not EMAIL.fullmatch(email):
        raise _invalid(f"{value!r} is not an email address")
    return email


Email = Annotated[
    str,
    Field(max_length=EMAIL_LENGTH, examples=["learner@example.org"]),
    AfterValidator(normalize_email),
    Matching(r"^\s*" + EMAIL.pattern[1:-1] + r"\s*$", "this is not an email address"),
]


def group_name(value: str) -> str:
    name = " ".join(value.split())
    if not 1 <= len(name) <= 100:
        raise _invalid("a group name has 1 to 100 characters")
    return name


GroupName = Annotated[
    str,
    Field(max_length=100),
    AfterValidator(group_name),
    Matching(NOT_BLANK, "a group name is one line that is not blank"),
]

# Links (RFC 3987). Characters no IRI may contain: the verifier refuses them when it
# canonicalises (N-Quads cannot write them), so they are refused before anything is signed.
_NOT_IN_IRI = r'\x00-\x20\x7f-\x9f<>"{}|\\^`\u200e\u200f\u202a-\u202e'
_IRI_CHAR = rf"(?:[^{_NOT_IN_IRI}%]|%[0-9A-Fa-f]{{2}})"
_HOST_CHAR = rf"(?:[^{_NOT_IN_IRI}%/?#]|%[0-9A-Fa-f]{{2}})"
IRI_PATTERN = rf"^[A-Za-z][A-Za-z0-9+.\-]*:{_IRI_CHAR}*$"
HTTP_PATTERN = rf"^[hH][tT][tT][pP][sS]?://{_HOST_CHAR}+{_IRI_CHAR}*$"
HTTPS_PATTERN = rf"^[hH][tT][tT][pP][sS]://{_HOST_CHAR}+{_IRI_CHAR}*$"
_IRI = re.compile(IRI_PATTERN)
_FORBIDDEN = re.compile(rf"[{_NOT_IN_IRI}]")


def iri(value: str) -> str:
    """``value`` if it is an absolute IRI (RFC 3987), else ``ValueError``."""
    if _IRI.fullmatch(value):
        return value
    if found := _FORBIDDEN.search(value):
        raise _invalid(f"{found.group()!r} is not allowed in a link (RFC 3987)")
    if ":" not in value:
        raise _invalid("a link is absolute: it starts with a scheme such as https:")
    raise _invalid("this is not a link: '%' starts two hexadecimal digits (RFC 3987)")


def http_url(value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """``value`` if it is an absolute http(s) IRI with a host, else ``ValueError``."""
    iri(value)
    try:
        parts = urlsplit(value)
        host, _port = parts.hostname, parts.port  # a bad port or IPv6 literal: ValueError
    except ValueError as exc:
        raise _invalid(f"{value!r} is not a valid URL") from exc
    if parts.scheme.lower() not in schemes or not host:
        kind = "https" if schemes == ("https",) else "http(s)"
        raise _invalid(f"this link must be an {kind} URL with a host")
    return value


def _https(value: str) -> str:
    return http_url(value, schemes=("https",))


HttpUrl = Annotated[
    str,
    Field(max_length=2000),
    AfterValidator(http_url),
    Matching(HTTP_PATTERN, "this link must be an http(s) URL"),
]
HttpsUrl = Annotated[
    str,
    Field(max_length=500),
    AfterValidator(_https),
    Matching(HTTPS_PATTERN, "this link must be an https URL"),
]
DID_PATTERN = (
    r"^did:[a-z0-9]+:(?:[A-Za-z0-9._:-]|%[0-9A-Fa-f]{2})*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})$"
)
"""A DID without path, query or fragment (W3C DID Core §3.1)."""
Did = Annotated[
    str,
    Field(max_length=500),
    Matching(DID_PATTERN, "a DID looks like did:method:identifier (W3C DID Core §3.1)"),
]

# Times.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def bounded_time(value: datetime) -> datetime:
    """An aware time between 1900 and 9999 (credentials, status checks and skill weights are
    computed from it; years outside cannot be written or added to)."""
    if value.tzinfo is None:
        raise _invalid("dates need a time zone, e.g. 2026-03-01T09:00:00Z")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise _invalid("dates lie between 1900 and 9999") from None
    if not EARLIEST <= utc <= LATEST:
        raise _invalid("dates lie between 1900 and 9999")
    return value


Time = Annotated[
    datetime,
    Field(description="ISO 8601 with a time zone, between 1900 and 9999."),
    AfterValidator(bounded_time),
]

Period = Annotated[
    str,
    Field(max_length=20),
    Matching(
        r"^P(?:\d{1,3}Y(?:\d{1,4}M)?(?:\d{1,5}D)?|\d{1,4}M(?:\d{1,5}D)?|\d{1,5}D)$",
        "a period is years, months and days, e.g. P3Y, P1Y6M or P90D, at most P999Y",
    ),
]
"""An ISO 8601 period of years, months and days; at most 999 years, 9999 months and 99999 days,
so that adding it to a date stays computable."""

# OB 3.0 enumerations (1EdTech OB 3.0 §B.3, AchievementType and AlignmentTargetType). Each is
# extensible with ``ext:`` names; tests/issuer check these against the verifier's bundled schema.
ACHIEVEMENT_TYPES = (
    "Achievement",
    "ApprenticeshipCertificate",
    "Assessment",
    "Assignment",
    "AssociateDegree",
    "Award",
    "Badge",
    "BachelorDegree",
    "Certificate",
    "CertificateOfCompletion",
    "Certification",
    "CommunityService",
    "Competency",
    "Course",
    "CoCurricular",
    "Degree",
    "Diploma",
    "DoctoralDegree",
    "Fieldwork",
    "GeneralEducationDevelopment",
    "JourneymanCertificate",
    "LearningProgram",
    "License",
    "Membership",
    "ProfessionalDoctorate",
    "QualityAssuranceCredential",
    "MasterCertificate",
    "MasterDegree",
    "MicroCredential",
    "ResearchDoctorate",
    "SecondarySchoolDiploma",
)
ALIGNMENT_TARGET_TYPES = (
    "ceasn:Competency",
    "ceterms:Credential",
    "CFItem",
    "CFRubric",
    "CFRubricCriterion",
    "CFRubricCriterionLevel",
    "CTDL",
)
EXTENSION = r"^ext:[A-Za-z0-9._-]+$"


def _extensible(names: tuple[str, ...], what: str) -> AfterValidator:
    """A value of an extensible OB enumeration: one of ``names``, or ``ext:`` and a name."""
    allowed = frozenset(names)
    extension = re.compile(EXTENSION)

    def check(value: str) -> str:
        if value not in allowed and not extension.fullmatch(value):
            raise _invalid(f"{value!r} is not an OB 3.0 {what} (nor an extension ext:Name)")
        return value

    return AfterValidator(check)


def _enumerated(names: tuple[str, ...]) -> Any:
    return Field(
        max_length=100, json_schema_extra={"anyOf": [{"enum": list(names)}, {"pattern": EXTENSION}]}
    )


AchievementType = Annotated[
    str, _enumerated(ACHIEVEMENT_TYPES), _extensible(ACHIEVEMENT_TYPES, "achievement type")
]
AlignmentTargetType = Annotated[
    str,
    _enumerated(ALIGNMENT_TARGET_TYPES),
    _extensible(ALIGNMENT_TARGET_TYPES, "alignment target type"),
]

AchievementKey = Annotated[
    str,
    Field(max_length=99),
    Matching(
        r"^[a-z0-9][a-z0-9-]{0,98}$",
        "an achievement key is lower-case letters, digits and hyphens, e.g. leading-people",
    ),
]


Uri = Annotated[
    str,
    Field(max_length=500),
    AfterValidator(iri),
    Matching(IRI_PATTERN, "an id is an absolute URI, e.g. urn:uuid:… or https://…"),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Recipient(Strict):
    email: Email = Field(description="The learner's email; hashed (salted) into the credential.")
    name: Line200 | None = Field(default=None, description="Shown on the certificate and page.")
    did: Did | None = Field(
        default=None,
        description="The learner's DID as this issuer knows it: the subject id of this "
        "credential, and of this issuer's later ones for the learner that name none (unless she "
        "established a DID herself). Never used by other issuers. 409 if this issuer named it "
        "for another learner.",
    )
    groups: list[GroupName] = Field(
        default_factory=list,
        max_length=20,
        description="Groups (departments, cohorts) to put the learner in at this issuer; "
        "never part of the credential.",
    )


class Evidence(Strict):
    id: HttpUrl | None = Field(default=None, description="An http(s) URL of the evidence.")
    name: Line200 | None = None
    description: Text5000 | None = None
    narrative: Text5000 | None = None


class Result(Strict):
    """An OB 3.0 Result: how the learner did, against one of the achievement's
    ``resultDescriptions`` (checked at issuance: the description, the rubric level, the range
    and the allowed values)."""

    resultDescription: Uri | None = Field(
        default=None, description="The id of one of the achievement's resultDescriptions."
    )
    achievedLevel: Uri | None = Field(
        default=None,
        description="The id of one of that description's rubricCriterionLevel entries.",
    )
    value: Line200 | None = Field(
        default=None,
        description="The score or grade, e.g. 80 or B+; a number between valueMin and valueMax "
        "and one of allowedValue when the description gives them.",
    )
    status: (
        Literal[
            "Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _described(self) -> Result:
        if self.achievedLevel is not None and self.resultDescription is None:
            raise _invalid("an achievedLevel needs the resultDescription it belongs to")
        return self


class IssueRequest(Strict):
    recipient: Recipient
    achievement: AchievementKey = Field(description="The key of one of the issuer's achievements.")
    evidence: list[Evidence] = Field(default_factory=list, max_length=20)
    results: list[Result] = Field(default_factory=list, max_length=20)
    narrative: Text5000 | None = None
    validFrom: Time | None = None
    validUntil: Time | None = None
    creditsEarned: float | None = Field(
        default=None, ge=0, le=100000, description="Learning hours earned (in hundredths)."
    )
    idempotencyKey: Line200 | None = Field(
        default=None, description="Bulk rows only: a per-row idempotency key."
    )

    @field_validator("creditsEarned")
    @classmethod
    def _hours(cls, value: float | None) -> float | None:
        return _learning_hours(value)


class SingleIssueRequest(IssueRequest):
    """One issuance over the API: its idempotency key is the ``Idempotency-Key`` header."""

    idempotencyKey: None = Field(default=None, description="Use the Idempotency-Key header.")


def _learning_hours(value: float | None) -> float | None:
    """Hours in hundredths. Tiny fractions (1e-7) and huge integers canonicalise differently in
    JavaScript JSON-LD stacks, so credentials that carry them would not verify everywhere."""
    if value is None:
        return None
    rounded = round(value, 2)
    if value and not rounded:
        raise _invalid("learning hours are counted in hundredths of an hour")
    return int(rounded) if rounded == int(rounded) else rounded


class IssuerUpdate(Strict):
    """Changes to an issuer's profile; omitted fields stay as they are, ``null`` clears one."""

    name: Name | None = None
    url: HttpsUrl | None = Field(
        default=None,
        description="The institute's website (https). Its DID Configuration links it to the "
        "issuer, so verifiers show the issuer as linked to that domain.",
    )
    email: Email | None = None
    description: Text5000 | None = None
    location: Line200 | None = Field(
        default=None, description='Where the institute is, e.g. "Jincheon, Korea".'
    )


class RevokeRequest(Strict):
    reason: Text500 = Field(min_length=1)


class Alignment(Strict):
    """An OB 3.0 Alignment: a skill or standard the achievement builds."""

    targetName: Name
    targetUrl: HttpUrl = Field(description="An http(s) URL that describes the target.")
    targetCode: Line100 | None = None
    targetFramework: Line200 | None = None
    targetType: AlignmentTargetType | None = None
    targetDescription: Text5000 | None = None


RESULT_TYPES = (
    "GradePointAverage",
    "LetterGrade",
    "Percent",
    "PerformanceLevel",
    "PredictedScore",
    "RawScore",
    "Result",
    "RubricCriterion",
    "RubricCriterionLevel",
    "RubricScore",
    "ScaledScore",
    "Status",
)
ResultType = Annotated[str, _enumerated(RESULT_TYPES), _extensible(RESULT_TYPES, "result type")]


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


class RubricCriterionLevel(Strict):
    """One level of a rubric (OB 3.0 RubricCriterionLevel), listed from lowest to highest."""

    id: Uri = Field(default_factory=_urn, description="A URI; a urn:uuid: is made if omitted.")
    name: Name
    description: Text5000 | None = None
    level: Line100 | None = Field(default=None, description='The level\'s label, e.g. "3".')
    points: Line100 | None = Field(default=None, description='Points for this level, e.g. "8".')


class ResultDescription(Strict):
    """An OB 3.0 ResultDescription: a result the achievement can be issued with."""

    id: Uri = Field(default_factory=_urn, description="A URI; a urn:uuid: is made if omitted.")
    name: Name
    resultType: ResultType = Field(description="An OB 3.0 result type, or an extension ext:Name.")
    allowedValue: list[Line200] | None = Field(
        default=None, max_length=100, description="The values a result may take, in order."
    )
    valueMin: Line100 | None = None
    valueMax: Line100 | None = None
    requiredValue: Line200 | None = None
    requiredLevel: Uri | None = Field(
        default=None, description="The id of the rubric level needed to earn the achievement."
    )
    rubricCriterionLevel: list[RubricCriterionLevel] = Field(
        default_factory=list,
        max_length=20,
        description="Rubric levels from lowest to highest; a result names one as achievedLevel.",
    )
    alignment: list[Alignment] = Field(
        default_factory=list,
        max_length=50,
        description="Skills this result assesses (every skill of the badge when none).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ResultDescription:
        ids = [level.id for level in self.rubricCriterionLevel]
        if len(set(ids)) != len(ids):
            raise _invalid(f"the rubric levels of {self.name!r} must have different ids")
        if self.requiredLevel is not None and self.requiredLevel not in ids:
            raise _invalid("requiredLevel must be the id of one of the rubric levels")
        low, high = _number(self.valueMin), _number(self.valueMax)
        if low is not None and high is not None and not low < high:
            raise _invalid("valueMin must be less than valueMax")
        return self


class AchievementIn(Strict):
    key: AchievementKey
    name: Name
    description: Text5000 = Field(min_length=1)
    criteria: Text5000 = Field(min_length=1)
    achievementType: AchievementType = Field(
        default="Badge", description="An OB 3.0 achievement type, or an extension ext:Name."
    )
    creditsAvailable: float | None = Field(default=None, ge=0, le=100000)
    tags: list[Annotated[Line100, Field(min_length=1)]] = Field(default_factory=list, max_length=50)
    alignments: list[Alignment] = Field(default_factory=list, max_length=50)
    validity: Period | None = Field(
        default=None, description="How long credentials stay valid: P3Y, P1Y6M, P90D."
    )
    resultDescriptions: list[ResultDescription] = Field(
        default_factory=list,
        max_length=20,
        description="Results credentials of this achievement can carry (OB 3.0 "
        "resultDescription): rubrics and scores, which Laurel's skills picture turns into an "
        "assessed proficiency level.",
    )

    @field_validator("resultDescriptions")
    @classmethod
    def _unique_results(cls, value: list[ResultDescription]) -> list[ResultDescription]:
        ids = [d.id for d in value]
        if len(set(ids)) != len(ids):
            raise _invalid("every resultDescription needs its own id")
        return value

    @field_validator("creditsAvailable", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("creditsAvailable is a number of hours, not true or false")
        return value

    @field_validator("creditsAvailable")
    @classmethod
    def _hours(cls, value: float | None) -> float | None:
        return _learning_hours(value)


class TeamSkill(Strict):
    code: Word100
    framework: Word100 | None = None
    minLevel: int = Field(default=1, ge=1, le=5)


class TeamRequest(Strict):
    skills: list[Word100 | TeamSkill] = Field(min_length=1, max_length=50)
    size: int | None = Field(default=None, ge=1, le=100)
    exclude: list[Email] = Field(
        default_factory=list, max_length=1000, description="Emails of learners not to include."
    )
    critical: list[Word100] = Field(
        default_factory=list,
        max_length=50,
        description="Codes of skills the team should hold twice (a second holder is added when "
        "the pool has one and `size` allows).",
    )


class GroupRoster(Strict):
    emails: list[Annotated[str, Field(max_length=EMAIL_LENGTH)]] = Field(
        max_length=100_000, description="The group's members, by email (400 if one is not)."
    )


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error (RFC 9457 problem details), served as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[FieldProblem] | None = Field(
        default=None, description="422: every field that is wrong, and why."
    )
