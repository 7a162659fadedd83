"""``python -m parsec_teams`` runs the mock server (same as ``python -m parsec_teams.mock``)."""

import sys

from .mock import main

if __name__ == "__main__":
    sys.exit(main())
