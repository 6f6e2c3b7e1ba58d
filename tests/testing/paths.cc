#include "tests/testing/paths.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace bs::testing {

std::string SourceDir() { return BS_SOURCE_DIR; }
std::string BinaryDir() { return BS_BINARY_DIR; }

std::string CorpusDir() {
  if (const char* env = std::getenv("BS_CORPUS_DIR")) return env;
  return SourceDir() + "/../shared/corpus";
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace bs::testing
