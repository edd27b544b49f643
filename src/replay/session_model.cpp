// Finding the model a session names and checking it is that model
// (replay.h: find_session_model, check_model_identity).
#include "replay/replay.h"

#include "runtime/agent/sample_model.h"
#include "runtime/error.h"

namespace ree::replay {
namespace {

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

bool looks_like_model(const std::filesystem::path& p) {
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) return std::filesystem::exists(p / "config.json", ec);
  return std::filesystem::is_regular_file(p, ec);
}

std::string short_digest(const std::string& d) { return d.size() > 16 ? d.substr(0, 16) + "…" : d; }

}  // namespace

std::filesystem::path find_session_model(const schema::BoundHeader& header, const std::filesystem::path& session_path,
                                         const std::optional<std::filesystem::path>& explicit_path) {
  if (explicit_path) {
    if (!looks_like_model(*explicit_path)) throw file_error(explicit_path->string(), "no model here (--model)");
    return *explicit_path;
  }
  const std::string name = str(header.model()->name());
  std::vector<std::filesystem::path> candidates;
  if (!name.empty()) {
    candidates.emplace_back(name);
    candidates.push_back(session_path.parent_path() / name);
  }
  // The bundled sample model is found by its directory name, like the agent records it.
  for (const auto& dir : agent::sample_model_candidates())
    if (dir.filename() == name) candidates.push_back(dir);
  std::string looked;
  for (const auto& c : candidates) {
    if (looks_like_model(c)) return c;
    looked += (looked.empty() ? "" : ", ") + c.string();
  }
  throw Error(session_path.string() + ": the session's model '" + name +
              "' was not found (the header holds only its name and digests; looked in " +
              (looked.empty() ? std::string("no place") : looked) + "); pass --model PATH");
}

std::vector<std::string> check_model_identity(const schema::BoundHeader& header, const Model& model,
                                              bool allow_mismatch) {
  std::vector<std::string> problems;
  const std::string weights = str(header.model()->weights_digest());
  const std::string tokenizer = str(header.model()->tokenizer_digest());
  if (weights != model.identity.weights_digest)
    problems.push_back("weights digest differs: the session has " + short_digest(weights) + ", " +
                       model.source.string() + " has " + short_digest(model.identity.weights_digest));
  if (tokenizer != model.identity.tokenizer_digest)
    problems.push_back("tokenizer digest differs: the session has " + short_digest(tokenizer) + ", " +
                       model.source.string() + " has " + short_digest(model.identity.tokenizer_digest));
  if (!problems.empty() && !allow_mismatch)
    throw Error(problems.front() + " (not the recorded model; --allow-model-mismatch replays anyway)");
  return problems;
}

}  // namespace ree::replay
