"""``python -m cftokens``: the same as the ``cftokens`` console script."""

from .cli import main

raise SystemExit(main())
