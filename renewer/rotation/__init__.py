"""Blue/green rotation of credentials, resumable across oneshot runs (product.md §4).

``machine`` is the pure state machine (a transition table, as h11 does for
HTTP); ``schedule`` decides when a rotation is due; ``store`` persists one
state file per rotation; ``drive`` walks the machine, persisting each step
before its side effect; ``targets`` are what can be rotated; ``runner`` is
the shell that ``renewer run`` and ``renewer rotate`` call.
"""
