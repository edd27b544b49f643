// `ree diff a.fb b.fb [--json] [--context N] [--near-tie M]`: where and how
// two recorded sessions part, without re-executing them (docs/diff.md).
// Exit codes: 0 identical (environment and run settings ignored),
// 1 different, 2 usage or input error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "diff/compare.h"
#include "diff/open_pair.h"
#include "diff/report_json.h"
#include "diff/text.h"
#include "runtime/cli/commands.h"
#include "runtime/error.h"

namespace ree::cli {
namespace {

struct DiffFlags {
  std::string a;
  std::string b;
  bool json = false;
  size_t context = 8;
  float near_tie = diff::kNearTieMargin;
};

std::string turn_text(uint32_t turn) { return turn == diff::kNoTurn ? "-" : std::to_string(turn); }

std::string optional_text(const std::optional<uint32_t>& v) { return v ? std::to_string(*v) : "-"; }

void print_session(const char* side, const diff::SessionSummary& s) {
  std::printf("%s: %s (%s, %u turns, %llu steps, %llu records)\n", side, s.path.c_str(), s.status.c_str(), s.turns,
              static_cast<unsigned long long>(s.steps), static_cast<unsigned long long>(s.records));
}

void print_header(const diff::Comparison& c) {
  if (c.header.empty()) return;
  std::printf("\nheader fields that differ (%zu):\n", c.header.size());
  for (const diff::HeaderField& f : c.header)
    std::printf("  %-13s %-32s %s vs %s%s\n", std::string(diff::section_name(f.section)).c_str(), f.path.c_str(),
                diff::quote_text(f.a).c_str(), diff::quote_text(f.b).c_str(),
                f.content ? "" : "  (not content: ignored)");
}

void print_entry(const std::optional<diff::TopKEntry>& e) {
  if (!e) {
    std::printf("  %-36s", "");
    return;
  }
  char line[160];
  // An id no step of either session produced has no known text.
  const std::string text = e->piece.empty() ? "-" : diff::quote_text(e->piece, 10);
  std::snprintf(line, sizeof line, "%7d %-14s %9.4f %6.3f", e->id, text.c_str(), e->logit, e->probability);
  std::printf("  %-36s", line);
}

void print_divergence(const diff::TokenDivergence& d) {
  std::printf("\nfirst token divergence: turn %u, step %u (position %lld in a, %lld in b)\n", d.at.turn, d.at.step,
              static_cast<long long>(d.position_a), static_cast<long long>(d.position_b));
  if (!d.context.empty()) {
    std::string context;
    for (const std::string& piece : d.context) context += piece + "|";
    std::printf("  after:  ...|%s\n", diff::quote_text(context, 120).c_str());
  }
  std::printf("  a chose %d %s, b chose %d %s\n", d.token_a, diff::quote_text(d.piece_a).c_str(), d.token_b,
              diff::quote_text(d.piece_b).c_str());
  std::printf("  top-k (softmax over the recorded candidates):\n");
  std::printf("  rank  %-36s  %-36s\n", "a: id, text, logit, p", "b: id, text, logit, p");
  for (size_t i = 0; i < d.side_by_side.size(); ++i) {
    std::printf("  %4zu", i);
    print_entry(d.side_by_side[i].a);
    print_entry(d.side_by_side[i].b);
    std::printf("%s\n", d.side_by_side[i].same_id ? "" : "  *");
  }
  std::printf("  margin (top1 - top2): a %.6g%s, b %.6g%s\n", d.topk_a.margin, d.topk_a.near_tie ? " NEAR TIE" : "",
              d.topk_b.margin, d.topk_b.near_tie ? " NEAR TIE" : "");
  if (d.rank_of_b_in_a >= 0) std::printf("  b's token is a's candidate #%d\n", d.rank_of_b_in_a + 1);
  if (d.rank_of_a_in_b >= 0) std::printf("  a's token is b's candidate #%d\n", d.rank_of_a_in_b + 1);
  if (d.near_tie)
    std::printf("  near tie (margin < %g): the usual cause of cross-hardware divergence\n", d.near_tie_margin);
}

void print_turns(const diff::Comparison& c) {
  if (c.turns.empty()) return;
  std::printf("\nturns:\n  %-5s %-15s %-8s %-12s %-17s %s\n", "turn", "steps a/b", "matched", "first drift",
              "first divergence", "first difference");
  for (const diff::TurnSummary& t : c.turns) {
    const std::string steps = (t.in_a ? std::to_string(t.steps_a) : "-") + "/" + (t.in_b ? std::to_string(t.steps_b) : "-");
    std::printf("  %-5s %-15s %-8u %-12s %-17s %s\n", turn_text(t.turn).c_str(), steps.c_str(), t.matched_steps,
                optional_text(t.first_logits_drift).c_str(), optional_text(t.first_token_divergence).c_str(),
                t.first_class ? std::string(diff::class_name(*t.first_class)).c_str() : "-");
  }
}

void print_mismatches(const diff::Comparison& c) {
  if (c.mismatches.empty()) return;
  std::printf("\ndifferences (%zu listed; per turn the first step of each class):\n", c.mismatches.size());
  for (const diff::Mismatch& m : c.mismatches) {
    std::string where = "turn " + turn_text(m.turn);
    if (m.step >= 0) where += " step " + std::to_string(m.step);
    std::printf("  %-20s %-13s %s\n", where.c_str(), std::string(diff::class_name(m.kind)).c_str(), m.what.c_str());
  }
}

void print_report(const diff::Comparison& c) {
  print_session("a", c.a);
  print_session("b", c.b);
  for (const std::string& note : c.notes) std::printf("note: %s\n", note.c_str());
  print_header(c);
  if (c.first) {
    std::string where = c.first->turn == diff::kNoTurn ? "" : " at turn " + turn_text(c.first->turn);
    if (c.first->step >= 0) where += ", step " + std::to_string(c.first->step);
    std::printf("\nfirst difference: %s%s: %s\n", std::string(diff::class_name(c.first->kind)).c_str(), where.c_str(),
                c.first->what.c_str());
  }
  if (c.first_logits_drift)
    std::printf("first logits drift: turn %u, step %u\n", c.first_logits_drift->turn, c.first_logits_drift->step);
  if (c.token_divergence) print_divergence(*c.token_divergence);
  print_turns(c);
  print_mismatches(c);
  std::printf("\n%s\n", c.identical() ? (c.environment_differs() ? "IDENTICAL (environment differs only)" : "IDENTICAL")
                                       : "DIFFERENT");
}

int diff_command(const DiffFlags& f) {
  if (!(f.near_tie >= 0.0f)) throw Error("--near-tie must be a non-negative number");
  const diff::SessionPair pair = diff::open_pair(f.a, f.b);
  diff::CompareOptions options;
  options.context_steps = f.context;
  options.near_tie_margin = f.near_tie;
  const diff::Comparison c = diff::compare_sessions(pair.a, pair.b, options);
  if (f.json)
    std::printf("%s\n", diff::comparison_to_json(c).dump(2).c_str());
  else
    print_report(c);
  return static_cast<int>(c.identical() ? ExitCode::Ok : ExitCode::Diverged);
}

}  // namespace

void register_diff(CLI::App& app, RunSlot& run) {
  auto flags = std::make_shared<DiffFlags>();
  CLI::App* cmd = app.add_subcommand(
      "diff", "Compare two sessions without re-executing: the first difference, its class, per-turn figures");
  cmd->add_option("a", flags->a, "first session file")->required();
  cmd->add_option("b", flags->b, "second session file")->required();
  cmd->add_flag("--json", flags->json, "the full report as JSON");
  cmd->add_option("--context", flags->context, "shared steps shown before the first token divergence")
      ->capture_default_str();
  cmd->add_option("--near-tie", flags->near_tie, "top1-top2 logit margin below which a step is a near tie")
      ->capture_default_str();
  cmd->footer("Exit codes: 0 identical (environment and run settings ignored), 1 different, 2 usage or input error.");
  cmd->callback([flags, &run] { run = [flags] { return diff_command(*flags); }; });
}

}  // namespace ree::cli
