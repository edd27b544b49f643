#!/usr/bin/env python3
"""Evaluate the ree sample model through the real C++ runtime: `ree agent`, one
process per dialogue, the user turns fed on stdin (its chat mode), every dialogue
recorded with --export and read back with `ree inspect --json`.

    python3 samples/sample-model/eval_ree.py --ree build/bin/ree \\
        --data samples/sample-model/data/eval.jsonl [--sample 150] [--jobs 2] [--threads 1] \\
        [--read-dir DIR] [--python-tools] [--torch-records FILE [--check-tokenization]] [--report FILE]

Stdlib only (no torch; sentencepiece only for --check-tokenization). Scoring is eval.py's own (score_turn,
summarize), so the figures mean the same as the PyTorch ones:
  tool_call_ok         turns that need a tool: the first assistant message is a
                       well-formed call (eval.py's strict parser) of the right tool with
                       correct arguments (calc: same exact value as the reference)
  answer_ok_tool_turns turns whose reference carries a result: the final answer
                       contains it
  no_tool_ok_smalltalk small-talk turns without any tool call
and seconds per user turn, from the session file's record times (t_us of the user's
TurnStart to t_us of the TurnEnd of the turn's last assistant message: prompt
prefill, generation and tool runs; model loading is not in it).

How a dialogue is run, and why:
  ree agent --max-tokens 96 --max-tool-rounds 2 --temperature 0   (eval.py: 96 new
        tokens, at most 2 executed calls per user turn, greedy)
        --tool now='printf %s TIME'  (the built-in now reads the clock; the reference
        answers hold the dialogue's fixed time, as in eval.py. --real-now keeps the
        built-in and takes the time the tool really returned as the expected answer)
        --read-dir DIR   (the dialogue's "files" written to a temporary directory, or
        the fixture directory given with --read-dir, e.g. holdout2/files)
        [--system TEXT] --export SESSION --json, user lines on stdin.
The turn's final answer is the agent's last assistant message of that turn (what
`ree agent` prints). Where the agent and eval.py's loop would treat a message
differently (the agent also executes a call that is not alone in its message or that
is malformed, and then generates again; eval.py takes such a message as the answer),
the turn is counted under protocol_differences.

--python-tools: calc and read_file run as external tools (--tool NAME=...) that answer
exactly as tools.py. Since the built-ins were aligned with tools.py (2026-11-22) both
give the same outputs (the report's tool_output_differs_from_reference says so per
run); the mode stays as a check. Slower (one Python start per call): not for timing.

--torch-records: per-turn records of the PyTorch evaluation of the same file
(holdout2/torch_turns.py writes them); the report then says, per figure, on how many
turns both runtimes agree, and on how many the assistant's messages are identical;
"same_inputs" restricts that to turns whose history the two runtimes fed alike (every
earlier tool output as tools.py gives it and, with --check-tokenization, every earlier
message generated in the pieces its text encodes to: the agent keeps generated tokens
in its KV cache, eval.py re-encodes the text). --check-tokenization needs the
sentencepiece module (Debian's python3-sentencepiece: run with /usr/bin/python3).
"""
import argparse
import concurrent.futures
import importlib
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

ev = importlib.import_module("eval")  # eval.py's scoring; it imports torch only inside functions
from tools import parse_tool_call, run_tool  # noqa: E402

MAX_NEW_TOKENS = ev.MAX_NEW_TOKENS
MAX_CALLS_PER_TURN = ev.MAX_CALLS_PER_TURN
FIGURES = ("tool_call_ok", "answer_ok", "no_tool_ok")


class DialogueError(Exception):
    pass


def write_files(directory, files):
    """The dialogue's files as read_file should see them (no trailing newline added)."""
    for path, text in files.items():
        full = os.path.join(directory, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)


def agent_command(args, d, read_dir, session, files_json=None):
    cmd = [args.ree, "agent", "--max-tokens", str(MAX_NEW_TOKENS), "--max-tool-rounds", str(MAX_CALLS_PER_TURN),
           "--temperature", "0", "--read-dir", read_dir, "--export", session, "--json"]
    if args.model:
        cmd += ["--model", args.model]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if not args.real_now:
        cmd += ["--tool", "now=printf %s " + shlex.quote(d["now"])]
    if args.python_tools:
        shim = f"{shlex.quote(sys.executable)} {shlex.quote(os.path.abspath(__file__))} --tool-shim"
        cmd += ["--tool", f"calc={shim} calc",
                "--tool", f"read_file={shim} read_file --files-json {shlex.quote(files_json)}"]
    if d["system"]:
        cmd += ["--system", d["system"]]
    return cmd + args.agent_arg


