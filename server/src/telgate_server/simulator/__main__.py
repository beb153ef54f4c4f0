"""``python -m telgate_server.simulator``."""

from .cli import main

main()
