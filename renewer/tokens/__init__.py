"""The token-sink feature, in one room (product.md §1.2-1.3, seed 003).

* ``sink``      one pass over one token file: read → look up → drift guard → renew, or heal;
* ``heal``      mint with the clobbering token's authority, accept, write atomically, sweep;
                also ``renewer mint``;
* ``forecast``  ``--dry-run`` and ``check``: a heal's outcome predicted read-only;
* ``sweep``     the anti-sprawl sweep: ledger candidates and the full accessor scan;
* ``ledger``    the accessors of ours renewer has seen (``ledger.json`` in the state dir);
* ``owner``     this installation's owner id, the ``renewer_machine`` mark of what it mints;
* ``tokenfile`` reading a token file without trusting it, replacing it atomically;
* ``env``, ``results``  what a pass needs and what it reports;
* ``helper``, ``helper_entry``, ``helper_install``, ``kept``  the vault/bao CLI token
                helper: a login keeps (or heals into) our periodic token.

The decisions are pure and live in ``renewer.core`` (``drift``, ``heal``, ``sweep``,
``ledger``, ``owner``, ``renewal``, ``helper``, ``cliconfig``), one hop away. This
``__init__`` imports nothing: the CLI token helper's ``get`` (``helper_entry``, run before
every ``vault``/``bao`` command) loads nothing but this package and ``os``.
"""
