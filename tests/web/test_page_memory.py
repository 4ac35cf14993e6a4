"""Badge pages remembered by what they were rendered from (``issuer.web.render.remembered_page``):
a page looked at again is byte for byte the page rendered afresh, and any change to what the
page shows (a revocation, a changed document, the language) gives a new page."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import Request, Response

from issuer.core.db import transaction
from issuer.models import Credential
from issuer.verification.public_view import View
from issuer.web import pages, render
from issuer.web.render import PageMemory, page_key
from tests.issuer.conftest import issue_body, make_issuer
from tests.web.conftest import Live
from verifier import Check, Outcome, Report, Verdict

STATES = ("valid", "revoked", "expired", "tampered", "future")


class Renders:
    """Counts the badge pages' template renders."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        for environment in (templates.env for templates in render.PAGE_TEMPLATES.values()):
            original = environment.get_template

            def counting(name: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                if name == "credential.html":
                    self.count += 1
                return _original(name, *args, **kwargs)

            monkeypatch.setattr(environment, "get_template", counting)


def afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Badge pages rendered as every other page is (``render.page``, with the request)."""

    def rendered(
        request: Request, memory: PageMemory, name: str, template: str, **context: Any
    ) -> Response:
        return render.page(request, template, **context)

    monkeypatch.setattr(pages, "remembered_page", rendered)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_page_looked_at_again_is_the_page_rendered_afresh(
    live: Live, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders = Renders(monkeypatch)
    live.client.cookies.set("laurel_lang", lang)

    def every() -> dict[str, Any]:
        return {state: live.client.get(f"/v/{getattr(live.badges, state)}") for state in STATES}

    first = every()  # rendered, not kept: asked for once so far
    second = every()  # rendered and kept
    assert renders.count == 2 * len(STATES)
    again = every()
    assert renders.count == 2 * len(STATES)  # every one from memory
    with monkeypatch.context() as patch:
        afresh(patch)
        fresh = every()
    assert renders.count == 3 * len(STATES)
    for state in STATES:
        assert first[state].status_code == again[state].status_code == 200
        assert first[state].content == second[state].content == again[state].content, state
        assert again[state].content == fresh[state].content, state
        assert again[state].headers["cache-control"] == "no-store"
        assert again[state].headers["content-type"] == "text/html; charset=utf-8"
        assert again[state].headers["vary"] == "Accept"
    assert len({page.content for page in first.values()}) == len(STATES)
    assert f'<html lang="{lang}">' in first["valid"].text


def test_a_remembered_page_follows_its_badge(live: Live) -> None:
    """Revoked, then its stored document changed: each time the page says so at once, though
    the same page was remembered a moment before."""
    headers = make_issuer(live.services, live.client, "memo")
    issued = live.client.post(
        "/api/v1/issuers/memo/credentials", json=issue_body(), headers=headers
    )
    assert issued.status_code == 201, issued.text
    badge = issued.json()["id"].removeprefix("urn:uuid:")
    memory = pages._page_memory(live.services)
    for _ in range(3):
        assert '<h1 id="verdict-title">Verified' in live.client.get(f"/v/{badge}").text
    assert len(memory) == 1
    korean = live.client.get(f"/v/{badge}?lang=ko")
    assert '<html lang="ko">' in korean.text and "laurel_lang=ko" in korean.headers["set-cookie"]
    english = live.client.get(f"/v/{badge}?lang=en")
    assert '<html lang="en">' in english.text and "laurel_lang=en" in english.headers["set-cookie"]

    revoked = live.client.post(
        f"/api/v1/credentials/{badge}/revoke", json={"reason": "A clerical error"}, headers=headers
    )
    assert revoked.status_code == 200, revoked.text
    page = live.client.get(f"/v/{badge}").text
    assert '<h1 id="verdict-title">Revoked on ' in page and "A clerical error" in page

    with transaction(live.services.engine) as session:
        row = session.get(Credential, badge)
        assert row is not None
        document = dict(row.document)
        document["credentialSubject"] = {**document["credentialSubject"], "creditsEarned": 7}
        row.document = document
        session.add(row)
    page = live.client.get(f"/v/{badge}").text
    assert '<h1 id="verdict-title">Not verified' in page
    assert len(memory) == 4  # verified (en, ko), revoked, tampered: each a page of its own


def test_the_memory_keeps_the_newest_pages() -> None:
    memory = PageMemory(2)
    memory.put("a", b"A")
    memory.put("b", b"B")
    assert memory.get("a") == b"A"  # now the newest
    memory.put("c", b"C")
    assert len(memory) == 2
    assert memory.get("b") is None and memory.get("a") == b"A" and memory.get("c") == b"C"


def test_a_page_is_kept_from_its_second_request_among_the_newest() -> None:
    memory = PageMemory(2)
    assert not memory.asked_before("a")
    assert memory.asked_before("a")
    assert not memory.asked_before("b")
    assert memory.asked_before("a")  # now the newest
    assert not memory.asked_before("c")  # "b" is forgotten
    assert not memory.asked_before("b")
    assert not memory.asked_before("a")  # a cycle longer than the memory: never kept


def test_a_badge_looked_at_once_is_not_kept(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = pages._page_memory(live.services)
    keyed: list[object] = []
    monkeypatch.setattr(render, "page_key", lambda *args: keyed.append(args))
    for state in STATES:
        assert live.client.get(f"/v/{getattr(live.badges, state)}").status_code == 200
    assert not keyed and len(memory) == 0


def report(reason: str = "ok") -> Report:
    return Report(Verdict.VERIFIED, (Check("proof", Outcome.PASSED, reason),))


def view(credential: dict[str, Any], **fields: Any) -> View:
    return View(report=report(), credential=credential, credential_id="x", **fields)


def key(value: View, **context: Any) -> object:
    return page_key("credential.html", "en", {"view": value, "base_url": "https://a", **context})


def test_a_key_tells_apart_what_equality_does_not() -> None:
    values: list[object] = [1, 1.0, True, "1", None, 0.0, -0.0, [1], {"1": 1}]
    keys = [key(view({"credentialSubject": {"creditsEarned": value}})) for value in values]
    assert len(set(keys)) == len(values)
    assert key(view({"a": 1})) == key(view({"a": 1}))
    assert key(view({"a": 1}), page_url="https://a/v/1") != key(view({"a": 1}))
    assert key(view({"a": 1}), badge_url=1) != key(view({"a": 1}), badge_url=True)
    utc = datetime(2026, 1, 2, tzinfo=UTC)
    same_instant = utc.astimezone(timezone(timedelta(hours=9)))
    assert utc == same_instant  # equal, yet written differently on a page
    assert key(view({}, revoked_at=utc)) != key(view({}, revoked_at=same_instant))
    assert key(view({}, design={"color": 1})) != key(view({}, design={"color": True}))
    changed = View(report=report("changed"), credential={}, credential_id="x")
    assert key(changed) != key(view({}))
    assert page_key("credential.html", "ko", {"view": view({})}) != page_key(
        "credential.html", "en", {"view": view({})}
    )


def test_a_value_that_is_not_plain_data_is_never_remembered() -> None:
    class Text(str):
        pass

    assert key(view({"name": Text("Ada")})) is None
    assert key(view({}), extra=object()) is None
    assert key(view({}), extra=datetime.now(UTC)) is None


def test_a_report_compares_exactly() -> None:
    """``View.page_key`` takes the report by its own equality, which is exact only while each of
    its fields holds text, a flag, an enum member, None or tuples of those (``1 == True``, so an
    int field would make two different pages equal). A new field of another type must change
    ``page_key`` first."""
    allowed = {str, bool, type(None)}
    seen: set[type] = set()

    def check(kind: Any, where: str) -> None:
        origin = typing.get_origin(kind)
        if origin in (typing.Union, types.UnionType):
            for arg in typing.get_args(kind):
                check(arg, where)
        elif origin is tuple:
            for arg in typing.get_args(kind):
                if arg is not Ellipsis:
                    check(arg, where)
        elif isinstance(kind, type) and dataclasses.is_dataclass(kind):
            if kind in seen:
                return
            seen.add(kind)
            hints = typing.get_type_hints(kind)
            for field in dataclasses.fields(kind):
                if field.compare:
                    check(hints[field.name], f"{kind.__name__}.{field.name}")
        elif isinstance(kind, type) and issubclass(kind, enum.Enum):
            pass
        else:
            assert kind in allowed, f"{where}: {kind!r}"

    check(Report, "Report")
    assert len(seen) >= 5  # Report, Check, Summary, Alignment, IssuerIdentity, RegistryEntry
    assert not [f for f in dataclasses.fields(Report) if f.compare and f.name == "credential"]
