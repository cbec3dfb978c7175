#include "tokenizer_command.h"

#include <cstdio>
#include <iostream>

#include "speed.h"
#include "tokenmill/tokenizer.h"

namespace tokenmill::cli {

namespace {

std::string g_tokenizer_path;
bool g_add_special_tokens = false;
bool g_offsets = false;
bool g_keep_special = false;

int fail(const std::string& message) {
  std::cerr << "tokenmill: " << message << "\n";
  return 1;
}

}  // namespace

void add_tokenizer_options(CLI::App& encode, CLI::App& decode, CLI::App& count) {
  for (CLI::App* app : {&encode, &decode, &count}) {
    app->add_option("-t,--tokenizer", g_tokenizer_path, "A Hugging Face tokenizer.json instead of -e");
  }
  for (CLI::App* app : {&encode, &count}) {
    app->add_flag("--add-special-tokens", g_add_special_tokens,
                  "With -t: apply the post-processor's template (BOS/EOS...), as HF's add_special_tokens=True");
  }
  encode.add_flag("--offsets", g_offsets,
                  "With -t: one line per token: id, byte offsets begin and end into the input, token (tab-separated)");
  decode.add_flag("--keep-special-tokens", g_keep_special,
                  "With -t: decode special tokens too (HF's skip_special_tokens=False)");
}

bool tokenizer_selected() { return !g_tokenizer_path.empty(); }

int run_tokenizer_command(const std::string& command, const std::vector<std::string>& inputs, const std::string& output,
                          bool binary, bool show_speed, const TokenizerIo& io) {
  auto tok = Tokenizer::from_file(g_tokenizer_path);
  if (!tok.ok()) return fail(tok.error());
  const std::vector<std::string> paths = inputs.empty() ? std::vector<std::string>{"-"} : inputs;
  auto name = [](const std::string& p) { return p == "-" ? std::string("stdin") : p; };
  if (command == "encode") {
    std::string text = io.read(paths[0]);
    Tokenizer::EncodeOptions options;
    options.add_special_tokens = g_add_special_tokens;
    auto enc = tok->encode(text, options);
    if (!enc.ok()) return fail(name(paths[0]) + ": " + enc.error());
    std::string out;
    if (g_offsets) {
      for (size_t i = 0; i < enc->size(); ++i) {
        out += std::to_string(enc->ids[i]) + '\t' + std::to_string(enc->offsets[i].first) + '\t' +
               std::to_string(enc->offsets[i].second) + '\t' + enc->tokens[i] + '\n';
      }
    } else if (binary) {
      for (uint32_t v : enc->ids) {
        for (int k = 0; k < 4; ++k) out += char((v >> (8 * k)) & 0xFF);
      }
    } else {
      for (size_t i = 0; i < enc->size(); ++i) {
        if (i) out += ' ';
        out += std::to_string(enc->ids[i]);
      }
      out += '\n';
    }
    io.write(output, out);
    return 0;
  }
  if (command == "decode") {
    std::string data = io.read(paths[0]);
    std::vector<uint32_t> ids;
    if (binary) {
      if (data.size() % 4) return fail(name(paths[0]) + ": binary ids must be a multiple of 4 bytes");
      for (size_t i = 0; i < data.size(); i += 4) {
        uint32_t v = 0;
        for (int k = 0; k < 4; ++k) v |= uint32_t(uint8_t(data[i + size_t(k)])) << (8 * k);
        ids.push_back(v);
      }
    } else {
      size_t i = 0;
      while (i < data.size()) {
        char c = data[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',') {
          ++i;
          continue;
        }
        if (c < '0' || c > '9') return fail(name(paths[0]) + ": byte " + std::to_string(i) + ": not a token id");
        uint64_t v = 0;
        while (i < data.size() && data[i] >= '0' && data[i] <= '9') {
          v = v * 10 + uint64_t(data[i++] - '0');
          if (v > UINT32_MAX) return fail(name(paths[0]) + ": token id out of range at byte " + std::to_string(i));
        }
        ids.push_back(uint32_t(v));
      }
    }
    for (size_t k = 0; k < ids.size(); ++k) {
      // HF's decode drops unknown ids silently; the CLI says which one is wrong instead.
      if (!tok->id_to_token(ids[k]))
        return fail(name(paths[0]) + ": id " + std::to_string(ids[k]) + " (number " + std::to_string(k + 1) +
                    ") is not in " + g_tokenizer_path);
    }
    auto text = tok->decode(ids, !g_keep_special);
    if (!text.ok()) return fail(text.error());
    io.write(output, *text);
    return 0;
  }
  // count
  size_t total = 0;
  for (const auto& p : paths) {
    const std::string text = io.read(p);
    const double t0 = process_cpu_seconds();
    auto ids = tok->encode_ids(text, g_add_special_tokens);
    if (!ids.ok()) return fail(name(p) + ": " + ids.error());
    if (show_speed) print_speed(p, text.size(), ids->size(), process_cpu_seconds() - t0, g_tokenizer_path);
    total += ids->size();
    if (paths.size() > 1) std::printf("%zu\t%s\n", ids->size(), p.c_str());
  }
  std::printf(paths.size() > 1 ? "%zu\ttotal\n" : "%zu\n", total);
  return 0;
}

}  // namespace tokenmill::cli
