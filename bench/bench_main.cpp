// kintsugi_bench: the whole benchmark of issue 6 in one program. For each chat scenario it starts a fresh bot
// (the real `kintsugi run` or the Bolt for JavaScript peer in bench/peer) against slack_load, a Slack on 127.0.0.1
// with real TLS, declares incidents with /incident in N channels, drives the load, and reads what the bot stored
// from its own database afterwards. The kintsugi-only scenarios (reminders, postmortem) come from
// kintsugi_bench_core. Prints a table (kintsugi, peer, how many times better kintsugi is) and writes the JSON.
//
// Usage: kintsugi_bench [--quick] [--only a,b] [--bots kintsugi,peer] [--out FILE]
//                       [--kintsugi PATH] [--core PATH] [--peer-dir DIR] [--node PATH]
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"
#include "slack_load.hpp"
#include "temp_dir.hpp"
#include "tls_test_ca.hpp"

namespace {

using namespace kintsugi;
using bench::bench_clock;
using nlohmann::json;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct paths {
  std::string kintsugi = KINTSUGI_BINARY;
  std::string core = KINTSUGI_BENCH_CORE;
  std::string peer_dir = KINTSUGI_PEER_DIR;
  std::string node;
};

// ---- the process under test, seen from /proc ----
struct proc_sample {
  double rss_mib = 0;   // VmRSS
  double peak_mib = 0;  // VmHWM: the peak resident set since the process started
  double cpu_s = 0;     // user + system time of all its threads
};

proc_sample sample(int pid) {
  proc_sample out;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    auto kib = [&] { return std::stod(line.substr(line.find(':') + 1)) / 1024.0; };
    if (line.starts_with("VmRSS:")) out.rss_mib = kib();
    if (line.starts_with("VmHWM:")) out.peak_mib = kib();
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = all.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(all.substr(close + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
    // After "pid (comm) ": state is field 3 of proc(5); utime and stime are fields 14 and 15.
    if (f.size() > 12) out.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return out;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double round_to(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

// ---- one bot ----
struct bot_setup {
  std::string name;    // "kintsugi" | "peer"
  std::string db;      // its SQLite file
  std::string count_sql;  // people's messages it stored
  std::unique_ptr<test::child> process;
  std::string log;
};

bot_setup start_bot(const std::string& name, const paths& p, const test::temp_dir& dir, const test::tls_test_ca& ca,
                    const bench::slack_load& load) {
  bot_setup b;
  b.name = name;
  b.log = dir.file(name + ".stderr");
  if (name == "kintsugi") {
    b.db = dir.file("kintsugi.db");
    b.count_sql = "SELECT count(*) FROM timeline_entries WHERE kind = 'message' AND source_id IS NOT NULL";
    const std::string config = dir.file("kintsugi.json");
    std::ofstream(config) << json{{"database", b.db},
                                  {"log_level", "warn"},
                                  {"tls", {{"ca_file", ca.ca_file()}}},
                                  {"slack",
                                   {{"mode", "socket"},
                                    {"app_token", bench::slack_load::app_token},
                                    {"bot_token", bench::slack_load::bot_token},
                                    {"api_base_url", load.api_url()}}}}
                                 .dump(2);
    // The configuration file is the whole truth: kintsugi's environment variables must not override it.
    b.process = std::make_unique<test::child>(
        "/usr/bin/env", std::vector<std::string>{"-u", "SLACK_BOT_TOKEN", "-u", "SLACK_APP_TOKEN", "-u", "KINTSUGI_DATABASE",
                                                 p.kintsugi, "run", "--config", config},
        b.log);
  } else {
    b.db = dir.file("peer.db");
    b.count_sql = "SELECT count(*) FROM messages";
    b.process = std::make_unique<test::child>(
        "/usr/bin/env",
        std::vector<std::string>{"NODE_EXTRA_CA_CERTS=" + ca.ca_file(), std::string("SLACK_BOT_TOKEN=") + bench::slack_load::bot_token,
                                 std::string("SLACK_APP_TOKEN=") + bench::slack_load::app_token,
                                 "SLACK_API_URL=" + load.api_url(), "PEER_DB=" + b.db, p.node, p.peer_dir + "/app.js"},
        b.log);
  }
  return b;
}

std::size_t stored(const bot_setup& b) {
  if (!fs::exists(b.db)) return 0;
  try {
    SQLite::Database db(b.db, SQLite::OPEN_READONLY);
    db.setBusyTimeout(2000);
    SQLite::Statement q(db, b.count_sql);
    return q.executeStep() ? static_cast<std::size_t>(q.getColumn(0).getInt64()) : 0;
  } catch (const std::exception&) {
    return 0;  // not created yet
  }
}

std::string tail_of(const std::string& file) {
  std::ifstream in(file);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

// ---- scenarios ----
struct scenario_size {
  std::size_t channels = 10;
  double steady_rate = 500;
  milliseconds steady_time{60000};
  milliseconds max_time{30000};
  std::size_t burst = 50000;
  std::size_t backfill = 10000;
};

asio::awaitable<void> pause(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(use_tuple);
}

// Waits until the bot's database holds `target` people's messages, or holds still for a second after the
// last ack. Returns the count and when it got there.
asio::awaitable<std::pair<std::size_t, bench_clock::time_point>> settle(const bot_setup& b, const bench::slack_load& load,
                                                                        std::size_t target, milliseconds timeout) {
  const auto deadline = bench_clock::now() + timeout;
  std::size_t count = stored(b);
  if (count >= target) co_return std::pair{count, load.last_ack()};
  auto changed = std::max(load.last_ack(), bench_clock::now());
  while (count < target && bench_clock::now() - changed < seconds(1) && bench_clock::now() < deadline) {
    co_await pause(milliseconds(20));
    const std::size_t now_count = stored(b);
    if (now_count != count) {
      count = now_count;
      changed = bench_clock::now();
    }
  }
  co_return std::pair{count, count >= target ? bench_clock::now() : changed};
}

asio::awaitable<json> drive(const std::string& scenario, const scenario_size& size, bot_setup& bot,
                            bench::slack_load& load) {
  if (!(co_await load.connected(seconds(30))))
    throw std::runtime_error(bot.name + " did not open a Socket Mode connection within 30 s; its log:\n" + tail_of(bot.log));
  // Incidents in every channel, so that every message there belongs to one.
  for (std::size_t c = 0; c < size.channels; ++c)
    co_await load.push_command(c, "start Bench incident " + std::to_string(c + 1) + " sev2");
  if (!(co_await load.drained(seconds(20)))) throw std::runtime_error(bot.name + " did not ack its /incident commands");
  const auto posted_by = bench_clock::now() + seconds(20);
  while (load.calls("chat.postMessage") < size.channels && bench_clock::now() < posted_by) co_await pause(milliseconds(20));
  co_await pause(milliseconds(500));  // let the declarations' follow-up calls finish: what is left is idle
  const int pid = bot.process->pid();
  const proc_sample idle = sample(pid);
  const std::size_t before = stored(bot);

  // A profiling aid: this command, given the bot's pid, runs right before the load starts (for example
  // `callgrind_control -z`, so that a profile holds the load alone).
  if (const char* hook = std::getenv("KINTSUGI_BENCH_BEFORE_LOAD"); hook != nullptr && *hook != '\0') {
    std::string command = hook;
    command += ' ';
    command += std::to_string(pid);
    if (std::system(command.c_str()) != 0)
      std::cerr << "KINTSUGI_BENCH_BEFORE_LOAD failed\n";
  }

  json out;
  load.clear_latencies();
  const auto cpu_before = sample(pid).cpu_s;
  auto t0 = bench_clock::now();
  std::size_t expected = 0;
  if (scenario == "steady") {
    load.set_window(1000);
    const auto n = static_cast<std::size_t>(size.steady_rate * static_cast<double>(size.steady_time.count()) / 1000.0);
    expected = co_await load.push_messages(n, size.steady_rate, size.steady_time + seconds(10));
  } else if (scenario == "max") {
    load.set_window(1000);
    expected = co_await load.push_messages(SIZE_MAX, 0, size.max_time);
  } else {  // burst_backfill
    load.set_window(1000);
    load.add_history(size.backfill);  // said while the socket is down
    load.drop_socket();
    if (!(co_await load.connected(seconds(30)))) throw std::runtime_error(bot.name + " did not reconnect after the drop");
    t0 = bench_clock::now();
    expected = size.backfill + co_await load.push_messages(size.burst, 0, seconds(300));
    out["backfill_messages"] = size.backfill;
  }
  const std::size_t sent = load.messages_pushed();
  const bool all_acked = co_await load.drained(seconds(60));
  auto [count, done_at] = co_await settle(bot, load, before + expected, seconds(120));
  const proc_sample after = sample(pid);
  const std::size_t got = count - before;
  const double secs = std::chrono::duration<double>(done_at - t0).count();
  const auto lat = load.latencies();

  out["events_per_s"] = round_to(secs > 0 ? static_cast<double>(got) / secs : 0, 1);
  out["ack_p50_ms"] = round_to(percentile(lat, 0.50), 3);
  out["ack_p99_ms"] = round_to(percentile(lat, 0.99), 3);
  out["ack_p999_ms"] = round_to(percentile(lat, 0.999), 3);
  out["peak_rss_mib"] = round_to(after.peak_mib, 1);
  out["cpu_s_per_10k"] = round_to(got > 0 ? (after.cpu_s - cpu_before) * 10000.0 / static_cast<double>(got) : 0, 3);
  out["seconds"] = round_to(secs, 3);
  out["idle_rss_mib"] = round_to(idle.rss_mib, 1);
  out["events_sent"] = sent;
  out["events_expected"] = expected;
  out["events_stored"] = got;
  out["acks"] = lat.size();
  out["all_acked"] = all_acked;
  out["envelope_bytes"] = load.envelope_bytes();
  co_return out;
}

json run_chat_scenario(const std::string& scenario, const std::string& bot_name, const scenario_size& size,
                       const paths& p) {
  asio::io_context io;
  test::tls_test_ca ca("kintsugi bench CA");
  test::temp_dir dir;
  bench::slack_load load(io, ca.server_context({"localhost"}, {"127.0.0.1"}), size.channels, 20);
  bot_setup bot = start_bot(bot_name, p, dir, ca, load);
  json result;
  std::exception_ptr failure;
  asio::co_spawn(io, drive(scenario, size, bot, load), [&](std::exception_ptr e, json r) {
    failure = e;
    result = std::move(r);
    io.stop();
  });
  io.run();
  const int code = bot.process->terminate(10000);
  if (failure) std::rethrow_exception(failure);
  // What is in the database once the bot has stopped is what it stored durably.
  result["exit_code"] = code;
  return result;
}

// ---- the kintsugi-only scenarios ----
std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs kintsugi_bench_core to its end (its set-up alone takes half a minute at full size) and reads its JSON.
json run_core(const paths& p, bool quick, const std::vector<std::string>& which) {
  std::string cmd = shell_quoted(p.core);
  if (quick) cmd += " --quick";
  for (const auto& w : which) {
    cmd += ' ';
    cmd += shell_quoted(w);
  }
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) throw std::runtime_error("could not start " + p.core);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  const int status = ::pclose(f);
  if (status != 0) throw std::runtime_error("kintsugi_bench_core failed (status " + std::to_string(status) + ")");
  return json::parse(out).at("scenarios");
}

// ---- output ----
std::string first_line_of(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[256];
    if (std::fgets(buf, sizeof buf, f) != nullptr) out = buf;
    ::pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

json machine(const paths& p, bool quick) {
  json m;
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);)
    if (line.starts_with("model name")) {
      m["cpu"] = line.substr(line.find(':') + 2);
      break;
    }
  m["cores"] = std::thread::hardware_concurrency();
  std::ifstream mem("/proc/meminfo");
  for (std::string line; std::getline(mem, line);)
    if (line.starts_with("MemTotal:")) m["memory_gib"] = round_to(std::stod(line.substr(9)) / 1024.0 / 1024.0, 1);
  utsname u{};
  if (::uname(&u) == 0) m["kernel"] = std::string(u.sysname) + " " + u.release;
  m["build"] = KINTSUGI_BUILD_TYPE;
  m["quick"] = quick;
  if (!p.node.empty()) {
    m["node"] = first_line_of(p.node + " --version");
    auto version_of = [&](const std::string& pkg) {
      std::ifstream f(p.peer_dir + "/node_modules/" + pkg + "/package.json");
      auto j = json::parse(f, nullptr, false);
      return j.is_object() ? j.value("version", "") : std::string{};
    };
    m["bolt"] = version_of("@slack/bolt");
    m["better_sqlite3"] = version_of("better-sqlite3");
  }
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  m["date"] = when;
  return m;
}

struct metric {
  const char* key;
  bool higher_is_better;
};
constexpr metric metrics[] = {{"events_per_s", true},   {"ack_p50_ms", false},    {"ack_p99_ms", false},
                              {"ack_p999_ms", false},   {"peak_rss_mib", false},  {"idle_rss_mib", false},
                              {"cpu_s_per_10k", false}, {"seconds", false},       {"startup_s", false},
                              {"fire_s", false},        {"reminders_per_s", true}, {"load_s", false},
                              {"render_s", false}};

std::string cell(const json& side, const char* key) {
  if (!side.is_object() || !side.contains(key) || !side[key].is_number()) return "-";
  char buf[32];
  const double v = side[key].get<double>();
  if (v >= 1000) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (v >= 100) std::snprintf(buf, sizeof buf, "%.1f", v);
  else std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// How many times better kintsugi is (higher: more events; lower: less latency, memory, CPU, time).
void add_ratios(json& scenario) {
  if (!scenario.contains("kintsugi") || !scenario.contains("peer")) return;
  const json& k = scenario["kintsugi"];
  const json& p = scenario["peer"];
  json ratio = json::object();
  for (const auto& m : metrics) {
    if (!k.contains(m.key) || !p.contains(m.key) || !k[m.key].is_number() || !p[m.key].is_number()) continue;
    const double kv = k[m.key].get<double>();
    const double pv = p[m.key].get<double>();
    const double r = m.higher_is_better ? (pv > 0 ? kv / pv : 0) : (kv > 0 ? pv / kv : 0);
    ratio[m.key] = round_to(r, 2);
  }
  scenario["kintsugi_advantage"] = ratio;
}

void print_table(const json& results) {
  std::printf("\n%-15s %-14s %12s %12s %10s\n", "scenario", "metric", "kintsugi", "peer", "advantage");
  for (const auto& [name, s] : results["scenarios"].items()) {
    bool first = true;
    for (const auto& m : metrics) {
      const bool k = s.contains("kintsugi") && s["kintsugi"].contains(m.key);
      const bool p = s.contains("peer") && s["peer"].contains(m.key);
      if (!k && !p) continue;
      std::string adv = "-";
      if (s.contains("kintsugi_advantage") && s["kintsugi_advantage"].contains(m.key)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1fx", s["kintsugi_advantage"][m.key].get<double>());
        adv = buf;
      }
      std::printf("%-15s %-14s %12s %12s %10s\n", first ? name.c_str() : "", m.key,
                  cell(s.value("kintsugi", json{}), m.key).c_str(), cell(s.value("peer", json{}), m.key).c_str(), adv.c_str());
      first = false;
    }
  }
  std::printf("\nadvantage: how many times better kintsugi is (more events/s; less latency, memory, CPU, time).\n");
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream in(path ? path : "/usr/local/bin:/usr/bin");
  for (std::string dir; std::getline(in, dir, ':');)
    if (!dir.empty() && ::access((dir + "/node").c_str(), X_OK) == 0) return dir + "/node";
  return {};
}

int usage(std::ostream& out = std::cerr) {
  out << "usage: kintsugi_bench [--quick] [--only steady,max,burst_backfill,reminders,postmortem]\n"
               "                      [--bots kintsugi,peer] [--out FILE] [--kintsugi PATH] [--core PATH]\n"
               "                      [--peer-dir DIR] [--node PATH]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  paths p;
  p.node = find_node();
  bool quick = false;
  std::vector<std::string> only{"steady", "max", "burst_backfill", "reminders", "postmortem"};
  std::vector<std::string> bots{"kintsugi", "peer"};
  std::string out_file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--quick") quick = true;
      else if (a == "--only") only = split(value());
      else if (a == "--bots") bots = split(value());
      else if (a == "--out") out_file = value();
      else if (a == "--kintsugi") p.kintsugi = value();
      else if (a == "--core") p.core = value();
      else if (a == "--peer-dir") p.peer_dir = value();
      else if (a == "--node") p.node = value();
      else if (a == "--help" || a == "-h") return usage(std::cout), 0;
      else {
        std::cerr << "kintsugi_bench: unknown option '" << a << "'\n";
        return usage();
      }
    } catch (const std::exception& e) {
      std::cerr << "kintsugi_bench: " << e.what() << "\n";
      return usage();
    }
  }
  for (const auto& name : only)
    if (name != "steady" && name != "max" && name != "burst_backfill" && name != "reminders" && name != "postmortem") {
      std::cerr << "kintsugi_bench: unknown scenario '" << name << "'\n";
      return usage();
    }
  for (const auto& name : bots)
    if (name != "kintsugi" && name != "peer") {
      std::cerr << "kintsugi_bench: unknown bot '" << name << "' (kintsugi or peer)\n";
      return usage();
    }
  const bool with_peer = std::find(bots.begin(), bots.end(), "peer") != bots.end();
  if (with_peer && (p.node.empty() || !fs::exists(p.peer_dir + "/node_modules/@slack/bolt"))) {
    std::cerr << "kintsugi_bench: the Bolt peer is not installed (need node and " << p.peer_dir
              << "/node_modules; bench/run installs them), or leave it out with --bots kintsugi\n";
    return 2;
  }
  scenario_size size;
  if (quick) {
    size.steady_time = milliseconds(6000);
    size.max_time = milliseconds(3000);
    size.burst = 5000;
    size.backfill = 1000;
  }

  json results{{"machine", machine(p, quick)}, {"scenarios", json::object()}};
  int failures = 0;
  for (const std::string scenario : {"steady", "max", "burst_backfill"}) {
    if (std::find(only.begin(), only.end(), scenario) == only.end()) continue;
    for (const auto& bot : bots) {
      std::cerr << "bench: " << scenario << " with " << bot << "…\n";
      try {
        results["scenarios"][scenario][bot] = run_chat_scenario(scenario, bot, size, p);
      } catch (const std::exception& e) {
        std::cerr << "bench: " << scenario << " with " << bot << " failed: " << e.what() << "\n";
        results["scenarios"][scenario][bot] = json{{"error", e.what()}};
        ++failures;
      }
    }
    add_ratios(results["scenarios"][scenario]);
  }
  std::vector<std::string> core;
  for (const std::string s : {"reminders", "postmortem"})
    if (std::find(only.begin(), only.end(), s) != only.end()) core.push_back(s);
  if (!core.empty()) {
    std::cerr << "bench: reminders and postmortem (kintsugi only)…\n";
    try {
      for (const auto& one : core) {  // each in a process of its own, so that each peak RSS is its own
        const json kintsugi_only = run_core(p, quick, {one});
        for (const auto& [name, s] : kintsugi_only.items()) results["scenarios"][name] = s;
      }
    } catch (const std::exception& e) {
      std::cerr << "bench: " << e.what() << "\n";
      ++failures;
    }
  }
  print_table(results);
  if (!out_file.empty()) {
    fs::create_directories(fs::path(out_file).parent_path());
    std::ofstream(out_file) << results.dump(2) << "\n";
    std::printf("written to %s\n", out_file.c_str());
  }
  return failures == 0 ? 0 : 1;
}
