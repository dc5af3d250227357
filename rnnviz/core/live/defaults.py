"""The training loop's defaults, in a module of their own so that the window can read them without importing the
loop (``live.child``)."""

DEFAULT_INTERVAL = 1 / 30          # seconds between snapshots, at most ~30 per second
DEFAULT_FACTORY = "rnnviz.core.train.trainer:Trainer"
SNAPSHOT_BUDGET = 0.06             # at most this share of the training time goes into making and sending snapshots
