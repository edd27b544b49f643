// Header comparison through flatbuffers mini-reflection (see header_fields.h).
#include "diff/header_fields.h"

#include <flatbuffers/minireflect.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>

namespace ree::diff {
namespace {

constexpr const char* kAbsent = "(absent)";
constexpr const char* kDefault = "(default)";

// Collects "path -> printed value" for every field of a table, depth first.
class FlattenVisitor : public flatbuffers::IterationVisitor {
 public:
  explicit FlattenVisitor(std::string prefix) : prefix_(std::move(prefix)) {}

  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

  void StartSequence() override {
    if (depth_++ > 0) scope_.push_back(field_);
  }
  void EndSequence() override {
    if (--depth_ > 0 && !scope_.empty()) scope_.pop_back();
  }
  void Field(size_t, size_t, flatbuffers::ElementaryType type, bool is_vector,
             const flatbuffers::TypeTable*, const char* name, const uint8_t* val) override {
    field_ = name ? name : "?";
    in_vector_ = false;
    if (val != nullptr) return;  // the value callback follows
    // An absent table says nothing by itself: its fields are absent too.
    if (type == flatbuffers::ET_SEQUENCE && !is_vector) return;
    const bool scalar = !is_vector && type != flatbuffers::ET_STRING;
    emit(scalar ? kDefault : kAbsent);
  }
  void UType(uint8_t v, const char* name) override { emit(name ? name : std::to_string(v)); }
  void Bool(bool v) override { emit(v ? "true" : "false"); }
  void Char(int8_t v, const char* name) override { emit(name ? name : std::to_string(v)); }
  void UChar(uint8_t v, const char* name) override { emit(name ? name : std::to_string(v)); }
  void Short(int16_t v, const char* name) override { emit(name ? name : std::to_string(v)); }
  void UShort(uint16_t v, const char* name) override { emit(name ? name : std::to_string(v)); }
  void Int(int32_t v, const char* name) override { emit(name ? name : std::to_string(v)); }
  void UInt(uint32_t v, const char* name) override { emit(name ? name : std::to_string(v)); }
  void Long(int64_t v) override { emit(std::to_string(v)); }
  void ULong(uint64_t v) override { emit(std::to_string(v)); }
  void Float(float v) override { emit(print_float(v)); }
  void Double(double v) override { emit(print_float(v)); }
  void String(const flatbuffers::String* s) override { emit(s ? std::string(s->c_str(), s->size()) : kAbsent); }
  void Unknown(const uint8_t*) override { emit("(unknown)"); }
  void StartVector() override {
    in_vector_ = true;
    vector_text_.clear();
    vector_text_.push_back('[');
  }
  void EndVector() override {
    in_vector_ = false;
    vector_text_ += "]";
    emit(vector_text_);
  }
  void Element(size_t i, flatbuffers::ElementaryType, const flatbuffers::TypeTable*,
               const uint8_t*) override {
    if (i > 0) vector_text_ += ", ";
  }

 private:
  static std::string print_float(double v) {
    char text[40];
    std::snprintf(text, sizeof text, "%.9g", v);
    return text;
  }
  std::string path() const {
    std::string p = prefix_;
    for (const std::string& s : scope_) append_part(p, s);
    append_part(p, field_);
    return p;
  }
  static void append_part(std::string& path, const std::string& part) {
    if (!path.empty()) path += '.';
    path += part;
  }
  void emit(std::string value) {
    if (in_vector_) {
      vector_text_ += value;
      return;
    }
    fields_.emplace_back(path(), std::move(value));
  }

