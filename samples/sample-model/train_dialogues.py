"""Train-split dialogues (v2) for the ree sample model, built compositionally.

    import train_dialogues; train_dialogues.generate(seed, n)   (gen_data.py --split train calls this)

Why v2: the v1 train data (train_phrasing.py) had ~50 core phrasings per intent and file
texts from 10 templates. On the fresh holdout2 set the model trained on it called the
right tool on 75% of turns, stated the result on 64%, and stayed quiet on 69.5% of small
talk; it never copied an unseen file text (0/135). The model had learnt phrasings and
texts by heart. Here:
  * every user message is composed from parts (a request head, an object, a tail, an
    optional lead-in sentence or trailing remark, typos, casing), so no sentence frame
    recurs often enough to be learnt as such;
  * arithmetic is said in many forms (symbols, operator words, "the sum of", "subtract a
    from b", grouped steps, "twice", "half of") with operands of 1-7 digits and 0-4
    decimal places, and divisions that do not terminate (the tool rounds to 10 places);
  * file names and file texts are random (train_text.py): the model must copy the path
    from the message into the call, and the tool's output into the answer, verbatim;
  * small talk comes from a large generator: greetings, thanks, statements with numbers
    and with the words a tool request would use (read, file, time, now, calculate),
    off-topic questions, single words, nonsense and emoji, none of which calls a tool.
The assistant's answers are few and regular (the style the model is taught); every
answer that reports a tool result contains it verbatim (file texts in double quotes,
which also makes the text's first word encode to the same pieces as in the tool
message). Nothing here is taken from the held-out sets' pools (test_scripts.py checks
that no held-out message is produced).
"""
import random

import train_text as tx
from tools import calc, run_tool

# ---------------------------------------------------------------- assistant answers
ANSWER_CALC = ["{pretty} = {r}.", "The result is {r}.", "{pretty} is {r}.", "That comes to {r}.", "It's {r}.",
               "The answer is {r}."]
ANSWER_CALC_ERROR = ["I can't divide by zero, so {pretty} has no result.",
                     "That doesn't work: {pretty} divides by zero."]
ANSWER_RECALL = ["I computed {pretty} = {r}.", "The last result was {r}, from {pretty}."]
ANSWER_NOW = ["It is {t}.", "The current time is {t} (UTC).", "It's {t} UTC right now."]
ANSWER_READ = ["The file {p} says: \"{c}\"", "{p} says: \"{c}\"", "It says: \"{c}\"", "{p} contains: \"{c}\""]
ANSWER_READ_MISSING = ["I could not read {p}: no such file.", "There is no file named {p}."]
ANSWERS = {
    "greet": ["Hello! How can I help you today?", "Hi! What can I do for you?"],
    "howareyou": ["I'm doing well, thanks! How can I help?"],
    "thanks": ["You're welcome!", "Glad I could help."],
    "abilities": ["I can do exact arithmetic with calc, tell the current UTC time with now, "
                  "and read short files with read_file."],
    "identity": ["I am the ree sample assistant, a small model that runs on a CPU."],
    "bye": ["Goodbye!", "Bye! Have a nice day."],
    "ack": ["Okay! Anything else I can do?", "Sure. Let me know if you need anything."],
    "statement": ["That's nice to hear!", "Nice! Let me know if you need anything."],
    "offtopic": ["I can't help with that. I can do exact arithmetic with calc, tell the current UTC time with "
                 "now, and read short files with read_file."],
}

# ---------------------------------------------------------------- pieces of user messages
LEADS = ["hey", "hi", "hello", "ok", "okay", "so", "well", "alright", "um", "oh", "listen",
         "question", "one more thing", "also", "and", "btw", "please", "sorry",
         "excuse me", "good morning", "assistant", "bot", "hey buddy", "ok so", "now", "another one",
         "new question", "one thing", "wait", "hi again", "thanks", "cool", "great"]
TAILS = ["please", "thanks", "thank you", "for me", "if you can", "real quick", "asap", "pls", "thx", "quickly",
         "right now", "when you get a chance", "ok", "if possible", "would you", "buddy", "mate", "my friend",
         "again", "as well", "too", "now", "for a second", "then", "then", "there"]
ENDS = ["?", "?", ".", "!", "", "", "...", " ?", "?!", " :-)", "."]
LEAD_SENTENCES = [  # a sentence before the request (statements that ask for nothing)
    "I'm at work.", "Long day today.", "I'm doing some planning.", "My kid asked me this.", "Just checking.",
    "This is for a report.", "I'm back.", "Sorry to bother you.", "I have a question.", "Need your help.",
    "I was wondering.", "It's for my homework.", "I'm cooking dinner.", "Random thought.", "Here's one.",
    "I'm on the train.", "Doing taxes.", "My boss wants this.", "Before I forget.", "Still there?",
]


TRAIL_SENTENCES = ["I need it for work.", "Thanks in advance.", "No rush.", "It's urgent.", "Just curious.",
                   "That would help a lot.", "Appreciated.", "I'll wait.", "Ta.", "Back in a minute."]


