"""Training: the Trainer (batches, BPTT, clipping, optimiser, evaluation), bounded histories, metrics and
the confusion matrix's example lists.
"""
