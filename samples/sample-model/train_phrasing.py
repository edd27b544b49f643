"""User phrasings of the TRAIN split, built compositionally.

Why: a first model trained on ~10 fixed sentence frames per intent scored 100% on
those frames and 38% on the held-out frames (it learned where the expression sits
in a known frame instead of finding it). Here every user message is
    [opener] [filler words] core [filler words] [closer]
with random casing of the words around the slot, so the model has to find the
numbers, the path or the intent word wherever they are. None of this is used for
the eval split, whose frames stay in gen_data.py; check_disjoint() verifies that
no generated train message matches an eval frame.
"""
import re

OPENERS = ["Hey, ", "Hi, ", "Ok, ", "OK so ", "Hello! ", "Yo, ", "Alright, ", "Um, ", "Hmm, ", "Excuse me, ",
           "One more: ", "Next: ", "Another one: ", "Question: ", "Assistant, ", "Right, ", "So, ", "Well, ",
           "Listen, ", "Okay. ", "Please, ", "Sorry, ", "Hey assistant, ", "Also, ", "And ", "Btw, ", "Oh, ",
           "Wait, ", "New one. ", "Task: ", "Hey bot, ", "Dear assistant, ", "Right then, ", "Hello again. "]
CLOSERS = ["?", ".", "!", " please", ", please.", " for me", " thanks", " thx", " asap", " right away", " :)",
           " please?", ", thank you.", " if you can.", " real quick", ", ok?", " pls", " quickly.", "??", "...",
           " thank you!", " cheers", ", would you?", " if possible", " then", " then?", ", then?", " now then"]
FILLERS = ["really", "quickly", "honestly", "just", "actually", "maybe", "exactly", "basically", "kindly", "again",
           "also", "anyway", "perhaps", "seriously", "friend", "buddy", "bot", "mate", "dear", "sir", "ok", "hmm",
           "well", "um", "uh", "like", "yeah", "right", "cool", "great", "nice", "sorry", "wait", "listen",
           "look", "oh", "alright", "fine", "sure", "boss", "pal", "team", "folks", "simply", "literally",
           "totally", "super", "very", "quite", "truly", "definitely", "certainly", "surely", "probably", "hello", "yes", "please", "thanks", "the", "a", "of", "to", "and",
           "you", "me", "my", "it", "this", "that", "one", "thing", "stuff", "here", "there", "we", "they",
           "need", "want", "know", "think", "help", "question", "answer", "quick", "small", "big", "little",
           "good", "bad", "new", "old", "other", "some", "any", "all", "more", "most", "such", "only", "own",
           "same", "too", "can", "will", "should", "would", "could", "might", "must", "shall", "green",
           "blue", "red", "happy", "sad", "weird", "fun", "boring", "lovely", "awesome", "strange", "dog", "cat"]

CALC_CORES = [
    "what is {e}", "what's {e}", "whats {e}", "calculate {e}", "compute {e}", "work out {e}", "how much is {e}",
    "{e}", "{e} = ?", "{e} =", "solve {e}", "evaluate {e}", "find {e}", "what do you get for {e}",
    "tell me {e}", "i need {e}", "can you calculate {e}", "can you compute {e}", "please compute {e}",
    "what does {e} equal", "what does {e} come to", "give me {e}", "the value of {e}",
    "what's the value of {e}", "answer {e}", "do {e}", "can you do {e}", "calc {e}",
    "how much does {e} make", "what would {e} be", "i want to know {e}", "what's the answer to {e}",
    "work {e} out", "can you solve {e}", "crunch {e}", "what is the total of {e}", "{e} is what",
    "calculate this: {e}", "math: {e}", "how much would {e} be", "what comes out of {e}",
    "please work out {e}", "what do i get from {e}", "can you tell me {e}", "use calc for {e}",
    "i wonder what {e} is", "evaluate the expression {e}", "{e}, what is it",
]
FOLLOWUP_CORES = [  # {o}: operator word, {n}: number; the operand is the previous result
    "and {o} {n}", "now {o} {n}", "what about {o} {n}", "then {o} {n}", "take that {o} {n}", "that {o} {n}",
    "now that {o} {n}", "{o} {n}", "ok {o} {n}", "it {o} {n}", "the answer {o} {n}", "that answer {o} {n}",
    "now do it {o} {n}", "try {o} {n}", "what's that {o} {n}", "what is it {o} {n}", "and that {o} {n}",
    "how about {o} {n}", "same thing {o} {n}", "that number {o} {n}", "previous answer {o} {n}",
]
FOLLOWUP_OPS = {"+": ["plus", "+"], "-": ["minus", "-"], "*": ["times", "*", "multiplied by"],
                "/": ["divided by", "/"]}
