"""Team formation: the smallest set of learners that covers every requested skill.

Exact branch and bound (a set-cover search): repeatedly take the uncovered skill with the fewest
people who have it, and try each of them; a branch stops as soon as it cannot beat the best team
found. It is exact for any pool it finishes; the search is capped at ``MAX_NODES`` branches
(pools of a few thousand learners and a dozen skills finish far below it). When the cap is hit
the best team found so far is returned with ``"exact": false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MAX_NODES = 200_000


def _greedy(
    abilities: Mapping[int, frozenset[str]], wanted: list[str], size: int | None
) -> tuple[int, ...]:
    """When no team of ``size`` covers everything: the most coverage, one person at a time."""
    team: list[int] = []
    missing = set(wanted)
    while missing and (size is None or len(team) < size):
        person = max(abilities, key=lambda p: (len(abilities[p] & missing), -p), default=None)
        if person is None or not abilities[person] & missing:
            break
        team.append(person)
        missing -= abilities[person]
    return tuple(sorted(team))


@dataclass(frozen=True)
class TeamResult:
    members: tuple[int, ...]
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]
    exact: bool


def smallest_team(
    abilities: Mapping[int, frozenset[str]],
    wanted: list[str],
    size: int | None = None,
) -> TeamResult:
    """``abilities``: person -> the wanted skills they cover (at the required level)."""
    coverable = [skill for skill in wanted if any(skill in a for a in abilities.values())]
    holders = {skill: sorted(p for p, a in abilities.items() if skill in a) for skill in coverable}
    best: list[tuple[int, ...]] = []
    limit = [size if size is not None else len(coverable)]
    nodes = [0]

    def search(team: tuple[int, ...], missing: frozenset[str]) -> None:
        nodes[0] += 1
        if not missing:
            if not best or len(team) < len(best[0]):
                best[:] = [team]
                limit[0] = len(team) - 1
            return
        if len(team) >= limit[0] or nodes[0] > MAX_NODES:
            return
        # A lower bound: no one covers more of what is missing than the best single person.
        most = max(len(abilities[p] & missing) for p in abilities)
        if most == 0 or len(team) + -(-len(missing) // most) > limit[0]:
            return
        skill = min(missing, key=lambda s: (len(holders[s]), s))
        for person in sorted(holders[skill], key=lambda p: -len(abilities[p] & missing)):
            search((*team, person), missing - abilities[person])

    if coverable:
        search((), frozenset(coverable))
    members = tuple(sorted(best[0])) if best else _greedy(abilities, coverable, size)
    covered = tuple(s for s in coverable if any(s in abilities[m] for m in members))
    uncovered = tuple(s for s in wanted if s not in covered)
    return TeamResult(members, covered, uncovered, exact=nodes[0] <= MAX_NODES)
