"""Operating the gateway: metrics, structured logs, the per-RPC interceptor
and graceful shutdown."""
