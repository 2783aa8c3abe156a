"""Entry point for `python -m fastdrive_train`."""

import sys

from .cli import main

sys.exit(main())
