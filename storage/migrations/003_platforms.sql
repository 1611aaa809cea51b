-- 003_platforms: Slack and Mattermost in one process (issue 5), and channel names (issue 3).

-- Which platform an outbox item goes to: core::route_of(action), '' for the first platform (Slack, the console),
-- 'mm' for Mattermost. Each adapter reads only its own, so one platform being down holds up nothing of another.
ALTER TABLE outbox ADD COLUMN route TEXT NOT NULL DEFAULT '';
-- pending_on: a route's unsent items, oldest first.
CREATE INDEX outbox_pending_by_route ON outbox (route, id) WHERE sent_at IS NULL;

-- What the platforms said channels are called, so documents show #name rather than an id.
CREATE TABLE channels (
  id   TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
