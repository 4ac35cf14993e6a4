"""The bundled catalogue as data (achievements, programmes, skill frameworks, target profiles);
a package only so that it ships inside the wheel. See README.md here for the format."""

from pathlib import Path

PATH = Path(__file__).resolve().parent
