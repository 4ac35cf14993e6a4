"""RDFC-1.0 (W3C RDF Dataset Canonicalization) on PyLD's URDNA2015: configured, not patched.

RDFC-1.0 is the standardised URDNA2015, which PyLD implements. Laurel needs two things PyLD's
class lacks: canonical N-Quads (``verifier.nquads``; PyLD 3.3 writes control characters raw) in
the first-degree hashes (§4.6) and the output (§4.4 step 7), and a work budget and deadline for
poison graphs (``verifier.rdfc_budget``). ``Rdfc10`` is a subclass that carries both. PyLD's own
class and module globals (``serialize_nquad`` in ``pyld.nquads``, ``pyld.canon`` and
``pyld.jsonld``; ``pyld.canon.permutations``) stay as PyLD defines them, so another library in the
same process that uses PyLD gets PyLD's behaviour, and Laurel's does not depend on what others
change there.

Where the subclass steps in (the methods of PyLD's class that use those module globals):

* ``hash_first_degree_quads`` (§4.6) is PyLD's, with the canonical serialiser.
* ``main`` (§4.4) runs PyLD's algorithm under the current canonicalisation's budget (a fresh one
  when called on its own). Its step 7 relabels the quads in ``self.quads`` in place; they are
  then serialised canonically and sorted (PyLD's own serialisation of them is discarded).
* ``hash_n_degree_quads`` (§4.8) spends one step per call and one per quad of the blank node
  (the quads it reads), and one per element of each permutation it will try. Step 5.4 goes
  through every permutation PyLD's ``permutations`` yields for each list of related blank nodes
  (it skips ahead within a permutation, never out of the loop), so ``create_hash_to_related``,
  which builds those lists, runs that generator on a copy of each and spends before any
  permutation is tried: the same count as spending them as they are tried (fewer than n! when a
  list repeats a node), and a poison graph fails before the work. A permutation of n nodes costs
  n steps, as making it and walking it costs time in proportion to n: two blank nodes with 1,000
  alike children each are refused after 20 permutations, not after 20,000 that take seconds.

These rely on PyLD's internals, so PyLD is pinned to 3.3.x; ``tests/verifier`` checks the result
on every vector, with control characters and with poison graphs.
"""

from __future__ import annotations

from typing import Any

from pyld import canon
from pyld.nquads import parse_nquads

from verifier import rdfc_budget
from verifier.nquads import serialize_nquad

NQUADS = "application/n-quads"
NQUADS_FORMATS = (NQUADS, "application/nquads")

# Quads in PyLD's form: {"subject": term, "predicate": term, "object": term[, "name": term]}.
Dataset = dict[str, list[dict[str, Any]]]


class Rdfc10(canon.URDNA2015):  # type: ignore[misc]  # PyLD has no type hints
    """PyLD's URDNA2015 with canonical N-Quads and a work budget. One instance per dataset."""

    def main(self, dataset: Dataset, options: dict[str, Any]) -> Any:
        """Canonical N-Quads of ``dataset``: text if ``format`` asks for N-Quads, else parsed."""
        wanted = options.get("format")
        if wanted is not None and wanted not in NQUADS_FORMATS:
            raise canon.UnknownFormatError("Unknown output format.", wanted)
        with rdfc_budget.one_canonicalisation():
            rdfc_budget.checkpoint()
            super().main(dataset, {**options, "format": NQUADS})
            rdfc_budget.checkpoint()
        text = "".join(sorted(serialize_nquad(quad) for quad in self.quads))
        return text if wanted is not None else parse_nquads(text)

    def hash_first_degree_quads(self, id_: str) -> str:
        info: dict[str, Any] = self.blank_node_info[id_]
        if "hash" not in info:
            nquads = sorted(self._first_degree_nquad(id_, quad) for quad in info["quads"])
            info["hash"] = self.hash_nquads(nquads)
        digest: str = info["hash"]
        return digest

    def _first_degree_nquad(self, id_: str, quad: dict[str, Any]) -> str:
        """``quad`` with ``id_`` written ``_:a`` and other blank nodes ``_:z`` (§4.6 step 3.1)."""
        relabelled = {
            key: (
                component
                if key == "predicate"
                else self.modify_first_degree_component(id_, component, key)
            )
            for key, component in quad.items()
        }
        return serialize_nquad(relabelled)

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        rdfc_budget.spend(1 + len(self.blank_node_info[id_]["quads"]))
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> dict[str, list[str]]:
        hash_to_related: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        for related in hash_to_related.values():
            for _ in canon.permutations(list(related)):
                rdfc_budget.spend(len(related))
        return hash_to_related


def canonical_nquads(dataset: Dataset) -> str:
    """RDFC-1.0 canonical N-Quads of a dataset in PyLD's form (``jsonld.to_rdf``'s output)."""
    text: str = Rdfc10().main(dataset, {"format": NQUADS})
    return text
