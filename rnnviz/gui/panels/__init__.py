"""One panel a module; each has ``render(snapshot)``."""
