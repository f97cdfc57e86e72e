"""The emotion world's texts: Alm-like story snippets and ISEAR-like situation reports.

Both renderers turn a latent item (true label + valence–arousal point, see
:mod:`emolib.data.world.latent`) into English text. Emotion is carried by words *in
context*, never by one fixed keyword per class:

* synonyms ordered from calm to intense, picked by the item's arousal;
* intensifiers scaled by arousal ("a little", "very", "utterly");
* reactions and body language instead of naming the emotion;
* negations ("was not happy at all" in a sad story);
* neutral filler sentences (setting, time, place);
* ambiguity: items whose latent point drifted towards a neighbouring emotion borrow that
  emotion's words (so the boundary between, e.g., guilt and shame is genuinely blurred).

Alm's corpus has three authors (Grimm, Andersen, Potter); here authors A, B and C have
their own characters, places, openings and preferred synonyms, so an author-level split
is a real domain shift. The vocabulary is ordinary English emotion vocabulary, so
pretrained sentence encoders and word vectors transfer to it.

The grammar templates and word pools below are the data of this module; the cue rules
were written by this project and are not the papers' data.

Notebooks: 00_tour (world section), 01_won2021.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from emolib.data.taxonomies import labels, va_centroid
from emolib.data.world.latent import sample_latent
from emolib.seed import rng

__all__ = ["build_alm", "build_isear", "render_alm", "render_isear", "ALM_AUTHORS"]

# ---------------------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------------------

#: intensifiers from calm to intense; the item's arousal picks the band
INTENSIFIERS = (
    ("a little", "slightly", "somewhat", "rather"),
    ("quite", "really", "very", "truly"),
    ("terribly", "utterly", "dreadfully", "extremely", "so very"),
)


def _band(arousal: float, g: np.random.Generator, n: int = 3) -> int:
    """Arousal in [0, 1] -> band index 0..n-1, with a little jitter."""
    return int(np.clip(np.floor((arousal + g.normal(0, 0.08)) * n), 0, n - 1))


def _pick_graded(words: tuple[str, ...], arousal: float, g: np.random.Generator,
                 weights: dict[str, float] | None = None) -> str:
    """Pick from words ordered calm -> intense, centred on the item's arousal."""
    pos = np.arange(len(words)) / max(len(words) - 1, 1)
    w = np.exp(-((pos - arousal) ** 2) / (2 * 0.3 ** 2))
    if weights:
        w = w * np.asarray([weights.get(x, 1.0) for x in words])
    return words[int(g.choice(len(words), p=w / w.sum()))]


def _choice(g: np.random.Generator, items):
    return items[int(g.integers(len(items)))]


def _secondary_label(taxonomy: str, true_label: str, valence: float, arousal: float,
                     g: np.random.Generator) -> str | None:
    """A neighbouring emotion whose words leak into the text, or ``None``.

    The closer the latent point has drifted to another class's centroid (relative to its
    own), the likelier that class's words appear.
    """
    labs = labels(taxonomy)
    pt = np.array([valence, arousal])
    d_true = np.linalg.norm(pt - np.asarray(va_centroid(taxonomy, true_label)))
    others = [lab for lab in labs if lab != true_label]
    d = np.array([np.linalg.norm(pt - np.asarray(va_centroid(taxonomy, o))) for o in others])
    j = int(np.argmin(d))
    p = 0.12 + 0.55 / (1.0 + np.exp((d[j] - d_true) / 0.06))
    return others[j] if g.random() < p else None


def _capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]


def _sentence(s: str) -> str:
    s = _capitalise(s.strip())
    return s if s.endswith((".", "!", "?", "\"", "'")) else s + "."


# ---------------------------------------------------------------------------------------
# Alm: fairy-tale story snippets
# ---------------------------------------------------------------------------------------

