#!/usr/bin/env python3
"""Per-turn records of the PyTorch evaluation (eval.py's loop, unchanged), for
eval_ree.py --torch-records: eval.py's report keeps only the first 60 failures, and a
turn-by-turn comparison with the C++ runtime needs every turn and every assistant
message.

    python3 samples/sample-model/holdout2/torch_turns.py --data FILE --out RECORDS.jsonl \\
        [--summary SUMMARY.json] [--device cuda]

Needs torch, transformers and sentencepiece (the GPU machine has them). Greedy,
float32, TF32 off, batched with left padding: exactly eval.evaluate_dialogues, with
the messages of each turn kept.
"""
import argparse
import importlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
ev = importlib.import_module("eval")
from template import generation_prompt  # noqa: E402


class RecordingConversation(ev.Conversation):
    """eval.Conversation that also keeps every assistant message of each turn."""

    def __init__(self, d):
        self.turn_messages = []
        super().__init__(d)

    def take(self, content, truncated):
        self.turn_messages.append(content)
        before = len(self.records)
        super().take(content, truncated)
        if len(self.records) > before:
            self.records[-1].update(id=self.d["id"], turn=before, messages=self.turn_messages)
            if "tag" in self.d["turns"][before]:
                self.records[-1]["tag"] = self.d["turns"][before]["tag"]
            self.turn_messages = []


def run(model_dir, dialogues, device):
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model, sp = ev.load(model_dir, device)
    convs = [RecordingConversation(d) for d in dialogues]
    while True:
        active = [c for c in convs if not c.done]
        if not active:
            break
        outs = ev.generate_batch(model, sp, [generation_prompt(sp, c.messages) for c in active], device)
        for c, (ids, truncated) in zip(active, outs):
            c.take(sp.decode(ids), truncated)
    return [r for c in convs for r in c.records]


def main():
    p = argparse.ArgumentParser(description="per-turn PyTorch records for eval_ree.py --torch-records")
    p.add_argument("--model", default=os.path.dirname(HERE))
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--summary")
    p.add_argument("--device", default="cuda")
    args = p.parse_args()
    with open(args.data, encoding="utf-8") as f:
        dialogues = [json.loads(line) for line in f if line.strip()]
    records = run(args.model, dialogues, args.device)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    summary = ev.summarize(records)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
