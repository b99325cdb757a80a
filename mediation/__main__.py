"""``python -m mediation …``: the same command line as the ``mediation`` script."""

from .cli import main

main()
