// WordPiece tokenization; see wordpiece.h. Unicode properties (case, canonical decomposition,
// general category) come from utf8proc.
#include "ml/wordpiece.h"

#include <utf8proc.h>

#include <array>
#include <fstream>

namespace opdbus::ml {
namespace {

constexpr size_t kMaxWordCharacters = 100;

bool is_control(utf8proc_int32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  auto category = utf8proc_category(cp);
  return category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF ||
         category == UTF8PROC_CATEGORY_CN || category == UTF8PROC_CATEGORY_CO ||
         category == UTF8PROC_CATEGORY_CS;
}

bool is_whitespace(utf8proc_int32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
         utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

bool is_punctuation(utf8proc_int32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126))
    return true;
  auto category = utf8proc_category(cp);
  return category >= UTF8PROC_CATEGORY_PC && category <= UTF8PROC_CATEGORY_PO;
}

bool is_cjk_ideograph(utf8proc_int32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Splits cleaned, lower-cased, accent-free text into words, calling `word(text, characters)`.
class WordSplitter {
 public:
  template <typename OnWord>
  void split(std::string_view text, OnWord&& word) {
    const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    for (size_t at = 0; at < text.size();) {
      utf8proc_int32_t cp = 0;
      auto length =
          utf8proc_iterate(bytes + at, static_cast<utf8proc_ssize_t>(text.size() - at), &cp);
      if (length <= 0) cp = 0xFFFD, length = 1;
      at += static_cast<size_t>(length);
      visit(cp, word);
    }
    finish(word);
  }

 private:
  template <typename OnWord>
  void visit(utf8proc_int32_t cp, OnWord& word) {
    if (cp == 0 || cp == 0xFFFD || is_control(cp)) return;
    if (is_whitespace(cp)) return finish(word);
    if (is_cjk_ideograph(cp)) return alone(cp, word);
    std::array<utf8proc_int32_t, 8> decomposed{};
    int last_boundary = 0;
    auto count = utf8proc_decompose_char(utf8proc_tolower(cp), decomposed.data(), decomposed.size(),
                                         UTF8PROC_DECOMPOSE, &last_boundary);
    for (utf8proc_ssize_t i = 0; i < count && i < static_cast<utf8proc_ssize_t>(decomposed.size());
         ++i) {
      auto part = decomposed[static_cast<size_t>(i)];
      if (utf8proc_category(part) == UTF8PROC_CATEGORY_MN) continue;
      if (is_punctuation(part)) {
        alone(part, word);
      } else {
        append(part);
      }
    }
  }

  void append(utf8proc_int32_t cp) {
    std::array<utf8proc_uint8_t, 4> encoded{};
    auto length = utf8proc_encode_char(cp, encoded.data());
    current_.append(reinterpret_cast<const char*>(encoded.data()), static_cast<size_t>(length));
    ++characters_;
  }

  template <typename OnWord>
  void alone(utf8proc_int32_t cp, OnWord& word) {
    finish(word);
    append(cp);
    finish(word);
  }

  template <typename OnWord>
  void finish(OnWord& word) {
    if (!current_.empty()) word(std::string_view(current_), characters_);
    current_.clear();
    characters_ = 0;
  }

  std::string current_;
  size_t characters_ = 0;
};

// Byte offsets of each character of a UTF-8 word, and its end.
std::vector<size_t> character_offsets(std::string_view word) {
  std::vector<size_t> offsets;
  for (size_t at = 0; at < word.size(); ++at)
    if ((static_cast<unsigned char>(word[at]) & 0xC0) != 0x80) offsets.push_back(at);
  offsets.push_back(word.size());
  return offsets;
}

}  // namespace

Result<WordPiece> WordPiece::load(const std::filesystem::path& vocab_file) {
  std::ifstream in(vocab_file);
  if (!in) return fail(ErrorCode::not_found, "cannot read vocabulary {}", vocab_file.string());
  std::vector<std::string> tokens;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(std::move(line));
  }
  auto vocabulary = from_tokens(std::move(tokens));
  if (!vocabulary)
    return make_failure(std::move(vocabulary).error().with_context(vocab_file.string()));
  return vocabulary;
}

Result<WordPiece> WordPiece::from_tokens(std::vector<std::string> tokens) {
  WordPiece vocabulary;
  vocabulary.tokens_ = std::move(tokens);
  for (size_t id = 0; id < vocabulary.tokens_.size(); ++id) {
    std::string_view token = vocabulary.tokens_[id];
    bool continuation = token.starts_with("##") && token.size() > 2;
    if (continuation) token.remove_prefix(2);
    auto& pieces = continuation ? vocabulary.continuations_ : vocabulary.word_starts_;
    pieces.insert_or_assign(std::string(token), static_cast<int32_t>(id));
  }
  auto special = [&](const char* name, int32_t& id) -> Status {
    auto found = vocabulary.word_starts_.find(std::string_view(name));
    if (found == vocabulary.word_starts_.end())
      return fail(ErrorCode::invalid_input, "the vocabulary has no {} token", name);
    id = found->second;
    return ok();
  };
  TRY(special("[CLS]", vocabulary.cls_));
  TRY(special("[SEP]", vocabulary.sep_));
  TRY(special("[UNK]", vocabulary.unknown_));
  return vocabulary;
}

std::vector<int32_t> WordPiece::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  WordSplitter splitter;
  splitter.split(
      text, [&](std::string_view word, size_t characters) { encode_word(word, characters, ids); });
  return ids;
}

void WordPiece::encode_word(std::string_view word, size_t characters,
                            std::vector<int32_t>& ids) const {
  if (characters > kMaxWordCharacters) return ids.push_back(unknown_);
  auto offsets = character_offsets(word);
  size_t first_piece = ids.size();
  for (size_t start = 0; start + 1 < offsets.size();) {
    const auto& pieces = start == 0 ? word_starts_ : continuations_;
    size_t end = offsets.size() - 1;
    for (; end > start; --end) {
      auto found = pieces.find(word.substr(offsets[start], offsets[end] - offsets[start]));
      if (found == pieces.end()) continue;
      ids.push_back(found->second);
      break;
    }
    if (end == start) {
      ids.resize(first_piece);
      return ids.push_back(unknown_);
    }
    start = end;
  }
}

}  // namespace opdbus::ml
