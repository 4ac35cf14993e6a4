"""Rendering HTML pages: the shared Jinja environment, and the language (English or Korean) of
the wallet and the dashboard."""

from __future__ import annotations

import base64
import hashlib
import marshal
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup, escape

from issuer.artifacts.links import http_url
from issuer.context import Services
from issuer.http.cookies import LANG_COOKIE, LANGUAGES, form_token, language, remember_form_token
from issuer.schemas import DIRECTION_CONTROLS
from issuer.web.i18n import page_words

TEMPLATES = Path(__file__).parent / "templates"
_DIRECTION = re.compile("[" + "".join(sorted(DIRECTION_CONTROLS)) + "]")


def shown(value: Any) -> Any:
    """Every value a page writes, without bidirectional controls: Laurel refuses them in what it
    keeps (``schemas.ONE_LINE``), but a badge from elsewhere may name its issuer
    "etutitsnI DOOG" after a right-to-left override, which a browser draws "GOOD Institute".
    Shown without them, a name reads in the order it is written (audit 10)."""
    if isinstance(value, str) and _DIRECTION.search(value) is not None:
        cleaned = _DIRECTION.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


templates = Jinja2Templates(directory=TEMPLATES)
templates.env.auto_reload = False  # templates ship with the package; no stat() per render
templates.env.finalize = shown  # before any template is compiled: compiled in
NO_STORE = {"Cache-Control": "no-store"}  # pages show live verdicts and private data
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def link(
    url: object, text: object, *, otherwise: object = None, https_only: bool = False
) -> Markup:
    """``text`` as a link to ``url`` when that is an http(s) URL (``http_url``), else as text
    (``otherwise``, when given). Every link a page makes from data goes through here:
    ``{{ link(url, text) }}``."""
    href = http_url(url, https_only=https_only)
    if href is None:
        return Markup("{}").format(text if otherwise is None else otherwise)
    return Markup('<a href="{}" rel="nofollow noopener noreferrer">{}</a>').format(href, text)


templates.env.globals["link"] = link

_FOLDED = ("variable_begin", "name", "lparen", "string", "rparen", "variable_end")


class FoldWords(Extension):
    """Writes ``{{ t('key') }}`` and ``{{ w('key') }}`` (one constant key, nothing else) into
    the compiled template as the text they give in the environment's ``fold_language``, escaped
    as the expression's output is: what every page of that language would have computed on
    every render (~30 calls on a badge page, ~50 µs of its ~225 µs template). A template that
    uses ``t`` or ``w`` other than by calling it (a macro's parameter, a ``set``, passing it
    on) is left as it is, since its ``t`` may not be the page's."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        tokens = list(stream)
        bound = any(
            token.type == "name"
            and token.value in ("t", "w")
            and (at + 1 == len(tokens) or tokens[at + 1].type != "lparen")
            for at, token in enumerate(tokens)
        )
        if bound:
            yield from tokens
            return
        helpers = page_words(self.environment.fold_language)  # type: ignore[attr-defined]
        autoescape = self.environment.autoescape
        escaped = autoescape(stream.name) if callable(autoescape) else autoescape
        at = 0
        while at < len(tokens):
            window = tokens[at : at + len(_FOLDED)]
            text = None
            if tuple(token.type for token in window) == _FOLDED and window[1].value in ("t", "w"):
                try:
                    text = helpers[window[1].value](window[3].value)
                except KeyError:  # an unknown key fails at render, as it did
                    text = None
            if text is None:
                yield tokens[at]
                at += 1
            else:
                yield Token(window[0].lineno, "data", str(escape(text)) if escaped else text)
                at += len(_FOLDED)


def _page_templates(lang: str) -> Jinja2Templates:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=templates.env.autoescape,  # Starlette's choice: by the file's extension
        extensions=[FoldWords],
        finalize=shown,
    )
    environment.auto_reload = False
    environment.extend(fold_language=lang)
    environment.globals.update(templates.env.globals)
    return Jinja2Templates(env=environment)


PAGE_TEMPLATES = {lang: _page_templates(lang) for lang in LANGUAGES}
"""The pages' templates in each language, each with its words written in (``FoldWords``).
Rendered only with ``page_words`` of the same language, which every page's context has."""


def style_hashes() -> tuple[str, ...]:
    """The Content-Security-Policy sources (``'sha256-…'``) of the pages' ``<style>`` elements,
    the only inline code they have; a ``<style>`` with template code in it would change per page,
    so it is refused here (at start) rather than blocked by the browser."""
    found = []
    for path in sorted(TEMPLATES.glob("*.html")):
        for body in _STYLE.findall(path.read_text(encoding="utf-8")):
            if "{{" in body or "{%" in body:
                raise ValueError(f"{path.name}: a <style> element must be static (CSP hash)")
            digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
            found.append(f"'sha256-{digest}'")
    return tuple(dict.fromkeys(found))


