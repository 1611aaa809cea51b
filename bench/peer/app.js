// The peer kintsugi is measured against (issue 6): the bot a team would write instead, with Bolt for JavaScript in
// Socket Mode and better-sqlite3, the way Bolt's getting-started guide has you write an app. It does the same job
// as kintsugi's capture: acknowledge each event, store each message of the channel in SQLite (WAL), and answer
// `/incident start <title>` with a post in the channel.
//
// Where its guarantees differ from kintsugi's (bench/README.md says more):
//   - Bolt acknowledges an event before the listener runs, so an event acked is not yet stored: a crash in between
//     loses it, and Slack will not send it again. kintsugi acks only what is committed.
//   - Messages said while the socket was down are not fetched again (no backfill from conversations.history).
//   - Each insert is its own transaction (better-sqlite3 runs statements synchronously, in autocommit).
//
// Configured by the environment: SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_API_URL (the Web API base, ending in
// "/api/"), PEER_DB (the SQLite file), and NODE_EXTRA_CA_CERTS to trust a local Slack's certificate.
const { App, LogLevel } = require('@slack/bolt');
const Database = require('better-sqlite3');

const db = new Database(process.env.PEER_DB || 'peer.db');
db.pragma('journal_mode = WAL');
db.exec(`
  CREATE TABLE IF NOT EXISTS incidents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    title       TEXT NOT NULL,
    declared_by TEXT NOT NULL,
    declared_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS messages (
    id       INTEGER PRIMARY KEY,
    channel  TEXT NOT NULL,
    user     TEXT,
    ts       TEXT NOT NULL,
    text     TEXT NOT NULL,
    event_id TEXT,
    UNIQUE (channel, ts)
  );
`);
const insertIncident = db.prepare(
  'INSERT INTO incidents (channel, title, declared_by, declared_at) VALUES (?, ?, ?, ?)');
const insertMessage = db.prepare(
  'INSERT OR IGNORE INTO messages (channel, user, ts, text, event_id) VALUES (?, ?, ?, ?, ?)');

const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  appToken: process.env.SLACK_APP_TOKEN,
  socketMode: true,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  logLevel: LogLevel.WARN,
});

// Every message in a channel the app is in.
app.message(async ({ message, body }) => {
  insertMessage.run(message.channel, message.user ?? null, message.ts, message.text ?? '', body.event_id ?? null);
});

app.command('/incident', async ({ command, ack, client }) => {
  await ack();
  const [verb, ...words] = command.text.trim().split(/\s+/);
  if (verb !== 'start') {
    await client.chat.postEphemeral({
      channel: command.channel_id,
      user: command.user_id,
      text: 'Try `/incident start <title>`.',
    });
    return;
  }
  const title = words.join(' ') || 'Untitled incident';
  const { lastInsertRowid } = insertIncident.run(command.channel_id, title, command.user_id, new Date().toISOString());
  await client.chat.postMessage({
    channel: command.channel_id,
    text: `Incident #${lastInsertRowid} declared: ${title}. Everything said here goes into its timeline.`,
  });
});

process.on('SIGTERM', async () => {
  await app.stop();
  db.close();
  process.exit(0);
});

(async () => {
  await app.start();
  app.logger.info('peer is running');
})();
