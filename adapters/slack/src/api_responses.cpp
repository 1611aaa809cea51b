// The Slack codec: Web API responses to plain values. map_response() is where Slack's errors are mapped.
#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <set>
#include <utility>

#include "codec_detail.hpp"
#include "slack/web_api_calls.hpp"

namespace kintsugi::slack {

using detail::element;
using detail::member;
using detail::obj;
using detail::str;

namespace {

constexpr int default_retry_after_s = 1;

bool one_of(std::string_view code, std::initializer_list<std::string_view> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// A few words on what the error means, for the log line.
std::string_view explain(std::string_view error) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 20> table{{
      {"channel_not_found", "the channel does not exist or the bot cannot see it"},
      {"not_in_channel", "the bot is not a member of the channel"},
      {"is_archived", "the channel is archived"},
      {"name_taken", "a channel with that name already exists"},
      {"invalid_name_specials", "the channel name has characters Slack refuses"},
      {"already_in_channel", "the user is already in the channel"},
      {"cant_invite_self", "the bot cannot invite itself"},
      {"user_not_found", "no such user"},
      {"user_not_in_channel", "the user is not in the channel"},
      {"msg_too_long", "the message is too long"},
      {"no_text", "the message has no text"},
      {"too_long", "the text is too long"},
      {"ratelimited", "rate limited by Slack"},
      {"invalid_auth", "the token is not valid"},
      {"not_authed", "no token was sent"},
      {"token_revoked", "the token was revoked"},
      {"account_inactive", "the bot's account or workspace is deactivated"},
      {"missing_scope", "the token lacks a scope"},
      {"not_allowed_token_type", "this method needs another kind of token"},
      {"invalid_json", "the response was not JSON"},
  }};
  for (const auto& [code, words] : table) {
    if (code == error) return words;
  }
  return {};
}

int retry_after(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  int seconds = 0;
  auto [ptr, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (ec != std::errc{} || ptr != header.data() + header.size() || seconds <= 0) return default_retry_after_s;
  return std::min(seconds, 3600);
}

// The one mapping from an HTTP status and a parsed (or unparseable) body to an api_result.
api_result map_response(std::string_view method, int status, const detail::parsed& doc,
                        std::string_view retry_after_header) {
  api_result r;
  const element j = doc.root();
  const bool object = doc.ok() && j.is_object();
  // Slack's own error code when the body has one, else `otherwise`.
  auto error_or = [&](std::string otherwise) { return object && !str(j, "error").empty() ? std::string(str(j, "error")) : otherwise; };
  if (status == 429) {
    r.error = error_or("ratelimited");
    r.retry_after_s = retry_after(retry_after_header);
  } else if (status >= 500) {
    r.error = error_or("http_" + std::to_string(status));
    r.retryable = true;
  } else if (status < 200 || status >= 300) {
    r.error = error_or("http_" + std::to_string(status));
  } else if (!object) {
    r.error = "invalid_json";
  } else {
    r.ok = detail::boolean(j, "ok");
    if (!r.ok) r.error = error_or("unknown_error");
  }

  if (!r.ok) {
    if (r.error == "ratelimited" || r.error == "rate_limited") {
      r.retryable = true;
      if (r.retry_after_s == 0) r.retry_after_s = retry_after(retry_after_header);
    }
    if (status == 429) r.retryable = true;
    if (one_of(r.error, {"internal_error", "fatal_error", "request_timeout", "service_unavailable"})) r.retryable = true;
    r.fatal = one_of(r.error, {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                               "missing_scope", "not_allowed_token_type", "no_permission", "org_login_required",
                               "ekm_access_denied", "team_access_not_granted"});
    r.already_done = one_of(r.error, {"already_in_channel", "already_pinned", "cant_invite_self", "already_open"});
  }

  if (object) {
    r.needed = str(j, "needed");
    if (const auto channel = member(j, "channel")) {
      r.channel_id = detail::as_str(*channel);
      if (r.channel_id.empty()) r.channel_id = str(*channel, "id");
      r.channel_name = str(*channel, "name");
    }
    r.ts = str(j, "ts");
    if (r.ts.empty()) r.ts = str(j, "message_ts");
    if (auto w = str(j, "warning"); !w.empty()) r.warnings.emplace_back(w);
    for (const char* key : {"warnings", "messages"}) {
      if (const auto list = detail::arr(obj(j, "response_metadata"), key)) {
        for (const element m : *list) {
          if (!detail::as_str(m).empty()) r.warnings.emplace_back(detail::as_str(m));
        }
      }
    }
  }

  r.description = std::string(method) + ": ";
  if (r.ok) {
    r.description += "ok";
  } else {
    r.description += r.error;
    if (auto words = explain(r.error); !words.empty()) r.description.append(" (").append(words).append(")");
    if (!r.needed.empty()) r.description += "; needs scope " + r.needed;
    if (r.retry_after_s > 0) r.description += "; retry after " + std::to_string(r.retry_after_s) + "s";
    if (status != 200) r.description += "; HTTP " + std::to_string(status);
  }
  return r;
}

template <class Fn>
auto guarded(Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {  // allocation failure
    decltype(fn()) out;
    out.result.error = e.what();
    out.result.description = e.what();
    return out;
  }
}

}  // namespace

api_result decode_api_response(std::string_view method, int http_status, std::string_view body,
                               std::string_view retry_after_header) {
  try {
    return map_response(method, http_status, detail::parsed(body), retry_after_header);
  } catch (const std::exception& e) {  // allocation failure
    api_result r;
    r.error = r.description = e.what();
    return r;
  }
}

auth_info decode_auth_test(std::string_view body, int http_status) {
  return guarded([&] {
    const detail::parsed doc(body);
    const element j = doc.root();
    auth_info out;
    out.result = map_response("auth.test", http_status, doc, {});
    if (!out.result.ok) return out;
    out.user_id = str(j, "user_id");
    out.bot_id = str(j, "bot_id");
    out.team_id = str(j, "team_id");
    out.team = str(j, "team");
    out.url = str(j, "url");
    return out;
  });
}

connection_url decode_connections_open(std::string_view body, int http_status) {
  return guarded([&] {
    const detail::parsed doc(body);
    const element j = doc.root();
    connection_url out;
    out.result = map_response("apps.connections.open", http_status, doc, {});
    if (!out.result.ok) return out;
    out.url = str(j, "url");
    if (out.url.empty()) {
      out.result.ok = false;
      out.result.error = "no_url";
      out.result.retryable = true;
      out.result.description = "apps.connections.open: no_url (the response had no websocket URL)";
    }
    return out;
  });
}

user_info decode_users_info(std::string_view body, int http_status) {
  return guarded([&] {
    const detail::parsed doc(body);
    const element j = doc.root();
    user_info out;
    out.result = map_response("users.info", http_status, doc, {});
    if (out.result.ok) out.who = detail::decode_user(obj(j, "user"));
    return out;
  });
}

channel_lookup decode_conversations_info(std::string_view body, int http_status) {
  return guarded([&] {
    const detail::parsed doc(body);
    const element j = doc.root();
    channel_lookup out;
    out.result = map_response("conversations.info", http_status, doc, {});
    if (!out.result.ok) return out;
    const element c = obj(j, "channel");
    core::channel_info info{std::string(str(c, "id")), std::string(str(c, "name"))};
    if (!info.id.empty() && !info.name.empty()) out.channel = std::move(info);
    return out;
  });
}

namespace {

// conversations.history and conversations.replies share their shape; `replies`: leave the thread parent out.
history_page decode_messages(std::string_view method, std::string_view body, std::string_view channel,
                             const context& ctx, int http_status, bool replies) {
  return guarded([&] {
    const detail::parsed doc(body);
    const element j = doc.root();
    history_page out;
    out.result = map_response(method, http_status, doc, {});
    if (!out.result.ok) return out;
    out.has_more = detail::boolean(j, "has_more");
    out.next_cursor = str(obj(j, "response_metadata"), "next_cursor");
    const auto messages = detail::arr(j, "messages");
    if (!messages) return out;

    struct entry {
      core::timestamp at;
      std::vector<core::event> events;
    };
    std::vector<entry> entries;
    for (const element m : *messages) {
      const std::string_view ts = str(m, "ts");
      const std::string_view thread_ts = str(m, "thread_ts");
      const bool parent = thread_ts.empty() || thread_ts == ts;
      if (replies && parent) continue;
      if (!replies && parent) {
        const auto count = detail::integer(m, "reply_count");
        if (count > 0 && parse_ts(ts)) {
          out.threads.push_back(
              thread_ref{std::string(ts), static_cast<int>(std::min<std::int64_t>(count, 1'000'000)),
                         std::string(str(m, "latest_reply"))});
        }
      }
      auto posted = detail::decode_message(m, channel, ctx);
      if (!posted) continue;
      entry e{posted->at, {}};
      auto edited_at = parse_ts(str(obj(m, "edited"), "ts"));
      std::string id = posted->id;
      std::string text = posted->text;
      e.events.emplace_back(std::move(*posted));
      if (edited_at) e.events.emplace_back(core::message_edited{std::move(id), std::move(text), *edited_at});
      entries.push_back(std::move(e));
    }
    std::stable_sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) { return a.at < b.at; });
    for (auto& e : entries) {
      for (auto& ev : e.events) out.events.push_back(std::move(ev));
    }
    return out;
  });
}

}  // namespace

