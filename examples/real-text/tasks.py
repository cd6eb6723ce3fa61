"""The eight classification tasks, built from text corpora that Debian packages ship.

Each task is a list of (text, class) pairs split into train / validation / test with a fixed seed,
plus one class description per class (what the frozen zero-shot head embeds). Writes
WORK/data/TASK.json. Sources (Debian packages, installed by run.sh):

  wn_noun        WordNet noun glosses -> lexicographer file (animal, plant, food, ...)   wordnet-base
  wn_verb        WordNet verb glosses -> lexicographer file (motion, emotion, ...)        wordnet-base
  gcide_field    GCIDE (Webster 1913) senses -> subject label (Zool., Bot., Law, ...)    dict-gcide
  foldoc_topic   FOLDOC computing definitions -> category (<language>, <hardware>, ...)  dict-foldoc
  fortune_topic  fortune cookies -> fortune file (computers, politics, food, ...)         fortunes
  fortune_lang   fortune cookies -> language (en, de, es, it, cs, pl, pt)                fortunes-XX
  emoji_group    Unicode emoji names -> emoji group (Smileys & Emotion, Objects, ...)    unicode-data
  debian_section Debian package short descriptions -> archive section                    apt's package lists

usage: python3 tasks.py WORK
"""

import gzip
import json
import random
import re
import subprocess
import sys
from pathlib import Path

SEED = 0
TEST, VALIDATION, TRAIN = 400, 100, 1000  # examples per task; train is capped
PER_CLASS = 600                           # cap per class before splitting, so no class dominates
MAX_CHARS = 300                           # texts are cut here (the model sees at most 64 tokens)