FOLLOWUP_VERBS = [  # (core, operator) with {n}; "*2" etc. fix the number
    ("multiply that by {n}", "*"), ("multiply it by {n}", "*"), ("multiply the answer by {n}", "*"),
    ("multiply by {n}", "*"), ("times that by {n}", "*"), ("divide that by {n}", "/"),
    ("divide it by {n}", "/"), ("divide the answer by {n}", "/"), ("divide by {n}", "/"),
    ("add {n} to that", "+"), ("add {n} to it", "+"), ("add {n}", "+"), ("add {n} to the answer", "+"),
    ("increase it by {n}", "+"), ("increase that by {n}", "+"), ("subtract {n} from that", "-"),
    ("subtract {n}", "-"), ("subtract {n} from it", "-"), ("take away {n}", "-"), ("decrease it by {n}", "-"),
    ("reduce that by {n}", "-"), ("double it", "*2"), ("halve it", "/2"), ("halve that", "/2"),
    ("triple it", "*3"), ("triple that", "*3"),
]
RECALL_CORES = [
    "what did you just compute", "what was the last result", "what was that again", "remind me what you calculated",
    "what was the answer", "repeat the last result", "what was the result", "say the last answer again",
    "what did you get", "what was the previous calculation", "which number did you get", "repeat that",
    "tell me the last answer again", "what was that number", "what did the calculation give",
    "what did you calculate", "remind me of the last answer", "the last answer was what",
]
NOW_CORES = [
    "what time is it", "what's the time", "whats the time", "tell me the time", "tell me the current time",
    "current time", "the time", "time", "what is the current time", "what's the date", "what's the date today",
    "what day is it", "what day is it today", "what is today's date", "do you know the time",
    "do you know what time it is", "what hour is it", "what's the utc time", "what time is it in utc",
    "check the time", "give me the current date and time", "what's the time now", "date and time",
    "which day is today", "what does the clock say", "read the clock", "the current date", "what date is it",
    "utc time", "time in utc", "what's the current date and time", "can you tell me the time",
    "what's the current time", "what time is it right now", "tell me today's date", "today's date",
    "is it late", "what year is it", "what month is it", "clock", "time and date", "what's the hour",
]
READ_CORES = [
    "what does {p} say", "read {p}", "open {p}", "open {p} and tell me what it says", "can you read {p}",
    "show me {p}", "show me the contents of {p}", "what's in {p}", "what is in the file {p}", "cat {p}",
    "summarize {p}", "summarise the file {p}", "what is written in {p}", "tell me what {p} contains",
    "read the file {p}", "print {p}", "load {p}", "look inside {p}", "contents of {p}",
    "what's inside the file {p}", "display {p}", "open the file {p}", "read me {p}",
    "what does the file {p} say", "peek at {p}", "give me the text of {p}", "what's the content of {p}",
    "i want to read {p}", "check what {p} says", "use read_file on {p}", "the file {p}", "{p}",
    "what is {p} about", "can you open {p}", "please read {p}", "read out {p}", "quote {p}",
    "what's written in {p}", "look at {p}", "have a look at {p}", "summarize the contents of {p}",
    "what does {p} contain", "i'd like to see {p}", "inspect {p}",
]
BARE_READ_CORES = ["{p}"]  # only with an extension: a bare extensionless word would make any word look like a path
SMALLTALK_CORES = {  # category -> (cores, answers); the answers match gen_data.SMALLTALK's
    "greet": (["hi", "hello", "hey", "good morning", "good afternoon", "good night", "hi there",
               "hello assistant", "morning", "hiya", "hello again", "sup", "hey hey", "hi bot", "good day",
               "salutations", "hey folks", "hello friend", "welcome back", "nice to meet you"],
              ["Hello! How can I help you today?", "Hi! What can I do for you?"]),
    "howareyou": (["how are you", "how are you doing", "how's it going", "how are things", "how's your day",
                   "you ok", "how do you feel", "what's up", "how is life", "all good with you"],
                  ["I'm doing well, thanks! How can I help?"]),
    "thanks": (["thanks", "thank you", "thanks a lot", "great, thanks", "thx", "ty", "many thanks",
                "thanks so much", "perfect, thank you", "nice, thanks", "awesome", "cool, thanks",
                "that's great", "great job", "well done", "brilliant"],
               ["You're welcome!", "Glad I could help."]),
    "abilities": (["what can you do", "what tools do you have", "help", "what are your tools", "what do you do",
                   "list your tools", "what are your abilities", "how can you help me", "what can i ask you",
                   "which tools do you have", "what are you good at"],
                  ["I can do exact arithmetic with calc, tell the current UTC time with now, "
                   "and read short files with read_file."]),
    "identity": (["who are you", "what is your name", "what are you", "what's your name", "are you a robot",
                  "are you human", "who made you", "what kind of assistant are you", "describe yourself",
                  "say something about yourself", "what about you", "talk about yourself", "explain yourself",
                  "who am i talking to"],
                 ["I am the ree sample assistant, a small model that runs on a CPU."]),
    "bye": (["bye", "goodbye", "see you", "see ya", "later", "good bye", "i'm done", "that's all",
             "bye bye", "catch you later", "gotta go"],
            ["Goodbye!", "Bye! Have a nice day."]),
    "ack": (["ok", "okay", "cool", "nice", "sure", "yes", "alright", "got it", "i see", "makes sense",
             "fine", "great", "interesting", "wow"],
            ["Okay! Anything else I can do?", "Sure. Let me know if you need anything."]),
    "statement": (["i like pizza", "the weather is nice", "i'm tired", "i'm bored", "that's funny",
                   "my cat is asleep", "i love music", "i am learning to cook", "it is raining here",
                   "i had a long day", "my friend is visiting", "i am at the office", "the coffee is cold",
                   "i read the news today", "i love reading", "i am reading a good book", "the shop is open",
                   "i filed my report", "time flies", "i have no time today", "what a day", "good times",
                   "i opened the window", "reading is fun", "i wrote a letter", "the file cabinet is full",
                   "the evening was lovely", "the night is young", "it is early", "it is late"],
                  ["That's nice to hear!", "Nice! Let me know if you need anything."]),
}
NUMBER_STATEMENTS = [  # small talk with numbers but no calculation asked: {n}, {m} small integers
    "i have {n} cats", "my favourite number is {n}", "i slept {n} hours", "i turned {n} today",
    "we won {n} to {m}", "i walked {n} miles", "there are {n} people here", "i bought {n} apples",
    "my room number is {n}", "it took {n} minutes", "i scored {n} points", "my bus is number {n}",
    "i have {n} meetings today", "our team has {n} members", "i read {n} books this year",
    "my bus leaves at {n}", "the shop opens at {n}", "the movie starts at {n}", "my meeting is at {n}",
    "i woke up at {n}", "dinner is at {n}", "i worked {n} hours today", "i read {n} chapters",
    "i wrote {n} pages", "i opened {n} presents", "my train is late by {n} minutes", "i have {n} files to sort",
    "i was born in {y}", "i am {n} years old", "my phone has {n} percent battery", "i ran {n} miles",
]
NUMBER_ANSWERS = ["That's nice to hear!", "Nice! Let me know if you need anything."]
EXTRA_FACTS = [  # (questions, answer): train only, besides gen_data.FACTS
    (["what is the capital of germany", "capital of germany"], "The capital of Germany is Berlin."),
    (["what is the capital of spain", "capital of spain"], "The capital of Spain is Madrid."),
    (["what is the capital of canada", "capital of canada"], "The capital of Canada is Ottawa."),
    (["how many months are in a year", "months in a year"], "There are 12 months in a year."),
    (["how many hours are in a day", "hours in a day"], "There are 24 hours in a day."),
    (["what color is grass", "colour of grass"], "Grass is green."),
    (["what do cows drink", "what do cows like to drink"], "Cows drink water."),
    (["who painted the mona lisa", "mona lisa painter"], "The Mona Lisa was painted by Leonardo da Vinci."),
    (["what is the boiling point of water", "when does water boil"],
     "Water boils at 100 degrees Celsius at sea level."),
    (["how many continents are there", "number of continents"], "There are 7 continents."),
    (["what is the smallest planet", "smallest planet"], "Mercury is the smallest planet."),
    (["what language is spoken in brazil", "language of brazil"], "Portuguese is spoken in Brazil."),
    (["what is the tallest animal", "tallest animal"], "The giraffe is the tallest animal."),
    (["what gas do plants absorb", "which gas do plants take in"], "Plants absorb carbon dioxide."),
    (["how many seconds are in a minute", "seconds in a minute"], "There are 60 seconds in a minute."),
    (["how many days are in a year", "which number of days does a year have"], "A year has 365 days, or 366 in a leap year."),
    (["how long is a day", "how many hours does a day last"], "A day lasts 24 hours."),
    (["which animal barks", "what animal says woof"], "Dogs bark."),
    (["which ocean is the largest", "largest ocean"], "The Pacific is the largest ocean."),
    (["which metal is liquid at room temperature", "liquid metal"], "Mercury is liquid at room temperature."),
    (["which country has the most people", "most populous country"], "India has the most people."),
    (["which is the longest river", "longest river"], "The Nile is often called the longest river."),
    (["which bird cannot fly", "a bird that can't fly"], "The penguin is a bird that cannot fly."),
    (["what is the freezing point of water", "when does water freeze"], "Water freezes at 0 degrees Celsius."),
]
STEM_WORDS = ["notes", "todo", "readme", "report", "plan", "log", "draft", "summary", "ideas", "memo", "config",
              "list", "agenda", "diary", "status", "budget", "recipe", "letter", "data", "results", "invoice",
              "backup", "index", "main", "setup", "release", "roadmap", "meeting", "contacts", "passwords",
              "errors", "output", "input", "story", "poem", "chapter", "lesson", "homework", "essay", "review",
              "feedback", "travel", "shopping", "groceries", "packing", "birthday", "party", "guests", "menu",
              "workout", "goals", "habits", "expenses", "salary", "taxes", "rent", "garden", "plants", "music",
              "songs", "movies", "books", "quotes", "jokes", "recipes", "inventory2", "alpha", "beta", "gamma",
              "delta", "server", "client", "deploy", "build", "test", "debug", "trace", "events", "alerts"]
