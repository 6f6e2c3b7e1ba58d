// Paths tests read: the repository, the build tree, and the shared corpus beside the clone.
#ifndef BOUNCESTREAM_TESTS_TESTING_PATHS_H_
#define BOUNCESTREAM_TESTS_TESTING_PATHS_H_

#include <string>

namespace bs::testing {

// The repository root.
std::string SourceDir();
// The build directory (where `bouncestream` is).
std::string BinaryDir();
// ../shared/corpus beside the repository, or $BS_CORPUS_DIR.
std::string CorpusDir();
// Reads a whole file; fails the current test (and returns "") when it cannot.
std::string ReadFileOrDie(const std::string& path);

}  // namespace bs::testing

#endif  // BOUNCESTREAM_TESTS_TESTING_PATHS_H_
