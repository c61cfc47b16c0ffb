"""The application layer: the `echtzeit` command, the wiring of a process and its supervisor.

The top floor of the house: it may import `integrations`, `commands` and `bot`; nothing imports
it (import-linter checks both).
"""
