"""Call detail records: the neutral model, the store (SQLite by default), the
ingest pipeline that makes them durable, and the replay-then-follow stream."""
