#!/usr/bin/env python3
"""Build the hf-tiny conformance fixture: a tiny random Llama saved by Hugging Face
transformers, plus float64 reference logits computed by transformers itself.

Why: the C++ runtime needs a reference that nobody on the team wrote. The weights
are random (seeded), so only the arithmetic is being checked, not model quality.

Usage (on a machine with torch, transformers, sentencepiece, safetensors, numpy):
    python3 samples/scripts/make_hf_fixture.py --out tests/fixtures/hf-tiny

Layout written under --out:
    fixture.json                 manifest (prompts, ids, files, shapes, versions)
    model/                       float32, untied lm_head: config.json,
                                 model.safetensors, tokenizer.model
    model-tied-bf16/             bfloat16, tie_word_embeddings=True
    reference/<case>.logits.f64  float64 little-endian, [n_tokens][vocab]
    reference/<case>.cont.f64    float64 little-endian, [16][vocab]
    reference/tokenizer_cases.json  strings with their sentencepiece encodings

Every float64 forward runs transformers' own LlamaForCausalLM (eager attention)
on the CPU under a function mode that turns the library's explicit float32
up-casts (RMSNorm, RoPE, softmax) into float64, a dispatch mode that records any
op still producing a narrower float, and a cross-check against a plain float64
re-implementation. Both results are written to the manifest.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile

SEED = 20261122
CONTINUATION_TOKENS = 16
SPECIAL_SYMBOLS = ["<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|end|>",
                   "<tool_call>", "</tool_call>"]

# Small corpus for the 400-piece tokenizer. Plain English with digits, punctuation,
# chat markers and tool-call JSON so that merges cover what the prompts contain.
CORPUS = r"""
The quick brown fox jumps over the lazy dog. A journey of a thousand miles begins with a single step.
Reproducible inference means that the same model, the same prompt and the same settings give the same bits.
When a result differs, the diff tool points at the first token and the first layer where the values part ways.
Logits are the scores the model gives to every token of its vocabulary before the next token is chosen.
Greedy decoding picks the token with the largest logit; ties go to the smallest token id.
In 2026 the team measured 12 layers, 64 heads and 4096 tokens per second on 2 cores.
Numbers like 3.14159, 2.71828, 1024, 65536 and 1000000 appear in tables, logs and receipts.
Rotary position embeddings rotate pairs of query and key values by an angle that grows with the position.
RMSNorm divides a vector by the square root of the mean of its squares, plus a small epsilon, then scales it.
The attention of a query over the keys is a softmax of their dot products, scaled by one over the square root of the head size.
Grouped-query attention lets several query heads share one key head and one value head, which saves memory.
The feed-forward block multiplies a SiLU gate with an up projection and projects the result back down.
<|system|>You are a helpful assistant.<|end|><|user|>What is 12 times 7?<|end|>
<|assistant|><tool_call>{"name": "calc", "arguments": {"expression": "12*7"}}</tool_call><|end|>
<|tool|>84<|end|><|assistant|>12 * 7 = 84.<|end|>
<|user|>What time is it?<|end|><|assistant|><tool_call>{"name": "now", "arguments": {}}</tool_call><|end|>
<|tool|>2026-11-22T06:31:05Z<|end|><|assistant|>It is 2026-11-22T06:31:05Z.<|end|>
Session files carry a header, the prompt, every token, its logits hash and a receipt that chains them together.
If a file was edited after it was written, the receipt no longer matches and the verifier says which record broke.
She sells sea shells by the sea shore; the shells she sells are surely sea shells.
Peter Piper picked a peck of pickled peppers. How many pickled peppers did Peter Piper pick?
It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.
Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,
and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.
All happy families are alike; each unhappy family is unhappy in its own way.
In a hole in the ground there lived a hobbit. Not a nasty, dirty, wet hole, filled with the ends of worms and an oozy smell.
The weather today is sunny with a high of 21 degrees and a light wind from the west.
Please read the file notes.txt and tell me what it says. The file says: the meeting moved to Friday at 10.
Tabs	and  double  spaces   stay as they are, because the normalizer is the identity.
"""

PROMPTS = {
    "short": "Hello world",
    "medium": ("The model read 3 files, computed 12.5 * 4 = 50 and said: \"naïve café\" "
               "costs €3 \U0001F642 — then it stopped."),
    "chat": ("<|system|>You are a helpful assistant.<|end|><|user|>What is 12 times 7?<|end|>"
             "<|assistant|><tool_call>{\"name\": \"calc\", \"arguments\": {\"expression\": \"12*7\"}}"
             "</tool_call><|end|><|tool|>84<|end|><|assistant|>"),
    "long": None,  # built from the corpus in long_prompt(): 264+ tokens, past one 256 chunk
}

TOKENIZER_CASES = [
    "", " ", "  ", "hello", " hello", "hello ", "Hello  world\n\nbye\t!", "12345", "3.14159",
    "2026-11-22T06:31:05Z", "naïve café", "€3 \U0001F642", "日本語", "<|user|>hi<|end|>",
    "<|assistant|><tool_call>{\"name\": \"now\", \"arguments\": {}}</tool_call><|end|>",
    "a<|end|>b", "<|end|><|end|>", "<|unknown|>", "\u0000x", "line1\r\nline2",
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="fixture directory to (re)create")
    return p.parse_args()


def long_prompt(sp, target_tokens=264):
    """Corpus words (chat-marker lines left out) joined until [BOS] + encoding reaches
    target_tokens: past 256 positions, so attention spans two 256-position chunks."""
    words = " ".join(s for s in CORPUS.strip().splitlines() if not s.startswith("<|")).split(" ")
    text = ""
    for word in words:
        text = (text + " " + word) if text else word
        if len(sp.encode(text)) + 1 >= target_tokens:
            return text
    raise RuntimeError("corpus too short for the long prompt")


def train_tokenizer(workdir):
    import sentencepiece as spm
    corpus_file = os.path.join(workdir, "corpus.txt")
    with open(corpus_file, "w", encoding="utf-8") as f:
        f.write(CORPUS.strip() + "\n")
    options = dict(
        model_type="bpe", vocab_size=400, byte_fallback=True,
        normalization_rule_name="identity", add_dummy_prefix=False,
        remove_extra_whitespaces=False, split_digits=True,
        user_defined_symbols=SPECIAL_SYMBOLS, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        character_coverage=1.0, num_threads=1, hard_vocab_limit=False,
    )
    spm.SentencePieceTrainer.train(input=corpus_file, model_prefix=os.path.join(workdir, "tokenizer"),
                                   minloglevel=2, **options)
    model_file = os.path.join(workdir, "tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=model_file)
    return sp, model_file, {k: v for k, v in options.items()}


def make_config(vocab_size, tied):
    from transformers import LlamaConfig
    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=tied,
        attention_bias=False, mlp_bias=False, hidden_act="silu", initializer_range=0.1,
        bos_token_id=1, eos_token_id=2, pad_token_id=None,
    )


def build_random_model(config, seed):
    """Seeded init with std 0.1 (config.initializer_range); RMSNorm weights are
    perturbed away from 1 so a runtime that ignores them fails the comparison."""
    import torch
    from transformers import LlamaForCausalLM
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() == 1:  # the RMSNorm weights are the only vectors
                param.copy_(1.0 + 0.2 * torch.randn(param.shape, generator=gen))
            else:
                param.copy_(0.1 * torch.randn(param.shape, generator=gen))
    if config.tie_word_embeddings:
        model.tie_weights()
    return model.eval()


def save_model(model, dtype, out_dir, tokenizer_file):
    import torch
    model = model.to(dtype)
    try:
        model.save_pretrained(out_dir, safe_serialization=True)
    except TypeError:  # newer transformers always write safetensors
        model.save_pretrained(out_dir)
    shutil.copyfile(tokenizer_file, os.path.join(out_dir, "tokenizer.model"))
    add_classic_config_keys(os.path.join(out_dir, "config.json"), torch_dtype_name={
        torch.float32: "float32", torch.bfloat16: "bfloat16"}[dtype])


def add_classic_config_keys(config_path, torch_dtype_name):
    """transformers 5 writes rope_theta inside rope_parameters and 'dtype' instead of
    'torch_dtype'; readers written against the classic layout look for the top-level
    keys, so add them (same values) when they are missing."""
    with open(config_path) as f:
        cfg = json.load(f)
    changed = False
    rope = cfg.get("rope_parameters") or {}
    if "rope_theta" not in cfg and "rope_theta" in rope:
        cfg["rope_theta"] = rope["rope_theta"]
        changed = True
    if "torch_dtype" not in cfg:
        cfg["torch_dtype"] = torch_dtype_name
        changed = True
    if changed:
        with open(config_path, "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
            f.write("\n")


class Float64Everywhere:
    """TorchFunctionMode factory (torch is imported lazily): any request for float32,
    float16 or bfloat16 made while the mode is active becomes a request for float64.
    transformers casts to float32 on purpose in RMSNorm, RoPE and the eager softmax;
    for a float64 reference those casts must not round."""

    @staticmethod
    def make():
        import torch
        from torch.overrides import TorchFunctionMode
        narrow = (torch.float32, torch.float16, torch.bfloat16)

        def widen(value):
            return torch.float64 if value in narrow else value

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = dict(kwargs or {})
                if func in (torch.Tensor.float, torch.Tensor.half, torch.Tensor.bfloat16):
                    return args[0].to(torch.float64)
                if "dtype" in kwargs:
                    kwargs["dtype"] = widen(kwargs["dtype"])
                if func in (torch.Tensor.to, torch.Tensor.type):
                    args = tuple(widen(a) if isinstance(a, torch.dtype) else a for a in args)
                return func(*args, **kwargs)

        return Mode()


class NarrowFloatRecorder:
    """TorchDispatchMode factory: records every aten op whose output is a float
    narrower than float64 (there should be none in the reference forward)."""

    @staticmethod
    def make(seen):
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode
        narrow = (torch.float32, torch.float16, torch.bfloat16)

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                outs = out if isinstance(out, (tuple, list)) else [out]
                for o in outs:
                    if isinstance(o, torch.Tensor) and o.dtype in narrow:
                        seen.add(str(func))
                return out

        return Mode()


def load_float64(model_dir):
    """Load what was saved (not the in-memory model), widen to float64 and rebuild the
    RoPE inverse frequencies in float64 (the saved-then-cast ones were rounded to f32)."""
    import torch
    from transformers import LlamaForCausalLM
    model = LlamaForCausalLM.from_pretrained(model_dir, attn_implementation="eager")
    model = model.to(torch.float64).eval()
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    theta = rope_theta_of(cfg)
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    rotaries = [m for n, m in model.named_modules() if hasattr(m, "inv_freq")]
    if not rotaries:
        raise RuntimeError("no rotary embedding module with inv_freq found")
    for rot in rotaries:
        old = rot.inv_freq.detach().to(torch.float64)
        if not torch.allclose(old, inv_freq, rtol=1e-6, atol=0):
            raise RuntimeError(f"transformers' inv_freq differs from the default RoPE: {old} vs {inv_freq}")
        rot.inv_freq = inv_freq.clone()
        if hasattr(rot, "original_inv_freq"):
            rot.original_inv_freq = inv_freq.clone()
        if getattr(rot, "attention_scaling", 1.0) != 1.0:
            raise RuntimeError("unexpected RoPE attention_scaling")
    return model


def rope_theta_of(cfg):
    theta = getattr(cfg, "rope_theta", None)
    if theta is None:
        theta = (getattr(cfg, "rope_parameters", None) or {}).get("rope_theta")
    return float(theta)


def hf_logits(model, ids):
    """[n][vocab] float64 logits from transformers' own forward."""
    import torch
    seen = set()
    with torch.no_grad(), Float64Everywhere.make(), NarrowFloatRecorder.make(seen):
        out = model(input_ids=torch.tensor([ids], dtype=torch.long), use_cache=False)
    logits = out.logits[0]
    if logits.dtype != torch.float64:
        raise RuntimeError(f"logits came back as {logits.dtype}")
    return logits.numpy().copy(), seen


