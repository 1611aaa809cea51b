// The blameless-language check: words that point at a person instead of the system, each with a kinder,
// systems-first way to say the same thing. Word-based (never substring-based), deterministic, linear in the
// text: "default" is not "fault", "Bobby" is not "bob", "should" alone is fine.
#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/postmortem.hpp"
#include "core/record.hpp"
#include "text_util.hpp"

namespace kintsugi::core {
namespace {

struct token {
  std::string word;    // lowercase; typographic apostrophes folded to '
  std::size_t begin;   // byte offsets into the scanned text
  std::size_t end;
};

// Words are runs of letters and digits (any non-ASCII byte counts as a letter, so "Zoë" is one word) with
// inner apostrophes ("didn't", "bob's"). Everything else separates words.
std::vector<token> tokenize(std::string_view text) {
  std::vector<token> out;
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto apostrophe_at = [&](std::size_t p) -> std::size_t {  // length of an apostrophe at p, or 0
    if (p < n && text[p] == '\'') return 1;
    if (p + 2 < n && static_cast<unsigned char>(text[p]) == 0xE2 && static_cast<unsigned char>(text[p + 1]) == 0x80 &&
        static_cast<unsigned char>(text[p + 2]) == 0x99) {
      return 3;  // U+2019
    }
    return 0;
  };
  auto word_byte = [&](std::size_t p) {
    auto c = static_cast<unsigned char>(text[p]);
    return detail::ascii::is_alnum(text[p]) || (c >= 0x80 && apostrophe_at(p) == 0);
  };
  while (i < n) {
    if (!word_byte(i)) {
      ++i;
      continue;
    }
    token t{{}, i, i};
    while (i < n) {
      if (word_byte(i)) {
        t.word.push_back(detail::ascii::to_lower(text[i]));
        ++i;
        continue;
      }
      std::size_t a = apostrophe_at(i);
      if (a != 0 && i + a < n && word_byte(i + a)) {
        t.word.push_back('\'');
        i += a;
        continue;
      }
      break;
    }
    t.end = i;
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  for (auto& t : tokenize(text)) out.push_back(std::move(t.word));
  return out;
}

// The word without a possessive "'s", and whether it had one.
std::pair<std::string_view, bool> strip_possessive(std::string_view w) {
  if (w.size() > 2 && w.ends_with("'s")) return {w.substr(0, w.size() - 2), true};
  return {w, false};
}

template <std::size_t N>
bool one_of(std::string_view w, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), w) != set.end();
}

enum class category {
  fault, judgement, hindsight, ball, blame, screwed, human_error, mistake, person_failure
};

struct fixed_phrase {
  std::array<std::string_view, 4> words;  // empty entries end the phrase
  category cat;
};

constexpr std::array<fixed_phrase, 38> fixed_phrases{{
    {{"fault"}, category::fault},
    {{"careless"}, category::judgement},
    {{"carelessly"}, category::judgement},
    {{"carelessness"}, category::judgement},
    {{"negligent"}, category::judgement},
    {{"negligence"}, category::judgement},
    {{"incompetent"}, category::judgement},
    {{"incompetence"}, category::judgement},
    {{"sloppy"}, category::judgement},
    {{"should", "have"}, category::hindsight},
    {{"should", "not", "have"}, category::hindsight},
    {{"shouldn't", "have"}, category::hindsight},
    {{"shouldnt", "have"}, category::hindsight},
    {{"should've"}, category::hindsight},
    {{"shouldve"}, category::hindsight},
    {{"dropped", "the", "ball"}, category::ball},
    {{"drop", "the", "ball"}, category::ball},
    {{"drops", "the", "ball"}, category::ball},
    {{"blame"}, category::blame},
    {{"blamed"}, category::blame},
    {{"blames"}, category::blame},
    {{"blaming"}, category::blame},
    {{"screwed", "up"}, category::screwed},
    {{"screw", "up"}, category::screwed},
    {{"messed", "up"}, category::screwed},
    {{"mess", "up"}, category::screwed},
    {{"human", "error"}, category::human_error},
    {{"human", "errors"}, category::human_error},
    {{"their", "mistake"}, category::mistake},
    {{"his", "mistake"}, category::mistake},
    {{"her", "mistake"}, category::mistake},
    {{"your", "mistake"}, category::mistake},
    {{"their", "mistakes"}, category::mistake},
    {{"his", "mistakes"}, category::mistake},
    {{"her", "mistakes"}, category::mistake},
    {{"your", "mistakes"}, category::mistake},
    {{"their", "fault"}, category::fault},
    {{"at", "fault"}, category::fault},
}};

// "error" as part of a technical term: "bob's error budget".
constexpr std::array<std::string_view, 12> technical_after_error{
    "budget", "budgets", "rate", "rates", "log", "logs", "message", "messages", "code", "codes", "page", "spike"};
// "dave didn't have access" tells what the system did not give, not what a person failed to do.
constexpr std::array<std::string_view, 5> state_after_did_not{"have", "need", "get", "receive", "hear"};

// "fault" about things: page faults, fault tolerance, "no fault found".
constexpr std::array<std::string_view, 12> technical_before_fault{
    "page", "segmentation", "bus", "protection", "hardware", "disk", "network", "power", "ground", "memory", "no",
    "nobody's"};
constexpr std::array<std::string_view, 12> technical_after_fault{
    "tolerance", "tolerant", "injection", "injector", "domain", "domains", "zone", "zones", "isolation", "handler",
    "handling", "detection"};

// Words that make a person the subject of "failed to", "forgot", "missed" and the like. "I" and "we" are left
// alone: telling what you did yourself is what the practice asks for; "they" is as often the replicas.
constexpr std::array<std::string_view, 24> person_words{
    "he",         "she",        "intern",    "someone",   "somebody",  "engineer", "engineers",  "operator",
    "operators",  "developer",  "developers", "dev",      "devs",      "admin",    "admins",     "reviewer",
    "reviewers",  "responder",  "responders", "oncall",   "sre",       "sres",     "person",     "sysadmin"};

// May stand between a subject and its verb: "bob accidentally broke", "alice had missed".
constexpr std::array<std::string_view, 14> between_words{
    "just", "also", "never", "then", "again", "already", "had", "has", "have", "still", "once", "obviously",
    "apparently", "probably"};

// Where the words after a verb stop being its object.
constexpr std::array<std::string_view, 9> clause_words{"and", "but", "so", "because", "then", "while", "which",
                                                       "when", "after"};

enum class verb_kind { none, forgot, did_not, missed, broke, caused, mistake };

struct verb_match {
  verb_kind kind = verb_kind::none;
  std::size_t length = 0;  // tokens
};

verb_match failure_verb(const std::vector<token>& toks, std::size_t i) {
  if (i >= toks.size()) return {};
  const std::string& w = toks[i].word;
  if (w == "forgot" || w == "forgets" || w == "forget" || w == "forgotten" || w == "neglected" ||
      w == "neglects" || w == "skipped") {
    return {verb_kind::forgot, 1};
  }
  auto state_follows = [&](std::size_t at) { return at < toks.size() && one_of(toks[at].word, state_after_did_not); };
  if (w == "failed" || w == "fails") return {verb_kind::did_not, 1};
  if (w == "didn't" || w == "didnt") return state_follows(i + 1) ? verb_match{} : verb_match{verb_kind::did_not, 1};
  if (w == "did" && i + 1 < toks.size() && toks[i + 1].word == "not") {
    return state_follows(i + 2) ? verb_match{} : verb_match{verb_kind::did_not, 2};
  }
  if (w == "missed" || w == "misses" || w == "ignored" || w == "ignores" || w == "overlooked") {
    return {verb_kind::missed, 1};
  }
  if (w == "broke" || w == "breaks") {
    if (i + 1 < toks.size() && toks[i + 1].word == "down") return {};  // "broke down the timeline"
    return {verb_kind::broke, 1};
  }
  if (w == "caused" || w == "causes") return {verb_kind::caused, 1};
  if (w == "mistake" || w == "mistakes" || w == "error" || w == "errors") {
    if (i + 1 < toks.size() && one_of(toks[i + 1].word, technical_after_error)) return {};
    return {verb_kind::mistake, 1};
  }
  return {};
}

struct match {
  std::size_t first;  // token range [first, last)
  std::size_t last;
  category cat;
  verb_kind verb = verb_kind::none;
};

class scanner {
 public:
  explicit scanner(const std::vector<std::string>& people) {
    for (const auto& person : people) {
      auto words = words_of(person);
      if (words.size() > 1) add_name({words.front()});  // "Alice Smith" is also "alice"
      add_name(std::move(words));
    }
  }

