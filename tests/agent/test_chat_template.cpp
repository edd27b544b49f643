// Chat templates at the token level. The ree-sample-v1 expectations are
// built here from the template's written specification (docs/chat-templates.md)
// with the tokenizer directly; detection is checked on real model files.
#include <doctest/doctest.h>

#include <fstream>

#include "agent_test_util.h"
#include "runtime/agent/chat_template.h"
#include "runtime/error.h"
#include "runtime/model.h"

using namespace ree;
using namespace ree::agent;

namespace {

std::vector<int32_t> cat(std::initializer_list<std::vector<int32_t>> parts) {
  std::vector<int32_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const Model& synth_model() {
  static test::TempDir dir("ree-template");
  static const Model model = load_model(test::synth_test_model(dir), LoadOptions{nullptr, false});
  return model;
}

}  // namespace

TEST_CASE("ree-sample-v1 renders exactly the specified token sequence") {
  const auto path = test::sample_model();
  if (!path) {
    MESSAGE("skipped: samples/sample-model is missing");
    return;
  }
  const Model model = load_model(*path, LoadOptions{nullptr, false});
  const TemplateChoice choice = detect_template(model);
  CHECK(choice.kind == TemplateKind::ReeSampleV1);
  CHECK(choice.reason == "chat_template.txt");
  const ChatTemplate t = make_template(TemplateKind::ReeSampleV1, model);
  const Tokenizer& tok = model.tokenizer;
  const int32_t end = tok.piece_to_id("<|end|>");
  REQUIRE(end >= 0);
  CHECK(t.message_end == end);
  CHECK(t.stop_tokens == std::vector<int32_t>{end});
  CHECK(model.config.eos_id == end);  // the model card: eos_token_id is <|end|>

  RenderState s;
  const std::string sys = "You are a helpful assistant with tools: calc, now, read_file.";
  const auto t0 = render_turn(t, tok, s, ChatRole::System, sys, false);
  CHECK(t0 == cat({{model.config.bos_id}, tok.encode("<|system|>"), tok.encode(sys), {end}}));
  const auto t1 = render_turn(t, tok, s, ChatRole::User, "What is 12 times 7?", true);
  CHECK(t1 == cat({tok.encode("<|user|>"), tok.encode("What is 12 times 7?"), {end}, tok.encode("<|assistant|>")}));
  // The model answered with END: nothing to close.
  note_generated(t, s, true);
  const auto t2 = render_turn(t, tok, s, ChatRole::Tool, "84", true);
  CHECK(t2 == cat({tok.encode("<|tool|>"), tok.encode("84"), {end}, tok.encode("<|assistant|>")}));
  // Stopped at max tokens: END closes the message before the next one.
  note_generated(t, s, false);
  const auto t3 = render_turn(t, tok, s, ChatRole::User, "thanks", true);
  CHECK(t3 == cat({{end}, tok.encode("<|user|>"), tok.encode("thanks"), {end}, tok.encode("<|assistant|>")}));
  // Without a system message, BOS opens the first user message.
  RenderState fresh;
  CHECK(render_turn(t, tok, fresh, ChatRole::User, "hi", true) ==
        cat({{model.config.bos_id}, tok.encode("<|user|>"), tok.encode("hi"), {end}, tok.encode("<|assistant|>")}));
}

TEST_CASE("template detection from the model's files") {
  const Model& base = synth_model();
  CHECK(detect_template(base).kind == TemplateKind::ChatMl);
  CHECK(detect_template(base).reason.rfind("default", 0) == 0);
  struct Case {
    const char* hint;
    TemplateKind kind;
  };
  for (const Case c : {Case{"{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}",
                            TemplateKind::ChatMl},
                       Case{"{{ bos_token + '[INST] ' + content + ' [/INST]' }}", TemplateKind::Llama2},
                       Case{"{% if m.role == 'user' %}<|user|>\n{{ m.content }}</s>{% endif %}<|assistant|>",
                            TemplateKind::Zephyr},
                       Case{"tinyllama", TemplateKind::Zephyr},
                       Case{"ree-sample-v1", TemplateKind::ReeSampleV1}}) {
    Model m = load_model(base.source, LoadOptions{nullptr, false});
    m.chat_template_hint = c.hint;
    INFO(c.hint);
    CHECK(detect_template(m).kind == c.kind);
  }
  // chat_template.txt with an unknown id is an error naming the file.
  test::TempDir dir("ree-template-bad");
  const auto copy = dir / "m";
  std::filesystem::copy(base.source, copy);
  std::ofstream(copy / "chat_template.txt") << "mystery-v9\n";
  const Model m = load_model(copy, LoadOptions{nullptr, false});
  try {
    detect_template(m);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("chat_template.txt") != std::string::npos);
    CHECK(std::string(e.what()).find("mystery-v9") != std::string::npos);
  }
  // ree-sample-v1 needs <|end|>, which a random vocabulary lacks.
  CHECK_THROWS_AS(make_template(TemplateKind::ReeSampleV1, base), Error);
}

TEST_CASE("chatml, llama-2 and zephyr render their conventions") {
  const Model& m = synth_model();
  const Tokenizer& tok = m.tokenizer;
  const int32_t bos = m.config.bos_id, eos = m.config.eos_id;

  // ChatML on a vocabulary without its special pieces: the markers are text.
  const ChatTemplate chatml = make_template(TemplateKind::ChatMl, m);
  CHECK(chatml.stop_tokens == std::vector<int32_t>{eos});
  RenderState s;
  CHECK(render_turn(chatml, tok, s, ChatRole::User, "hi", true) ==
        cat({tok.encode("<|im_start|>"), tok.encode("user\nhi"), tok.encode("<|im_end|>"), tok.encode("\n"),
             tok.encode("<|im_start|>"), tok.encode("assistant\n")}));
  note_generated(chatml, s, false);
  const auto next = render_turn(chatml, tok, s, ChatRole::User, "more", false);
  const auto closer = cat({tok.encode("<|im_end|>"), tok.encode("\n")});
  CHECK(std::equal(closer.begin(), closer.end(), next.begin()));

  const ChatTemplate llama = make_template(TemplateKind::Llama2, m);
  RenderState l;
  CHECK(render_turn(llama, tok, l, ChatRole::System, "Be brief.", false) ==
        cat({{bos}, tok.encode("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n")}));
  CHECK(render_turn(llama, tok, l, ChatRole::User, "hi", true) == tok.encode("hi [/INST]"));
  note_generated(llama, l, false);  // stopped without </s>: the template closes it
  CHECK(render_turn(llama, tok, l, ChatRole::User, "again", true) ==
        cat({{eos}, {bos}, tok.encode("[INST] again [/INST]")}));

  const ChatTemplate zephyr = make_template(TemplateKind::Zephyr, m);
  RenderState z;
  CHECK(render_turn(zephyr, tok, z, ChatRole::User, "hi", true) ==
        cat({{bos}, tok.encode("<|user|>\nhi"), {eos}, tok.encode("\n"), tok.encode("<|assistant|>\n")}));
  note_generated(zephyr, z, true);
  CHECK(render_turn(zephyr, tok, z, ChatRole::Tool, "84", false) ==
        cat({tok.encode("\n"), tok.encode("<|tool|>\n84"), {eos}, tok.encode("\n")}));
}
