// HF tokenizers' regexes (Oniguruma, Ruby syntax) run on PCRE2: the adapter rewrites what the two engines
// read differently and reproduces Oniguruma's match iteration, so Split pieces are HF's.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenmill/status.h"
#include "tokenmill/tokenizer.h"

namespace tokenmill::hf {

class HfRegex {
 public:
  // Fails (naming the pattern and the offset) if the pattern does not compile or uses a construct whose
  // meaning differs between Oniguruma and PCRE2 and that the adapter does not translate.
  static Result<HfRegex> compile(std::string_view pattern);

  // HF's find_matches: the text cut into matched and unmatched pieces, in order, tiling it. An empty text
  // gives one empty unmatched piece. Empty matches are kept (callers drop empty pieces), and an empty match
  // right after a match is skipped, as Oniguruma's iterator does.
  Status find_matches(std::string_view text, std::vector<std::pair<Offsets, bool>>& out) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  std::string pattern_;
  std::shared_ptr<const Code> code_;
};

// A literal as a regex that matches exactly it (HF's regex::escape, for String patterns).
std::string escape_literal(std::string_view literal);

}  // namespace tokenmill::hf
