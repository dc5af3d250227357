"""Only what pyproject.toml cannot say: the top-level ``resources/`` folder is the package ``rnnviz.resources``, and
an editable install (``pip install -e .``) leaves the package's bytecode compiled in place.

pip compiles the modules of an ordinary install into ``__pycache__``; an editable install runs the sources where
they are, and a Python started with ``PYTHONDONTWRITEBYTECODE`` then compiles every module at every start (about a
tenth of a second of the window's start-up here). A module edited later is compiled afresh, as Python always does
for a cache older than its source.
"""
import compileall
import os

from setuptools import find_namespace_packages, find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildPy(build_py):
    """``build_py`` that, for an editable install, compiles the package's modules where they are."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            compileall.compile_dir(os.path.join(HERE, "rnnviz"), quiet=1)


resources = ["rnnviz.resources"] + [f"rnnviz.resources.{p}" for p in find_namespace_packages(where="resources")]
setup(packages=find_packages(include=["rnnviz", "rnnviz.*"]) + resources,
      package_dir={"rnnviz.resources": "resources"},
      cmdclass={"build_py": BuildPy})
