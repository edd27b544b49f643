#!/usr/bin/env python3
"""Synthetic multi-turn dialogues for the ree sample assistant.

    python3 samples/sample-model/gen_data.py --seed S --n N --split train|eval [--out FILE]

Each line of the JSONL output is one dialogue:
    {"id", "split", "system" (string or null), "now" (what the now tool returns),
     "files" (path -> text, what read_file sees),
     "turns": [{"kind", "user", "call" ({"name", "arguments"} or null),
                "tool_output" (string or null), "answer", "expect_in_answer" (string or null)}]}
Kinds: calc, calc_followup (refers to the previous result), recall (asks about the
previous calculation; no tool), now, read_file, smalltalk (no tool).
messages(dialogue) turns it into the message list the template encodes.

The eval split draws user phrasings from a separate pool (EVAL_* below) and uses a
different seed; what the assistant says (ANSWER_*) is shared, since that is what
the model is taught. The operator words (plus, times, ...) are shared as well:
the eval checks unseen sentence frames, not unseen vocabulary.
"""
import argparse
import json
import random
import sys

import train_dialogues
import train_phrasing
from tools import calc, run_tool, tool_call_text

# The train split is train_dialogues.py (v2, compositional, random file names and texts).
# "train-v1" is the generator of the models up to 2026-11-22 (train_phrasing.py), kept
# so that their data and holdout2's overlap report can be reproduced.
TRAIN_V1 = "train-v1"

