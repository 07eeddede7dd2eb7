-- router-jdbc: the checkpoint table of JdbcCheckpointStore, version 1, for PostgreSQL.
-- Run once (JdbcCheckpointStore.createSchema(dataSource) runs it; it is idempotent).

CREATE TABLE IF NOT EXISTS router_schema_version (
  component VARCHAR(64) PRIMARY KEY,
  version INT NOT NULL,
  script VARCHAR(200) NOT NULL,
  applied_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS router_mailbox_checkpoint (
  -- SHA-256 (hex) of the mailbox name: names may be longer than a key may be.
  mailbox_hash CHAR(64) PRIMARY KEY,
  mailbox TEXT NOT NULL,
  cursor_value TEXT NOT NULL,
  -- JSON object: message reference -> failed attempts.
  failures TEXT NOT NULL,
  -- The fencing token of the mailbox lease the last fenced write was made under (JdbcMailboxLeases).
  lease_token BIGINT,
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL
);

INSERT INTO router_schema_version (component, version, script)
  VALUES ('checkpoint', 1, 'dev/emailrouter/jdbc/postgresql/V1__checkpoint.sql') ON CONFLICT (component) DO NOTHING;
