// S20, authenticated remote manager: Python's
//
//   m = BaseManager(address=('', 50000), authkey=b'secret'); m.start()
//   BaseManager(address=(host, 50000), authkey=b'wrong').connect()
//                                     # -> AuthenticationError
//
// with ipcd: this program starts ipcd with a tcp:// listener on loopback
// and a key in a temporary 0600 file, then connects three clients: one with
// the right key (it works), one with a wrong key and one with none (both
// refused, with the error printed). Neither side ever sends the key: each
// proves it holds it with an HMAC of the other's random challenge, so a
// client also refuses a daemon that cannot prove it.
//
//   s20_authenticated_manager [--ipcd PATH]
//
// For a real deployment, listen on the address other hosts reach (ipcd
// --listen tcp://10.0.0.5:7070 --authkey-file /etc/ipcd/key) and give the
// clients the same key (ipcctl --url tcp://10.0.0.5:7070 --authkey-file
// KEY ...; in C++, ManagerOptions::authkey).
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>

#include "common/cli.h"
#include "ipc/channel.h"
#include "ipc/manager.h"

namespace {

constexpr char kUsage[] =
    "usage: s20_authenticated_manager [--ipcd PATH]\n"
    "Starts ipcd on tcp://127.0.0.1 with a key, then shows a client with the\n"
    "right key served and clients with a wrong key or none refused.";

std::string IpcdNextToMe() {
  std::error_code error;
  const auto me = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string("ipcd") : (me.parent_path() / "ipcd").string();
}

// A loopback tcp:// URL whose port was free a moment ago: ipcd needs the
// port on its command line, and the system picks one for port 0.
ipc::Result<std::string> FreeLoopbackUrl() {
  IPC_ASSIGN_OR_RETURN(ipc::Listener probe, ipc::Listen("tcp://127.0.0.1:0"));
  std::string url = probe.url();
  probe.Close();
  return url;
}

// Connects with key ("" = none) and reports what happened, one line.
bool TryClient(const std::string& who, const std::string& url,
               const std::string& key, const std::string& counter) {
  auto manager = ipc::Manager::Connect(
      url, {.authkey = key, .wait_for_daemon = std::chrono::seconds(10)});
  if (!manager.ok()) {
    std::cout << who << ": refused: " << manager.status().message()
              << std::endl;
    return false;
  }
  auto greetings = manager->Counter(counter).Add(1);
  if (!greetings.ok()) {
    std::cout << who << ": failed: " << greetings.status().message()
              << std::endl;
    return false;
  }
  std::cout << who << ": connected; counter '" << counter
            << "' = " << *greetings << std::endl;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const std::string ipcd = cli.Flag("--ipcd", IpcdNextToMe());
  int exit_code = 0;
  if (!cli.Finish(0, &exit_code)) return exit_code;
  if (!cli.positional().empty()) return cli.Usage(&exit_code);

  char tmpl[] = "/tmp/s20-auth-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    return examples::Fail("s20",
                          ipc::ErrnoStatus("mkdtemp /tmp/s20-auth-*", errno));
  }
  const std::string dir = tmpl;
  const std::string key_file = dir + "/authkey";
  {
    // Created 0600 from the start: ipcd refuses a key others could read.
    const mode_t old_mask = umask(077);
    std::ofstream(key_file) << "open sesame " << getpid() << "\n";
    umask(old_mask);
  }
  std::string key;
  {
    auto read = ipc::Manager::ReadAuthKeyFile(key_file);
    if (!read.ok()) return examples::Fail("s20", read.status());
    key = *read;
  }
  auto url = FreeLoopbackUrl();
  if (!url.ok()) return examples::Fail("s20", url.status());

  const std::string socket = dir + "/ipcd.sock";
  const pid_t daemon = fork();
  if (daemon == 0) {
    execl(ipcd.c_str(), ipcd.c_str(), "--socket", socket.c_str(), "--listen",
          url->c_str(), "--authkey-file", key_file.c_str(),
          static_cast<char*>(nullptr));
    std::cerr << "s20: cannot run " << ipcd << ": " << std::strerror(errno)
              << std::endl;
    _exit(127);
  }
  std::cout << "s20: started ipcd listening on " << *url
            << " (key in a 0600 file)" << std::endl;

  const std::string counter = "s20-" + std::to_string(getpid()) + "-greetings";
  const bool right = TryClient("right key", *url, key, counter);
  const bool wrong = TryClient("wrong key", *url, "not the key", counter);
  const bool none = TryClient("no key", *url, "", counter);

  kill(daemon, SIGTERM);
  int status = 0;
  while (waitpid(daemon, &status, 0) < 0 && errno == EINTR) {
  }
  std::cout << "s20: stopped ipcd: exit status "
            << (WIFEXITED(status) ? WEXITSTATUS(status)
                                  : 128 + WTERMSIG(status))
            << std::endl;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  // Success is the right key served and both others refused.
  return right && !wrong && !none ? 0 : 1;
}
