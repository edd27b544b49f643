// `ree verify session.fb [--pubkey K] [--json]`: structure, order, receipt
// chain, envelope hash and signature of a session file
// (docs/session-format.md, "Verifying").
// Exit codes: 0 valid, 1 invalid or tampered, 3 truncated (complete prefix
// intact), 2 usage error, unreadable file or a format newer than this ree.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/cli/commands.h"
#include "runtime/error.h"
#include "trace/json.h"
#include "trace/keys.h"
#include "trace/reader.h"

namespace ree::cli {
namespace {

struct VerifyFlags {
  std::string path;
  std::string pubkey;
  bool json = false;
};

std::string signature_line(const trace::VerifyReport& report) {
  std::string line(trace::signature_status_name(report.signature));
  if (report.signer) line += " (key " + trace::key_fingerprint(*report.signer) + ")";
  return line;
}

void print_text(const VerifyFlags& flags, const trace::VerifyReport& report) {
  std::printf("%s: %s: %s\n", flags.path.c_str(), std::string(trace::status_name(report.status)).c_str(),
              report.message.c_str());
  if (report.status == trace::SessionStatus::Unsupported) return;
  std::printf("format:    %u.%u, %llu bytes, %llu records\n", report.format_major, report.format_minor,
              static_cast<unsigned long long>(report.file_bytes), static_cast<unsigned long long>(report.records));
  if (report.receipt) std::printf("receipt:   %s\n", trace::to_hex(*report.receipt).c_str());
  if (report.status != trace::SessionStatus::Valid) {
    std::printf("chain:     %s (over the intact prefix)\n", trace::to_hex(report.chain).c_str());
  }
  std::printf("signature: %s\n", signature_line(report).c_str());
  for (const std::string& note : report.notes) std::printf("note:      %s\n", note.c_str());
}

int verify_command(const VerifyFlags& flags) {
  trace::ReadOptions options;
  if (!flags.pubkey.empty()) options.trusted_key = trace::read_public_key(flags.pubkey);
  trace::VerifyReport report = trace::verify_session(flags.path, options);
  if (flags.json) {
    nlohmann::json out = trace::report_to_json(report);
    out["path"] = flags.path;
    std::printf("%s\n", trace::dump_json(out).c_str());
  } else {
    print_text(flags, report);
  }
  return report.exit_code();
}

}  // namespace

void register_verify(CLI::App& app, RunSlot& run) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Check a session file: structure, order, receipt chain, signature (exit 0 valid, 1 invalid, 3 truncated)");
  cmd->add_option("session", flags->path, "session file")->required();
  cmd->add_option("--pubkey", flags->pubkey, "require a signature by this public key (KEYFILE.pub from ree keygen)");
  cmd->add_flag("--json", flags->json, "machine-readable output");
  cmd->callback([flags, &run] { run = [flags] { return verify_command(*flags); }; });
}

}  // namespace ree::cli