def clean(text):
    """One line of plain text: GCIDE/FOLDOC cross-reference braces dropped, whitespace collapsed."""
    text = re.sub(r"[{}]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_CHARS]


def wordnet(kind, classes):
    """Glosses of WordNet's data.KIND whose lexicographer file is a key of `classes`."""
    out = []
    for line in open(f"/usr/share/wordnet/data.{kind}", encoding="utf-8", errors="replace"):
        if line.startswith("  ") or "|" not in line:
            continue
        fields = line.split()
        lexfile = int(fields[1])
        if lexfile in classes:
            out.append((clean(line.split("|", 1)[1]), classes[lexfile]))
    return out


def dictd(name):
    """The text of a dictd database shipped as /usr/share/dictd/NAME.dict.dz (gzip-compatible)."""
    with gzip.open(f"/usr/share/dictd/{name}.dict.dz", "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def gcide(fields):
    """Senses of GCIDE that carry a subject label such as '(Zool.)', the label removed."""
    out = []
    pattern = re.compile(r"^\s+(?:\d+\.\s+)?\((" + "|".join(re.escape(f) for f in fields) + r")\)\s+(.*)$")
    lines = dictd("gcide").splitlines()
    for i, line in enumerate(lines):
        match = pattern.match(line)
        if not match:
            continue
        text = [match.group(2)]
        for following in lines[i + 1:i + 6]:
            if not following.strip() or re.match(r"^\s+\d+\.\s", following):
                break
            text.append(following)
        sense = clean(" ".join(text))
        sense = re.sub(r"\[[^\]]*\]", "", sense).strip()
        if len(sense) >= 15:
            out.append((sense, fields[match.group(1)]))
    return out


def foldoc(categories):
    """FOLDOC definitions tagged with one category such as '<hardware>': their first paragraph."""
    out = []
    lines = dictd("foldoc").splitlines()
    pattern = re.compile(r"^\s+<([a-z ]+)>\s+(.*)$")
    for i, line in enumerate(lines):
        match = pattern.match(line)
        if not match or match.group(1) not in categories:
            continue
        text = [match.group(2)]
        for following in lines[i + 1:i + 8]:
            if not following.strip():
                break
            text.append(following)
        out.append((clean(" ".join(text)), categories[match.group(1)]))
    return out


def fortunes(path):
    """The cookies of one fortune file (overstrike sequences removed)."""
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    text = re.sub(r".\x08", "", text)
    return [clean(c) for c in text.split("\n%\n") if len(c.strip()) >= 20]


def fortune_topics(files):
    out = []
    for name, label in files.items():
        out += [(c, label) for c in fortunes(f"/usr/share/games/fortunes/{name}")]
    return out


def fortune_languages(languages):
    """Cookies per language: every fortune file of a directory, or the files named."""
    out = []
    root = Path("/usr/share/games/fortunes")
    for label, where in languages.items():
        if isinstance(where, str):
            files = sorted(p for p in (root / where).iterdir()
                           if p.is_file() and p.suffix not in (".dat", ".u8") and not p.is_symlink())
        else:
            files = [root / name for name in where]
        for path in files:
            out += [(c, label) for c in fortunes(path)]
    return out


ENGLISH_FORTUNES = ["people", "computers", "politics", "work", "science", "men-women", "art", "wisdom",
                    "literature", "education", "food", "law", "love", "kids", "sports", "medicine"]


def emoji(groups):
    """Emoji names (fully qualified, no skin-tone variants) by their Unicode emoji group."""
    out, group = [], None
    for line in open("/usr/share/unicode/emoji/emoji-test.txt", encoding="utf-8"):
        if line.startswith("# group:"):
            group = line.split(":", 1)[1].strip()
        elif "; fully-qualified" in line and group in groups and "skin tone" not in line:
            name = re.sub(r"^E\d+\.\d+\s+", "", line.split("#", 1)[1].strip().split(" ", 1)[1])
            out.append((name, groups[group]))
    return out


def debian(sections):
    """Debian package short descriptions ('name: description') by archive section."""
    dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    out, seen = [], set()
    for stanza in dump.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", stanza, re.MULTILINE))
        section = fields.get("Section", "").split("/")[-1]
        if section in sections and "Description" in fields and fields.get("Package") not in seen:
            seen.add(fields["Package"])
            out.append((clean(f"{fields['Package']}: {fields['Description']}"), sections[section]))
    return out


def task(name, template, classes, pairs):
    """Labels the pairs with class indices, caps each class, shuffles and splits."""
    names = list(classes)
    rng = random.Random(f"{SEED}-{name}")
    by_class = {c: sorted({t for t, label in pairs if label == c}) for c in names}
    examples = []
    for index, c in enumerate(names):
        texts = by_class[c]
        rng.shuffle(texts)
        examples += [(t, index) for t in texts[:PER_CLASS]]
    rng.shuffle(examples)
    if len(examples) < TEST + VALIDATION + 200:
        raise SystemExit(f"{name}: only {len(examples)} examples; is its Debian package installed?")
    return {
        "name": name,
        "classes": [template.format(classes[c]) for c in names],
        "test": examples[:TEST],
        "validation": examples[TEST:TEST + VALIDATION],
        "train": examples[TEST + VALIDATION:TEST + VALIDATION + TRAIN],
    }


def all_tasks():
    wn_noun = {5: "noun.animal", 20: "noun.plant", 13: "noun.food", 6: "noun.artifact", 18: "noun.person",
               15: "noun.location", 8: "noun.body", 27: "noun.substance", 10: "noun.communication", 4: "noun.act"}
    wn_verb = {29: "verb.body", 31: "verb.cognition", 32: "verb.communication", 33: "verb.competition",
               34: "verb.consumption", 37: "verb.emotion", 38: "verb.motion", 39: "verb.perception"}
    fields = {"Zool.": "Zool", "Bot.": "Bot", "Chem.": "Chem", "Med.": "Med", "Naut.": "Naut", "Law": "Law",
              "Mus.": "Mus", "Arch.": "Arch"}
    categories = {c: c for c in ["language", "networking", "programming", "jargon", "operating system",
                                 "company", "hardware", "mathematics"]}
    topics = {f: f for f in ["computers", "politics", "science", "songs-poems", "law", "food", "education", "sports"]}
    languages = {"en": ENGLISH_FORTUNES, "de": "de", "es": "es", "it": "it", "cs": "cs", "pl": "pl", "pt": ["brasil"]}
    groups = {g: g for g in ["Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink",
                             "Travel & Places", "Activities", "Objects", "Symbols"]}
    sections = {s: s for s in ["admin", "devel", "doc", "games", "graphics", "net", "sound", "science"]}
    return [
        task("wn_noun", "a dictionary definition of {}", {
            "noun.animal": "an animal", "noun.plant": "a plant", "noun.food": "a food or drink",
            "noun.artifact": "a man-made object or tool", "noun.person": "a kind of person",
            "noun.location": "a place or region", "noun.body": "a part of the body",
            "noun.substance": "a substance or material", "noun.communication": "a form of communication or writing",
            "noun.act": "an act or activity"}, wordnet("noun", wn_noun)),
        task("wn_verb", "a dictionary definition of a verb about {}", {
            "verb.body": "the body and grooming", "verb.cognition": "thinking and knowing",
            "verb.communication": "speaking and communicating", "verb.competition": "fighting and competing",
            "verb.consumption": "eating, drinking and using up", "verb.emotion": "feelings and emotions",
            "verb.motion": "moving and travelling", "verb.perception": "seeing, hearing and sensing"},
            wordnet("verb", wn_verb)),
        task("gcide_field", "a dictionary definition from {}", {
            "Zool": "zoology, about animals", "Bot": "botany, about plants", "Chem": "chemistry",
            "Med": "medicine and disease", "Naut": "seafaring, ships and sailing", "Law": "law and the courts",
            "Mus": "music", "Arch": "architecture and building"}, gcide(fields)),
        task("foldoc_topic", "a computing dictionary entry about {}", {
            "language": "a programming language", "networking": "computer networking",
            "programming": "programming techniques", "jargon": "hacker jargon and slang",
            "operating system": "an operating system", "company": "a company",
            "hardware": "computer hardware", "mathematics": "mathematics"}, foldoc(categories)),
        task("fortune_topic", "a quotation or joke about {}", {
            "computers": "computers", "politics": "politics and government", "science": "science",
            "songs-poems": "songs and poems", "law": "law and lawyers", "food": "food and eating",
            "education": "school and education", "sports": "sports"}, fortune_topics(topics)),
        task("fortune_lang", "a text written in {}", {
            "en": "English", "de": "German", "es": "Spanish", "it": "Italian", "cs": "Czech",
            "pl": "Polish", "pt": "Portuguese"}, fortune_languages(languages)),
        task("emoji_group", "an emoji showing {}", {
            "Smileys & Emotion": "a smiling face or an emotion", "People & Body": "a person, a gesture or a body part",
            "Animals & Nature": "an animal or a plant", "Food & Drink": "food or drink",
            "Travel & Places": "travel, a place, a vehicle or the sky", "Activities": "a sport, a game or an event",
            "Objects": "an everyday object", "Symbols": "a symbol or a sign"}, emoji(groups)),
        task("debian_section", "a software package for {}", {
            "admin": "system administration", "devel": "software development", "doc": "documentation",
            "games": "games", "graphics": "graphics and images", "net": "networking", "sound": "sound and audio",
            "science": "science"}, debian(sections)),
    ]


def main():
    out = Path(sys.argv[1]) / "data"
    out.mkdir(parents=True, exist_ok=True)
    for t in all_tasks():
        (out / f"{t['name']}.json").write_text(json.dumps(t, ensure_ascii=False))
        counts = [sum(1 for _, y in t["train"] if y == c) for c in range(len(t["classes"]))]
        print(f"{t['name']:15s} {len(t['classes'])} classes  train {len(t['train']):4d}  "
              f"validation {len(t['validation'])}  test {len(t['test'])}  train per class {counts}")


if __name__ == "__main__":
    main()
