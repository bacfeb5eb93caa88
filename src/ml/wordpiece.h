// The BERT WordPiece tokenizer (uncased), as BERT and sentence-transformers models expect it:
// text is cleaned (NUL, U+FFFD and control characters dropped, every white space becomes a
// space), CJK ideographs are split apart, words are lower-cased, their accents removed (NFD,
// non-spacing marks dropped) and split at punctuation, and each word becomes the longest
// vocabulary pieces from its start, continuations spelt "##piece"; a word with no spelling in the
// vocabulary, or longer than 100 characters, becomes [UNK].
// Invariants: the vocabulary is read from vocab.txt (one token per line, its id the line number)
// and must hold [CLS], [SEP] and [UNK]; encode() never adds the special tokens; invalid UTF-8
// bytes count as U+FFFD (dropped).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace opdbus::ml {

class WordPiece {
 public:
  static Result<WordPiece> load(const std::filesystem::path& vocab_file);
  static Result<WordPiece> from_tokens(std::vector<std::string> tokens);

  std::vector<int32_t> encode(std::string_view text) const;
  const std::string& token(int32_t id) const { return tokens_.at(static_cast<size_t>(id)); }
  size_t size() const { return tokens_.size(); }
  int32_t cls() const { return cls_; }
  int32_t sep() const { return sep_; }
  int32_t unknown() const { return unknown_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  using Pieces = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

  void encode_word(std::string_view word, size_t characters, std::vector<int32_t>& ids) const;

  std::vector<std::string> tokens_;
  Pieces word_starts_;    // "run" -> id
  Pieces continuations_;  // "##ning" stored as "ning" -> id
  int32_t cls_ = -1;
  int32_t sep_ = -1;
  int32_t unknown_ = -1;
};

}  // namespace opdbus::ml
