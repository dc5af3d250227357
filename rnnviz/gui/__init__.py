"""The window: the only part of rnnviz that knows Qt. Panels draw Snapshots; they compute nothing."""