# ---------------------------------------------------------------- user phrasings
CALC_FRAMES = {
    "train": ["What is {e}?", "what is {e}", "Calculate {e}.", "calculate {e}", "Compute {e}.",
              "What's {e}?", "whats {e}", "Can you work out {e}?", "How much is {e}?",
              "{e} = ?", "{e}?", "{e}", "Please calculate {e}.", "I need {e}.",
              "Solve {e}.", "Work out {e} for me.", "Hey, what is {e}?", "evaluate {e}",
              "What do you get for {e}?", "Can you compute {e} please?", "Find {e}.",
              "What does {e} come to?", "calc {e}", "Tell me {e}."],
    "eval": ["Could you figure out {e} for me?", "Tell me the result of {e}.",
             "Quick question: {e}?", "Do the math: {e}", "Help me compute {e}, please.",
             "I'd like to know {e}.", "Mind calculating {e}?", "So what's {e} then?",
             "Need a number: {e}", "Result of {e}?"],
}
FOLLOWUP_FRAMES = {  # {o} operator word(s), {n} number; 'rev' frames mean n OP result
    "train": [("And {o} {n}?", "fwd"), ("and {o} {n}", "fwd"), ("Now {o} {n}.", "fwd"),
              ("What about {o} {n}?", "fwd"), ("ok {o} {n}", "fwd"), ("Then {o} {n}?", "fwd"),
              ("Take that {o} {n}.", "fwd"), ("That {o} {n}?", "fwd"), ("now that {o} {n}", "fwd")],
    "eval": [("Okay, and then {o} {n}?", "fwd"), ("What if we go {o} {n}?", "fwd"),
             ("Next, {o} {n}.", "fwd"), ("Great, now {o} {n} please.", "fwd")],
}
FOLLOWUP_VERBS = {  # verb phrasings: {n} number; operator fixed
    "train": [("Multiply that by {n}.", "*"), ("multiply it by {n}", "*"), ("Divide that by {n}.", "/"),
              ("divide it by {n}", "/"), ("Add {n} to that.", "+"), ("add {n}", "+"),
              ("Subtract {n} from that.", "-"), ("subtract {n}", "-"), ("Double it.", "*2"),
              ("Halve that.", "/2")],
    "eval": [("Can you multiply the result by {n}?", "*"), ("Now divide the result by {n}.", "/"),
             ("Add {n} to the result.", "+"), ("Take {n} away from that.", "-"),
             ("Double that, please.", "*2")],
}
RECALL_FRAMES = {
    "train": ["What did you just compute?", "What was the last result?", "What was that again?",
              "Remind me what you calculated.", "what was the answer?", "Repeat the last result."],
    "eval": ["Sorry, what was that result again?", "Can you repeat the previous answer?",
             "Which calculation did you do just now?"],
}
NOW_FRAMES = {
    "train": ["What time is it?", "what time is it", "What's the time?", "Tell me the current time.",
              "Do you know the time?", "What's the date today?", "current time?",
              "What time is it in UTC?", "What is the current date and time?", "time?",
              "Can you tell me the time?", "What day is it today?", "now?", "Check the time please."],
    "eval": ["Could you check the clock for me?", "What's the current UTC time?", "Time check, please.",
             "Which date is it today?", "Got the time?", "I need the current time."],
}
READ_FRAMES = {
    "train": ["What does {p} say?", "Read {p} for me.", "Open {p} and tell me what it says.",
              "Can you read the file {p}?", "Show me the contents of {p}.", "What's in {p}?",
              "read {p}", "Please read {p}.", "What is written in {p}?", "cat {p}",
              "Summarize {p}.", "Tell me what {p} contains."],
    "eval": ["Please look at {p} and summarise it.", "I need to know what {p} contains.",
             "Could you check the file {p}?", "Take a look at {p}.", "What's written inside {p}?"],
}
SMALLTALK = {  # category -> (train phrasings, eval phrasings, answers)
    "greet": (["Hi", "Hello!", "hey", "Good morning", "Hi there!", "Hello, assistant.", "hello", "Hey!"],
              ["Hey there!", "Good evening!", "Greetings.", "Howdy!"],
              ["Hello! How can I help you today?", "Hi! What can I do for you?"]),
    "howareyou": (["How are you?", "how are you doing?", "How's it going?"],
                  ["How have you been?", "Are you doing okay?"],
                  ["I'm doing well, thanks! How can I help?"]),
    "thanks": (["Thanks!", "thank you", "Thanks a lot.", "great, thanks", "Thank you!", "thx"],
               ["Much appreciated!", "Cheers!", "Thank you so much, that helps."],
               ["You're welcome!", "Glad I could help."]),
    "abilities": (["What can you do?", "What tools do you have?", "help", "What are your tools?"],
                  ["Which tools can you use?", "What are you able to do for me?"],
                  ["I can do exact arithmetic with calc, tell the current UTC time with now, "
                   "and read short files with read_file."]),
    "identity": (["Who are you?", "What is your name?", "What are you?"],
                 ["Tell me about yourself.", "Introduce yourself."],
                 ["I am the ree sample assistant, a small model that runs on a CPU."]),
    "bye": (["Bye!", "goodbye", "See you.", "bye"],
            ["See you later!", "Take care, bye."],
            ["Goodbye!", "Bye! Have a nice day."]),
    "numbers": (["I have 3 cats.", "My favourite number is 7.", "I slept 8 hours last night.",
                 "I turned 30 today!", "We won 2 to 1 yesterday."],
                ["I ran 5 km this morning.", "My flight is at 9.", "I just read 12 pages."],
                ["That's nice to hear!", "Nice! Let me know if you need anything."]),
}
FACTS = [  # (train question, eval question, answer)
    ("What is the capital of France?", "Which city is the capital of France?", "The capital of France is Paris."),
    ("What is the capital of Japan?", "Which city is Japan's capital?", "The capital of Japan is Tokyo."),
    ("What is the capital of Italy?", "Name the capital of Italy.", "The capital of Italy is Rome."),
    ("What color is the sky?", "Which color does the sky have on a clear day?", "On a clear day the sky is blue."),
    ("How many days are in a week?", "A week has how many days?", "There are 7 days in a week."),
    ("How many legs does a spider have?", "Spiders have how many legs?", "A spider has 8 legs."),
    ("What is water made of?", "Which elements make up water?", "Water is made of hydrogen and oxygen."),
    ("Who wrote Hamlet?", "Which writer wrote Hamlet?", "Hamlet was written by William Shakespeare."),
    ("What is the largest planet?", "Which planet is the biggest?", "Jupiter is the largest planet."),
    ("How many minutes are in an hour?", "An hour has how many minutes?", "There are 60 minutes in an hour."),
    ("What do bees make?", "What do bees produce?", "Bees make honey."),
    ("What is the opposite of hot?", "What's the opposite of hot?", "The opposite of hot is cold."),
]
SYSTEMS = {
    "train": ["You are a helpful assistant with tools: calc, now, read_file.",
              "You are the ree sample assistant. Use tools when needed.",
              "Be concise. Tools: calc, now, read_file."],
    "eval": ["You are a helpful assistant with tools: calc, now, read_file.",
             "Answer briefly and use tools for math, time and files."],
}
SYSTEMS[TRAIN_V1] = SYSTEMS["train"]
OP_WORDS = {"+": ["plus", "+"], "-": ["minus", "-"], "*": ["times", "*", "multiplied by", "x"],
            "/": ["divided by", "/", "over"]}