  std::string prefix_;
  std::vector<std::string> scope_;
  std::string field_;
  int depth_ = 0;
  bool in_vector_ = false;
  std::string vector_text_;
  std::vector<std::pair<std::string, std::string>> fields_;
};

// The table re-encoded with every scalar written out, so that a field left
// at its default prints its value ("Reproducible", "0") rather than nothing:
// the writer, like every FlatBuffers builder, omits fields equal to their
// default. Fields this ree does not know are dropped here; compare_headers
// catches those through the bound bytes.
template <typename Table>
flatbuffers::DetachedBuffer with_defaults(const Table& table) {
  typename Table::NativeTableType native;
  table.UnPackTo(&native);
  flatbuffers::FlatBufferBuilder builder;
  builder.ForceDefaults(true);
  builder.Finish(Table::Pack(builder, &native));
  return builder.Release();
}

template <typename Table>
void flatten_into(const Table* table, const std::string& prefix, std::vector<HeaderValue>& out,
                  HeaderSection section, bool content) {
  if (table == nullptr) return;
  const flatbuffers::DetachedBuffer normalised = with_defaults(*table);
  FlattenVisitor visitor(prefix);
  flatbuffers::IterateObject(flatbuffers::GetRoot<uint8_t>(normalised.data()), Table::MiniReflectTypeTable(),
                             &visitor);
  for (const auto& [path, value] : visitor.fields()) out.push_back({section, path, value, content});
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Which section a bound-header path belongs to.
HeaderSection bound_section(const std::string& path) {
  if (path == "contract_version") return HeaderSection::Contract;
  if (path == "model.tokenizer_digest") return HeaderSection::Tokenizer;
  if (path == "model.chat_template_id") return HeaderSection::Template;
  if (starts_with(path, "model.")) return HeaderSection::Model;
  return HeaderSection::Configuration;
}

}  // namespace

std::vector<HeaderValue> header_values(const trace::SessionReader& session) {
  std::vector<HeaderValue> values;
  if (!session.has_header()) return values;
  const auto& frame = session.header_frame();
  values.push_back({HeaderSection::Format, "format_major", std::to_string(frame.format_major()), false});
  values.push_back({HeaderSection::Format, "format_minor", std::to_string(frame.format_minor()), false});
  std::vector<HeaderValue> bound;
  flatten_into(&session.header(), "", bound, HeaderSection::Configuration, true);
  for (HeaderValue& v : bound) v.section = bound_section(v.path);
  values.insert(values.end(), bound.begin(), bound.end());
  flatten_into(frame.run(), "run", values, HeaderSection::Run, false);
  flatten_into(frame.environment(), "environment", values, HeaderSection::Environment, false);
  return values;
}

std::vector<HeaderField> compare_headers(const trace::SessionReader& a, const trace::SessionReader& b) {
  const std::vector<HeaderValue> values_a = header_values(a);
  const std::vector<HeaderValue> values_b = header_values(b);
  // Union of paths in a's schema order, then any only b has.
  std::map<std::string, const HeaderValue*> by_path_b;
  for (const HeaderValue& v : values_b) by_path_b[v.path] = &v;
  std::vector<HeaderField> fields;
  std::map<std::string, bool> seen;
  for (const HeaderValue& va : values_a) {
    seen[va.path] = true;
    auto it = by_path_b.find(va.path);
    const std::string vb = it == by_path_b.end() ? kAbsent : it->second->value;
    if (va.value != vb) fields.push_back({va.section, va.path, va.value, vb, va.content});
  }
  for (const HeaderValue& vb : values_b)
    if (!seen.count(vb.path)) fields.push_back({vb.section, vb.path, kAbsent, vb.value, vb.content});

  // The bound bytes are the receipt's view of the header: if they differ
  // while no known field does, a field this ree cannot name differs.
  const auto* bound_a = a.header_frame().bound();
  const auto* bound_b = b.header_frame().bound();
  const bool bound_equal = bound_a && bound_b && bound_a->size() == bound_b->size() &&
                           std::equal(bound_a->begin(), bound_a->end(), bound_b->begin());
  const bool content_listed = std::any_of(fields.begin(), fields.end(), [](const HeaderField& f) { return f.content; });
  if (!bound_equal && !content_listed)
    fields.push_back({HeaderSection::Configuration, "bound header (fields this ree does not know)",
                      "bytes differ", "bytes differ", true});
  return fields;
}

}  // namespace ree::diff
