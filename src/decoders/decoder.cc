#include "decoders/decoder.h"

#include <algorithm>
#include <string_view>

#include "models/model.h"
#include "tokenmill/encoding.h"

namespace tokenmill::hf {

namespace {

class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      if (auto b = byte_level_decode(t)) {
        bytes += *b;
      } else {
        bytes += t;
      }
    }
    tokens.assign(1, utf8_replace_invalid(bytes));
  }
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string run;
    size_t run_tokens = 0;
    auto flush = [&] {
      if (run_tokens == 0) return;
      if (utf8_replace_invalid(run) == run) {
        out.push_back(run);
      } else {
        for (size_t k = 0; k < run_tokens; ++k) out.push_back("\xEF\xBF\xBD");
      }
      run.clear();
      run_tokens = 0;
    };
    for (std::string& t : tokens) {
      int value = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        // Rust's u8::from_str_radix(.., 16) on the two characters: two hex digits, or '+' and one.
        int hi = hex_value(t[3]), lo = hex_value(t[4]);
        if (hi >= 0 && lo >= 0)
          value = hi * 16 + lo;
        else if (t[3] == '+' && lo >= 0)
          value = lo;
      }
      if (value >= 0) {
        run += char(value);
        ++run_tokens;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens = std::move(out);
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::string pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    if (pattern_.empty()) return;
    for (std::string& t : tokens) {
      std::string out;
      size_t prev = 0;
      for (size_t pos = t.find(pattern_); pos != std::string::npos; pos = t.find(pattern_, prev)) {
        out.append(t, prev, pos - prev);
        out += content_;
        prev = pos + pattern_.size();
      }
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  std::string pattern_, content_;
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      std::vector<std::string_view> chars;
      for (size_t i = 0; i < t.size();) {
        unsigned char c = static_cast<unsigned char>(t[i]);
        size_t n = std::min<size_t>(c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, t.size() - i);
        chars.push_back(std::string_view(t).substr(i, n));
        i += n;
      }
      size_t start_cut = 0, stop_cut = 0;
      while (start_cut < start_ && start_cut < chars.size() && chars[start_cut] == content_) ++start_cut;
      while (stop_cut < stop_ && stop_cut < chars.size() && chars[chars.size() - 1 - stop_cut] == content_) ++stop_cut;
      // HF keeps (byte length - cuts) characters after the start cut: with multi-byte characters the stop cut
      // then keeps more than it strips. Reproduced, since decode must equal HF's.
      size_t keep = t.size() >= start_cut + stop_cut ? t.size() - start_cut - stop_cut : 0;
      std::string out;
      for (size_t k = start_cut; k < chars.size() && k - start_cut < keep; ++k) out += chars[k];
      t = std::move(out);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool prepended)
      : replacement_(std::move(replacement)), prepended_(prepended) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string_view t = tokens[i];
      std::string out;
      for (size_t pos = 0; pos < t.size();) {
        if (t.compare(pos, replacement_.size(), replacement_) == 0) {
          if (i != 0 || !prepended_) out += ' ';
          pos += replacement_.size();
        } else {
          out += t[pos++];
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool prepended_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> make_byte_level_decoder() { return std::make_unique<ByteLevelDecoder>(); }
std::unique_ptr<Decoder> make_byte_fallback_decoder() { return std::make_unique<ByteFallbackDecoder>(); }
std::unique_ptr<Decoder> make_fuse_decoder() { return std::make_unique<FuseDecoder>(); }
std::unique_ptr<Decoder> make_replace_decoder(std::string pattern, std::string content) {
  return std::make_unique<ReplaceDecoder>(std::move(pattern), std::move(content));
}
std::unique_ptr<Decoder> make_strip_decoder(std::string content, size_t start, size_t stop) {
  return std::make_unique<StripDecoder>(std::move(content), start, stop);
}
std::unique_ptr<Decoder> make_metaspace_decoder(std::string replacement, bool prepended) {
  return std::make_unique<MetaspaceDecoder>(std::move(replacement), prepended);
}
std::unique_ptr<Decoder> make_sequence_decoder(std::vector<std::unique_ptr<Decoder>> parts) {
  return std::make_unique<SequenceDecoder>(std::move(parts));
}

}  // namespace tokenmill::hf
