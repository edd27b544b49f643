#pragma once
// Fixtures shared by the agent and replay tests: models (a synth'd random
// model and the bundled sample model), running `ree agent`, and rewriting a
// session record by record through the real writer (to provoke differences
// that no honest recording would contain).
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "test_util.h"
#include "trace/reader.h"
#include "trace/writer.h"

namespace ree::test {

// Single-quoted for the shell (built by appending: GCC 12 warns falsely
// about `"'" + std::string` temporaries, see test_util.h's quote()).
inline std::string sh(const std::filesystem::path& p) {
  std::string s = "'";
  s += p.string();
  s += "'";
  return s;
}

// A fresh `ree synth --shape test` model (random weights, vocab 512, 2
// layers) in `dir`/name, f32 so that tests can edit its weights in place.
inline std::filesystem::path synth_test_model(const TempDir& dir, const std::string& name = "test-model") {
  const auto out = dir / name;
  const auto r = run_ree("synth --shape test --dtype f32 --format hf --seed 7 --out " + sh(out));
  if (r.exit_code != 0) throw std::runtime_error("ree synth failed: " + r.output);
  return out;
}

// The bundled, trained sample model (it calls tools); nullopt if the
// repository does not hold it.
inline std::optional<std::filesystem::path> sample_model() {
  const std::filesystem::path dir = std::filesystem::path(REE_SOURCE_DIR) / "samples" / "sample-model";
  if (std::filesystem::exists(dir / "model.safetensors")) return dir;
  return std::nullopt;
}

// stdout of the command, parsed as JSON (stderr dropped).
inline nlohmann::json run_ree_json(const std::string& args, int* exit_code = nullptr) {
  const CommandResult r = run_ree(args, /*merge_stderr=*/false);
  if (exit_code) *exit_code = r.exit_code;
  try {
    return nlohmann::json::parse(r.output);
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error("not JSON (exit " + std::to_string(r.exit_code) + "): ree " + args + "\n" + r.output);
  }
}

// Copies `in` to `out` record by record through SessionWriter, letting
// `edit` change any record first (return false to drop it). The copy has a
// fresh, valid receipt: only replay can tell that its content is wrong.
inline void rewrite_session(const std::filesystem::path& in, const std::filesystem::path& out,
                            const std::function<bool(schema::BoundRecordT&)>& edit) {
  trace::SessionReader reader(in);
  trace::SessionHeader header;
  std::unique_ptr<schema::BoundHeaderT> bound(reader.header().UnPack());
  header.bound = std::move(*bound);
  if (reader.header_frame().run()) {
    std::unique_ptr<schema::RunSettingsT> run(reader.header_frame().run()->UnPack());
    header.run = *run;
  }
  if (reader.header_frame().environment()) {
    std::unique_ptr<schema::EnvironmentT> env(reader.header_frame().environment()->UnPack());
    header.environment = *env;
  }
  trace::WriterOptions options;
  options.existing = trace::ExistingFile::Overwrite;
  trace::SessionWriter writer(out, header, options);
  bool ended = false;
  for (size_t i = 0; i < reader.size(); ++i) {
    auto record = reader.record(i).unpack();
    if (record->body.type == schema::RecordBody::End) {
      ended = true;
      continue;
    }
    if (!edit(*record)) continue;
    switch (record->body.type) {
      case schema::RecordBody::TurnStart: writer.begin_turn(*record->body.AsTurnStart()); break;
      case schema::RecordBody::Step: writer.step(*record->body.AsStep()); break;
      case schema::RecordBody::TurnEnd: writer.end_turn(*record->body.AsTurnEnd()); break;
      case schema::RecordBody::ToolCall: writer.tool_call(*record->body.AsToolCall()); break;
      case schema::RecordBody::ToolResult:
        writer.tool_result(*record->body.AsToolResult(), std::chrono::microseconds(reader.record(i).duration_us()));
        break;
      case schema::RecordBody::Checkpoint: writer.checkpoint(*record->body.AsCheckpoint()); break;
      default: break;
    }
  }
  if (ended) writer.finish();
}

// Writes a prefix of `in` (the first `bytes` bytes) to `out`: a session cut
// off the way a killed recorder leaves it.
inline void truncate_copy(const std::filesystem::path& in, const std::filesystem::path& out, uintmax_t bytes) {
  std::filesystem::copy_file(in, out, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(out, bytes);
}

}  // namespace ree::test
