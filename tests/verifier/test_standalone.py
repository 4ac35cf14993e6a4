"""The verifier installs and works on its own (``packaging/verifier``, distribution
``laurel-verifier``): in a fresh virtual environment with only its own dependencies, it verifies
official vectors offline, and none of the service's packages can be imported there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.vectors import VECTORS

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging" / "verifier"
SERVICE_ONLY = ["fastapi", "sqlmodel", "sqlalchemy", "PIL", "zxingcpp", "fpdf", "psycopg", "issuer"]

# The vectors' offline world (tests/vectors.py) with the installed verifier alone.
SCRIPT = r"""
import importlib.metadata, importlib.util, json, sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import verifier
from verifier import Verdict, verify_credential
from verifier.fetch import MappingFetcher
from verifier.keys import DefaultKeyResolver, TableKeyResolver

vectors, absent = Path(sys.argv[1]), json.loads(sys.argv[2])
urls = json.loads((vectors / "url-map.json").read_text("utf-8"))
fetcher = MappingFetcher(
    {url: (vectors / path).read_bytes() for url, path in urls.items() if not url.startswith("_")}
)
methods = json.loads((vectors / "verification-methods.json").read_text("utf-8"))
resolver = TableKeyResolver(methods["verificationMethods"], DefaultKeyResolver(fetcher))
world = {"now": datetime(2026, 6, 1, tzinfo=UTC), "fetcher": fetcher, "resolve_key": resolver}

valid = verify_credential((vectors / "1edtech-validator/simple.json").read_bytes(), **world)
assert valid.verdict is Verdict.VERIFIED, valid.to_dict()
tampered = (vectors / "1edtech-validator/simple-err-proof-value.json").read_bytes()
assert verify_credential(tampered, **world).verdict is Verdict.NOT_VERIFIED
assert resources.files("verifier").joinpath("py.typed").is_file()
distribution = importlib.metadata.distribution("laurel-verifier")
assert distribution.metadata["License-Expression"] == "Apache-2.0"
licence = [f for f in distribution.files if f.name == "LICENSE"]
assert licence and "Apache License" in licence[0].read_text()
print(json.dumps({
    "verifier": verifier.__file__,
    "importable": [name for name in absent if importlib.util.find_spec(name) is not None],
}))
"""


def test_the_verifier_installs_and_verifies_alone(tmp_path: Path) -> None:
    assert (PACKAGING / "verifier").resolve() == (ROOT / "verifier").resolve()
    # A copy of packaging/verifier (its relative symlink kept) beside a link to the real
    # verifier/: the same build, but setuptools leaves its build/ and egg-info in tmp_path, not
    # in the checkout (where a stale build/ would also put files deleted since into the wheel).
    project = tmp_path / "checkout" / "packaging" / "verifier"
    ignore = shutil.ignore_patterns("build", "*.egg-info")
    shutil.copytree(PACKAGING, project, symlinks=True, ignore=ignore)
    (tmp_path / "checkout" / "verifier").symlink_to(ROOT / "verifier", target_is_directory=True)
    (tmp_path / "checkout" / "LICENSE").symlink_to(ROOT / "LICENSE")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    pip = subprocess.run([*install, str(project)], capture_output=True, text=True, check=False)
    assert pip.returncode == 0, pip.stdout + pip.stderr

    script = tmp_path / "verify_alone.py"
    script.write_text(SCRIPT, "utf-8")
    # -I: neither the checkout nor PYTHONPATH is on the path, only the fresh environment.
    command = [str(python), "-I", str(script), str(VECTORS), json.dumps(SERVICE_ONLY)]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert Path(result["verifier"]).is_relative_to(venv)
    assert result["importable"] == []
