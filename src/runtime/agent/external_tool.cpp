#include "runtime/agent/external_tool.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ree::agent {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxStderrBytes = 4096;

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const std::string& command, int in_fd, int out_fd, int err_fd) {
  ::setpgid(0, 0);
  ::dup2(in_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  ::close_range(3, ~0u, 0);  // the session file and everything else stay with the agent
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &dfl, nullptr);
  ::sigaction(SIGPIPE, &dfl, nullptr);
  ::sigaction(SIGTERM, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
  ::_exit(127);
}

// Appends what `fd` has now; false at end of file. Bytes beyond `cap` are read and dropped.
bool drain(int fd, std::string& into, size_t cap, bool& over_cap) {
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      const size_t room = into.size() < cap ? cap - into.size() : 0;
      into.append(buf, std::min(size_t(n), room));
      if (size_t(n) > room) over_cap = true;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;  // other errors: treat as closed
  }
}

// Has the child exited? Looks without reaping, so that its process group
// still exists (and cannot be reused) when we kill it.
bool child_exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

// Kills whatever is left of the tool's process group, then reaps the child.
int kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

ProcessOutcome run_process(const std::string& command, const std::string& stdin_text, const ProcessLimits& limits) {
  ProcessOutcome out;
  const auto start = Clock::now();
  // stdin is a socket so that writing to a tool that stopped reading gives
  // EPIPE (MSG_NOSIGNAL) instead of a SIGPIPE for the whole agent.
  int in_pair[2], out_pipe[2], err_pipe[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    out.error = std::string("socketpair: ") + std::strerror(errno);
    return out;
  }
  Fd in_parent(in_pair[0]), in_child(in_pair[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    out.error = std::string("pipe: ") + std::strerror(errno);
    return out;
  }
  Fd out_parent(out_pipe[0]), out_child(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    out.error = std::string("pipe: ") + std::strerror(errno);
    return out;
  }
  Fd err_parent(err_pipe[0]), err_child(err_pipe[1]);

  const pid_t pid = ::fork();
  if (pid < 0) {
    out.error = std::string("fork: ") + std::strerror(errno);
    return out;
  }
  if (pid == 0) exec_child(command, in_child.get(), out_child.get(), err_child.get());
  ::setpgid(pid, pid);  // also here, so that the group exists before we might kill it
  in_child.reset();
  out_child.reset();
  err_child.reset();
  set_nonblocking(in_parent.get());
  set_nonblocking(out_parent.get());
  set_nonblocking(err_parent.get());

  size_t written = 0;
  if (stdin_text.empty()) in_parent.reset();
  bool stdout_over = false, stderr_over = false;
  const auto deadline = start + limits.timeout;
  out.end = ProcessEnd::Exited;
  bool killed = false;
  for (;;) {
    const bool exited = child_exited(pid);
    if (exited) {
      // The tool is done; pipes held open by stray grandchildren must not keep us waiting.
      if (out_parent.open()) drain(out_parent.get(), out.stdout_text, limits.max_output_bytes, stdout_over);
      if (err_parent.open()) drain(err_parent.get(), out.stderr_text, kMaxStderrBytes, stderr_over);
      break;
    }
    if (stdout_over) {
      out.end = ProcessEnd::OutputLimit;
      killed = true;
      break;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      out.end = ProcessEnd::TimedOut;
      killed = true;
      break;
    }
    if (limits.interrupt && limits.interrupt->load()) {
      out.end = ProcessEnd::Interrupted;
      killed = true;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (out_parent.open()) fds[n++] = {out_parent.get(), POLLIN, 0};
    if (err_parent.open()) fds[n++] = {err_parent.get(), POLLIN, 0};
    if (in_parent.open()) fds[n++] = {in_parent.get(), POLLOUT, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                      std::chrono::milliseconds(1);
    const int wait_ms = int(std::min(left, kPollInterval).count());
    if (::poll(fds, n, wait_ms) < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == out_parent.get()) {
        if (!drain(out_parent.get(), out.stdout_text, limits.max_output_bytes, stdout_over)) out_parent.reset();
      } else if (fds[i].fd == err_parent.get()) {
        if (!drain(err_parent.get(), out.stderr_text, kMaxStderrBytes, stderr_over)) err_parent.reset();
      } else if (fds[i].fd == in_parent.get()) {
        const ssize_t w = ::send(in_parent.get(), stdin_text.data() + written, stdin_text.size() - written,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) written += size_t(w);
        const bool failed = w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
        if (failed || written == stdin_text.size()) {
          ::shutdown(in_parent.get(), SHUT_WR);  // end of file for the tool
          in_parent.reset();
        }
      }
    }
  }
  const int status = kill_and_reap(pid);
  if (!killed) {
    if (WIFEXITED(status)) {
      out.end = ProcessEnd::Exited;
      out.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      out.end = ProcessEnd::Signaled;
      out.exit_code = 128 + WTERMSIG(status);
    }
    if (stdout_over) out.end = ProcessEnd::OutputLimit;
  }
  out.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  return out;
}

}  // namespace ree::agent
