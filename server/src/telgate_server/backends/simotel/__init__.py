"""The Simotel backend: its REST API (v4) and the webhooks it sends."""