  void scan(std::string_view text, std::string_view where, std::vector<blame_note>& out) const {
    if (text.empty()) return;
    auto toks = tokenize(text);
    std::vector<match> found;
    for (std::size_t i = 0; i < toks.size(); ++i) {
      if (auto m = person_failure_at(toks, i)) {
        found.push_back(*m);
        continue;
      }
      if (auto m = fixed_at(toks, i)) found.push_back(*m);
    }
    std::size_t covered = 0;
    for (const auto& m : found) {
      if (m.first < covered) continue;  // one note per stretch of words
      covered = m.last;
      blame_note note;
      note.where = std::string(where);
      note.phrase = std::string(text.substr(toks[m.first].begin, toks[m.last - 1].end - toks[m.first].begin));
      note.suggestion = suggestion(m, text, toks);
      out.push_back(std::move(note));
    }
  }

 private:
  void add_name(std::vector<std::string> words) {
    std::size_t chars = 0;
    for (const auto& w : words) chars += w.size();
    if (words.empty() || chars < 2) return;
    auto& list = names_[words.front()];
    if (std::find(list.begin(), list.end(), words) == list.end()) list.push_back(std::move(words));
  }

  // Length in tokens of a person's name starting at i (the longest that fits), and whether it ends in "'s".
  std::pair<std::size_t, bool> name_at(const std::vector<token>& toks, std::size_t i) const {
    std::size_t best = 0;
    bool possessive = false;
    auto first = strip_possessive(toks[i].word);
    auto lookup = [&](std::string_view w) { return names_.find(std::string(w)); };
    for (auto word : {std::string_view(toks[i].word), first.first}) {
      auto it = lookup(word);
      if (it == names_.end()) continue;
      for (const auto& name : it->second) {
        if (name.size() <= best || i + name.size() > toks.size()) continue;
        bool ok = true;
        bool poss = false;
        for (std::size_t k = 0; k < name.size() && ok; ++k) {
          const std::string& w = toks[i + k].word;
          if (w == name[k]) continue;
          auto [base, has] = strip_possessive(w);
          if (k + 1 == name.size() && has && base == name[k]) {
            poss = true;
          } else {
            ok = false;
          }
        }
        if (ok) {
          best = name.size();
          possessive = poss;
        }
      }
    }
    return {best, possessive};
  }

