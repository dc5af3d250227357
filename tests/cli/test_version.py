"""``rnnviz --version``: the one version (``rnnviz.__version__``), which the package metadata reads too."""
from __future__ import annotations

import importlib.metadata
import re
import tomllib

import pytest

import rnnviz
from helpers import REPO
from rnnviz.cli import main


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out == f"rnnviz {rnnviz.__version__}"
    assert re.fullmatch(r"rnnviz \d+\.\d+\.\d+\S*", out)


def test_the_version_is_defined_once():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "rnnviz.__version__"}
    assert importlib.metadata.version("rnnviz") == rnnviz.__version__
