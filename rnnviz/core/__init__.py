"""The Qt-free NumPy core of rnnviz: data, model, BPTT, training, snapshots.

    from rnnviz.core import Config, Trainer, RNNModel, load_dataset, make_batch
"""
from .batch import IGNORE, Batch, Dataset, make_batch
from .config import Config
from .data import load_dataset
from .errors import CheckpointError, ConfigError, DataError, RnnvizError, TrainingFault
from .model import RNNModel, count_params
from .trainer import Trainer

__all__ = ["IGNORE", "Batch", "Dataset", "make_batch", "Config", "load_dataset", "CheckpointError", "ConfigError",
           "DataError", "RnnvizError", "TrainingFault", "RNNModel", "count_params", "Trainer"]