  std::optional<match> person_failure_at(const std::vector<token>& toks, std::size_t i) const {
    auto [len, possessive] = name_at(toks, i);
    bool pronoun = false;
    if (len == 0) {
      const std::string& w = toks[i].word;
      if (one_of(w, person_words)) {
        len = 1;
        pronoun = true;
      } else if (w == "call" && i > 0 && toks[i - 1].word == "on") {
        len = 1;  // "on-call" / "on call" as the subject
        pronoun = true;
      } else {
        return std::nullopt;
      }
    }
    std::size_t v = i + len;
    if (v >= toks.size()) return std::nullopt;
    // "bob made a mistake"
    if (!pronoun && toks[v].word == "made" && v + 2 < toks.size() &&
        (toks[v + 1].word == "a" || toks[v + 1].word == "an" || toks[v + 1].word == "another")) {
      auto m = failure_verb(toks, v + 2);
      if (m.kind == verb_kind::mistake) return match{i, v + 3, category::person_failure, verb_kind::mistake};
    }
    auto try_verb = [&](std::size_t at) -> std::optional<match> {
      auto m = failure_verb(toks, at);
      if (m.kind == verb_kind::none) return std::nullopt;
      // "bob's mistake" needs the possessive; "bob error" is not a sentence about bob.
      if (m.kind == verb_kind::mistake && !possessive) return std::nullopt;
      if (m.kind != verb_kind::mistake && possessive && at == v) return std::nullopt;  // "bob's broke" is not English
      // Pronouns and role words count only for "failed to" and the forgetting/missing verbs.
      if (pronoun && m.kind != verb_kind::did_not && m.kind != verb_kind::forgot && m.kind != verb_kind::missed) {
        return std::nullopt;
      }
      std::size_t end = at + m.length;
      if (m.kind == verb_kind::did_not && end < toks.size() && toks[end].word == "to") ++end;  // "failed to"
      return match{i, end, category::person_failure, m.kind};
    };
    if (auto m = try_verb(v)) return m;
    // One word between: an adverb or an auxiliary ("alice accidentally broke"), or after a possessive any
    // word ("bob's deploy broke", "bob's big mistake").
    const std::string& between = toks[v].word;
    if (possessive || between.ends_with("ly") || one_of(between, between_words)) return try_verb(v + 1);
    return std::nullopt;
  }

