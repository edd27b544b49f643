#!/usr/bin/env python3
"""Evaluate the ree sample model on held-out dialogues with the exact ree-sample-v1
token protocol: greedy decoding (float32, TF32 off), tools executed in Python.

    python3 samples/sample-model/eval.py --model samples/sample-model \
        --data samples/sample-model/data/eval.jsonl [--report FILE] [--cpu-timing]

Each dialogue is played turn by turn on the model's own outputs: the user message is
appended, the model writes an assistant message; a well-formed tool call is executed
(at most 2 per turn) and its output appended as a tool message, then the model
writes again; the first message that is not a tool call is the turn's answer.

Figures (per turn):
  tool_call_ok   turns that need a tool: the first assistant message is a well-formed
                 call of the right tool with correct arguments (calc: the expression
                 has the same exact value as the reference one; now: {}; read_file:
                 the same path)
  answer_ok      turns whose reference answer carries a result (the tool's output, or
                 the earlier result for recall turns): the final answer contains it
                 (numbers must not be part of a longer number)
  no_tool_ok     small-talk and recall turns: no tool call at all
"""
import argparse
import json
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from template import end_id, generation_prompt  # noqa: E402
from tools import calc_value, parse_tool_call, run_tool, tool_call_text  # noqa: E402

MAX_NEW_TOKENS = 96
MAX_CALLS_PER_TURN = 2
BATCH = 256
TOOL_KINDS = ("calc", "calc_followup", "now", "read_file")
NO_TOOL_KINDS = ("smalltalk", "recall")


def load(model_dir, device):
    import sentencepiece as spm
    import torch
    from transformers import LlamaForCausalLM
    model = LlamaForCausalLM.from_pretrained(model_dir, attn_implementation="eager")
    model = model.to(torch.float32).to(device).eval()
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "tokenizer.model"))
    return model, sp


def generate_batch(model, sp, prompts, device):
    """Greedy continuations (content ids before END, truncated flag) for many prompts."""
    import torch
    end = end_id(sp)
    results = []
    for start in range(0, len(prompts), BATCH):
        chunk = prompts[start:start + BATCH]
        width = max(len(p) for p in chunk)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        attn = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, p in enumerate(chunk):  # left padding
            ids[row, width - len(p):] = torch.tensor(p)
            attn[row, width - len(p):] = 1
        with torch.no_grad():
            out = model.generate(input_ids=ids.to(device), attention_mask=attn.to(device),
                                 max_new_tokens=MAX_NEW_TOKENS, do_sample=False, eos_token_id=end,
                                 pad_token_id=0)
        for row in out[:, width:].tolist():
            if end in row:
                results.append((row[:row.index(end)], False))
            else:
                results.append((row, True))
    return results


class Conversation:
    """One dialogue being played on the model's own outputs."""

    def __init__(self, d):
        self.d = d
        self.messages = [{"role": "system", "content": d["system"]}] if d["system"] else []
        self.turn = 0
        self.calls = 0
        self.first = None
        self.records = []
        self.start_turn()

    def start_turn(self):
        self.calls, self.first = 0, None
        if self.turn < len(self.d["turns"]):
            self.messages.append({"role": "user", "content": self.d["turns"][self.turn]["user"]})

    @property
    def done(self):
        return self.turn >= len(self.d["turns"])

    def take(self, content, truncated):
        if self.first is None:
            self.first = content
        self.messages.append({"role": "assistant", "content": content})
        call = parse_tool_call(content)
        if call and self.calls < MAX_CALLS_PER_TURN and not truncated:
            self.calls += 1
            output = run_tool(call[0], call[1], self.d["now"], self.d["files"])
            self.messages.append({"role": "tool", "content": output})
            return
        self.records.append(score_turn(self.d["turns"][self.turn], self.first, content, truncated, self.calls))
        self.turn += 1
        self.start_turn()


def contains_result(answer, expected):
    """expected appears in answer, not as part of a longer number."""
    if expected is None:
        return None
    if not re.fullmatch(r"-?\d+(\.\d+)?", expected):
        return expected in answer or expected.rstrip(".") in answer
    return re.search(r"(?<![\d.\-])" + re.escape(expected) + r"(?!\.?\d)", answer) is not None


def call_matches(gold, got):
    if got is None or got[0] != gold["name"]:
        return False
    if gold["name"] == "calc":
        expected = gold["arguments"]["expression"]
        exp = got[1].get("expression") if set(got[1]) == {"expression"} else None
        if not isinstance(exp, str):
            return False
        want, have = calc_value(expected), calc_value(exp)
        return exp == expected if want is None else have == want
    return got[1] == gold["arguments"]


def score_turn(turn, first, final, truncated, calls):
    got = parse_tool_call(first) if first is not None else None
    rec = {"kind": turn["kind"], "user": turn["user"], "first": first, "final": final,
           "truncated": truncated, "calls": calls}
    if turn["call"]:
        rec["tool_call_ok"] = call_matches(turn["call"], got)
        rec["tool_call_exact"] = first == tool_call_text(turn["call"]["name"], turn["call"]["arguments"])
    else:
        rec["no_tool_ok"] = not first.startswith("<tool_call>") and calls == 0
    if turn["expect_in_answer"] is not None:
        rec["answer_ok"] = bool(contains_result(final, turn["expect_in_answer"])) and not final.startswith("<tool_call>")
    rec["expected_answer"] = turn["answer"]
    return rec