def compose(rng, core, typo_rate=0.04):
    """[lead-in] core [tail] [end], with casing and typos outside the {slots}."""
    text = core
    r = rng.random()
    if r < 0.3:
        text = rng.choice(LEADS) + rng.choice([", ", " ", ". ", "! ", ": "]) + text
    elif r < 0.38:
        text = rng.choice(LEAD_SENTENCES) + " " + text
    if rng.random() < 0.2:
        text += rng.choice([" ", ", "]) + rng.choice(TAILS)
    text += rng.choice(ENDS)
    if rng.random() < 0.06:
        text += " " + rng.choice(LEAD_SENTENCES + TRAIL_SENTENCES)
    return tx.recase(rng, tx.noisy(rng, text, typo_rate if rng.random() < 0.5 else 0.0))


def fill(template, **slots):
    out = template
    for key, value in slots.items():
        out = out.replace("{" + key + "}", value)
    return out


# ---------------------------------------------------------------- arithmetic
def operand(rng, allow_decimal=True):
    """Integers of 1-7 digits (mostly short) and decimals of 1-4 places."""
    if allow_decimal and rng.random() < 0.25:
        places = rng.choices([1, 2, 3, 4], weights=[5, 4, 2, 1])[0]
        whole = str(rng.choice([0, rng.randint(1, 9), rng.randint(10, 99), rng.randint(100, 9999), rng.randint(1, 99999)]))
        frac = str(rng.randint(1, 10 ** places - 1)).zfill(places).rstrip("0")
        return f"{whole}.{frac}"
    digits = rng.choices([1, 2, 3, 4, 5, 6, 7], weights=[6, 8, 6, 4, 2, 1, 1])[0]
    return str(rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1))


def pretty(expression):
    """'(12+3)*4' -> '(12 + 3) * 4': spaces around binary operators only."""
    out, prev = [], ""
    for ch in expression:
        binary = ch in "+-*/" and prev not in ("", "(", "+", "-", "*", "/")
        out.append(f" {ch} " if binary else ch)
        if ch != " ":
            prev = ch
    return "".join(out)


OP_WORDS = {"+": ["plus", "plus", "+", "+", "and", "added to"], "-": ["minus", "minus", "-", "-", "less"],
            "*": ["times", "times", "*", "*", "x", "multiplied by", "\u00d7"],
            "/": ["divided by", "divided by", "/", "/", "over", "\u00f7"]}


def say_symbols(rng, expression):
    """The expression as typed: compact or with spaces, sometimes x for * ."""
    text = rng.choice([expression, pretty(expression), pretty(expression)])
    if rng.random() < 0.1:
        text = text.replace("*", rng.choice(["x", "\u00d7"]))
    if rng.random() < 0.05:
        text = text.replace("/", "\u00f7")
    return text


def two_operand(rng, op, a, b):
    """(spoken, expression) for a op b."""
    e = f"{a}{op}{b}"
    r = rng.random()
    if r < 0.35:
        return say_symbols(rng, e), e
    if r < 0.7:
        word = rng.choice(OP_WORDS[op])
        if word == "and":
            return f"{a} and {b} added together", e
        if word == "added to":
            return f"{a} added to {b}", e
        return f"{a} {word} {b}", e
    forms = {
        "+": [f"the sum of {a} and {b}", f"add {a} and {b}", f"add {a} to {b}", f"{a} and {b} combined",
              f"the total of {a} and {b}", f"{a} more than {b}"],
        "-": [f"the difference between {a} and {b}", f"subtract {b} from {a}", f"take {b} away from {a}",
              f"{a} take away {b}", f"{b} less than {a}", f"take {b} from {a}", f"deduct {b} from {a}"],
        "*": [f"the product of {a} and {b}", f"multiply {a} by {b}", f"{a} multiplied with {b}",
              f"{a} lots of {b}", f"multiply {a} and {b}"],
        "/": [f"divide {a} by {b}", f"the quotient of {a} and {b}", f"{a} split into {b} parts",
              f"{a} shared between {b}", f"how many times {b} goes into {a}"],
    }[op]
    return rng.choice(forms), e


def three_flat(rng, ops, xs):
    e = xs[0] + ops[0] + xs[1] + ops[1] + xs[2]
    r = rng.random()
    if r < 0.35:
        return say_symbols(rng, e), e
    if ops[0] == ops[1] and ops[0] in "+*" and r < 0.55:
        noun = "sum" if ops[0] == "+" else "product"
        return rng.choice([f"the {noun} of {xs[0]}, {xs[1]} and {xs[2]}", f"the {noun} of {xs[0]}, {xs[1]}, and {xs[2]}",
                           f"{xs[0]}, {xs[1]} and {xs[2]} {'added' if ops[0] == '+' else 'multiplied'} together",
                           f"{'add' if ops[0] == '+' else 'multiply'} {xs[0]}, {xs[1]} and {xs[2]}"]), e
    words = [xs[0], rng.choice([w for w in OP_WORDS[ops[0]] if w not in ("and", "added to")]), xs[1],
             rng.choice([w for w in OP_WORDS[ops[1]] if w not in ("and", "added to")]), xs[2]]
    return " ".join(words), e


FIRST_STEP = {"+": ["{a} plus {b}", "add {a} and {b}", "add {a} to {b}", "the sum of {a} and {b}", "{a} + {b}"],
              "-": ["{a} minus {b}", "subtract {b} from {a}", "take {b} away from {a}", "{a} - {b}"],
              "*": ["{a} times {b}", "multiply {a} by {b}", "the product of {a} and {b}"],
              "/": ["{a} divided by {b}", "divide {a} by {b}"]}
