"""``python -m harness.cli``: the same as the ``cognito-harness`` command."""

from harness.cli import main

raise SystemExit(main())