FOLLOWUP_OP_WORDS = {"+": ["plus"], "-": ["minus"], "*": ["times"], "/": ["divided by"]}
FILE_STEMS = {
    "train": ["notes", "todo", "readme", "report", "plan", "log", "draft", "summary", "ideas", "memo",
              "config", "list", "agenda", "diary", "status", "budget", "recipe", "letter"],
    "eval": ["minutes", "tasks", "journal", "changelog", "outline", "schedule"],
}
FILE_EXTS = [".txt", ".md", ".log", ".ini", ""]
NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Oscar"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ITEMS = ["milk", "bread", "eggs", "coffee", "apples", "rice", "butter", "tea", "cheese", "batteries"]
WORDS = ["orion", "falcon", "maple", "cobalt", "ember", "lotus", "zephyr", "quartz", "nimbus", "harbor"]
FILE_TEMPLATES = [
    "The meeting moved to {day} at {hour}.", "Remember to buy {item} and {item2}.",
    "Project {Word} ships on {day}.", "Call {name} back before {day}.",
    "Server {word} restarted at {hh}:{mm}.", "Total sales were {num} units.",
    "{name} owes {name2} {num} dollars.", "The door code is {num}.",
    "Backup finished with {num} files.", "Lunch with {name} on {day}.",
]

# ---------------------------------------------------------------- assistant phrasings
ANSWER_CALC = ["{pretty} = {r}.", "The result is {r}.", "{pretty} is {r}.", "That comes to {r}.",
               "It's {r}.", "The answer is {r}."]
ANSWER_CALC_ERROR = ["I can't divide by zero, so {pretty} has no result.",
                     "That doesn't work: {pretty} divides by zero."]
ANSWER_RECALL = ["I computed {pretty} = {r}.", "The last result was {r}, from {pretty}."]
ANSWER_NOW = ["It is {t}.", "The current time is {t} (UTC).", "It's {t} UTC right now."]
ANSWER_READ = ["{p} says: {c}", "The file {p} says: \"{c}\"", "It says: {c}"]
ANSWER_READ_MISSING = ["I could not read {p}: no such file.", "There is no file named {p}."]


def number(rng, allow_decimal=True):
    """An operand: mostly integers of 1..4 digits, sometimes a decimal with 1..2 places."""
    if allow_decimal and rng.random() < 0.25:
        places = rng.choice([1, 1, 2])
        whole = rng.choice([0, rng.randint(1, 9), rng.randint(10, 99), rng.randint(100, 999)])
        frac = rng.randint(1, 10 ** places - 1)
        text = f"{whole}.{frac:0{places}d}".rstrip("0")
        return text
    digits = rng.choices([1, 2, 3, 4], weights=[3, 4, 3, 1])[0]
    return str(rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1))


def divisor(rng):
    """A divisor that keeps results terminating (only factors 2 and 5, or a decimal)."""
    return rng.choice(["2", "4", "5", "8", "10", "16", "20", "25", "40", "50", "100", "0.5", "0.25", "2.5"])


def pretty(expression):
    """'(12+3)*4' -> '(12 + 3) * 4': spaces around binary operators only."""
    out, prev = [], ""
    for ch in expression:
        binary = ch in "+-*/" and prev not in ("", "(", "+", "-", "*", "/")
        out.append(f" {ch} " if binary else ch)
        if ch != " ":
            prev = ch
    return "".join(out)


def random_expression(rng):
    """(canonical expression without spaces, how the user says it)."""
    n_ops = rng.choices([1, 2], weights=[3, 1])[0]
    ops = [rng.choice("+-*/") for _ in range(n_ops)]
    operands = [number(rng)]
    for op in ops:
        operands.append(divisor(rng) if op == "/" else number(rng))
    if n_ops == 2 and rng.random() < 0.3:  # parenthesised first pair
        expression = f"({operands[0]}{ops[0]}{operands[1]}){ops[1]}{operands[2]}"
        spoken = spoken_grouped(rng, operands, ops, expression)
    else:
        expression = operands[0] + "".join(op + x for op, x in zip(ops, operands[1:]))
        spoken = spoken_flat(rng, operands, ops, expression)
    return expression, spoken


def spoken_flat(rng, operands, ops, expression):
    style = rng.random()
    if style < 0.3:
        return rng.choice([expression, pretty(expression)])
    if len(ops) == 1 and style < 0.45:
        a, b = operands
        return rng.choice({"+": [f"the sum of {a} and {b}"], "-": [f"the difference between {a} and {b}"],
                           "*": [f"the product of {a} and {b}"], "/": [f"{a} divided by {b}"]}[ops[0]])
    words = [operands[0]]
    for op, x in zip(ops, operands[1:]):
        words += [rng.choice(OP_WORDS[op]), x]
    return " ".join(words)


