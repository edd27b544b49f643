// `ree run`: greedy (or seeded) continuation of a prompt, printed as it is
// generated; with --json, one record per step (token, piece, logits hash).
#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "runtime/cli/commands.h"
#include "runtime/cli/engine_flags.h"
#include "runtime/error.h"
#include "runtime/generate.h"
#include "runtime/model.h"

namespace ree::cli {
namespace {

struct RunFlags {
  std::string model;
  std::string prompt;
  int64_t max_tokens = 64;
  bool json = false;
  bool no_bos = false;
  EngineFlags engine;
};

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

int run_command(const RunFlags& f) {
  const EngineOptions options = to_engine_options(f.engine);
  LoadOptions load;
  load.show_progress = stderr_is_terminal();
  const Model model = load_model(f.model, load);
  auto engine = make_engine(model, options);

  std::vector<int32_t> prompt;
  if (!f.no_bos) prompt.push_back(model.config.bos_id);
  for (int32_t id : model.tokenizer.encode(f.prompt)) prompt.push_back(id);

  GenerateOptions g;
  g.max_tokens = f.max_tokens;
  g.prefill_chunk = f.engine.prefill_chunk;
  g.stop_tokens = {model.config.eos_id};
  g.record_top_k = 2;

  nlohmann::json steps = nlohmann::json::array();
  std::string text;
  const GenerateResult r = generate(*engine, prompt, g, [&](const Step& s) {
    const std::string piece = model.tokenizer.piece_text(s.token);
    if (s.token != model.config.eos_id) text += piece;
    if (f.json) {
      steps.push_back({{"index", s.index}, {"position", s.position}, {"token", s.token},
                       {"piece", piece}, {"logits_hash", hex64(s.logits_hash)}});
    } else if (s.token != model.config.eos_id) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
  });
  if (f.json) {
    nlohmann::json out = {{"model", model.identity.name},
                          {"weights_digest", model.identity.weights_digest},
                          {"mode", kernels::mode_name(options.mode)},
                          {"device", engine->device_description()},
                          {"threads", options.threads},
                          {"prompt_tokens", prompt},
                          {"steps", steps},
                          {"text", text},
                          {"stop", stop_reason_name(r.stop)}};
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
  }
  return 0;
}

}  // namespace

void register_run(CLI::App& app, RunSlot& run) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "Continue a prompt with a model (greedy by default)");
  cmd->add_option("--model", flags->model, "Hugging Face model directory or GGUF file")->required();
  cmd->add_option("--prompt", flags->prompt, "prompt text")->required();
  cmd->add_option("--max-tokens", flags->max_tokens, "most tokens to generate")->capture_default_str();
  cmd->add_flag("--json", flags->json, "print each step (token id, piece, logits hash) as JSON");
  cmd->add_flag("--no-bos", flags->no_bos, "do not start the prompt with the BOS token");
  add_engine_flags(cmd, flags->engine);
  cmd->callback([flags, &run] { run = [flags] { return run_command(*flags); }; });
}

}  // namespace ree::cli