#: Per Alm label: adjectives (calm -> intense), reactions, nouns, exclamations, and
#: negated phrases that imply the label. {c}=character, {p}=pronoun, {q}=possessive.
ALM_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "angry": {
        "adj": ("annoyed", "vexed", "cross", "bitter", "indignant", "angry", "furious",
                "enraged", "livid", "wrathful"),
        "react": ("frowned darkly", "scolded everyone in the house", "stamped {q} foot",
                  "slammed the door behind {o}", "shook {q} fist", "shouted in a rage",
                  "gnashed {q} teeth", "flew into a terrible temper"),
        "noun": ("annoyance", "anger", "rage", "fury", "wrath"),
        "exclaim": ("How dare you!", "I will not stand for this!", "Get out of my sight!",
                    "You wicked thing!"),
        "neg": ("was not pleased at all", "would not forgive anyone",
                "had no patience left"),
    },
    "fearful": {
        "adj": ("uneasy", "anxious", "nervous", "timid", "afraid", "frightened", "scared",
                "fearful", "terrified", "petrified"),
        "react": ("held {q} breath", "looked nervously over {q} shoulder",
                  "hid behind the door", "did not dare to move", "shivered with dread",
                  "trembled all over", "ran away as fast as {p} could",
                  "screamed and fled"),
        "noun": ("unease", "worry", "fear", "dread", "fright", "terror", "panic"),
        "exclaim": ("Who is there?", "Please do not hurt me!", "Help! Help!",
                    "Something is coming!"),
        "neg": ("did not feel safe", "was not brave enough to look",
                "could not find any courage"),
    },
    "happy": {
        "adj": ("content", "pleased", "glad", "cheerful", "happy", "merry", "joyful",
                "delighted", "overjoyed", "jubilant"),
        "react": ("smiled warmly", "hummed a little song", "thanked everyone kindly",
                  "smiled from ear to ear", "clapped {q} hands", "laughed and sang",
                  "danced around the room", "jumped for joy"),
        "noun": ("contentment", "gladness", "happiness", "joy", "delight"),
        "exclaim": ("How wonderful!", "What a lovely day!", "Hurrah!",
                    "This is the happiest day of my life!"),
        "neg": ("had no worries left", "was not sad any more",
                "did not feel lonely at all"),
    },
    "sad": {
        "adj": ("lonely", "gloomy", "downcast", "unhappy", "sad", "sorrowful", "mournful",
                "miserable", "grieving", "heartbroken"),
        "react": ("sat alone in silence", "sighed deeply", "hung {q} head",
                  "stared out at the grey sky", "wept quietly", "wept bitterly",
                  "could not stop crying", "sobbed as if {q} heart would break"),
        "noun": ("loneliness", "sadness", "sorrow", "grief", "despair"),
        "exclaim": ("Alas, all is lost.", "I shall never see them again.",
                    "Nobody cares for me.", "Oh, what a sorrow!"),
        "neg": ("was not happy any more", "could not find any joy",
                "had no hope left"),
    },
    "surprised": {
        "adj": ("puzzled", "curious", "surprised", "amazed", "astonished", "startled",
                "astounded", "stunned", "thunderstruck"),
        "react": ("raised {q} eyebrows", "rubbed {q} eyes", "blinked in wonder",
                  "could hardly believe {q} eyes", "stopped in {q} tracks",
                  "stood with {q} mouth open", "gasped aloud", "jumped back in amazement"),
        "noun": ("curiosity", "wonder", "surprise", "amazement", "astonishment"),
        "exclaim": ("Well, I never!", "What is this?", "Who would have thought it!",
                    "Can it really be true?"),
        "neg": ("had never expected such a thing", "did not believe it at first",
                "had not known it was possible"),
    },
}

