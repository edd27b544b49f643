#!/usr/bin/env python3
"""holdout3: the untouched test set of the ree sample model (second fresh set).

    python3 samples/sample-model/holdout3/gen_holdout3.py          # writes holdout3.jsonl and files/
    python3 samples/sample-model/holdout3/gen_holdout3.py --check-overlap [--report overlap.json]

Why a third set: data/eval.jsonl was used as a development set, and holdout2's failure
classes (read_file answers on unseen texts, bare words taken for file names, new
spoken forms of arithmetic) informed the training data written after it. This set was
written and committed BEFORE the training data of the model it measures was changed,
from a new seed, with sentence frames, spoken forms, small talk, file stems, file-text
templates and system messages written for it alone. Nobody may tune on it: change the
training data only from what data/eval.jsonl, holdout2 and in-distribution checks show.

What is new compared with holdout2 (on purpose, to test copying rather than recall):
operands of 1-6 digits and decimals of 1-3 places; some divisions that do not
terminate (tools.py rounds them to 10 places, and the answer must carry all of them);
file texts with codes, figures and names the model cannot have memorised; one-word,
emoji and off-topic small talk, and statements that mention files, time or numbers
without asking for a tool.

Format: as gen_data.py / holdout2 (one dialogue per line: id, split, system, now, files,
turns[kind, tag, user, call, tool_output, answer, expect_in_answer]), so eval.py,
eval_ree.py and holdout2/torch_turns.py read it unchanged. The reference answers reuse
gen_data.py's ANSWER_* pools (only expect_in_answer is scored, never the wording).
"""
import argparse
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
sys.path.insert(0, MODEL_DIR)

import gen_data  # noqa: E402  (answer pools and pretty() only)
from tools import calc, run_tool  # noqa: E402

SPLIT = "holdout3"
DEFAULT_SEED = 31415926
DEFAULT_N = 300

