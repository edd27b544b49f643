// JSON views of session files (json.h).
#include "trace/json.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace ree::trace {
namespace {

using nlohmann::json;

json number(float value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

template <typename T>
json array(const flatbuffers::Vector<T>* v) {
  json out = json::array();
  if (v) {
    for (auto x : *v) out.push_back(x);
  }
  return out;
}

json step_json(const SessionReader& session, const schema::Step& s) {
  json topk = json::array();
  if (s.topk_ids() && s.topk_logits()) {
    for (flatbuffers::uoffset_t i = 0; i < s.topk_ids()->size() && i < s.topk_logits()->size(); ++i) {
      topk.push_back({{"id", s.topk_ids()->Get(i)}, {"logit", number(s.topk_logits()->Get(i))}});
    }
  }
  json j = {{"turn", s.turn()},           {"index", s.index()},
            {"position", s.position()},   {"token", s.token()},
            {"piece", session.step_text(s)}, {"logits_hash", hex64(s.logits_hash())},
            {"margin", number(s.margin())}, {"top_k", topk}};
  std::string piece = s.piece() ? s.piece()->str() : std::string();
  if (!is_valid_utf8(piece)) j["piece_hex"] = to_hex(std::span<const uint8_t>(
                                   reinterpret_cast<const uint8_t*>(piece.data()), piece.size()));
  if (s.layer_hashes()) {
    json layers = json::array();
    for (auto h : *s.layer_hashes()) layers.push_back(hex64(h));
    j["layer_hashes"] = layers;
  }
  return j;
}

json body_json(const SessionReader& session, const RecordView& r) {
  if (const auto* t = r.turn_start()) {
    return {{"turn", t->turn()}, {"role", role_name(t->role())}, {"content", str(t->content())},
            {"prompt_tokens", array(t->prompt_tokens())}};
  }
  if (const auto* s = r.step()) return step_json(session, *s);
  if (const auto* e = r.turn_end()) {
    return {{"turn", e->turn()}, {"stop_reason", stop_reason_name(e->stop_reason())}, {"text", str(e->text())},
            {"steps", e->steps()}};
  }
  if (const auto* c = r.tool_call()) {
    return {{"index", c->index()}, {"name", str(c->name())}, {"arguments", str(c->arguments())},
            {"raw_text", str(c->raw_text())}, {"well_formed", c->well_formed()},
            {"parse_error", str(c->parse_error())}};
  }
  if (const auto* t = r.tool_result()) {
    return {{"call_index", t->call_index()}, {"name", str(t->name())}, {"output", str(t->output())},
            {"status", tool_status_name(t->status())}, {"exit_code", t->exit_code()},
            {"duration_us", r.duration_us()}};
  }
  if (const auto* c = r.checkpoint()) {
    return {{"label", str(c->label())}, {"data", str(c->data())}, {"kv_hash", hex64(c->kv_hash())},
            {"position", c->position()}};
  }
  if (const auto* e = r.end()) {
    json counts = json::object();
    if (e->counts()) {
      for (flatbuffers::uoffset_t k = 1; k < e->counts()->size(); ++k) {
        counts[std::string(kind_name(static_cast<schema::RecordBody>(k)))] = e->counts()->Get(k);
      }
    }
    json j = {{"counts", counts}};
    if (const auto* seal = r.seal()) {
      auto bytes = [](const flatbuffers::Vector<uint8_t>* v) {
        return v ? to_hex(std::span<const uint8_t>(v->data(), v->size())) : std::string();
      };
      j["receipt"] = bytes(seal->receipt());
      j["envelope_hash"] = bytes(seal->envelope_hash());
      if (seal->public_key()) j["public_key"] = bytes(seal->public_key());
      if (seal->signature()) j["signature"] = bytes(seal->signature());
    }
    return j;
  }
  return {{"unknown_kind", static_cast<int>(r.kind())}, {"version", r.version()}};
}

}  // namespace

std::string dump_json(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool is_valid_utf8(std::string_view text) {
  // Smallest code point each sequence length may encode (shorter forms are
  // "overlong" and invalid).
  static constexpr uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    uint32_t code = lead;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead >> 5) == 0x6) {
      extra = 1, code = lead & 0x1f;
    } else if ((lead >> 4) == 0xe) {
      extra = 2, code = lead & 0x0f;
    } else if ((lead >> 3) == 0x1e) {
      extra = 3, code = lead & 0x07;
    } else {
      return false;
    }
    if (text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next >> 6) != 0x2) return false;
      code = code << 6 | (next & 0x3f);
    }
    if (code < kMinimum[extra] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return false;
    i += extra + 1;
  }
  return true;
}

