"""The ``inro`` command line (``inro --help``)."""

from inro_async.cli.main import main

__all__ = ["main"]
