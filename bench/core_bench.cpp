// kintsugi-only scenarios of issue 6 that need no chat platform: `reminders` (100k open action items with reminders
// spread over a month: start-up time, time to fire 10k due reminders, peak RSS) and `postmortem` (an incident with
// 50k timeline entries: render time and peak RSS). Everything goes through the real engine and SQLite store on a
// file in a temporary directory; the set-up is not timed.
//
// Usage: kintsugi_bench_core [--quick] [reminders|postmortem]...   (all when none is named)
// Prints one JSON object: {"scenarios":{"reminders":{…},"postmortem":{…}}}. --quick runs a tenth of the size.
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/dispatcher.hpp"
#include "core/engine.hpp"
#include "core/postmortem.hpp"
#include "core/record.hpp"
#include "core/time.hpp"
#include "storage/sqlite_store.hpp"

namespace {

using namespace kintsugi;
using clock_type = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Peak resident set of this process so far, in MiB (Linux reports ru_maxrss in KiB).
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// A directory of its own under /tmp, removed at the end.
struct scratch_dir {
  scratch_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kintsugi-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot make a temporary directory");
    path = pattern;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

const core::timestamp t0{std::chrono::sys_days{std::chrono::year{2026} / 11 / 2} + std::chrono::hours{9}};

// Feeds events in batches of 1000 (one transaction each, as the runtime's group commit would) and drops the outbox.
void feed(core::dispatcher& d, std::vector<core::event>& batch, core::timestamp now) {
  if (batch.empty()) return;
  d.process(std::span<const core::event>{batch});
  while (d.deliver([](const core::action&) { return true; }, now, 100000) > 0) {
  }
  batch.clear();
}

json reminders(std::size_t items) {
  scratch_dir dir;
  const std::string db = (dir.path / "kintsugi.db").string();
  core::engine_options options;
  {
    // Set-up: incidents of 100 items each; item k is due k * 30 days / items from t0, so the due dates (and their
    // reminders) spread over a month.
    storage::sqlite_store store{db};
    core::engine engine{store, options};
    core::dispatcher d{store, engine};
    std::vector<core::event> batch;
    std::size_t incident = 0;
    for (std::size_t k = 0; k < items; ++k) {
      const std::string channel = "inc-" + std::to_string(k / 100);
      if (k % 100 == 0) {
        ++incident;
        batch.push_back(core::command_invoked{"s" + std::to_string(incident), channel, "alice",
                                              "start Bench incident " + std::to_string(incident), t0});
      }
      const auto due = std::chrono::floor<std::chrono::days>(t0 + std::chrono::hours{24 * 30} * static_cast<long>(k) /
                                                                       static_cast<long>(items)) +
                       std::chrono::days{3};
      const std::string date = core::format_iso(due).substr(0, 10);
      batch.push_back(core::command_invoked{"a" + std::to_string(k), channel, "alice",
                                            "action add Fix thing " + std::to_string(k) + " @bob due:" + date, t0});
      if (batch.size() >= 1000) feed(d, batch, t0);
    }
    feed(d, batch, t0);
  }
  // Start-up: open the store (migrations checked), build the engine, find the next reminder.
  const auto start = clock_type::now();
  storage::sqlite_store store{db};
  core::engine engine{store, options};
  core::dispatcher d{store, engine};
  const auto next = store.next_reminder_due();
  const double startup_s = seconds_since(start);
  // Fire: ticks move the clock forward a day at a time until 10k reminders (a tenth of the items) went out.
  const std::size_t wanted = items / 10;
  std::size_t fired = 0;
  core::timestamp now = next ? *next : t0;
  const auto firing = clock_type::now();
  for (int day = 0; day < 60 && fired < wanted; ++day) {
    std::vector<core::event> tick{core::clock_tick{now}};
    d.process(std::span<const core::event>{tick});
    fired += d.deliver([](const core::action&) { return true; }, now, 1000000);
    now += std::chrono::hours{24};
  }
  const double fire_s = seconds_since(firing);
  return json{{"open_items", items},
              {"startup_s", startup_s},
              {"reminders_fired", fired},
              {"fire_s", fire_s},
              {"reminders_per_s", fire_s > 0 ? static_cast<double>(fired) / fire_s : 0.0},
              {"peak_rss_mib", peak_rss_mib()}};
}

json postmortem(std::size_t entries) {
  scratch_dir dir;
  const std::string db = (dir.path / "kintsugi.db").string();
  {
    storage::sqlite_store store{db};
    core::engine engine{store, {}};
    core::dispatcher d{store, engine};
    std::vector<core::event> batch;
    batch.push_back(core::command_invoked{"s1", "inc-big", "alice", "start A very long outage sev1", t0});
    for (std::size_t k = 0; k < entries; ++k) {
      const auto at = t0 + std::chrono::seconds{static_cast<long>(k) + 1};
      batch.push_back(core::message_posted{"m" + std::to_string(k), "inc-big", k % 3 == 0 ? "alice" : "bob",
                                           "step " + std::to_string(k) + ": checked the replica lag, it is still " +
                                               std::to_string(k % 97) + " s behind; <@carol> is looking at the disk",
                                           at, false, {}});
      if (batch.size() >= 1000) feed(d, batch, at);
    }
    feed(d, batch, t0);
  }
  storage::sqlite_store store{db};
  const auto start = clock_type::now();
  auto record = core::load_record(store, 1);
  const double load_s = seconds_since(start);
  const auto rendering = clock_type::now();
  const std::string doc = record ? core::render_postmortem_markdown(*record) : std::string{};
  const double render_s = seconds_since(rendering);
  return json{{"entries", record ? record->entries.size() : 0},
              {"load_s", load_s},
              {"render_s", render_s},
              {"seconds", load_s + render_s},
              {"document_bytes", doc.size()},
              {"peak_rss_mib", peak_rss_mib()}};
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") quick = true;
    else if (arg == "reminders" || arg == "postmortem") wanted.push_back(arg);
    else {
      std::cerr << "kintsugi_bench_core: unknown argument '" << arg << "'\n"
                << "usage: kintsugi_bench_core [--quick] [reminders|postmortem]...\n";
      return 2;
    }
  }
  if (wanted.empty()) wanted = {"reminders", "postmortem"};
  const std::size_t scale = quick ? 10 : 1;
  json out{{"quick", quick}, {"scenarios", json::object()}};
  try {
    for (const auto& name : wanted) {
      if (name == "reminders") out["scenarios"]["reminders"]["kintsugi"] = reminders(100000 / scale);
      if (name == "postmortem") out["scenarios"]["postmortem"]["kintsugi"] = postmortem(50000 / scale);
    }
  } catch (const std::exception& e) {
    std::cerr << "kintsugi_bench_core: " << e.what() << "\n";
    return 1;
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}
