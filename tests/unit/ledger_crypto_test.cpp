// Ledger primitives: RFC 8785 canonical JSON, RFC 6962 Merkle trees against the Certificate
// Transparency test vectors and a naive reference tree, proofs and their verifiers (including
// every single-bit alteration of a proof), multi-leaf inclusion proofs (never longer than the
// separate proofs, rejected when any hash, leaf, index or size is altered), and C2SP signed
// notes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <random>

#include "ledger/canonical_json.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/signed_note.h"

namespace opdbus::ledger {
namespace {

std::string canonical(const Json& value) {
  auto text = canonical_json(value);
  EXPECT_TRUE(text) << text.error().describe();
  return text ? *text : "";
}

TEST(CanonicalJson, SortsMembersByUtf16CodeUnits) {
  // RFC 8785 section 3.2.3: U+1F600 (a surrogate pair, 0xD83D...) sorts before U+FB33.
  auto value = Json::parse(
      R"({"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"})");
  auto text = canonical(value);
  std::vector<std::string> order = {"\\r",    "1",          "\u0080", "\u00f6",
                                    "\u20ac", "\U0001F600", "\ufb33"};
  size_t at = 0;
  for (const auto& key : order) {
    auto found = text.find("\"" + key + "\"", at);
    ASSERT_NE(found, std::string::npos) << key;
    at = found;
  }
}

TEST(CanonicalJson, EscapesMinimally) {
  Json value = Json::object({{"s", std::string("\x01\b\t\n\f\r\"\\/\x7f\u2028\u00e9")}});
  EXPECT_EQ(canonical(value), "{\"s\":\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\/\x7f\u2028\u00e9\"}");
  EXPECT_EQ(canonical(Json::parse(R"([1,{"b":[true,false,null],"a":{}},"x"])")),
            R"([1,{"a":{},"b":[true,false,null]},"x"])");
}

TEST(CanonicalJson, PrintsNumbersAsEcmaScript) {
  // RFC 8785 appendix B.
  std::vector<std::pair<double, std::string>> cases = {
      {0.0, "0"},
      {-0.0, "0"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {-1.7976931348623157e308, "-1.7976931348623157e+308"},
      {9007199254740992.0, "9007199254740992"},
      {-9007199254740992.0, "-9007199254740992"},
      {295147905179352830000.0, "295147905179352830000"},
      {1e21, "1e+21"},
      {1e20, "100000000000000000000"},
      {0.000001, "0.000001"},
      {1e-7, "1e-7"},
      {333333333.3333333, "333333333.3333333"},
      {4.5, "4.5"},
      {0.002, "0.002"},
      {1e23, "1e+23"},
      {-1.5e-9, "-1.5e-9"},
  };
  for (const auto& [number, text] : cases) EXPECT_EQ(ecmascript_number(number), text) << text;
  EXPECT_EQ(canonical(Json::parse("[1.0, 10, -3, 2.50]")), "[1,10,-3,2.5]");
}

TEST(CanonicalJson, RejectsWhatItCannotRepresent) {
  EXPECT_FALSE(canonical_json(Json(std::nan(""))));
  EXPECT_FALSE(canonical_json(Json(HUGE_VAL)));
  EXPECT_FALSE(canonical_json(Json(uint64_t{1} << 60)));
  EXPECT_FALSE(canonical_json(Json(std::string("\xc3\x28"))));      // invalid continuation
  EXPECT_FALSE(canonical_json(Json(std::string("\xed\xa0\x80"))));  // encoded surrogate
  EXPECT_FALSE(canonical_json(Json(std::string("\xc0\xaf"))));      // overlong
  EXPECT_TRUE(canonical_json(Json(int64_t{1} << 53)));
}

Bytes bytes_of(const std::string& s) {
  return as_bytes(s);
}

// RFC 6962 section 2.1 written as directly as possible: the reference for MerkleTree.
Digest naive_root(const std::vector<Digest>& leaves, size_t begin, size_t end) {
  if (end - begin == 1) return leaves[begin];
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return node_hash(naive_root(leaves, begin, begin + k), naive_root(leaves, begin + k, end));
}

void naive_path(const std::vector<Digest>& leaves, size_t m, size_t begin, size_t end,
                std::vector<Digest>& out) {
  if (end - begin == 1) return;
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  if (m < k) {
    naive_path(leaves, m, begin, begin + k, out);
    out.push_back(naive_root(leaves, begin + k, end));
  } else {
    naive_path(leaves, m - k, begin + k, end, out);
    out.push_back(naive_root(leaves, begin, begin + k));
  }
}

void naive_subproof(const std::vector<Digest>& leaves, size_t m, size_t begin, size_t end,
                    bool whole, std::vector<Digest>& out) {
  size_t n = end - begin;
  if (m == n) {
    if (!whole) out.push_back(naive_root(leaves, begin, end));
    return;
  }
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  if (m <= k) {
    naive_subproof(leaves, m, begin, begin + k, whole, out);
    out.push_back(naive_root(leaves, begin + k, end));
  } else {
    naive_subproof(leaves, m - k, begin + k, end, false, out);
    out.push_back(naive_root(leaves, begin, begin + k));
  }
}

std::vector<Digest> random_leaves(size_t n, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<Digest> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back(leaf_hash(bytes_of(std::to_string(random()))));
  return leaves;
}

TEST(Merkle, MatchesCertificateTransparencyVectors) {
  const std::vector<std::string> inputs = {
      "",
      std::string(1, '\x00'),
      "\x10",
      "\x20\x21",
      "\x30\x31",
      "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  MerkleTree tree;
  CompactRange range;
  EXPECT_EQ(to_hex(*tree.root(0)),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (size_t i = 0; i < inputs.size(); ++i) {
    tree.append(leaf_hash(bytes_of(inputs[i])));
    range.append(leaf_hash(bytes_of(inputs[i])));
    EXPECT_EQ(to_hex(*tree.root(i + 1)), roots[i]) << i + 1;
    EXPECT_EQ(to_hex(range.root()), roots[i]) << i + 1;
  }
  auto proof = *tree.inclusion_proof(0, 8);
  ASSERT_EQ(proof.size(), 3u);
  EXPECT_EQ(to_hex(proof[0]), "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
  EXPECT_EQ(to_hex(proof[1]), "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e");
  EXPECT_EQ(to_hex(proof[2]), "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
}

TEST(Merkle, RootsAndProofsMatchTheNaiveTreeForEverySizeUpTo70) {
  auto leaves = random_leaves(70, 1);
  MerkleTree tree;
  for (const auto& leaf : leaves) tree.append(leaf);
  for (size_t n = 1; n <= leaves.size(); ++n) {
    auto root = naive_root(leaves, 0, n);
    ASSERT_EQ(*tree.root(n), root) << n;
    for (size_t m = 0; m < n; ++m) {
      std::vector<Digest> expected;
      naive_path(leaves, m, 0, n, expected);
      auto proof = *tree.inclusion_proof(m, n);
      ASSERT_EQ(proof, expected) << m << "/" << n;
      ASSERT_TRUE(verify_inclusion(m, n, leaves[m], proof, root)) << m << "/" << n;
    }
    for (size_t m = 1; m <= n; ++m) {
      std::vector<Digest> expected;
      if (m < n) naive_subproof(leaves, m, 0, n, true, expected);
      auto proof = *tree.consistency_proof(m, n);
      ASSERT_EQ(proof, expected) << m << "->" << n;
      ASSERT_TRUE(verify_consistency(m, n, naive_root(leaves, 0, m), root, proof))
          << m << "->" << n;
    }
  }
}

TEST(Merkle, RestoredCompactRangeContinues) {
  auto leaves = random_leaves(37, 2);
  CompactRange range;
  for (size_t i = 0; i < 21; ++i) range.append(leaves[i]);
  auto restored = CompactRange::restore(range.size(), range.peaks());
  ASSERT_TRUE(restored);
  for (size_t i = 21; i < leaves.size(); ++i) restored->append(leaves[i]);
  EXPECT_EQ(restored->root(), naive_root(leaves, 0, leaves.size()));
  EXPECT_FALSE(CompactRange::restore(21, {leaves[0]}));
}

Digest flipped(Digest digest, size_t bit) {
  digest[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return digest;
}

TEST(Merkle, InclusionVerifierRejectsEveryAlteration) {
  auto leaves = random_leaves(13, 3);
  MerkleTree tree;
  for (const auto& leaf : leaves) tree.append(leaf);
  auto root = *tree.root(13);
  for (uint64_t m = 0; m < 13; ++m) {
    auto proof = *tree.inclusion_proof(m, 13);
    for (size_t i = 0; i < proof.size(); ++i)
      for (size_t bit = 0; bit < 256; bit += 37) {
        auto altered = proof;
        altered[i] = flipped(altered[i], bit);
        EXPECT_FALSE(verify_inclusion(m, 13, leaves[m], altered, root));
      }
    EXPECT_FALSE(verify_inclusion(m, 13, flipped(leaves[m], 0), proof, root));
    EXPECT_FALSE(verify_inclusion(m, 13, leaves[m], proof, flipped(root, 9)));
    for (uint64_t other = 0; other < 14; ++other)
      if (other != m) {
        EXPECT_FALSE(verify_inclusion(other, 13, leaves[m], proof, root));
      }
    EXPECT_FALSE(verify_inclusion(m, m, leaves[m], proof, root));
    auto longer = proof;
    longer.push_back(root);
    EXPECT_FALSE(verify_inclusion(m, 13, leaves[m], longer, root));
    if (!proof.empty()) {
      auto shorter = proof;
      shorter.pop_back();
      EXPECT_FALSE(verify_inclusion(m, 13, leaves[m], shorter, root));
    }
  }
}

TEST(Merkle, ConsistencyVerifierRejectsEveryAlteration) {
  auto leaves = random_leaves(21, 4);
  MerkleTree tree;
  for (const auto& leaf : leaves) tree.append(leaf);
  auto new_root = *tree.root(21);
  for (uint64_t m = 1; m < 21; ++m) {
    auto old_root = *tree.root(m);
    auto proof = *tree.consistency_proof(m, 21);
    ASSERT_TRUE(verify_consistency(m, 21, old_root, new_root, proof));
    for (size_t i = 0; i < proof.size(); ++i) {
      auto altered = proof;
      altered[i] = flipped(altered[i], 77);
      EXPECT_FALSE(verify_consistency(m, 21, old_root, new_root, altered)) << m << " " << i;
    }
    EXPECT_FALSE(verify_consistency(m, 21, flipped(old_root, 1), new_root, proof));
    EXPECT_FALSE(verify_consistency(m, 21, old_root, flipped(new_root, 1), proof));
    EXPECT_FALSE(verify_consistency(m + 1, 21, old_root, new_root, proof));
    EXPECT_FALSE(verify_consistency(m, 21, old_root, new_root, {}));
  }
  EXPECT_FALSE(verify_consistency(5, 5, *tree.root(5), *tree.root(6), {}));
  EXPECT_FALSE(verify_consistency(6, 5, *tree.root(6), *tree.root(5), {}));
}

std::vector<IndexedLeaf> indexed(const std::vector<Digest>& leaves,
                                 const std::vector<uint64_t>& indices) {
  std::vector<IndexedLeaf> out;
  for (auto index : indices) out.emplace_back(index, leaves[index]);
  return out;
}

TEST(Merkle, MultiInclusionProofsVerifyAndShareNodes) {
  auto leaves = random_leaves(40, 5);
  MerkleTree tree;
  for (const auto& leaf : leaves) tree.append(leaf);
  std::mt19937 random(6);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    auto root = naive_root(leaves, 0, n);
    for (int trial = 0; trial < 8; ++trial) {
      std::vector<uint64_t> indices;
      for (uint64_t i = 0; i < n; ++i)
        if (trial == 0 || random() % (trial + 1) == 0) indices.push_back(i);
      if (indices.empty()) indices.push_back(random() % n);
      auto proof = *tree.multi_inclusion_proof(indices, n);
      auto verified = verify_multi_inclusion(indexed(leaves, indices), n, proof, root);
      ASSERT_TRUE(verified) << n << "/" << indices.size() << ": " << verified.error().message;
      size_t separate = 0;
      for (auto index : indices) separate += tree.inclusion_proof(index, n)->size();
      EXPECT_LE(proof.size(), separate);
      if (indices.size() == 1) {
        EXPECT_EQ(proof.size(), separate);
      }
      if (trial == 0) {
        EXPECT_TRUE(proof.empty());
      }
    }
  }
}

TEST(Merkle, MultiInclusionVerifierRejectsEveryAlteration) {
  auto leaves = random_leaves(23, 7);
  MerkleTree tree;
  for (const auto& leaf : leaves) tree.append(leaf);
  auto root = *tree.root(23);
  const std::vector<uint64_t> indices = {2, 3, 9, 17};
  auto shown = indexed(leaves, indices);
  auto proof = *tree.multi_inclusion_proof(indices, 23);
  ASSERT_TRUE(verify_multi_inclusion(shown, 23, proof, root));
  for (size_t i = 0; i < proof.size(); ++i) {
    auto altered = proof;
    altered[i] = flipped(altered[i], 101);
    EXPECT_FALSE(verify_multi_inclusion(shown, 23, altered, root)) << i;
    auto shorter = proof;
    shorter.erase(shorter.begin() + static_cast<ptrdiff_t>(i));
    EXPECT_FALSE(verify_multi_inclusion(shown, 23, shorter, root)) << i;
  }
  auto longer = proof;
  longer.push_back(root);
  EXPECT_FALSE(verify_multi_inclusion(shown, 23, longer, root));
  for (size_t i = 0; i < shown.size(); ++i) {
    auto altered = shown;
    altered[i].second = flipped(altered[i].second, 3);
    EXPECT_FALSE(verify_multi_inclusion(altered, 23, proof, root)) << i;
    auto moved = shown;
    moved[i].first = indices[i] == 10 ? 11 : 10;
    std::sort(moved.begin(), moved.end());
    EXPECT_FALSE(verify_multi_inclusion(moved, 23, proof, root)) << i;
  }
  auto fewer = std::vector<IndexedLeaf>(shown.begin() + 1, shown.end());
  EXPECT_FALSE(verify_multi_inclusion(fewer, 23, proof, root));
  EXPECT_FALSE(verify_multi_inclusion(shown, 18, proof, root));
  EXPECT_FALSE(verify_multi_inclusion(shown, 17, proof, root));
  EXPECT_FALSE(verify_multi_inclusion(shown, 23, proof, flipped(root, 9)));
  auto unordered = shown;
  std::swap(unordered[0], unordered[1]);
  EXPECT_FALSE(verify_multi_inclusion(unordered, 23, proof, root));
  EXPECT_FALSE(verify_multi_inclusion({}, 23, {}, root));
  EXPECT_FALSE(verify_multi_inclusion(indexed(leaves, {2, 2}), 23, proof, root));
  EXPECT_FALSE(tree.multi_inclusion_proof(std::vector<uint64_t>{3, 2}, 23));
  EXPECT_FALSE(tree.multi_inclusion_proof(std::vector<uint64_t>{22}, 22));
  EXPECT_FALSE(tree.multi_inclusion_proof(std::vector<uint64_t>{}, 23));
  EXPECT_FALSE(tree.multi_inclusion_proof(std::vector<uint64_t>{1}, 24));
}

TEST(SignedNote, SignsAndOpensCheckpoints) {
  auto dir =
      std::filesystem::path(::testing::TempDir()) / ("note-key-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto key = SigningKey::load_or_create(dir / "k", "op-dbus/test");
  ASSERT_TRUE(key) << key.error().describe();
  EXPECT_EQ(std::filesystem::status(dir / "k").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto again = SigningKey::load_or_create(dir / "k", "op-dbus/test");
  EXPECT_EQ(again->verifier().text(), key->verifier().text());

  Checkpoint checkpoint{"op-dbus/test", 7, sha256(std::string_view("x")), "2026-11-25T00:00:00Z"};
  auto note = *key->sign(checkpoint.body());
  auto verifier = *VerifierKey::parse(key->verifier().text());
  auto opened = open_checkpoint(note, verifier);
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(opened->size, 7u);
  EXPECT_EQ(opened->root, checkpoint.root);
  EXPECT_EQ(opened->time, checkpoint.time);

  for (size_t i = 0; i < note.size(); ++i) {
    auto altered = note;
    altered[i] ^= 0x04;
    EXPECT_FALSE(open_checkpoint(altered, verifier)) << "byte " << i;
  }
  auto other = SigningKey::load_or_create(dir / "other", "op-dbus/test");
  auto resigned = *other->sign(checkpoint.body());
  auto refused = open_checkpoint(resigned, verifier);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("not signed by"), std::string::npos);
  EXPECT_FALSE(key->sign("two\n\nparagraphs\n"));
  EXPECT_FALSE(VerifierKey::parse("name+00000000+AAAA"));
  EXPECT_FALSE(VerifierKey::parse("no-plus-signs"));
}

}  // namespace
}  // namespace opdbus::ledger
