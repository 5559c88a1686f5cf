"""The crash test shares the server helpers of the client suite (tests/clients/harness.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients"))
