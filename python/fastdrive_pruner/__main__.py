# __main__.py — `python -m fastdrive_pruner`: the same command line as `fastdrive-py`.
from .cli import main

raise SystemExit(main())
