#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace kintsugi::test {
namespace {

struct pipe_pair {
  int fd[2] = {-1, -1};
  pipe_pair() {
    if (::pipe2(fd, O_CLOEXEC) != 0) throw std::runtime_error(std::string{"pipe: "} + std::strerror(errno));
  }
  ~pipe_pair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

process_result run_process(const std::string& program, const std::vector<std::string>& args, const std::string& input,
                           const std::map<std::string, std::string>& env) {
  pipe_pair in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);

  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    std::string kv{*e};
    auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_s;
  for (const auto& [k, v] : merged) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + program + ": " + std::strerror(rc));
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);

  ::signal(SIGPIPE, SIG_IGN);
  ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  process_result result;
  std::size_t written = 0;
  if (input.empty()) in.close_end(1);
  std::array<char, 65536> buf{};
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    std::array<pollfd, 3> fds{{{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}, {in.fd[1], POLLOUT, 0}}};
    if (::poll(fds.data(), fds.size(), 30000) <= 0) break;  // 30 s without any progress: give up
    for (int k = 0; k < 2; ++k) {
      auto& p = k == 0 ? out : err;
      auto& text = k == 0 ? result.out : result.err;
      if (p.fd[0] >= 0 && (fds[static_cast<std::size_t>(k)].revents & (POLLIN | POLLHUP | POLLERR))) {
        auto n = ::read(p.fd[0], buf.data(), buf.size());
        if (n > 0) text.append(buf.data(), static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR) p.close_end(0);
      }
    }
    if (in.fd[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      auto n = ::write(in.fd[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) in.close_end(1);
      if (written >= input.size()) in.close_end(1);
    }
  }
  in.close_end(1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace kintsugi::test

namespace kintsugi::test {

child::child(const std::string& program, const std::vector<std::string>& args) { start(program, args, {}); }

child::child(const std::string& program, const std::vector<std::string>& args, const std::string& stderr_file) {
  start(program, args, stderr_file);
}

void child::start(const std::string& program, const std::vector<std::string>& args, const std::string& stderr_file) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  if (!stderr_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Nothing else of the test's: a fake server's listening socket or connections must not live on in the child.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
  }
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    throw std::runtime_error("cannot start " + program);
  }
  pid_ = pid;
  in_ = in[1];
  out_ = out[0];
  ::signal(SIGPIPE, SIG_IGN);
}

child::~child() {
  if (in_ >= 0) ::close(in_);
  if (out_ >= 0) ::close(out_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void child::write(const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(in_, text.data() + done, text.size() - done);
    if (n <= 0) throw std::runtime_error("write to child failed");
    done += static_cast<std::size_t>(n);
  }
}

std::optional<std::string> child::read_line(int timeout_ms) {
  std::array<char, 4096> buf{};
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    auto n = ::read(out_, buf.data(), buf.size());
    if (n <= 0) return std::nullopt;
    buffer_.append(buf.data(), static_cast<std::size_t>(n));
  }
}

void child::kill_hard() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

int child::wait() {
  if (in_ >= 0) {
    ::close(in_);
    in_ = -1;
  }
  int status = 0;
  ::waitpid(pid_, &status, 0);
  return finish(status);
}

int child::finish(int status) {
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::optional<int> child::wait_for(int timeout_ms) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // A pidfd becomes readable when the process ends, so the wait sleeps until then (Linux 5.3+); without one,
  // waitpid is asked again every 10 ms.
  int pidfd = -1;
#ifdef SYS_pidfd_open
  pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
#endif
  std::optional<int> code;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      code = finish(status);
      break;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (done < 0 || left <= 0) break;
    pollfd p{pidfd, POLLIN, 0};
    if (pidfd >= 0) ::poll(&p, 1, static_cast<int>(left));
    else ::poll(nullptr, 0, static_cast<int>(std::min<decltype(left)>(left, 10)));
  }
  if (pidfd >= 0) ::close(pidfd);
  return code;
}

int child::terminate(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  if (auto code = wait_for(timeout_ms)) return *code;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  return finish(status);
}

}  // namespace kintsugi::test
