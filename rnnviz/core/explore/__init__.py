"""What the window explores beyond training itself: the slow-motion BPTT trace, the typed probe, the replay
buffer, the A/B race and the sweep.
"""
