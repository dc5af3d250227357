"""Windows other than the main one: the A/B race, the sweep, and the offscreen window used by ``render`` and
``bench``.
"""
