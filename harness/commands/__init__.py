"""CLI subcommands: each module exposes ``register(subparsers)``; see harness.cli."""