# ---------------------------------------------------------------- user phrasings (written for this set)
CALC_FRAMES = [
    "How much is {e} altogether?", "I'm doing my budget. What does {e} give?",
    "Could you tell me what {e} works out to?", "Please evaluate this for me: {e}",
    "What's the answer when you compute {e}?", "{e} -- what do you get?", "Need help with a sum: {e}",
    "What do you make {e}?", "Can you check my math? {e}", "I want the exact value of {e}.",
    "Solve this one for me: {e}", "Give me the total for {e}.", "What's {e} equal to?",
    "Calculate {e} and tell me the result.", "Hey, quick one: {e}?", "Work this out: {e}.",
    "My spreadsheet broke. What is {e}?", "Settle a bet: {e} is how much?",
]
FOLLOWUP_OP_FRAMES = [  # {o} operator word, {n} number; the left operand is the previous result
    "Then {o} {n}, what's that?", "And that {o} {n} would be?", "OK, now {o} {n}.",
    "What's that number {o} {n}?", "Alright, and {o} {n} on top?",
]
FOLLOWUP_OP_WORDS = {"+": ["plus"], "-": ["minus"], "*": ["times"], "/": ["divided by"]}
FOLLOWUP_VERB_FRAMES = [  # (frame, operator); "*2" etc. fix the number
    ("And if I add {n} to that?", "+"), ("Now take that and multiply it by {n}.", "*"),
    ("What if you subtract {n}?", "-"), ("Okay, divide it by {n} now.", "/"),
    ("Multiply your answer by {n}, please.", "*"), ("Take {n} off the result.", "-"),
    ("Add another {n}.", "+"), ("Split that number by {n}.", "/"), ("Now double that number.", "*2"),
]
RECALL_FRAMES = [
    "What was the number you just gave me?", "Say the result again?", "I missed that. What did it come to?",
    "Could you repeat the last number?", "Wait, what was the total?", "Which number did the calculation give?",
]
NOW_FRAMES = [
    "What's the clock showing right now?", "Mind telling me the current time?", "Do you have the time?",
    "What's today's date, please?", "What is the exact time at the moment?", "Current date and time, please.",
    "Could you give me the time in UTC?", "Any idea what time it is?", "What's the date and hour right now?",
]
READ_FRAMES = [
    "Can you show me what's in {p}?", "Read out {p}, please.", "What are the contents of {p}?",
    "Print the file {p} for me.", "I need the text of {p}.", "Please check what {p} contains.",
    "What did I write in {p}?", "Look inside {p} and tell me.", "Could you load {p} for me?",
    "Tell me what the file {p} says.", "What's in my file {p}?", "Show {p}, please.",
]
SMALLTALK = {  # tag -> (user messages, reference answers as the model was taught them)
    "greet": (["Good to see you!", "Hey hey, what's happening?", "Hello from Berlin!", "Evening!",
               "Hi :)", "Yo!"], gen_data.SMALLTALK["greet"][2]),
    "howareyou": (["How's your day going so far?", "You doing alright?", "How are things on your end?"],
                  gen_data.SMALLTALK["howareyou"][2]),
    "thanks": (["Cheers for that.", "Much obliged.", "You're a star, thanks.", "Thanks, you saved me some time.",
                "Great, that's all I needed!"], gen_data.SMALLTALK["thanks"][2]),
    "abilities": (["What kind of questions can I ask you?", "Can you browse the web?",
                   "What are you capable of?", "Do you have any tools?"], gen_data.SMALLTALK["abilities"][2]),
    "identity": (["Are you ChatGPT?", "What's your story?", "Is this a bot?", "Who am I chatting with?"],
                 gen_data.SMALLTALK["identity"][2]),
    "bye": (["Catch you tomorrow.", "Signing off now.", "Okay, I'm out. Bye!", "Goodnight!"],
            gen_data.SMALLTALK["bye"][2]),
    "ack": (["Got it, makes sense.", "Noted.", "Okay then.", "Right.", "Hmm.", "Nope.", "Yes please."],
            ["Okay! Anything else I can do?", "Sure. Let me know if you need anything."]),
    "numbers": (["My flight leaves from gate 23.", "I paid 40 dollars for these shoes.",
                 "The meeting lasted 90 minutes.", "There were 3 of us at dinner.", "I'm turning 35 next week.",
                 "Our flat is number 4B.", "I ran 5 km this morning."], gen_data.SMALLTALK["numbers"][2]),
    "trap-words": (["I'll read that book tomorrow.", "Time to make dinner.", "The file server at work was down today.",
                    "I'm going to calculate my expenses later.", "Now that was a good movie.",
                    "What a great time we had at the beach!", "I keep all my notes in a paper notebook.",
                    "I never have time to read the news."], gen_data.SMALLTALK["numbers"][2]),
    "off-topic": (["What's the tallest mountain on Earth?", "Can you recommend a good movie?",
                   "Why is the sky blue?", "What should I cook tonight?", "Do you like music?",
                   "Tell me a joke."], ["I can do exact arithmetic with calc, tell the current UTC time with now, "
                                        "and read short files with read_file."]),
    "odd": (["lol", "asdf", "\U0001F44D", "??", "Why?", "ok ok ok", "Interesting..."],
            ["Okay! Anything else I can do?", "Sure. Let me know if you need anything."]),
}
SYSTEMS = ["You can use three tools: calc, now and read_file. Keep answers short.",
           "Assistant with a calculator, a clock and a file reader."]

# ---------------------------------------------------------------- spoken expressions
SYMBOL_WORDS = {"+": ["plus", "+"], "-": ["minus", "-"], "*": ["times", "x", "*", "multiplied by"],
                "/": ["divided by", "/", "over"]}
GROUP_FORMS = [  # (a op1 b) op2 c said in words; {x} is the first pair, {c} the third operand
    "first {x}, then {op2} {c}", "take {x} and {op2} {c}", "{x}, and {op2} {c} after that",
]
PAIR_WORDS = {"+": "{a} plus {b}", "-": "{a} minus {b}"}
SECOND_WORDS = {"*": "multiply the result by", "/": "divide the result by"}
SECOND_SHORT = {"*": "multiply by", "/": "divide by"}
TERMINATING_DIVISORS = ["2", "4", "5", "8", "16", "20", "25", "40", "64", "125", "250", "0.5", "0.04", "1.6", "3.2"]
REPEATING_DIVISORS = ["3", "6", "7", "9", "11", "12", "13", "15", "24", "30", "0.3", "1.5"]

