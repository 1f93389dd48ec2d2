// S17, daemon: a long-lived service that outlives its clients. ipcd is that
// service for shared objects: clients come and go, and what they leave in
// it stays until the daemon stops.
//
//   s17_daemon [--socket PATH] [--ipcd PATH] [--clients N]
//
// Without --socket, this program starts ipcd in the foreground as its child
// on a private socket (the ipcd found next to this program, or --ipcd), runs
// N short-lived client processes one after another — each connects, adds 1
// to a counter, signs a guestbook dict, and exits — shows that their state
// is still there after all of them have gone, then stops the daemon with
// SIGTERM and reports its exit status (0: a clean shutdown). With --socket
// PATH it uses the ipcd already running there and leaves it running.
//
// Running ipcd for real:
//  - As a system service, under systemd: `systemctl enable --now ipcd`
//    (systemd/ipcd.service; Type=notify, so systemd knows when it is ready;
//    socket /run/ipcd/ipcd.sock, which clients find by default). systemd
//    restarts it if it dies, and `systemctl stop ipcd` sends the SIGTERM
//    that shuts it down cleanly. `journalctl -u ipcd` shows its log.
//  - In the foreground, for development: run `ipcd` (or `ipcd --socket
//    PATH`) in a terminal; it logs to stderr, and Ctrl-C or SIGTERM stops
//    it cleanly. Clients use $IPCD_SOCKET or the default per-user socket.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "common/cli.h"
#include "ipc/manager.h"

namespace {

constexpr char kUsage[] =
    "usage: s17_daemon [--socket PATH] [--ipcd PATH] [--clients N]\n"
    "Starts ipcd (unless --socket names a running one), runs N short-lived\n"
    "clients one after another, shows their state outlives them, and stops\n"
    "the daemon it started with SIGTERM.";

// The ipcd installed or built next to this program.
std::string IpcdNextToMe() {
  std::error_code error;
  const auto me = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string("ipcd") : (me.parent_path() / "ipcd").string();
}

// Starts `ipcd --socket socket_path` in the foreground, as a child whose
// stderr (the daemon's log) is ours. Returns its pid, or -1.
pid_t StartIpcd(const std::string& ipcd, const std::string& socket_path) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl(ipcd.c_str(), ipcd.c_str(), "--socket", socket_path.c_str(),
          static_cast<char*>(nullptr));
    std::cerr << "s17_daemon: cannot run " << ipcd << ": "
              << std::strerror(errno) << std::endl;
    _exit(127);
  }
  return pid;
}

// SIGTERM, then the exit status: 0 when the daemon shut down cleanly.
int StopIpcd(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One short-lived client, in its own process: connects, leaves its mark,
// exits. Returns its exit status.
int RunClient(const std::string& url, int index, const std::string& counter,
              const std::string& guestbook) {
  const pid_t pid = fork();
  if (pid == 0) {
    auto manager = ipc::Manager::Connect(url, {.client_name = "s17-client"});
    if (!manager.ok()) _exit(examples::Fail("client", manager.status()));
    auto visits = manager->Counter(counter).Add(1);
    if (!visits.ok()) _exit(examples::Fail("client", visits.status()));
    const std::string me = "client-" + std::to_string(index);
    if (auto s = manager->Dict(guestbook).Set(me, "was here"); !s.ok()) {
      _exit(examples::Fail("client", s));
    }
    std::cout << me << " (pid " << getpid() << "): visits = " << *visits
              << ", then exits" << std::endl;
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const std::string socket = cli.Flag("--socket", "");
  const std::string ipcd = cli.Flag("--ipcd", IpcdNextToMe());
  const long clients = cli.CountFlag("--clients", 3);
  int exit_code = 0;
  if (!cli.Finish(0, &exit_code)) return exit_code;
  if (!cli.positional().empty()) return cli.Usage(&exit_code);

  std::string dir;  // The private socket's directory, when we start ipcd.
  std::string url = "unix://" + socket;
  pid_t daemon = -1;
  if (socket.empty()) {
    char tmpl[] = "/tmp/s17-daemon-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      return examples::Fail(
          "s17_daemon", ipc::ErrnoStatus("mkdtemp /tmp/s17-daemon-*", errno));
    }
    dir = tmpl;
    url = "unix://" + dir + "/ipcd.sock";
    daemon = StartIpcd(ipcd, dir + "/ipcd.sock");
    std::cout << "s17: started ipcd (pid " << daemon
              << ") in the foreground on " << url << std::endl;
  } else {
    std::cout << "s17: using the running ipcd at " << url << std::endl;
  }

  // The daemon may still be starting: wait for it to listen.
  auto manager = ipc::Manager::Connect(
      url, {.client_name = "s17", .wait_for_daemon = std::chrono::seconds(10)});
  int rc = 0;
  if (!manager.ok()) {
    rc = examples::Fail("s17_daemon", manager.status());
  } else {
    const std::string base = "s17-" + std::to_string(getpid());
    const std::string counter = base + "-visits",
                      guestbook = base + "-guestbook";
    for (long i = 1; i <= clients && rc == 0; ++i) {
      rc = RunClient(url, static_cast<int>(i), counter, guestbook);
    }
    auto visits = manager->Counter(counter).Get();
    auto signed_by = manager->Dict(guestbook).Items();
    if (rc == 0 && (!visits.ok() || !signed_by.ok())) {
      rc = examples::Fail("s17_daemon",
                          visits.ok() ? signed_by.status() : visits.status());
    }
    if (rc == 0) {
      std::cout << "all clients have exited; ipcd still holds: visits = "
                << *visits
                << ", guestbook = " << ipc::Value(*signed_by).ToJson()
                << std::endl;
    }
    (void)manager->Destroy(counter);
    (void)manager->Destroy(guestbook);
    manager->Close();
  }
  if (daemon > 0) {
    const int status = StopIpcd(daemon);
    std::cout << "s17: stopped ipcd with SIGTERM: exit status " << status
              << (status == 0 ? " (clean shutdown)" : "") << std::endl;
    if (status != 0 && rc == 0) rc = 1;
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  return rc;
}
