"""The context managers that put a deadline or an RDFC budget in effect for a block: they nest,
the earliest deadline wins, and each is undone when its block ends, by an error too."""

from __future__ import annotations

import pytest

from verifier import rdfc_budget
from verifier.errors import TooComplex
from verifier.transport import Deadline, _budget, earliest, within


def test_within_nests_keeps_the_earliest_and_undoes_itself() -> None:
    late, soon = Deadline(60, "late"), Deadline(1, "soon")
    assert _budget.get() is None
    with within(late):
        assert _budget.get() is late
        with within(soon):
            assert _budget.get() is soon
            with within(late):
                assert _budget.get() is soon  # a later deadline inside does not extend it
            assert _budget.get() is soon
        assert _budget.get() is late
        with pytest.raises(RuntimeError), within(soon):
            raise RuntimeError
        assert _budget.get() is late
    assert _budget.get() is None


def test_earliest_keeps_the_first_of_equals_and_needs_one() -> None:
    first, second = Deadline(5, "first"), Deadline(5, "second")
    second.at = first.at
    assert earliest(None, first, second) is first
    assert earliest(second, None, first) is second
    with pytest.raises(ValueError):
        earliest(None, None)


def test_one_canonicalisation_inside_another_spends_from_the_outer_budget() -> None:
    with rdfc_budget.one_canonicalisation(steps=3):
        outer = rdfc_budget._budget.get()
        with rdfc_budget.one_canonicalisation(steps=1000):
            assert rdfc_budget._budget.get() is outer
            rdfc_budget.spend(3)
            with pytest.raises(TooComplex, match=r"more than 3 RDFC-1\.0 steps\)"):
                rdfc_budget.spend()
        assert rdfc_budget._budget.get() is outer
    assert rdfc_budget._budget.get() is None


def test_budgets_are_undone_after_an_error_and_name_their_limits() -> None:
    with pytest.raises(TooComplex) as refused, rdfc_budget.shared_budget(seconds=-1):
        rdfc_budget.checkpoint()
    assert str(refused.value).endswith("(more than -1 s of processing in all)")
    assert rdfc_budget._shared.get() is None
    with pytest.raises(TooComplex) as refused, rdfc_budget.one_canonicalisation(seconds=-1):
        rdfc_budget.checkpoint()
    assert "the credential is too complex to canonicalise" in str(refused.value)
    assert rdfc_budget._budget.get() is None


def test_a_budget_object_can_be_entered_again_after_it_ended() -> None:
    budget = rdfc_budget.shared_budget(steps=2)
    for _ in range(2):
        with budget:
            rdfc_budget.spend(2)
        assert rdfc_budget._shared.get() is None


def test_a_shared_budget_inside_another_spends_from_the_outer_one() -> None:
    """A presentation's credentials are verified inside its shared budget: each verification's
    own ``shared_budget`` goes on with the presentation's, so 32 credentials do not bring 32
    fresh budgets (audit round 8)."""
    with rdfc_budget.shared_budget(steps=3):
        outer = rdfc_budget._shared.get()
        with rdfc_budget.shared_budget(steps=1000):
            assert rdfc_budget._shared.get() is outer
            rdfc_budget.spend(3)
            with pytest.raises(TooComplex, match="in all"):
                rdfc_budget.spend()
        assert rdfc_budget._shared.get() is outer
    assert rdfc_budget._shared.get() is None
