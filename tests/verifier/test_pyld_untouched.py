"""The verifier configures PyLD without patching it. Importing it once replaced ``serialize_nquad``
in ``pyld.nquads``, ``pyld.canon`` and ``pyld.jsonld`` and wrapped ``pyld.canon.permutations`` and
``URDNA2015.main`` / ``.hash_n_degree_quads``, so every other user of PyLD in the process got
Laurel's escaping and work budget. Now ``verifier.rdfc.Rdfc10`` (a subclass) carries both: PyLD
stays as it is, and Laurel's canonicalisation keeps both corrections."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyld import canon, jsonld, nquads

from tests.vectors import VECTORS
from verifier import canonicalize
from verifier.errors import TooComplex
from verifier.jsonld import canonicalize_reference

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTION = "https://schema.org/description"
LINK = "https://poison.example/link"
NORMALIZE = {"algorithm": "URDNA2015", "format": "application/n-quads"}


def generic(document: dict[str, Any]) -> str:
    """The verifier's canonicalisation of any JSON-LD (these documents are not credentials)."""
    return canonicalize(document, terms_only=False)


# Run in a fresh interpreter: snapshot PyLD (each global of the modules Laurel used to patch and
# each attribute of URDNA2015), then import and use the verifier, and name what was rebound.
USE_THE_VERIFIER = r"""
import json, sys
from pathlib import Path
from pyld import canon, jsonld, nquads

def snapshot():
    state = {f"pyld.canon.URDNA2015.{k}": v for k, v in vars(canon.URDNA2015).items()}
    for module in (canon, nquads, jsonld):
        state.update({f"{module.__name__}.{k}": v for k, v in vars(module).items()})
    return state

before = snapshot()
import verifier
from verifier import canonicalize, verify_credential
from verifier.errors import JsonLdError, TooComplex
from verifier.fetch import no_network
from verifier.jsonld import canonicalize_reference

for path in sorted(Path(sys.argv[1]).rglob("*.json")):
    document = json.loads(path.read_text("utf-8"))
    if isinstance(document, dict) and "@context" in document:
        for function in (canonicalize, canonicalize_reference):
            try:
                function(document)
            except JsonLdError:
                pass
poison = json.loads(sys.argv[2])
try:
    canonicalize(poison, terms_only=False)
    raise SystemExit("the poison graph was canonicalised")
except TooComplex:
    pass
signed = Path(sys.argv[1]) / "ob3-spec-examples/complete-openbadgecredential.json"
verify_credential(signed.read_bytes(), fetcher=no_network)
after = snapshot()
rebound = [k for k in before.keys() | after.keys() if before.get(k) is not after.get(k)]
print(json.dumps(sorted(rebound)))
"""

# What PyLD alone gives, to compare with what it gives beside the verifier.
PYLD_ALONE = r"""
import json, sys
from pyld import jsonld
documents = json.loads(sys.argv[1])
options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
print(json.dumps([jsonld.normalize(document, options) for document in documents]))
"""


def blank_node_clique(size: int) -> dict[str, Any]:
    """``size`` blank nodes all linked to one another: RDFC-1.0 tries every permutation."""
    nodes = [
        {"@id": f"_:b{i}", LINK: [{"@id": f"_:b{j}"} for j in range(size) if j != i]}
        for i in range(size)
    ]
    return {"@context": {"d": DESCRIPTION}, "@graph": nodes}


def two_descriptions(first: str, second: str) -> dict[str, Any]:
    return {"@context": {"d": DESCRIPTION}, "@graph": [{"d": first}, {"d": second}]}


def run(script: str, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_using_the_verifier_rebinds_nothing_in_pyld() -> None:
    poison = json.dumps(blank_node_clique(6))
    assert run(USE_THE_VERIFIER, str(VECTORS), poison) == []


def test_after_the_verifier_pyld_is_as_pyld_defines_it() -> None:
    generic(two_descriptions("Line\u000bbreak", "x"))  # the verifier is imported and used
    assert canon.URDNA2015.main.__qualname__ == "URDNA2015.main"
    assert canon.URDNA2015.hash_n_degree_quads.__qualname__ == "URDNA2015.hash_n_degree_quads"
    assert canon.URDNA2015.main.__module__ == "pyld.canon"
    assert canon.URDNA2015.hash_n_degree_quads.__module__ == "pyld.canon"
    assert canon.permutations.__module__ == "pyld.canon"
    assert nquads.serialize_nquad.__module__ == "pyld.nquads"
    assert canon.serialize_nquad is nquads.serialize_nquad
    assert jsonld.serialize_nquad is nquads.serialize_nquad
    assert not [name for name in vars(canon.URDNA2015) if "laurel" in name.lower()]


def test_pyld_beside_the_verifier_gives_what_pyld_alone_gives() -> None:
    """Other users of PyLD keep PyLD's escaping and have no work budget."""
    documents = [two_descriptions("Line\u000bbreak", "back\bspace"), blank_node_clique(6)]
    alone = run(PYLD_ALONE, json.dumps(documents))
    generic(documents[0])
    beside = [jsonld.normalize(copy.deepcopy(document), NORMALIZE) for document in documents]
    assert beside == alone
    with pytest.raises(TooComplex, match="too entangled"):
        generic(blank_node_clique(6))


def _first_degree_hash(literal: str) -> str:
    return hashlib.sha256(f'_:a <{DESCRIPTION}> "{literal}" .\n'.encode()).hexdigest()


def test_blank_nodes_are_hashed_and_labelled_with_canonical_escapes() -> None:
    """RDFC-1.0 §4.6 hashes the canonical N-Quads: ``\\u000B`` for a vertical tab, not the raw
    character PyLD 3.3 writes. For these two nodes the two spellings give opposite labels."""
    tab, plain = "Line\u000b4", "Line 4"
    canonical, raw = _first_degree_hash("Line\\u000B4"), _first_degree_hash(tab)
    plain_hash = _first_degree_hash(plain)
    assert (canonical < plain_hash) != (raw < plain_hash), "the case no longer tells them apart"
    first, second = ("Line\\u000B4", plain) if canonical < plain_hash else (plain, "Line\\u000B4")
    expected = f'_:c14n0 <{DESCRIPTION}> "{first}" .\n_:c14n1 <{DESCRIPTION}> "{second}" .\n'
    document = two_descriptions(tab, plain)
    assert generic(document) == expected
    assert canonicalize_reference(document, terms_only=False) == expected


def test_control_characters_are_escaped_as_rdfc_says() -> None:
    """The regression test of the interoperability suite, without node: what rdf-canonize 5.0.0
    writes for this document."""
    text = "Line\u000bbreak, back\bspace, form\ffeed, unit\u001fsep, del\u007f, nul\u0000."
    document = {"@context": {"d": DESCRIPTION}, "d": text}
    assert generic(document) == (
        f"_:c14n0 <{DESCRIPTION}> "
        '"Line\\u000Bbreak, back\\bspace, form\\ffeed, unit\\u001Fsep, del\\u007F, nul\\u0000." .\n'
    )


@pytest.mark.parametrize("size", [2, 3, 4, 5])
def test_small_cliques_canonicalise_as_pyld_does(size: int) -> None:
    """Within the budget, Laurel's RDFC-1.0 is PyLD's wherever there is nothing to escape."""
    document = blank_node_clique(size)
    assert generic(document) == jsonld.normalize(copy.deepcopy(document), NORMALIZE)
