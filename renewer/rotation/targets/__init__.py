"""What can be rotated: one small protocol (:mod:`.base`), one module per kind."""
