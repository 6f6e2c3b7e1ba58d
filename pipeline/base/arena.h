// Arena: a block allocator for string bytes that must outlive the buffer they were parsed from (JSON
// strings simdjson unescaped into its own scratch, say). Reset() keeps the blocks, so a worker that reuses
// its arena allocates nothing once it has warmed up. Views stay valid until Reset() or destruction.
// Not thread-safe: one owner.
#ifndef BOUNCESTREAM_PIPELINE_BASE_ARENA_H_
#define BOUNCESTREAM_PIPELINE_BASE_ARENA_H_

#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace bs {

class Arena {
 public:
  explicit Arena(size_t block_size = 64 * 1024) : block_size_(block_size) {}

  std::string_view Copy(std::string_view s) {
    if (s.empty()) return {};
    char* dst = Allocate(s.size());
    std::memcpy(dst, s.data(), s.size());
    return {dst, s.size()};
  }

  void Reset() {
    current_ = 0;
    used_ = 0;
  }

 private:
  char* Allocate(size_t n) {
    while (true) {
      if (current_ < blocks_.size()) {
        Block& b = blocks_[current_];
        if (b.size - used_ >= n) {
          char* p = b.data.get() + used_;
          used_ += n;
          return p;
        }
        ++current_;
        used_ = 0;
        continue;
      }
      size_t size = n > block_size_ ? n : block_size_;
      blocks_.push_back(Block{std::make_unique<char[]>(size), size});
    }
  }

  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  size_t block_size_;
  std::vector<Block> blocks_;
  size_t current_ = 0;
  size_t used_ = 0;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_BASE_ARENA_H_
