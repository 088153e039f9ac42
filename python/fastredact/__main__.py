"""`python -m fastredact` runs the command-line interface."""

from fastredact.cli import main

raise SystemExit(main())
