"""A fake Simotel: its v4 REST API over real HTTP, and calls that fire webhooks."""
