// A main() for the fuzz targets when libFuzzer is not in use (g++ builds):
// runs a fixed seed list, then a deterministic stream of random mutations of
// it, so every test run exercises the target on a few thousand inputs.
//   <target> [ITERATIONS]
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern const std::vector<std::string> kFuzzSeeds;

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 20000;
  for (const std::string& seed : kFuzzSeeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()),
                           seed.size());
  }
  std::mt19937 rng(12345);
  for (long i = 0; i < iterations; ++i) {
    std::string input = kFuzzSeeds[rng() % kFuzzSeeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = input.empty() ? 0 : rng() % (input.size() + 1);
      switch (rng() % 3) {
        case 0: input.insert(pos, 1, static_cast<char>(rng())); break;
        case 1: if (pos < input.size()) input.erase(pos, 1); break;
        default: if (pos < input.size()) input[pos] = static_cast<char>(rng());
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                           input.size());
  }
  return 0;
}