#: The three authors (roles of Grimm, Andersen and Potter in Alm's corpus).
ALM_AUTHORS: dict[str, dict[str, tuple]] = {
    "A": {
        "characters": (("the king", "he", "his", "him"),
                       ("the miller's daughter", "she", "her", "her"),
                       ("the young huntsman", "he", "his", "him"),
                       ("the old queen", "she", "her", "her"),
                       ("the little tailor", "he", "his", "him"),
                       ("the youngest prince", "he", "his", "him"),
                       ("the goose girl", "she", "her", "her")),
        "places": ("the dark forest", "the castle", "the old mill", "the well", "the king's court",
                   "the edge of the wood"),
        "openings": ("Once upon a time there lived {c} near {pl}.",
                     "There was once {c} who lived in {pl}.",
                     "Long ago, in {pl}, dwelt {c}.", "In olden times {c} went out to {pl}."),
        "fillers": ("Then {p} went on {q} way.", "And so three days passed.",
                    "The next morning {p} set out again.", "It was the third night.",
                    "At that very hour the clock struck twelve.", "Now {p} came to {pl}."),
        "lead": ("Then ", "And ", "At that, ", "", ""),
        "speech": "cried",
    },
    "B": {
        "characters": (("the little fir tree", "it", "its", "it"),
                       ("the tin soldier", "he", "his", "him"),
                       ("the swallow", "she", "her", "her"),
                       ("the poor little match girl", "she", "her", "her"),
                       ("the ugly duckling", "he", "his", "him"),
                       ("the old grandmother", "she", "her", "her"),
                       ("the snow queen", "she", "her", "her")),
        "places": ("the frozen lake", "the garden", "the sea shore", "the attic",
                   "the snowy street", "the little room under the roof"),
        "openings": ("Far away, by {pl}, there was {c}.", "In {pl} lived {c}, small and quiet.",
                     "It was winter, and {c} stood in {pl}.", "Out in {pl} grew {c}."),
        "fillers": ("The snowflakes fell softly on the roofs.", "The wind sang in the chimney.",
                    "The sun went down behind the hills.", "Time went by, as it always does.",
                    "The stars looked down on {pl}.", "Outside, the waves washed upon the shore."),
        "lead": ("Oh, how ", "And then ", "", "", ""),
        "speech": "whispered",
    },
    "C": {
        "characters": (("Peter Rabbit", "he", "his", "him"),
                       ("Mrs. Tiggy", "she", "her", "her"),
                       ("old Mr. Badger", "he", "his", "him"),
                       ("the little kitten", "she", "her", "her"),
                       ("Squirrel Nutkin", "he", "his", "him"),
                       ("the farmer's duck", "she", "her", "her"),
                       ("Mr. Jeremy Fisher", "he", "his", "him")),
        "places": ("the vegetable garden", "the hedge", "the pond", "the burrow", "the tool shed",
                   "the kitchen garden"),
        "openings": ("{c} lived in a snug hole near {pl}.",
                     "One morning {c} hopped down to {pl}.",
                     "{c} went to {pl} to look for lettuces.",
                     "It was a fine day, and {c} was in {pl}."),
        "fillers": ("There were lettuces and French beans and radishes.", "The gate was shut.",
                    "It was nearly tea-time.", "The robin sat on the spade handle.",
                    "{p} had lost one of {q} shoes.", "Then {p} went home to {pl}."),
        "lead": ("Dear me, ", "So ", "", "", ""),
        "speech": "said",
    },
}

#: per author, the favoured synonyms (style data): an author uses its own favourites about
#: six times as often as neutral words, and the other authors' favourites rarely
ALM_STYLE: dict[str, tuple[str, ...]] = {
    "A": ("wrathful", "enraged", "indignant", "frightened", "fearful", "petrified", "merry",
          "joyful", "jubilant", "sorrowful", "mournful", "grieving", "astonished",
          "thunderstruck", "astounded", "wrath", "dread", "terror", "sorrow", "gladness",
          "astonishment"),
    "B": ("bitter", "livid", "timid", "afraid", "uneasy", "glad", "content", "overjoyed", "lonely",
          "sad", "heartbroken", "amazed", "curious", "stunned", "sorrow", "wonder", "loneliness",
          "worry", "contentment", "despair"),
    "C": ("cross", "vexed", "annoyed", "angry", "scared", "nervous", "anxious", "pleased",
          "cheerful", "happy", "delighted", "downcast", "unhappy", "miserable", "surprised",
          "puzzled", "startled", "annoyance", "fright", "happiness", "surprise"),
}
#: per author, how often each kind of emotion sentence is used
#: (adjective, reaction, noun, exclamation, negation, adjective + reaction)
ALM_KIND_P: dict[str, tuple[float, ...]] = {
    "A": (0.30, 0.12, 0.18, 0.28, 0.04, 0.08),
    "B": (0.20, 0.12, 0.30, 0.05, 0.18, 0.15),
    "C": (0.28, 0.38, 0.04, 0.16, 0.04, 0.10),
}


