-- router-jdbc: the email tables of JdbcActivityStore, version 2, for PostgreSQL.
-- Run once (JdbcActivityStore.createSchema(dataSource) runs it; it is idempotent). On a database at
-- version 1 it adds what version 2 added, email_delivery_report, and nothing else changes.

CREATE TABLE IF NOT EXISTS router_schema_version (
  component VARCHAR(64) PRIMARY KEY,
  version INT NOT NULL,
  script VARCHAR(200) NOT NULL,
  applied_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL
);

-- The order in which emails became Pending Send ("oldest first"); a now() default would tie within one transaction.
CREATE SEQUENCE IF NOT EXISTS email_queue_seq;
CREATE SEQUENCE IF NOT EXISTS email_tracking_number_seq START WITH 1;

-- One row per email activity, outgoing or received. status_code is the Dynamics statuscode:
-- 1 Draft, 2 Completed, 3 Sent, 4 Received, 5 Canceled, 6 Pending Send, 7 Sending, 8 Failed.
CREATE TABLE IF NOT EXISTS email_activity (
  id VARCHAR(255) PRIMARY KEY,
  -- Set again (nextval) by whoever moves a Draft to Pending Send, so the queue is in that order.
  queue_seq BIGINT DEFAULT nextval('email_queue_seq') NOT NULL,
  status_code INT NOT NULL CHECK (status_code BETWEEN 1 AND 8),
  sender_address TEXT,
  sender_name TEXT DEFAULT '' NOT NULL,
  -- The sender's address lower-cased with Locale.ROOT; COLLATE "C" orders it by code point, as the router does.
  sender_key VARCHAR(320) COLLATE "C" DEFAULT '' NOT NULL,
  subject TEXT DEFAULT '' NOT NULL,
  text_body TEXT,
  html_body TEXT,
  in_reply_to TEXT,
  -- Message-IDs separated by spaces, oldest first.
  references_list TEXT DEFAULT '' NOT NULL,
  message_id TEXT,
  -- SHA-256 (hex) of message_id: hostile Message-IDs are longer than a B-tree entry may be.
  message_id_hash CHAR(64),
  tracking_token VARCHAR(64),
  -- The token upper-cased, for case-insensitive look-ups.
  tracking_key VARCHAR(64),
  attempts INT DEFAULT 0 NOT NULL,
  next_attempt_at TIMESTAMP WITH TIME ZONE,
  claim_token VARCHAR(100),
  lease_until TIMESTAMP WITH TIME ZONE,
  last_reason TEXT,
  sent_at TIMESTAMP WITH TIME ZONE,
  -- Received mail: the dedup key, and its SHA-256 (hex) under a unique key.
  dedup_key TEXT,
  dedup_hash CHAR(64) UNIQUE,
  -- Received mail: sha256: and the SHA-256 (hex) of the whole message as read, to tell a copy of it
  -- from another message that reuses its Message-ID (ReceiveResult.contentDigest).
  content_digest VARCHAR(71),
  mailbox TEXT,
  owner_type VARCHAR(16),
  owner_id VARCHAR(255),
  regarding_activity_id VARCHAR(255),
  tracking_reason TEXT,
  dropped_attachments TEXT,
  date_header TIMESTAMP WITH TIME ZONE,
  received_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL
);
-- The claim walks this partial index: only Pending Send and Sending rows are in it, by sender, oldest first.
CREATE INDEX IF NOT EXISTS email_activity_queue ON email_activity (sender_key, queue_seq) WHERE status_code IN (6, 7);
CREATE INDEX IF NOT EXISTS email_activity_message_id ON email_activity (message_id_hash);
CREATE INDEX IF NOT EXISTS email_activity_tracking ON email_activity (tracking_key);

-- The recipients (activity parties) of each email, with Dynamics' participation codes:
-- 2 To, 3 Cc, 4 Bcc. outcome/server_reply hold what the server answered for that recipient
-- (ACCEPTED, TRANSIENT, PERMANENT; NULL while unknown). A recipient whose outcome is ACCEPTED got the
-- email: a retry after markPartlySent leaves it out (OutgoingEmail.acceptedRecipients), and so does one
-- after markRetry. A CRM that sends a Failed or Sent email again as new clears these outcomes.
CREATE TABLE IF NOT EXISTS email_activity_party (
  email_id VARCHAR(255) NOT NULL REFERENCES email_activity (id) ON DELETE CASCADE,
  participation INT NOT NULL CHECK (participation IN (2, 3, 4)),
  position INT NOT NULL,
  address TEXT NOT NULL,
  -- The address lower-cased with Locale.ROOT, to match SendResult's per-recipient outcomes.
  address_key TEXT NOT NULL,
  display_name TEXT DEFAULT '' NOT NULL,
  outcome VARCHAR(16),
  server_reply TEXT,
  PRIMARY KEY (email_id, participation, position)
);

CREATE TABLE IF NOT EXISTS email_attachment (
  email_id VARCHAR(255) NOT NULL REFERENCES email_activity (id) ON DELETE CASCADE,
  position INT NOT NULL,
  file_name TEXT NOT NULL,
  content_type VARCHAR(255) NOT NULL,
  size BIGINT NOT NULL,
  content BYTEA NOT NULL,
  PRIMARY KEY (email_id, position)
);

-- The CRM records an address belongs to (contacts, leads, users, ...); address_key is lower-cased.
CREATE TABLE IF NOT EXISTS email_party_address (
  address_key VARCHAR(320) NOT NULL,
  party_type VARCHAR(16) NOT NULL,
  party_id VARCHAR(255) NOT NULL,
  party_name TEXT DEFAULT '' NOT NULL,
  PRIMARY KEY (address_key, party_type, party_id)
);

-- Delivery status notifications about an email (ActivityStore.recordDeliveryReport): one row per
-- report and recipient. report_key is the SHA-256 (hex) of the report's Message-ID (or its mailbox and
-- ref when it has none) and the recipient, so a report read twice is kept once. action: FAILED (5.x.x),
-- DELAYED (4.x.x), DELIVERED, RELAYED, EXPANDED; status: the RFC 3463 code, e.g. 5.1.1.
CREATE TABLE IF NOT EXISTS email_delivery_report (
  email_id VARCHAR(255) NOT NULL REFERENCES email_activity (id) ON DELETE CASCADE,
  report_key CHAR(64) NOT NULL,
  report_message_id TEXT,
  original_message_id TEXT NOT NULL,
  match_rule VARCHAR(16) NOT NULL,
  envelope_id TEXT,
  reporting_mta TEXT,
  mailbox TEXT NOT NULL,
  message_ref TEXT NOT NULL,
  recipient TEXT NOT NULL,
  action VARCHAR(16) NOT NULL,
  status VARCHAR(16) NOT NULL,
  diagnostic TEXT,
  remote_mta TEXT,
  received_at TIMESTAMP WITH TIME ZONE,
  recorded_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
  PRIMARY KEY (email_id, report_key)
);

INSERT INTO router_schema_version (component, version, script)
  VALUES ('email', 2, 'dev/emailrouter/jdbc/postgresql/V2__email.sql') ON CONFLICT (component) DO UPDATE
  SET version = EXCLUDED.version, script = EXCLUDED.script, applied_at = CURRENT_TIMESTAMP
  WHERE router_schema_version.version < EXCLUDED.version;