std::string hex64(uint64_t value) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, value);
  return buf;
}

json report_to_json(const VerifyReport& report) {
  json counts = json::object();
  for (size_t k = 1; k < report.counts.size(); ++k) {
    if (report.counts[k] == 0) continue;
    counts[k <= kKnownRecordKinds ? std::string(kind_name(static_cast<schema::RecordBody>(k)))
                                  : "kind_" + std::to_string(k)] = report.counts[k];
  }
  json j = {{"status", status_name(report.status)},
            {"message", report.message},
            {"file_bytes", report.file_bytes},
            {"records", report.records},
            {"good_bytes", report.good_bytes},
            {"format_version", std::to_string(report.format_major) + "." + std::to_string(report.format_minor)},
            {"counts", counts},
            {"unknown_records", report.unknown_records},
            {"chain", to_hex(report.chain)},
            {"signature", signature_status_name(report.signature)},
            {"notes", report.notes},
            {"exit_code", report.exit_code()}};
  if (report.status != SessionStatus::Valid) j["bad_offset"] = report.bad_offset;
  if (report.receipt) j["receipt"] = to_hex(*report.receipt);
  if (report.signer) j["signer"] = to_hex(*report.signer);
  return j;
}

json header_to_json(const SessionReader& session) {
  const schema::HeaderFrame& frame = session.header_frame();
  const schema::BoundHeader& h = session.header();
  const auto* model = h.model();
  const auto* config = h.config();
  const auto* sampling = config->sampling();
  json j = {
      {"format_version", std::to_string(frame.format_major()) + "." + std::to_string(frame.format_minor())},
      {"contract_version", str(h.contract_version())},
      {"model",
       {{"name", str(model->name())},
        {"format", str(model->format())},
        {"weights_digest", str(model->weights_digest())},
        {"tokenizer_digest", str(model->tokenizer_digest())},
        {"chat_template_id", str(model->chat_template_id())}}},
      {"config",
       {{"mode", mode_name(config->mode())},
        {"dtype", dtype_name(config->dtype())},
        {"seed", config->seed()},
        {"temperature", number(sampling->temperature())},
        {"top_k", sampling->top_k()},
        {"top_p", number(sampling->top_p())},
        {"max_tokens", config->max_tokens()},
        {"topk_width", config->topk_width()},
        {"probes", config->probes()}}}};
  if (const auto* run = frame.run()) {
    j["run"] = {{"device", str(run->device())}, {"threads", run->threads()}, {"prefill_chunk", run->prefill_chunk()}};
  }
  if (const auto* env = frame.environment()) {
    j["environment"] = {{"ree_version", str(env->ree_version())}, {"git_revision", str(env->git_revision())},
                        {"cpu_model", str(env->cpu_model())},     {"simd_path", str(env->simd_path())},
                        {"gpu_name", str(env->gpu_name())},       {"gpu_driver", str(env->gpu_driver())},
                        {"cuda_version", str(env->cuda_version())}, {"os", str(env->os())},
                        {"hostname", str(env->hostname())},       {"start_time_unix_ms", env->start_time_unix_ms()}};
  }
  return j;
}

json record_to_json(const SessionReader& session, const RecordView& record) {
  json j = {{"kind", record.known() || static_cast<uint8_t>(record.kind()) <= kKnownRecordKinds
                         ? std::string(kind_name(record.kind()))
                         : "unknown"},
            {"offset", record.offset()},
            {"t_us", record.t_us()}};
  j["body"] = body_json(session, record);
  return j;
}

}  // namespace ree::trace
