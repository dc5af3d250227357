"""Shared test setup: no screen needed, real data found beside the repo when present."""
import atexit
import os
import pathlib
import shutil
import sys
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


_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """A run that loaded Qt ends here, with pytest's exit status, once every exit handler has run (multiprocessing
    ends its children, pyqtgraph its scenes, ours removes the test preferences folder), without the interpreter's
    teardown of the objects that are left. Those are the windows, pyqtgraph plots and menus of some 500 window tests
    (pytest-qt closes a test's windows and deletes them only when a later event loop runs); destroyed by the
    interpreter after the QApplication, in no set order, they crashed the process (exit 139) in about one full run
    in six after every test had passed. Deleting them first from Qt did not help: the C++ objects went, and their
    Python wrappers crashed the garbage collector after. The application's own exit is tested in a fresh process
    (``tests/gui/test_clean_exit.py``)."""
    if "PySide6.QtWidgets" not in sys.modules or not _EXIT_STATUS:
        return
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_EXIT_STATUS[-1])
