-- router-jdbc: the mailbox lease tables of JdbcMailboxLeases, version 1, for PostgreSQL.
-- Run once (JdbcMailboxLeases.createSchema(dataSource) runs it; it is idempotent).
-- Every time in these tables is the database's clock: the nodes' own clocks may differ.

CREATE TABLE IF NOT EXISTS router_schema_version (
  component VARCHAR(64) PRIMARY KEY,
  version INT NOT NULL,
  script VARCHAR(200) NOT NULL,
  applied_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL
);

-- One row per mailbox ever leased; a released or expired lease keeps its row and its token, so the
-- next acquisition gets a greater one.
CREATE TABLE IF NOT EXISTS router_mailbox_lease (
  -- SHA-256 (hex) of the mailbox name, as in router_mailbox_checkpoint.
  mailbox_hash CHAR(64) PRIMARY KEY,
  mailbox TEXT NOT NULL,
  owner VARCHAR(200) NOT NULL,
  -- Grows by one at every acquisition: the fencing token of checkpoint writes.
  fencing_token BIGINT NOT NULL,
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
  acquired_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- The engines alive now: each announces itself at every tick, to size its fair share of mailboxes.
CREATE TABLE IF NOT EXISTS router_lease_owner (
  owner VARCHAR(200) PRIMARY KEY,
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL
);

INSERT INTO router_schema_version (component, version, script)
  VALUES ('lease', 1, 'dev/emailrouter/jdbc/postgresql/V1__lease.sql') ON CONFLICT (component) DO NOTHING;
