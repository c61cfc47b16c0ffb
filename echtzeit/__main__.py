"""`python -m echtzeit`: the same as the `echtzeit` command."""

from echtzeit.cli import main

main()
