// Writes the seed corpus of fuzz_session_reader: small sessions of every
// shape the reader distinguishes (valid, signed, probes, format 1.0,
// truncated, newer minor with an unknown record kind, newer major).
//   trace_fuzz_seeds DIR      (fuzz/corpus/fuzz_session_reader)
#include <cstdio>
#include <filesystem>

#include "testing.h"
#include "trace/synthetic.h"

using namespace ree::trace;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: trace_fuzz_seeds DIR\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  WriterOptions overwrite;
  overwrite.existing = ExistingFile::Overwrite;
  SyntheticShape small;
  small.topk_width = 3;
  write_synthetic_session(dir / "valid.fb", small, 3, overwrite);

  WriterOptions signed_options = overwrite;
  signed_options.signing_key = generate_key_pair().secret;
  SyntheticShape probes = small;
  probes.probes = true;
  probes.layers = 2;
  write_synthetic_session(dir / "signed-probes.fb", probes, 2, signed_options);

  WriterOptions old = overwrite;
  old.format_minor = 0;
  write_synthetic_session(dir / "format-1.0.fb", small, 2, old);

  {
    SessionWriter writer(dir / "truncated.fb", synthetic_header(small), overwrite);
    writer.begin_turn(synthetic_turn_start(small, 0));
    for (uint32_t i = 0; i < 3; ++i) writer.step(synthetic_step(small, 0, i));
  }
  std::vector<uint8_t> cut = testing::read_bytes(dir / "truncated.fb");
  cut.resize(cut.size() - 20);
  testing::write_bytes(dir / "truncated-mid-frame.fb", cut);

  testing::RawSession raw(synthetic_header(small), kFormatMinor + 1);
  raw.add(synthetic_turn_start(small, 0));
  {
    flatbuffers::FlatBufferBuilder fbb;
    auto text = fbb.CreateString("future");
    auto start = fbb.StartTable();
    fbb.AddOffset(4, text);
    flatbuffers::Offset<void> body(fbb.EndTable(start));
    fbb.Finish(schema::CreateBoundRecord(fbb, 1, static_cast<schema::RecordBody>(42), body));
    raw.add_bound({fbb.GetBufferPointer(), fbb.GetSize()});
  }
  schema::TurnEndT end;
  raw.add(end);
  std::vector<uint64_t> counts(43, 0);
  counts[static_cast<size_t>(schema::RecordBody::TurnStart)] = 1;
  counts[static_cast<size_t>(schema::RecordBody::TurnEnd)] = 1;
  counts[42] = 1;
  testing::write_bytes(dir / "newer-minor.fb", raw.finish(counts));
  std::printf("seeds written to %s\n", dir.c_str());
  return 0;
}
