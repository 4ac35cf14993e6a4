"""OB 3.0 JSON Schema conformance (OB 3.0 §8.1 step 2; the 1EdTech JSON Schemas, draft 2019-09).

When the credential names a ``credentialSchema`` of type ``1EdTechJsonSchemaValidator2019``, it is
validated strictly against that (bundled) schema. Otherwise it is validated against the schema
for its type after wrapping in arrays the single values that JSON-LD compaction may produce,
wherever the schema asks for an array (``proof``, ``type``, …): the strict schemas reject those
forms, but the standard allows them (OB 3.0 serialization: "emit arrays, accept both").

Two validators read each schema: a compiled one (``jsonschema-rs``, microseconds) that only says
"valid", and the reference one (``jsonschema``), which decides every document the compiled one
does not accept and writes the messages. The compiled validator never asserts ``format`` (draft
2019-09 makes it an annotation, as the reference validator treats it) and is stricter than the
reference in two places, both decided by the reference then: its ``pattern`` follows ECMA-262
(``\\d`` is an ASCII digit; ``$`` does not match before a final newline). Whatever the compiled
validator accepts, the reference accepts too (``tests/verifier/test_schema_differential.py``), so
reports are the same with or without it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import jsonschema_rs

from verifier.errors import VerifierError

SCHEMAS_PACKAGE = "verifier.schemas"
VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"
_BY_TYPE = {
    "OpenBadgeCredential": "achievementcredential.json",
    "AchievementCredential": "achievementcredential.json",
    "EndorsementCredential": "endorsementcredential.json",
}


class SchemaViolation(VerifierError):
    """The credential does not conform to the OB 3.0 JSON Schema."""


class SchemaUnavailable(VerifierError):
    """The credential names a schema that is not bundled."""


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = json.loads(
        resources.files(SCHEMAS_PACKAGE).joinpath("index.json").read_text("utf-8")
    )
    return index


@cache
def _validator(name: str) -> jsonschema.Draft201909Validator:
    schema = json.loads(resources.files(SCHEMAS_PACKAGE).joinpath(name).read_text("utf-8"))
    return jsonschema.Draft201909Validator(schema)


@cache
def _compiled(name: str) -> jsonschema_rs.Draft201909Validator:
    schema = json.loads(resources.files(SCHEMAS_PACKAGE).joinpath(name).read_text("utf-8"))
    return jsonschema_rs.Draft201909Validator(schema, validate_formats=False)


_use_compiled = True


def use_compiled_validator(enabled: bool = True) -> None:
    """Let the compiled validator accept documents first (the default), or leave every document
    to the reference validator (for differential tests and benchmarks)."""
    global _use_compiled
    _use_compiled = enabled


def _accepted(name: str, document: Mapping[str, Any]) -> bool:
    """The compiled validator accepts ``document`` as it is (False also when it cannot read it:
    the reference validator decides then)."""
    if not _use_compiled:
        return False
    try:
        return bool(_compiled(name).is_valid(document))
    except (ValueError, TypeError, OverflowError, RecursionError):
        return False


def _errors(validator: jsonschema.Draft201909Validator, document: Mapping[str, Any]) -> list[str]:
    messages = []
    for error in sorted(validator.iter_errors(dict(document)), key=lambda e: list(e.path)):
        where = "/".join(str(part) for part in error.path) or "(root)"
        messages.append(f"{where}: {_shorten(error.message)}")
    return messages


def _shorten(message: str, limit: int = 160) -> str:
    """Cut a long message in the middle: jsonschema puts the (possibly huge) value first and what
    is wrong with it last ("… is not of type 'string'")."""
    if len(message) <= limit:
        return message
    return f"{message[: limit - 60]}…{message[-59:]}"


def _compacted_errors(
    validator: jsonschema.Draft201909Validator, document: Any
) -> list[tuple[Any, ...]]:
    """Paths where the schema wants an array and the document has a single value (also inside
    ``oneOf`` / ``anyOf`` branches, e.g. an issuer Profile whose ``type`` is a string)."""
    paths = []
    pending = list(validator.iter_errors(document))
    while pending:
        error = pending.pop()
        pending.extend(error.context or [])
        if (
            error.validator == "type"
            and error.validator_value == "array"
            and error.absolute_path
            and not isinstance(error.instance, list)
        ):
            paths.append(tuple(error.absolute_path))
    return paths


def _wrap_single_values(
    validator: jsonschema.Draft201909Validator, document: Mapping[str, Any]
) -> dict[str, Any]:
    """Wrap, wherever the schema asks for an array, a single value in one (JSON-LD compaction
    may produce either form). Repeats because wrapping can reveal nested problems."""
    wrapped: dict[str, Any] = copy.deepcopy(dict(document))
    for _ in range(8):
        paths = _compacted_errors(validator, wrapped)
        if not paths:
            break
        for path in paths:
            holder: Any = wrapped
            for step in path[:-1]:
                holder = holder[step]
            if not isinstance(holder[path[-1]], list):
                holder[path[-1]] = [holder[path[-1]]]
    return wrapped


def _declared_schemas(document: Mapping[str, Any]) -> list[str]:
    declared = document.get("credentialSchema", [])
    entries = declared if isinstance(declared, list) else [declared]
    return [
        str(entry.get("id"))
        for entry in entries
        if isinstance(entry, dict) and entry.get("type") == VALIDATOR_TYPE
    ]


def validate(document: Mapping[str, Any], types: list[str]) -> str:
    """Validate; return a description of what was checked. Raises ``SchemaViolation``.

    ``document`` is JSON read within ``safejson``'s limits (as ``verify_credential`` reads its
    input): the compiled validator recurses natively, and a document nested thousands of levels
    deep could exhaust its stack."""
    declared = _declared_schemas(document)
    if declared:
        for url in declared:
            if url not in _index():
                raise SchemaUnavailable(f"the schema {url} is not bundled with Laurel")
            if _accepted(_index()[url], document):
                continue
            problems = _errors(_validator(_index()[url]), document)
            if problems:
                raise SchemaViolation(_describe(problems))
        return "conforms to the schema it declares (strict)"
    name = next((_BY_TYPE[kind] for kind in types if kind in _BY_TYPE), None)
    if name is None:
        return ""
    if _accepted(name, document):
        return f"conforms to the OB 3.0 schema ({name})"
    validator = _validator(name)
    if validator.is_valid(dict(document)):  # what Laurel emits: one pass, no error objects
        return f"conforms to the OB 3.0 schema ({name})"
    problems = _errors(validator, _wrap_single_values(validator, document))
    if problems:
        raise SchemaViolation(_describe(problems))
    return f"conforms to the OB 3.0 schema ({name})"


def _describe(problems: list[str]) -> str:
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more
