"""The pages' words written into their templates (``issuer.web.render.FoldWords``): the same
HTML as calling ``t`` and ``w`` at every render, byte for byte, in both languages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from jinja2 import DictLoader, Environment, UndefinedError, select_autoescape

from issuer.app import create_app
from issuer.context import Services
from issuer.web import i18n, render
from issuer.web.i18n import page_words
from issuer.web.render import FoldWords
from tests.web.conftest import seed

CSRF = re.compile(r'name="csrf" value="[^"]*"')
HOSTILE_KEY = "dashboard_sign_in"  # any key: its text is replaced below by one to escape


def folded(templates: dict[str, str], lang: str = "en") -> Environment:
    environment = Environment(
        loader=DictLoader(templates), autoescape=select_autoescape(), extensions=[FoldWords]
    )
    environment.extend(fold_language=lang)
    return environment


def plain(templates: dict[str, str]) -> Environment:
    return Environment(loader=DictLoader(templates), autoescape=select_autoescape())


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_constant_call_becomes_its_text(lang: str) -> None:
    source = {"a.html": "<p>{{ t('details') }}</p><p>{{ w('narrative') }}</p>"}
    words = page_words(lang)
    expected = plain(source).get_template("a.html").render(words)
    template = folded(source, lang).get_template("a.html")
    assert template.render(words) == expected
    assert words["t"]("details") in expected
    # written in: the template renders the same without the helpers
    assert template.render() == expected


def test_the_text_is_escaped_as_the_expression_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(i18n.MESSAGES, HOSTILE_KEY, ("<b>Tom & Jerry's</b>", ""))
    source = {"a.html": "{{ t('" + HOSTILE_KEY + "') }}", "a.txt": "{{ t('" + HOSTILE_KEY + "') }}"}
    environment = folded(source)
    assert environment.get_template("a.html").render() == "&lt;b&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;"
    assert environment.get_template("a.txt").render() == "<b>Tom & Jerry's</b>"  # not HTML


def test_only_a_call_with_one_constant_key_is_written_in() -> None:
    source = {
        "a.html": "{{ t(key) }}|{{ w('kind_verified_text', date=day) }}|{{ t('details')|upper }}"
    }
    words = {**page_words("en"), "key": "why", "day": "1 May 2026"}
    environment = folded(source)
    template = environment.get_template("a.html")
    assert template.render(words) == plain(source).get_template("a.html").render(words)
    with pytest.raises(UndefinedError):  # each part still calls t or w
        template.render()


def test_a_template_that_binds_t_itself_is_left_alone() -> None:
    source = {
        "macro.html": "{% macro m(t) %}{{ t('details') }}{% endmacro %}{{ m(other) }}",
        "set.html": "{% set w = other %}{{ w('details') }}",
    }
    context = {**page_words("en"), "other": lambda key: f"other:{key}"}
    environment = folded(source)
    assert environment.get_template("macro.html").render(context) == "other:details"
    assert environment.get_template("set.html").render(context) == "other:details"


def test_an_unknown_key_still_fails_at_render() -> None:
    template = folded({"a.html": "{{ t('no such words') }}"}).get_template("a.html")
    with pytest.raises(KeyError):
        template.render(page_words("en"))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_badge_page_is_the_html_of_the_unfolded_templates(
    services: Services, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    """Valid, revoked, expired, tampered and future badges, an unknown one (the error page) and
    /verify: folded and unfolded templates give the same bytes (but /verify's CSRF token)."""
    with TestClient(create_app(services=services)) as client:
        badges = seed(client, services)
        paths = [f"/v/{badge}?lang={lang}" for badge in vars(badges).values()]
        paths += [f"/v/00000000-0000-4000-8000-000000000000?lang={lang}", f"/verify?lang={lang}"]
        answers = {path: client.get(path) for path in paths}
        unfolded = {language: render.templates for language in render.PAGE_TEMPLATES}
        monkeypatch.setattr(render, "PAGE_TEMPLATES", unfolded)
        for path, answer in answers.items():
            again = client.get(path)
            assert answer.status_code == again.status_code, path
            assert _same_form(answer.text) == _same_form(again.text), path
        assert f'<html lang="{lang}">' in answers[paths[0]].text


def _same_form(html: str) -> str:
    """The page without its form's CSRF token, which is new on each visit."""
    return CSRF.sub('name="csrf" value=""', html)
