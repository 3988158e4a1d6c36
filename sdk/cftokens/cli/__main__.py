"""``python -m cftokens.cli``: the same as the ``cftokens`` console script."""

from . import main

raise SystemExit(main())
