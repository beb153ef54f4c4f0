"""Fake switches for tests and the demo: real protocols over real sockets."""
