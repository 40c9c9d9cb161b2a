"""``python -m minml.cli``."""

import sys

from minml.cli import main

sys.exit(main())
