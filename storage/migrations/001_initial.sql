-- 001_initial: the first schema of a kintsugi database.
--
-- Conventions, for every table:
--   instants    INTEGER microseconds since the Unix epoch, UTC (core::timestamp)
--   dates       TEXT 'YYYY-MM-DD' (core::date)
--   enums       TEXT holding core::name() of the value ('sev1', 'near-miss', 'commander', ...)
--   flags       INTEGER 0 or 1
--   optional    NULL when absent
-- Enum columns have no CHECK on purpose: a new enum value must not need a table rebuild. The code
-- reading them rejects an unknown name with store_error.

-- Every inbound event by its idempotency key, so that a redelivery changes nothing. Keys grow with
-- time (channel + message ts), so the table is appended to, not scattered.
CREATE TABLE inbox (
  event_key TEXT    NOT NULL PRIMARY KEY,
  seen_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE incidents (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,  -- 1, 2, 3... per database; never reused
  title             TEXT    NOT NULL,
  severity          TEXT    NOT NULL,
  status            TEXT    NOT NULL,
  channel           TEXT    NOT NULL,  -- where the incident is run
  origin_channel    TEXT    NOT NULL,  -- where it was declared
  dedicated_channel INTEGER NOT NULL DEFAULT 0 CHECK (dedicated_channel IN (0, 1)),
  declared_by       TEXT    NOT NULL,
  declared_at       INTEGER NOT NULL,
  service           TEXT    NOT NULL DEFAULT '',
  -- milestones, one column per core::milestone
  began_at          INTEGER,
  detected_at       INTEGER,
  acknowledged_at   INTEGER,
  mitigated_at      INTEGER,
  resolved_at       INTEGER,
  -- roles, one column per core::role; '' = open
  commander         TEXT    NOT NULL DEFAULT '',
  scribe            TEXT    NOT NULL DEFAULT '',
  facilitator       TEXT    NOT NULL DEFAULT '',
  summary           TEXT    NOT NULL DEFAULT '',
  impact            TEXT    NOT NULL DEFAULT '',
  review_at         INTEGER
) STRICT;
-- incident_in_channel: the newest incident of a channel.
CREATE INDEX incidents_by_channel ON incidents (channel, id);
-- incidents_since, actions_since.
CREATE INDEX incidents_by_declared_at ON incidents (declared_at, id);
-- open_incidents.
CREATE INDEX incidents_open ON incidents (id) WHERE status <> 'resolved';

CREATE TABLE timeline_entries (
  id          INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id),
  at          INTEGER NOT NULL,
  author      TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  text        TEXT    NOT NULL,
  source_id   TEXT,              -- platform message id; NULL for the bot's own entries
  edited      INTEGER NOT NULL DEFAULT 0 CHECK (edited IN (0, 1)),
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  is_key      INTEGER NOT NULL DEFAULT 0 CHECK (is_key IN (0, 1)),
  edited_at   INTEGER,
  deleted_at  INTEGER
) STRICT;
-- entry_by_source; a platform message is captured once.
CREATE UNIQUE INDEX timeline_by_source ON timeline_entries (source_id) WHERE source_id IS NOT NULL;
-- timeline: an incident's entries in time order, ties by insertion.
CREATE INDEX timeline_by_incident ON timeline_entries (incident_id, at, id);

-- Earlier texts of edited entries.
CREATE TABLE revisions (
  id          INTEGER PRIMARY KEY,
  entry_id    INTEGER NOT NULL REFERENCES timeline_entries (id),
  replaced_at INTEGER NOT NULL,
  text        TEXT    NOT NULL
) STRICT;
CREATE INDEX revisions_by_entry ON revisions (entry_id, replaced_at, id);

CREATE TABLE whys (
  id          INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id),
  position    INTEGER NOT NULL CHECK (position > 0),  -- 1-based, in the order they were asked
  text        TEXT    NOT NULL,
  author      TEXT    NOT NULL,
  at          INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX whys_by_incident ON whys (incident_id, position);

CREATE TABLE factors (
  id          INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id),
  kind        TEXT    NOT NULL,
  text        TEXT    NOT NULL,
  author      TEXT    NOT NULL,
  at          INTEGER NOT NULL
) STRICT;
CREATE INDEX factors_by_incident ON factors (incident_id, id);

CREATE TABLE lessons (
  id          INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id),
  kind        TEXT    NOT NULL,
  text        TEXT    NOT NULL,
  author      TEXT    NOT NULL,
  at          INTEGER NOT NULL
) STRICT;
CREATE INDEX lessons_by_incident ON lessons (incident_id, id);

CREATE TABLE action_items (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- global per database ("action done 7"); never reused
  incident_id   INTEGER NOT NULL REFERENCES incidents (id),
  text          TEXT    NOT NULL,
  owner         TEXT    NOT NULL,
  due           TEXT,             -- 'YYYY-MM-DD'
  kind          TEXT    NOT NULL,
  status        TEXT    NOT NULL,
  created_by    TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  closed_at     INTEGER,
  snoozed_until INTEGER
) STRICT;
CREATE INDEX action_items_by_incident ON action_items (incident_id, id);
-- open_actions: the reminder loop's working set.
CREATE INDEX action_items_open ON action_items (id) WHERE status = 'open';

CREATE TABLE users (
  id           TEXT NOT NULL PRIMARY KEY,
  display_name TEXT NOT NULL DEFAULT '',
  tz           TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

-- Postmortem documents as they were posted.
CREATE TABLE documents (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents (id),
  written_at  INTEGER NOT NULL,
  markdown    TEXT    NOT NULL
) STRICT;
CREATE INDEX documents_by_incident ON documents (incident_id, id);

-- What to send to the platform, written in the same transaction as the event that caused it.
CREATE TABLE outbox (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so a late mark_sent cannot hit a newer row
  action    TEXT    NOT NULL,                   -- JSON: {"type": "post_message", "channel": ..., ...}
  queued_at INTEGER NOT NULL,
  attempts  INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  sent_at   INTEGER                             -- NULL until delivered
) STRICT;
-- pending: unsent items, oldest first.
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
