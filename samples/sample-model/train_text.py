"""Random text for the train split (v2): words, names, file paths, file contents and
the noise put on user messages.

Why random: the v1 data drew file texts from 10 sentence templates and file names from
word lists, and the model learnt to recall them instead of copying: on unseen texts it
answered 0 of 135 read_file turns (holdout2). Here file texts are random words, random
sentences, codes, figures and lines, so the only way to answer is to copy the tool's
output; file names are random too, so the only way to call read_file right is to copy
the path from the user's message.

No word list of the held-out sets is used: HELD_OUT_WORDS (file stems of data/eval.jsonl,
holdout2 and holdout3) are removed from every pool here (checked by test_scripts.py).
"""
import re
import string

HELD_OUT_WORDS = {
    # data/eval.jsonl file stems
    "minutes", "tasks", "journal", "changelog", "outline", "schedule",
    # holdout2 new stems
    "roster", "itinerary", "glossary", "timeline", "wishlist", "recap", "handover", "backlog", "pantry",
    "workshop", "vacation", "warranty",
    # holdout3 stems
    "onboarding", "retro", "pinboard", "mileage", "allergies", "seedlings", "thesis", "reunion", "carpool",
    "ferry", "locker", "newsletter", "quarterly", "warehouse", "clinic", "rehearsal",
}

