// The `op-dbus ledger ...` commands: log, show, export, verify, proof, verify-proof, checkpoint
// pubkey, and seal. All but seal only read the ledger; verification and proofs work offline on
// exports.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/commands.h"

namespace opdbus::cli {

struct LedgerArgs {
  size_t count = 20;
  std::optional<std::string> plugin;
  std::optional<std::string> since;
  uint64_t height = 0;
  std::optional<uint64_t> size;
  uint64_t old_size = 0;
  std::string out_file;
  std::string pubkey_file;
  std::string from_file;
  std::vector<std::string> known_checkpoint_files;
  std::string proof_file;
  std::string checkpoint_file;
  std::string old_checkpoint_file;
};

struct LedgerCommands {
  CLI::App* log = nullptr;
  CLI::App* show = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* inclusion = nullptr;
  CLI::App* consistency = nullptr;
  CLI::App* verify_proof = nullptr;
  CLI::App* checkpoint = nullptr;
  CLI::App* pubkey = nullptr;
  CLI::App* seal = nullptr;
};

LedgerCommands add_ledger_commands(CLI::App& app, LedgerArgs& args);
int run_ledger(Context& context, const Output& output, const LedgerCommands& commands,
               const LedgerArgs& args);

}  // namespace opdbus::cli
