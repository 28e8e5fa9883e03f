"""The scenario runner: target specs, launcher, scenarios, engine, CLI commands."""
