// HF directory -> GGUF (convert.h), reusing the HF engineer's readers and
// the Llama GGUF writer.
#include "runtime/loader/convert.h"

#include <fstream>
#include <sstream>

#include "runtime/error.h"
#include "runtime/loader/gguf_writer.h"
#include "runtime/loader/hf_config.h"
#include "runtime/loader/hf_model.h"
#include "runtime/loader/model_builder.h"
#include "runtime/loader/progress.h"
#include "runtime/loader/safetensors.h"
#include "runtime/loader/sp_proto.h"

namespace ree {
namespace {

std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path.string(), "cannot open");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw file_error(path.string(), "read failed");
  return bytes.str();
}

void check_destination(const ConvertOptions& o) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(o.out, ec);
  if (!std::filesystem::exists(status)) return;
  if (!o.force) throw file_error(o.out.string(), "already exists (use --force to replace it)");
  if (!std::filesystem::is_regular_file(status)) throw file_error(o.out.string(), "exists and is not a regular file");
}

}  // namespace

ConvertResult convert_hf_to_gguf(const ConvertOptions& o) {
  std::error_code ec;
  if (!std::filesystem::is_directory(o.in, ec)) {
    throw file_error(o.in.string(), "not a directory (convert reads a Hugging Face model directory)");
  }
  check_destination(o);
  const HfConfig hf = read_hf_config(o.in / "config.json");
  const SafetensorsCheckpoint checkpoint = open_hf_weights(o.in);
  const TensorSource source = tensor_source_from_safetensors(checkpoint, o.in.string());
  check_tensor_source(hf.config, source);
  const std::filesystem::path tokenizer_path = o.in / "tokenizer.model";
  const sp::ModelProto tokenizer = sp::decode_model_proto(read_file_bytes(tokenizer_path), tokenizer_path.string());

  gguf::LlamaGgufSpec spec;
  spec.config = hf.config;
  spec.tokenizer = tokenizer;
  spec.dtype = o.dtype.value_or(source.tensors.at("model.layers.0.self_attn.q_proj.weight").view.dtype);
  spec.name = model_name_of(o.in);
  spec.chat_template = read_chat_template_hint(o.in / "tokenizer_config.json");

  // Hugging Face rows as f32: exact for F32/F16/BF16 sources.
  const gguf::F32RowSource rows = [&source](const std::string& name, int64_t r0, int64_t r1, float* out) {
    const RawTensor& t = source.tensors.at(name).view;
    const uint64_t row_bytes = *stored_tensor_bytes(t.dtype, 1, t.cols);
    for (int64_t r = r0; r < r1; ++r) {
      kernels::row_to_f32(t.dtype, t.data + static_cast<uint64_t>(r) * row_bytes, t.cols, out + (r - r0) * t.cols);
    }
  };
  uint64_t total = 0;
  for (const gguf::TensorPlan& t : gguf::llama_tensor_plan(spec)) total += gguf::tensor_nbytes(t);
  Progress progress("convert " + spec.name, total, progress_wanted(o.show_progress));
  gguf::write_llama_gguf(o.out, spec, rows, o.pool, &progress);
  progress.finish();

  ConvertResult result;
  result.config = hf.config;
  result.dtype = spec.dtype;
  result.bytes = std::filesystem::file_size(o.out, ec);
  return result;
}

}  // namespace ree