def page_response(
    request: Request,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """``template`` in the visitor's language with that language's words (``page_words``), as
    every page is rendered: the templates of ``PAGE_TEMPLATES[lang]`` have those words written
    in (``FoldWords``), so the two must agree."""
    lang = language(request)
    return PAGE_TEMPLATES[lang].TemplateResponse(
        request, template, {**page_words(lang), **context}, status_code=status, headers=headers
    )


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the visitor's language (``?lang=ko`` switches and is remembered)."""
    response = page_response(request, template, context, status, NO_STORE)
    _keep_language(request, response)
    return response


def _keep_language(request: Request, response: HTMLResponse) -> None:
    if request.query_params.get("lang") in LANGUAGES:
        lang = language(request)
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")


class PageMemory:
    """The bodies of the last ``size`` pages rendered, by what each was rendered from
    (``remembered_page``), and the last ``size`` pages asked for, by a name (a badge's id): a
    page is remembered from the second time it is asked for among those, so a page asked for
    once costs one lookup, not its key and its keeping. Shared by the threads of a process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._asked: OrderedDict[Hashable, None] = OrderedDict()
        self._lock = threading.Lock()

    def asked_before(self, name: Hashable) -> bool:
        """Whether ``name`` was asked for among the last ``size`` names; it is now the newest."""
        with self._lock:
            if name in self._asked:
                self._asked.move_to_end(name)
                return True
            self._asked[name] = None
            while len(self._asked) > self.size:
                self._asked.popitem(last=False)
            return False

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        with self._lock:
            self._bodies[key] = body
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)

    def __len__(self) -> int:
        return len(self._bodies)


def page_key(template: str, lang: str, context: dict[str, Any]) -> Hashable | None:
    """What ``template`` in ``lang`` is rendered from, exactly: each value of ``context`` by its
    own ``page_key()`` when it has one (``View.page_key``), else by ``marshal`` (text, numbers,
    None and containers of them, telling ``1``, ``1.0`` and ``True`` apart). None when a value
    has neither: such a page is rendered every time."""
    keyed: list[tuple[str, Hashable]] = []
    plain: list[tuple[str, Any]] = []
    for name, value in context.items():
        own = getattr(value, "page_key", None)
        if own is None:
            plain.append((name, value))
            continue
        found = own()
        if found is None:
            return None
        keyed.append((name, found))
    try:
        data = marshal.dumps((template, lang, plain), 2)
    except ValueError:
        return None
    return data, tuple(keyed)


def remembered_page(
    request: Request, memory: PageMemory, name: str, template: str, **context: Any
) -> HTMLResponse:
    """``page``, its body taken from ``memory`` when the same values made it before. ``name``
    tells pages apart cheaply (a badge's id): a page is keyed and kept only when its name was
    asked for recently (``PageMemory.asked_before``).

    The template is rendered from ``context`` and the language's words alone, without the
    request (which ``page`` passes on), so the body cannot depend on anything the key
    (``page_key``) leaves out: a page that needs the request cannot be remembered. Rendering is
    about a quarter of a badge page's time; a badge looked at again and again (a link shared, a
    certificate's QR code at an event) then costs its verification and little else. The
    verification itself always runs: a page is remembered by what the verification found."""
    lang = language(request)
    key = page_key(template, lang, context) if memory.asked_before((template, name)) else None
    body = None if key is None else memory.get(key)
    if body is None:
        words = page_words(lang)
        body = PAGE_TEMPLATES[lang].get_template(template).render({**words, **context}).encode()
        if key is not None:
            memory.put(key, body)
    response = HTMLResponse(body, headers=NO_STORE)
    _keep_language(request, response)
    return response


def render(
    request: Request,
    services: Services,
    template: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``page``, for the routes that hold the services."""
    return page(request, template, status, **context)


def form_before_sign_in(
    request: Request, services: Services, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page whose form is posted before there is a session: its CSRF token is the
    double-submit cookie's (set here when the visitor has none yet)."""
    response = render(request, services, template, status, csrf=form_token(request), **context)
    remember_form_token(request, response, services)
    return response


def wallet_page(
    request: Request, services: Services, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A wallet page (``session``: the learner's, for the CSRF token and the navigation)."""
    return render(request, services, template, status, home="/wallet", **context)


def wallet_message(
    request: Request, services: Services, status: int, detail: str | None, **context: Any
) -> HTMLResponse:
    return wallet_page(request, services, "wallet_message.html", status, detail=detail, **context)
