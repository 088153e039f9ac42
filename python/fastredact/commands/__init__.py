"""One module per CLI subcommand.

Each module exposes ``register(subparsers)``, which adds its parser and sets
``handler=<function taking the parsed args and returning an exit code>``. The modules only
parse, call the public API and print; the logic lives in the API.
"""

EXIT_OK = 0
"""Every input was processed."""
EXIT_SOME_FAILED = 1
"""Some inputs failed (each has its error line / manifest row); the others were processed."""
EXIT_USAGE = 2
"""Bad usage or a setup error (missing model, output inside input, …); nothing was processed."""
