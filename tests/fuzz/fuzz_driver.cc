// A main() for the fuzz targets when libFuzzer is not in use (g++ builds):
// runs the built-in seeds and every corpus file given (a file, or every file
// of a directory: the target's corpus, crash-* regression inputs included),
// then a deterministic stream of random mutations of them, so every test run
// exercises the target on a few thousand inputs.
//   <target> [CORPUS_FILE_OR_DIR...] [ITERATIONS]
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern const std::vector<std::string> kFuzzSeeds;

namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                         input.size());
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 20000;
  std::vector<std::string> seeds = kFuzzSeeds;
  size_t files = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!arg.empty() && std::all_of(arg.begin(), arg.end(),
                                    [](char c) { return c >= '0' && c <= '9'; })) {
      iterations = std::atol(arg.c_str());
      continue;
    }
    std::vector<std::filesystem::path> paths;
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) paths.push_back(entry.path());
      }
      std::sort(paths.begin(), paths.end());
    } else if (std::filesystem::is_regular_file(arg)) {
      paths.push_back(arg);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", arg.c_str());
      return 2;
    }
    for (const auto& path : paths) {
      seeds.push_back(ReadFile(path));
      ++files;
    }
  }
  if (seeds.empty()) seeds.emplace_back();
  for (const std::string& seed : seeds) Run(seed);
  std::mt19937 rng(12345);
  for (long i = 0; i < iterations; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = input.empty() ? 0 : rng() % (input.size() + 1);
      switch (rng() % 3) {
        case 0: input.insert(pos, 1, static_cast<char>(rng())); break;
        case 1: if (pos < input.size()) input.erase(pos, 1); break;
        default: if (pos < input.size()) input[pos] = static_cast<char>(rng());
      }
    }
    Run(input);
  }
  std::printf("%zu corpus files, %zu seeds, %ld mutations: ok\n", files,
              seeds.size(), iterations);
  return 0;
}
