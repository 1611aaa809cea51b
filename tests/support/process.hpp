#pragma once
// Runs a program to completion with the given stdin, capturing stdout, stderr and the exit code.
// For end-to-end tests of the real kintsugi binary.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kintsugi::test {

struct process_result {
  int exit_code = -1;  // -1: killed by a signal (see signal)
  int signal = 0;
  std::string out;
  std::string err;
};

// `env` entries are added to (or replace) the parent's environment.
process_result run_process(const std::string& program, const std::vector<std::string>& args, const std::string& input = {},
                           const std::map<std::string, std::string>& env = {});

// Splits text into lines (no trailing empty line).
std::vector<std::string> lines_of(const std::string& text);

}  // namespace kintsugi::test

namespace kintsugi::test {

// A running program with pipes to talk to it line by line, for tests that kill it halfway.
class child {
 public:
  child(const std::string& program, const std::vector<std::string>& args);
  // The same, with the program's stderr written to `stderr_file` (created or truncated) instead of inherited, so
  // a test can read its log afterwards without anyone having to drain a pipe while it runs. The program gets
  // no other descriptor of the test's (no fake server's sockets).
  child(const std::string& program, const std::vector<std::string>& args, const std::string& stderr_file);
  ~child();
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  void write(const std::string& text);
  // The next stdout line, or nullopt when none arrives within `timeout_ms` or the output ended.
  std::optional<std::string> read_line(int timeout_ms = 10000);
  void kill_hard();  // SIGKILL, no chance to clean up
  int wait();        // exit code, or -signal
  // Waits at most `timeout_ms` for the program to end by itself: its exit code (or -signal), else nullopt.
  std::optional<int> wait_for(int timeout_ms);
  // SIGTERM (a clean stop), then waits at most `timeout_ms` for the exit; SIGKILL if it has not exited by then.
  // Returns the exit code, or -signal (-SIGKILL after the timeout).
  int terminate(int timeout_ms = 10000);
  // The program's process id (for reading /proc/<pid>), -1 once it was waited for.
  int pid() const { return pid_; }

 private:
  void start(const std::string& program, const std::vector<std::string>& args, const std::string& stderr_file);
  int finish(int status);

  int pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string buffer_;
};

}  // namespace kintsugi::test
