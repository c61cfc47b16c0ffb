"""Labelled examples for the learning curve (bench/triage_learning.py); written for Echtzeit,
no outside data (licence: the project's, MIT).

Two parts, both described in docs/triage.md ("Learning from the team"):

1. The demo replay (integrations/networks/replay_data/sample.jsonl): the 240 posts the demo
   brands' queries match, labelled by hand for relevance (is it about the brand) and needs-reply
   (a question, complaint or request the brand should answer) in bench/data/
   triage_replay_labels.jsonl. Each post goes to the test split or the feedback split by a hash
   of its id.
2. Brand-ambiguity examples generated from the templates below: for each demo brand, posts
   about it that need an answer, posts about it that need none (praise, news, reviews), and
   posts about something else with the same name (Thomas Müller, the aurora "Nordlicht", the
   Volt party, Looney Tunes' ACME). Every fourth template of each kind appears only in the test
   split, so the test asks for words the feedback never showed, not for remembered sentences.
"""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPLAY = ROOT / "integrations" / "networks" / "replay_data" / "sample.jsonl"
REPLAY_LABELS = Path(__file__).resolve().parent / "data" / "triage_replay_labels.jsonl"


@dataclass(frozen=True, slots=True)
class Example:
    """A post with its labels. `split`: "feedback" (replayed as the team's feedback) or
    "test" (held out). `base_*`: the base model's scores (0.5: undecided)."""

    brand: str
    text: str
    relevance: bool
    needs_reply: bool
    network: str | None = None
    lang: str | None = None
    split: str = "feedback"
    source: str = "generated"
    base_relevance: float = 0.5
    base_needs_reply: float = 0.5
    # Where the post came from: its template for a generated post ("brand/kind/i"), its
    # network and id for a demo post. Posts of one group are alike; a validation part of the
    # feedback split keeps whole groups out of fitting (bench/triage_learning.py).
    group: str = ""


SLOTS: dict[str, list[str]] = {
    "place": ["Hamburg", "Berlin", "Kiel", "Bremen", "Leipzig", "Köln", "München", "Altona",
              "Ottensen", "Lübeck", "Rostock", "Hannover", "Dresden", "Münster", "Flensburg"],
    "n": [str(i) for i in (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 20, 25, 40)],
    "bike": ["Volt 3", "Volt City", "Volt Cargo", "Comet S", "Comet 2", "Volt 3 Trekking"],
    "bike_problem": ["won't turn on", "shows error E-07", "lost half its range",
                     "makes a grinding noise", "won't pair with the app", "brakes squeak",
                     "battery died", "display went black"],
    "bike_problem_de": ["geht nicht mehr an", "zeigt Fehler E-07", "hat die halbe Reichweite",
                        "macht ein Schleifgeräusch", "verbindet sich nicht mit der App",
                        "quietscht beim Bremsen", "lädt nicht mehr"],
    "drink": ["flat white", "cappuccino", "latte", "chai latte", "cortado", "filter coffee"],
    "drink_de": ["Flat White", "Cappuccino", "Latte", "Cortado", "Filterkaffee", "Kakao"],
    "bank_problem": ["my card got declined", "the login fails", "the push-TAN never arrives",
                     "my transfer is stuck", "the app crashes on start",
                     "my account got frozen"],
    "bank_problem_de": ["meine Karte wird abgelehnt", "der Login geht nicht",
                        "die Push-TAN kommt nicht", "meine Überweisung hängt",
                        "die App stürzt ab", "mein Konto ist gesperrt"],
    "player": ["Thomas Müller", "Gerd Müller", "Müller"],
    "club": ["Bayern", "the national team", "München", "der Nationalmannschaft"],
    "gadget": ["rocket skates", "giant magnet", "jet-propelled unicycle", "earthquake pills",
               "rocket", "instant tunnel"],
}