# ---------------------------------------------------------------- files (new stems and texts)
STEMS = ["onboarding", "retro", "pinboard", "mileage", "allergies", "seedlings", "thesis", "reunion", "carpool",
         "ferry", "locker", "newsletter", "quarterly", "warehouse", "clinic", "rehearsal"]
DIRS = ["drafts/", "2025/", "misc/", "shared/notes/", "personal/"]
EXTS = [".txt", ".txt", ".md", ".log", ".csv", ".text"]
MISSING = ["agenda_old.txt", "tickets.md", "drafts/ideas2.txt", "lease.pdf", "logbook.csv", "wedding/guests.txt"]
PEOPLE = ["Anouk", "Bertrand", "Chiara", "Dmitri", "Esme", "Farid", "Gunnhild", "Hiroshi", "Ines", "Jakub"]
MONTHS = ["January", "March", "May", "July", "September", "November"]
FOODS = ["peanuts", "shellfish", "kiwi", "sesame", "gluten", "soy"]
PLACES = ["the old mill", "Harbour Hall", "the library annex", "Pier 9", "Room B12", "the north gate"]
FILE_TEXTS = [
    "Locker {n3} combination is {d2}-{d2b}-{d2c}.", "Seedlings: {n1} tomato, {n1b} basil, {n1c} pepper.",
    "{person} picks up the kids at {hh}:{mm} on Thursdays.", "Ferry ticket {code} is valid until {month} {day}.",
    "Wi-Fi password: {pw}", "Reunion at {place} on {month} {day}, bring {food}.",
    "Mileage this week: {n3} km, fuel {n2}.{d1} litres.", "{person} is allergic to {food} and {food2}.",
    "Thesis chapter {n1} is due on {month} {day}; ask {person} for feedback.",
    "Carpool order: {person}, {person2}, {person3}.", "Invoice {code} paid, {n4}.{d2} EUR.",
    "Rehearsal moved to {place}, {hh}:{mm} sharp.", "Newsletter draft {n1}: cut the intro, add {n2} photos.",
    "Clinic number {phone}, ask for {person}.",
]


def integer(rng):
    digits = rng.choices([1, 2, 3, 4, 5, 6], weights=[3, 4, 4, 3, 2, 1])[0]
    return str(rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1))


def operand(rng):
    if rng.random() < 0.3:
        places = rng.choice([1, 2, 3])
        whole = rng.choice([0, rng.randint(1, 9), rng.randint(10, 999), rng.randint(1000, 99999)])
        return f"{whole}.{rng.randint(1, 10 ** places - 1):0{places}d}".rstrip("0")
    return integer(rng)


def divisor(rng):
    return rng.choice(REPEATING_DIVISORS if rng.random() < 0.3 else TERMINATING_DIVISORS)


def spoken_flat(rng, xs, ops):
    expression = xs[0] + "".join(op + x for op, x in zip(ops, xs[1:]))
    style = rng.random()
    if style < 0.3:
        return expression, rng.choice([expression, gen_data.pretty(expression)]), f"symbols{len(xs)}"
    if len(ops) == 2 and ops[0] == ops[1] == "+" and style < 0.45:
        return expression, f"the total of {xs[0]}, {xs[1]} and {xs[2]}", "words3-total"
    if len(ops) == 2 and ops[0] == ops[1] == "*" and style < 0.45:
        return expression, f"{xs[0]}, {xs[1]} and {xs[2]} multiplied together", "words3-together"
    if len(ops) == 1 and ops[0] == "-" and style < 0.45:
        return expression, f"{xs[0]} take away {xs[1]}", "words2-takeaway"
    words = [xs[0]]
    for op, x in zip(ops, xs[1:]):
        words += [rng.choice(SYMBOL_WORDS[op]), x]
    return expression, " ".join(words), f"words{len(xs)}"


