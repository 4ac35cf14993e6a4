"""``rdfc_budget.measure`` counts as its definition says (a plain recursive reading of it), on
generated JSON with contexts, value objects, blank-node labels and ids of every kind."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import rdfc_budget


def _by_definition(document: Any) -> rdfc_budget.Size:
    values = nodes = anonymous = 0
    labels: set[str] = set()

    def visit(item: Any, in_context: bool) -> None:
        nonlocal values, nodes, anonymous
        values += 1
        if isinstance(item, dict):
            if not in_context and "@value" not in item:
                nodes += 1
                ident = item.get("id", item.get("@id"))
                if ident is None:
                    anonymous += 1
                elif isinstance(ident, str) and ident.startswith("_:"):
                    labels.add(ident)
            for key, child in item.items():
                visit(child, in_context or key == "@context")
        elif isinstance(item, list):
            for child in item:
                visit(child, in_context)

    visit(document, False)
    return rdfc_budget.Size(values, nodes, anonymous + len(labels))


keys = st.sampled_from(["id", "@id", "@context", "@value", "name", "type", "x"])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(["_:b0", "_:b1", "urn:a", "", "x"])
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(documents)
def test_counts_match_the_definition(document: Any) -> None:
    assert rdfc_budget.measure(document) == _by_definition(document)
