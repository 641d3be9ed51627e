"""`python -m nps_cli`: see nps_cli.commands."""

import sys

from nps_cli.commands import main

sys.exit(main())