def spoken_grouped(rng, xs, ops):
    expression = f"({xs[0]}{ops[0]}{xs[1]}){ops[1]}{xs[2]}"
    if rng.random() < 0.4:
        return expression, rng.choice([expression, gen_data.pretty(expression)]), "grouped-symbols"
    form = rng.choice(GROUP_FORMS)
    second = SECOND_WORDS[ops[1]] if form.startswith("first") else SECOND_SHORT[ops[1]]
    first = PAIR_WORDS[ops[0]].format(a=xs[0], b=xs[1])
    return expression, form.replace("{op2} ", second + " ").format(x=first, c=xs[2]), "grouped-words"


def expression_parts(rng):
    """(expression as calc should receive it, how the user says it, tag)."""
    n_ops = rng.choices([1, 2], weights=[3, 2])[0]
    if n_ops == 2 and rng.random() < 0.3:
        ops = [rng.choice("+-"), rng.choice("*/")]
        xs = [operand(rng), operand(rng), divisor(rng) if ops[1] == "/" else operand(rng)]
        return spoken_grouped(rng, xs, ops)
    ops = [rng.choice("+-*/") for _ in range(n_ops)]
    xs = [operand(rng)] + [divisor(rng) if op == "/" else operand(rng) for op in ops]
    return spoken_flat(rng, xs, ops)


def calc_reference(rng, kind, user, expression, tag):
    result = calc(expression)
    if result.startswith("error"):
        answer, expect = rng.choice(gen_data.ANSWER_CALC_ERROR).format(pretty=gen_data.pretty(expression)), None
    else:
        answer = rng.choice(gen_data.ANSWER_CALC).format(pretty=gen_data.pretty(expression), r=result)
        expect = result
    if "/" in expression and not result.startswith("error") and len(result.split(".")[-1]) == 10:
        tag += "+rounded"
    return {"kind": kind, "tag": tag, "user": user, "call": {"name": "calc", "arguments": {"expression": expression}},
            "tool_output": result, "answer": answer, "expect_in_answer": expect}


def calc_turn(rng):
    if rng.random() < 0.02:
        a = integer(rng)
        expression, spoken, tag = f"{a}/0", rng.choice([f"{a}/0", f"{a} divided by 0", f"{a} over 0"]), "div-zero"
    else:
        expression, spoken, tag = expression_parts(rng)
    return calc_reference(rng, "calc", rng.choice(CALC_FRAMES).format(e=spoken), expression, tag)


def followup_turn(rng, previous):
    prev = previous["tool_output"]
    if rng.random() < 0.45:
        op = rng.choice("+-*/")
        n = divisor(rng) if op == "/" else str(rng.randint(1, 9999))
        user, tag = rng.choice(FOLLOWUP_OP_FRAMES).format(o=rng.choice(FOLLOWUP_OP_WORDS[op]), n=n), "op-word"
    else:
        frame, op = rng.choice(FOLLOWUP_VERB_FRAMES)
        if len(op) == 2:
            op, n = op[0], op[1]
        else:
            n = divisor(rng) if op == "/" else str(rng.randint(1, 9999))
        user, tag = frame.format(n=n), "verb"
    return calc_reference(rng, "calc_followup", user, f"{prev}{op}{n}", tag)


def recall_turn(rng, previous):
    expression, result = previous["call"]["arguments"]["expression"], previous["tool_output"]
    answer = rng.choice(gen_data.ANSWER_RECALL).format(pretty=gen_data.pretty(expression), r=result)
    return {"kind": "recall", "tag": "recall", "user": rng.choice(RECALL_FRAMES), "call": None, "tool_output": None,
            "answer": answer, "expect_in_answer": result}


def now_turn(rng, now_utc):
    return {"kind": "now", "tag": "now", "user": rng.choice(NOW_FRAMES), "call": {"name": "now", "arguments": {}},
            "tool_output": now_utc, "answer": rng.choice(gen_data.ANSWER_NOW).format(t=now_utc),
            "expect_in_answer": now_utc}


