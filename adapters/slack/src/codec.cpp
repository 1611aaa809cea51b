// The Slack codec, inbound: Socket Mode frames, timestamps and ids, and the Events API mapping.
#include "slack/codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "codec_detail.hpp"

namespace kintsugi::slack {

using detail::as_str;
using detail::element;
using detail::member;
using detail::obj;
using detail::str;

// ---- frames ----

std::string_view name(disconnect_reason r) {
  switch (r) {
    case disconnect_reason::warning: return "warning";
    case disconnect_reason::refresh_requested: return "refresh_requested";
    case disconnect_reason::link_disabled: return "link_disabled";
    case disconnect_reason::too_many_websockets: return "too_many_websockets";
    case disconnect_reason::other: return "other";
  }
  return "other";
}

std::string_view name(envelope_type t) {
  switch (t) {
    case envelope_type::events_api: return "events_api";
    case envelope_type::slash_commands: return "slash_commands";
    case envelope_type::interactive: return "interactive";
    case envelope_type::other: return "other";
  }
  return "other";
}

namespace {

disconnect_reason reason_of(std::string_view s) {
  for (auto r : {disconnect_reason::warning, disconnect_reason::refresh_requested, disconnect_reason::link_disabled,
                 disconnect_reason::too_many_websockets}) {
    if (s == name(r)) return r;
  }
  return disconnect_reason::other;
}

envelope_type envelope_type_of(std::string_view s) {
  for (auto t : {envelope_type::events_api, envelope_type::slash_commands, envelope_type::interactive}) {
    if (s == name(t)) return t;
  }
  return envelope_type::other;
}

int small_int(const std::optional<element>& m) {
  const auto v = json_read::integer_of(m);
  return v < 0 || v > 1'000'000 ? 0 : static_cast<int>(v);
}

int small_int(element j, std::string_view key) { return small_int(member(j, key)); }

// The end of the JSON value starting at text[i] (a string, or an object or array with everything nested in it,
// or a scalar), or npos when the text ends first. Only for text already known to be valid JSON.
std::size_t value_end(std::string_view text, std::size_t i) {
  if (i >= text.size()) return std::string_view::npos;
  if (text[i] == '"') {
    // The next quote that no backslash escapes (memchr scans many bytes at a time).
    for (std::size_t from = i + 1; from < text.size();) {
      const void* q = std::memchr(text.data() + from, '"', text.size() - from);
      if (q == nullptr) return std::string_view::npos;
      const auto at = static_cast<std::size_t>(static_cast<const char*>(q) - text.data());
      std::size_t slashes = 0;
      while (at - slashes > i + 1 && text[at - slashes - 1] == '\\') ++slashes;
      if (slashes % 2 == 0) return at + 1;
      from = at + 1;
    }
    return std::string_view::npos;
  }
  if (text[i] == '{' || text[i] == '[') {
    int depth = 0;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '"') {
        i = value_end(text, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']') ++i;
  return i;
}

std::size_t skip_space(std::string_view text, std::size_t i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  return i;
}

// The text of the top-level member `key` of the valid JSON object `text`: the last one when the key is repeated,
// as nlohmann keeps it (empty when absent, or when the key is written with escapes, which Slack does not do).
std::string_view raw_member(std::string_view text, std::string_view key) {
  std::string_view found;
  std::size_t i = skip_space(text, 0);
  if (i >= text.size() || text[i] != '{') return {};
  i = skip_space(text, i + 1);
  while (i < text.size() && text[i] == '"') {
    const std::size_t key_end = value_end(text, i);
    if (key_end == std::string_view::npos) return {};
    const std::string_view name = text.substr(i + 1, key_end - i - 2);
    i = skip_space(text, key_end);
    if (i >= text.size() || text[i] != ':') return {};
    i = skip_space(text, i + 1);
    const std::size_t end = value_end(text, i);
    if (end == std::string_view::npos) return {};
    if (name == key) found = text.substr(i, end - i);
    i = skip_space(text, end);
    if (i >= text.size() || text[i] != ',') return found;
    i = skip_space(text, i + 1);
  }
  return found;
}

// An Events API body (Events API section below).
events_api_result decode_events_api_body(element body, const context& ctx);

frame decode_frame_unchecked(std::string_view text, const context* ctx) {
  if (text.empty()) return malformed{"empty frame"};
  const detail::parsed doc(text);
  if (!doc.ok()) return malformed{"not JSON"};
  const element j = doc.root();
  if (!j.is_object()) return malformed{"not a JSON object"};

  // Envelopes carry an envelope_id; hello and disconnect do not.
  enum : std::size_t { k_envelope_id, k_type, k_accepts, k_retry_attempt, k_retry_reason, k_payload };
  static constexpr std::array<std::string_view, 6> keys{"envelope_id",   "type",         "accepts_response_payload",
                                                        "retry_attempt", "retry_reason", "payload"};
  const json_read::fields<keys.size()> f(j, keys);
  if (const auto& id = f[k_envelope_id]) {
    if (as_str(*id).empty()) return malformed{"envelope_id is not a string"};
    envelope e;
    e.envelope_id = std::string(as_str(*id));
    e.type_text = std::string(json_read::str_of(f[k_type]));
    e.type = envelope_type_of(e.type_text);
    e.accepts_response_payload = json_read::boolean_of(f[k_accepts]);
    e.retry_attempt = small_int(f[k_retry_attempt]);
    e.retry_reason = std::string(json_read::str_of(f[k_retry_reason]));
    const auto& payload = f[k_payload];
    if (!payload || !payload->is_object()) {
      e.payload = "{}";
      return e;
    }
    if (ctx != nullptr && e.type == envelope_type::events_api) {
      e.events = decode_events_api_body(*payload, *ctx);
      return e;
    }
    // The payload's own text, as sent (the frame is valid JSON by now).
    const auto raw = raw_member(text, "payload");
    e.payload = raw.empty() ? json_read::to_text(*payload) : std::string(raw);
    return e;
  }

  const auto& type = f[k_type];
  if (!type) return malformed{"no type"};
  if (!type->is_string()) return malformed{"type is not a string"};
  const std::string_view t = as_str(*type);
  if (t == "hello") {
    hello h;
    h.app_id = std::string(str(obj(j, "connection_info"), "app_id"));
    h.num_connections = small_int(j, "num_connections");
    h.approximate_connection_time = detail::integer(obj(j, "debug_info"), "approximate_connection_time");
    if (h.approximate_connection_time < 0) h.approximate_connection_time = 0;
    return h;
  }
  if (t == "disconnect") {
    disconnect d;
    d.reason_text = std::string(str(j, "reason"));
    d.reason = reason_of(d.reason_text);
    return d;
  }
  return malformed{"unknown frame type '" + std::string(t.substr(0, 64)) + "'"};
}

frame decode_frame(std::string_view text, const context* ctx) {
  try {
    return decode_frame_unchecked(text, ctx);
  } catch (const std::exception& e) {  // only allocation failures can get here
    return malformed{e.what()};
  }
}

}  // namespace

frame decode_frame(std::string_view text) { return decode_frame(text, nullptr); }

frame decode_frame(std::string_view text, const context& ctx) { return decode_frame(text, &ctx); }

namespace {
// `text` as a JSON string literal, appended to `out` (what nlohmann's dump writes for it, without building a value).
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}
}  // namespace

std::string encode_ack(std::string_view envelope_id, std::string_view payload_json) {
  using detail::json;
  if (payload_json.empty()) {  // most acks: one per envelope, so written directly
    std::string out;
    out.reserve(envelope_id.size() + 20);
    out += R"({"envelope_id":)";
    append_json_string(out, envelope_id);
    out += '}';
    return out;
  }
  json ack = json::object();
  ack["envelope_id"] = std::string(envelope_id);
  if (!payload_json.empty()) {
    json payload = json_access::parse(payload_json);
    if (!payload.is_discarded() && payload.is_object()) ack["payload"] = std::move(payload);
  }
  return detail::dump(ack);
}

// ---- timestamps and ids ----

std::optional<core::timestamp> parse_ts(std::string_view ts) {
  auto dot = ts.find('.');
  std::string_view whole = ts.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : ts.substr(dot + 1);
  if (whole.empty() || whole.size() > 12) return std::nullopt;  // 12 digits: beyond year 30000
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  std::int64_t micros = 0;
  std::size_t used = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    if (used < 6) {
      micros = micros * 10 + (c - '0');
      ++used;
    }
  }
  for (; used < 6; ++used) micros *= 10;
  return core::timestamp{std::chrono::seconds{seconds} + std::chrono::microseconds{micros}};
}

