"""Limits on the work of canonicalising a document, and of one verification.

RDFC-1.0 §4.4 warns that canonicalisation "may be subject to poison graphs": hashing N-degree
quads explores permutations of blank nodes that first-degree hashes cannot tell apart, and a few
hundred bytes of mutually linked blank nodes take hours. JSON-LD processing has costs that grow
faster than its input too: PyLD's node map (the first step of toRdf) searches a node's values for
a duplicate before adding each one, so n values of one property cost n²/2 comparisons (8,000
evidence entries with blank-node ids, 430 KB, took 16 s). Real credentials are far from every
limit below; each exceeded limit raises ``TooComplex`` (an ``InputError``: the input is refused,
not judged), and every phase of ``verifier.jsonld.canonicalize`` runs inside them.

* **Size, up front** (``check_document``), before any JSON-LD processing: at most
  ``MAX_VALUES`` JSON values, ``MAX_NODES`` objects outside ``@context`` and ``MAX_BLANK_NODES``
  objects without an IRI (no ``id`` or a ``_:`` label). A CLR of 250 badges (420 KB) has 12,640
  values, 2,084 objects and 791 blank nodes.
* **Node-map comparisons** (``check_node_map``): the reference path refuses a document whose
  node map would take more than ``MAX_NODE_MAP_COMPARISONS`` (about half a second).
* **Steps.** RDFC-1.0 spends a step per blank-node quad an N-degree hash reads and per element of
  every permutation it will try (``verifier.rdfc.Rdfc10``): ``MAX_STEPS`` per canonicalisation.
* **Deadline.** ``MAX_SECONDS`` of the calling thread's CPU time per canonicalisation, checked at
  every step and between phases. CPU time rather than wall time, so that a busy server does not
  turn a sound credential away; the size limits above keep each phase between two checks short.
  The steps and sizes are the defence against hostile documents; the deadline is the backstop,
  sized at about eight times the largest sound document's work (a CLR of 250 badges: ~1.3 s of
  CPU on the CI machine), because a shared or busy machine's CPU time per unit of work varies
  (a 5 s deadline refused that CLR in a full test run).

``shared_budget()`` adds ``MAX_SHARED_STEPS`` and ``MAX_SHARED_SECONDS`` for every
canonicalisation inside it together: one verification canonicalises a CLR and each of its (up to
250) nested credentials, endorsements and status lists, and a hostile document must not get a
fresh budget for each of them. Inside another shared budget (a presentation's, around each of
its credentials' verifications), that one goes on.
"""

from __future__ import annotations

import logging
import time
from contextlib import AbstractContextManager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from verifier import stats
from verifier.errors import TooComplex

MAX_VALUES = 100_000
MAX_NODES = 10_000
MAX_BLANK_NODES = 5_000
MAX_NODE_MAP_COMPARISONS = 1_000_000
MAX_STEPS = 20_000
MAX_SHARED_STEPS = 5 * MAX_STEPS
MAX_SECONDS = 10.0
MAX_SHARED_SECONDS = 20.0

log = logging.getLogger(__name__)


def _refuse(reason: str) -> TooComplex:
    """The error for a refused document, counted and logged."""
    stats.count(stats.CANON_TOO_COMPLEX)
    log.info("refused a document as too complex: %s", reason)
    return TooComplex(reason)


class _Budget:
    """Steps and CPU time left to one canonicalisation, or to all of them in a verification
    (``shared``). Its messages are written when a limit is reached, not when it is made."""

    __slots__ = ("_limit", "_seconds", "_shared", "deadline", "steps")

    def __init__(self, steps: int, seconds: float, *, shared: bool) -> None:
        self.steps = steps
        self.deadline = time.thread_time() + seconds  # a value of time.thread_time()
        self._limit, self._seconds, self._shared = steps, seconds, shared

    @property
    def too_many_steps(self) -> str:
        if self._shared:
            return (
                "the blank nodes of the credentials in this document are too entangled to "
                f"canonicalise (more than {self._limit:,} RDFC-1.0 steps in all)"
            )
        return (
            "the credential's blank nodes are too entangled to canonicalise "
            f"(more than {self._limit:,} RDFC-1.0 steps)"
        )

    @property
    def too_long(self) -> str:
        if self._shared:
            return (
                "the credentials in this document are too complex to canonicalise "
                f"(more than {self._seconds:g} s of processing in all)"
            )
        return (
            "the credential is too complex to canonicalise "
            f"(more than {self._seconds:g} s of processing)"
        )


_budget: ContextVar[_Budget | None] = ContextVar("rdfc_budget", default=None)
_shared: ContextVar[_Budget | None] = ContextVar("rdfc_shared_budget", default=None)


