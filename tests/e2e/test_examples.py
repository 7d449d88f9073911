"""The README's Python example runs as printed (examples/quickstart.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
def test_quickstart_runs_and_prints_the_three_lines():
    out = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py")], capture_output=True,
                         text=True, check=True, timeout=300).stdout.splitlines()
    assert out[0].startswith("IGA-TS at week 8: ")
    assert "nM" in out[1] and out[2].startswith("risk difference ")
