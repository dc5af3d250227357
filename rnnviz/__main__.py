"""``python -m rnnviz`` does what the ``rnnviz`` command does."""
import sys

from rnnviz.cli import main

sys.exit(main())