std::string format_ts(core::timestamp t) {
  const auto us = t.time_since_epoch().count();
  auto seconds = us / 1'000'000;
  auto micros = us % 1'000'000;
  if (micros < 0) {  // before 1970: Slack has no such ts, but keep the arithmetic honest
    micros += 1'000'000;
    seconds -= 1;
  }
  std::array<char, 8> frac{};
  auto m = static_cast<std::uint32_t>(micros);
  for (std::size_t i = 6; i-- > 0;) {
    frac[i] = static_cast<char>('0' + m % 10);
    m /= 10;
  }
  return std::to_string(seconds) + "." + std::string(frac.data(), 6);
}

std::string message_id(std::string_view channel, std::string_view ts) {
  std::string id;
  id.reserve(channel.size() + 1 + ts.size());
  id.append(channel).append(":").append(ts);
  return id;
}

std::optional<message_ref> split_message_id(std::string_view id) {
  auto colon = id.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == id.size()) return std::nullopt;
  return message_ref{std::string(id.substr(0, colon)), std::string(id.substr(colon + 1))};
}

std::string unescape_text(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, char>, 3> entities{
      {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}}};
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;  // text before this is in `out`
  for (std::size_t amp = text.find('&'); amp != std::string_view::npos; amp = text.find('&', amp + 1)) {
    const auto entity = std::find_if(entities.begin(), entities.end(),
                                     [rest = text.substr(amp)](const auto& e) { return rest.starts_with(e.first); });
    if (entity == entities.end()) continue;
    out.append(text.substr(copied, amp - copied));
    out += entity->second;
    copied = amp + entity->first.size();
    amp = copied - 1;
  }
  out.append(text.substr(copied));
  return out;
}

