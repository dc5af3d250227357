"""The layers are a contract: the import-linter contracts in pyproject.toml (see docs/architecture.md) hold for
the code as it is, with function-level imports counted."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import REPO


def test_import_contracts_are_kept():
    exe = Path(sys.executable).with_name("lint-imports")       # installed with the test extra
    assert exe.exists(), "lint-imports is missing: install the test extra (pip install -e '.[test]')"
    run = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "BROKEN" not in run.stdout and run.stdout.count("KEPT") == 6
