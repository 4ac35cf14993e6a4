"""The wheel carries everything a non-editable install needs: the catalogue, page templates,
migrations, fonts, JSON-LD contexts and schemas, and the licence."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_the_data_files(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("laurel-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = [
        *(
            f"badge_templates/{p.relative_to(ROOT / 'badge_templates')}"
            for p in (ROOT / "badge_templates").rglob("*.toml")
        ),
        *(f"issuer/web/templates/{p.name}" for p in (ROOT / "issuer/web/templates").iterdir()),
        *(
            f"issuer/migrations/versions/{p.name}"
            for p in (ROOT / "issuer/migrations/versions").glob("*.py")
        ),
        "issuer/migrations/env.py",
        "issuer/artifacts/fonts/NotoSansCJKkr-Regular-Subset.otf",
        "verifier/contexts/ob-v3p0-context-3.0.3.json",
        "verifier/schemas/achievementcredential.json",
        "verifier/py.typed",
    ]
    missing = [name for name in wanted if name not in names]
    assert not missing, missing
    # The licence: declared as an SPDX expression, its text carried in the wheel.
    [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
    headers = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: Apache-2.0" in headers.splitlines()
    assert metadata.replace("METADATA", "licenses/LICENSE") in names
