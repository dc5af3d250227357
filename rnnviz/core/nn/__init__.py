"""The network: cells (vanilla RNN, LSTM, GRU), the model with its output head and cross-entropy,
backpropagation through time, initialisers, optimisers and the finite-difference gradient check.
"""
