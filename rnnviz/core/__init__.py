"""The Qt-free NumPy core of rnnviz: data, model, BPTT, training, snapshots.

    from rnnviz.core import Config, Trainer, RNNModel, load_dataset, make_batch
"""
from rnnviz.core.config import Config
from rnnviz.core.data.batch import IGNORE, Batch, Dataset, make_batch
from rnnviz.core.data.load import load_dataset
from rnnviz.core.errors import CheckpointError, ConfigError, DataError, RnnvizError, TrainingFault
from rnnviz.core.nn.model import RNNModel, count_params
from rnnviz.core.train.trainer import Trainer

__all__ = ["IGNORE", "Batch", "Dataset", "make_batch", "Config", "load_dataset", "CheckpointError", "ConfigError",
           "DataError", "RnnvizError", "TrainingFault", "RNNModel", "count_params", "Trainer"]
