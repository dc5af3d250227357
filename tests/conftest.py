"""Shared test setup: no screen needed, real data found beside the repo when present."""
import os
import pathlib

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # as the CLI does: small matrices
    os.environ.setdefault(_var, "1")

import pytest

from helpers import REPO  # noqa: E402

REAL_DATA = REPO.parent / "shared" / "data" / "real"


@pytest.fixture
def real_data() -> pathlib.Path:
    """The folder of real corpora (../shared/data/real); the test is skipped when it is absent."""
    if not REAL_DATA.is_dir():
        pytest.skip("../shared/data/real is not present")
    return REAL_DATA


def pytest_collection_modifyitems(config, items):
    """Soak tests (``@pytest.mark.ondemand``) run only with RNNVIZ_ONDEMAND=1."""
    if os.environ.get("RNNVIZ_ONDEMAND") == "1":
        return
    skip = pytest.mark.skip(reason="on-demand soak test: set RNNVIZ_ONDEMAND=1 to run it")
    for item in items:
        if "ondemand" in item.keywords:
            item.add_marker(skip)