SECOND_STEP = {"+": ["add {c}", "plus {c}", "add {c} to it", "add {c} to the result"],
               "-": ["subtract {c}", "minus {c}", "take away {c}", "subtract {c} from the result"],
               "*": ["multiply by {c}", "times {c}", "multiply the result by {c}", "multiply that by {c}"],
               "/": ["divide by {c}", "divided by {c}", "divide the result by {c}", "divide that by {c}"]}
JOINS = ["{first}, then {second}", "{first} and then {second}", "first {first}, then {second}",
         "{first}, after that {second}", "{first}, and {second}", "take {first} and {second}",
         "{first}, followed by: {second}", "{first}; {second}", "start with {first}, then {second}"]


def three_grouped(rng, ops, xs):
    """(a op0 b) op1 c, where the brackets matter."""
    a, b, c = xs
    e = f"({a}{ops[0]}{b}){ops[1]}{c}"
    r = rng.random()
    if r < 0.3:
        return say_symbols(rng, e), e
    if r < 0.42 and ops[1] in "*/":
        inner = {"+": f"the sum of {a} and {b}", "-": f"the difference between {a} and {b}"}.get(ops[0])
        if inner:
            word = rng.choice(["times", "multiplied by"]) if ops[1] == "*" else rng.choice(["divided by", "over"])
            return f"{inner} {word} {c}", e
    if r < 0.5 and ops[1] == "*":
        inner = {"+": f"{a} plus {b}", "-": f"{a} minus {b}"}.get(ops[0])
        if inner:
            return f"{c} times ({inner})", f"{c}*({a}{ops[0]}{b})"
    first = rng.choice(FIRST_STEP[ops[0]]).format(a=a, b=b)
    if first.startswith("add ") and " to " in first:  # "add a to b" means b + a
        e = f"({b}+{a}){ops[1]}{c}"
    second = rng.choice(SECOND_STEP[ops[1]]).format(c=c)
    return rng.choice(JOINS).format(first=first, second=second), e


def special(rng):
    """Doubling, halving, squaring, negative numbers."""
    a, b = operand(rng), operand(rng)
    return rng.choice([(f"twice {a}", f"2*{a}"), (f"double {a}", f"{a}*2"), (f"half of {a}", f"{a}/2"),
                       (f"{a} squared", f"{a}*{a}"), (f"triple {a}", f"{a}*3"), (f"{a} halved", f"{a}/2"),
                       (f"a third of {a}", f"{a}/3"), (f"negative {a} plus {b}", f"-{a}+{b}"),
                       (f"minus {a} times {b}", f"-{a}*{b}")])


def spoken_expression(rng):
    """(how the user says it, the expression calc gets)."""
    r = rng.random()
    if r < 0.05:
        return special(rng)
    ops_n = rng.choices([1, 2, 3], weights=[10, 6, 1])[0]
    if ops_n == 1:
        op = rng.choice("+-*/")
        return two_operand(rng, op, operand(rng), operand(rng))
    if ops_n == 2:
        ops = [rng.choice("+-*/") for _ in range(2)]
        xs = [operand(rng), operand(rng), operand(rng)]
        if rng.random() < 0.35:
            return three_grouped(rng, ops, xs)
        return three_flat(rng, ops, xs)
    ops = [rng.choice("+-*/") for _ in range(3)]
    xs = [operand(rng) for _ in range(4)]
    e = xs[0] + "".join(o + x for o, x in zip(ops, xs[1:]))
    if rng.random() < 0.5:
        return say_symbols(rng, e), e
    return " ".join([xs[0]] + [w for o, x in zip(ops, xs[1:])
                               for w in (rng.choice([w for w in OP_WORDS[o] if w not in ("and", "added to")]), x)]), e


CALC_HEADS = ["what is {e}", "what's {e}", "whats {e}", "how much is {e}", "calculate {e}", "compute {e}",
              "work out {e}", "figure out {e}", "evaluate {e}", "solve {e}", "tell me {e}", "give me {e}",
              "find {e}", "can you calculate {e}", "could you compute {e}", "please work out {e}", "i need {e}",
              "do you know {e}", "what do you get for {e}", "what does {e} equal", "what does {e} make",
              "what does {e} come to", "what's the value of {e}", "what's the result of {e}", 
              "{e}", "{e}", "{e} =", "{e} = ?", "{e} is what", "{e} equals what", "quick math: {e}", "math: {e}",
              "help me with {e}", "can you do {e}", "do {e}", "how much do i get from {e}", "what comes out of {e}",
              "tell me what {e} is", "what would {e} be", "crunch {e}", "use calc for {e}",
              "check {e} for me", "what is the answer to {e}", "could you tell me {e}", "can you work out {e}",
              "need {e}", "{e} please", "how much would {e} be", "{e}, what's that",
              "i'm trying to work out {e}", "what's {e} come to", "the answer to {e}", "can i get {e}",
              "calculate this: {e}", "what is the total of {e}", "get me {e}", 
              "figure this: {e}", "compute this for me: {e}", "so {e} is how much", 
              "find the value of {e}", "is {e} big", "how big is {e}"]


