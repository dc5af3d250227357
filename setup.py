"""Only what pyproject.toml cannot say: the top-level ``resources/`` folder is the package ``rnnviz.resources``."""
from setuptools import find_namespace_packages, find_packages, setup

resources = ["rnnviz.resources"] + [f"rnnviz.resources.{p}" for p in find_namespace_packages(where="resources")]
setup(packages=find_packages(include=["rnnviz", "rnnviz.*"]) + resources,
      package_dir={"rnnviz.resources": "resources"})
