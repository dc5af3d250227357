"""The README's table of what the real corpora reach is what ``python tests/real_corpora.py`` prints now."""
from __future__ import annotations

import pytest

import real_corpora
from helpers import REPO


@pytest.mark.slow
def test_the_readme_table_is_the_one_the_script_prints(real_data):
    rows = real_corpora.table(real_data)
    readme = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    for row in "\n".join(rows).splitlines():
        assert row in readme, row
