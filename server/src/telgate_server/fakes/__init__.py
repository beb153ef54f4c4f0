"""Fakes of the PBXs the gateway links to, speaking their real wire protocols."""