# brand -> kind -> templates; kind: "ask" (about the brand, needs an answer), "fyi" (about the
# brand, needs none), "other" (the same name, something else).
TEMPLATES: dict[str, dict[str, list[str]]] = {
    "Acme Rockets": {
        "ask": [
            "@acmerockets my {bike} {bike_problem}. what do I do now?",
            "Acme Rockets, mein {bike} {bike_problem_de}. Was kann ich tun?",
            "ordered a {bike} from Acme Rockets {n} weeks ago and still no shipping info?!",
            "how do I reset the lock on my Acme Rockets {bike}? manual says nothing",
            "Acme Rockets Rückerstattung seit {n} Wochen nicht da. Wann kommt das Geld?",
            "hey acme rockets, {n} days waiting for a reply from support about my {bike}",
            "Wo bekomme ich einen Ersatzakku für den Acme {bike} in {place}?",
            "acme rockets store in {place} refused my warranty claim, is that allowed?",
        ],
        "fyi": [
            "{n} months on my Acme Rockets {bike}, zero issues. great commute bike",
            "Review: Acme Rockets {bike} after {n}00 km - comfy, quiet, app is meh. 8/10",
            "Acme Rockets opens a new flagship store in {place} next month",
            "Seit {n} Monaten mit dem {bike} von Acme Rockets unterwegs, top Rad.",
            "rode my acme {bike} through {place} in the rain today, grippy tyres, good fun",
            "Acme Rockets zeigt das neue {bike} auf der Messe in {place}",
            "my kid calls our Acme {bike} the rocket. cute",
            "Testbericht: Acme Rockets {bike}, solide verarbeitet, Akku hält",
        ],
        "other": [
            "Wile E. Coyote orders another pair of ACME {gadget}. it goes badly. #looneytunes",
            "Volt wins {n} seats in the {place} city council, a first for the party",
            "saw a comet over {place} tonight, {n} minutes of pure magic",
            "Volt Europa hat heute einen Infostand in {place} #wahlkampf",
            "ACME {gadget} from the cartoon would solve my commute honestly",
            "Ein {n} Volt Akku für mein RC-Auto ist endlich angekommen",
            "the Road Runner never once fell for an ACME {gadget}, respect",
            "Komet über {place} heute gut sichtbar, Fernglas reicht",
        ],
    },
    "Kaffeehaus Müller": {
        "ask": [
            "Kaffeehaus Müller in {place}: {n} Minuten für einen {drink_de}, und dann kalt.",
            "waited {n} min at Kaffeehaus Müller {place} for a {drink} and it was lukewarm",
            "Hat Kaffeehaus Müller in {place} am Sonntag offen?",
            "@kaffeemueller the app charged me twice for one {drink}, who do I talk to?",
            "Kaffeehaus Müller, warum ist die Hafermilch in {place} schon wieder aus?",
            "does Kaffeehaus Müller {place} have wifi and power outlets?",
            "my loyalty stamps in the Kaffeehaus Müller app vanished, {n} of 10 gone",
            "Kann man bei Kaffeehaus Müller in {place} noch bar zahlen?",
        ],
        "fyi": [
            "best {drink} in {place} is at Kaffeehaus Müller, fight me",
            "Kaffeetagebuch Tag {n}: {drink_de} bei Kaffeehaus Müller, 8/10",
            "Kaffeehaus Müller eröffnet eine neue Filiale in {place}",
            "rainy day, {drink} at Kaffeehaus Müller, window seat. perfect",
            "Die Zimtschnecke bei Kaffeehaus Müller {place} ist die beste der Stadt",
            "Hamburg coffee ranking part {n}: Kaffeehaus Müller, solid {drink}",
            "Shoutout an Kaffeehaus Müller {place} fürs Mehrwegsystem 🌱",
            "kaffeehaus müller cheesecake hit different today",
        ],
        "other": [
            "{player} scores twice for {club}, what a night",
            "Müllermilch {drink_de} ist wieder im Supermarkt, Kindheitserinnerung",
            "Frau Müller aus {place} feiert heute ihren {n}0. Geburtstag",
            "Müller Drogerie in {place} hat heute alles {n}0 % reduziert",
            "{player} announces retirement from {club} after {n} years",
            "Herr Müller von nebenan hat schon wieder den Rasen um 7 gemäht",
            "Interview mit {player}: Ich will noch {n} Jahre spielen",
            "Müller Brot aus {place} backt jetzt auch sonntags",
        ],
    },
    "Nordlicht Bank": {
        "ask": [
            "Nordlicht Bank, {bank_problem} and nobody answers. help?",
            "Nordlicht Bank: {bank_problem_de}. Was soll ich machen?",
            "@nordlichtbank {bank_problem} since {n} hours, is this an outage?",
            "wie ändere ich bei Nordlicht Bank meine PIN in der App?",
            "Nordlicht Bank, warum kostet Abheben am Automaten jetzt {n} Euro?",
            "stuck in {place}, Nordlicht Bank {bank_problem}. please call me back",
            "where do I find my IBAN in the new Nordlicht Bank app?",
            "Seit {n} Tagen keine Antwort vom Nordlicht Bank Support. {bank_problem_de}.",
        ],
        "fyi": [
            "Nordlicht Bank passes {n} million customers, plans launch in Austria",
            "opened a Nordlicht Bank account in {n} minutes from my sofa",
            "Nordlicht Bank Karte funktioniert in {place} ohne Gebühren, top",
            "Die Unterkonten bei Nordlicht Bank sind echt praktisch",
            "Nordlicht Bank support fixed my card in {n} minutes, impressed",
            "Nordlicht Bank erklärt die Störung vom Freitag: fehlerhaftes Update",
            "been with Nordlicht Bank {n} years, no complaints",
            "Vergleich Neobanken: Nordlicht Bank vorne bei den Gebühren",
        ],
        "other": [
            "Nordlicht über {place} heute Nacht! Kp-Index {n}, einfach rausgehen 🌌",
            "caught the Nordlicht (northern lights) from {place}, {n} second exposure",
            "Hotel Nordlicht in {place}: {n} Nächte, Frühstück okay",
            "Die Fähre Nordlicht nach {place} fällt heute wegen Sturm aus",
            "Nordlicht-Festival in {place} mit {n} Bands dieses Wochenende",
            "Polarlicht-Warnung: heute Nordlicht bis runter nach {place} möglich",
            "the Nordlicht choir from {place} sings tonight, {n} voices",
            "Nordlicht Kindergarten in {place} sucht Erzieher*innen",
        ],
    },
}