def spoken_grouped(rng, operands, ops, expression):
    if rng.random() < 0.5:
        return rng.choice([expression, pretty(expression)])
    a, b, c = operands
    first = {"+": f"{a} plus {b}", "-": f"{a} minus {b}", "*": f"{a} times {b}", "/": f"{a} divided by {b}"}[ops[0]]
    second = {"+": f"add {c}", "-": f"subtract {c}", "*": f"multiply by {c}", "/": f"divide by {c}"}[ops[1]]
    return f"{first}, then {second}"


def calc_turn(rng, split):
    expression, spoken = random_expression(rng)
    if rng.random() < 0.02:  # division by zero: the tool reports an error
        expression = f"{number(rng, False)}/0"
        spoken = rng.choice([expression, pretty(expression)])
    if split == TRAIN_V1:
        user = train_phrasing.calc(rng, spoken)
    else:
        user = rng.choice(CALC_FRAMES[split]).format(e=spoken)
    return make_calc_turn(rng, "calc", user, expression)


def make_calc_turn(rng, kind, user, expression):
    result = calc(expression)
    if result.startswith("error"):
        answer = rng.choice(ANSWER_CALC_ERROR).format(pretty=pretty(expression))
        expect = None
    else:
        answer = rng.choice(ANSWER_CALC).format(pretty=pretty(expression), r=result)
        expect = result
    return {"kind": kind, "user": user, "call": {"name": "calc", "arguments": {"expression": expression}},
            "tool_output": result, "answer": answer, "expect_in_answer": expect}


def followup_turn(rng, split, previous):
    """Operate on the previous result; the expression starts with that result."""
    prev = previous["tool_output"]
    if split == TRAIN_V1:
        user, op, n = train_phrasing.followup(
            rng, lambda op: divisor(rng) if op == "/" else number(rng, allow_decimal=rng.random() < 0.2))
        return make_calc_turn(rng, "calc_followup", user, f"{prev}{op}{n}")
    if rng.random() < 0.5:
        frame, _ = rng.choice(FOLLOWUP_FRAMES[split])
        op = rng.choice("+-*/")
        n = divisor(rng) if op == "/" else number(rng, allow_decimal=rng.random() < 0.2)
        user = frame.format(o=rng.choice(FOLLOWUP_OP_WORDS[op]), n=n)
    else:
        frame, op = rng.choice(FOLLOWUP_VERBS[split])
        if op in ("*2", "/2"):
            op, n = op[0], "2"
        else:
            n = divisor(rng) if op == "/" else number(rng, allow_decimal=rng.random() < 0.2)
        user = frame.format(n=n)
    return make_calc_turn(rng, "calc_followup", user, f"{prev}{op}{n}")


def recall_turn(rng, split, previous):
    expression = previous["call"]["arguments"]["expression"]
    result = previous["tool_output"]
    answer = rng.choice(ANSWER_RECALL).format(pretty=pretty(expression), r=result)
    user = train_phrasing.recall(rng) if split == TRAIN_V1 else rng.choice(RECALL_FRAMES[split])
    return {"kind": "recall", "user": user, "call": None, "tool_output": None,
            "answer": answer, "expect_in_answer": result}


def now_turn(rng, split, now_utc):
    user = train_phrasing.now(rng) if split == TRAIN_V1 else rng.choice(NOW_FRAMES[split])
    return {"kind": "now", "user": user, "call": {"name": "now", "arguments": {}},
            "tool_output": now_utc, "answer": rng.choice(ANSWER_NOW).format(t=now_utc), "expect_in_answer": now_utc}


def file_path(rng, split):
    if split == TRAIN_V1:
        return train_phrasing.file_path(rng, FILE_STEMS["eval"])
    stem = rng.choice(FILE_STEMS[split])
    if rng.random() < 0.3:
        stem += rng.choice(["_", "-", ""]) + str(rng.randint(1, 2030))
    if rng.random() < 0.15:
        stem = rng.choice(["docs/", "work/", "home/"]) + stem
    return stem + rng.choice(FILE_EXTS)


def file_text(rng):
    name, name2 = rng.sample(NAMES, 2)
    item, item2 = rng.sample(ITEMS, 2)
    word = rng.choice(WORDS)
    return rng.choice(FILE_TEMPLATES).format(
        day=rng.choice(DAYS), hour=f"{rng.randint(1, 12)} {rng.choice(['am', 'pm'])}", item=item, item2=item2,
        Word=word.capitalize(), word=word, name=name, name2=name2, hh=f"{rng.randint(0, 23):02d}",
        mm=f"{rng.randint(0, 59):02d}", num=str(rng.randint(1, 9999)))


