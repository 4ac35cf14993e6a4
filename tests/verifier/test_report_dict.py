"""``Report.to_dict``'s summary is what ``dataclasses.asdict`` gave, without its deep copy."""

from __future__ import annotations

import typing
from dataclasses import asdict, fields

from verifier.report import Alignment, Summary

IMMUTABLE = {"str | None", "tuple[str, ...]", "tuple[Alignment, ...]", "str"}


def test_the_summary_is_asdicts_summary() -> None:
    summary = Summary(
        id="urn:uuid:1",
        types=("VerifiableCredential", "OpenBadgeCredential"),
        issuer_id="did:key:z6Mk",
        issuer_name="HRD Institute",
        achievement_name="Leadership",
        recipient_name="김민준",
        alignments=(
            Alignment("Lead people", "https://example.org/ecq/2", "ECQ", "ECQ-2"),
            Alignment("Drive results"),
        ),
        format="json",
    )
    for value in (summary, Summary()):
        found = value.to_dict()
        assert found == asdict(value)
        assert list(found) == list(asdict(value))
        assert {key: type(item) for key, item in found.items()} == {
            key: type(item) for key, item in asdict(value).items()
        }


def test_every_summary_field_holds_only_what_cannot_change() -> None:
    """What lets ``to_dict`` share values instead of copying them: a field that could hold a
    list or a dict must be copied again."""
    for item in (*fields(Summary), *fields(Alignment)):
        assert str(item.type) in IMMUTABLE, item.name
    assert typing.get_type_hints(Summary)["alignments"] == tuple[Alignment, ...]