// ---- messages ----

namespace {

// The members of a message (or message event) kintsugi reads, found in one pass over it.
enum message_key : std::size_t {
  m_type,
  m_subtype,
  m_channel,
  m_ts,
  m_event_ts,
  m_user,
  m_bot_id,
  m_username,
  m_text,
  m_files,
  m_attachments,
  m_thread_ts,
  m_keys
};
constexpr std::array<std::string_view, m_keys> message_keys{"type",     "subtype", "channel", "ts",
                                                            "event_ts", "user",    "bot_id",  "username",
                                                            "text",     "files",   "attachments", "thread_ts"};
struct message_fields : json_read::fields<m_keys> {
  explicit message_fields(element msg) : fields(msg, message_keys) {}
  std::string_view str(message_key k) const { return json_read::str_of((*this)[k]); }
};

std::string message_text(const message_fields& msg) {
  std::string text = unescape_text(msg.str(m_text));
  if (const auto files = json_read::arr_of(msg[m_files])) {
    for (const element f : *files) {
      std::string_view file_name = str(f, "name");
      if (file_name.empty()) file_name = str(f, "title");
      const std::string_view link = str(f, "permalink");
      if (file_name.empty() && link.empty()) continue;
      if (!text.empty()) text += '\n';
      text += "📎 " + unescape_text(file_name);
      if (!link.empty()) text.append(" <").append(link).append(">");
    }
  }
  if (text.empty()) {
    if (const auto atts = json_read::arr_of(msg[m_attachments])) {
      for (const element a : *atts) {
        std::string_view fallback = str(a, "fallback");
        if (fallback.empty()) fallback = str(a, "text");
        if (fallback.empty()) continue;
        if (!text.empty()) text += '\n';
        text += unescape_text(fallback);
      }
    }
  }
  return text;
}

std::optional<core::message_posted> decode_message(const message_fields& msg, std::string_view channel,
                                                  const context& ctx) {
  static constexpr std::array<std::string_view, 5> kept = {"", "thread_broadcast", "file_share", "bot_message",
                                                           "me_message"};
  const std::string_view subtype = msg.str(m_subtype);
  bool keep = false;
  for (auto k : kept) keep = keep || subtype == k;
  if (!keep) return std::nullopt;

  const std::string_view ts = msg.str(m_ts);
  auto at = parse_ts(ts);
  if (!at || channel.empty()) return std::nullopt;

  const std::string_view user = msg.str(m_user);
  const std::string_view bot = msg.str(m_bot_id);
  core::message_posted p;
  p.user = std::string(!user.empty() ? user : !bot.empty() ? bot : msg.str(m_username));
  if (p.user.empty()) return std::nullopt;
  p.id = message_id(channel, ts);
  p.channel = std::string(channel);
  p.text = message_text(msg);
  p.at = *at;
  p.from_bot = (!ctx.bot_id.empty() && bot == ctx.bot_id) || (!ctx.bot_user_id.empty() && user == ctx.bot_user_id);
  const std::string_view thread_ts = msg.str(m_thread_ts);
  if (!thread_ts.empty() && thread_ts != ts) p.thread_id = message_id(channel, thread_ts);
  return p;
}

}  // namespace