def calc_user(rng, spoken):
    return fill(compose(rng, rng.choice(CALC_HEADS)), e=spoken)


# ---------------------------------------------------------------- follow-ups on the previous result
REFS = ["that", "it", "the result", "the answer", "this", "that number", "the total", "what you got", "your answer",
        "the last result", "this number", "that result", "the number"]
FOLLOW_FORMS = {  # {r}: reference to the previous result, {n}: the new operand
    "+": ["plus {n}", "and plus {n}", "add {n}", "add {n} to {r}", "{r} plus {n}", "increase {r} by {n}",
          "{n} more", "and {n} more", "now add {n}", "what if you add {n}", "put {n} on top",
          "+ {n}", "{r} + {n}"],
    "-": ["minus {n}", "subtract {n}", "subtract {n} from {r}", "{r} minus {n}", "take away {n}", "take {n} off",
          "take {n} off {r}", "decrease {r} by {n}", "reduce {r} by {n}", "knock {n} off", "{n} less",
          "- {n}", "{r} - {n}", "take {n} away from {r}"],
    "*": ["times {n}", "multiply {r} by {n}", "multiply by {n}", "{r} times {n}", "{r} multiplied by {n}",
          "* {n}", "x {n}", "{r} * {n}", "now times {n}", "multiply it by {n}"],
    "/": ["divided by {n}", "divide {r} by {n}", "divide by {n}", "{r} divided by {n}", "{r} over {n}",
          "/ {n}", "{r} / {n}", "split {r} into {n} parts", "share {r} between {n}"],
}
FOLLOW_FIXED = [("double {r}", "*", "2"), ("halve {r}", "/", "2"), ("cut {r} in half", "/", "2"),
                ("triple {r}", "*", "3"), ("{r} doubled", "*", "2"), ("{r} halved", "/", "2"),
                ("half of {r}", "/", "2"), ("twice {r}", "*", "2"), ("divide {r} in two", "/", "2"),
                ("{r} squared", "*", None), ("square {r}", "*", None), ("a third of {r}", "/", "3"),
                ("quarter {r}", "/", "4"), ("ten times {r}", "*", "10")]
FOLLOW_LEADS = ["and", "now", "then", "ok", "okay", "and then", "what about", "how about", "what if we",
                "what's", "what is", "so", "alright", "great", "cool", "fine", "good", "now please", "and now",
                "can you", "could you", "please"]


def followup_user(rng, prev):
    """(user text, expression) for an operation on the previous result `prev`."""
    if rng.random() < 0.2:
        form, op, n = rng.choice(FOLLOW_FIXED)
        n = prev if n is None else n
    else:
        op = rng.choice("+-*/")
        form = rng.choice(FOLLOW_FORMS[op])
        n = operand(rng, allow_decimal=rng.random() < 0.3)
        if op == "/" and n in ("0",):
            n = "7"
    core = form.replace("{r}", rng.choice(REFS))
    if rng.random() < 0.45:
        core = rng.choice(FOLLOW_LEADS) + " " + core
    return fill(compose(rng, core), n=n), f"{prev}{op}{n}"


# ---------------------------------------------------------------- recall of the previous result
RECALL_HEADS = ["what was", "repeat", "say again", "remind me of", "tell me again", "what did you say was",
                "can you repeat", "could you say", "one more time,", "i missed", "what's",
                "give me", "what was that,", "remind me:"]
RECALL_OBJECTS = ["the result", "the answer", "that number", "the last result", "the total", 
                  "what you computed", "what you calculated", "the last answer", "that result", "the number you got",
                  "the calculation", "your answer", "what it came to", "the last number", "that"]
RECALL_WHOLE = ["what did you just compute", "what did you get", "what was that again", "what did it come to",
                "repeat that", "say that again", "come again", "what was it", "which number was it",
                "what did the calculation give", "what was the outcome", "wait, what was the answer",
                "what did you calculate", "what number did you get", "what did you end up with", "what was the figure",
                "what number came out", "how much was it", "what was the final number", "what did that give",
                "which result did you get", "remind me what it was", "what was your result", "tell me the number again"]


def recall_user(rng):
    if rng.random() < 0.35:
        return compose(rng, rng.choice(RECALL_WHOLE))
    return compose(rng, rng.choice(RECALL_HEADS) + " " + rng.choice(RECALL_OBJECTS) + rng.choice(["", " again", ""]))


# ---------------------------------------------------------------- now
NOW_HEADS = ["what is", "what's", "tell me", "give me", "do you know", "can you tell me", "check", 
             "could you look up", "show me", "get me", "need", "may i have",
             "let me know", "look up", "what's the", "please give me", "can i get"]
NOW_OBJECTS = ["the time", "the current time", "the date", "the time and date",
               "the current date and time", "the date and time", "the hour", "the time in utc", "the utc time",
               "what time it is", "what day it is", "what the date is", "the clock", 
               "the current timestamp", "the day", "the current date", "today's date and time",
               "what year it is", "the time right now", "the month"]
NOW_TAILS = ["", "", "", " right now", " now", " at the moment", " currently", " today", " please", " in utc",
             " for me", " at this moment"]
