"""Shared test setup: no screen needed, real data found beside the repo when present."""
import atexit
import os
import pathlib
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # as the CLI does: small matrices
    os.environ.setdefault(_var, "1")
# The window's remembered preferences (QSettings, under XDG_CONFIG_HOME) of every window a test opens, in this
# process or in a child ``rnnviz``, go to a folder of this test run: never the user's own ~/.config/rnnviz.
TEST_CONFIG_HOME = tempfile.mkdtemp(prefix="rnnviz-test-config-")
os.environ["XDG_CONFIG_HOME"] = TEST_CONFIG_HOME
atexit.register(shutil.rmtree, TEST_CONFIG_HOME, True)

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
    """Soak tests (``@pytest.mark.ondemand``) run only with RNNVIZ_ONDEMAND=1, and then without the suite's time
    limit (they run for as long as they are told to)."""
    if os.environ.get("RNNVIZ_ONDEMAND") == "1":
        for item in items:
            if "ondemand" in item.keywords:
                item.add_marker(pytest.mark.timeout(0))
        return
    skip = pytest.mark.skip(reason="on-demand soak test: set RNNVIZ_ONDEMAND=1 to run it")
    for item in items:
        if "ondemand" in item.keywords:
            item.add_marker(skip)