LABELS = {"ask": (True, True), "fyi": (True, False), "other": (False, False)}


def _fill(template: str, rng: random.Random) -> str:
    out = template
    for name, values in SLOTS.items():
        key = "{" + name + "}"
        while key in out:
            out = out.replace(key, rng.choice(values), 1)
    return out


def generated(*, per_template: int = 30, seed: int = 15) -> list[Example]:
    """The brand-ambiguity examples: `per_template` filled variants of each template."""
    rng = random.Random(seed)
    out: list[Example] = []
    for brand, kinds in TEMPLATES.items():
        for kind, templates in kinds.items():
            relevance, needs_reply = LABELS[kind]
            for i, template in enumerate(templates):
                split = "test" if i % 4 == 3 else "feedback"
                texts = {_fill(template, rng) for _ in range(per_template)}
                out += [Example(brand=brand, text=t, relevance=relevance,
                                needs_reply=needs_reply, split=split,
                                group=f"{brand}/{kind}/{i}") for t in sorted(texts)]
    return out


def replay(*, test_share: float = 0.3) -> list[Example]:
    """The demo replay's matched posts with their hand-made labels."""
    labels = {(row["network"], row["id"]): row for row in
              map(json.loads, REPLAY_LABELS.read_text(encoding="utf-8").splitlines())}
    out: list[Example] = []
    for line in REPLAY.read_text(encoding="utf-8").splitlines():
        post = json.loads(line)
        row = labels.get((post["network"], post["id"]))
        if row is None:
            continue
        bucket = zlib.crc32(f"{post['network']}:{post['id']}".encode()) % 1000
        out.append(Example(brand=row["brand"], text=post["text"],
                           relevance=bool(row["relevance"]),
                           needs_reply=bool(row["needs_reply"]), network=post["network"],
                           lang=post.get("lang"),
                           split="test" if bucket < test_share * 1000 else "feedback",
                           source="replay", group=f"{post['network']}:{post['id']}"))
    return out


def labelled_set() -> list[Example]:
    return replay() + generated()