def _alm_weights(author: str) -> dict[str, float]:
    others = {w for a, ws in ALM_STYLE.items() if a != author for w in ws}
    return {**{w: 0.15 for w in others}, **{w: 6.0 for w in ALM_STYLE[author]}}


def _phrase_weights(phrases: tuple[str, ...], author: str) -> dict[str, float]:
    """Reactions/exclamations are shared out among the authors (index mod 3)."""
    k = sorted(ALM_AUTHORS).index(author)
    return {ph: (6.0 if i % 3 == k else 0.3) for i, ph in enumerate(phrases)}


def _alm_emotion_sentence(label: str, arousal: float, ch: tuple, author: str,
                          g: np.random.Generator) -> str:
    words = ALM_WORDS[label]
    c, p, q, o = ch
    weights = _alm_weights(author)
    for key in ("react", "exclaim", "neg"):
        weights.update(_phrase_weights(words[key], author))
    intens = _choice(g, INTENSIFIERS[_band(arousal, g)])
    kind = g.choice(["adj", "react", "noun", "exclaim", "neg", "adj_react"], p=ALM_KIND_P[author])
    sty = ALM_AUTHORS[author]
    if kind == "adj":
        adj = _pick_graded(words["adj"], arousal, g, weights)
        return f"{_choice(g, sty['lead'])}{c} was {intens} {adj}"
    if kind == "react":
        r = _pick_graded(words["react"], arousal, g, weights).format(p=p, q=q, o=o)
        return f"{_choice(g, sty['lead'])}{c} {r}"
    if kind == "noun":
        n = _pick_graded(words["noun"], arousal, g, weights)
        return _choice(g, (f"{c} was filled with {n}", f"{_capitalise(q)} heart was full of {n}",
                           f"A great {n} came over {c}"))
    if kind == "exclaim":
        e = _pick_graded(words["exclaim"], 0.5, g, weights)
        return f"\"{e}\" {sty['speech']} {c}"
    if kind == "neg":
        return f"{c} {_pick_graded(words['neg'], 0.5, g, weights)}"
    adj = _pick_graded(words["adj"], arousal, g, weights)
    r = _pick_graded(words["react"], arousal, g, weights).format(p=p, q=q, o=o)
    return f"{_capitalise(p)} felt {intens} {adj} and {r}"


def render_alm(true_label: str, valence: float, arousal: float, author: str,
               g: np.random.Generator) -> str:
    """One story snippet (2–4 sentences) for a latent Alm item written by ``author``."""
    if author not in ALM_AUTHORS:
        raise ValueError(f"author must be one of {sorted(ALM_AUTHORS)}, got {author!r}")
    sty = ALM_AUTHORS[author]
    ch = _choice(g, sty["characters"])
    c, p, q, _ = ch
    pl = _choice(g, sty["places"])
    fmt = {"c": c, "p": p, "q": q, "pl": pl}
    parts = []
    if g.random() < 0.65:
        parts.append(_choice(g, sty["openings"]).format(**fmt))
    n_emo = 1 + int(g.random() < 0.25 + 0.4 * arousal)
    def core(sent: str) -> str:  # the sentence without its connective ("Then ", "Dear me, ")
        for lead in sty["lead"]:
            if lead and sent.startswith(lead):
                return sent[len(lead):]
        return sent

    emo: list[str] = []
    for _ in range(n_emo):
        for _try in range(4):  # no sentence twice in one snippet
            sent = _alm_emotion_sentence(true_label, arousal, ch, author, g)
            if core(sent) not in {core(e) for e in emo}:
                emo.append(sent)
                break
    second = _secondary_label("alm", true_label, valence, arousal, g)
    if second is not None:
        emo.insert(int(g.integers(len(emo) + 1)),
                   _alm_emotion_sentence(second, arousal, ch, author, g))
    parts += emo
    while len(parts) < 2 or (len(parts) < 4 and g.random() < 0.3):
        filler = _choice(g, sty["fillers"]).format(**fmt)
        if filler not in parts:
            parts.insert(int(g.integers(1, len(parts) + 1)), filler)
    return " ".join(_sentence(s) for s in parts[:4])


