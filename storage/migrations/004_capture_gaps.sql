-- 004_capture_gaps: where a backfill picks up, kept across restarts (core/capture_gaps.hpp).

-- A channel the bot could not hear from `since` until a connection came back, and no backfill has filled yet.
-- `openings` counts the times it was opened again meanwhile, so that a backfill closes only the gap it read.
CREATE TABLE capture_gaps (
  channel  TEXT    NOT NULL PRIMARY KEY,
  since    INTEGER NOT NULL,
  openings INTEGER NOT NULL DEFAULT 1
) STRICT, WITHOUT ROWID;
