// `ree keygen --out KEYFILE [--force] [--json]`: a new Ed25519 key pair for
// signing session seals. KEYFILE gets the secret key (mode 0600), KEYFILE.pub
// the public key to give to whoever verifies (`ree verify --pubkey`).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/cli/commands.h"
#include "trace/json.h"
#include "trace/keys.h"

namespace ree::cli {
namespace {

struct KeygenFlags {
  std::string out;
  bool force = false;
  bool json = false;
};

int keygen_command(const KeygenFlags& flags) {
  trace::KeyPair keys = trace::generate_key_pair();
  trace::write_key_pair(keys, flags.out, flags.force);
  std::string pub = flags.out + ".pub";
  std::string fingerprint = trace::key_fingerprint(keys.public_key);
  if (flags.json) {
    nlohmann::json out = {{"secret_key", flags.out}, {"public_key", pub}, {"fingerprint", fingerprint}};
    std::printf("%s\n", trace::dump_json(out).c_str());
  } else {
    std::printf("secret key: %s (keep it private; mode 0600)\npublic key: %s (fingerprint %s)\n", flags.out.c_str(),
                pub.c_str(), fingerprint.c_str());
  }
  return 0;
}

}  // namespace

void register_keygen(CLI::App& app, RunSlot& run) {
  auto flags = std::make_shared<KeygenFlags>();
  CLI::App* cmd = app.add_subcommand("keygen", "Create an Ed25519 key pair for signing sessions");
  cmd->add_option("--out", flags->out, "secret key file to create (the public key goes to OUT.pub)")->required();
  cmd->add_flag("--force", flags->force, "replace existing key files");
  cmd->add_flag("--json", flags->json, "machine-readable output");
  cmd->callback([flags, &run] { run = [flags] { return keygen_command(*flags); }; });
}

}  // namespace ree::cli