  static std::optional<match> fixed_at(const std::vector<token>& toks, std::size_t i) {
    const fixed_phrase* best = nullptr;
    std::size_t best_len = 0;
    for (const auto& p : fixed_phrases) {
      std::size_t len = 0;
      bool ok = true;
      for (auto w : p.words) {
        if (w.empty()) break;
        if (i + len >= toks.size() || toks[i + len].word != w) {
          ok = false;
          break;
        }
        ++len;
      }
      if (ok && len > best_len) {
        best = &p;
        best_len = len;
      }
    }
    if (best == nullptr) return std::nullopt;
    if (best->cat == category::fault && best_len == 1) {
      if (i > 0 && one_of(toks[i - 1].word, technical_before_fault)) return std::nullopt;
      if (i + 1 < toks.size() && one_of(toks[i + 1].word, technical_after_fault)) return std::nullopt;
    }
    if (best->cat == category::blame && i > 0 && (toks[i - 1].word == "no" || toks[i - 1].word == "git")) {
      return std::nullopt;  // "a no-blame review", "git blame"
    }
    return match{i, i + best_len, best->cat, verb_kind::none};
  }

  // The words after a match up to the end of the clause (at most 6), as typed.
  static std::string object_after(std::string_view text, const std::vector<token>& toks, std::size_t from) {
    if (from >= toks.size()) return {};
    std::size_t last = from;
    for (std::size_t k = from; k < toks.size() && k < from + 6; ++k) {
      if (k > from) {
        auto gap = text.substr(toks[k - 1].end, toks[k].begin - toks[k - 1].end);
        if (gap.find_first_of(".,;:!?()\n\r\"") != std::string_view::npos) break;
      }
      if (k > from && one_of(toks[k].word, clause_words)) break;
      last = k;
    }
    return std::string(detail::ascii::trim_blanks(text.substr(toks[from].begin, toks[last].end - toks[from].begin)));
  }

