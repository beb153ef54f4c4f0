"""The FastAGI server of the AMI backend: Asterisk's ``AGI(agi://host:port/route)``
asks a router (routing.RouteDesk) what to do with a live call.

``protocol`` (sans-I/O framing and quoting), ``steps`` (a decision rendered
into AGI commands), ``session`` (one request: query, decision, follow-ups),
``server`` (the asyncio listener)."""