_WORDS = """
able about above accept account across act action active actor add address admit adult advice affect afraid
after again against age agent agree ahead air alarm album alert alive allow almost alone along already also
alter amount anchor angle animal ankle answer anyone apart apple april area argue arm army around arrive art
article artist aside ask asleep attack attempt august aunt author autumn avenue avoid awake award away baby
back bacon badge bag bake balance ball banana band bank bar barrel base basket bath battery beach bean bear
beard beat bed bee beef before begin behind bell belt bench berry best better bicycle bike bill bird birth
biscuit bit bitter black blade blanket blind block blood blue board boat body boil bold bolt bone bonus book
boot border borrow boss bottle bottom bowl box brain branch brave bread break breath brick bridge brief
bright bring broad brother brown brush bucket budget bug build bulb bunch burden burn bus bush busy butter
button buy cabin cable cake calm camera camp canal candle candy cannon canvas cap captain car carbon card
care carpet carrot carry cart case cash castle cat catch cause cave ceiling cell cellar cement center cereal
chain chair chalk chance change channel chapter charge chart cheap check cheese chef cherry chest chicken
chief child chimney chip choice chorus church cider circle city claim class clay clean clerk cliff climb
clock close cloth cloud clown club coach coast coat cocoa code coffee coin cold collar color column comb
comfort comic common company concert copper copy coral corn corner cost cotton couch count country couple
course court cousin cover cow crab crack craft crane crash cream credit crew cricket crop cross crowd crown
cruise crumb cup curtain curve cushion custom cycle daily dairy damage dance danger dark data date daughter
dawn day deal debt decade deck deep deer degree delay demand dentist depth desert design desk detail device
diamond diary diet dinner dirt dish doctor dog doll dollar dolphin door double dough dozen draft dragon drain
drama drawer dream dress drill drink drive drop drum duck dust duty eagle early earth east echo edge egg
elbow elder engine enough entry envelope equal error escape estate evening event exam exit expert export
fabric face factory fair faith family fan farm fashion father fault feather fee fence festival fever field
figure film final finger fire fish flag flame flat flavor fleet flight flood floor flour flower fluid flute
focus fog folder food foot forest fork form fortune fossil fox frame fresh friend frog front frost fruit
fuel fun fury future gallery game garage garden garlic gas gate gear gem ghost giant gift ginger girl glass
globe glove glue goal goat gold golf goose grain grape grass gravel gravy green grid grill grocery ground
group guard guest guide guitar habit hair half hall hammer hand harbor harvest hat hawk hazel head health
heart heat hedge height helmet herb hero hill history hobby hockey hole holiday honey hood hook horse host
hotel hour house hunger hurdle husband ice idea image inch index ink input insect invoice iron island item
jacket jar jazz jeans jelly jewel job joke judge juice jump jungle kettle key kid kidney king kitchen kite
kitten knee knife knot label ladder lake lamp land lane laptop laser lawn layer leader leaf lemon lens
lesson letter level library license light lily limit line linen lion lip liquid list liver lizard loan
lobster local lock lodge logic lunch machine magnet mail major mall mango manual map maple marble market
mask match meadow meal medal melon member memo menu mercy message metal method middle milk mill mind mint
mirror model moment money monkey month moon morning motor mountain mouse mouth movie mud muffin mug museum
music nail name napkin nature neck needle nephew nest net news niece night noise noodle north nose note
number nurse nut oak object ocean office oil olive onion opera orange orbit order organ oven owner oxygen
paddle page paint palace panel paper parade parcel parent park parrot party pass pasta path patio pattern
peach peanut pear pen pencil pepper piano picnic picture piece pig pillow pilot pine pipe pizza place
plane planet plant plate player plot plum pocket poem poet pond pony pool porch port post potato powder
power prize profit project proof pump pupil puppy puzzle quarter queen question quilt rabbit race radio
rail rain ramp range rate raven recipe record region rent report rescue result ribbon rice ride ring river
road robot rocket roof room root rope rose route rubber rule salad salt sample sand sauce scale scarf
school science score screen script sea season seat secret seed sense server shadow shape shelf shell shirt
shoe shop shore signal silk silver singer sister size skate skill sky sleeve slice slope smoke snack snake
snow soap sock sofa soil soldier song soup source space spark speech spider spoon sport spring square staff
stage stair stamp star station steam steel stem step stick stone storm story stove straw stream street
studio style sugar suit summer sun supper supply surface swamp sweater switch symbol syrup table tablet
tail tailor talent target taxi tea teacher team temple tennis tent test theory thread throat thunder ticket
tiger timber toast toe tomato tone tool tooth topic torch tower town toy track trade traffic trail train
tray treaty tree trip truck trumpet tunnel turkey turtle twin umbrella uncle union unit update valley value
van vase velvet verse vessel video village violin visit voice volume voyage wagon waiter wall wallet water
wave wealth weather wedding week weight whale wheat wheel whistle width wife willow window wine wing winter
wire wizard wolf wood wool worker world yard yarn year yellow yogurt zebra zone
alpha beta gamma delta notes todo readme plan log summary ideas config agenda status letter results backup
main setup release roadmap meeting contacts errors output draft homework essay review feedback travel
shopping groceries packing birthday guests workout goals expenses salary taxes songs movies books quotes
events alerts deploy build debug trace module sketch scheme annual global points items chores errands total
profile photos playlist syllabus grades proposal contract policy handbook tutorial faq authors credits
version patch issue fixes metrics stats figures sheet ledger receipt delivery shipment stock prices offer
sales leads temp scratch misc random things stuff info details overview intro weekly monthly yearly forecast
"""
_COMMON = """
home work docs shared personal private public old new final draft data files notes tmp archive projects
downloads desktop documents pictures music videos src lib bin etc var usr mnt backup reports logs config
team group family school office client server web app site mail inbox outbox drafts sent trash misc
time date today week month day hour minute second year start end next last first open close read write
"""
WORDS = sorted({w for w in (_WORDS + _COMMON).split() if w not in HELD_OUT_WORDS})

NAMES = ["Ada", "Alan", "Amara", "Ana", "Arjun", "Ben", "Bianca", "Boris", "Carlos", "Chen", "Chloe", "Dana",
         "Daniel", "Diego", "Elena", "Elif", "Emma", "Fatima", "Finn", "Grace", "Hana", "Hugo", "Ivy", "Jamal",
         "Jin", "Jonas", "Julia", "Kai", "Kamala", "Lars", "Leila", "Lena", "Luca", "Maya", "Mei", "Milo",
         "Nadia", "Noah", "Olga", "Omar", "Pablo", "Petra", "Quinn", "Rafael", "Rosa", "Sam", "Sara", "Soren",
         "Tariq", "Tess", "Uma", "Viktor", "Wen", "Yara", "Yusuf", "Zoe"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]
