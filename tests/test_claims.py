"""The README's headline numbers are the numbers in their results files (``python -m scripts.check_claims``)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_claims_match_their_results_files():
    proc = subprocess.run([sys.executable, "-m", "scripts.check_claims"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
