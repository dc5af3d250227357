"""The sweep on a real Dask cluster (a LocalCluster of two worker processes): the same rows as the local pool, the
loss curves streamed while the cells train, data files sent to the workers, a worker killed mid-run, cancelling,
and the errors before anything starts (an unreachable scheduler, a bad address, no ``distributed``)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from rnnviz.core.errors import ConfigError, DataError
from rnnviz.core.explore import sweep, sweep_dask
from rnnviz.core.presets import load_preset
from rnnviz.core.train.trainer import Trainer

from dask_helpers import local_cluster, need_distributed, same_rows, worker_pid
from helpers import sweep_base_config


@pytest.fixture(scope="module")
def cluster():
    with local_cluster() as c:
        yield c


def run(runner, deadline: float = 120.0) -> list:
    """Drive ``runner`` to its end (as run_sweep does), returning every event."""
    events = []
    runner.start()
    end = time.monotonic() + deadline
    while not runner.finished:
        assert time.monotonic() < end, "the sweep did not finish"
        events.extend(runner.poll(timeout=0.05))
    return events


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rows_are_those_of_the_local_pool_row_for_row(cluster):
    """A 2 x 2 with a failing column (spectral radius 100 overflows): every field equal but the seconds."""
    cells = sweep.expand_grid(sweep_base_config(), [("spectral_radius", [1.0, 100.0]), ("lr", [0.01, 0.1])])
    runner = sweep_dask.make_runner(cells, scheduler=cluster.scheduler_address)
    assert isinstance(runner, sweep_dask.DaskSweepRunner)
    assert runner.processes == 2 and len(runner.workers) == 2
    assert "2 workers" in runner.describe()
    events = run(runner)
    local = sweep.run_sweep(cells, processes=2)
    assert [r["status"] for r in local] == ["ok", "ok", "failed", "failed"]
    for cell, row in zip(cells, local):
        assert same_rows(runner.rows[cell.index], row), cell.label()
    assert {i for k, p in events if k == "started" for i in [p["index"]]} == {0, 1, 2, 3}
    assert sorted(p["index"] for k, p in events if k == "done") == [0, 1, 2, 3]
    assert runner.finished and runner.progress == 1.0 and not runner.alive()


def test_curves_stream_while_the_cells_train(cluster):
    """Progress messages carry the loss curves so far, before the row: each streamed point is the loss of that
    step in a Trainer run here."""
    cfg = load_preset("negation").config.replace(hidden=16, n_examples=2000, epochs=6)
    cells = sweep.expand_grid(cfg, [("lr", [0.01, 0.03])])
    runner = sweep_dask.make_runner(cells, scheduler=cluster.scheduler_address)
    events = run(runner)
    done_at = {p["index"]: n for n, (k, p) in enumerate(events) if k == "done"}
    live = [(n, p) for n, (k, p) in enumerate(events) if k == "progress" and "train_steps" in p]
    assert live, "no curves were streamed"
    for cell in cells:
        mine = [(n, p) for n, p in live if p["index"] == cell.index]
        assert mine and all(n < done_at[cell.index] for n, _ in mine)
        lengths = [p["train_steps"][-1] for _, p in mine]
        assert lengths == sorted(lengths) and lengths[-1] < runner.rows[cell.index]["steps"]
        trainer = Trainer(cell.config)
        trainer.train()
        steps, losses = trainer.loss_history.view()
        by_step = dict(zip(steps.tolist(), losses[:, 0].tolist()))
        for _, p in mine:
            assert [by_step[s] for s in p["train_steps"]] == pytest.approx(p["train_losses"], rel=1e-12)
            fractions = p["step"] / (trainer.steps_per_epoch * cfg.epochs)
            assert p["fraction"] == pytest.approx(fractions)


def test_data_file_is_sent_to_the_workers(cluster, tmp_path):
    """The file is read here and sent: the workers train on it after it has gone from this disk. Its bytes go to
    each worker at most once per sweep, however many cells it trains on them."""
    import distributed

    lines = [f"{'this is not good' if i % 2 else 'this movie is good'} {i % 7}\t{'neg' if i % 2 else 'pos'}"
             for i in range(120)]
    path = tmp_path / "reviews.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = load_preset("negation").config.replace(dataset=str(path), task="classification", hidden=8, epochs=2)
    cells = sweep.expand_grid(cfg, [("lr", [0.01, 0.03, 0.1, 0.3])])
    local = sweep.run_sweep(cells, processes=2)
    runner = sweep_dask.make_runner(cells, scheduler=cluster.scheduler_address)
    assert runner.files == {str(path): path.read_bytes()}
    path.rename(tmp_path / "gone.tsv")
    run(runner)
    for cell, row in zip(cells, local):
        assert row["status"] == "ok" and same_rows(runner.rows[cell.index], row)
    key = runner._scattered[str(path)].key

    def received(dask_worker) -> int:       # the worker's own log of the data it fetched from others
        return sum(key in entry["keys"] for entry in dask_worker.transfer_incoming_log)

    with distributed.Client(cluster.scheduler_address, timeout=30) as client:
        assert sorted(client.run(received).values()) in ([0, 1], [0, 0])


def test_data_file_over_the_cap_is_refused_before_connecting(tmp_path, monkeypatch):
    path = tmp_path / "big.tsv"
    path.write_text("a good film\tpos\n" * 1000, encoding="utf-8")
    monkeypatch.setattr(sweep_dask, "MAX_DATA_BYTES", 4096)
    cfg = load_preset("negation").config.replace(dataset=str(path), task="classification")
    cells = sweep.expand_grid(cfg, [("lr", [0.01, 0.1])])
    with pytest.raises(DataError, match=r"big.tsv: the file is 0.0 MB; a sweep on a cluster sends at most 0 MB"):
        sweep_dask.make_runner(cells, scheduler=f"tcp://127.0.0.1:{closed_port()}")
    assert sweep_dask.MAX_DATA_BYTES == 4096 and "64 MB" in sweep_dask.__doc__


def test_cancel_stops_the_runs_on_the_cluster(cluster):
    """Cancelled cells are rows "cancelled"; the workers are free again: a new sweep on the same two workers runs
    to its end (the cancelled cells, 1000 epochs each, would hold them for many minutes)."""
    cfg = load_preset("negation").config.replace(hidden=16, n_examples=2000, epochs=1000)
    cells = sweep.expand_grid(cfg, [("lr", [0.01, 0.02, 0.03])])
    runner = sweep_dask.make_runner(cells, scheduler=cluster.scheduler_address)
    runner.start()
    end = time.monotonic() + 60
    while len(runner.fractions) < 2:          # two cells are training, one waits
        assert time.monotonic() < end
        runner.poll(timeout=0.05)
    seconds = runner.cancel()
    print(f"cluster sweep cancel took {seconds * 1000:.0f} ms")
    assert runner.finished and runner.cancelled and not runner.alive()
    assert {r["status"] for r in runner.rows.values()} == {"cancelled"} and len(runner.rows) == 3
    assert runner.poll() == []
    small = sweep.expand_grid(sweep_base_config(), [("lr", [0.01, 0.1])])
    again = sweep_dask.make_runner(small, scheduler=cluster.scheduler_address)
    run(again, deadline=120)
    assert [again.rows[i]["status"] for i in range(2)] == ["ok", "ok"]


@pytest.mark.slow
@pytest.mark.parametrize("allowed_failures", [3, 0], ids=["scheduler-retries", "killedworker"])
def test_a_worker_killed_mid_run_fails_its_cell_and_the_rest_go_on(allowed_failures):
    """Kill the process of the worker training a cell: that cell is failed with the reason and the steps it had
    done, the others are ok with the local pool's numbers. Either the scheduler retries the task (its default;
    the retry sees the cell was started before and fails it at once) or it gives up (KilledWorker)."""
    cfg = load_preset("negation").config.replace(hidden=16, n_examples=1000)
    cells = sweep.expand_grid(cfg, [("epochs", [500, 3, 4])])     # the first trains for minutes: it is the victim
    with local_cluster(**{"distributed.scheduler.allowed-failures": allowed_failures}) as cluster:
        runner = sweep_dask.make_runner(cells, scheduler=cluster.scheduler_address)
        runner.start()
        victim = None
        end = time.monotonic() + 60
        while victim is None:
            assert time.monotonic() < end and not runner.finished
            for kind, p in runner.poll(timeout=0.05):
                if kind == "progress" and p["index"] == 0 and "train_steps" in p:   # its curves have come
                    victim = p
        os.kill(worker_pid(cluster.scheduler_address, victim["worker"]), signal.SIGKILL)
        end = time.monotonic() + 120
        while not runner.finished:
            assert time.monotonic() < end
            runner.poll(timeout=0.05)
    dead = runner.rows[victim["index"]]
    assert dead["status"] == "failed"
    assert dead["error"].startswith(f"worker died: {victim['worker']} stopped while training this cell, after step ")
    assert dead["steps"] >= victim["step"] and dead["error"].endswith("not retried")
    assert dead["train_steps"] and dead["train_steps"][-1] <= dead["steps"]
    local = {c.index: sweep.train_cell(c) for c in cells if c.index != victim["index"]}
    for index, row in local.items():
        assert row["status"] == "ok" and same_rows(runner.rows[index], row)


def test_unreachable_scheduler_and_bad_addresses_before_anything_starts():
    cells = sweep.expand_grid(sweep_base_config(), [("lr", [0.01, 0.1])])
    for bad in ("http://host:8786", "tcp://", "tcp://host:port", "tcp://host:99999", "tcp://host:1/path"):
        with pytest.raises(ConfigError, match="expected a Dask scheduler address like tcp://HOST:8786"):
            sweep_dask.make_runner(cells, scheduler=bad)
    assert sweep_dask.parse_address("10.1.2.3") == ("tcp://10.1.2.3:8786", "10.1.2.3", 8786)
    assert sweep_dask.parse_address(" tls://h:1234 ") == ("tls://h:1234", "h", 1234)
    assert isinstance(sweep_dask.make_runner(cells, processes=2, scheduler=""), sweep.SweepRunner)
    need_distributed()
    port = closed_port()
    with pytest.raises(sweep_dask.ClusterError, match=rf"^cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: "
                                                      r"connection refused \(is `dask scheduler` running there"):
        sweep_dask.make_runner(cells, scheduler=f"127.0.0.1:{port}")


def test_a_port_that_is_not_a_dask_scheduler_and_tls_without_certificates():
    """Something listens but never answers as a scheduler: a clear line after the timeout, no hang. A tls://
    address without the certificate settings: the settings to make, before any connection."""
    need_distributed()
    cells = sweep.expand_grid(sweep_base_config(), [("lr", [0.01, 0.1])])
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        port = server.getsockname()[1]
        with pytest.raises(sweep_dask.ClusterError, match=rf"^no Dask scheduler answered at tcp://127.0.0.1:{port} "
                                                          r"within 2 s \(is something else listening on that port"):
            sweep_dask.DaskSweepRunner(cells, f"tcp://127.0.0.1:{port}", connect_timeout=1.0)
        with pytest.raises(sweep_dask.ClusterError, match=rf"^tls://127.0.0.1:{port} uses TLS: set "
                                                          "DASK_DISTRIBUTED__COMM__TLS__CA_FILE"):
            sweep_dask.make_runner(cells, scheduler=f"tls://127.0.0.1:{port}")


def test_scheduler_address_from_the_environment(monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:8786")
    assert sweep_dask.scheduler_address(None) == "tcp://127.0.0.1:8786"
    assert sweep_dask.scheduler_address("") == ""           # given empty: local processes
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    assert sweep_dask.scheduler_address(None) == ""


def test_the_core_does_not_need_distributed():
    """Without ``distributed`` (hidden here as if not installed): the local sweep works, and asking for a cluster
    is one clear error naming the extra to install."""
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from rnnviz.core.explore import sweep, sweep_dask\n"
            "from rnnviz.core.presets import load_preset\n"
            "cells = sweep.expand_grid(load_preset('negation').config.replace(hidden=4, n_examples=60, epochs=1), "
            "[('lr', [0.1])])\n"
            "assert sweep.run_sweep(cells, processes=1)[0]['status'] == 'ok'\n"
            "try:\n"
            "    sweep_dask.make_runner(cells, scheduler='tcp://127.0.0.1:8786')\n"
            "except sweep_dask.ClusterError as exc:\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "a sweep on a cluster needs the 'distributed' package: pip install \"rnnviz[cluster]\"\n"
    need_distributed()
    code = "import sys, rnnviz.core.explore.sweep_dask, rnnviz.cli.explore; assert 'distributed' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
