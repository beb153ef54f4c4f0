"""Live call routing: the neutral queries and decisions, and the routers' registry."""
