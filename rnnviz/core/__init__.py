"""The Qt-free NumPy core of rnnviz."""
