// A fresh folder for one test under the system's temporary directory, removed with all it holds when the
// test ends. Its name carries the process id and a count, so tests run side by side (ctest -j) and two
// folders of one test never share files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace tokenmill::testing {

class TempDir {
 public:
  explicit TempDir(std::string_view label)
      : path_(std::filesystem::temp_directory_path() / ("tokenmill_" + std::string(label) + "_" +
                                                        std::to_string(::getpid()) + "_" + std::to_string(count()++))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;  // a test that failed half-way may have left it in any state
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `contents` to the file `name` in the folder and returns its path.
  std::string file(const std::string& name, std::string_view contents) const {
    std::ofstream(path_ / name, std::ios::binary) << contents;
    return (path_ / name).string();
  }

 private:
  static int& count() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

// Every byte of the file at `path` (empty if it cannot be read).
inline std::string file_contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace tokenmill::testing