EXTENSIONS = [".txt", ".txt", ".txt", ".md", ".md", ".log", ".csv", ".json", ".yaml", ".yml", ".ini", ".cfg",
              ".conf", ".py", ".sh", ".rst", ".text", ".dat", ".tsv", ".xml", ".html", ".toml", ".out", ".list",
              ".note", ".bak", ".tmp", ".org", ".tex", ".c", ".js", ".env"]
SYLLABLE_ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
                   "sch", "ch", "sh", "th", "tr", "pl", "cl", "br", "st", "gr", "fl", "qu", "kr", "sn", ""]
SYLLABLE_NUCLEI = ["a", "e", "i", "o", "u", "ou", "ea", "ai", "oo", "ie", "y"]
SYLLABLE_CODAS = ["", "", "", "n", "l", "r", "s", "t", "d", "m", "x", "ng", "ck", "nd", "st", "rk", "sh"]
EMOJI = ["\U0001F600", "\U0001F642", "\U0001F44D", "\U0001F389", "\u2764\ufe0f", "\U0001F914", "\U0001F605",
         "\U0001F60A", "\U0001F64F", "\U0001F525", "\u2600\ufe0f", "\U0001F436", "\U0001F44B", "\U0001F622"]


def pseudo_word(rng):
    """English-looking nonsense ("schoulet", "trainal"): copied piece by piece."""
    return "".join(rng.choice(SYLLABLE_ONSETS) + rng.choice(SYLLABLE_NUCLEI) + rng.choice(SYLLABLE_CODAS)
                   for _ in range(rng.randint(1, 3))) or "zo"


def letters(rng, lo=2, hi=9, alphabet=string.ascii_lowercase):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def any_word(rng):
    """A word for names and texts: mostly real words, often nonsense."""
    r = rng.random()
    if r < 0.6:
        return rng.choice(WORDS)
    if r < 0.85:
        return pseudo_word(rng)
    return letters(rng)


def cased(rng, word):
    r = rng.random()
    return word.capitalize() if r < 0.15 else word.upper() if r < 0.2 else word


# ---------------------------------------------------------------- file paths
def file_stem(rng):
    r = rng.random()
    if r < 0.3:
        stem = any_word(rng)
    elif r < 0.55:
        stem = any_word(rng) + rng.choice(["_", "-", "", "."]) + any_word(rng)
    elif r < 0.7:
        stem = any_word(rng) + rng.choice(["_", "-", ""]) + str(rng.randint(0, 2099))
    elif r < 0.78:
        stem = f"{rng.randint(1990, 2035)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if rng.random() < 0.5:
            stem += rng.choice(["_", "-"]) + any_word(rng)
    elif r < 0.86:
        stem = any_word(rng) + any_word(rng).capitalize()  # camelCase
    elif r < 0.93:
        stem = letters(rng, 1, 12, string.ascii_lowercase + string.digits)
    else:
        stem = rng.choice(["README", "TODO", "NOTES", "LICENSE", "CHANGES", "INSTALL", "AUTHORS"]) if rng.random() < 0.3 \
            else any_word(rng).upper()
    return cased(rng, stem) if rng.random() < 0.15 else stem


def directory(rng):
    parts = [rng.choice([any_word(rng), any_word(rng), str(rng.randint(2000, 2035)), letters(rng, 1, 6)])
             for _ in range(rng.choices([1, 2, 3], weights=[6, 3, 1])[0])]
    return "/".join(parts) + "/"


def file_path(rng, with_extension=True):
    path = file_stem(rng)
    if with_extension:
        path += rng.choice(EXTENSIONS)
    if rng.random() < 0.25:
        path = directory(rng) + path
    if rng.random() < 0.03:
        path = "./" + path
    if any(w in path.lower() for w in HELD_OUT_WORDS):
        return file_path(rng, with_extension)
    return path


# ---------------------------------------------------------------- file contents
def number_text(rng):
    r = rng.random()
    if r < 0.5:
        return str(rng.randint(0, 10 ** rng.randint(1, 6)))
    if r < 0.75:
        return f"{rng.randint(0, 9999)}.{rng.randint(0, 99):02d}"
    if r < 0.9:
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    return f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.{rng.randint(1990, 2035)}"