namespace detail {

std::string message_text(element msg) { return slack::message_text(message_fields(msg)); }

std::optional<core::message_posted> decode_message(element msg, std::string_view channel, const context& ctx) {
  return slack::decode_message(message_fields(msg), channel, ctx);
}

std::optional<core::user> decode_user(element u) {
  core::user out;
  out.id = std::string(str(u, "id"));
  if (out.id.empty()) return std::nullopt;
  const element profile = obj(u, "profile");
  std::string_view name = str(profile, "display_name");
  if (name.empty()) name = str(profile, "real_name");
  if (name.empty()) name = str(u, "real_name");
  if (name.empty()) name = str(u, "name");
  out.display_name = std::string(name);
  out.tz = std::string(str(u, "tz"));
  return out;
}

}  // namespace detail

// ---- Events API ----

namespace {

// The event's own time: its ts, else event_ts, else the wrapper's event_time (whole seconds).
core::timestamp event_time(const message_fields& ev, element body) {
  for (const auto key : {m_ts, m_event_ts}) {
    if (auto t = parse_ts(ev.str(key))) return *t;
  }
  return core::timestamp{std::chrono::seconds{detail::integer(body, "event_time")}};
}

core::timestamp event_time(element ev, element body) { return event_time(message_fields(ev), body); }

// member_joined_channel / member_left_channel, or a channel_join / channel_leave message: the same facts.
void decode_membership(element ev, element body, const context& ctx, bool joined, events_api_result& out) {
  const std::string_view channel = str(ev, "channel");
  const std::string_view user = str(ev, "user");
  if (channel.empty() || user.empty() || (!ctx.bot_user_id.empty() && user == ctx.bot_user_id)) return;
  if (joined) out.events.emplace_back(core::member_joined{std::string(channel), std::string(user), event_time(ev, body)});
  else out.events.emplace_back(core::member_left{std::string(channel), std::string(user), event_time(ev, body)});
}

void decode_message_event(element ev, const message_fields& evf, element body, const context& ctx,
                          events_api_result& out) {
  const std::string_view channel = evf.str(m_channel);
  const std::string_view subtype = evf.str(m_subtype);
  if (subtype == "message_changed") {
    const element now = obj(ev, "message");
    const std::string_view ts = str(now, "ts");
    if (channel.empty() || !parse_ts(ts)) return;
    std::string id = message_id(channel, ts);
    if (str(now, "subtype") == "tombstone") {  // a thread parent deleted under its replies
      out.events.emplace_back(core::message_deleted{std::move(id), event_time(evf, body)});
      return;
    }
    const auto before = member(ev, "previous_message");
    std::string text = detail::message_text(now);
    if (before && before->is_object() && detail::message_text(*before) == text) return;
    out.events.emplace_back(core::message_edited{std::move(id), std::move(text), event_time(evf, body)});
    return;
  }
  if (subtype == "message_deleted") {
    std::string_view ts = str(ev, "deleted_ts");
    if (ts.empty()) ts = str(obj(ev, "previous_message"), "ts");
    if (channel.empty() || !parse_ts(ts)) return;
    out.events.emplace_back(core::message_deleted{message_id(channel, ts), event_time(evf, body)});
    return;
  }
  // channel_join / channel_leave (group_* in old private channels) say who came and went, never what was said.
  const bool join = subtype == "channel_join" || subtype == "group_join";
  if (join || subtype == "channel_leave" || subtype == "group_leave") {
    decode_membership(ev, body, ctx, join, out);
    return;
  }
  // Topic, purpose, message_replied… carry no words for the timeline: decode_message keeps none of them.
  if (auto m = decode_message(evf, channel, ctx)) out.events.emplace_back(std::move(*m));
}

void decode_event(element ev, const message_fields& evf, element body, const context& ctx, events_api_result& out) {
  const std::string_view type = evf.str(m_type);
  if (type == "message" || type == "app_mention") {
    // app_mention repeats a message event: the same id, so the engine's idempotency key folds them.
    decode_message_event(ev, evf, body, ctx, out);
  } else if (type == "reaction_added") {
    const element item = obj(ev, "item");
    const std::string_view channel = str(item, "channel");
    const std::string_view ts = str(item, "ts");
    std::string emoji{str(ev, "reaction")};
    if (auto tone = emoji.find("::"); tone != std::string::npos) emoji.erase(tone);  // "+1::skin-tone-2"
    const std::string_view user = str(ev, "user");
    if (str(item, "type") != "message" || channel.empty() || !parse_ts(ts) || user.empty() || emoji.empty()) return;
    out.events.emplace_back(
        core::reaction_added{message_id(channel, ts), std::string(user), std::move(emoji), event_time(evf, body)});
  } else if (type == "pin_added") {
    const element item = obj(ev, "item");
    std::string_view channel = str(item, "channel");
    if (channel.empty()) channel = str(ev, "channel_id");
    const std::string_view ts = str(obj(item, "message"), "ts");
    if (str(item, "type") != "message" || channel.empty() || !parse_ts(ts)) return;
    out.events.emplace_back(core::message_pinned{message_id(channel, ts), std::string(str(ev, "user")), event_time(evf, body)});
  } else if (type == "member_joined_channel" || type == "member_left_channel") {
    decode_membership(ev, body, ctx, type == "member_joined_channel", out);
  } else if (type == "user_change" || type == "team_join") {
    if (auto u = detail::decode_user(obj(ev, "user"))) {
      out.events.emplace_back(core::user_updated{std::move(*u), event_time(evf, body)});
    }
  }
}

events_api_result decode_events_api_body(element body, const context& ctx) {
  enum : std::size_t { k_type, k_event_id, k_event, k_challenge };
  static constexpr std::array<std::string_view, 4> keys{"type", "event_id", "event", "challenge"};
  const json_read::fields<keys.size()> f(body, keys);
  events_api_result out;
  out.type = std::string(json_read::str_of(f[k_type]));
  out.event_id = std::string(json_read::str_of(f[k_event_id]));
  if (out.type == "url_verification") {
    out.challenge = std::string(json_read::str_of(f[k_challenge]));
    return out;
  }
  const element ev = json_read::obj_of(f[k_event]);
  const message_fields evf(ev);
  const std::string_view ev_type = evf.str(m_type);
  const std::string_view subtype = evf.str(m_subtype);
  out.event_type = std::string(ev_type);
  if (!subtype.empty()) out.event_type.append("/").append(subtype);
  if (!out.event_id.empty()) {
    out.dedupe_key = out.event_id;
  } else if (!ev_type.empty()) {
    std::string_view channel = evf.str(m_channel);
    if (channel.empty()) channel = str(obj(ev, "item"), "channel");
    out.dedupe_key = out.event_type;
    out.dedupe_key.append(":").append(channel).append(":").append(evf.str(m_event_ts)).append(":").append(evf.str(m_user));
  }
  if (out.type == "event_callback" || out.type.empty()) decode_event(ev, evf, body, ctx, out);
  return out;
}

events_api_result decode_events_api_unchecked(std::string_view payload, const context& ctx) {
  const detail::parsed doc(payload);
  const element body = doc.root();
  if (!doc.ok() || !body.is_object()) {
    events_api_result out;
    out.error = !doc.ok() ? "not JSON" : "not a JSON object";
    return out;
  }
  return decode_events_api_body(body, ctx);
}

}  // namespace

events_api_result decode_events_api(std::string_view payload, const context& ctx) {
  try {
    return decode_events_api_unchecked(payload, ctx);
  } catch (const std::exception& e) {  // allocation failure
    events_api_result out;
    out.error = e.what();
    return out;
  }
}

events_api_result decode_events_api(const envelope& e, const context& ctx) {
  return e.events ? *e.events : decode_events_api(e.payload, ctx);
}

}  // namespace kintsugi::slack
