"""The demo survives a restart on another port: ``laurel serve --demo`` on port P issues badges,
the README's ``laurel issue --demo --csv`` adds a cohort, then the demo runs again on port Q in
the same directory; every badge still verifies there (its status list URL names port P, which
nothing serves any more), a revocation on Q shows on a badge issued on P, and new badges verify."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from issuer.demo import SLUG
from tests.web.conftest import free_port

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Demo:
    base: str
    key: str

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base + path, headers={"Authorization": f"Bearer {self.key}"})

    def verdict(self, credential_id: str) -> str:
        page = httpx.get(f"{self.base}/v/{credential_id}").text
        found = re.search(r'<h1 id="verdict-title">([^<]*)', page)
        assert found, page[:500]
        return found.group(1).strip()

    def ids(self, status: str | None = None) -> set[str]:
        only = f"&status={status}" if status else ""
        listed = self.get(f"/api/v1/issuers/{SLUG}/credentials?limit=100{only}").json()
        return {item["id"].removeprefix("urn:uuid:") for item in listed["credentials"]}


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    env["LAUREL_KEY_KDF_COST"] = "test"
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextmanager
def serving_demo(directory: Path, port: int) -> Iterator[Demo]:
    laurel = shutil.which("laurel", path=str(BIN)) or "laurel"
    process = subprocess.Popen(
        [laurel, "serve", "--demo", "--port", str(port)],
        cwd=directory,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        lines: list[str] = []
        assert process.stdout is not None
        while not (lines and lines[-1].startswith("lrl_")):
            line = process.stdout.readline()
            assert line, "laurel serve --demo exited:\n" + "".join(lines)
            lines.append(line.strip())
        for _ in range(400):  # the server starts listening after printing
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield Demo(base, lines[-1])
    finally:
        process.terminate()
        process.communicate(timeout=30)


def readme_block(containing: str) -> str:
    """The README's shell block with ``containing`` in it, as a reader would copy it."""
    text = (ROOT / "README.md").read_text("utf-8")
    blocks: list[str] = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    (block,) = [b for b in blocks if containing in b]
    return block


def test_the_demo_verifies_its_badges_after_a_restart_on_another_port(tmp_path: Path) -> None:
    first_port, second_port = free_port(), free_port()
    with serving_demo(tmp_path, first_port) as demo:
        seeded = demo.ids()
        # the demo revokes one of its badges: take the first active one
        badge = sorted(demo.ids("active"))[0]
        assert demo.verdict(badge) == "Verified"
        document = demo.get(f"/api/v1/credentials/{badge}").json()
        status = document["credentialStatus"]["statusListCredential"]
        assert status.startswith(f"http://127.0.0.1:{first_port}/status/")

        commands = readme_block("laurel issue --demo")
        ran = subprocess.run(
            ["bash", "-ec", commands], cwd=tmp_path, env=_environment(), capture_output=True
        )
        assert ran.returncode == 0, ran.stderr.decode()
        assert "1 issued, 0 already issued, 0 errors" in ran.stdout.decode()
        (from_csv,) = demo.ids() - seeded

    with serving_demo(tmp_path, second_port) as demo:
        assert demo.verdict(badge) == "Verified"
        assert demo.verdict(from_csv) == "Verified"
        # the file the learner downloaded, checked on /verify: the same
        with httpx.Client(base_url=demo.base) as browser:
            token = re.search(r'name="csrf" value="([^"]+)"', browser.get("/verify").text)
            assert token
            form = {"csrf": token.group(1), "pasted": json.dumps(document)}
            pasted = browser.post("/verify", data=form).text
        assert '<h1 id="verdict-title">Verified' in pasted
        # the old port's status list is this demo's own: a revocation now shows on it
        revoked = httpx.post(
            f"{demo.base}/api/v1/credentials/{badge}/revoke",
            json={"reason": "demo: revoked after the restart"},
            headers={"Authorization": f"Bearer {demo.key}"},
        )
        assert revoked.status_code == 200, revoked.text
        assert demo.verdict(badge).startswith("Revoked")
        issued = httpx.post(
            f"{demo.base}/api/v1/issuers/{SLUG}/credentials",
            json={"recipient": {"email": "new@example.org"}, "achievement": "ai-foundations"},
            headers={"Authorization": f"Bearer {demo.key}"},
        )
        assert issued.status_code == 201, issued.text
        assert demo.verdict(issued.json()["id"].removeprefix("urn:uuid:")) == "Verified"
