"""Who may call what: roles, the RPC -> role table, bearer tokens, client
certificates, TLS credentials and the listen-address policy."""
