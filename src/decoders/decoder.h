// Decoder stage: tokens back to text (HF's decoder). Each decoder rewrites the list of token strings;
// the Tokenizer joins what is left.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace tokenmill::hf {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// GPT-2's byte alphabet back to bytes, all tokens into one string, invalid UTF-8 as U+FFFD (Rust's
// from_utf8_lossy). A token with a character outside the alphabet is taken as its own UTF-8 bytes.
std::unique_ptr<Decoder> make_byte_level_decoder();
// <0xNN> tokens back to their bytes; a run that is not valid UTF-8 becomes one U+FFFD per byte.
std::unique_ptr<Decoder> make_byte_fallback_decoder();
// All tokens into one.
std::unique_ptr<Decoder> make_fuse_decoder();
// A literal replaced in every token.
std::unique_ptr<Decoder> make_replace_decoder(std::string pattern, std::string content);
// Up to `start` leading and `stop` trailing characters equal to `content` removed from every token.
std::unique_ptr<Decoder> make_strip_decoder(std::string content, size_t start, size_t stop);
// Metaspace: `replacement` back to spaces; with a prepend scheme (not "never") the first token's replacements
// are dropped instead, as HF does.
std::unique_ptr<Decoder> make_metaspace_decoder(std::string replacement, bool prepended);
std::unique_ptr<Decoder> make_sequence_decoder(std::vector<std::unique_ptr<Decoder>> parts);

}  // namespace tokenmill::hf
