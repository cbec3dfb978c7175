// DecodeStream: HF's step_decode_stream, step for step, so the pieces (and the errors) are HF's.
#include "tokenmill/tokenizer.h"
#include "util/no_throw.h"

namespace tokenmill {

namespace {
bool ends_with_replacement(std::string_view s) { return s.size() >= 3 && s.substr(s.size() - 3) == "\xEF\xBF\xBD"; }
}  // namespace

Result<std::optional<std::string>> DecodeStream::step(const Tokenizer& tokenizer, std::span<const uint32_t> ids) try {
  if (prefix_.empty() && !ids_.empty()) {
    // Ids given at construction: their text is the prefix once it is complete.
    auto first = tokenizer.decode(ids_, skip_special_tokens_);
    if (!first.ok()) return first.status();
    if (!ends_with_replacement(*first)) {
      prefix_ = std::move(first).value();
      prefix_index_ = ids_.size();
    }
  }
  ids_.insert(ids_.end(), ids.begin(), ids.end());
  auto decoded = tokenizer.decode(ids_, skip_special_tokens_);
  if (!decoded.ok()) return decoded.status();
  const std::string& text = *decoded;
  if (text.size() <= prefix_.size() || ends_with_replacement(text)) return std::optional<std::string>();
  if (text.compare(0, prefix_.size(), prefix_) != 0) {
    return Status(ErrorCode::kInvalidArgument, "DecodeStream: after id " + std::to_string(ids_.back()) +
                                                   " the text no longer starts with the text already returned");
  }
  std::string piece = text.substr(prefix_.size());
  const size_t new_prefix_index = ids_.size() - prefix_index_;
  ids_.erase(ids_.begin(), ids_.begin() + long(prefix_index_));
  auto prefix = tokenizer.decode(ids_, skip_special_tokens_);
  if (!prefix.ok()) return prefix.status();
  prefix_ = std::move(prefix).value();
  prefix_index_ = new_prefix_index;
  return std::optional<std::string>(std::move(piece));
} catch (...) {
  return util::exception_status("decoding a stream step");
}

}  // namespace tokenmill