def read_turn(rng, split, files):
    path = file_path(rng, split)
    missing = split == TRAIN_V1 and rng.random() < 0.08 and path not in files
    if not missing:
        files[path] = files.get(path) or file_text(rng)
    output = run_tool("read_file", {"path": path}, "", files)
    if missing:
        answer, expect = rng.choice(ANSWER_READ_MISSING).format(p=path), None
    else:
        answer, expect = rng.choice(ANSWER_READ).format(p=path, c=output), output
    if split == TRAIN_V1:
        user = train_phrasing.read(rng, path)
    else:
        user = rng.choice(READ_FRAMES[split]).format(p=path)
    return {"kind": "read_file", "user": user, "call": {"name": "read_file", "arguments": {"path": path}},
            "tool_output": output, "answer": answer, "expect_in_answer": expect}


def smalltalk_turn(rng, split):
    if split == TRAIN_V1:
        user, answer = train_phrasing.smalltalk(rng, FACTS)
        return {"kind": "smalltalk", "user": user, "call": None, "tool_output": None, "answer": answer,
                "expect_in_answer": None}
    column = 0 if split == TRAIN_V1 else 1
    if rng.random() < 0.3:
        fact = rng.choice(FACTS)
        user, answer = fact[column], fact[2]
    else:
        entry = SMALLTALK[rng.choice(sorted(SMALLTALK))]
        user, answer = rng.choice(entry[column]), rng.choice(entry[2])
    return {"kind": "smalltalk", "user": user, "call": None, "tool_output": None, "answer": answer,
            "expect_in_answer": None}


def random_now(rng):
    return (f"{rng.randint(2024, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z")


def dialogue(rng, split, index):
    now_utc = random_now(rng)
    files = {}
    turns = []
    for _ in range(rng.choices([1, 2, 3, 4], weights=[4, 3, 2, 1])[0]):
        last_calc = next((t for t in reversed(turns) if t["kind"] in ("calc", "calc_followup")), None)
        can_follow = last_calc is not None and turns[-1] is last_calc and last_calc["expect_in_answer"] is not None
        kinds = ["calc", "now", "read_file", "smalltalk"] + (["calc_followup", "calc_followup", "recall"] if can_follow else [])
        follow_weights = [5, 5, 4] if split == TRAIN_V1 else [3, 3, 2]  # train: more follow-ups
        weights = [5, 2, 2, 3] + (follow_weights if can_follow else [])
        kind = rng.choices(kinds, weights=weights)[0]
        if kind == "calc":
            turns.append(calc_turn(rng, split))
        elif kind == "calc_followup":
            turns.append(followup_turn(rng, split, last_calc))
        elif kind == "recall":
            turns.append(recall_turn(rng, split, last_calc))
        elif kind == "now":
            turns.append(now_turn(rng, split, now_utc))
        elif kind == "read_file":
            turns.append(read_turn(rng, split, files))
        else:
            turns.append(smalltalk_turn(rng, split))
    system = rng.choice(SYSTEMS[split]) if rng.random() < 0.5 else None
    return {"id": f"{split}-{index:06d}", "split": split, "system": system, "now": now_utc,
            "files": files, "turns": turns}


def messages(d):
    """The gold message list of a dialogue (tool call, tool output and answer per turn)."""
    out = [{"role": "system", "content": d["system"]}] if d["system"] else []
    for t in d["turns"]:
        out.append({"role": "user", "content": t["user"]})
        if t["call"]:
            out.append({"role": "assistant", "content": tool_call_content(t["call"])})
            out.append({"role": "tool", "content": t["tool_output"]})
        out.append({"role": "assistant", "content": t["answer"]})
    return out


def tool_call_content(call):
    return tool_call_text(call["name"], call["arguments"])


def generate(seed, n, split):
    if split == "train":
        return train_dialogues.generate(seed, n)
    rng = random.Random(f"ree-sample-{'train' if split == TRAIN_V1 else split}-{seed}")
    return [dialogue(rng, split, i) for i in range(n)]


def main():
    p = argparse.ArgumentParser(description="synthetic tool-use dialogues for the ree sample model")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--split", choices=["train", TRAIN_V1, "eval"], required=True)
    p.add_argument("--out", help="JSONL file (default: stdout)")
    args = p.parse_args()
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    for d in generate(args.seed, args.n, args.split):
        out.write(json.dumps(d, ensure_ascii=False) + "\n")
    if args.out:
        out.close()


if __name__ == "__main__":
    main()
