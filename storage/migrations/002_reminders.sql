-- 002_reminders: what the bot follows up on its own (issue 4), and the look-back's answer.

-- One row per thing the bot will say when `due` comes; at most one per (kind, subject, detail). A row is
-- updated (next time, count + 1) or deleted in the same transaction that queues its message, so it fires
-- once, and a restart finds it again.
CREATE TABLE reminders (
  id      INTEGER PRIMARY KEY,
  kind    TEXT    NOT NULL,             -- core::name(reminder_kind): 'role-ask', 'action-due', ...
  subject INTEGER NOT NULL,             -- an incident id, an action item id, or 0 (the digest)
  detail  TEXT    NOT NULL DEFAULT '',  -- the role for 'role-ask'
  due     INTEGER NOT NULL,
  since   INTEGER NOT NULL,
  count   INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0)
) STRICT;
CREATE UNIQUE INDEX reminders_by_subject ON reminders (kind, subject, detail);
-- next_reminder_due and due_reminders: the earliest rows, without a scan.
CREATE INDEX reminders_by_due ON reminders (due, id);

-- /incident nudge stop turns the commander's update nudges off for one incident.
ALTER TABLE incidents ADD COLUMN nudges INTEGER NOT NULL DEFAULT 1 CHECK (nudges IN (0, 1));
-- The answer to "did the fix hold?": core::name(fix_check), NULL until answered.
ALTER TABLE action_items ADD COLUMN fix_held TEXT;