def independent_logits(model, ids):
    """Plain float64 Llama forward written from the architecture's definition, used
    only to confirm that the transformers path really computed in float64."""
    import torch
    cfg = model.config
    sd = {k: v.to(torch.float64) for k, v in model.state_dict().items()}
    h_dim = cfg.hidden_size
    n_h, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    hd = h_dim // n_h
    eps = cfg.rms_norm_eps
    n = len(ids)
    x = sd["model.embed_tokens.weight"][torch.tensor(ids)]
    pos = torch.arange(n, dtype=torch.float64)
    inv = 1.0 / (rope_theta_of(cfg) ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.outer(pos, inv)
    cos, sin = torch.cat([ang, ang], -1).cos(), torch.cat([ang, ang], -1).sin()

    def rms(v, w):
        return v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + eps) * w

    def rope(t):  # t: [heads][n][hd], rotate_half layout
        half = torch.cat([-t[..., hd // 2:], t[..., :hd // 2]], -1)
        return t * cos + half * sin

    mask = torch.full((n, n), float("-inf"), dtype=torch.float64).triu(1)
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        h = rms(x, sd[p + "input_layernorm.weight"])
        q = (h @ sd[p + "self_attn.q_proj.weight"].T).view(n, n_h, hd).transpose(0, 1)
        k = (h @ sd[p + "self_attn.k_proj.weight"].T).view(n, n_kv, hd).transpose(0, 1)
        v = (h @ sd[p + "self_attn.v_proj.weight"].T).view(n, n_kv, hd).transpose(0, 1)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(n_h // n_kv, 0)
        v = v.repeat_interleave(n_h // n_kv, 0)
        att = torch.softmax(q @ k.transpose(1, 2) / hd ** 0.5 + mask, -1)
        o = (att @ v).transpose(0, 1).reshape(n, h_dim)
        x = x + o @ sd[p + "self_attn.o_proj.weight"].T
        h = rms(x, sd[p + "post_attention_layernorm.weight"])
        g = h @ sd[p + "mlp.gate_proj.weight"].T
        u = h @ sd[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ sd[p + "mlp.down_proj.weight"].T
    x = rms(x, sd["model.norm.weight"])
    head = sd.get("lm_head.weight", sd["model.embed_tokens.weight"])
    return (x @ head.T).numpy()


def greedy_continuation(model, ids, steps):
    """Full-recompute greedy decoding (no KV cache): row i of the returned logits is
    the last-position logits of ids + continuation[:i]; ties go to the smallest id."""
    import numpy as np
    cont, rows, margins, narrow = [], [], [], set()
    for _ in range(steps):
        logits, seen = hf_logits(model, ids + cont)
        narrow |= seen
        last = logits[-1]
        token = int(np.argmax(last))  # first maximum = smallest id on ties
        top2 = np.sort(last)[-2:]
        margins.append(float(top2[1] - top2[0]))
        rows.append(last)
        cont.append(token)
    return cont, np.stack(rows), margins, narrow


def write_f64(path, array):
    import numpy as np
    data = np.ascontiguousarray(array, dtype="<f8")
    data.tofile(path)
    return hashlib.sha256(data.tobytes()).hexdigest()


def run_cases(model_dir, model_label, case_names, sp, out_dir, prompts):
    import numpy as np
    model = load_float64(model_dir)
    cases, worst_diff, narrow_ops = [], 0.0, set()
    for name in case_names:
        prompt = prompts[name]
        sp_ids = sp.encode(prompt)
        ids = [sp.bos_id()] + sp_ids
        logits, seen = hf_logits(model, ids)
        narrow_ops |= seen
        ref = independent_logits(model, ids)
        worst_diff = max(worst_diff, float(np.max(np.abs(ref - logits))))
        cont, cont_logits, margins, seen = greedy_continuation(model, ids, CONTINUATION_TOKENS)
        narrow_ops |= seen
        if not np.array_equal(cont_logits[0], logits[-1]):
            raise RuntimeError(f"{name}: first continuation row differs from the prompt's last row")
        stem = f"reference/{model_label}.{name}"
        case = {
            "name": f"{model_label}.{name}", "model_dir": os.path.relpath(model_dir, out_dir),
            "prompt": prompt, "sp_ids": sp_ids, "sp_pieces": sp.encode(prompt, out_type=str),
            "ids": ids, "n_tokens": len(ids), "vocab_size": int(logits.shape[1]),
            "logits_file": stem + ".logits.f64", "logits_shape": list(logits.shape),
            "continuation_ids": cont, "continuation_text": sp.decode(cont),
            "continuation_logits_file": stem + ".cont.f64",
            "continuation_logits_shape": list(cont_logits.shape),
            "greedy_margins": margins, "greedy_min_margin": min(margins),
        }
        case["logits_sha256"] = write_f64(os.path.join(out_dir, case["logits_file"]), logits)
        case["continuation_logits_sha256"] = write_f64(
            os.path.join(out_dir, case["continuation_logits_file"]), cont_logits)
        cases.append(case)
        print(f"{case['name']}: {len(ids)} tokens, continuation {cont}, min margin {min(margins):.3g}")
    return cases, worst_diff, sorted(narrow_ops)


def tokenizer_cases(sp):
    return [{"text": t, "ids": sp.encode(t), "pieces": sp.encode(t, out_type=str),
             "decoded": sp.decode(sp.encode(t))} for t in TOKENIZER_CASES]


def versions():
    import numpy, sentencepiece, torch, transformers
    try:
        import safetensors
        st = safetensors.__version__
    except Exception:  # version is informational only
        st = "unknown"
    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "sentencepiece": sentencepiece.__version__,
            "safetensors": st, "numpy": numpy.__version__}


def main():
    args = parse_args()
    import torch
    torch.manual_seed(SEED)
    out = os.path.abspath(args.out)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "reference"))
    work = tempfile.mkdtemp()
    sp, tok_file, tok_options = train_tokenizer(work)
    prompts = dict(PROMPTS)
    prompts["long"] = long_prompt(sp)
    vocab = sp.get_piece_size()

    untied_dir = os.path.join(out, "model")
    save_model(build_random_model(make_config(vocab, tied=False), SEED), torch.float32, untied_dir, tok_file)
    tied_dir = os.path.join(out, "model-tied-bf16")
    save_model(build_random_model(make_config(vocab, tied=True), SEED + 100), torch.bfloat16, tied_dir, tok_file)

    cases, diff_a, narrow_a = run_cases(untied_dir, "f32", ["short", "medium", "chat", "long"], sp, out, prompts)
    cases_b, diff_b, narrow_b = run_cases(tied_dir, "tied-bf16", ["short", "chat"], sp, out, prompts)
    with open(os.path.join(out, "reference", "tokenizer_cases.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_cases(sp), f, indent=1, ensure_ascii=False)
        f.write("\n")

    manifest = {
        "format_version": 1,
        "description": "tiny random Llama saved by transformers; float64 reference logits computed by transformers",
        "command": "python3 samples/scripts/make_hf_fixture.py --out tests/fixtures/hf-tiny",
        "seed": SEED,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": platform.node(), "versions": versions(),
        "compute": {"dtype": "float64", "device": "cpu", "attn_implementation": "eager",
                    "use_cache": False, "narrow_float_ops_seen": sorted(set(narrow_a) | set(narrow_b)),
                    "max_abs_diff_vs_independent_float64_impl": max(diff_a, diff_b)},
        "file_format": {"logits": "raw float64 little-endian, row-major [rows][vocab], no header",
                        "continuation": "row i = logits at the last position of ids + continuation_ids[:i]; "
                                        "continuation_ids[i] = argmax of row i (ties: smallest id); "
                                        "row 0 equals the last row of the prompt logits; EOS does not stop it"},
        "tokenizer": {"file": "model/tokenizer.model (same bytes in model-tied-bf16/)", "vocab_size": vocab,
                      "training_options": tok_options,
                      "special_ids": {s: sp.piece_to_id(s) for s in ["<unk>", "<s>", "</s>"] + SPECIAL_SYMBOLS}},
        "models": [
            {"dir": "model", "dtype_on_disk": "float32", "tie_word_embeddings": False},
            {"dir": "model-tied-bf16", "dtype_on_disk": "bfloat16", "tie_word_embeddings": True},
        ],
        "cases": cases + cases_b,
        "tokenizer_cases_file": "reference/tokenizer_cases.json",
    }
    with open(os.path.join(out, "fixture.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(json.dumps(manifest["compute"], indent=1))
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(out) for n in ns)
    print(f"fixture bytes: {total}")
    if manifest["compute"]["narrow_float_ops_seen"] or manifest["compute"]["max_abs_diff_vs_independent_float64_impl"] > 1e-9:
        print("WARNING: the float64 path is not clean; see fixture.json compute", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
