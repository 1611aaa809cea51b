#include "core/mentions.hpp"

namespace kintsugi::core {
namespace {

// The mention starting at text[i], if one does: its kind, its id, and where it ends (the '>').
struct found_mention {
  char kind = 0;
  std::string_view id;
  std::string_view label;  // after '|', if any
  std::size_t end = 0;
};

bool mention_at(std::string_view text, std::size_t i, found_mention& m) {
  if (text[i] != '<' || i + 2 >= text.size() || (text[i + 1] != '@' && text[i + 1] != '#')) return false;
  auto close = text.find('>', i);
  if (close == std::string_view::npos) return false;
  auto body = text.substr(i + 2, close - i - 2);
  const auto bar = body.find('|');
  auto id = body.substr(0, bar);
  if (id.empty() || id.find_first_of(" <\n\t") != std::string_view::npos) return false;
  m = {text[i + 1], id, bar == std::string_view::npos ? std::string_view{} : body.substr(bar + 1), close};
  return true;
}

}  // namespace

void for_each_mention(std::string_view text, const std::function<void(char, std::string_view)>& each) {
  for (auto i = text.find('<'); i != std::string_view::npos; i = text.find('<', i + 1)) {
    found_mention m;
    if (mention_at(text, i, m)) {
      each(m.kind, m.id);
      i = m.end;
    }
  }
}

std::string render_mentions(std::string_view text, const std::function<std::string(std::string_view)>& user_name) {
  return render_mentions(text, user_name, {});
}

std::string render_mentions(std::string_view text, const std::function<std::string(std::string_view)>& user_name,
                            const std::function<std::string(std::string_view)>& channel_name) {
  if (text.find('<') == std::string_view::npos) return std::string{text};
  std::string out;
  out.reserve(text.size());
  // The text between mentions is copied a run at a time (documents render every timeline entry through here).
  std::size_t from = 0;
  for (auto i = text.find('<'); i != std::string_view::npos; i = text.find('<', i + 1)) {
    found_mention m;
    if (!mention_at(text, i, m)) continue;
    out.append(text.substr(from, i - from));
    out += m.kind;
    if (m.kind == '@') {
      out += user_name(m.id);
    } else {
      std::string name = m.label.empty() && channel_name ? channel_name(m.id) : std::string{m.label};
      out += name.empty() ? std::string{m.id} : name;
    }
    i = m.end;
    from = m.end + 1;
  }
  out.append(text.substr(from));
  return out;
}

}  // namespace kintsugi::core