NOW_WHOLE = ["what time is it", "what's the time", "time?", "time", "the time", "what day is it", "what day is today",
             "what date is it", "date?", "clock?", "is it late", 
             "what year is it", "what month is it", "current time", "utc time", "what time is it now",
             "time please", "date and time", "which day is it", "what's the date", "timestamp", "now?",
             "what hour is it", "what o'clock is it", "when is it now", "what's the time now"]


def now_user(rng):
    if rng.random() < 0.35:
        return compose(rng, rng.choice(NOW_WHOLE))
    return compose(rng, rng.choice(NOW_HEADS) + " " + rng.choice(NOW_OBJECTS) + rng.choice(NOW_TAILS))


# ---------------------------------------------------------------- read_file
READ_HEADS = ["read {f}", "open {f}", "show me {f}", "show {f}", "cat {f}", "print {f}", "display {f}", "load {f}",
              "what's in {f}", "what is in {f}", "what does {f} say", "what does {f} contain", "contents of {f}",
              "look at {f}", "check {f}", "what's written in {f}", "summarize {f}",
              "fetch {f}", "pull up {f}", "get {f}", "view {f}", "can you read {f}", "read me {f}",
              "read out {f}", "give me the contents of {f}", 
              "what's inside {f}", "can you open {f}", "could you read {f}", "please read {f}",
              "tell me what's in {f}", "quote {f}", "peek at {f}",
              "have a look at {f}", "read through {f}", "go through {f}", "inspect {f}", "i want to see {f}",
              "what's the text of {f}", "{f}", "{f} please", "what does it say in {f}", "let me see {f}",
              "open up {f}", "check what's in {f}", "look inside {f}", "read {f} aloud", "read {f} to me",
              "use read_file on {f}", "dump {f}", "show the contents of {f}", "what is {f} about", "{f}?",
              "scan {f}", "skim {f}", "read back {f}", "can i see {f}", "what's {f} say",
              # words after the path: the path ends at the space (v1 glued them on: "schedule.log and")
              "open {f} and read it out", "look at {f} and summarize it", "check {f} and let me know what it says",
              "read {f} and quote it", "go over {f} and report back", "{f}: what's in it", "fetch {f} so i can see it",
              "open {f} and tell me the contents", "read {f} and tell me", "pull {f} up and read it",
              "load {f} and show me the text", "{f} - what does it say", "read {f} then summarise it",
              "glance at {f} and tell me what's there", "take {f} and read it back to me"]
FILE_REFS = ["{p}", "{p}", "{p}", "{p}", "the file {p}", "file {p}", "the document {p}",
             "{p} file", "the note {p}", "the text file {p}", "my notes in {p}"]
BARE_REFS = ["the file {p}", "the file called {p}", "the file named {p}", "file {p}", "a file called {p}",
             "the document named {p}"]


def read_user(rng, path, has_extension):
    """A request to read `path`. An extensionless name is always said to be a file:
    a bare word alone must never look like a path (small talk would trigger read_file)."""
    ref = rng.choice(FILE_REFS if has_extension else BARE_REFS)
    head = rng.choice(READ_HEADS)
    if head.startswith("{f}") and not has_extension:
        head = "read {f}"
    return fill(compose(rng, head.replace("{f}", ref)), p=path)


# ---------------------------------------------------------------- small talk
SMALLTALK = {  # kind -> list of cores (composed like every message)
    "greet": ["hi", "hello", "hey", "good morning", "good afternoon", "hi there", "hello there",
              "morning", "hiya", "sup", "hey hey", "hello again",
              "hi again", "good day", "welcome back", "nice to meet you", "hello assistant", "hi bot", "hey friend",
              "hello world", "ahoy", "hey you", "hello, anyone there", "g'day", "salut", "hola", "bonjour", "hallo",
              "heya", "hey, i'm back", "hi, it's me again"],
    "howareyou": ["how are you", "how are you doing", "how's it going", "how are things", "how's your day",
                  "you ok", "how do you feel", "what's up", "how is life", "all good with you", 
                  "how's everything", "how are you today", "how's your week", "you alright",
                  "how are things going", "everything ok with you", "how's life treating you", "what's new"],
    "thanks": ["thanks", "thank you", "thanks a lot", "great, thanks", "thx", "ty", "many thanks", "thanks so much",
               "perfect, thank you", "nice, thanks", "thank you kindly",
               "thanks a bunch", "you're the best", "that helps, thanks", "awesome, thanks", "great job",
               "well done", "brilliant", "you're a lifesaver", "thanks for the help", "that was helpful",
               "thanks, that's what i needed", "merci", "danke", "big thanks", "cheers mate"],
    "abilities": ["what can you do", "what tools do you have", "help", "what are your tools", "what do you do",
                  "list your tools", "what are your abilities", "how can you help me", "what can i ask you",
                  "which tools do you have", "what are you good at", "what are you able to do", "what do you know",
                  "can you help me", "what can you help with", "what kind of things can you do", "do you have tools",
                  "what features do you have", "what are you for", "what can i use you for", "any tools",
                  "can you search the internet", "can you send email", "can you remember things", "what else can you do"],
    "identity": ["who are you", "what is your name", "what are you", "what's your name", "are you a robot",
                 "are you human", "who made you", "what kind of assistant are you", "describe yourself",
                 "are you an ai", "are you a bot", 
                 "what model are you", "are you a person", "who am i talking to",
                 "are you real", "do you have a name", "what are you exactly", "are you smart"],
    "bye": ["bye", "goodbye", "see you", "see ya", "later", "good bye", "i'm done", "that's all", "bye bye",
            "catch you later", "gotta go", "good night", "take care", "farewell", "talk later",
            "cya", "i'm off", "until next time", "that's it for today", "have a good one", "ciao", "night"],
    "ack": ["ok", "okay", "cool", "nice", "sure", "yes", "no", "alright", "got it", "i see", "makes sense", "fine",
            "great", "wow", "understood", "fair enough", 
            "yep", "yeah", "nah", "ok then", "oh", "ah", "aha", "haha", "oops", "whatever", "good",
            "perfect", "exactly", "true", "indeed", "of course", "maybe", "really", "seriously", "huh", "what",
            "k", "kk", "mhm", "uh huh", "no problem", "all good", "never mind", "forget it", "not now"],
}
SUBJECTS = ["i", "my sister", "my brother", "my friend", "my boss", "we", "our team", "my dog", "my cat", "the kids",
            "my neighbour", "my mom", "my dad", "my partner", "the office", "my teacher", "our class", "everyone"]
