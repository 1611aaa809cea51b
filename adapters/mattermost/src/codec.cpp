// The Mattermost codec, inbound: ids and times, websocket frames, and the websocket events' mapping to core events.
#include "mattermost/codec.hpp"

#include <charconv>
#include <exception>
#include <limits>

#include "codec_detail.hpp"
#include "mattermost/text.hpp"

namespace kintsugi::mattermost {

using detail::json;
using detail::member;
using detail::obj;
using detail::str;

// ---- JSON helpers ----

namespace detail {

bool truthy(const json& j, std::string_view key) {
  const json* m = member(j, key);
  if (m == nullptr) return false;
  if (m->is_boolean()) return m->get<bool>();
  if (m->is_string()) {
    const auto& s = m->get_ref<const std::string&>();
    return s == "true" || s == "True" || s == "TRUE";
  }
  return false;
}

std::optional<std::int64_t> integer_value(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!(d > -9.0e18 && d < 9.0e18)) return std::nullopt;  // also NaN
    return static_cast<std::int64_t>(d);
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 20) return std::nullopt;
    std::int64_t out = 0;
    const char* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, out);
    if (ec != std::errc{} || ptr != end) return std::nullopt;
    return out;
  }
  return std::nullopt;
}

std::int64_t integer(const json& j, std::string_view key, std::int64_t fallback) {
  const json* m = member(j, key);
  if (m == nullptr) return fallback;
  return integer_value(*m).value_or(fallback);
}

std::optional<json> embedded_object(const json& j, std::string_view key) {
  const json* m = member(j, key);
  if (m == nullptr) return std::nullopt;
  if (m->is_object()) return *m;
  if (m->is_string()) {
    json inner = parse(m->get_ref<const std::string&>());
    if (!inner.is_discarded() && inner.is_object()) return inner;
  }
  return std::nullopt;
}

std::vector<std::string> string_list(const json& j, std::string_view key) {
  std::vector<std::string> out;
  const json* m = member(j, key);
  if (m == nullptr) return out;
  json parsed;
  const json* list = m;
  if (m->is_string()) {
    parsed = parse(m->get_ref<const std::string&>());
    list = &parsed;
  }
  if (list->is_discarded() || !list->is_array()) return out;
  for (const auto& v : *list) {
    if (v.is_string() && !v.get_ref<const std::string&>().empty()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if (!is_continuation(c)) ++n;
  }
  return n;
}

std::size_t utf8_prefix(std::string_view s, std::size_t chars) {
  std::size_t i = 0;
  for (std::size_t n = 0; i < s.size() && n < chars; ++n) {
    ++i;
    while (i < s.size() && is_continuation(s[i])) ++i;
  }
  return i;
}

}  // namespace detail

// ---- ids and times ----

std::string to_core(std::string_view mattermost_id) {
  if (mattermost_id.empty()) return {};
  std::string out;
  out.reserve(id_prefix.size() + mattermost_id.size());
  out.append(id_prefix).append(mattermost_id);
  return out;
}

std::optional<std::string> from_core(std::string_view core_id) {
  if (!core_id.starts_with(id_prefix) || core_id.size() == id_prefix.size()) return std::nullopt;
  return std::string(core_id.substr(id_prefix.size()));
}

