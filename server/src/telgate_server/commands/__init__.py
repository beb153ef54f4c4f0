"""The `telgate` subcommands other than `serve` (check-config, health, token, sim)."""
