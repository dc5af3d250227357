"""``python -m rnnviz`` does what the ``rnnviz`` command does."""
import sys

from .cli import main

sys.exit(main())