MORE_STEM_WORDS = ["module", "capsule", "rules", "journey", "natural", "signal", "personal", "outlet",
                   "outside", "mini", "change", "schema", "sketch", "scheme", "manual", "annual", "global",
                   "lines", "points", "items", "jobs", "chores", "errands", "minimum", "maximum", "total",
                   "history", "profile", "account", "address", "photos", "album", "playlist", "course",
                   "syllabus", "exam", "grades", "project", "proposal", "contract", "policy", "handbook",
                   "guide", "tutorial", "faq", "license", "authors", "credits", "version", "update", "patch",
                   "issue", "ticket", "bugs", "fixes", "metrics", "stats", "numbers", "figures", "table",
                   "sheet", "ledger", "receipt", "order", "delivery", "shipment", "stock", "prices", "quote",
                   "offer", "sales", "leads", "notes2", "draft1", "final", "copy", "old", "new", "temp",
                   "scratch", "misc", "random", "things", "stuff", "info", "details", "overview", "intro",
                   "weekly", "daily", "monthly", "yearly", "morning", "evening", "kitchen", "car", "house",
                   "pets", "dogs", "cats", "plants2", "weather", "forecast", "trip", "flight", "hotel"]
SYLLABLE_ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
                   "sch", "ch", "sh", "th", "tr", "pl", "cl", "br", "st", "gr", "fl", "qu", ""]
