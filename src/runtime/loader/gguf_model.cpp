// GGUF Llama file -> Model (gguf_model.h).
#include "runtime/loader/gguf_model.h"

#include "runtime/error.h"
#include "runtime/loader/hf_model.h"
#include "runtime/loader/mapped_file.h"

namespace ree {

Model load_gguf(const std::filesystem::path& path, const LoadOptions& options) {
  const std::string origin = path.string();
  std::shared_ptr<MappedFile> mapped = MappedFile::open(origin);
  const gguf::File file = gguf::parse_gguf(mapped->bytes(), origin);
  const ModelConfig config = gguf::config_from_metadata(file, origin);
  const sp::ModelProto proto = gguf::tokenizer_from_metadata(file, origin);
  Tokenizer tokenizer = Tokenizer::from_serialized_proto(sp::encode_model_proto(proto), origin);
  const TensorSource source = gguf::tensor_source_from_gguf(file, mapped->bytes(), config, origin);
  for (const std::string& name : canonical_tensor_names(config)) {
    // Reported under the GGUF name here; build_model would say the HF one.
    if (source.tensors.count(name) == 0) throw file_error(origin, "missing tensor " + *gguf::gguf_name_for(name));
  }

  BuildOptions build;
  build.pool = options.pool;
  build.show_progress = options.show_progress;
  build.progress_label = "loading " + model_name_of(path);
  Model model = build_model(config, source, std::move(tokenizer), build);
  model.identity.name = model_name_of(path);
  model.identity.format = "gguf";
  model.source = path;
  model.chat_template_hint = gguf::get_string(file, "tokenizer.chat_template", origin).value_or("");
  model.mappings.push_back(std::move(mapped));
  return model;
}

}  // namespace ree
