// The structural embedder; see structural.h.
#include "ml/structural.h"

#include <arpa/inet.h>
#include <xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "ml/kernels.h"

namespace opdbus::ml {
namespace {

constexpr uint64_t kSeed = 0x6f702d64627573;  // "op-dbus"
constexpr float kShape = 0.5F, kValue = 1.0F, kClass = 0.7F, kLength = 0.5F, kIdentity = 0.3F;
constexpr float kNetwork = 3.0F;  // which network an address or route is in weighs most
constexpr size_t kLongText = 32;  // longer strings: shape over value
constexpr float kLongValue = 0.5F, kLongShape = 1.0F;
constexpr const char* kIdentityKeys[] = {"name", "id", "destination", "uuid", "public_key", "path"};
// Keys whose values name another item: which one, not what it is like.
constexpr const char* kReferenceKeys[] = {"peer", "master", "base", "dev", "link", "controller"};

int power_of_two(double value) {
  return static_cast<int>(std::floor(std::log2(std::fabs(value) + 1.0)));
}

// An IPv4 address or prefix as its /16 network, IPv6 as its /48; false for other strings.
bool network_class(const std::string& text, std::string& out) {
  auto slash = text.find('/');
  std::string address = text.substr(0, slash);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1) {
    out += fmt::format("ip4:{}.{}.0.0/16", bytes[0], bytes[1]);
    return true;
  }
  if (inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
    out += fmt::format("ip6:{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}::/48", bytes[0], bytes[1],
                       bytes[2], bytes[3], bytes[4], bytes[5]);
    return true;
  }
  return false;
}

// A string's shape: runs of letters become "a", of digits "9", other characters stay
// ("web3.service" -> "a9.a", "sshd.service" -> "a.a"), so values of one kind are alike.
void shape_of(const std::string& text, std::string& out) {
  char last = 0;
  for (char c : text) {
    char cls = std::isalpha(static_cast<unsigned char>(c))   ? 'a'
               : std::isdigit(static_cast<unsigned char>(c)) ? '9'
                                                             : c;
    if (cls != last || (cls != 'a' && cls != '9')) out += cls;
    last = cls;
  }
}

// MAC addresses and UUIDs are generated, not chosen: like a name, they say which, not what.
bool looks_generated(const std::string& text) {
  auto hex_groups = [&](size_t length, char separator) {
    if (text.size() != length) return false;
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] != separator && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
    return true;
  };
  return hex_groups(17, ':') || hex_groups(36, '-');
}

class Hasher {
 public:
  explicit Hasher(Vector& vector) : vector_(vector) {}

  void walk(const Json& node) {
    if (node.is_object()) {
      for (const auto& item : node.items()) {
        const auto& key = item.key();
        auto is = [&key](const auto& keys) {
          return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
        };
        bool identity = is(kIdentityKeys) || is(kReferenceKeys);
        auto weight = std::exchange(value_weight_, identity ? kIdentity : value_weight_);
        descend(item.value(), "." + key, "." + key);
        value_weight_ = weight;
      }
    } else if (node.is_array()) {
      add(generic_, "#", std::to_string(power_of_two(static_cast<double>(node.size()))), kLength);
      for (size_t i = 0; i < node.size(); ++i) {
        auto name = identity_of(node[i]).value_or(std::to_string(i));
        descend(node[i], "[" + name + "]", "[*]");
      }
    } else {
      leaf(node);
    }
  }

 private:
  void descend(const Json& child, const std::string& specific, const std::string& generic) {
    auto specific_size = specific_.size(), generic_size = generic_.size();
    specific_ += specific;
    generic_ += generic;
    walk(child);
    specific_.resize(specific_size);
    generic_.resize(generic_size);
  }

  void leaf(const Json& value) {
    add(generic_, "", "", kShape);
    scratch_.clear();
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      if (network_class(text, scratch_)) {  // the network matters even where it names the item
        add(specific_, "=", text, kValue * kIdentity);
        add(generic_, "=", scratch_, kNetwork);
        return;
      }
      auto weight = looks_generated(text) ? kIdentity : value_weight_;
      if (text.size() > kLongText) return long_text(text, weight);
      add(specific_, "=", text, kValue * weight);
      shape_of(text, scratch_);
      add(generic_, "=", scratch_, kClass * weight);
      return;
    } else if (value.is_number()) {
      add(specific_, "=", value.dump(), kValue * value_weight_);
      scratch_ = fmt::format("n:{}{}", value.get<double>() < 0 ? "-" : "+",
                             power_of_two(value.get<double>()));
    } else {
      scratch_ = value.dump();
      add(specific_, "=", scratch_, kValue * value_weight_);
    }
    add(generic_, "=", scratch_, kClass * value_weight_);
  }

  // Text (a unit file, a command line): what it looks like (its shape) weighs more than its exact
  // value, so "lxc-start -n ct7" and "-n ct8" are alike and "/tmp/.cache/x -o pool:3333" is not.
  void long_text(const std::string& text, float weight) {
    add(specific_, "=", text, kLongValue * weight);
    scratch_.clear();
    shape_of(text, scratch_);
    add(generic_, "=", scratch_, kLongShape * weight);
  }

  void add(const std::string& path, const char* separator, const std::string& value, float weight) {
    auto size = buffer_.size();
    buffer_ += path;
    buffer_ += separator;
    buffer_ += value;
    auto hash = XXH3_64bits_withSeed(buffer_.data() + size, buffer_.size() - size, kSeed);
    buffer_.resize(size);
    vector_[hash % kDimensions] += (hash >> 63) ? -weight : weight;
  }

  Vector& vector_;
  float value_weight_ = 1.0F;  // lowered under identity keys: a name says which, not what
  std::string specific_, generic_, scratch_, buffer_;
};

}  // namespace

std::optional<std::string> identity_of(const Json& item) {
  if (!item.is_object()) return std::nullopt;
  for (const char* key : kIdentityKeys) {
    auto found = item.find(key);
    if (found == item.end()) continue;
    if (found->is_string()) return found->get<std::string>();
    if (found->is_number_integer()) return std::to_string(found->get<int64_t>());
  }
  return std::nullopt;
}

Vector embed_structure(const Json& document) {
  Vector vector{};
  Hasher(vector).walk(document);
  kernels::normalize(vector.data(), vector.size());
  return vector;
}

float cosine(const Vector& a, const Vector& b) {
  float dot = 0;
  for (size_t i = 0; i < kDimensions; ++i) dot += a[i] * b[i];
  return dot;
}

}  // namespace opdbus::ml