  static std::string suggestion(const match& m, std::string_view text, const std::vector<token>& toks) {
    switch (m.cat) {
      case category::fault:
        return "'Fault' points at a person. Describe the conditions instead, e.g. 'the config allowed two "
               "primaries at once' — what made this possible?";
      case category::judgement:
        return "This judges a person. Describe what happened and what made it easy, e.g. 'the script ran "
               "against production without a confirmation prompt'.";
      case category::hindsight:
        return "Hindsight makes the right move look obvious. Say what was known at the time and what would have "
               "helped, e.g. 'the runbook did not mention the replica-lag check'.";
      case category::ball:
        return "Describe the gap in the process, e.g. 'the hand-off had no checklist, so the page went "
               "unanswered'.";
      case category::blame:
        return "Look for conditions rather than culprits: what in the system let this happen?";
      case category::screwed:
        return "Describe what happened to the system, e.g. 'the migration locked the orders table for 9 "
               "minutes'.";
      case category::human_error:
        return "'Human error' is where the inquiry starts, not where it ends: what in the tools or process made "
               "the slip likely?";
      case category::mistake:
        return "Describe the action and its context, e.g. 'the command ran against the wrong cluster; both "
               "prompts look alike'.";
      case category::person_failure:
        break;
    }
    std::string obj = object_after(text, toks, m.last);
    auto strip_to = [](std::string s) {
      if (s.size() > 3 && (s.compare(0, 3, "to ") == 0 || s.compare(0, 3, "To ") == 0)) s.erase(0, 3);
      return s;
    };
    switch (m.verb) {
      case verb_kind::forgot:
        if (obj.size() > 3 && (obj.compare(0, 3, "to ") == 0 || obj.compare(0, 3, "To ") == 0)) {
          return "Describe what the system allowed, e.g. 'nothing prompted anyone to " + strip_to(obj) +
                 "' — what would make the step hard to skip?";
        }
        if (!obj.empty()) {
          return "Describe what the system allowed, e.g. 'the work went ahead without " + obj +
                 "' — what made the step easy to miss?";
        }
        return "Describe what the system allowed, e.g. 'the step was skipped' — what made it easy to miss?";
      case verb_kind::did_not:
        obj = strip_to(obj);
        if (!obj.empty()) {
          return "Describe what the system allowed, e.g. 'nothing prompted anyone to " + obj +
                 "' — what would make the step hard to skip?";
        }
        return "Describe what the system allowed, e.g. 'the step did not happen' — what would have prompted it?";
      case verb_kind::missed:
        if (!obj.empty()) {
          return "Describe what the system showed, e.g. '" + obj + " went unnoticed' — what made the signal easy "
                 "to miss?";
        }
        return "Describe what the system showed, e.g. 'the signal went unnoticed' — what made it easy to miss?";
      case verb_kind::broke:
        if (!obj.empty()) {
          return "Describe the change rather than the person, e.g. '" + obj +
                 " broke after a change' — what let the change through?";
        }
        return "Describe the change rather than the person, e.g. 'the service broke after a change' — what let "
               "the change through?";
      case verb_kind::caused:
        return "Describe the chain of events, e.g. 'a change led to " + (obj.empty() ? std::string("the outage") : obj) +
               "' — what let it through?";
      case verb_kind::mistake:
      case verb_kind::none:
        break;
    }
    return "Describe the action and its context rather than the person, e.g. 'the command ran against the wrong "
           "cluster; both prompts look alike'.";
  }

  std::unordered_map<std::string, std::vector<std::vector<std::string>>> names_;
};

// Everyone who appears in the record (the participants and everyone with a known name), by id and by display name.
std::vector<std::string> people_of(const incident_record& r) {
  std::set<std::string, std::less<>> people;
  auto add = [&people, &r](std::string_view user_id) {
    if (user_id.empty() || user_id == bot_author) return;
    people.emplace(user_id);
    if (auto it = r.names.find(user_id); it != r.names.end() && !it->second.empty()) people.insert(it->second);
  };
  for (const auto& user_id : participants_of(r)) add(user_id);
  for (const auto& [user_id, name] : r.names) add(user_id);
  return {people.begin(), people.end()};
}

}  // namespace

std::vector<blame_note> scan_blame(std::string_view text, std::string_view where,
                                   const std::vector<std::string>& people) {
  std::vector<blame_note> out;
  scanner(people).scan(text, where, out);
  return out;
}

std::vector<blame_note> find_blame(const incident_record& r) {
  std::vector<blame_note> out;
  const scanner scan(people_of(r));
  scan.scan(r.inc.summary, "Summary", out);
  scan.scan(r.inc.impact, "Impact", out);
  for (std::size_t i = 0; i < r.whys.size(); ++i) scan.scan(r.whys[i].text, "Why " + std::to_string(i + 1), out);
  for (const auto& f : r.factors) scan.scan(f.text, "Factor (" + std::string(name(f.kind)) + ")", out);
  for (const auto& l : r.lessons) scan.scan(l.text, "Lesson (" + std::string(name(l.kind)) + ")", out);
  for (const auto& a : r.actions) scan.scan(a.text, "Action " + std::to_string(a.id), out);
  // The document's own words: notes and status updates. Chat messages are people talking freely while
  // the incident runs; they stay as they were said.
  for (const auto& e : r.entries) {
    if (e.deleted || (e.kind != entry_kind::note && e.kind != entry_kind::update)) continue;
    scan.scan(e.text, "Timeline " + format_clock(e.at) + " (" + r.display(e.author) + ")", out);
  }
  return out;
}

}  // namespace kintsugi::core