STATEMENT_FORMS = [
    "{s} {v_past} {n} {thing} today", "{s} {v_past} a {word} yesterday", "{s} have {n} {thing}",
    "{s} love {thing}", "{s} went to the {word}", "{s} saw a {word} this morning", "it's {n} degrees outside",
    "the {word} is {adj}", "my {word} is {adj}", "i'm {adj} today", "i feel {adj}", "{s} turned {n} last week",
    "{s} got {n} points", "my flight boards at {n}", "the bus comes at {n}", "i live at number {n}",
    "there are {n} people here", "i walked {n} km", "my phone is at {n} percent", "i paid {n} dollars for a {word}",
    "the meeting took {n} minutes", "i waited {n} minutes", "i was born in {year}", "we moved here in {year}",
    "my room is {n}", "i'm on floor {n}", "i scored {n} out of {n2}", "{s} {v_past} the {word}",
    "the {word} was {adj} and {adj2}", "{n} {thing} are on the table", "i drank {n} cups of coffee",
]
TRAP_FORMS = [  # the words a tool request would use, in sentences that ask for nothing
    "i read a {adj} book about {thing}", "i love reading about {thing}", "i'll read it later", "reading is fun",
    "i have no time today", "time flies", "what a time to be alive", "we had a {adj} time", "next time i'll win",
    "last time was {adj}", "it's time for lunch", "time to go home", "i need more time", "i spent a lot of time on {thing}",
    "i have to file my taxes", "the file cabinet is full", "our file server crashed", "i filed a complaint",
    "i lost an important file at work", "the files are on my desk", "i keep my notes in a notebook",
    "right now i'm relaxing", "now that was {adj}", "i'm busy now", "now i'm hungry", "i calculated my budget yesterday",
    "my calculator is broken", "math was my {adj} subject", "i'm bad at math", "numbers are {adj}",
    "i opened the window", "i'll open the shop at {n}", "the clock on the wall is slow", "my watch stopped",
    "the date was {adj}", "we have a date on {day}", "today is a {adj} day", "tomorrow is {day}",
    "i wrote a note to {name}", "i printed {n} pages", "i have {n} files to sort", "i read {n} books this year",
    "my notes.txt is a mess", "i renamed the folder", "the document is {adj}", "i love {day}s",
]
OFFTOPIC_FORMS = [
    "what is the capital of {place}", "who wrote {thing}", "what's the weather like", "can you recommend a {word}",
    "how do i cook {thing}", "what should i eat", "tell me a story",
    "do you like {thing}", "what's your favourite {word}", "how tall is mount everest", "who won the game",
    "what does {word} mean", "how do you spell {word}", "where is {place}", "when was {name} born",
    "translate {word} to french", "write a poem about {thing}", "what is love", "is {word} a word",
    "how many legs does a {word} have", "what colour is a {word}", "who is {name}", "why do {thing} {v_present}",
    "can you sing", "do you dream", "what's the meaning of life", "is it going to rain", "should i buy a {word}",
    "which is better, {word} or {word2}", "how far is {place}", "what's the best {word}", "how do {thing} work",
]
ADJECTIVES = ["great", "nice", "long", "short", "busy", "quiet", "loud", "lovely", "boring", "fun", "strange", "cold",
              "warm", "hot", "tired", "happy", "sad", "new", "old", "big", "small", "easy", "hard", "weird", "calm",
              "green", "red", "blue", "bright", "dark", "fresh", "huge", "tiny", "crazy", "slow", "fast"]
VERBS_PAST = ["bought", "sold", "cooked", "found", "lost", "painted", "fixed", "cleaned", "built", "watched",
              "baked", "planted", "visited", "met", "called", "washed", "ate", "made", "saw", "wrote"]
VERBS_PRESENT = ["sleep", "fly", "grow", "sing", "swim", "glow", "change", "float", "fall", "move"]
PLACES = ["France", "Peru", "Kenya", "Norway", "Japan", "Chile", "Egypt", "Canada", "Vietnam", "Poland", "Ghana",
          "the moon", "Mars", "the city", "the beach", "the mountains"]


