// The seeds of targets whose seed inputs are all in corpus/<target>/.
#include <string>
#include <vector>

extern const std::vector<std::string> kFuzzSeeds = {};
