// `op-dbus ledger ...`; see ledger_cli.h.
#include "app/ledger_cli.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/fs.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"

namespace opdbus::cli {
namespace {

using namespace ledger;

Result<std::vector<Digest>> digests_from(const Json& list) {
  std::vector<Digest> out;
  if (!list.is_array()) return fail(ErrorCode::invalid_input, "\"proof\" is not a list of hashes");
  for (const auto& item : list) {
    auto digest = item.is_string() ? digest_from_hex(item.get<std::string>()) : std::nullopt;
    if (!digest) return fail(ErrorCode::invalid_input, "proof entry {} is not a hash", item.dump());
    out.push_back(*digest);
  }
  return out;
}

std::string change_summary(const Json& diff) {
  size_t create = 0, modify = 0, remove = 0;
  for (const auto& change : diff) {
    auto op = change.value("op", "");
    create += op == "create";
    modify += op == "modify";
    remove += op == "remove";
  }
  return fmt::format("+{} ~{} -{}", create, modify, remove);
}

std::string log_line(const Json& block) {
  const auto& actor = block["actor"];
  std::string plugins;
  for (const auto& plugin : block["plugins"])
    plugins += (plugins.empty() ? "" : ",") + plugin.get<std::string>();
  return fmt::format("{:>6}  {}  {}@{}  {:<14} {:<8} {:<16} {}", block["height"].get<uint64_t>(),
                     block["time"].get<std::string>(), actor.value("user", "?"),
                     actor.value("interface", "?"), block["action"].get<std::string>(),
                     plugins.empty() ? "-" : plugins, block["result"].value("outcome", "-"),
                     change_summary(block["diff"]));
}

bool block_matches(const Json& block, const LedgerArgs& args,
                   const std::optional<TimePoint>& since) {
  if (args.plugin) {
    const auto& plugins = block["plugins"];
    if (std::find(plugins.begin(), plugins.end(), *args.plugin) == plugins.end()) return false;
  }
  if (since) {
    auto time = parse_rfc3339(block.value("time", ""));
    if (!time || *time < *since) return false;
  }
  return true;
}

int run_log(Context& context, const Output& output, const LedgerArgs& args) {
  std::optional<TimePoint> since;
  if (args.since) {
    auto parsed = parse_rfc3339(*args.since);
    if (!parsed) return report_error(parsed.error());
    since = *parsed;
  }
  auto data = load_local_ledger(context.config.state_dir);
  if (!data) return report_error(data.error());
  auto blocks = newest_blocks(*data, args.count,
                              [&](const Json& block) { return block_matches(block, args, since); });
  if (!blocks) return report_error(blocks.error());
  const auto& selected = *blocks;
  if (output.json) {
    print_json(Json(selected));
    return kOk;
  }
  for (const auto& block : selected) fmt::print("{}\n", log_line(block));
  if (selected.empty()) fmt::print("No blocks match.\n");
  return kOk;
}

int run_show(Context& context, const LedgerArgs& args) {
  auto data = load_local_ledger(context.config.state_dir);
  if (!data) return report_error(data.error());
  auto line = block_at(index_blocks(*data), args.height);
  if (!line) return report_error(line.error());
  auto block = parse_block(*line);
  if (!block) return report_error(block.error());
  print_json(*block);
  return kOk;
}

int run_export(Context& context, const LedgerArgs& args) {
  auto data = load_local_ledger(context.config.state_dir);
  if (!data) return report_error(data.error());
  UniqueFd file;
  if (!args.out_file.empty()) {
    file = UniqueFd(::open(args.out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!file)
      return report_error(Error{ErrorCode::invalid_input,
                                fmt::format("create {}: {}", args.out_file, errno_text(errno)),
                                {}});
  }
  auto written = write_export(*data, file ? file.get() : STDOUT_FILENO);
  if (written && file && ::fsync(file.get()) != 0)
    written = fail(ErrorCode::io, "fsync {}: {}", args.out_file, errno_text(errno));
  if (!written) return report_error(written.error());
  if (file)
    fmt::print(stderr, "Exported {} blocks to {}.\n", index_blocks(*data).lines.size(),
               args.out_file);
  return kOk;
}

Result<std::optional<VerifierKey>> trusted_key(const LedgerArgs& args) {
  if (args.pubkey_file.empty()) return std::optional<VerifierKey>();
  auto text = TRY(with_context(read_file(args.pubkey_file), "--pubkey"));
  auto key = VerifierKey::parse(text);
  if (!key)
    return fail(ErrorCode::invalid_input, "--pubkey {}: {}", args.pubkey_file, key.error().message);
  return std::optional<VerifierKey>(std::move(*key));
}

int verification_failed(const Output& output, const Error& error) {
  if (output.json) {
    print_json({{"ok", false}, {"problem", error.describe()}});
    return kFailed;
  }
  fmt::print(stderr, "op-dbus: ledger verification FAILED: {}\n", error.describe());
  return kFailed;
}

int run_verify(Context& context, const Output& output, const LedgerArgs& args) {
  auto key = trusted_key(args);
  if (!key) return report_error(key.error());
  VerifyOptions options;
  options.trusted_key = *key;
  for (const auto& file : args.known_checkpoint_files) {
    auto note = read_file(file);
    if (!note) return report_error(note.error());
    options.known_checkpoints.push_back(*note);
  }
  auto data = args.from_file.empty() ? load_local_ledger(context.config.state_dir)
                                     : load_export(args.from_file);
  if (!data) return report_error(data.error());
  auto report = verify_ledger(*data, options);
  if (!report) {
    if (report.error().code != ErrorCode::verify_failed) return report_error(report.error());
    return verification_failed(output, report.error());
  }
  if (output.json) {
    print_json({{"ok", true},
                {"source", data->source},
                {"blocks", report->blocks},
                {"root", to_hex(report->checkpoint.root)},
                {"checkpoint_time", report->checkpoint.time},
                {"key", report->key},
                {"notes", report->notes}});
    return kOk;
  }
  fmt::print(
      "Ledger {} verified: {} blocks, chain and Merkle root {} match the checkpoint signed "
      "{} by {}.\n",
      data->source, report->blocks, to_hex(report->checkpoint.root), report->checkpoint.time,
      report->key.substr(0, report->key.rfind('+')));
  for (const auto& note : report->notes) fmt::print("  note: {}\n", note);
  return kOk;
}

// An inclusion proof (for args.height) or a consistency proof (from args.old_size) for the tree
// of args.size blocks (default: all).
Result<Json> make_proof(Context& context, const LedgerArgs& args, bool inclusion) {
  auto data = TRY(load_local_ledger(context.config.state_dir));
  return inclusion ? inclusion_proof_json(data, args.height, args.size)
                   : consistency_proof_json(data, args.old_size, args.size);
}

int run_proof(Context& context, const LedgerArgs& args, bool inclusion) {
  auto proof = make_proof(context, args, inclusion);
  if (!proof) return report_error(proof.error());
  print_json(*proof);
  return kOk;
}

Result<VerifierKey> proof_key(Context& context, const LedgerArgs& args) {
  if (auto key = TRY(trusted_key(args))) return std::move(*key);
  auto text = read_file(LedgerFiles(context.config.state_dir).public_key);
  if (!text) return fail(ErrorCode::invalid_input, "no key to check against: pass --pubkey FILE");
  return VerifierKey::parse(*text);
}

Result<Checkpoint> proof_checkpoint(const std::string& file, const Json& proof,
                                    const VerifierKey& key) {
  std::string note;
  if (!file.empty())
    note = TRY(read_file(file));
  else if (proof.contains("checkpoint"))
    note = proof["checkpoint"].get<std::string>();
  else
    return fail(ErrorCode::invalid_input,
                "the proof carries no checkpoint: pass --checkpoint FILE");
  return open_checkpoint(note, key);
}

Result<std::string> check_inclusion(const Json& proof, const Checkpoint& checkpoint) {
  auto index = proof.at("leaf_index").get<uint64_t>();
  auto size = proof.at("tree_size").get<uint64_t>();
  auto block_text = proof.at("block").get<std::string>();
  if (size != checkpoint.size)
    return fail(ErrorCode::verify_failed, "the proof is for tree size {}, the checkpoint for {}",
                size, checkpoint.size);
  auto block = Json::parse(block_text, nullptr, false);
  if (!block.is_object() || block.value("height", uint64_t(-1)) != index)
    return fail(ErrorCode::verify_failed, "the block in the proof is not block {}", index);
  auto leaf = leaf_hash(Bytes(sha256(block_text)));
  TRY(verify_inclusion(index, size, leaf, TRY(digests_from(proof.at("proof"))), checkpoint.root));
  return fmt::format("block {} ({} by {}) is in the ledger of {} blocks signed {}", index,
                     block.value("action", "?"), block["actor"].value("user", "?"), size,
                     checkpoint.time);
}

Result<std::string> check_consistency(const Json& proof, const Checkpoint& old_checkpoint,
                                      const Checkpoint& checkpoint) {
  auto old_size = proof.at("old_size").get<uint64_t>();
  auto new_size = proof.at("new_size").get<uint64_t>();
  if (old_size != old_checkpoint.size || new_size != checkpoint.size)
    return fail(ErrorCode::verify_failed,
                "the proof is for sizes {} -> {}, the checkpoints are for {} -> {}", old_size,
                new_size, old_checkpoint.size, checkpoint.size);
  TRY(verify_consistency(old_size, new_size, old_checkpoint.root, checkpoint.root,
                         TRY(digests_from(proof.at("proof")))));
  return fmt::format(
      "the ledger signed {} ({} blocks) extends the one signed {} ({} blocks) "
      "without changing it",
      checkpoint.time, new_size, old_checkpoint.time, old_size);
}

Result<std::string> check_proof(Context& context, const LedgerArgs& args) {
  auto key = TRY(proof_key(context, args));
  auto proof = Json::parse(TRY(read_file(args.proof_file)), nullptr, false);
  if (!proof.is_object())
    return fail(ErrorCode::invalid_input, "{} is not a proof (JSON object)", args.proof_file);
  auto checkpoint = TRY(proof_checkpoint(args.checkpoint_file, proof, key));
  try {
    if (proof.value("type", "") == "inclusion") return check_inclusion(proof, checkpoint);
    if (proof.value("type", "") != "consistency")
      return fail(ErrorCode::invalid_input, "unknown proof type '{}'", proof.value("type", ""));
    if (args.old_checkpoint_file.empty())
      return fail(ErrorCode::invalid_input, "a consistency proof needs --old-checkpoint FILE");
    auto old_checkpoint = TRY(open_checkpoint(TRY(read_file(args.old_checkpoint_file)), key));
    return check_consistency(proof, old_checkpoint, checkpoint);
  } catch (const Json::exception& error) {
    return fail(ErrorCode::invalid_input, "{} is malformed: {}", args.proof_file, error.what());
  }
}

int run_verify_proof(Context& context, const Output& output, const LedgerArgs& args) {
  auto verdict = check_proof(context, args);
  if (!verdict) {
    if (verdict.error().code != ErrorCode::verify_failed) return report_error(verdict.error());
    return verification_failed(output, verdict.error());
  }
  if (output.json)
    print_json({{"ok", true}, {"verified", *verdict}});
  else
    fmt::print("Proof verified: {}.\n", *verdict);
  return kOk;
}

int run_seal(Context& context, const Output& output) {
  auto ledger = Ledger::open(context.config.state_dir, context.interface, context.clock);
  if (!ledger) return report_error(ledger.error());
  auto segment = (*ledger)->seal();
  if (!segment) return report_error(segment.error());
  if (output.json)
    print_json({{"segment", *segment}});
  else
    fmt::print("Sealed {}; the current segment is anchored at its last signed checkpoint.\n",
               (LedgerFiles(context.config.state_dir).segments / *segment).string());
  return kOk;
}

int print_file(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return report_error(text.error());
  fmt::print("{}", *text);
  return kOk;
}

}  // namespace

LedgerCommands add_ledger_commands(CLI::App& app, LedgerArgs& args) {
  auto* ledger = app.add_subcommand("ledger", "the tamper-evident record of every change");
  ledger->require_subcommand(1);
  LedgerCommands commands;
  commands.log = ledger->add_subcommand("log", "recent blocks, newest first");
  commands.log->add_option("-n", args.count, "how many (default 20)");
  commands.log->add_option("-p,--plugin", args.plugin, "only blocks touching this plugin");
  commands.log->add_option("--since", args.since, "only blocks at or after this RFC 3339 time");
  commands.show = ledger->add_subcommand("show", "one block, whole");
  commands.show->add_option("height", args.height, "block height")->required();
  commands.export_ = ledger->add_subcommand(
      "export", "blocks, checkpoint and public key: all an auditor needs offline");
  commands.export_->add_option("-o,--output", args.out_file, "file (default: stdout)");
  commands.verify = ledger->add_subcommand(
      "verify", "recompute every hash, the chain, the Merkle root and the signatures");
  commands.verify->add_option("--pubkey", args.pubkey_file, "trusted verifier key file");
  commands.verify->add_option("--from", args.from_file, "an export instead of the state dir");
  commands.verify->add_option("--checkpoint", args.known_checkpoint_files,
                              "an earlier checkpoint the ledger must still contain (repeatable)");
  auto* proof = ledger->add_subcommand("proof", "print an inclusion or consistency proof");
  proof->require_subcommand(1);
  commands.inclusion = proof->add_subcommand("inclusion", "block HEIGHT is in the tree");
  commands.inclusion->add_option("height", args.height, "block height")->required();
  commands.inclusion->add_option("--size", args.size, "tree size (default: all blocks)");
  commands.consistency =
      proof->add_subcommand("consistency", "the tree of size M is a prefix of the tree of size N");
  commands.consistency->add_option("old_size", args.old_size, "M")->required();
  commands.consistency->add_option("new_size", args.size, "N (default: all blocks)");
  commands.verify_proof =
      ledger->add_subcommand("verify-proof", "check a proof against signed checkpoints, offline");
  commands.verify_proof->add_option("proof", args.proof_file, "proof file (JSON)")->required();
  commands.verify_proof->add_option("--checkpoint", args.checkpoint_file,
                                    "signed checkpoint (default: the one in the proof)");
  commands.verify_proof->add_option("--old-checkpoint", args.old_checkpoint_file,
                                    "the older signed checkpoint (consistency proofs)");
  commands.verify_proof->add_option("--pubkey", args.pubkey_file, "trusted verifier key file");
  commands.checkpoint = ledger->add_subcommand("checkpoint", "print the latest signed checkpoint");
  commands.pubkey = ledger->add_subcommand("pubkey", "print the verifier key");
  commands.seal = ledger->add_subcommand(
      "seal", "move all blocks into a read-only segment file (to archive), anchor the rest");
  return commands;
}

int run_ledger(Context& context, const Output& output, const LedgerCommands& commands,
               const LedgerArgs& args) {
  LedgerFiles files(context.config.state_dir);
  if (*commands.log) return run_log(context, output, args);
  if (*commands.show) return run_show(context, args);
  if (*commands.export_) return run_export(context, args);
  if (*commands.verify) return run_verify(context, output, args);
  if (*commands.inclusion) return run_proof(context, args, true);
  if (*commands.consistency) return run_proof(context, args, false);
  if (*commands.verify_proof) return run_verify_proof(context, output, args);
  if (*commands.checkpoint) return print_file(files.checkpoint);
  if (*commands.pubkey) return print_file(files.public_key);
  if (*commands.seal) return run_seal(context, output);
  return kBadInput;
}

}  // namespace opdbus::cli
