"""pytest support: the ``cognito_*`` fixtures (``plugin``, the package's pytest11 entry point) and the
runner's pytest mode (``target_mode``: ``pytest --cognito-target spec.toml``)."""