def stdin_text(d):
    """One line per user turn. The chat reads lines, so a user message may not hold a
    newline, and a line starting with '/' would be a chat command."""
    for t in d["turns"]:
        if "\n" in t["user"] or "\r" in t["user"] or t["user"].startswith("/") or not t["user"].strip():
            raise DialogueError(f"{d['id']}: user message cannot be sent as one chat line: {t['user']!r}")
    return "".join(t["user"] + "\n" for t in d["turns"])


def inspect_session(args, session):
    steps = [] if args.check_tokenization else ["--steps", "0:0"]  # steps only when they are needed
    out = subprocess.run([args.ree, "inspect", "--json", *steps, session], capture_output=True, text=True)
    if out.returncode != 0:
        raise DialogueError(f"ree inspect {session} exited {out.returncode}: {out.stderr.strip()[:300]}")
    return json.loads(out.stdout)


def user_turns(records):
    """Split the session's records into user turns: for each user TurnStart, the list
    of its assistant messages (TurnEnd text, stop reason, t_us, generated token ids when
    the session's steps were read), its tool calls and results, and the t_us of the
    TurnStart."""
    groups, current, tokens = [], None, {}
    for r in records:
        kind, body = r["kind"], r.get("body", {})
        if kind == "step":
            tokens.setdefault(body["turn"], []).append(body["token"])
            continue
        if kind == "turn_start" and body.get("role") == "user":
            current = {"user": body["content"], "t_start": r["t_us"], "messages": [], "calls": [], "results": []}
            groups.append(current)
        elif current is None:
            continue
        elif kind == "turn_end" and body.get("stop_reason") is not None and current is not None:
            current["messages"].append({"text": body["text"], "stop": body["stop_reason"], "t_us": r["t_us"],
                                        "steps": body["steps"], "tokens": tokens.get(body["turn"], [])})
        elif kind == "tool_call":
            current["calls"].append(body)
        elif kind == "tool_result":
            current["results"].append(body)
    return groups


def tool_output_like_tools_py(call, result, d):
    """Whether the agent's tool gave what tools.py gives for the same call (eval.py's
    tools); a malformed call, which eval.py never executes, counts as different."""
    if not call.get("well_formed"):
        return False
    try:
        arguments = json.loads(call["arguments"] or "{}")
    except ValueError:
        return False
    return result["output"] == run_tool(call["name"], arguments, d["now"], d["files"])


def canonical_tokens(sp, message):
    """Whether the tokens the model generated for a message are what encoding its text
    gives. The agent keeps the generated tokens in its KV cache; eval.py (and training)
    re-encode the text, so a message generated in other pieces (e.g. t|ask|s for the
    canonical task|s) gives the two runtimes different histories from there on."""
    ids = list(message["tokens"])
    if ids and ids[-1] == sp.piece_to_id("<|end|>"):
        ids.pop()
    return ids == sp.encode(message["text"])


def eval_py_final(messages):
    """The answer eval.py's loop would take from this sequence of assistant messages:
    the first that is not a strictly well-formed call, or the one after 2 calls."""
    calls = 0
    for m in messages:
        truncated = m["stop"] == "max_tokens"
        if parse_tool_call(m["text"]) and calls < MAX_CALLS_PER_TURN and not truncated:
            calls += 1
            continue
        return m
    return None