history_page decode_history(std::string_view body, std::string_view channel, const context& ctx, int http_status) {
  return decode_messages("conversations.history", body, channel, ctx, http_status, false);
}

history_page decode_replies(std::string_view body, std::string_view channel, const context& ctx, int http_status) {
  return decode_messages("conversations.replies", body, channel, ctx, http_status, true);
}

std::vector<std::string> threads_replied_after(const std::vector<thread_ref>& threads, core::timestamp since) {
  std::vector<std::pair<core::timestamp, std::string>> found;
  for (const auto& t : threads) {
    auto at = parse_ts(t.ts);
    if (!at || t.reply_count <= 0) continue;
    auto latest = parse_ts(t.latest_reply);
    if (latest && *latest <= since) continue;
    found.emplace_back(*at, t.ts);
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::vector<std::string> out;
  out.reserve(found.size());
  for (auto& [at, ts] : found) out.push_back(std::move(ts));
  return out;
}

std::vector<core::event> order_backfill(std::vector<core::event> events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const core::event& a, const core::event& b) { return core::time_of(a) < core::time_of(b); });
  std::set<std::string> seen;
  std::vector<core::event> out;
  out.reserve(events.size());
  for (auto& e : events) {
    auto key = core::idempotency_key(e);
    if (!key.empty() && !seen.insert(std::move(key)).second) continue;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace kintsugi::slack
