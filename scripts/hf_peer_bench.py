#!/usr/bin/env python3
"""The transformers peer for ree's CUDA speed ratio (docs/cuda.md).

Loads a Hugging Face model directory (e.g. `ree synth --shape tinyllama-1.1b
--dtype bf16 --format hf --out DIR`) with transformers in bf16 on the GPU,
eager attention, and times greedy `generate` on the same pseudo-random prompt
length ree-cuda-bench uses:

    python3 scripts/hf_peer_bench.py --model DIR [--prompt-tokens 128]
        [--decode-tokens 128] [--repeats 3] [--json OUT]
        [--device cpu --threads N [--dtype float32]]

With --device cpu it is the CPU peer for `ree bench --threads N` on the same
machine (torch.set_num_threads(N); bf16 by default, as the weights are
stored; --dtype float32 converts them, which is how ree computes).

decode tokens/s = (decode_tokens - 1) / (t(generate decode_tokens) - t(generate 1)),
best of --repeats, after a warm-up; prefill tokens/s from t(generate 1).
"""
import argparse
import json
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--attn", default="eager", help="attn_implementation (eager: the peer the goal names)")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (--device cpu; 0: torch's default)")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    a = ap.parse_args()

    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    cuda = a.device == "cuda"
    if cuda and not torch.cuda.is_available():
        print("hf_peer_bench: no CUDA device", file=sys.stderr)
        return 2
    if not cuda and a.threads > 0:
        torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=dtype, attn_implementation=a.attn)
    model = model.to(a.device).eval()

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    vocab = model.config.vocab_size
    # The same pseudo-random prompt as ree-cuda-bench (LCG, ids 3..vocab-1).
    x, ids = 12345, []
    for _ in range(a.prompt_tokens):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        ids.append(3 + (x >> 8) % (vocab - 3))
    input_ids = torch.tensor([ids], device=a.device)
    mask = torch.ones_like(input_ids)

    def timed(n: int) -> float:
        sync()
        t0 = time.perf_counter()
        with torch.no_grad():
            out = model.generate(input_ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                                 do_sample=False, pad_token_id=0)
        sync()
        assert out.shape[1] == a.prompt_tokens + n
        return time.perf_counter() - t0

    timed(4)  # warm-up
    best_one, best_all = float("inf"), float("inf")
    for _ in range(a.repeats):
        best_one = min(best_one, timed(1))
        best_all = min(best_all, timed(a.decode_tokens))
    figures = {
        "peer": f"transformers generate, {a.attn} attention, {a.dtype}",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0) if cuda else f"cpu, {torch.get_num_threads()} threads",
        "model": a.model,
        "prompt_tokens": a.prompt_tokens,
        "decode_tokens": a.decode_tokens,
        "prefill_tokens_per_s": a.prompt_tokens / best_one,
        "decode_tokens_per_s": (a.decode_tokens - 1) / max(best_all - best_one, 1e-9),
    }
    print(json.dumps(figures, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