class _InEffect:
    """Sets a budget for a block. A class rather than a generator, as every verification and
    every canonicalisation enters one: ~2.6 µs instead of ~3.0, most of what is left being
    ``_Budget``'s ``time.thread_time()``."""

    __slots__ = ("_seconds", "_steps", "_token", "_variable")

    def __init__(self, variable: ContextVar[_Budget | None], steps: int, seconds: float) -> None:
        self._variable, self._steps, self._seconds = variable, steps, seconds
        self._token: Token[_Budget | None] | None = None

    def __enter__(self) -> None:
        shared = self._variable is _shared
        if self._variable.get() is not None:
            return  # inside another canonicalisation or verification: its budget goes on
        budget = _Budget(self._steps, self._seconds, shared=shared)
        self._token = self._variable.set(budget)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            self._variable.reset(self._token)
            self._token = None


def shared_budget(
    steps: int = MAX_SHARED_STEPS, seconds: float = MAX_SHARED_SECONDS
) -> AbstractContextManager[None]:
    """Every canonicalisation inside spends from one budget of ``steps`` and ``seconds`` too."""
    return _InEffect(_shared, steps, seconds)


def one_canonicalisation(
    steps: int = MAX_STEPS, seconds: float = MAX_SECONDS
) -> AbstractContextManager[None]:
    """A budget of ``steps`` and ``seconds`` for one canonicalisation (and any shared budget
    around it). Inside another canonicalisation's budget, that one goes on."""
    return _InEffect(_budget, steps, seconds)


def _spend(n: int = 1) -> None:
    now = time.thread_time()
    for budget in (_budget.get(), _shared.get()):
        if budget is not None:
            budget.steps -= n
            if budget.steps < 0:
                raise _refuse(budget.too_many_steps)
            if now > budget.deadline:
                raise _refuse(budget.too_long)


def spend(n: int = 1) -> None:
    """Spend ``n`` steps from the current budgets; raise ``TooComplex`` at the first step beyond
    one of them, or once past a deadline."""
    _spend(n)


def checkpoint() -> None:
    """Raise ``TooComplex`` if a current deadline has passed (between phases, in long loops)."""
    now = time.thread_time()
    for budget in (_budget.get(), _shared.get()):
        if budget is not None and now > budget.deadline:
            raise _refuse(budget.too_long)


_CONTAINERS = (dict, list)


@dataclass(frozen=True)
class Size:
    values: int
    nodes: int
    blank_nodes: int


def measure(document: Any) -> Size:
    """Count a JSON document's values, its objects outside ``@context`` (nodes and value objects
    in JSON-LD) and the blank nodes among them (no ``id``, or a ``_:`` label, counted once).

    Stops counting a little past ``MAX_VALUES``: the answer is then over the limit, not exact.
    """
    values = 1  # the document; every other value is counted with the container that holds it
    nodes = anonymous = 0
    labels: set[str] = set()
    stack: list[Any] = [document]  # containers outside @context
    contexts: list[Any] = []  # containers inside one: their values count, nothing else
    while stack and values <= MAX_VALUES:
        item = stack.pop()
        if isinstance(item, dict):
            values += len(item)
            if "@value" not in item:
                nodes += 1
                ident = item.get("id", item.get("@id"))
                if ident is None:
                    anonymous += 1
                elif isinstance(ident, str) and ident.startswith("_:"):
                    labels.add(ident)
            for key, child in item.items():
                if isinstance(child, _CONTAINERS):
                    (contexts if key == "@context" else stack).append(child)
        elif isinstance(item, list):
            values += len(item)
            for child in item:
                if isinstance(child, _CONTAINERS):
                    stack.append(child)
    while contexts and values <= MAX_VALUES:
        item = contexts.pop()
        children = item.values() if isinstance(item, dict) else item
        values += len(children)
        for child in children:
            if isinstance(child, _CONTAINERS):
                contexts.append(child)
    return Size(values, nodes, anonymous + len(labels))


def check_document(document: Any) -> Size:
    """Refuse, before any JSON-LD processing, a document over the size limits."""
    size = measure(document)
    if size.values > MAX_VALUES:
        raise _refuse(
            f"the credential has more than {MAX_VALUES:,} JSON values, too many to process"
        )
    if size.nodes > MAX_NODES:
        raise _refuse(
            f"the credential has {size.nodes:,} JSON objects; at most {MAX_NODES:,} are processed"
        )
    if size.blank_nodes > MAX_BLANK_NODES:
        raise _refuse(
            f"the credential has {size.blank_nodes:,} objects without an IRI (blank nodes); "
            f"at most {MAX_BLANK_NODES:,} are processed"
        )
    return size


def check_node_map(comparisons: int) -> None:
    """Refuse a document whose JSON-LD node map would take more than
    ``MAX_NODE_MAP_COMPARISONS``."""
    if comparisons > MAX_NODE_MAP_COMPARISONS:
        raise _refuse(
            "the credential gives one node too many values of one property to process "
            f"({comparisons:,} comparisons; at most {MAX_NODE_MAP_COMPARISONS:,})"
        )
