"""rnnviz: train a small recurrent neural network live and watch it learn."""
__version__ = "0.1.0"