def score_dialogue(args, d, session_json, agent_json):
    groups = user_turns(session_json["records"])
    if len(groups) != len(d["turns"]):
        raise DialogueError(f"{d['id']}: {len(d['turns'])} user turns sent, session holds {len(groups)}")
    out = []
    for index, (turn, g) in enumerate(zip(d["turns"], groups)):
        if g["user"] != turn["user"] or not g["messages"]:
            raise DialogueError(f"{d['id']} turn {index}: session does not match the dialogue")
        turn = dict(turn)
        if args.real_now and turn["kind"] == "now":
            now_results = [r["output"] for r in g["results"] if r["name"] == "now" and r["status"] == "ok"]
            if now_results:
                turn["tool_output"] = turn["expect_in_answer"] = now_results[0]
        first, last = g["messages"][0], g["messages"][-1]
        truncated = last["stop"] == "max_tokens"
        rec = ev.score_turn(turn, first["text"], last["text"], truncated, len(g["calls"]))
        py_final = eval_py_final(g["messages"])
        like_tools_py = [tool_output_like_tools_py(c, r, d) for c, r in zip(g["calls"], g["results"])]
        rec.update({"id": d["id"], "turn": index, "messages": [m["text"] for m in g["messages"]],
                    "tool_results": [r["output"] for r in g["results"]],
                    "seconds": (last["t_us"] - g["t_start"]) / 1e6,
                    "generated_tokens": sum(m["steps"] for m in g["messages"]),
                    "protocol_difference": py_final is not last,
                    "tool_outputs_like_tools_py": all(like_tools_py) and len(g["calls"]) == len(g["results"])})
        if turn["call"] and rec.get("tool_call_ok") and g["results"]:
            rec["tool_output_matches_reference"] = g["results"][0]["output"] == turn["tool_output"]
        if "tag" in turn:
            rec["tag"] = turn["tag"]
        if args.check_tokenization:
            rec["noncanonical_messages"] = [i for i, m in enumerate(g["messages"])
                                            if not canonical_tokens(args.sp, m)]
        out.append(rec)
    if agent_json.get("turns") is not None and agent_json["turns"] != session_json_turns(session_json):
        raise DialogueError(f"{d['id']}: --json says {agent_json['turns']} turns, the session holds another number")
    return out


def session_json_turns(session_json):
    return sum(1 for r in session_json["records"] if r["kind"] == "turn_start")


def agent_json_of(stdout):
    """The --json summary: the last top-level JSON object on stdout (the chat prints
    each answer on its own line before it)."""
    start = stdout.rfind("\n{\n")
    start = 0 if stdout.startswith("{\n") and start < 0 else start + 1
    try:
        return json.loads(stdout[start:])
    except ValueError:
        raise DialogueError("no JSON summary on the agent's stdout")


def run_dialogue(args, d):
    with tempfile.TemporaryDirectory(prefix="ree-eval-") as tmp:
        read_dir = args.read_dir
        if not read_dir:
            read_dir = os.path.join(tmp, "files")
            os.makedirs(read_dir)
            write_files(read_dir, d["files"])
        files_json = os.path.join(tmp, "files.json")
        with open(files_json, "w", encoding="utf-8") as f:
            json.dump(d["files"], f)
        session = os.path.join(args.keep_sessions or tmp, d["id"] + ".fb")
        if args.keep_sessions and os.path.exists(session):
            os.remove(session)
        t0 = time.perf_counter()
        proc = subprocess.run(agent_command(args, d, read_dir, session, files_json), input=stdin_text(d), capture_output=True,
                              text=True, timeout=args.timeout)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise DialogueError(f"{d['id']}: ree agent exited {proc.returncode}: {proc.stderr.strip()[:300]}")
        agent_json = agent_json_of(proc.stdout)
        records = score_dialogue(args, d, inspect_session(args, session), agent_json)
        return records, wall


def tool_shim(name, files_json):
    """`--tool-shim NAME`: an external tool for `ree agent --tool` that answers exactly
    as tools.py (what the model was trained on and eval.py runs): arguments JSON on
    stdin, the output on stdout."""
    try:
        arguments = json.loads(sys.stdin.read() or "{}")
    except ValueError:
        arguments = None
    files = {}
    if files_json:
        with open(files_json, encoding="utf-8") as f:
            files = json.load(f)
    sys.stdout.write(run_tool(name, arguments, "", files))
    return 0


def load_dialogues(path, sample, seed):
    with open(path, encoding="utf-8") as f:
        dialogues = [json.loads(line) for line in f if line.strip()]
    if sample and sample < len(dialogues):
        chosen = sorted(random.Random(seed).sample(range(len(dialogues)), sample))
        dialogues = [dialogues[i] for i in chosen]
    return dialogues


