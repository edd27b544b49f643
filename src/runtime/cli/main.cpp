// ree: the command-line entry point. Parses the subcommand, runs it, and
// turns errors into one line on stderr and a documented exit code
// (README.md, "Exit codes").
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "ree/version.h"
#include "runtime/cli/commands.h"
#include "runtime/error.h"

int main(int argc, char** argv) {
  CLI::App app{"ree: record, replay and diff LLM inference, bit for bit"};
  app.set_version_flag("--version", std::string("ree ") + REE_VERSION + " (" + REE_GIT_REVISION +
                                        ", " + REE_CONTRACT_VERSION + ")");
  app.require_subcommand(1);
  ree::cli::RunSlot run;
  ree::cli::register_run(app, run);
  ree::cli::register_info(app, run);
  ree::cli::register_bench(app, run);
  ree::cli::register_synth(app, run);
  ree::cli::register_convert(app, run);
  ree::cli::register_diff(app, run);
  ree::cli::register_view(app, run);
  ree::cli::register_agent(app, run);
  ree::cli::register_replay(app, run);
  ree::cli::register_inspect(app, run);
  ree::cli::register_verify(app, run);
  ree::cli::register_keygen(app, run);
  // (more register_* calls are added here as commands land)

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; usage errors exit 2.
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ree::ExitCode::InputError);
  }
  try {
    return run ? run() : 0;
  } catch (const ree::Error& e) {
    std::fprintf(stderr, "ree: error: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ree: internal error: %s\n", e.what());
    return 4;
  }
}
