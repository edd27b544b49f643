#include "runtime/loader/hf_model.h"

#include "runtime/error.h"
#include "runtime/loader/hf_config.h"
#include "runtime/loader/json_fields.h"

namespace ree {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

bool is_file(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace

TensorSource tensor_source_from_safetensors(const SafetensorsCheckpoint& checkpoint, const std::string& origin) {
  TensorSource source;
  source.origin = origin;
  for (const SafetensorsTensor& tensor : checkpoint.tensors) {
    const SafetensorsEntry& entry = tensor.entry;
    if (entry.shape.size() != 1 && entry.shape.size() != 2) {
      throw file_error(tensor.file, "tensor " + printable(entry.name) + " has shape " + shape_text(entry.shape) +
                                        "; Llama weights have rank 1 or 2");
    }
    SourceTensor s;
    s.view.dtype = entry.dtype;
    s.view.rows = entry.shape.size() == 2 ? entry.shape[0] : 1;
    s.view.cols = entry.shape.back();
    s.view.data = tensor.data;
    s.rank = static_cast<int>(entry.shape.size());
    s.nbytes = entry.nbytes;
    s.file = tensor.file;
    source.tensors.emplace(entry.name, std::move(s));
  }
  return source;
}

SafetensorsCheckpoint open_hf_weights(const std::filesystem::path& dir) {
  const std::filesystem::path single = dir / "model.safetensors";
  const std::filesystem::path index = dir / "model.safetensors.index.json";
  if (is_file(single)) return open_safetensors(single);
  if (is_file(index)) return open_safetensors_index(index);
  throw file_error(dir.string(), "no model.safetensors or model.safetensors.index.json (only safetensors weights are supported)");
}

std::string model_name_of(const std::filesystem::path& path) {
  std::filesystem::path p = path.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "dir/" -> "dir"
  if (p.empty() || p.filename() == "." || p.filename() == "..") {
    std::error_code ec;
    p = std::filesystem::weakly_canonical(p.empty() ? "." : p, ec);
  }
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) ? p.filename().string() : p.stem().string();
}

Model load_hf_model(const std::filesystem::path& dir, const LoadOptions& options) {
  const std::filesystem::path config_path = dir / "config.json";
  if (!is_file(config_path)) {
    throw file_error(config_path.string(), "missing; a Hugging Face model directory needs config.json");
  }
  const HfConfig config = read_hf_config(config_path);
  SafetensorsCheckpoint checkpoint = open_hf_weights(dir);
  Tokenizer tokenizer = Tokenizer::from_file((dir / "tokenizer.model").string());
  std::string chat_template = read_chat_template_hint(dir / "tokenizer_config.json");

  const TensorSource source = tensor_source_from_safetensors(checkpoint, dir.string());
  BuildOptions build;
  build.pool = options.pool;
  build.show_progress = options.show_progress;
  build.progress_label = "loading " + model_name_of(dir);
  Model model = build_model(config.config, source, std::move(tokenizer), build);
  model.identity.name = model_name_of(dir);
  model.identity.format = "hf";
  model.source = dir;
  model.chat_template_hint = std::move(chat_template);
  model.mappings = std::move(checkpoint.files);
  return model;
}

}  // namespace ree
