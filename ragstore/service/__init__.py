"""Use cases and their transaction boundaries: what the API, the CLI, the worker, the importers and the archive call.

A service function that changes data runs in one tenant transaction: its own, or the caller's when it is given
`conn` (procrastinate's manager methods take one the same way), so that a use case spanning several calls commits
once or not at all. Where a use case must span transactions (embedding, which is slow, happens outside one), its
function says why.

`Database` and `Connection` are re-exported here for the layers above, which name them in annotations and scope
transactions with `db.transaction(tenant_id)`, but never import ragstore.store themselves.
"""

from ragstore.store.db import Connection, Database

__all__ = ["Connection", "Database"]
