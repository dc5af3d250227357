"""Ctrl+C in the terminal that started a window closes it cleanly: a real ``rnnviz`` process (offscreen) gets
SIGINT as a terminal sends it (to the whole process group, the training child included). It closes the window,
ends the training process and exits with status 130 and one line, no traceback. SIGTERM still ends it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to find the training process")


def children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_window(*args: str) -> tuple[subprocess.Popen, list[int]]:
    """``rnnviz ARGS`` offscreen in its own process group, once its training process runs."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "rnnviz", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    kids: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        kids = children(proc.pid)
        if kids:
            break
        time.sleep(0.1)
    if not kids:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the window did not start its training process: {err[-2000:]}")
    time.sleep(1.0)             # the event loop is running (not needed for the handler, but it is the real case)
    return proc, kids


def finish(proc: subprocess.Popen, kids: list[int], sig: int) -> tuple[int, str, float]:
    start = time.monotonic()
    os.killpg(proc.pid, sig)                    # as a terminal does: the whole foreground group
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"rnnviz did not exit within 60 s of signal {sig}: {err[-2000:]}")
    seconds = time.monotonic() - start
    deadline = time.monotonic() + 10
    while any(alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(k) for k in kids), "the training process was left running"
    return proc.returncode, err, seconds


@pytest.mark.parametrize("args", [("--preset", "negation"), ("race", "--preset", "negation", "--b", "cell=gru")],
                         ids=["window", "race"])
def test_ctrl_c_closes_the_window_cleanly(args):
    proc, kids = start_window(*args)
    code, err, seconds = finish(proc, kids, signal.SIGINT)
    print(f"\nCtrl+C: exit {code} after {seconds:.2f} s")
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "rnnviz: interrupted (Ctrl+C): the window was closed" in err.splitlines()


def test_sigterm_still_ends_the_window():
    proc, kids = start_window("--preset", "negation")
    code, err, _ = finish(proc, kids, signal.SIGTERM)
    assert code == -signal.SIGTERM
    assert "Traceback" not in err
