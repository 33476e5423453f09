"""``python -m bnncompare.gate BASE.json NEW.json``: the same as ``bnncompare compare``."""

import sys

from bnncompare.gate.cli import main

__all__: list = []

sys.exit(main())