def file_text(rng):
    people = rng.sample(PEOPLE, 3)
    foods = rng.sample(FOODS, 2)
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    code = "".join(rng.choice(letters) for _ in range(2)) + str(rng.randint(1000, 99999))
    pw = "".join(rng.choice(letters + letters.lower() + "23456789") for _ in range(rng.randint(8, 12)))
    return rng.choice(FILE_TEXTS).format(
        n1=rng.randint(2, 9), n1b=rng.randint(2, 9), n1c=rng.randint(2, 9), n2=rng.randint(10, 99),
        n3=rng.randint(100, 999), n4=rng.randint(100, 9999), d1=rng.randint(0, 9), d2=f"{rng.randint(0, 99):02d}",
        d2b=f"{rng.randint(0, 99):02d}", d2c=f"{rng.randint(0, 99):02d}", person=people[0], person2=people[1],
        person3=people[2], hh=f"{rng.randint(6, 21):02d}", mm=f"{rng.randint(0, 59):02d}", month=rng.choice(MONTHS),
        day=rng.randint(1, 28), code=code, pw=pw, place=rng.choice(PLACES), food=foods[0], food2=foods[1],
        phone=f"0{rng.randint(20, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}")


def fixture_files(rng):
    """path -> text for every file of files/: each stem twice (plain, and with a number or
    a second word), sometimes in a directory."""
    files = {}
    for stem in STEMS:
        for variant in range(2):
            name = stem if variant == 0 else stem + rng.choice(["_", "-"]) + rng.choice(
                [str(rng.randint(2, 2031)), rng.choice(["v2", "final", "old", "new", "q3"])])
            path = (rng.choice(DIRS) if rng.random() < 0.35 else "") + name + rng.choice(EXTS)
            files[path] = file_text(rng)
    return files


def read_turn(rng, fixture, seen):
    if rng.random() < 0.08:
        path, tag = rng.choice(MISSING), "missing"
        output = f"error: no such file: {path}"
        answer, expect = rng.choice(gen_data.ANSWER_READ_MISSING).format(p=path), None
    else:
        path = rng.choice(sorted(fixture))
        tag = "in-dir" if "/" in path else "plain"
        output = seen[path] = fixture[path]
        answer, expect = rng.choice(gen_data.ANSWER_READ).format(p=path, c=output), output
    return {"kind": "read_file", "tag": tag, "user": rng.choice(READ_FRAMES).format(p=path),
            "call": {"name": "read_file", "arguments": {"path": path}}, "tool_output": output, "answer": answer,
            "expect_in_answer": expect}


def smalltalk_turn(rng):
    tag = rng.choice(sorted(SMALLTALK))
    users, answers = SMALLTALK[tag]
    return {"kind": "smalltalk", "tag": tag, "user": rng.choice(users), "call": None, "tool_output": None,
            "answer": rng.choice(answers), "expect_in_answer": None}


def random_now(rng):
    return (f"{rng.randint(2026, 2033)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z")


def dialogue(rng, index, fixture):
    now_utc = random_now(rng)
    files, turns = {}, []
    for _ in range(rng.choices([1, 2, 3, 4], weights=[3, 3, 2, 2])[0]):
        last = turns[-1] if turns else None
        can_follow = last is not None and last["kind"] in ("calc", "calc_followup") and last["expect_in_answer"]
        kinds = ["calc", "now", "read_file", "smalltalk"] + (["calc_followup", "recall"] if can_follow else [])
        weights = [4, 2, 3, 4] + ([6, 3] if can_follow else [])
        kind = rng.choices(kinds, weights=weights)[0]
        if kind == "calc":
            turns.append(calc_turn(rng))
        elif kind == "calc_followup":
            turns.append(followup_turn(rng, last))
        elif kind == "recall":
            turns.append(recall_turn(rng, last))
        elif kind == "now":
            turns.append(now_turn(rng, now_utc))
        elif kind == "read_file":
            turns.append(read_turn(rng, fixture, files))
        else:
            turns.append(smalltalk_turn(rng))
    system = rng.choice(SYSTEMS) if rng.random() < 0.4 else None
    for t in turns:  # the reference tool outputs are what tools.py gives for this dialogue
        if t["call"]:
            assert run_tool(t["call"]["name"], t["call"]["arguments"], now_utc, files) == t["tool_output"], t
    return {"id": f"{SPLIT}-{index:06d}", "split": SPLIT, "system": system, "now": now_utc, "files": files,
            "turns": turns}


