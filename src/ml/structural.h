// The structural embedder: a JSON document (a plugin's normalised state, or a change) becomes a
// 384-dimensional unit vector by signed feature hashing (XXH3) of its paths and values, with no
// model. Documents that share structure and values point the same way; an item never seen before
// (an unknown unit enabled, a route to an unknown network, a new bridge port) adds features the
// history lacks and lowers the similarity.
// Features per leaf, with array items named by their identity ("interfaces[br0].mtu") when they
// have one (name, id, destination, uuid, public_key, path) and by position otherwise:
//   shape   hash(generic path)                 weight 0.5   e.g. "interfaces[*].mtu"
//   value   hash(identified path = value)      weight 1.0   e.g. "interfaces[br0].mtu=1500"
//   class   hash(generic path = value class)   weight 0.7   numbers by power of two, IPv4
//           addresses and prefixes by /16 network, IPv6 by /48, other strings by their shape
//           ("web3.service" -> "a9.a")
// and per array hash(generic path # power-of-two length), weight 0.5. Strings over 32 characters
// (unit files, command lines): value 0.5, shape 1.0 (what the text looks like matters more than
// which number it ends in). Values of identity keys
// weigh 0.3 of that, and so do references to other items (peer, master, dev, ...) and generated
// values (MAC addresses, UUIDs): a name says which item it is, not what it is like. Addresses
// and prefixes: the exact value 0.3, the network 3.0 (addresses moving within known networks are
// churn; a route to an unknown network is news).
// Invariants: deterministic across runs and machines (fixed seed, sorted object keys); the
// result has unit length (or is all zero for an empty document); paths are built in reused
// buffers.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "base/json_util.h"

namespace opdbus::ml {

inline constexpr size_t kDimensions = 384;
using Vector = std::array<float, kDimensions>;

Vector embed_structure(const Json& document);

// The identity of an array item (its name, id, destination, uuid, public_key or path), if any.
std::optional<std::string> identity_of(const Json& item);

float cosine(const Vector& a, const Vector& b);  // both unit length: their dot product

}  // namespace opdbus::ml
