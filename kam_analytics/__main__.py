"""`python -m kam_analytics`: the command line."""

import sys

from kam_analytics.cli import main

sys.exit(main())
