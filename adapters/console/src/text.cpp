// The text console: a chat room in a terminal, for trying kintsugi and for teams without a chat platform.
#include <chrono>
#include <istream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "console/console.hpp"
#include "core/overloaded.hpp"

namespace kintsugi::console {
namespace {

using core::overloaded;

core::timestamp wall_clock() {
  return std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now());
}

std::string indent(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

// A terminal has no buttons: each one becomes a hint of what to type, "  [I'll be commander: /incident role
// commander me]", one line each.
std::string button_hints(const std::vector<core::button>& buttons) {
  std::string out;
  for (const auto& b : buttons) out += "  [" + b.label + ": " + slash_command_of(b) + "]\n";
  return out;
}

constexpr const char* console_help =
    "Console commands (everything else is a chat message, and /incident … is the bot's command):\n"
    "  :user NAME        speak as NAME            :channel NAME   move to channel NAME\n"
    "  :edit N TEXT      edit your message [N]    :delete N       delete message [N]\n"
    "  :pin N            📌 mark [N] a key event   :tz ZONE        your time zone (e.g. Europe/Berlin)\n"
    "  :wait DURATION    move the clock on (30m, 2h, 3d): reminders that come due show up\n"
    "  :help             this text                :quit           leave (Ctrl-D works too)";

class text_console {
 public:
  text_console(std::ostream& out, core::store& db, core::dispatcher& d, const options& opt)
      : out_(out), db_(db), d_(d), user_(opt.user), channel_(opt.channel), document_dir_(opt.document_dir) {
    session_ = "t" + std::to_string(wall_clock().time_since_epoch().count());
  }

  void banner(const options& opt) {
    out_ << "kintsugi console — you are @" << user_ << " in #" << channel_ << " (database: " << opt.database << ")\n"
         << "Try: /incident start Checkout is slow sev2    ·    /incident help    ·    :help for console commands\n"
         << "To run kintsugi in Slack or Mattermost: put tokens in a config file (see config/kintsugi.example.json)\n"
         << "and start `kintsugi run --config FILE`.\n";
    deliver();
  }

  // false when the person wants to leave.
  bool line(const std::string& raw) {
    std::string text = raw;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) return true;
    tick();  // whatever came due while the terminal sat idle
    if (text.front() == ':') return console_command(text);
    auto now = clock();
    std::string id = session_ + "-" + std::to_string(++lines_);
    if (text.starts_with("/")) {
      auto space = text.find(' ');
      std::string word = text.substr(0, space);
      if (word != "/incident") {
        out_ << "  I only know /incident. Try /incident help.\n";
        return true;
      }
      handle(core::command_invoked{id, channel_, user_, space == std::string::npos ? "" : text.substr(space + 1), now});
      return true;
    }
    numbered_[++messages_] = id;
    out_ << "  [" << messages_ << "] " << core::format_clock(now) << " UTC\n";
    handle(core::message_posted{id, channel_, user_, text, now, false, {}});
    return true;
  }

  void prompt() { out_ << "@" << user_ << " #" << channel_ << " > " << std::flush; }

 private:
  // The console's clock: the wall clock, moved on by :wait.
  core::timestamp clock() const { return wall_clock() + skew_; }

  void tick() { handle(core::clock_tick{clock()}); }

  void handle(core::event e) {
    std::vector<core::event> batch{std::move(e)};
    auto outcomes = d_.process(batch);
    if (!outcomes.front().error.empty()) out_ << "  (could not store that: " << outcomes.front().error << ")\n";
    deliver();
  }

  void deliver() {
    d_.deliver([this](const core::action& a) { show(a); return true; }, clock());
    out_.flush();
  }

  void show(const core::action& a) {
    std::visit(overloaded{
                   [&](const core::post_message& p) {
                     out_ << "#" << p.channel << "  kintsugi: " << indent(render_mentions(p.text)) << "\n"
                          << button_hints(p.buttons);
                   },
                   [&](const core::post_ephemeral& p) {
                     out_ << "#" << p.channel << "  kintsugi (only @" << p.user << " sees this): "
                          << indent(render_mentions(p.text)) << "\n"
                          << button_hints(p.buttons);
                   },
                   [&](const core::direct_message& p) {
                     out_ << "DM to @" << p.user << "  kintsugi: " << indent(render_mentions(p.text)) << "\n"
                          << button_hints(p.buttons);
                   },
                   [&](const core::create_channel& p) { out_ << "— kintsugi created #" << p.name << "\n"; },
                   [&](const core::invite_user& p) {
                     out_ << "— @" << p.user << " was invited to #" << p.channel << "\n";
                     if (p.user == user_) {
                       channel_ = p.channel;
                       out_ << "  (you are now in #" << channel_ << ")\n";
                     }
                   },
                   [&](const core::publish_document& p) {
                     if (document_dir_.empty()) return;
                     auto written = write_document(document_dir_, p);
                     out_ << (written.starts_with("cannot") ? "— " : "— postmortem saved to ") << written << "\n";
                   },
                   [&](const core::set_topic& p) {
                     out_ << "— topic of #" << p.channel << ": " << render_mentions(p.text) << "\n";
                   },
                   [&](const core::pin_message& p) { out_ << "— 📌 kintsugi pinned " << number_of(p.message_id) << "\n"; },
               },
               a);
  }

  // "[N]" for a message this session numbered, else "a message".
  std::string number_of(const std::string& id) const {
    for (const auto& [n, known] : numbered_)
      if (known == id) return "[" + std::to_string(n) + "]";
    return "a message";
  }

  std::optional<std::string> message_id(const std::string& n) {
    try {
      auto it = numbered_.find(std::stoi(n));
      if (it != numbered_.end()) return it->second;
    } catch (const std::exception&) {
    }
    out_ << "  No message [" << n << "] in this session. Messages show their number when you send them.\n";
    return std::nullopt;
  }

  bool console_command(const std::string& text) {
    std::istringstream words{text.substr(1)};
    std::string cmd, arg;
    words >> cmd >> arg;
    std::string rest;
    std::getline(words, rest);
    if (auto p = rest.find_first_not_of(' '); p != std::string::npos) rest = rest.substr(p);
    else rest.clear();
    auto now = clock();
    if (cmd == "quit" || cmd == "q" || cmd == "exit") return false;
    if (cmd == "wait") {
      auto by = core::parse_duration(arg);
      if (!by) {
        out_ << "  How long? Like :wait 30m, :wait 2h or :wait 3d.\n";
        return true;
      }
      skew_ += *by;
      out_ << "  ⏩ " << core::format_duration(*by) << " later: " << core::format_minute(clock()) << " UTC\n";
      tick();
      return true;
    }
    if (cmd == "user" && !arg.empty()) {
      user_ = arg[0] == '@' ? arg.substr(1) : arg;
      out_ << "  You are now @" << user_ << ".\n";
    } else if (cmd == "channel" && !arg.empty()) {
      channel_ = arg[0] == '#' ? arg.substr(1) : arg;
      out_ << "  You are now in #" << channel_ << ".\n";
    } else if (cmd == "edit" && !arg.empty() && !rest.empty()) {
      if (auto id = message_id(arg)) {
        handle(core::message_edited{*id, rest, now});
        out_ << "  [" << arg << "] edited (the timeline keeps the earlier text)\n";
      }
    } else if (cmd == "delete" && !arg.empty()) {
      if (auto id = message_id(arg)) {
        handle(core::message_deleted{*id, now});
        out_ << "  [" << arg << "] deleted (the timeline marks it, it does not erase it)\n";
      }
    } else if (cmd == "pin" && !arg.empty()) {
      if (auto id = message_id(arg)) {
        handle(core::reaction_added{*id, user_, "pushpin", now});
        out_ << "  📌 [" << arg << "] is a key event\n";
      }
    } else if (cmd == "tz" && !arg.empty()) {
      auto u = db_.find_user(user_).value_or(core::user{user_, {}, {}});
      u.tz = arg;
      db_.upsert_user(u);
      out_ << "  Times you type are now read in " << arg << ".\n";
    } else {
      out_ << console_help << "\n";
    }
    return true;
  }

  std::ostream& out_;
  core::store& db_;
  core::dispatcher& d_;
  std::string user_;
  std::string channel_;
  std::string session_;
  std::string document_dir_;
  core::duration skew_{};
  int lines_ = 0;     // every line sent: part of each event's unique id
  int messages_ = 0;  // chat messages only: the numbers :edit, :delete and :pin take
  std::map<int, std::string> numbered_;
};

}  // namespace

int run_text(std::istream& in, std::ostream& out, core::store& db, core::dispatcher& d, const options& opt) {
  text_console console{out, db, d, opt};
  console.banner(opt);
  std::string line;
  console.prompt();
  while (std::getline(in, line)) {
    if (!console.line(line)) break;
    console.prompt();
  }
  out << "\nBye. Everything is stored; `kintsugi console` picks up where you left off.\n";
  return 0;
}

}  // namespace kintsugi::console
