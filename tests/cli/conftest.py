"""tests/cli reuses the fixture plugins of tests/kit."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "kit"))
