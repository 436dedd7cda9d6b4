"""`python -m request_llms list | ask | check | pull`: see request_llms/cli.py."""

import sys

from .cli import main

sys.exit(main())