def code_text(rng):
    r = rng.random()
    if r < 0.3:
        return letters(rng, 2, 4, string.ascii_uppercase) + rng.choice(["-", "", "/"]) + str(rng.randint(1, 99999))
    if r < 0.55:
        return letters(rng, 6, 14, string.ascii_letters + string.digits)
    if r < 0.75:
        return "".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(6, 16)))
    return "-".join(str(rng.randint(0, 99)).zfill(2) for _ in range(rng.randint(2, 4)))


def token(rng):
    r = rng.random()
    if r < 0.55:
        return any_word(rng)
    if r < 0.7:
        return number_text(rng)
    if r < 0.8:
        return rng.choice(NAMES)
    if r < 0.88:
        return code_text(rng)
    if r < 0.94:
        return rng.choice(DAYS + MONTH_NAMES)
    return cased(rng, any_word(rng))


def random_sentence(rng, lo=2, hi=12):
    words = [token(rng) for _ in range(rng.randint(lo, hi))]
    for i in range(1, len(words) - 1):
        if rng.random() < 0.08:
            words[i] += rng.choice([",", ";", ":", " -", ","])
    text = " ".join(words)
    return text[:1].upper() + text[1:] + rng.choice([".", ".", ".", "!", "?", "", "..."])


def key_values(rng):
    sep = rng.choice([", ", "; ", " | ", "\n"])
    pairs = [f"{any_word(rng)}{rng.choice([': ', '=', ' = ', ' '])}{token(rng)}" for _ in range(rng.randint(1, 4))]
    return sep.join(pairs)


def word_list(rng):
    items = [rng.choice([any_word(rng), any_word(rng) + " " + any_word(rng), rng.choice(NAMES), number_text(rng)])
             for _ in range(rng.randint(2, 6))]
    r = rng.random()
    if r < 0.4:
        return ", ".join(items)
    if r < 0.6:
        return "\n".join(items)
    if r < 0.8:
        return "\n".join("- " + i for i in items)
    return cased(rng, any_word(rng)) + ": " + ", ".join(items) + "."


def file_content(rng):
    """What read_file returns: at most a few lines, never empty, no leading space."""
    r = rng.random()
    if r < 0.4:
        text = random_sentence(rng)
    elif r < 0.55:
        text = random_sentence(rng, 2, 7) + " " + random_sentence(rng, 2, 7)
    elif r < 0.7:
        text = key_values(rng)
    elif r < 0.82:
        text = word_list(rng)
    elif r < 0.92:
        text = " ".join(code_text(rng) if rng.random() < 0.5 else number_text(rng) for _ in range(rng.randint(1, 4)))
    else:
        text = random_sentence(rng, 1, 4) + "\n" + random_sentence(rng, 1, 5)
    if rng.random() < 0.12:
        text += "\n"  # files written by editors and `echo` end with a newline; the answer drops it
    return text


# ---------------------------------------------------------------- noise on user text
def typo(rng, word):
    """One slip in a word of 4+ letters: a dropped, doubled or swapped letter."""
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randint(1, len(word) - 2)
    kind = rng.random()
    if kind < 0.35:
        return word[:i] + word[i + 1:]
    if kind < 0.65:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def noisy(rng, text, rate):
    """Typos on some words of `text` (never inside {slots})."""
    out = []
    for w in text.split(" "):
        out.append(typo(rng, w) if "{" not in w and rng.random() < rate else w)
    return " ".join(out)


def recase(rng, template):
    """One casing for the whole message (lower, upper, title or sentence case), applied
    outside the {slots} only: a path or a code keeps its case."""
    r = rng.random()
    if r < 0.22:
        change = str.lower
    elif r < 0.26:
        change = str.upper
    elif r < 0.3:
        change = lambda part: " ".join(w[:1].upper() + w[1:] for w in part.split(" "))  # noqa: E731
    else:
        return template[:1].upper() + template[1:] if not template.startswith("{") else template
    return "".join(p if re.fullmatch(r"\{[a-z]\}", p) else change(p) for p in re.split(r"(\{[a-z]\})", template))