def word_slots(rng):
    thing = rng.choice(tx.WORDS) + rng.choice(["s", "s", ""])
    return {"s": rng.choice(SUBJECTS), "v_past": rng.choice(VERBS_PAST), "v_present": rng.choice(VERBS_PRESENT),
            "n": str(rng.choice([rng.randint(1, 12), rng.randint(1, 99), rng.randint(100, 2000)])),
            "n2": str(rng.randint(10, 100)), "thing": thing, "word": tx.any_word(rng), "word2": tx.any_word(rng),
            "adj": rng.choice(ADJECTIVES), "adj2": rng.choice(ADJECTIVES), "year": str(rng.randint(1940, 2025)),
            "day": rng.choice(tx.DAYS), "name": rng.choice(tx.NAMES), "place": rng.choice(PLACES)}


def odd_message(rng):
    """One word, nonsense, emoji, punctuation: no tool, a neutral answer."""
    r = rng.random()
    if r < 0.25:
        return rng.choice(tx.WORDS)
    if r < 0.4:
        return tx.pseudo_word(rng)
    if r < 0.5:
        return tx.letters(rng, 2, 8)
    if r < 0.62:
        return rng.choice(tx.EMOJI) * rng.randint(1, 3)
    if r < 0.7:
        return rng.choice(["?", "...", "!", "!!", "hm?", ":)", ":(", ";)", "<3", "+1", "-_-", "o_O", "^^"])
    if r < 0.8:
        return " ".join(tx.any_word(rng) for _ in range(rng.randint(2, 5)))
    if r < 0.9:
        return tx.random_sentence(rng, 2, 8)
    return rng.choice(tx.WORDS).capitalize() + rng.choice(["!", "?", ".", "..."])


def smalltalk(rng):
    """(user text, answer)."""
    r = rng.random()
    if r < 0.45:
        kind = rng.choice(sorted(SMALLTALK))
        core = rng.choice(SMALLTALK[kind])
        if kind == "ack" and rng.random() < 0.3:
            core = core + " " + rng.choice(["thanks", "i guess", "sure", "ok"])
        return compose(rng, core), rng.choice(ANSWERS[kind])
    if r < 0.6:
        return compose(rng, fill(rng.choice(STATEMENT_FORMS), **word_slots(rng))), rng.choice(ANSWERS["statement"])
    if r < 0.75:
        return compose(rng, fill(rng.choice(TRAP_FORMS), **word_slots(rng))), rng.choice(ANSWERS["statement"])
    if r < 0.87:
        return compose(rng, fill(rng.choice(OFFTOPIC_FORMS), **word_slots(rng))), ANSWERS["offtopic"][0]
    text = odd_message(rng)
    return text, rng.choice(ANSWERS["ack"])


# ---------------------------------------------------------------- system messages
SYSTEM_PARTS = ["You are a helpful assistant.", "You are the ree sample assistant.", "Tools: calc, now, read_file.",
                "You have tools: calc, now, read_file.", "Use tools when needed.", "Be concise.", "Answer briefly.",
                "Use calc for arithmetic, now for the time and read_file for files.", "Be friendly.",
                "Keep replies short.", "You can call calc, now and read_file.", "Reply in English."]


def system_message(rng):
    if rng.random() < 0.5:
        return None
    return " ".join(rng.sample(SYSTEM_PARTS, rng.randint(1, 3)))


# ---------------------------------------------------------------- turns and dialogues
def calc_turn_for(rng, kind, user, expression):
    result = calc(expression)
    if result.startswith("error"):
        answer = rng.choice(ANSWER_CALC_ERROR).format(pretty=pretty(expression))
        expect = None
    else:
        answer = rng.choice(ANSWER_CALC).format(pretty=pretty(expression), r=result)
        expect = result
    return {"kind": kind, "user": user, "call": {"name": "calc", "arguments": {"expression": expression}},
            "tool_output": result, "answer": answer, "expect_in_answer": expect}


def calc_turn(rng):
    if rng.random() < 0.02:
        a = operand(rng, False)
        spoken, expression = rng.choice([(f"{a}/0", f"{a}/0"), (f"{a} / 0", f"{a}/0"), (f"{a} divided by 0", f"{a}/0"),
                                          (f"divide {a} by 0", f"{a}/0"), (f"{a} over 0", f"{a}/0")])
    else:
        spoken, expression = spoken_expression(rng)
    if calc(expression) == "error: invalid expression":  # never teach a call that cannot run
        return calc_turn(rng)
    return calc_turn_for(rng, "calc", calc_user(rng, spoken), expression)


def followup_turn(rng, previous):
    user, expression = followup_user(rng, previous["tool_output"])
    return calc_turn_for(rng, "calc_followup", user, expression)


def recall_turn(rng, previous):
    expression, result = previous["call"]["arguments"]["expression"], previous["tool_output"]
    return {"kind": "recall", "user": recall_user(rng), "call": None, "tool_output": None,
            "answer": rng.choice(ANSWER_RECALL).format(pretty=pretty(expression), r=result), "expect_in_answer": result}


def now_turn(rng, now_utc):
    return {"kind": "now", "user": now_user(rng), "call": {"name": "now", "arguments": {}}, "tool_output": now_utc,
            "answer": rng.choice(ANSWER_NOW).format(t=now_utc), "expect_in_answer": now_utc}


