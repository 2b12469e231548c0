"""CLI subcommands: each module exposes ``register(subparsers)`` and sets ``func`` to a
``run(args) -> int`` so the composition root (engine.cli) stays a list of names."""
