// A very small command-line parser shared by the example programs, so each
// example shows IPC and not argument handling.
//
//   Cli cli(argc, argv, "usage: receiver URL [--count N]");
//   int count = cli.IntFlag("--count", 0);
//   if (!cli.Finish(1)) return 2;   // prints usage and the problem
//   std::string url = cli.positional(0);
#ifndef IPC_EXAMPLES_COMMON_CLI_H_
#define IPC_EXAMPLES_COMMON_CLI_H_

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/status.h"

namespace examples {

class Cli {
 public:
  Cli(int argc, char** argv, std::string usage)
      : program_(argv[0]), usage_(std::move(usage)), args_(argv + 1, argv + argc) {}

  // A flag's value ("--count 5" or "--count=5"), removed from the arguments.
  std::string Flag(std::string_view name, std::string fallback) {
    for (size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] == name) {
        if (i + 1 >= args_.size()) {
          error_ = std::string(name) + " needs a value";
          return fallback;
        }
        std::string value = args_[i + 1];
        args_.erase(args_.begin() + i, args_.begin() + i + 2);
        return value;
      }
      if (args_[i].rfind(std::string(name) + "=", 0) == 0) {
        std::string value = args_[i].substr(name.size() + 1);
        args_.erase(args_.begin() + i);
        return value;
      }
    }
    return fallback;
  }

  double NumberFlag(std::string_view name, double fallback) {
    const std::string text = Flag(name, "");
    if (text.empty()) return fallback;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (*end != '\0' || value < 0) {
      error_ = std::string(name) + " expects a non-negative number, not '" + text + "'";
    }
    return value;
  }

  // A flag without a value, removed from the arguments.
  bool Switch(std::string_view name) {
    for (size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] == name) {
        args_.erase(args_.begin() + i);
        return true;
      }
    }
    return false;
  }

  // Checks what is left: --help, unknown flags, at least min_positional
  // positional arguments. Prints usage (and the problem) and returns false
  // when the program should stop; *exit_code says with which code.
  bool Finish(size_t min_positional, int* exit_code) {
    if (Switch("--help") || Switch("-h")) {
      std::cout << usage_ << "\n";
      *exit_code = 0;
      return false;
    }
    for (const std::string& a : args_) {
      if (a.size() > 1 && a[0] == '-' && a != "--") {
        error_ = "unknown option '" + a + "'";
        break;
      }
    }
    if (error_.empty() && args_.size() < min_positional) error_ = "missing arguments";
    if (!error_.empty()) {
      std::cerr << program_ << ": " << error_ << "\n" << usage_ << "\n";
      *exit_code = 2;
      return false;
    }
    return true;
  }

  const std::vector<std::string>& positional() const { return args_; }

 private:
  std::string program_;
  std::string usage_;
  std::vector<std::string> args_;
  std::string error_;
};

// Prints "<program>: <status message>" and returns 1, for `return Fail(...)`.
inline int Fail(std::string_view program, const ipc::Status& status) {
  std::cerr << program << ": " << status.message() << "\n";
  return 1;
}

}  // namespace examples

#endif  // IPC_EXAMPLES_COMMON_CLI_H_
