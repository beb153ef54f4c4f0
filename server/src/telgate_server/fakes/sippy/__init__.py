"""A fake Sippy Softswitch XML-RPC endpoint (see server.py)."""