def agreement(records, torch_path):
    """Per figure: turns where the C++ and PyTorch verdicts agree; and turns whose
    assistant messages are identical (first message; every message of the turn)."""
    torch = {}
    with open(torch_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                torch[(r["id"], r["turn"])] = r
    matched = [(r, torch.get((r["id"], r["turn"]))) for r in records]
    missing = sum(t is None for _, t in matched)
    matched = [(r, t) for r, t in matched if t is not None]
    out = {"turns_compared": len(matched), "turns_missing_in_torch_records": missing}
    for key in FIGURES:
        pairs = [(r[key], t[key]) for r, t in matched if key in r and key in t]
        out[key] = {"n": len(pairs), "agree": sum(a == b for a, b in pairs),
                    "cpp_ok_torch_fail": sum(a and not b for a, b in pairs),
                    "cpp_fail_torch_ok": sum(b and not a for a, b in pairs)}
    out["first_message_identical"] = sum(r["first"] == t["first"] for r, t in matched)
    out["all_messages_identical"] = sum(r["messages"] == t.get("messages") for r, t in matched)
    # Same inputs: every tool output so far in the dialogue was what tools.py gives (the
    # built-in tools word some errors differently, which changes what the model reads).
    # There any difference in the messages comes from the runtime itself.
    # With --check-tokenization, also every message generated so far was generated in
    # the pieces its text encodes to (canonical_tokens).
    clean, dirty_dialogues = [], set()
    for r, t in matched:
        if r["id"] in dirty_dialogues:
            continue
        earlier_noncanonical = [i for i in r.get("noncanonical_messages", []) if i < len(r["messages"]) - 1]
        if r["tool_outputs_like_tools_py"] and not earlier_noncanonical:
            clean.append((r, t, "all"))
        else:
            clean.append((r, t, "first"))
        if not r["tool_outputs_like_tools_py"] or r.get("noncanonical_messages"):
            dirty_dialogues.add(r["id"])
    out["same_inputs"] = {
        "tokenization_checked": all("noncanonical_messages" in r for r, _ in matched),
        "turns": len(clean),
        "first_message_identical": sum(r["first"] == t["first"] for r, t, _ in clean),
        "turns_whole_turn_comparable": sum(scope == "all" for _, _, scope in clean),
        "all_messages_identical": sum(r["messages"] == t.get("messages") for r, t, scope in clean if scope == "all"),
    }
    diffs = [{"id": r["id"], "turn": r["turn"], "user": r["user"], "cpp": r["messages"], "torch": t.get("messages")}
             for r, t in matched if r["messages"] != t.get("messages")]
    out["differences"] = diffs[:40]
    # The torch figures on exactly these turns, for a like-for-like comparison.
    out["torch_summary_same_turns"] = ev.summarize([t for _, t in matched])
    return out


def by_tag(records):
    tags = sorted({(r["kind"], r["tag"]) for r in records if "tag" in r})
    out = {}
    for kind, tag in tags:
        rs = [r for r in records if r["kind"] == kind and r.get("tag") == tag]
        out[f"{kind}/{tag}"] = {key: ev.rate(rs, key) for key in FIGURES if any(key in r for r in rs)}
    return out


def main():
    p = argparse.ArgumentParser(description="evaluate the ree sample model through `ree agent`")
    p.add_argument("--ree", help="the ree executable (required)")
    p.add_argument("--data", default=os.path.join(HERE, "data", "eval.jsonl"))
    p.add_argument("--model", help="model directory (default: the agent's own default, the bundled sample model)")
    p.add_argument("--read-dir", help="one directory for read_file (default: each dialogue's files in a temp dir)")
    p.add_argument("--sample", type=int, default=0, help="evaluate this many dialogues, chosen with --sample-seed")
    p.add_argument("--sample-seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=1, help="dialogues run at once (one process each)")
    p.add_argument("--threads", type=int, default=0, help="--threads for each agent (0: the agent's default)")
    p.add_argument("--real-now", action="store_true", help="use the built-in now (the machine's clock)")
    p.add_argument("--python-tools", action="store_true",
                   help="run calc and read_file through tools.py (external tools) instead of the built-ins")
    p.add_argument("--check-tokenization", action="store_true",
                   help="read the generated tokens and flag messages not generated in their canonical pieces "
                        "(needs the sentencepiece module)")
    p.add_argument("--tool-shim", choices=["calc", "read_file"], help=argparse.SUPPRESS)
    p.add_argument("--files-json", help=argparse.SUPPRESS)
    p.add_argument("--agent-arg", action="append", default=[], help="extra argument for ree agent (repeatable)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds one dialogue may take")
    p.add_argument("--torch-records", help="PyTorch per-turn records of the same data (holdout2/torch_turns.py)")
    p.add_argument("--keep-sessions", help="keep the session files in this directory")
    p.add_argument("--report", help="write the report (summary, by tag, agreement, failures) here")
    p.add_argument("--report-turns", action="store_true", help="the report also lists every turn")
    args = p.parse_args()
    if args.tool_shim:
        return tool_shim(args.tool_shim, args.files_json)
    if not args.ree:
        p.error("--ree is required")
    if args.check_tokenization:
        import sentencepiece
        args.sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(args.model or HERE, "tokenizer.model"))
    args.ree = os.path.abspath(args.ree)
    if args.read_dir:
        args.read_dir = os.path.abspath(args.read_dir)
    if args.keep_sessions:
        os.makedirs(args.keep_sessions, exist_ok=True)

    dialogues = load_dialogues(args.data, args.sample, args.sample_seed)
    t0 = time.perf_counter()
    records, walls, errors = [], [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run_dialogue, args, d): d["id"] for d in dialogues}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            try:
                recs, wall = future.result()
                records += recs
                walls.append(wall)
            except (DialogueError, subprocess.TimeoutExpired, ValueError) as e:
                errors.append(f"{futures[future]}: {e}")
            if sys.stderr.isatty():
                print(f"\r{done}/{len(dialogues)} dialogues", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    order = {d["id"]: i for i, d in enumerate(dialogues)}
    records.sort(key=lambda r: (order[r["id"]], r["turn"]))

    seconds = [r["seconds"] for r in records]
    summary = ev.summarize(records)
    summary["dialogues"] = len(dialogues) - len(errors)
    summary["errors"] = errors
    summary["protocol_differences"] = sum(r["protocol_difference"] for r in records)
    checked = [r["tool_output_matches_reference"] for r in records if "tool_output_matches_reference" in r]
    summary["tool_output_differs_from_reference"] = {"n": len(checked), "differs": checked.count(False)}
    summary["seconds_per_turn"] = {"median": round(statistics.median(seconds), 4) if seconds else None,
                                   "p90": round(sorted(seconds)[int(0.9 * (len(seconds) - 1))], 4) if seconds else None,
                                   "jobs": args.jobs, "threads": args.threads or "agent default"}
    if args.check_tokenization:
        summary["noncanonical_generated_messages"] = {
            "messages": sum(len(r["noncanonical_messages"]) for r in records),
            "of": sum(len(r["messages"]) for r in records),
            "dialogues": len({r["id"] for r in records if r["noncanonical_messages"]})}
    summary["generated_tokens_per_turn_median"] = statistics.median(r["generated_tokens"] for r in records) if records else None
    summary["seconds_per_dialogue_process"] = round(statistics.median(walls), 3) if walls else None
    summary["wall_seconds"] = round(time.perf_counter() - t0, 1)
    report = {"data": os.path.relpath(os.path.abspath(args.data), os.path.dirname(os.path.dirname(HERE))),
              "tools": "tools.py through --tool" if args.python_tools else "ree built-ins",
              "now": "built-in clock" if args.real_now else "the dialogue's fixed time through --tool",
              "sample": args.sample or None, "sample_seed": args.sample_seed if args.sample else None,
              "summary": summary, "by_tag": by_tag(records)}
    if args.torch_records:
        report["agreement_with_torch"] = agreement(records, args.torch_records)
    report["failures"] = [r for r in records if not all(r.get(k, True) for k in FIGURES)]
    printed = {k: report[k] for k in ("data", "tools", "now", "sample", "summary", "by_tag")}
    if "agreement_with_torch" in report:
        printed["agreement_with_torch"] = {k: v for k, v in report["agreement_with_torch"].items()
                                           if k not in ("differences", "torch_summary_same_turns")}
    if args.report_turns:
        report["turns"] = records
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, ensure_ascii=False)
    print(json.dumps(printed, indent=1, ensure_ascii=False))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
