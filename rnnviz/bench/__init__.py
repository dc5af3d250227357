"""``rnnviz bench``: the NumPy core's training step against PyTorch CPU, the machine's matmul peak, and what the
window costs training. ``flops`` (FLOP counts, peak, timing helpers), ``core`` (the grid of training steps),
``report`` (targets, table, JSON, the command); the window figures are in ``rnnviz.gui.windows.bench_window``."""
from rnnviz.bench.report import cmd_bench, run

__all__ = ["cmd_bench", "run"]
