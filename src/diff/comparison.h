#pragma once
// The result of comparing two sessions (docs/diff.md). Data only: `ree diff`
// prints it, `ree diff --json` serialises it (report_json.h) and ree-view
// draws it; none of them compares anything itself.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diff/topk.h"

namespace ree::diff {

// The kind of a difference, named after what differs.
enum class DiffClass : uint8_t {
  Header,       // a content field of the header: contract, model, tokenizer, template, configuration
  Prompt,       // a turn's role, content or rendered prompt token ids
  Token,        // a generated token (its id, or its text for the same id)
  LogitsDrift,  // same token and top-k order, different logits (hash, probes or top-k values): the earliest sign
  TopK,         // same token, the recorded top-k candidates reordered or replaced
  ToolCall,     // a tool call's name, arguments, raw text or parse outcome
  ToolResult,   // a tool result's output, status or exit code
  Checkpoint,   // a checkpoint's label, data, KV-cache hash or position
  StopReason,   // why a turn ended
  Length,       // one session has more turns, steps or records (or shifted positions)
  Unknown,      // a record of a kind this ree does not interpret differs byte-wise
};
constexpr size_t kDiffClassCount = 11;
std::string_view class_name(DiffClass kind);  // "header", "prompt", "token", "logits_drift", ...

// Which part of the header a field belongs to.
enum class HeaderSection : uint8_t {
  Format,         // file format version: how, not what, was written
  Contract,       // contract_version
  Model,          // model name, format, weights digest
  Tokenizer,      // tokenizer digest
  Template,       // chat template id
  Configuration,  // mode, dtype, seed, sampling, max tokens, top-k width, probes
  Run,            // device, threads, prefill chunk: by the contract they change no content
  Environment,    // machine, build, time: never content
};
std::string_view section_name(HeaderSection section);

// One header field whose values differ. Every differing field is listed;
// `content` says whether it makes the sessions different.
struct HeaderField {
  HeaderSection section = HeaderSection::Environment;
  std::string path;  // schema field path, e.g. "config.sampling.temperature"
  std::string a;     // printed value, "(absent)" when the field is not set
  std::string b;
  bool content = false;  // bound (receipt) field; false for format, run settings, environment
};

constexpr uint32_t kNoTurn = UINT32_MAX;

// One difference between aligned records.
struct Mismatch {
  DiffClass kind = DiffClass::Header;
  uint32_t turn = kNoTurn;              // aligned turn; kNoTurn for the header and pre-turn records
  int64_t step = -1;                    // step index within the turn; -1 when not about a step
  std::optional<size_t> record_a;       // record indices (SessionReader::record); absent on one
  std::optional<size_t> record_b;       //   side when only the other session has the record
  std::string what;                     // one line saying what differs
};

// A step located in both sessions.
struct StepRef {
  uint32_t turn = 0;
  uint32_t step = 0;         // index within the turn
  uint64_t global_a = 0;     // index into SessionReader::steps() of a
  uint64_t global_b = 0;     // ... of b
};

// The first step whose tokens differ, with what the two models saw there.
struct TokenDivergence {
  StepRef at;
  int64_t position_a = 0;
  int64_t position_b = 0;
  int32_t token_a = 0;
  int32_t token_b = 0;
  std::string piece_a;
  std::string piece_b;
  TopKList topk_a;
  TopKList topk_b;
  std::vector<TopKRow> side_by_side;  // rank by rank
  int rank_of_b_in_a = -1;            // 0-based rank of b's token in a's top-k; -1 when absent
  int rank_of_a_in_b = -1;
  bool near_tie = false;              // top1-top2 margin below the threshold on either side
  float near_tie_margin = 0.0f;       // the threshold used
  std::vector<std::string> context;   // pieces of the shared steps just before (oldest first)
};

// Per-turn figures (turns aligned by index).
struct TurnSummary {
  uint32_t turn = 0;
  bool in_a = false;
  bool in_b = false;
  uint32_t steps_a = 0;
  uint32_t steps_b = 0;
  uint32_t matched_steps = 0;    // leading steps whose tokens are equal
  uint32_t identical_steps = 0;  // steps before any token divergence whose records are equal
  uint32_t silent_drift_steps = 0;                // same token, different logits hash
  std::optional<uint32_t> first_logits_drift;     // first step whose logits hash differs
  std::optional<uint32_t> first_token_divergence; // first step whose token differs
  std::optional<uint32_t> first_topk_change;      // first same-token step whose top-k candidates or order differ
  std::optional<DiffClass> first_class;           // class of the turn's first difference
  std::array<uint64_t, kDiffClassCount> counts{}; // differences found in this turn, by class
};

// What one side of the comparison is.
struct SessionSummary {
  std::string path;
  std::string status;          // trace::status_name: "valid", "truncated", "invalid", ...
  std::string status_message;  // the reader's one line
  uint64_t records = 0;        // records in the intact prefix
  uint64_t steps = 0;
  uint32_t turns = 0;
  bool complete = false;       // has its End record
};

struct Comparison {
  SessionSummary a;
  SessionSummary b;
  // Every header field that differs, content or not.
  std::vector<HeaderField> header;
  // Record-level differences in session order. Per turn: every differing
  // non-step record, and for steps the first of each class (the figures in
  // `turns` count them all), so the list stays short on long sessions.
  std::vector<Mismatch> mismatches;
  // The first content difference: a content header field, else the first
  // record-level mismatch. Empty when the sessions are identical.
  std::optional<Mismatch> first;
  std::optional<TokenDivergence> token_divergence;  // first across all turns
  std::optional<StepRef> first_logits_drift;        // first across all turns
  std::vector<TurnSummary> turns;
  std::array<uint64_t, kDiffClassCount> counts{};   // differences by class, header included
  std::vector<std::string> notes;                   // worth knowing, not differences

  // Identical content (environment, run settings and format ignored).
  bool identical() const { return !first.has_value(); }
  // Environment-only: no content difference, but some header field differs.
  bool environment_differs() const;
};

}  // namespace ree::diff
