// Joining two hosts' meshes: each host describes its side of a mesh (its WireGuard public key,
// the endpoint other hosts reach it at, the addresses behind it) in a small JSON document signed
// with its ledger key as a C2SP signed note; the other host checks the signature (and, when
// given, that the key is the one the operator expects) before adding it as a peer.
// Document: {"note": "<signed note whose text is the canonical JSON description>",
//            "verifier": "<the signer's verifier key>"}; description: {"mesh", "host",
//            "public_key", "endpoint", "allowed_ips", "cidr"}.
// Invariants: nothing in a document is used before its signature verifies; the description's
// mesh must be the one joined and its allowed IPs inside that mesh's cidr.
#pragma once

#include <optional>
#include <string>

#include "ledger/signed_note.h"
#include "mesh/mesh.h"

namespace opdbus::mesh {

Result<Json> describe_host(const MeshConfig& config, const std::string& host,
                           const std::string& public_key);
Result<std::string> sign_description(const Json& description, const ledger::SigningKey& key);
// The remote host a document describes, once its signature verifies (by `pinned_verifier` when
// given) and it fits `config`.
Result<RemoteHost> read_description(std::string_view document, const MeshConfig& config,
                                    const std::optional<std::string>& pinned_verifier);

}  // namespace opdbus::mesh