def _author_sequence(names: list[str], n: int, n_last: int | None) -> list[str]:
    """``n`` authors dealt round-robin; the last author gets ``n_last`` of them (None: its
    round-robin share), the others share the rest as evenly as possible."""
    if n_last is None:
        return [names[i % len(names)] for i in range(n)]
    rest = n - n_last
    quota = {a: rest // (len(names) - 1) + (i < rest % (len(names) - 1))
             for i, a in enumerate(names[:-1])}
    quota[names[-1]] = n_last
    seq: list[str] = []
    while len(seq) < n:
        for a in names:
            if quota[a] > 0:
                seq.append(a)
                quota[a] -= 1
    return seq


def build_alm(seed: int, n_per_class: int, spread: float = 0.12,
              label_noise: float = 0.1, n_held_per_class: int | None = None) -> pd.DataFrame:
    """Alm-role story snippets: ``n_per_class`` per label, authors A/B/C balanced per class.

    ``n_held_per_class``: how many of each class the last author (C, the one the world's
    split holds out) writes; A and B share the rest. ``None``: a third each (authors dealt
    round-robin; a given count deals round-robin until C has its share, so a third gives the
    same authors as ``None``). Returns ``item_id, author, label, true_label, valence,
    arousal, text``; a pure function of the arguments. Notebook: 01_won2021.
    """
    if n_held_per_class is not None and not (
            isinstance(n_held_per_class, (int, np.integer)) and not isinstance(
                n_held_per_class, bool) and 0 <= n_held_per_class < n_per_class):
        raise ValueError(f"n_held_per_class must be an integer in [0, n_per_class), got "
                         f"{n_held_per_class!r}")
    lat = sample_latent("alm", n_per_class, seed, spread=spread, label_noise=label_noise)
    authors = np.empty(len(lat), dtype=object)
    names = sorted(ALM_AUTHORS)
    for lab in labels("alm"):
        idx = np.flatnonzero(lat["true_label"].to_numpy() == lab)
        perm = rng(seed, "alm-authors", lab).permutation(len(idx))
        authors[idx[perm]] = _author_sequence(names, len(idx), n_held_per_class)
    texts = [render_alm(r.true_label, r.valence, r.arousal, authors[i], rng(seed, "alm-text", i))
             for i, r in enumerate(lat.itertuples(index=False))]
    out = lat.assign(author=authors, text=texts)
    return out[["item_id", "author", "label", "true_label", "valence", "arousal", "text"]]


# ---------------------------------------------------------------------------------------
# ISEAR: first-person situation reports
# ---------------------------------------------------------------------------------------

_PEOPLE = ("my brother", "my sister", "my best friend", "a colleague", "my neighbour", "my boss",
           "my teacher", "my girlfriend", "my boyfriend", "my father", "my mother", "a classmate",
           "my roommate", "an old friend")
_THINGS = ("bicycle", "camera", "notes", "car", "phone", "books", "watch", "guitar")
_EXAMS = ("final exam", "driving test", "entrance exam", "history exam", "thesis defence")
_FOOD = ("soup", "salad", "sandwich", "rice", "milk")