SYLLABLE_NUCLEI = ["a", "e", "i", "o", "u", "ou", "ea", "ai", "oo", "ie"]
SYLLABLE_CODAS = ["", "", "n", "l", "r", "s", "t", "d", "m", "x", "ng", "ck", "le", "nal", "ule", "tes"]
DIRS = ["docs/", "work/", "home/", "src/", "notes/", "data/", "tmp/", "projects/", "logs/", "archive/", "misc/"]
EXTS = [".txt", ".md", ".log", ".ini", ".csv", ".json", ".cfg", ".yaml", ".rst", ".text", ".conf", ".py"]


def compose(rng, core):
    """[opener] [fillers] core [fillers] [closer], casing varied outside the {slots}."""
    text = core
    if rng.random() < 0.12:
        text = " ".join(rng.choice(FILLERS) for _ in range(rng.randint(1, 3))) + rng.choice([" ", ", "]) + text
    if rng.random() < 0.35:
        text = rng.choice(OPENERS) + text
    if rng.random() < 0.12:
        text = text + rng.choice([" ", ", "]) + " ".join(rng.choice(FILLERS) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.55:
        text = text + rng.choice(CLOSERS)
    style = rng.random()
    if style < 0.2:
        text = text.lower()
    elif style < 0.85:
        text = text[:1].upper() + text[1:]
    return text


def calc(rng, spoken):
    return compose(rng, rng.choice(CALC_CORES)).format(e=spoken)


def followup(rng, number):
    """(user text, operator, operand) for an operation on the previous result."""
    if rng.random() < 0.5:
        op = rng.choice("+-*/")
        n = number(op)
        return compose(rng, rng.choice(FOLLOWUP_CORES)).format(o=rng.choice(FOLLOWUP_OPS[op]), n=n), op, n
    core, op = rng.choice(FOLLOWUP_VERBS)
    if len(op) == 2:
        op, n = op[0], op[1]
    else:
        n = number(op)
    return compose(rng, core).format(n=n), op, n


def recall(rng):
    return compose(rng, rng.choice(RECALL_CORES))


def now(rng):
    return compose(rng, rng.choice(NOW_CORES))


def read(rng, path):
    has_extension = "." in path.rsplit("/", 1)[-1]
    cores = READ_CORES if has_extension else [c for c in READ_CORES if c not in BARE_READ_CORES]
    return compose(rng, rng.choice(cores)).format(p=path)


def pseudo_word(rng):
    """English-looking nonsense ("schoulet", "trainal") so copying is learnt on real-looking pieces."""
    return "".join(rng.choice(SYLLABLE_ONSETS) + rng.choice(SYLLABLE_NUCLEI) + rng.choice(SYLLABLE_CODAS)
                   for _ in range(rng.randint(1, 3)))


def file_path(rng, held_out_stems=()):
    """Varied file names so that the model learns to copy, not to recall a list; none
    contains a held-out (eval) stem."""
    while True:
        path = _file_path(rng)
        if not any(stem in path.lower() for stem in held_out_stems):
            return path


def corpus_words():
    """Every word of 3+ letters that the train phrasings use: as file stems they teach
    the spelling of the tokens the model meets elsewhere (a path in JSON is split into
    other pieces than the same word after a space in the user's message)."""
    texts = (CALC_CORES + FOLLOWUP_CORES + RECALL_CORES + NOW_CORES + READ_CORES + FILLERS + NUMBER_STATEMENTS
             + [q for qs, _ in EXTRA_FACTS for q in qs] + [a for _, a in EXTRA_FACTS]
             + [c for cores, answers in SMALLTALK_CORES.values() for c in cores + answers])
    words = {w for t in texts for w in re.findall(r"[a-z]{3,}", t.lower())}
    return sorted(words | set(STEM_WORDS) | set(MORE_STEM_WORDS))


def _file_path(rng):
    words = CORPUS_WORDS
    kind = rng.random()
    if kind < 0.3:
        stem = rng.choice(words)
    elif kind < 0.55:
        stem = pseudo_word(rng)
    elif kind < 0.7:
        stem = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
    elif kind < 0.85:
        stem = rng.choice(words + [pseudo_word(rng)]) + rng.choice(["_", "-", ""]) + rng.choice(words)
    else:
        stem = rng.choice(words + [pseudo_word(rng)]) + rng.choice(["_", "-", ""]) + str(rng.randint(1, 2030))
    if rng.random() < 0.1:
        stem = stem.capitalize()
    if rng.random() < 0.2:
        stem = rng.choice(DIRS + [rng.choice(words) + "/"]) + stem
    return stem + ("" if rng.random() < 0.15 else rng.choice(EXTS))


def smalltalk(rng, facts):
    """(user text, answer) for a turn that needs no tool."""
    kind = rng.random()
    if kind < 0.2:
        question, _, answer = rng.choice(facts)
        return compose(rng, question.rstrip("?").lower()), answer
    if kind < 0.3:
        questions, answer = rng.choice(EXTRA_FACTS)
        return compose(rng, rng.choice(questions)), answer
    if kind < 0.42:
        core = rng.choice(NUMBER_STATEMENTS).format(n=rng.randint(1, 99), m=rng.randint(0, 9),
                                                    y=rng.randint(1950, 2015))
        return compose(rng, core), rng.choice(NUMBER_ANSWERS)
    cores, answers = SMALLTALK_CORES[rng.choice(sorted(SMALLTALK_CORES))]
    return compose(rng, rng.choice(cores)), rng.choice(answers)


def frame_regex(frame):
    """An eval frame as a case-insensitive full-match regex, slots matching anything."""
    parts = re.split(r"\{[a-z]\}", frame)
    return re.compile(".+".join(re.escape(p) for p in parts), re.IGNORECASE)


def check_disjoint(train_users, eval_frames):
    """Eval frames that some train user message matches in full (should be none)."""
    regexes = [(f, frame_regex(f)) for f in eval_frames]
    return sorted({f for f, rx in regexes for u in train_users if rx.fullmatch(u)})


CORPUS_WORDS = corpus_words()
