"""The Qt-free NumPy core of rnnviz: data, model, BPTT, training, snapshots.

    from rnnviz.core import Config, Trainer, RNNModel, load_dataset, make_batch
"""
from importlib import import_module

# name -> module: each is imported on first use (PEP 562), so importing one small part of the core (its errors, its
# settings) does not load NumPy, the model and the Trainer
_EXPORTS = {"Config": "config", "IGNORE": "data.batch", "Batch": "data.batch", "Dataset": "data.batch",
            "make_batch": "data.batch", "load_dataset": "data.load", "CheckpointError": "errors",
            "ConfigError": "errors", "DataError": "errors", "RnnvizError": "errors", "TrainingFault": "errors",
            "RNNModel": "nn.model", "count_params": "nn.params", "Trainer": "train.trainer"}

__all__ = ["IGNORE", "Batch", "Dataset", "make_batch", "Config", "load_dataset", "CheckpointError", "ConfigError",
           "DataError", "RnnvizError", "TrainingFault", "RNNModel", "count_params", "Trainer"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f"rnnviz.core.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rnnviz.core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
