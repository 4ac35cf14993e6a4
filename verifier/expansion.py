"""JSON-LD expansion with bundled contexts only (JSON-LD 1.1 Processing Algorithms §5.1).

Implements what VC Data Integrity §4 asks of JSON-LD processing: contexts are pinned (loaded from
``verifier/contexts`` through ``index.json``, never fetched), the base IRI is null, and any data
that JSON-LD expansion would drop (an undefined term, a relative IRI) raises ``JsonLdError``
instead of silently leaving the signed data (DATA_LOSS_DETECTION_ERROR).

Every failure is a ``JsonLdError`` with a reason a person can read. PyLD fails on some inputs with
a plain Python error rather than its own (a ``ValueError`` for an empty or relative ``@context``
URL, which it cannot resolve against the null base; an ``OverflowError`` for an integer beyond a
double's range): those inputs are refused before PyLD sees them, and any such error that still
comes out of PyLD is turned into a ``JsonLdError`` too.

Both canonicalisers build on this module: the reference path (``verifier.jsonld``) and the fast
path (``verifier.fastcanon``), which expands its templates here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from pyld import jsonld

from verifier.errors import JsonLdError, NotInTerms
from verifier.nquads import LANGUAGE_TAG

CONTEXTS_PACKAGE = "verifier.contexts"

# Python errors PyLD lets out for some malformed inputs, instead of raising its own JsonLdError.
PYLD_FAILURES = (ValueError, TypeError, OverflowError, KeyError, IndexError, AttributeError)


@cache
def bundled_context_index() -> dict[str, str]:
    """Context URL -> file name for every bundled context."""
    text = resources.files(CONTEXTS_PACKAGE).joinpath("index.json").read_text("utf-8")
    index: dict[str, str] = json.loads(text)
    return index


@cache
def _load_bundled(url: str) -> dict[str, Any]:
    name = bundled_context_index()[url]
    text = resources.files(CONTEXTS_PACKAGE).joinpath(name).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pyld document loader that knows only the bundled contexts."""
    if url not in bundled_context_index():
        raise JsonLdError(f"context {url} is not bundled with Laurel; it is never fetched")
    return {"contextUrl": None, "documentUrl": url, "document": _load_bundled(url)}


def options() -> dict[str, Any]:
    """PyLD options for every processing step: a null base and the bundled contexts only."""
    return {"base": None, "documentLoader": document_loader}


_KEYWORD_LIKE = re.compile(r"^@[a-zA-Z]+$")
"""A key JSON-LD 1.1 ignores when it is not a keyword (Processing Algorithms §4.1.2, §5.1.2)."""


def _dropped(document: Mapping[str, Any], expanded_property: str | None) -> str:
    """Why a property would be dropped. PyLD names the property's expansion; a key that looks
    like a keyword expands to nothing, so that key is looked for in ``document``."""
    if expanded_property is not None:
        return f"the term {expanded_property!r} is not defined by the credential's contexts"
    key = _keyword_like_key(document)
    if key is not None:
        return f"the key {key!r} looks like a JSON-LD keyword but is not one: it would be dropped"
    return "a property the credential's contexts map to null would be dropped"


def _keyword_like_key(document: Any) -> str | None:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    continue
                if isinstance(key, str) and _KEYWORD_LIKE.match(key) and key not in jsonld.KEYWORDS:
                    return key
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return None


def expand(document: Mapping[str, Any], *, terms_only: bool = True) -> list[Any]:
    """Expand ``document``; raise ``JsonLdError`` if anything would be dropped, and
    ``NotInTerms`` (``terms_only``, as for every credential) for a key that says in other words
    what a term of its contexts says (``check_spelling``). ``terms_only=False`` expands any
    JSON-LD document."""
    check_values(document)

    def refuse(expanded_property: str | None) -> None:
        raise JsonLdError(_dropped(document, expanded_property))

    kind = _TermsOnly if terms_only else jsonld.JsonLdProcessor
    processor = kind(on_property_dropped=refuse)
    try:
        expanded: list[Any] = processor.expand(dict(document), options())
    except JsonLdError:
        raise
    except jsonld.JsonLdError as exc:
        raise JsonLdError(pyld_reason(exc)) from exc
    except PYLD_FAILURES as exc:
        raise JsonLdError(python_reason(exc)) from exc
    _reject_relative_iris(expanded)
    return expanded


