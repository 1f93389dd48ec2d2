// The little bit of command-line handling every example needs, kept here so
// that each example shows IPC rather than argument parsing.
//
//   examples::Cli cli(argc, argv, kUsage);
//   const long count = cli.CountFlag("--count", 0);
//   const bool verbose = cli.Switch("--verbose");
//   int exit_code = 0;
//   if (!cli.Finish(1, &exit_code)) return exit_code;  // --help, or bad usage
//   const std::string& url = cli.positional()[0];
//
// Flags may come anywhere before a "--"; everything after "--" is
// positional, so `sender URL -- --not-a-flag` sends "--not-a-flag".
// Exit codes: 0 success, 1 an IPC error (see Fail), 2 bad usage.
#ifndef IPC_EXAMPLES_COMMON_CLI_H_
#define IPC_EXAMPLES_COMMON_CLI_H_

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipc/status.h"

namespace examples {

class Cli {
 public:
  Cli(int argc, char** argv, std::string usage)
      : program_(BaseName(argv[0])), usage_(std::move(usage)),
        args_(argv + 1, argv + argc) {}

  // A flag's value ("--count 5" or "--count=5"), removed from the arguments.
  std::string Flag(std::string_view name, std::string fallback) {
    for (size_t i = 0; i < FlagEnd(); ++i) {
      if (args_[i] == name) {
        if (i + 1 >= args_.size()) {
          Error(std::string(name) + " needs a value");
          return fallback;
        }
        std::string value = std::move(args_[i + 1]);
        args_.erase(args_.begin() + i, args_.begin() + i + 2);
        return value;
      }
      if (args_[i].starts_with(std::string(name) + "=")) {
        std::string value = args_[i].substr(name.size() + 1);
        args_.erase(args_.begin() + i);
        return value;
      }
    }
    return fallback;
  }

  // A non-negative number of seconds or similar, e.g. "--timeout 0.5". The
  // upper bound keeps it a sane std::chrono duration.
  double NumberFlag(std::string_view name, double fallback) {
    const std::string text = Flag(name, "");
    if (text.empty()) return fallback;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (*end != '\0' || !std::isfinite(value) || value < 0 || value > 1e9) {
      Error(std::string(name) + " expects a number of seconds (0 to 1e9), not '" +
            text + "'");
      return fallback;
    }
    return value;
  }

  // A non-negative whole number, e.g. "--count 1000".
  long CountFlag(std::string_view name, long fallback) {
    const std::string text = Flag(name, "");
    if (text.empty()) return fallback;
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (*end != '\0' || value < 0 || text[0] == '-' || text[0] == '+') {
      Error(std::string(name) + " expects a whole number, not '" + text + "'");
      return fallback;
    }
    return value;
  }

  // A flag without a value, removed from the arguments.
  bool Switch(std::string_view name) {
    for (size_t i = 0; i < FlagEnd(); ++i) {
      if (args_[i] == name) {
        args_.erase(args_.begin() + i);
        return true;
      }
    }
    return false;
  }

  // Call after taking every flag. Handles --help (usage on stdout, exit 0),
  // unknown flags and fewer than min_positional arguments (the problem and
  // usage on stderr, exit 2). Returns false when the program should stop,
  // with *exit_code set.
  bool Finish(size_t min_positional, int* exit_code) {
    if (Switch("--help") || Switch("-h")) {
      std::cout << usage_ << "\n";
      *exit_code = 0;
      return false;
    }
    for (size_t i = 0; i < FlagEnd(); ++i) {
      if (args_[i].size() > 1 && args_[i][0] == '-') {
        Error("unknown option '" + args_[i] + "'");
        break;
      }
    }
    if (FlagEnd() < args_.size()) args_.erase(args_.begin() + FlagEnd());  // "--"
    if (error_.empty() && args_.size() < min_positional) Error("missing arguments");
    if (!error_.empty()) return Usage(exit_code, error_);
    return true;
  }

  // For a program that finds out late that its arguments do not fit (say,
  // the wrong number for the role chosen): prints usage, *exit_code = 2.
  bool Usage(int* exit_code, std::string_view problem = "wrong arguments") const {
    std::cerr << program_ << ": " << problem << "\n" << usage_ << "\n";
    *exit_code = 2;
    return false;
  }

  const std::vector<std::string>& positional() const { return args_; }
  const std::string& program() const { return program_; }

 private:
  static std::string BaseName(const char* path) {
    const std::string_view p(path ? path : "example");
    const size_t slash = p.rfind('/');
    return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
  }

  // Flags are looked for before a "--" only.
  size_t FlagEnd() const {
    for (size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] == "--") return i;
    }
    return args_.size();
  }

  void Error(std::string problem) {
    if (error_.empty()) error_ = std::move(problem);  // The first one counts.
  }

  std::string program_;
  std::string usage_;
  std::vector<std::string> args_;
  std::string error_;
};

// Prints "<who>: <what failed>" as one line on stderr and returns 1, for
// `return examples::Fail("sender", status);`. libipc's messages already name
// the URL or object ("unix:///tmp/a.sock: connect: ..."), so it is not
// repeated here.
inline int Fail(std::string_view who, const ipc::Status& status) {
  std::cerr << who << ": " << status.message() << std::endl;
  return 1;
}

}  // namespace examples

#endif  // IPC_EXAMPLES_COMMON_CLI_H_