def natural_text(rng):
    """A file text of natural sentences: what users write (requests, statements, small
    talk), so that copying is learnt on common words too, not only on rare ones (v1
    rewrote "The workshop starts at" into "The workshop FIs at"). A request inside a
    file is quoted, never executed."""
    pieces = []
    for _ in range(rng.choices([1, 2, 3], weights=[5, 3, 1])[0]):
        r = rng.random()
        if r < 0.3:
            pieces.append(fill(rng.choice(STATEMENT_FORMS + TRAP_FORMS), **word_slots(rng)))
        elif r < 0.45:
            pieces.append(fill(rng.choice(OFFTOPIC_FORMS), **word_slots(rng)) + "?")
        elif r < 0.6:
            pieces.append(calc_user(rng, spoken_expression(rng)[0]))
        elif r < 0.7:
            pieces.append(now_user(rng))
        elif r < 0.8:
            pieces.append(rng.choice(SMALLTALK[rng.choice(sorted(SMALLTALK))]))
        else:
            pieces.append(fill(rng.choice(NOTE_FORMS), **word_slots(rng), time=f"{rng.randint(1, 12)}:{rng.choice(['00', '15', '30', '45'])}",
                               item=rng.choice(tx.WORDS), item2=rng.choice(tx.WORDS), name2=rng.choice(tx.NAMES)))
    text = " ".join(p[:1].upper() + p[1:] + ("" if p[-1:] in ".?!" else ".") for p in pieces)
    return text


NOTE_FORMS = [  # everyday notes with verbs and function words
    "{name} comes on {day} at {time}", "the {word} starts at {time} in room {n}", "call {name} back before {day}",
    "remember to buy {item} and {item2}", "{name} is on call this {day}", "the train leaves at {time}",
    "pick up the {item} on the way home", "{name} owes {name2} {n} dollars", "meeting moved to {day}",
    "the door code is {n}", "lunch with {name} on {day}", "water the {item}s every {day}",
    "{name} brings the {item} on {day}", "the key is under the {item}", "send the {item} to {name} by {day}",
    "ask {name} about the {item}", "{n} boxes of {item} arrived", "the {item} is broken again",
    "do not forget the {item}", "{name} will be late on {day}", "book a table for {n} at {time}",
]


def read_turn(rng, files):
    has_extension = rng.random() < 0.92
    if files and rng.random() < 0.1:  # the same file again
        path = rng.choice(sorted(files))
        has_extension = "." in path.rsplit("/", 1)[-1]
    else:
        path = tx.file_path(rng, has_extension)
    missing = path not in files and rng.random() < 0.08
    if not missing:
        files.setdefault(path, natural_text(rng) if rng.random() < 0.35 else tx.file_content(rng))
    output = run_tool("read_file", {"path": path}, "", files)
    if missing:
        answer, expect = rng.choice(ANSWER_READ_MISSING).format(p=path), None
    else:
        shown = output[:-1] if output.endswith("\n") else output
        answer, expect = rng.choice(ANSWER_READ).format(p=path, c=shown), shown
    return {"kind": "read_file", "user": read_user(rng, path, has_extension),
            "call": {"name": "read_file", "arguments": {"path": path}}, "tool_output": output, "answer": answer,
            "expect_in_answer": expect}


def smalltalk_turn(rng):
    user, answer = smalltalk(rng)
    return {"kind": "smalltalk", "user": user, "call": None, "tool_output": None, "answer": answer,
            "expect_in_answer": None}


def random_now(rng):
    return (f"{rng.randint(1999, 2099)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z")


def dialogue(rng, index):
    now_utc = random_now(rng)
    files, turns = {}, []
    for _ in range(rng.choices([1, 2, 3, 4, 5], weights=[3, 3, 2, 2, 1])[0]):
        last = turns[-1] if turns else None
        last_calc = next((t for t in reversed(turns) if t["kind"] in ("calc", "calc_followup")), None)
        can_follow = last is not None and last is last_calc and last["expect_in_answer"] is not None
        can_recall = last_calc is not None and last_calc["expect_in_answer"] is not None
        kinds = ["calc", "now", "read_file", "smalltalk", "calc_followup", "recall"]
        weights = [6, 2.5, 4, 6, 8 if can_follow else 0, 3 if can_recall else 0]
        kind = rng.choices(kinds, weights=weights)[0]
        if kind == "calc":
            turns.append(calc_turn(rng))
        elif kind == "calc_followup":
            turns.append(followup_turn(rng, last))
        elif kind == "recall":
            turns.append(recall_turn(rng, last_calc))
        elif kind == "now":
            turns.append(now_turn(rng, now_utc))
        elif kind == "read_file":
            turns.append(read_turn(rng, files))
        else:
            turns.append(smalltalk_turn(rng))
    return {"id": f"train-{index:07d}", "split": "train", "system": system_message(rng), "now": now_utc,
            "files": files, "turns": turns}


def generate(seed, n, start=0):
    """Dialogues start..n-1 of the train split for `seed`. Each dialogue has its own
    random stream, so a range can be generated on its own (train.py splits the work
    over processes) and gives the same dialogues as the whole."""
    return [dialogue(random.Random(f"ree-sample-train-v2-{seed}-{i}"), i) for i in range(start, n)]
