"""New learners' subject ids, made a step at a time: ``urn:uuid:`` and a random UUID of version 4
and the RFC 4122 variant, as ``uuid.uuid4`` makes them, all different."""

from __future__ import annotations

import re
import uuid

from issuer.people.learners import _new_subject_ids

FORM = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_subject_ids_are_random_version_4_uuids() -> None:
    made = _new_subject_ids(2000)
    assert len(made) == len(set(made)) == 2000
    for subject in made:
        assert FORM.fullmatch(subject), subject
        parsed = uuid.UUID(subject.removeprefix("urn:uuid:"))
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
    assert _new_subject_ids(0) == []
    assert FORM.fullmatch(f"urn:uuid:{uuid.uuid4()}")  # the form uuid4 gives, for comparison