bool is_object_id(std::string_view id) {
  if (id.size() != 26) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

namespace {
constexpr std::int64_t max_millis = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
}

std::optional<core::timestamp> from_millis(std::int64_t ms) {
  if (ms <= 0 || ms > max_millis) return std::nullopt;
  return core::timestamp{std::chrono::milliseconds{ms}};
}

std::int64_t to_millis(core::timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string post_key(std::string_view post_id, std::int64_t update_at) {
  std::string key = "mm:post:";
  key.append(post_id).append(":").append(std::to_string(update_at));
  return key;
}

// ---- frames ----

namespace {

std::string data_text(const json& j) {
  const json* data = member(j, "data");
  return data != nullptr && data->is_object() ? detail::dump(*data) : std::string{"{}"};
}

frame decode_frame_unchecked(std::string_view text) {
  if (text.empty()) return malformed{"empty frame"};
  json j = detail::parse(text);
  if (j.is_discarded()) return malformed{"not JSON"};
  if (!j.is_object()) return malformed{"not a JSON object"};

  if (const json* ev = member(j, "event"); ev != nullptr) {
    if (!ev->is_string() || ev->get_ref<const std::string&>().empty()) return malformed{"event is not a string"};
    const auto& type = ev->get_ref<const std::string&>();
    const json& broadcast = obj(j, "broadcast");
    std::optional<std::int64_t> seq;
    if (const json* s = member(j, "seq"); s != nullptr) {
      if (auto v = detail::integer_value(*s); v && *v >= 0) seq = v;
    }
    if (type == "hello") {
      hello h;
      const json& data = obj(j, "data");
      h.connection_id = str(data, "connection_id");
      h.server_version = str(data, "server_version");
      h.user_id = str(broadcast, "user_id");
      h.seq = seq.value_or(0);
      return h;
    }
    event_frame e;
    e.event = type;
    e.seq = seq;
    e.channel_id = str(broadcast, "channel_id");
    e.broadcast_user_id = str(broadcast, "user_id");
    e.data_json = data_text(j);
    return e;
  }

  if (const json* sr = member(j, "seq_reply"); sr != nullptr) {
    auto v = detail::integer_value(*sr);
    if (!v) return malformed{"seq_reply is not an integer"};
    reply r;
    r.seq_reply = *v;
    r.status = str(j, "status");
    const json& error = obj(j, "error");
    r.error_id = str(error, "id");
    r.error_message = str(error, "message");
    r.data_json = data_text(j);
    return r;
  }
  return malformed{"neither an event nor a reply"};
}

}  // namespace

frame decode_frame(std::string_view text) {
  try {
    return decode_frame_unchecked(text);
  } catch (const std::exception& e) {  // only allocation failures can get here
    return malformed{e.what()};
  }
}

std::string encode_auth_challenge(std::int64_t seq, std::string_view token) {
  json j{{"seq", seq}, {"action", "authentication_challenge"}, {"data", {{"token", std::string(token)}}}};
  return detail::dump(j);
}

std::string encode_ping(std::int64_t seq) { return detail::dump(json{{"action", "ping"}, {"seq", seq}}); }

// ---- posts ----

namespace detail {

std::string post_text(const json& post, const json& data) {
  std::string text = str(post, "message");
  auto add_line = [&text](std::string_view line) {
    if (!text.empty()) text += '\n';
    text.append(line);
  };
  const json& props = obj(post, "props");
  if (text.empty()) {
    if (const json* atts = member(props, "attachments"); atts != nullptr && atts->is_array()) {
      for (const auto& a : *atts) {
        std::string fallback = str(a, "fallback");
        if (!fallback.empty()) {
          add_line(fallback);
          continue;
        }
        for (const char* key : {"pretext", "title", "text"}) {
          if (std::string part = str(a, key); !part.empty()) add_line(part);
        }
      }
    }
  }
  std::size_t named = 0;
  if (const json* files = member(obj(post, "metadata"), "files"); files != nullptr && files->is_array()) {
    for (const auto& f : *files) {
      std::string name = str(f, "name");
      if (name.empty()) continue;
      add_line("📎 " + name);
      ++named;
    }
  }
  if (named == 0) {
    std::size_t ids = 0;
    if (const json* file_ids = member(post, "file_ids"); file_ids != nullptr && file_ids->is_array()) {
      for (const auto& id : *file_ids) {
        if (id.is_string() && !id.get_ref<const std::string&>().empty()) ++ids;
      }
    }
    if (ids == 0 && (truthy(data, "otherFile") || truthy(data, "image"))) ids = 1;
    for (std::size_t k = 0; k < ids; ++k) add_line("📎 attachment");
  }
  return text;
}

bool post_from_bot(const json& post, const context& ctx) {
  const std::string user = str(post, "user_id");
  if (!ctx.bot_user_id.empty() && user == ctx.bot_user_id) return true;
  const json& props = obj(post, "props");
  return truthy(props, "from_bot") || truthy(props, "from_webhook");
}

std::optional<core::event> post_event(const json& post, const json& data, const context& ctx,
                                      std::string_view channel_fallback, std::optional<core::timestamp> at_fallback) {
  const std::string id = str(post, "id");
  std::string channel = str(post, "channel_id");
  if (channel.empty()) channel = std::string(channel_fallback);
  if (id.empty() || channel.empty()) return std::nullopt;
  auto at = from_millis(integer(post, "create_at"));
  if (!at) at = at_fallback;
  if (!at) return std::nullopt;
  const std::string type = str(post, "type");
  const std::string user = str(post, "user_id");

  if (type.starts_with("system_")) {
    const json& props = obj(post, "props");
    std::string who;
    bool joined = true;
    if (type == "system_join_channel") {
      who = user;
    } else if (type == "system_add_to_channel") {
      who = str(props, "addedUserId");
    } else if (type == "system_leave_channel") {
      who = user;
      joined = false;
    } else if (type == "system_remove_from_channel") {
      who = str(props, "removedUserId");
      joined = false;
    } else {
      return std::nullopt;
    }
    if (who.empty() || (!ctx.bot_user_id.empty() && who == ctx.bot_user_id)) return std::nullopt;
    if (joined) return core::member_joined{to_core(channel), to_core(who), *at};
    return core::member_left{to_core(channel), to_core(who), *at};
  }

  if (user.empty()) return std::nullopt;
  std::string text = post_text(post, data);
  if (text.empty()) return std::nullopt;
  core::message_posted m;
  m.id = to_core(id);
  m.channel = to_core(channel);
  m.user = to_core(user);
  m.text = std::move(text);
  m.at = *at;
  m.from_bot = post_from_bot(post, ctx);
  m.thread_id = to_core(str(post, "root_id"));
  return m;
}

user_info user_of(const json& u) {
  user_info out;
  out.id = str(u, "id");
  if (out.id.empty()) {
    out.error = u.is_object() ? "user has no id" : "not a user object";
    return out;
  }
  out.username = str(u, "username");
  out.display_name = str(u, "nickname");
  if (out.display_name.empty()) {
    std::string first = str(u, "first_name");
    std::string last = str(u, "last_name");
    out.display_name = first.empty() ? last : last.empty() ? first : first + " " + last;
  }
  if (out.display_name.empty()) out.display_name = out.username;
  const json& tz = obj(u, "timezone");
  const std::string automatic = str(tz, "automaticTimezone");
  const std::string manual = str(tz, "manualTimezone");
  if (truthy(tz, "useAutomaticTimezone")) out.tz = automatic.empty() ? manual : automatic;
  else out.tz = manual.empty() ? automatic : manual;
  out.is_bot = truthy(u, "is_bot");
  return out;
}

}  // namespace detail

// ---- events ----

namespace {

void decode_post_event(const event_frame& f, const json& data, const context& ctx, core::timestamp received_at,
                       event_result& out) {
  auto post = detail::embedded_object(data, "post");
  if (!post) {
    out.error = "data.post is not a post";
    return;
  }
  const json& p = *post;
  out.post_id = str(p, "id");
  out.root_id = str(p, "root_id");
  out.user_id = str(p, "user_id");
  out.channel_id = str(p, "channel_id");
  if (out.channel_id.empty()) out.channel_id = f.channel_id;
  out.update_at = detail::integer(p, "update_at");
  out.channel_type = str(data, "channel_type");
  out.channel_name = str(data, "channel_name");
  out.sender_name = str(data, "sender_name");
  out.mentioned_user_ids = detail::string_list(data, "mentions");
  out.mentioned_usernames = find_usernames(str(p, "message"));
  if (out.post_id.empty()) {
    out.error = "the post has no id";
    return;
  }
  out.dedupe_key = post_key(out.post_id, out.update_at);
  const std::string id = to_core(out.post_id);

  if (f.event == "posted") {
    if (out.channel_id.empty()) {
      out.error = "the post has no channel_id";
      return;
    }
    if (auto e = detail::post_event(p, data, ctx, out.channel_id, received_at)) out.events.push_back(std::move(*e));
    return;
  }
  if (f.event == "post_edited") {
    if (str(p, "type").starts_with("system_")) return;
    if (auto at = from_millis(detail::integer(p, "edit_at"))) {
      out.events.emplace_back(core::message_edited{id, detail::post_text(p, data), *at});
    }
    if (detail::truthy(p, "is_pinned")) {
      out.events.emplace_back(core::message_pinned{id, "", from_millis(out.update_at).value_or(received_at)});
    }
    return;
  }
  // post_deleted
  auto at = from_millis(detail::integer(p, "delete_at"));
  if (!at) at = from_millis(out.update_at);
  out.events.emplace_back(core::message_deleted{id, at.value_or(received_at)});
}

void decode_reaction(const event_frame& f, const json& data, const context& ctx, core::timestamp received_at,
                     event_result& out) {
  auto reaction = detail::embedded_object(data, "reaction");
  if (!reaction) {
    out.error = "data.reaction is not a reaction";
    return;
  }
  const json& r = *reaction;
  out.post_id = str(r, "post_id");
  out.user_id = str(r, "user_id");
  out.channel_id = str(r, "channel_id");
  if (out.channel_id.empty()) out.channel_id = f.channel_id;
  std::string emoji = str(r, "emoji_name");
  if (out.post_id.empty() || out.user_id.empty() || emoji.empty()) {
    out.error = "the reaction lacks post_id, user_id or emoji_name";
    return;
  }
  out.dedupe_key = "mm:reaction:" + out.post_id + ":" + out.user_id + ":" + emoji;
  if (!ctx.bot_user_id.empty() && out.user_id == ctx.bot_user_id) return;
  auto at = from_millis(detail::integer(r, "create_at")).value_or(received_at);
  out.events.emplace_back(core::reaction_added{to_core(out.post_id), to_core(out.user_id), std::move(emoji), at});
}

void decode_membership(const event_frame& f, const json& data, const context& ctx, core::timestamp received_at,
                       event_result& out) {
  out.channel_id = f.channel_id.empty() ? str(data, "channel_id") : f.channel_id;
  out.user_id = str(data, "user_id");
  if (out.user_id.empty()) out.user_id = f.broadcast_user_id;
  if (out.channel_id.empty() || out.user_id.empty()) {
    out.error = "no channel or no user";
    return;
  }
  if (!ctx.bot_user_id.empty() && out.user_id == ctx.bot_user_id) return;
  if (f.event == "user_added") {
    out.events.emplace_back(core::member_joined{to_core(out.channel_id), to_core(out.user_id), received_at});
  } else {
    out.events.emplace_back(core::member_left{to_core(out.channel_id), to_core(out.user_id), received_at});
  }
}

void decode_user_updated(const json& data, core::timestamp received_at, event_result& out) {
  auto user = detail::embedded_object(data, "user");
  if (!user) {
    out.error = "data.user is not a user";
    return;
  }
  user_info u = detail::user_of(*user);
  if (!u.error.empty()) {
    out.error = u.error;
    return;
  }
  out.user_id = u.id;
  out.events.emplace_back(to_user_updated(u, from_millis(detail::integer(*user, "update_at")).value_or(received_at)));
}

event_result decode_event_unchecked(const event_frame& f, const context& ctx, core::timestamp received_at) {
  event_result out;
  out.event = f.event;
  json data = f.data_json.empty() ? json::object() : detail::parse(f.data_json);
  if (data.is_discarded() || !data.is_object()) {
    out.error = "data is not a JSON object";
    return out;
  }
  const std::string& e = f.event;
  if (e == "posted" || e == "post_edited" || e == "post_deleted") {
    decode_post_event(f, data, ctx, received_at, out);
  } else if (e == "reaction_added") {
    decode_reaction(f, data, ctx, received_at, out);
  } else if (e == "user_added" || e == "user_removed") {
    decode_membership(f, data, ctx, received_at, out);
  } else if (e == "user_updated") {
    decode_user_updated(data, received_at, out);
  }
  if (!out.error.empty()) out.events.clear();
  return out;
}

}  // namespace

event_result decode_event(const event_frame& ev, const context& ctx, core::timestamp received_at) {
  try {
    return decode_event_unchecked(ev, ctx, received_at);
  } catch (const std::exception& e) {  // allocation failure
    event_result out;
    out.event = ev.event;
    out.error = e.what();
    return out;
  }
}

core::user_updated to_user_updated(const user_info& u, core::timestamp at) {
  return core::user_updated{core::user{to_core(u.id), u.display_name, u.tz}, at};
}

}  // namespace kintsugi::mattermost
