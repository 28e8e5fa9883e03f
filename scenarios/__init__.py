"""The scenario suites: one module per family, each check a small declarative unit with a stable ID.

Modules register their checks with ``harness.runner.scenario.scenario``; the
runner imports the modules listed in ``harness.runner.scenario.SCENARIO_MODULES``.
"""
