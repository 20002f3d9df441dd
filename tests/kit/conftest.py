"""tests/kit: make the fixture plugin modules importable in-process (they also run as processes)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
