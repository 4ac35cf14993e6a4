"""Python side of the DCC interop harness.

Runs ``js/dcc.mjs`` (Digital Bazaar / DCC libraries under Node) so tests can
check that Laurel's credentials verify in an independent implementation and
that credentials that implementation signs verify in Laurel. Each call starts
a fresh ``node`` process: slower than a server, but nothing to manage.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = JS_DIR / "dcc.mjs"

# Node starts in ~0.3 s; the limit only guards against a hung process.
NODE_TIMEOUT_S = 60
NPM_TIMEOUT_S = 300


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58btc(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, rem = divmod(n, 58)
        out = _B58_ALPHABET[rem] + out
    # Leading zero bytes are not carried by the integer; base58 spells them "1".
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def did_key_from_seed(seed: bytes) -> str:
    """did:key of the Ed25519 key with this 32-byte seed (what dcc_sign uses).

    Derived here, independently of both Laurel and the JS side, so a test can
    set ``issuer`` before signing and cross-check the VM that DCC writes.
    """
    public = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    # Multikey = multibase "z" + base58btc(multicodec ed25519-pub 0xed01 || key).
    return "did:key:z" + _base58btc(b"\xed\x01" + public)


def ensure_node_modules(js_dir: Path = JS_DIR) -> None:
    """Install the pinned npm packages of ``js_dir`` (``npm ci``) unless already installed.

    Each Node harness under ``tests/interop`` keeps its own ``package.json`` and lock file in its
    own directory and calls this with that directory.
    """
    # npm writes node_modules/.package-lock.json last, so its presence means a
    # finished install; being older than package-lock.json means a stale one.
    installed = js_dir / "node_modules" / ".package-lock.json"
    lock = js_dir / "package-lock.json"
    if installed.is_file() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    # Test processes running side by side (pytest-xdist) install one at a time; whoever waited
    # finds the install finished.
    with open(js_dir / ".npm-install.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if installed.is_file() and installed.stat().st_mtime >= lock.stat().st_mtime:
            return
        _npm_ci(js_dir)


def _npm_ci(js_dir: Path) -> None:
    try:
        proc = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=js_dir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"npm ci in {js_dir} could not run: {exc}") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"npm ci in {js_dir} failed (exit {proc.returncode}):\n{proc.stderr}")


def _run_node(args: list[str]) -> subprocess.CompletedProcess[str]:
    ensure_node_modules()
    return subprocess.run(
        ["node", str(SCRIPT), *args],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )


def _write_json(directory: Path, name: str, data: Any) -> Path:
    path = directory / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def dcc_verify(
    credential: dict[str, Any],
    vms: dict[str, dict[str, Any]] | None = None,
    now: str | None = None,
) -> tuple[bool, list[str]]:
    """Verify ``credential`` with DCC; return ``(verified, error messages)``.

    ``vms`` maps verification-method id -> Multikey VM document, for VMs that
    are not did:key (did:key is resolved inside the harness). ``now`` is an
    ISO date-time to check validFrom/validUntil against (default: the clock).
    """
    with tempfile.TemporaryDirectory(prefix="dcc-verify-") as tmp:
        tmpdir = Path(tmp)
        args = ["verify", str(_write_json(tmpdir, "credential.json", credential))]
        if vms is not None:
            args += ["--vm-file", str(_write_json(tmpdir, "vms.json", vms))]
        if now is not None:
            args += ["--now", now]
        proc = _run_node(args)
    # Exit 0/1 are verdicts and print one JSON line; anything else is a
    # harness problem that must not be mistaken for "not verified".
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise RuntimeError(f"dcc.mjs verify failed (exit {proc.returncode}):\n{proc.stderr}")
    result = json.loads(proc.stdout)
    verified = result["verified"] is True
    if verified != (proc.returncode == 0):
        raise RuntimeError(f"dcc.mjs exit code disagrees with output: {result}")
    return verified, [str(e) for e in result["errors"]]


def dcc_sign(unsigned: dict[str, Any], seed: bytes, created: str) -> dict[str, Any]:
    """Sign with DCC: eddsa-rdfc-2022, did:key VM derived from the 32-byte seed.

    The caller sets ``issuer`` (or ``issuer.id``) to that did:key beforehand.
    """
    if len(seed) != 32:
        raise ValueError(f"seed must be 32 bytes, got {len(seed)}")
    with tempfile.TemporaryDirectory(prefix="dcc-sign-") as tmp:
        path = _write_json(Path(tmp), "unsigned.json", unsigned)
        proc = _run_node(["sign", str(path), "--seed", seed.hex(), "--created", created])
    if proc.returncode != 0:
        raise RuntimeError(f"dcc.mjs sign failed (exit {proc.returncode}):\n{proc.stderr}")
    signed: dict[str, Any] = json.loads(proc.stdout)
    return signed