def rate(records, key, kinds=None):
    vals = [r[key] for r in records if key in r and (kinds is None or r["kind"] in kinds)]
    return {"ok": sum(vals), "n": len(vals), "pct": round(100.0 * sum(vals) / len(vals), 2) if vals else None}


def summarize(records):
    kinds = sorted({r["kind"] for r in records})
    return {
        "tool_call_ok": rate(records, "tool_call_ok"),
        "tool_call_exact_text": rate(records, "tool_call_exact"),
        "answer_ok_tool_turns": rate(records, "answer_ok", TOOL_KINDS),
        "no_tool_ok_smalltalk": rate(records, "no_tool_ok", ("smalltalk",)),
        "recall_answer_ok": rate(records, "answer_ok", ("recall",)),
        "recall_no_tool_ok": rate(records, "no_tool_ok", ("recall",)),
        "truncated_turns": sum(r["truncated"] for r in records),
        "per_kind": {k: {key: rate(records, key, (k,)) for key in ("tool_call_ok", "answer_ok", "no_tool_ok")
                         if any(key in r for r in records if r["kind"] == k)} for k in kinds},
        "turns": len(records),
    }


def evaluate_dialogues(model_dir, dialogues, device="cuda"):
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model, sp = load(model_dir, device)
    convs = [Conversation(d) for d in dialogues]
    rounds = 0
    while True:
        active = [c for c in convs if not c.done]
        if not active:
            break
        rounds += 1
        outs = generate_batch(model, sp, [generation_prompt(sp, c.messages) for c in active], device)
        for c, (ids, truncated) in zip(active, outs):
            c.take(sp.decode(ids), truncated)
    records = [r for c in convs for r in c.records]
    failures = [r for r in records if not all(r.get(k, True) for k in ("tool_call_ok", "answer_ok", "no_tool_ok"))]
    return {"summary": summarize(records), "dialogues": len(dialogues), "rounds": rounds,
            "failures": failures[:60], "samples": records[:20]}


def evaluate(model_dir, data_file, limit=0, device="cuda"):
    with open(data_file, encoding="utf-8") as f:
        dialogues = [json.loads(line) for line in f if line.strip()]
    if limit:
        dialogues = dialogues[:limit]
    report = evaluate_dialogues(model_dir, dialogues, device)
    report["data_file"] = os.path.relpath(data_file, os.path.dirname(HERE) + "/..")
    return report


def cpu_turn_timing(model_dir, threads=2, repeats=5):
    """Seconds for one assistant turn (prefill + greedy until END) in PyTorch float32 on
    `threads` CPU threads, batch 1: a rough stand-in for the C++ runtime's cost."""
    import torch
    torch.set_num_threads(threads)
    model, sp = load(model_dir, "cpu")
    messages = [{"role": "system", "content": "You are a helpful assistant with tools: calc, now, read_file."},
                {"role": "user", "content": "What is 12 times 7?"},
                {"role": "assistant", "content": tool_call_text("calc", {"expression": "12*7"})},
                {"role": "tool", "content": "84"}]
    prompt = generation_prompt(sp, messages)
    times, new_tokens = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        with torch.no_grad():
            out = model.generate(input_ids=torch.tensor([prompt]), max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
                                 eos_token_id=end_id(sp), pad_token_id=0)
        times.append(time.perf_counter() - t0)
        new_tokens = out.shape[1] - len(prompt)
    return {"threads": threads, "prompt_tokens": len(prompt), "new_tokens": int(new_tokens),
            "median_seconds": round(statistics.median(times), 4), "answer": sp.decode(out[0, len(prompt):].tolist())}


def main():
    p = argparse.ArgumentParser(description="evaluate the ree sample model")
    p.add_argument("--model", default=HERE)
    p.add_argument("--data", default=os.path.join(HERE, "data", "eval.jsonl"))
    p.add_argument("--report")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--device", default="cuda")
    p.add_argument("--cpu-timing", action="store_true")
    p.add_argument("--generate-train", nargs=2, type=int, metavar=("SEED", "N"),
                   help="evaluate N freshly generated train-split dialogues of data seed SEED instead of --data "
                        "(an in-distribution check)")
    args = p.parse_args()
    if args.generate_train:
        import gen_data
        seed, n = args.generate_train
        report = evaluate_dialogues(args.model, gen_data.generate(seed, n, "train"), args.device)
        report["data_file"] = f"gen_data.py --split train --seed {seed} --n {n}"
    else:
        report = evaluate(args.model, args.data, args.limit, args.device)
    if args.cpu_timing:
        report["cpu_timing"] = cpu_turn_timing(args.model)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
    print(json.dumps(report["summary"], indent=1))


if __name__ == "__main__":
    main()
