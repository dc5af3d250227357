"""The window's side of training: the controller (newest Snapshot, redraw pacing), the worker on its QThread
and the training process, and the Loading dialog for large files.
"""