MAP_CONTAINERS = frozenset({"@id", "@index", "@type"})
"""Containers whose map keys become ids, indexes or types (JSON-LD 1.1 §4.6): none of the
bundled contexts defines one, and an inline one could give an object the credential's id
without an ``id`` key (or hold text that makes no RDF)."""
KEYWORD_ALIASES = {"@id": "id", "@type": "type"}
"""The only names under which a credential may write these keywords: the aliases every VC
context defines, which are also the names every reader of a credential looks under."""
PLAIN_KEYWORDS = frozenset({"@value", "@language", "@direction", "@list"})
"""Keywords a compact credential writes as themselves: a value object (with ``@type`` in it) and
a list. Any other keyword as a key (``@nest``, ``@included``, ``@reverse``, ``@graph``,
``@index``, ``@id`` or ``@type`` in a node, the framing keywords) is refused."""


class _TermsOnly(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """PyLD's expansion, refusing a credential that says in other words what its contexts' terms
    say (``check_spelling``), object by object, with the active context PyLD expands it with."""

    def _expand_object(
        self,
        active_ctx: dict[str, Any],
        active_property: Any,
        expanded_active_property: Any,
        element: dict[str, Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        options = args[1] if len(args) > 1 else kwargs.get("options", {})
        base = options.get("base", "")
        for key, value in element.items():
            if key == "@context":
                continue
            expanded = self._expand_iri(active_ctx, key, vocab=True)
            definition = active_ctx.get("mappings", {}).get(key)
            check_spelling(key, expanded, element, definition)
            if definition is None and isinstance(expanded, str):
                self._check_vocabulary(active_ctx, key, expanded)
            coerced = definition.get("@type") if isinstance(definition, dict) else None
            if expanded == "@id" or coerced == "@id":
                for written in value if isinstance(value, list) else [value]:
                    if isinstance(written, str):
                        check_iri(key, written, self._expand_iri(active_ctx, written, base=base))
        return super()._expand_object(
            active_ctx, active_property, expanded_active_property, element, *args, **kwargs
        )

    def _check_vocabulary(self, active_ctx: dict[str, Any], key: str, expanded: str) -> None:
        """Refuse an IRI key that the context's ``@vocab`` names by a plain word: the checks
        read that word (a proof's ``expires`` under the examples context's vocabulary), and
        ``https://…/examples#expires`` is the same statement under another name."""
        vocab = active_ctx.get("@vocab")
        if not isinstance(vocab, str) or key == expanded.removeprefix(vocab):
            return
        word = expanded.removeprefix(vocab) if expanded.startswith(vocab) else ""
        if word and ":" not in word and self._expand_iri(active_ctx, word, vocab=True) == expanded:
            raise NotInTerms(
                f"the key {key!r} stands for {expanded}, which the credential's vocabulary "
                f"calls {word!r}: a credential is checked by those names, so it must use them"
            )


READ_ON_THE_DOCUMENT = frozenset(
    {
        "validFrom",
        "validUntil",
        "issuanceDate",
        "expirationDate",
        "credentialStatus",
        "issuer",
        "credentialSubject",
        "credentialSchema",
        "refreshService",
        "termsOfUse",
        "evidence",
        "name",
        "description",
        "endorsement",
        "endorsementJwt",
        "holder",
        "verifiableCredential",
        "created",
        "expires",
        "proofPurpose",
        "verificationMethod",
        "challenge",
        "domain",
    }
)
"""What the checks and the page read on a credential's (or a presentation's, or a proof
configuration's) own object."""


def check_described_once(document: Mapping[str, Any]) -> None:
    """Refuse a document whose own id (an IRI, or a ``_:`` label) is the id of another object in
    it that gives one of ``READ_ON_THE_DOCUMENT``. JSON-LD makes them one node, so a
    ``validUntil`` or ``credentialStatus`` moved into, say, an endorsement's subject that names
    the credential is still signed, while every check reads the document's own object only.
    Other statements about the document there (an endorsement subject's type and comment, as
    the 1EdTech validator's ``complete.json`` has) are kept."""
    own = document.get("id")
    if not isinstance(own, str):
        return
    stack = [value for key, value in document.items() if key != "@context"]
    push = stack.append
    values: Any
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("id") == own and not READ_ON_THE_DOCUMENT.isdisjoint(item):
                said = sorted(READ_ON_THE_DOCUMENT.intersection(item))[0]
                raise NotInTerms(
                    f"another object in the credential gives the credential's own {said} "
                    f"({own}): JSON-LD reads them as one, so it is signed but not checked"
                )
            if "@context" in item:
                values = [value for key, value in item.items() if key != "@context"]
            else:
                values = item.values()
        elif isinstance(item, list):
            values = item
        else:
            continue
        for value in values:
            if value.__class__ is not str:  # text is most of a credential: not pushed
                push(value)


def check_iri(key: str, written: str, expanded: Any) -> None:
    """Refuse an identifier (``id``, or a value of a term typed ``@id``) that is not written as
    the IRI it expands to: a compact IRI (``"u:0d3c…"`` with ``{"u": "urn:uuid:"}``) is the same
    node to the signature but another string to every check that compares ids (a revocation
    list's entries, the issuer's id). Blank-node labels are labels, not IRIs."""
    if isinstance(expanded, str) and expanded != written and not written.startswith("_:"):
        raise NotInTerms(
            f"the {key} {written!r} stands for {expanded!r}: a credential writes its IRIs in full, "
            "as the checks compare them"
        )


def check_spelling(
    key: str, expanded: Any, element: Mapping[str, Any], definition: Any = None
) -> None:
    """Refuse ``key`` of ``element`` (which expands to ``expanded``) unless it is written as the
    credential's contexts write it.

    The signature of a Data Integrity proof covers the RDF a credential expands to, but the
    checks and the page read its JSON by the terms of its contexts (``credentialStatus``,
    ``validUntil``, ``issuer``, ``name``…). JSON-LD can write the same RDF other ways: a term's
    full or compact IRI as the key, another term defined inline for the same IRI, the ``@nest``
    or ``@included`` keywords around it, ``@index`` (which makes no RDF at all) beside it. A
    holder could so move a signed ``credentialStatus`` or ``validUntil`` where no check looks,
    or add text no signature covers, and the proof would still verify. So a key that expands to
    a keyword must be one of ``KEYWORD_ALIASES`` or ``PLAIN_KEYWORDS`` (``@type`` as itself only
    in a value object), and a key that expands to the IRI of a term of the bundled contexts
    must be that term (``bundled_term_names``). Keys for other IRIs (an extension written as a
    full IRI) are the credential's own and are kept. A reverse term (``definition`` has
    ``reverse``) is refused: it states something of the object that holds it; so is a key for a
    blank node (``"_:x"``, or a term defined as one: toRdf drops such statements, so what they
    hold is unsigned) and an ``@id``, ``@index`` or ``@type`` map (``MAP_CONTAINERS``).
    """
    if not isinstance(expanded, str):
        return  # dropped: ``expand`` refuses it as data loss
    if expanded.startswith("_:"):
        raise NotInTerms(
            f"the key {key!r} is a blank node ({expanded}): JSON-LD makes no statement of what it "
            "holds, so that would be unsigned"
        )
    if isinstance(definition, dict) and definition.get("reverse"):
        raise NotInTerms(
            f"the key {key!r} is a reverse property: it states something of the object it holds, "
            "where the checks do not read it"
        )
    container = definition.get("@container") if isinstance(definition, dict) else None
    if container is not None and not MAP_CONTAINERS.isdisjoint(
        container if isinstance(container, list) else [container]
    ):
        raise NotInTerms(
            f"the key {key!r} is a map whose keys JSON-LD reads as ids, indexes or types: a "
            "credential writes those as such"
        )
    if expanded.startswith("@"):
        if key == KEYWORD_ALIASES.get(expanded):
            return
        if key == expanded and (key in PLAIN_KEYWORDS or (key == "@type" and "@value" in element)):
            return
        alias = KEYWORD_ALIASES.get(expanded)
        written = f"the key {key!r}" if key == expanded else f"the key {key!r} (for {expanded})"
        raise NotInTerms(
            f"{written} has no place in a credential written in its contexts' terms"
            + (f" (write {alias!r})" if alias else "")
            + ": JSON-LD would read data there that the checks do not see"
        )
    names = bundled_term_names().get(expanded)
    if names is not None and key not in names:
        term = " or ".join(repr(name) for name in sorted(names))
        said = (
            f"the key {key!r} is the IRI of the term {term}"
            if key == expanded
            else f"the key {key!r} stands for {expanded}, which the contexts call {term}"
        )
        raise NotInTerms(
            f"{said}: a credential is checked by its contexts' terms, so it must use them"
        )


@cache
def bundled_term_names() -> dict[str, frozenset[str]]:
    """IRI -> the names the bundled contexts give it, in any scope (type- and property-scoped
    contexts included). A few IRIs have two names (the OB context names ``Achievement`` and
    ``achievement`` alike); either is the IRI's term."""
    from pyld.context_resolver import ContextResolver

    settings = {
        **options(),
        "processingMode": "json-ld-1.1",
        "contextResolver": ContextResolver(jsonld._resolved_context_cache, document_loader),
    }
    processor = jsonld.JsonLdProcessor()
    names: dict[str, set[str]] = {}
    done: set[str] = set()

    def collect(active: dict[str, Any]) -> None:
        for term, definition in active["mappings"].items():
            iri = definition.get("@id") if definition else None
            if isinstance(iri, str) and not iri.startswith("@"):
                names.setdefault(iri, set()).add(term)
            scoped = definition.get("@context") if definition else None
            seen = json.dumps(scoped, sort_keys=True)
            if scoped is not None and seen not in done:
                done.add(seen)
                collect(processor._process_context(active, scoped, settings, True))

    for url in bundled_context_index():
        collect(
            processor._process_context(processor._get_initial_context(settings), [url], settings)
        )
    return {iri: frozenset(found) for iri, found in names.items()}


def check_values(document: Any) -> None:
    """Refuse what JSON-LD processing cannot take, with a reason: an ``@context`` URL that is
    empty or relative (there is no base to resolve it against), a number beyond a double's range
    (JSON-LD turns numbers into doubles), NaN and infinity (not JSON at all)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "@context" in node:
                contexts = node["@context"]
                for context in contexts if isinstance(contexts, list) else [contexts]:
                    if isinstance(context, str):
                        check_context_url(context)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, float) and not math.isfinite(node):
            raise JsonLdError(f"the document contains {node!r}: JSON has no NaN or Infinity")
        elif isinstance(node, int) and not isinstance(node, bool):
            try:
                float(node)
            except OverflowError:
                raise JsonLdError(
                    f"a number with {len(str(abs(node)))} digits is beyond the range of a "
                    "double, which JSON-LD processing needs"
                ) from None


def check_context_url(url: str) -> None:
    """Refuse an empty or relative ``@context`` URL: with a null base it cannot be resolved."""
    if not url.strip():
        raise JsonLdError("an @context entry is empty; contexts must be absolute, bundled URLs")
    if ":" not in url or url.startswith(":"):
        raise JsonLdError(
            f"the context {url!r} is a relative URL; contexts must be absolute, bundled URLs"
        )


def python_reason(exc: BaseException) -> str:
    """A reason for a plain Python error that came out of PyLD."""
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"JSON-LD processing failed: {detail}"


def pyld_reason(exc: BaseException) -> str:
    """The most specific message in PyLD's chain of errors (ours, when the loader refused)."""
    cause: BaseException | None = exc
    message = ""
    while cause is not None:
        if isinstance(cause, JsonLdError):
            return str(cause)
        # PyLD's str() is a repr of its arguments plus type and details; the message is args[0].
        text = cause.args[0] if cause.args and isinstance(cause.args[0], str) else str(cause)
        message = text.strip().splitlines()[0] if text.strip() else message
        cause = getattr(cause, "cause", None) or cause.__cause__
    return message or type(exc).__name__


# Characters that may not appear in an IRI (RFC 3987; N-Quads IRIREF). PyLD would write them raw
# while other implementations escape them, so such an IRI is refused rather than signed.
_INVALID_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _is_absolute(iri: str) -> bool:
    if _INVALID_IRI.search(iri):
        raise JsonLdError(f"{iri!r} is not a valid IRI")
    return iri.startswith("_:") or (":" in iri and not iri.startswith(":"))


def _reject_relative_iris(node: Any) -> None:
    """Relative IRIs are dropped by toRdf when the base is null; treat that as data loss."""
    if isinstance(node, list):
        for item in node:
            _reject_relative_iris(item)
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:  # a value object: its language tag and datatype are written as they are
        language = node.get("@language")
        if language is not None and not (
            isinstance(language, str) and LANGUAGE_TAG.fullmatch(language)
        ):
            raise JsonLdError(f"{language!r} is not a language tag (BCP 47)")
        datatype = node.get("@type")
        if isinstance(datatype, str) and datatype != "@json":
            _is_absolute(datatype)
        return
    ident = node.get("@id")
    if isinstance(ident, str) and not _is_absolute(ident):
        raise JsonLdError(f"the identifier {ident!r} is a relative IRI and would be dropped")
    for type_iri in node.get("@type", []):
        if isinstance(type_iri, str) and not _is_absolute(type_iri):
            raise JsonLdError(f"the type {type_iri!r} is not defined by the credential's contexts")
    for key, value in node.items():
        if not key.startswith("@"):
            _is_absolute(key)
        if key not in ("@id", "@type"):
            _reject_relative_iris(value)
