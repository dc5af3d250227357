"""Files of a run: checkpoints (weights) and sessions (weights, optimiser, histories and position).
"""
