#!/usr/bin/env python3
"""holdout2: a fresh test set for the ree sample model that nobody has tuned on.

    python3 samples/sample-model/holdout2/gen_holdout2.py            # writes holdout2.jsonl and files/
    python3 samples/sample-model/holdout2/gen_holdout2.py --check-overlap [--report overlap.json]

Why it exists: data/eval.jsonl served as a development set (train phrasings were
revised after reading its failures, MODEL_CARD.md), so its figures overstate how the
model does on phrasings nobody looked at. Everything a user says here (sentence frames,
spoken forms of expressions, small talk, file names, file texts, system messages) comes
from pools written for this set only, and the set was committed before any model was
run on it. What the reference assistant says reuses gen_data.py's ANSWER_* pools (the
style the model was taught); those are not scored word for word anyway.

Output format: the same as gen_data.py (one dialogue per line: id, split, system, now,
files, turns[kind, user, call, tool_output, answer, expect_in_answer]), so eval.py and
eval_ree.py read it unchanged, plus a "tag" per turn naming the variant (e.g. calc
"words3", read_file "new-stem" or "missing"), for breakdowns.

Kinds: calc (2-3 operands, integers and decimals), calc_followup (operates on the
previous result), recall (asks for the previous result; no tool), now, read_file (a file
of the fixture directory files/, or a missing one), smalltalk (no tool).

The files read_file may see are written to files/ (one sentence each, no trailing
newline, so the built-in read_file returns exactly the reference text). Every dialogue's
"files" holds the fixture files it reads, so a per-dialogue tool (eval.py) sees the same.

--check-overlap measures how much of this set a train-phrasing or eval-phrasing
generator could have produced (see overlap_report()).
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

import gen_data  # noqa: E402  (answer pools and pretty(); no user phrasing is taken from it)
from tools import calc, run_tool  # noqa: E402

SPLIT = "holdout2"
DEFAULT_SEED = 20261201
DEFAULT_N = 300

# ---------------------------------------------------------------- user phrasings (new)
CALC_FRAMES = [
    "Can you crunch the numbers on {e}?", "I'm trying to figure out {e}.", "How much do I get if I do {e}?",
    "Do you know what {e} equals?", "Please give me the answer for {e}.", "{e}, how much is that?",
    "What number is {e}?", "Run the numbers: {e}", "If I take {e}, what do I end up with?",
    "Could you do some arithmetic for me? {e}", "I have a sum for you: {e}", "My homework asks for {e}. What is it?",
    "Figure this out please: {e}", "What's the outcome of {e}?", "Let me know what {e} gives.",
    "Can I get the value of {e}?", "Help me out with {e}.", "Any idea what {e} comes out to?",
]
FOLLOWUP_OP_FRAMES = [  # {o}: operator word, {n}: number; the left operand is the previous result
    "Take the result {o} {n}.", "Continue: {o} {n}.", "What would that be {o} {n}?", "Keep going, {o} {n}.",
    "And the result {o} {n} is?", "Fine. Now the same number {o} {n}?",
]
FOLLOWUP_OP_WORDS = {"+": ["plus"], "-": ["minus"], "*": ["times"], "/": ["divided by"]}
FOLLOWUP_VERB_FRAMES = [  # (frame, operator); "*2" etc. fix the number
    ("Now multiply what you got by {n}.", "*"), ("Divide what you got by {n}.", "/"),
    ("Please add {n} to what you got.", "+"), ("Subtract {n} from the result, please.", "-"),
    ("Increase the result by {n}.", "+"), ("Knock {n} off that.", "-"), ("Double the result.", "*2"),
    ("Cut that in half.", "/2"), ("Now triple the result.", "*3"),
]
RECALL_FRAMES = [
    "What number did you end up with?", "Could you say that result once more?",
    "Remind me: what did that calculation come to?", "Hang on, what was the number you got?",
    "Tell me that answer again, please.",
]
NOW_FRAMES = [
    "Can I get a timestamp?", "How late is it now?", "What's the UTC date and time at the moment?",
    "Please look up the current time.", "I lost track of time. What time is it?",
    "Give me today's date and the time.", "Which day and hour is it currently?",
    "Could you find out what time it is for me?",
]
READ_FRAMES = [
    "Open up {p} and read it to me.", "What's inside the file called {p}?", "Can you pull up {p}?",
    "Read the contents of {p} aloud.", "I'd like to hear what {p} says.", "Check {p} for me, please.",
    "Fetch {p} and tell me what's in it.", "Let's see {p}.", "Go through {p} and tell me what it says.",
    "Do me a favour and read {p}.",
]
SMALLTALK = {  # tag -> (user phrasings, reference answers as the model was taught them)
    "greet": (["Greetings from the office!", "Yo, what's new?", "Hi again, I'm back!", "Morning, assistant!",
               "Hi, anybody there?"], gen_data.SMALLTALK["greet"][2]),
    "howareyou": (["Everything alright with you?", "How are you feeling today?", "How's your week been?"],
                  gen_data.SMALLTALK["howareyou"][2]),
    "thanks": (["That was helpful, thank you.", "Thanks, that's exactly what I needed.", "Appreciate it!",
                "Perfect, thanks a bunch."], gen_data.SMALLTALK["thanks"][2]),
    "abilities": (["What sort of things can you help with?", "Which tools do you have access to?",
                   "Can you explain what you're able to do?"], gen_data.SMALLTALK["abilities"][2]),
    "identity": (["What should I call you?", "Are you a person or a program?", "Who built you?"],
                 gen_data.SMALLTALK["identity"][2]),
    "bye": (["I'm heading off now, bye.", "That's it for today, goodbye!", "Talk to you later."],
            gen_data.SMALLTALK["bye"][2]),
    "ack": (["Sounds good.", "Hmm, fair enough.", "Alright, understood."],
            ["Okay! Anything else I can do?", "Sure. Let me know if you need anything."]),
    "numbers": (["My daughter is 6 years old.", "I drank 3 cups of coffee today.", "We have 4 dogs at home.",
                 "I swam 20 laps in the pool.", "Our office is on floor 12."],
                gen_data.SMALLTALK["numbers"][2]),
    # statements with the words a tool request would use (read, time, file, now, calculator)
    "trap-words": (["I read a great article this morning.", "I have a lot of free time this weekend.",
                    "I need to file my taxes soon.", "Right now I'm just relaxing.",
                    "My calculator ran out of battery.", "I spent the afternoon reading in the park."],
                   gen_data.SMALLTALK["numbers"][2]),
}
FACT_QUESTIONS = [  # (question, the answer the model was taught for that fact)
    ("Do you know the capital of Italy?", "The capital of Italy is Rome."),
    ("What's the biggest planet in our solar system?", "Jupiter is the largest planet."),
    ("How many legs do spiders have, again?", "A spider has 8 legs."),
    ("Who is the author of Hamlet?", "Hamlet was written by William Shakespeare."),
]
SYSTEMS = ["You are a small assistant. Tools available: calc, now, read_file.",
           "Use the calc, now and read_file tools whenever they help."]

# ---------------------------------------------------------------- spoken expressions (new forms)
SYMBOL_WORDS = {"+": ["plus"], "-": ["minus"], "*": ["times", "multiplied by", "x"], "/": ["divided by", "over"]}
GROUP_FIRST = {"+": ["add {a} and {b}", "{a} plus {b}"], "-": ["{a} minus {b}"],
               "*": ["multiply {a} by {b}", "{a} times {b}"], "/": ["divide {a} by {b}", "{a} divided by {b}"]}
GROUP_SECOND = {"+": ["add {c}"], "-": ["take away {c}"], "*": ["multiply the result by {c}"],
                "/": ["divide the result by {c}"]}
GROUP_JOIN = ["{first}, and after that {second}", "{first}, followed by: {second}"]
DIVISORS = ["2", "4", "5", "8", "10", "16", "20", "25", "32", "40", "50", "80", "100", "125", "200",
            "0.2", "0.4", "0.8", "1.25", "2.5", "12.5"]  # only factors 2 and 5: results terminate

# ---------------------------------------------------------------- files (new names and texts)
NEW_STEMS = ["roster", "itinerary", "glossary", "timeline", "wishlist", "recap", "handover", "backlog",
             "pantry", "workshop", "vacation", "warranty"]  # never a train path word (checked)
SEEN_STEMS = ["budget", "recipe", "garden", "travel", "contacts", "groceries", "weather", "playlist",
              "homework", "invoice", "chores", "birthday"]  # words train paths use, in new names
DIRS = ["team/", "home/", "shared/", "personal/"]
EXTS = [".txt", ".txt", ".md", ".log", ".csv"]
MISSING_STEMS = ["payroll", "passport", "seating", "syllabus2", "parking", "rota"]
PEOPLE = ["Priya", "Tomas", "Keiko", "Liam", "Zara", "Omar", "Nina", "Felix"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
THINGS = ["lentils", "oat milk", "printer paper", "sunscreen", "light bulbs", "dish soap", "flour", "candles"]
PLACES = ["Lisbon", "Oslo", "Kyoto", "Quito", "Tallinn", "Accra"]
FILE_TEXTS = [
    "The plumber comes on {day} at {h} o'clock.", "Pick up {thing} on the way home.",
    "{person} is on call this {day}.", "Room {num} is booked for {person}.",
    "The train to {place} leaves at {hh}:{mm}.", "Water the tomatoes every {day}.",
    "{person} brings the snacks on {day}.", "The spare key is under pot {small}.",
    "Order {small} boxes of {thing} before {day}.", "The workshop starts at {hh}:{mm} in room {num}.",
]


def operand(rng):
    """Integers of 1-4 digits or decimals with 1-2 places (whole part up to 999)."""
    if rng.random() < 0.3:
        places = rng.choice([1, 2])
        whole = rng.choice([0, rng.randint(1, 9), rng.randint(10, 99), rng.randint(100, 999)])
        return f"{whole}.{rng.randint(1, 10 ** places - 1):0{places}d}".rstrip("0")
    digits = rng.choices([1, 2, 3, 4], weights=[3, 4, 3, 2])[0]
    return str(rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1))


def operands_for(rng, ops):
    return [operand(rng)] + [rng.choice(DIVISORS) if op == "/" else operand(rng) for op in ops]


def expression_turn_parts(rng):
    """(expression as calc should receive it, how the user says it, tag)."""
    n_ops = rng.choices([1, 2], weights=[3, 2])[0]
    grouped = n_ops == 2 and rng.random() < 0.3  # (a+b)*c: brackets that change the value
    ops = [rng.choice("+-"), rng.choice("*/")] if grouped else [rng.choice("+-*/") for _ in range(n_ops)]
    xs = operands_for(rng, ops)
    style = rng.random()
    if grouped:
        expression = f"({xs[0]}{ops[0]}{xs[1]}){ops[1]}{xs[2]}"
        if rng.random() < 0.4:
            return expression, rng.choice([expression, gen_data.pretty(expression)]), "grouped-symbols"
        first = rng.choice(GROUP_FIRST[ops[0]]).format(a=xs[0], b=xs[1])
        second = rng.choice(GROUP_SECOND[ops[1]]).format(c=xs[2])
        return expression, rng.choice(GROUP_JOIN).format(first=first, second=second), "grouped-words"
    expression = xs[0] + "".join(op + x for op, x in zip(ops, xs[1:]))
    if style < 0.35:
        return expression, rng.choice([expression, gen_data.pretty(expression)]), f"symbols{n_ops + 1}"
    if n_ops == 2 and ops[0] == ops[1] and ops[0] in "+*" and rng.random() < 0.5:
        noun = "sum" if ops[0] == "+" else "product"
        return expression, f"the {noun} of {xs[0]}, {xs[1]} and {xs[2]}", "words3-list"
    words = [xs[0]]
    for op, x in zip(ops, xs[1:]):
        words += [rng.choice(SYMBOL_WORDS[op]), x]
    return expression, " ".join(words), f"words{n_ops + 1}"


def calc_reference(rng, kind, user, expression, tag):
    result = calc(expression)
    if result.startswith("error"):
        answer, expect = rng.choice(gen_data.ANSWER_CALC_ERROR).format(pretty=gen_data.pretty(expression)), None
    else:
        answer = rng.choice(gen_data.ANSWER_CALC).format(pretty=gen_data.pretty(expression), r=result)
        expect = result
    return {"kind": kind, "tag": tag, "user": user, "call": {"name": "calc", "arguments": {"expression": expression}},
            "tool_output": result, "answer": answer, "expect_in_answer": expect}


def calc_turn(rng):
    if rng.random() < 0.02:
        a = operand(rng)
        expression, spoken, tag = f"{a}/0", rng.choice([f"{a}/0", f"{a} / 0", f"{a} divided by 0"]), "div-zero"
    else:
        expression, spoken, tag = expression_turn_parts(rng)
    return calc_reference(rng, "calc", rng.choice(CALC_FRAMES).format(e=spoken), expression, tag)


def followup_turn(rng, previous):
    prev = previous["tool_output"]
    if rng.random() < 0.5:
        op = rng.choice("+-*/")
        n = rng.choice(DIVISORS) if op == "/" else str(rng.randint(1, 999))
        user = rng.choice(FOLLOWUP_OP_FRAMES).format(o=rng.choice(FOLLOWUP_OP_WORDS[op]), n=n)
        tag = "op-word"
    else:
        frame, op = rng.choice(FOLLOWUP_VERB_FRAMES)
        if len(op) == 2:
            op, n = op[0], op[1]
        else:
            n = rng.choice(DIVISORS) if op == "/" else str(rng.randint(1, 999))
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


def fixture_files(rng):
    """path -> text for every file of files/, with the tag of its stem."""
    files, tags = {}, {}
    for stems, tag in ((NEW_STEMS, "new-stem"), (SEEN_STEMS, "seen-stem")):
        for stem in stems:
            for variant in range(2):
                name = stem if variant == 0 else stem + rng.choice(["_", "-", ""]) + str(rng.randint(2, 2031))
                path = (rng.choice(DIRS) if rng.random() < 0.3 else "") + name + rng.choice(EXTS)
                files[path] = rng.choice(FILE_TEXTS).format(
                    day=rng.choice(WEEKDAYS), h=rng.randint(1, 12), thing=rng.choice(THINGS),
                    person=rng.choice(PEOPLE), num=rng.randint(100, 999), place=rng.choice(PLACES),
                    hh=f"{rng.randint(6, 22):02d}", mm=f"{rng.randint(0, 11) * 5:02d}", small=rng.randint(2, 9))
                tags[path] = tag
    return files, tags


def read_turn(rng, fixture, fixture_tags, seen):
    if rng.random() < 0.08:
        path, tag = rng.choice(MISSING_STEMS) + rng.choice(EXTS), "missing"
        output = f"error: no such file: {path}"
        answer, expect = rng.choice(gen_data.ANSWER_READ_MISSING).format(p=path), None
    else:
        path = rng.choice(sorted(fixture))
        tag, output = fixture_tags[path], fixture[path]
        seen[path] = output
        answer, expect = rng.choice(gen_data.ANSWER_READ).format(p=path, c=output), output
    return {"kind": "read_file", "tag": tag, "user": rng.choice(READ_FRAMES).format(p=path),
            "call": {"name": "read_file", "arguments": {"path": path}}, "tool_output": output, "answer": answer,
            "expect_in_answer": expect}


def smalltalk_turn(rng):
    tag = rng.choice(sorted(SMALLTALK) + ["facts"])
    if tag == "facts":
        user, answer = rng.choice(FACT_QUESTIONS)
    else:
        users, answers = SMALLTALK[tag]
        user, answer = rng.choice(users), rng.choice(answers)
    return {"kind": "smalltalk", "tag": tag, "user": user, "call": None, "tool_output": None,
            "answer": answer, "expect_in_answer": None}


def random_now(rng):
    return (f"{rng.randint(2025, 2031)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z")


def dialogue(rng, index, fixture, fixture_tags):
    now_utc = random_now(rng)
    files, turns = {}, []
    for _ in range(rng.choices([1, 2, 3, 4], weights=[3, 3, 2, 2])[0]):
        last = turns[-1] if turns else None
        can_follow = last is not None and last["kind"] in ("calc", "calc_followup") and last["expect_in_answer"]
        kinds = ["calc", "now", "read_file", "smalltalk"] + (["calc_followup", "recall"] if can_follow else [])
        weights = [4, 2, 3, 4] + ([8, 4] if can_follow else [])
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
            turns.append(read_turn(rng, fixture, fixture_tags, files))
        else:
            turns.append(smalltalk_turn(rng))
    system = rng.choice(SYSTEMS) if rng.random() < 0.4 else None
    for t in turns:  # the reference tool outputs are what tools.py gives for this dialogue
        if t["call"]:
            assert run_tool(t["call"]["name"], t["call"]["arguments"], now_utc, files) == t["tool_output"], t
    return {"id": f"{SPLIT}-{index:06d}", "split": SPLIT, "system": system, "now": now_utc, "files": files,
            "turns": turns}


def generate(seed, n):
    """(dialogues, fixture files). The fixture comes from its own stream so that n does not change it."""
    fixture, tags = fixture_files(random.Random(f"ree-sample-{SPLIT}-files-{seed}"))
    rng = random.Random(f"ree-sample-{SPLIT}-{seed}")
    return [dialogue(rng, i, fixture, tags) for i in range(n)], fixture


def write_fixture(files_dir, fixture):
    for path, text in sorted(fixture.items()):
        full = os.path.join(files_dir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)  # no trailing newline: read_file returns exactly this


# ---------------------------------------------------------------- overlap with the other pools
def normalized(text):
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def slot_regex(frame):
    """A frame with {x} slots as a case-insensitive regex body, slots matching anything."""
    parts = re.split(r"\{[a-z]+\}", frame)
    return ".+".join(re.escape(p) for p in parts)


SLOT_MARKS = {"e": "\x01E", "p": "\x01P", "o": "\x01O", "n": "\x01N"}


def with_marks(frame):
    """A frame with its {e}/{p}/{o}/{n} slots replaced by marker strings (other slots,
    the numbers of train statements, by digits)."""
    out = frame
    for slot, mark in SLOT_MARKS.items():
        out = out.replace("{" + slot + "}", mark)
    return re.sub(r"\{[a-z]\}", "7", out)


def train_cores():
    import train_phrasing as tp
    return (tp.CALC_CORES + tp.FOLLOWUP_CORES + [c for c, _ in tp.FOLLOWUP_VERBS] + tp.RECALL_CORES
            + tp.NOW_CORES + tp.READ_CORES + tp.NUMBER_STATEMENTS
            + [c for cores, _ in tp.SMALLTALK_CORES.values() for c in cores]
            + [q for qs, _ in tp.EXTRA_FACTS for q in qs] + [f[0].rstrip("?").lower() for f in gen_data.FACTS])


def train_shape_regex(cores):
    """What train_phrasing.compose() can make of any of `cores`, slots kept as markers:
    [opener] [1-3 filler words + ' ' or ', '] core [' ' or ', ' + 1-3 filler words]
    [closer], any casing. A holdout2 frame (with the same markers) that it matches in
    full is one the train generator could have produced with the same slot value."""
    import train_phrasing as tp
    alt = lambda items: "(?:" + "|".join(re.escape(i) for i in sorted(items, key=len, reverse=True)) + ")"
    filler = alt(tp.FILLERS)
    fillers = filler + "(?: " + filler + "){0,2}"
    core = alt(with_marks(c) for c in cores)
    return re.compile(alt(tp.OPENERS) + "?" + "(?:" + fillers + "(?: |, ))?" + core
                      + "(?:(?: |, )" + fillers + ")?" + alt(tp.CLOSERS) + "?", re.IGNORECASE)


def train_shaped(frames):
    """[(frame, train core)] for the frames train_shape_regex matches."""
    cores = train_cores()
    rx = train_shape_regex(cores)
    hits = []
    for f in frames:
        if rx.fullmatch(with_marks(f)):  # which core: only for the (rare) hits, one regex per core
            hits += [(f, c) for c in cores if train_shape_regex([c]).fullmatch(with_marks(f))]
    return hits


def my_frames():
    return (CALC_FRAMES + FOLLOWUP_OP_FRAMES + [f for f, _ in FOLLOWUP_VERB_FRAMES] + RECALL_FRAMES + NOW_FRAMES
            + READ_FRAMES + [u for users, _ in SMALLTALK.values() for u in users] + [q for q, _ in FACT_QUESTIONS])


def eval_frames():
    return (gen_data.CALC_FRAMES["eval"] + [f for f, _ in gen_data.FOLLOWUP_FRAMES["eval"]]
            + [f for f, _ in gen_data.FOLLOWUP_VERBS["eval"]] + gen_data.RECALL_FRAMES["eval"]
            + gen_data.NOW_FRAMES["eval"] + gen_data.READ_FRAMES["eval"]
            + [q for c in gen_data.SMALLTALK.values() for q in c[1]] + [f[1] for f in gen_data.FACTS])


def overlap_report(dialogues, train_sample=20000):
    """How much of holdout2 the other generators could produce:
    - frames_matching_train_messages: holdout2 frames that some sampled train user
      message (gen_data train split, seed 11) matches in full;
    - frames_train_shaped: holdout2 frames that compose() could make of a train core
      with the same slot values (train_shape_regex);
    - frame_words_never_in_train_phrasings: words (3+ letters) of holdout2 frames that no
      train core, filler, opener or closer uses (new vocabulary, as opposed to new frames);
    - messages_equal_*: holdout2 user messages equal, after lowercasing and dropping
      punctuation, to a sampled train message or to an eval message (data/eval.jsonl);
    - frames_equal_eval / eval_frames_matching_holdout2: shared frames with the eval pool;
    - new_stems_in_train_words: held-out file stems found among the train path words."""
    import train_phrasing as tp
    users = [t["user"] for d in dialogues for t in d["turns"]]
    train_users = [t["user"] for d in gen_data.generate(11, train_sample, "train") for t in d["turns"]]
    with open(os.path.join(MODEL_DIR, "data", "eval.jsonl"), encoding="utf-8") as f:
        eval_users = [t["user"] for line in f if line.strip() for t in json.loads(line)["turns"]]
    train_norm, eval_norm = {normalized(u) for u in train_users}, {normalized(u) for u in eval_users}
    frames = my_frames()
    frame_hits = tp.check_disjoint(train_users, frames)
    shaped = sorted({f"{f}  <- train core '{c}'" for f, c in train_shaped(frames)})
    train_words = {w for c in train_cores() for w in re.findall(r"[a-z]{3,}", c.lower())} | {
        w for w in tp.FILLERS + tp.OPENERS + tp.CLOSERS for w in re.findall(r"[a-z]{3,}", w.lower())}
    frame_words = {w for f in frames for w in re.findall(r"[a-z]{3,}", f.lower())}
    eq_train = sorted({u for u in users if normalized(u) in train_norm})
    eq_eval = sorted({u for u in users if normalized(u) in eval_norm})
    eval_rx = [(f, re.compile(slot_regex(f), re.IGNORECASE)) for f in eval_frames()]
    eval_hits = sorted({f for f, rx in eval_rx for u in users if rx.fullmatch(u)})
    corpus = set(tp.CORPUS_WORDS) | set(tp.STEM_WORDS) | set(tp.MORE_STEM_WORDS)
    return {
        "holdout2_frames": len(frames),
        "holdout2_user_messages": len(users),
        "train_messages_sampled": len(train_users),
        "frames_matching_train_messages": frame_hits,
        "frames_train_shaped": shaped,
        "frame_words": len(frame_words),
        "frame_words_never_in_train_phrasings": sorted(frame_words - train_words),
        "messages_equal_train_sample": {"n": sum(u in eq_train for u in users), "distinct": eq_train},
        "messages_equal_eval": {"n": sum(u in eq_eval for u in users), "distinct": eq_eval},
        "frames_equal_eval": sorted(set(frames) & set(eval_frames())),
        "eval_frames_matching_holdout2": eval_hits,
        "new_stems_in_train_words": sorted(s for s in NEW_STEMS if s in corpus),
        "seen_stems_in_train_words": sorted(s for s in SEEN_STEMS if s in corpus),
    }


def main():
    p = argparse.ArgumentParser(description="fresh test set (holdout2) for the ree sample model")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--n", type=int, default=DEFAULT_N)
    p.add_argument("--out", default=os.path.join(HERE, "holdout2.jsonl"))
    p.add_argument("--files-dir", default=os.path.join(HERE, "files"))
    p.add_argument("--check-overlap", action="store_true", help="print the overlap report instead of writing")
    p.add_argument("--report", help="with --check-overlap: also write the report to this JSON file")
    args = p.parse_args()
    dialogues, fixture = generate(args.seed, args.n)
    if args.check_overlap:
        report = overlap_report(dialogues)
        text = json.dumps(report, indent=1, ensure_ascii=False)
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