#: Situations per ISEAR label; {who}, {thing}, {exam}, {food} are filled in. Some
#: situations appear under two labels on purpose (guilt/shame, anger/disgust).
ISEAR_SITUATIONS: dict[str, tuple[str, ...]] = {
    "anger": ("{who} broke a promise to me", "{who} lied to me about something important",
              "{who} borrowed my {thing} and broke it",
              "{who} blamed me for something I did not do",
              "I was treated unfairly by {who}", "{who} kept interrupting me in a meeting",
              "someone stole my {thing}", "{who} insulted my family",
              "{who} read my private letters", "a driver cut in front of me and shouted at me",
              "{who} cheated in the {exam} and got a better mark than me"),
    "disgust": ("I saw a man spit on the floor of the bus", "I found a worm in my {food}",
                "I smelled rotten {food} in the fridge", "I saw a drunk man vomit in the street",
                "{who} told a cruel racist joke",
                "I watched a film with a lot of blood and torture",
                "I stepped in dog dirt on the way to work",
                "I saw how dirty the kitchen of a restaurant was",
                "I heard that a politician had taken bribes", "{who} cheated in the {exam}",
                "I saw someone kick a small dog"),
    "fear": ("I was walking home alone at night", "a big dog ran at me",
             "I was in a car that nearly crashed",
             "I heard strange noises in the house at night", "I got lost in a big foreign city",
             "I waited for the results of a medical test",
             "the plane shook violently during a storm",
             "a man followed me down a dark street", "{who} did not come home and did not call",
             "I had to speak in front of hundreds of people", "the lights went out in the lift"),
    "guilt": ("I forgot {who}'s birthday", "I did not visit my grandmother before she died",
              "I shouted at {who} for no reason",
              "I broke {who}'s {thing} and did not tell anyone",
              "I lied to my parents", "I did not help {who} when they needed me",
              "I copied {who}'s homework", "I spent the money my parents gave me for books",
              "I told {who}'s secret to other people", "I was caught lying by {who}"),
    "joy": ("I passed my {exam}", "I got the job I wanted",
            "{who} came to visit me after a long time",
            "I fell in love", "my sister had a healthy baby", "our team won the match",
            "I received a letter of acceptance from the university",
            "I went on holiday with my friends",
            "{who} gave me a {thing} as a surprise present", "I met {who} again after many years"),
    "sadness": ("my grandmother died", "{who} moved to another country", "my dog died",
                "my relationship with {who} ended", "I failed my {exam}",
                "I had to leave my home town",
                "{who} became seriously ill", "I spent Christmas alone",
                "{who} stopped writing to me", "I did not visit my grandmother before she died"),
    "shame": ("I was caught lying by {who}", "I fell over in front of the whole class",
              "I could not answer a simple question from {who}",
              "I was caught cheating in the {exam}",
              "I got drunk at a party and behaved badly", "{who} saw me crying",
              "my parents argued loudly in front of my friends",
              "I forgot the words during a school play",
              "I copied {who}'s homework",
              "I laughed at {who}'s mistake and everyone looked at me"),
}

#: Feeling adjectives (calm -> intense), reactions, and negations per ISEAR label.
ISEAR_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "anger": {"adj": ("annoyed", "irritated", "frustrated", "angry", "mad", "furious", "outraged"),
              "react": ("I did not say a word to them for a week",
                        "I told them exactly what I thought",
                        "I slammed the door", "I shouted at them", "I wanted to hit something"),
              "neg": ("I could not forgive them", "I was not willing to listen to any excuse")},
    "disgust": {"adj": ("put off", "repelled", "disgusted", "sickened", "revolted", "nauseated"),
                "react": ("I had to look away", "I could not eat for the rest of the day",
                          "I felt sick to my stomach", "I nearly threw up"),
                "neg": ("I could not bear to look at it", "I did not want to touch anything")},
    "fear": {"adj": ("uneasy", "nervous", "worried", "afraid", "scared", "frightened", "terrified",
                     "panicked"),
             "react": ("I held my breath", "I could not move", "my heart was pounding",
                       "my hands were shaking", "I started to run"),
             "neg": ("I did not feel safe", "I could not stop thinking the worst")},
    "guilt": {"adj": ("sorry", "regretful", "remorseful", "guilty", "to blame"),
              "react": ("I apologised many times", "I kept thinking that it was my fault",
                        "I could not sleep that night", "I could not forgive myself"),
              "neg": ("I did not deserve their kindness",
                      "I could not look at myself in the mirror")},
    "joy": {"adj": ("content", "pleased", "glad", "happy", "cheerful", "delighted", "thrilled",
                    "overjoyed", "ecstatic"),
            "react": ("I smiled all day", "I called all my friends", "I could not stop smiling",
                      "I laughed and hugged everyone", "I jumped around the room"),
            "neg": ("I did not have a single worry", "nothing could spoil my mood")},
    "sadness": {"adj": ("down", "unhappy", "lonely", "sad", "depressed", "miserable", "heartbroken",
                        "devastated"),
                "react": ("I stayed in my room", "I did not want to see anyone",
                          "I cried for days", "I could not stop crying"),
                "neg": ("I was not able to enjoy anything", "nothing made me happy any more")},
    "shame": {"adj": ("awkward", "embarrassed", "ashamed", "humiliated", "mortified"),
              "react": ("I looked at the floor", "my face turned red", "I wanted to disappear",
                        "I could not look anyone in the eye"),
              "neg": ("I did not dare to go back there", "I could not face them again")},
}

