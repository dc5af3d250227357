"""The training process behind the window: the loop that drives a Trainer between commands and emits
Snapshots on its own clock.
"""
