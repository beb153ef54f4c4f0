"""simdiff: the simulator measured against a real Asterisk, scenario by scenario.

``python -m telgate_server.simulator.compare`` (``make simdiff``) runs each
scenario (scenarios/) over a raw AMI socket against a fresh real lab and
against a fresh :class:`~telgate_server.simulator.AmiSimulator`, then prints
the messages that differ in shape (normalize.py, groups.py) and the share of
messages identical in shape per scenario and overall.
"""
