#pragma once
// Replay: does this session reproduce here? (docs/replay.md)
//
//   trace::SessionReader session(path);
//   Model model = load_model(find_session_model(session.header(), path, {}));
//   check_model_identity(session.header(), model, /*allow_mismatch=*/false);
//   auto engine = make_engine(model, replay_engine_options(session.header(), flags...));
//   ReplayReport report = replay_session(session, model, *engine, options);
//   report.exit_code();   // 0 verified, 1 diverged, 3 truncated (prefix verified)
//
// Replay follows the agent's protocol (src/runtime/agent/agent.h) record by
// record: it re-renders each turn's prompt from its role and content and
// checks the recorded prompt tokens, feeds the recorded tool results, and
// re-executes every generated message, either teacher-forced (one batched
// forward pass over the recorded tokens; repro-v1 promises the same bits as
// token-by-token decoding) or regenerated token by token (--regenerate, and
// always for modes without that promise). It returns data; the CLI renders it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/agent/tools.h"
#include "runtime/engine.h"
#include "runtime/model.h"
#include "trace/reader.h"

namespace ree::replay {

enum class Method : uint8_t { TeacherForced, Regenerated };
const char* method_name(Method);

enum class ReplayStatus : uint8_t { Verified, Diverged, Truncated };
const char* replay_status_name(ReplayStatus);

// What differed. Token and StepCount are checked always; the rest only
// with --strict (Prompt always: the prompt is what the model is fed).
enum class DivergenceKind : uint8_t {
  Prompt,      // re-rendered prompt tokens differ from the recorded ones
  Token,       // the model chooses another token
  StepCount,   // the model stops where the record goes on, or goes on where it stops
  LogitsHash,  // same token, different logits (strict)
  TopK,        // recorded top-k ids or logits differ (strict)
  Position,    // a step sits at another position (strict)
  StopReason,  // the turn's stop reason differs (strict)
  Text,        // the turn's recorded text is not the decoded tokens (strict)
  ToolCall,    // the call the model made differs from the recorded one (strict)
  ToolResult,  // a tool message differs from its recorded result (strict), or a re-run tool answers differently
  Checkpoint,  // KV-cache state hash or position differs (strict)
};
const char* divergence_kind_name(DivergenceKind);

struct StepRef {
  uint32_t turn = 0;
  uint32_t step = 0;
  int64_t position = 0;
  uint64_t expected_hash = 0;  // recorded
  uint64_t observed_hash = 0;  // replayed
};

struct Divergence {
  DivergenceKind kind = DivergenceKind::Token;
  uint32_t turn = 0;
  uint32_t step = 0;          // step index within the turn (Prompt: index into the prompt)
  int64_t position = -1;      // absolute position, -1 when not about a position
  int32_t expected_token = -1, observed_token = -1;
  std::string expected_text, observed_text;   // token pieces, or the differing values as text
  uint64_t expected_hash = 0, observed_hash = 0;
  std::vector<TopEntry> expected_top, observed_top;
  std::optional<StepRef> earlier_drift;  // an earlier step whose logits hash differed while its token matched
  std::vector<std::string> context;      // pieces of the tokens just before the position
  std::string message;                   // one line
};

// --locate: where inside the model the first differing step parts ways.
struct LocateResult {
  bool found = false;           // a differing probe was found
  uint32_t turn = 0, step = 0;
  int64_t position = 0;
  int layer = -1;
  ProbePoint point = ProbePoint::AttnNorm;
  std::string against;          // "recorded probes" or e.g. "cpu reproducible vs cpu fast"
  std::string message;          // one line
};

struct ToolRerun {
  uint32_t call_index = 0;
  std::string name;
  std::string recorded;
  std::string observed;
  bool ran = false;        // false: skipped (reason says why)
  bool same = true;
  std::string reason;
};

struct ReplayCounts {
  uint32_t turns = 0;
  uint64_t steps = 0;            // steps whose token was checked
  uint64_t logits_matched = 0;   // of those, with the recorded logits hash
  uint32_t prompts = 0;
  uint32_t tool_calls = 0;
  uint32_t tool_results = 0;
  uint32_t checkpoints = 0;
};

struct ReplayReport {
  ReplayStatus status = ReplayStatus::Verified;
  Method method = Method::TeacherForced;
  bool strict = false;
  ReplayCounts counts;
  uint64_t session_steps = 0;    // steps in the file
  std::optional<Divergence> divergence;  // the first one
  std::optional<StepRef> first_drift;    // first step whose logits hash differed (any mode)
  std::optional<LocateResult> locate;
  std::vector<ToolRerun> tool_reruns;
  std::vector<std::string> notes;
  double seconds = 0.0;
  int exit_code() const;  // 0 verified, 1 diverged, 3 truncated
};

struct ReplayOptions {
  bool strict = false;
  bool regenerate = false;      // token by token even where teacher forcing is allowed
  bool rerun_tools = false;
  bool locate = false;
  // --locate between two engines (--against-device / --against-mode): the
  // second engine's options; the first is the replay engine.
  std::optional<EngineOptions> against;
  int64_t prefill_chunk = 0;    // regenerate: prompt tokens per forward (0: max batch)
  agent::ToolConfig tools;      // for --rerun-tools (read_file's directory, external tools)
  // Called now and then with (steps checked, steps in the session).
  std::function<void(uint64_t, uint64_t)> on_progress;
};

// Replays `session` on `engine` (fresh, of `model`). Throws ree::Error for
// sessions it cannot follow (unknown template id, invalid file).
ReplayReport replay_session(const trace::SessionReader& session, const Model& model, Engine& engine,
                            const ReplayOptions& options);

// The model a session names: `explicit_path` when given, else the header's
// model name as a path (as given, then beside the session file), else the
// bundled sample model when the name is its name. Throws ree::Error naming
// every place looked at, asking for --model.
std::filesystem::path find_session_model(const schema::BoundHeader& header, const std::filesystem::path& session_path,
                                         const std::optional<std::filesystem::path>& explicit_path);

// Compares the loaded model's digests with the header's. A mismatch throws
// ree::Error unless allowed, in which case it is returned as notes.
std::vector<std::string> check_model_identity(const schema::BoundHeader& header, const Model& model,
                                              bool allow_mismatch);

// Engine options for replaying: the session's mode unless `mode` overrides.
kernels::Mode session_mode(const schema::BoundHeader& header);

}  // namespace ree::replay