_TIMES = ("Last summer", "A few years ago", "Last week", "Back at school", "At work",
          "Once, at university", "Two months ago", "On my birthday")
_FILLERS = ("It was a normal day.", "This happened a long time ago.", "I remember it well.",
            "It was in the evening.", "Everybody was there.", "It was raining that day.",
            "I was about nineteen at the time.")


def _isear_feeling(label: str, arousal: float, g: np.random.Generator) -> str:
    w = ISEAR_WORDS[label]
    kind = g.choice(["adj", "react", "neg"], p=[0.5, 0.35, 0.15])
    if kind == "adj":
        adj = _pick_graded(w["adj"], arousal, g)
        intens = _choice(g, INTENSIFIERS[_band(arousal, g)])
        return _choice(g, (f"I felt {intens} {adj}", f"I was {intens} {adj}",
                           f"it made me feel {intens} {adj}"))
    if kind == "react":
        return _pick_graded(w["react"], arousal, g)
    return _choice(g, w["neg"])


def render_isear(true_label: str, valence: float, arousal: float, g: np.random.Generator) -> str:
    """One first-person situation description ("When I ...") for a latent ISEAR item."""
    sit_label = true_label
    second = _secondary_label("isear", true_label, valence, arousal, g)
    if second is not None and g.random() < 0.4:
        sit_label = second  # the situation of a neighbour, the feeling of the own class
    sit = _choice(g, ISEAR_SITUATIONS[sit_label]).format(
        who=_choice(g, _PEOPLE), thing=_choice(g, _THINGS), exam=_choice(g, _EXAMS),
        food=_choice(g, _FOOD))
    first = "When " + sit
    if g.random() < 0.4:
        first = f"{_choice(g, _TIMES)}, {first[0].lower()}{first[1:]}"
    parts = [first]
    if g.random() < 0.75:  # an explicit feeling or reaction of the true class
        parts[0] = parts[0] + ", " + _isear_feeling(true_label, arousal, g)
    if g.random() < 0.35:
        parts.append(_isear_feeling(true_label, arousal, g))
    if second is not None and sit_label == true_label and g.random() < 0.6:
        parts.append(_isear_feeling(second, arousal, g))
    if g.random() < 0.3:
        parts.insert(int(g.integers(1, len(parts) + 1)), _choice(g, _FILLERS))
    return " ".join(_sentence(s) for s in parts)


def build_isear(seed: int, n_per_class: int, spread: float = 0.12,
                label_noise: float = 0.1) -> pd.DataFrame:
    """ISEAR-role situation reports: ``n_per_class`` per label.

    Returns ``item_id, label, true_label, valence, arousal, text``; a pure function of the
    arguments. Notebook: 01_won2021.
    """
    lat = sample_latent("isear", n_per_class, seed, spread=spread, label_noise=label_noise)
    texts = [render_isear(r.true_label, r.valence, r.arousal, rng(seed, "isear-text", i))
             for i, r in enumerate(lat.itertuples(index=False))]
    return lat.assign(text=texts)[["item_id", "label", "true_label", "valence", "arousal", "text"]]
