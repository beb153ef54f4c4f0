"""SippySoft (Sippy Softswitch) over its XML-RPC API: the client (Digest auth,
safe parsing), CDR pages, and the poller that turns them into a live stream."""
