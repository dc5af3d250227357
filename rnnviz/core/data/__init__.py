"""Data: files and generated datasets turned into ids, lengths and targets (``load.load_dataset``), the
vocabulary with ``<pad>``/``<unk>``/``<sos>``/``<eos>`` (``text``) and padded batches (``batch``).
"""
