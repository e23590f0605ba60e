-- Read replicas (store/replicas.py): their health, their replay, and the primary's WAL position that reads wait for.

-- replica_health --
-- A standby answers in recovery; one that answers out of recovery was promoted (or is not a standby at all).
SELECT pg_is_in_recovery() AS in_recovery, pg_last_wal_replay_lsn()::text AS replayed

-- replica_replayed --
SELECT pg_last_wal_replay_lsn()::text AS replayed

-- primary_wal_position --
-- After a commit: at or past the commit record, which a replica must replay for the write to show there.
SELECT pg_current_wal_lsn()::text AS position

-- transaction_wrote --
-- Before a commit: whether this transaction wrote (it has a transaction id only then).
SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS wrote

-- enter_tenant_read_only --
-- The start of a read: enter_tenant, read-only, so that a read that would write fails on the primary as on a replica.
SELECT set_config('transaction_read_only', 'on', true), set_config('role', 'ragstore_app', true),
       set_config('ragstore.tenant_id', %(tenant_id)s, true)