def generate(seed, n):
    """(dialogues, fixture files); the fixture has its own stream, so n does not change it."""
    fixture = fixture_files(random.Random(f"ree-sample-{SPLIT}-files-{seed}"))
    rng = random.Random(f"ree-sample-{SPLIT}-{seed}")
    return [dialogue(rng, i, fixture) for i in range(n)], fixture


def write_fixture(files_dir, fixture):
    for path, text in sorted(fixture.items()):
        full = os.path.join(files_dir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)  # no trailing newline: read_file returns exactly this


# ---------------------------------------------------------------- overlap with the other pools
def normalized(text):
    """Lowercased words and numbers; a message without any (emoji, "??") stays as it is."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower())) or text


def frame_regex(frame):
    parts = re.split(r"\{[a-z]+\}", frame)
    return re.compile(".+".join(re.escape(p) for p in parts), re.IGNORECASE)


def my_frames():
    return (CALC_FRAMES + FOLLOWUP_OP_FRAMES + [f for f, _ in FOLLOWUP_VERB_FRAMES] + RECALL_FRAMES + NOW_FRAMES
            + READ_FRAMES + [u for users, _ in SMALLTALK.values() for u in users])


def train_users(n, seed=11):
    """User messages of the current train generator (gen_data.py --split train)."""
    return [t["user"] for d in gen_data.generate(seed, n, "train") for t in d["turns"]]


def overlap_report(dialogues, train_sample=20000):
    """How much of holdout3 the train generator (as it is when this runs) produces:
    frames that a sampled train message matches in full, and holdout3 messages equal
    (lowercased, punctuation dropped) to a sampled train message; the same against the
    dev set (data/eval.jsonl) and holdout2; file stems and file-text words seen in train."""
    users = [t["user"] for d in dialogues for t in d["turns"]]
    train = train_users(train_sample)
    train_norm = {normalized(u) for u in train}
    others = {}
    for name, path in (("eval", os.path.join(MODEL_DIR, "data", "eval.jsonl")),
                       ("holdout2", os.path.join(MODEL_DIR, "holdout2", "holdout2.jsonl"))):
        with open(path, encoding="utf-8") as f:
            others[name] = [t["user"] for line in f if line.strip() for t in json.loads(line)["turns"]]
    rx = [(f, frame_regex(f)) for f in my_frames()]
    frame_hits = sorted({f for f, r in rx for u in train if r.fullmatch(u)})
    report = {"holdout3_frames": len(my_frames()), "holdout3_user_messages": len(users),
              "train_messages_sampled": len(train), "frames_matching_train_messages": frame_hits,
              "messages_equal_train_sample": sorted({u for u in users if normalized(u) in train_norm})}
    for name, msgs in others.items():
        norm = {normalized(u) for u in msgs}
        report[f"messages_equal_{name}"] = sorted({u for u in users if normalized(u) in norm})
        report[f"frames_matching_{name}_messages"] = sorted({f for f, r in rx for u in msgs if r.fullmatch(u)})
    train_text = " ".join(train).lower()
    report["file_stems_in_train_messages"] = sorted(s for s in STEMS if s in train_text)
    return report


def main():
    p = argparse.ArgumentParser(description="untouched test set (holdout3) for the ree sample model")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--n", type=int, default=DEFAULT_N)
    p.add_argument("--out", default=os.path.join(HERE, "holdout3.jsonl"))
    p.add_argument("--files-dir", default=os.path.join(HERE, "files"))
    p.add_argument("--check-overlap", action="store_true", help="print the overlap report instead of writing")
    p.add_argument("--report", help="with --check-overlap: also write the report to this JSON file")
    args = p.parse_args()
    dialogues, fixture = generate(args.seed, args.n)
    if args.check_overlap:
        text = json.dumps(overlap_report(dialogues), indent=1, ensure_ascii=False)
        print(text)
        if args.report:
            with open(args.report, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return
    with open(args.out, "w", encoding="utf-8") as f:
        for d in dialogues:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    write_fixture(args.files_dir, fixture)


if __name__ == "__main__":
    main()
