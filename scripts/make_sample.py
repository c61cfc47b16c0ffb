#!/usr/bin/env python3
"""Generate the bundled demo sample: integrations/networks/replay_data/sample.jsonl.

`echtzeit demo` replays these posts into the bot. Everything in the sample is invented: the three
brands (Acme Rockets, Kaffeehaus Müller, Nordlicht Bank), every person, handle, id and link. Links
point at `.example` domains. The generator is deterministic: the same seed writes the same file.

The sample covers one 10-hour window on 2026-11-20 (07:00-17:00 UTC) and holds complaints, praise,
questions, job ads, spam, reposts, posts that use a brand word in an unrelated sense (the aurora,
the ACME protocol, a neighbour called Müller), hostile texts aimed at the chat relay, and a burst of
angry posts about a Nordlicht Bank outage between 12:14 and 13:09 UTC.

    python scripts/make_sample.py [--seed N] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261120
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "integrations" / "networks" / "replay_data" / "sample.jsonl"

DAY = datetime(2026, 11, 20, tzinfo=UTC)
WINDOW_START = DAY.replace(hour=7)
WINDOW_END = DAY.replace(hour=17)  # exclusive
BURST_START = DAY.replace(hour=12, minute=14)
BURST_END = DAY.replace(hour=13, minute=9)

KEYS = (
    "network", "id", "url", "author", "author_name", "followers", "text", "lang",
    "created_at", "likes", "reposts", "replies",
)  # fmt: skip
SOCIAL = ("x", "mastodon", "bluesky", "reddit")
SOCIAL_WEIGHTS = (0.33, 0.22, 0.22, 0.23)


def block(text: str) -> list[str]:
    """One template per line; a line indented by two spaces continues the previous one; ¶ = "
    "newline."""
    out: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("  ") and out:
            out[-1] += " " + line.strip()
        else:
            out.append(line.strip())
    return [para(t) for t in out]


def para(text: str) -> str:
    """¶ marks a line break in the hand-written pieces."""
    return text.replace(" ¶ ", "\n").replace("¶", "\n")


T = dict[tuple[str, str, str], list[str]]  # (brand, kind, lang) -> templates

# ---------------------------------------------------------------------------------------------
# Text pieces. Slots: {A} {K} {N} a brand as people write it (name, handle or hashtag), {BN} the
# plain brand name, products {a_bike} {a_scooter} {a_prod}, and fillers in FILLERS below.
# ---------------------------------------------------------------------------------------------

TEMPLATES: T = {
    ("acme", "complaint", "en"): block("""
ordered my {a_bike} from {A} {weeks} weeks ago. tracking still says "in preparation". what is
  going on?? {ea}
{A} moved my delivery date AGAIN. third time now. I paid €{price_a} upfront, the least you could do
  is answer an email
my {a_bike} battery drops from 80% to 0 in like 5 minutes. {A} support just says "reset the bike".
  did that 6 times smh
Hey {A}, the companion app hasn't paired with my {a_bike} since the last update. Android, tried
  everything. Commuting on a 28kg bike without assist is not fun {ea}
Took my {a_prod} to the {A} service point in {city}. "Come back in 3 weeks." It's a brake pad. A
  BRAKE PAD.
the guy at the {A} store in {city} literally laughed when I asked about warranty. never been
  treated like that #customerservice
{A} customer service: 45 min on hold, then the call drops. every. single. time. {ea}
anyone else's {a_bike} display just showing E-07 and shutting off? {A} pls
Love the design, hate the reliability. {A} {a_bike}, 4 months old, motor cuts out on every hill.
  Not what you expect for 3k
My {a_bike} arrived with a scratched frame and a bent fender. Box looked like it had been used as
  a football. {A} @ me when you have a solution
{A} refund still not there after {weeks} weeks. you were quick enough to take the money tho
firmware update bricked my scooter. thanks {A} 🙃 the {a_scooter} is now a very expensive
  paperweight
ngl {A} went from my favourite brand to "never again" in one month. no updates, no replies, no bike
why does the {A} app need my location, contacts AND microphone to unlock a {a_scooter}??
the charger for my {a_prod} died and {A} wants €89 + two weeks for a new one. that's wild
"""),
    ("acme", "complaint", "de"): block("""
Seit {weeks} Wochen warte ich auf mein {a_bike} von {A}. Sendungsverfolgung: nix. Hotline: nicht
  erreichbar. Super. {ea}
{A} hat den Liefertermin schon wieder verschoben. Hab extra Urlaub genommen für die Abholung 🙄
Akku von meinem {a_bike} ist nach 6 Monaten hinüber. Laut {A} "normaler Verschleiß". Ernsthaft??
Die {A} App verbindet sich seit dem Update nicht mehr mit dem Rad. iPhone, Bluetooth an, alles neu
  gestartet. Nix. #fail
War heute im {A} Store in {city}. Verkäufer total unfreundlich, hat mich behandelt als wär ich zu
  blöd zum Radfahren. Nie wieder.
Liebe {A}, eine Mail, auf die man nach 14 Tagen antwortet, ist kein Kundenservice. Ticket {order},
  bitte mal reinschauen.
Mein {a_bike} quietscht wie ne alte Tür. Werkstatt sagt Garantiefall, {A} sagt nein. Und jetzt?
Display zeigt E-07 und der Motor geht aus. Mitten auf der Kreuzung. Danke {A}, fast hätte mich n
  Bus erwischt {ea}
{A} Lieferung angekündigt für heute, Zeitfenster 8-18 Uhr. Sitz seit 8 zu Hause. Kein Rad, keine
  Info. Urlaubstag verschwendet.
ich hab echt bock auf mein neues {a_bike} aber {A} kriegt es nicht hin mir auch nur ne
  versandbestätigung zu schicken
Rückerstattung seit {weeks} Wochen "in Bearbeitung". {A}, wie lange dauert das bei euch
  eigentlich?
Schutzblech beim {a_bike} nach 2 Wochen abgebrochen. Qualität bei {A} war mal besser, leider.
Kundenservice von {A}: ein Chatbot, der jede Frage mit "Haben Sie es schon mit einem Neustart
  versucht?" beantwortet 🤡
digga {A}, das dritte mal dass mein {a_bike} in der werkstatt ist. in 5 monaten.
Warum kostet ein Ersatzakku für den {a_bike} bei {A} bitte 749€? Das ist ja fast ein halbes Rad.
Scooter-Sharing von {A} in {city}: 3 Roller angeklickt, alle "nicht verfügbar". Die App zeigt sie
  trotzdem an. Was soll das
"""),
    ("acme", "praise", "en"): block("""
ok I was skeptical but the {A} {a_bike} is genuinely great. 40km commute, still 30% battery left
  {eh}
shoutout to the {A} service team in {city}, fixed my brakes in 20 minutes while I had a coffee.
  that's how it's done
6 months with my {a_bike} and I haven't taken the car once. {A} you changed my life lol
  #bikecommute
Honest review after 1000km on the {A} {a_bike}: comfy, quiet motor, app is meh but improving. 8/10
{A} support actually called me back?? and sent a new charger for free. ngl impressed
the new {A} firmware made the {a_bike} so much smoother on hills. whoever did that: thank you {eh}
my kid calls the {a_bike} "the rocket" and honestly same. {A} nailed it
rode the {A} {a_scooter} to work in the drizzle today, grippy tyres, zero drama. good scooter
"""),
    ("acme", "praise", "de"): block("""
Mein {a_bike} von {A} ist endlich da und ich bin verliebt 😍 erste Runde um die Alster gedreht
Muss auch mal gesagt werden: {A} Werkstatt in {city} top, schnell, freundlich, fair. Danke!
1 Jahr {a_bike}, 4.200 km, null Probleme. {A} hat echt was drauf. #ebike #pendeln
Kurzer Daumen hoch für den {A} Support: Akku getauscht, ohne Diskussion, innerhalb von 3 Tagen 👍
Hab das {a_bike} von {A} Probe gefahren und danach direkt bestellt. Dieses Anzugsmoment 😮‍💨
Wer ein Lastenrad sucht: {A} Volt Cargo. Zwei Kinder + Einkauf, Berg hoch, kein Problem. Klare
  Empfehlung
Unpopular opinion: die {A} App ist inzwischen richtig gut. Routenplanung mit Akkustand 🔥
neues {a_bike} 🚀 danke {A}, pünktlich geliefert und super verpackt
"""),
    ("acme", "question", "en"): block("""
does anyone know if the {A} {a_bike} fits a child seat on the rear rack?
{A} how do I reset the PIN for the bike lock in the app? forgot it and now I'm locked out of my
  own bike lol
Is {A} doing Black Friday deals this year? asking for my wallet
q for {A} owners: how long does the Volt battery actually last in winter? ❄️
{A} is there a way to export my ride data from the app? Strava sync is broken for me
thinking about an e-bike for a 15km commute. {A} {a_bike} vs the usual suspects? thoughts?
anyone here ride the acme comet s in the rain? worth it or slip-n-slide?
"""),
    ("acme", "question", "de"): block("""
Hat {A} am Samstag im Store in {city} geöffnet? Website sagt nix dazu
Frage an die {A} Leute hier: kann man beim {a_bike} den Akku rausnehmen und in der Wohnung laden?
{A} gibt's für den {a_scooter} ein Ersatzteil für den Ständer? Meiner ist abgebrochen
Wie lange dauert bei {A} gerade die Lieferung? Überlege zu bestellen, brauch das Rad aber bis
  Weihnachten 🎄
Kennt jemand eine freie Werkstatt in {city}, die {A} Räder repariert? Der offizielle Service hat 4
  Wochen Wartezeit
Wie setze ich beim {A} {a_bike} das Display zurück? Die Anleitung hilft null
Lohnt sich Jobrad-Leasing für ein {A} {a_bike}? Erfahrungen?
"""),
    ("acme", "job", "en"): block("""
Acme Rockets is hiring! 🚀 Senior Embedded Engineer (m/f/d), Leipzig or remote. Help us build
  the next Volt.
  #hiring #jobs #embedded
We're growing: Acme Rockets is hiring Customer Care Agents (EN/DE) in Hamburg. Apply:
  https://jobs.acme-rockets.example/care #jobs
Acme Rockets is hiring a Head of Product Design, e-mobility experience a must. Link in bio
"""),
    ("acme", "job", "de"): block("""
Wir suchen Verstärkung! Acme Rockets sucht Zweiradmechatroniker*innen für die Werkstatt in {city}.
  #stellenanzeige #jobs #ebike
Stellenangebot: Werkstudent*in Marketing bei Acme Rockets (Leipzig, 20h/Woche). Bewerbung an
  jobs@acme-rockets.example #jobs
#hiring Acme Rockets sucht Lagermitarbeiter (m/w/d) in Vollzeit, Standort Halle. Quereinsteiger
  willkommen
"""),
    ("acme", "official", "en"): block("""
@{reply_to} Hi! Sorry for the wait 🙏 Please send us your order number via DM and we'll check right
  away. ^TK
"""),
    ("acme", "official", "de"): block("""
@{reply_to} Das tut uns leid! Schick uns bitte deine Auftragsnummer per DM, wir schauen sofort
  nach. ^JB
"""),
    ("kaffee", "complaint", "de"): block("""
{K} {store}: 20 Minuten für einen {drink}. Und dann war er kalt. 🙄
Die Barista bei {K} {store} hat mich angeschnauzt, weil ich mit Karte zahlen wollte. Gehts noch?
{K} hat den {drink} schon wieder teurer gemacht. {price_k} für nen Kaffee, ich glaub es hackt
Die Stempelkarte in der {K} App ist weg. 9 von 10 Stempeln. Einfach weg. Ich weine.
Warum ist bei {K} {store} jeden Morgen die Hafermilch aus? Jeden. Morgen.
Hab bei {K} einen Hafer-Latte bestellt und Kuhmilch bekommen. Bin laktoseintolerant. Danke für
  nix.
Tisch bei {K} {store} klebt, Toilette "defekt", Musik viel zu laut. Früher war's gemütlich hier 😔
{K} ihr habt mir über die App 2x abgebucht. Bitte Geld zurück, Beleg hab ich
Die Leute bei {K} {store} quatschen lieber miteinander als zu bedienen. 12 Leute in der Schlange,
  1 Kasse offen.
{food} bei {K} heute: knochentrocken. Für {price_k}. Nee.
Pfandbecher bei {K} ist ja nett gemeint, aber keiner nimmt die Becher zurück?? In 3 Filialen
  probiert
{K} WLAN seit Wochen kaputt. Wollte da eigentlich arbeiten, jetzt sitz ich hier mit Hotspot und
  Cappu
Kundenservice von {K} antwortet auf Mails mit "Danke für Ihr Feedback" und das war's. Toll.
Der Cappuccino bei Müller in Ottensen war heute wieder lauwarm. Langsam reicht's 🙄
Eigentlich mag ich {K}, aber der Kaffee {store} schmeckt seit ein paar Wochen verbrannt. Neue
  Maschine?
"""),
    ("kaffee", "complaint", "en"): block("""
waited 25 min at {K} for a flat white. it was lukewarm {ea}
the staff at {K} in {city} were so rude to the tourist in front of me. she literally just asked
  about oat milk
{K} app charged me twice for one latte 🙃 who do I even talk to
my loyalty stamps in the {K} app just vanished?? 8/10 gone
{K} prices are getting out of hand. €6.40 for a chai latte in {city}. no.
asked for decaf at {K}, clearly didn't get decaf. 4 hours later and I'm still vibrating
the {K} near {city} Hbf has been "temporarily closed" for 3 weeks and google still says open. pls
  update your listings
{K}: great cake, terrible wifi, worse queue management. pick one to fix pls
the barista at Mueller's in Altona told me oat milk is "a trend". sir it's 2026
"""),
    ("kaffee", "praise", "de"): block("""
Franzbrötchen bei {K} {store} sind einfach die besten der Stadt. Ich lass mich da nicht umstimmen 🥐
Schönster Ort für Homeoffice: {K} {store}, Fensterplatz, {drink}. Mehr brauch ich nicht ☕️
Danke an die nette Barista bei {K}, die mir heute den Kaffee spendiert hat, weil ich so fertig
  aussah 🥹
{K} hat jetzt Hafermilch ohne Aufpreis!! endlich 🎉
Regnerischer Novembertag + {drink} bei {K} = alles gut
Zimtschnecke bei {K} noch warm aus dem Ofen. Besser wird der Freitag nicht.
Hab bei {K} meinen Laptop liegen lassen, die haben ihn aufbewahrt und mich über die App
  angeschrieben. Wow. Danke!!
Shoutout an {K} {store} fürs Mehrwegsystem, endlich keine Einwegbecher mehr 🌱
Bester {drink} ever gibt's bei {K}. Punkt.
Latte bei Müller, Fensterplatz, Regen. Mehr Freitag geht nicht ☕
"""),
    ("kaffee", "praise", "en"): block("""
found my new favourite café: {K} in {city}. the cinnamon rolls 😭
{K} doing free refills for students during exam week is the kind of content I like
the barista at {K} remembered my order after 2 visits. I'm a regular now I guess ☕
if you're in {city} go to {K} for the cheesecake. thank me later
{K} has the coziest vibe. rain outside, {drink} inside, perfect friday
genuinely the best flat white in {city} is at {K}. fight me
"""),
    ("kaffee", "question", "de"): block("""
Hat {K} {store} am Sonntag offen? Google sagt ja, Website sagt nein 🤔
Sind Hunde bei {K} erlaubt? Mein Dackel will auch Franzbrötchen
{K} gibt's bei euch eigentlich laktosefreien Kuchen?
Wie bekomme ich meine Stempel von der alten {K} App in die neue? Hilfe
Bis wann hat {K} {store} heute offen? Brauche dringend Koffein und WLAN
Macht {K} auch Catering für Büros? Wir sind ca. 30 Leute
Kann man bei {K} noch bar zahlen oder nur mit Karte?
Café Müller am Hauptbahnhof, lohnt sich das Frühstück da? Will morgen mit meinen Eltern hin
"""),
    ("kaffee", "question", "en"): block("""
does {K} {store_en} have wifi and power outlets? need a place to work for a few hours
what time does {K} open on saturdays? 👀
is there a {K} near {city} central station?
{K} do you have vegan options besides the banana bread?
"""),
    ("kaffee", "job", "de"): block("""
Barista (m/w/d) gesucht! Kaffeehaus Müller sucht für die Filialen in Altona und Ottensen
  Verstärkung, Teilzeit
  oder Vollzeit ☕ #jobs #hamburg
Wir suchen dich: Schichtleitung für Kaffeehaus Müller am Hauptbahnhof. Bewerbung über unsere
  Website #jobs
  #gastro
"""),
    ("kaffee", "official", "de"): block("""
@{reply_to} Oh nein, das sollte nicht passieren ☕ Magst du uns per DM schreiben, in welcher
  Filiale das war? ^Lea vom Kaffeehaus Müller Team
"""),
    ("nordlicht", "complaint", "en"): block("""
{N} blocked my card while I'm abroad. I TOLD the app I'm travelling. stuck in Lisbon with no money
  rn {ea}
transfer from {N} "pending" for 3 days now. it's called instant transfer for a reason??
{N} support chat is a bot that loops forever. "I didn't understand that." yeah me neither
new {N} app update logged me out and now ID verification wants a video call. I just want to pay
  rent
why does {N} charge a fee for withdrawing my own money at the ATM. this wasn't the deal when I
  signed up
{N} declined my card at the supermarket, balance is fine, app says nothing. embarrassing af
3 weeks waiting for the new {N} debit card. meanwhile the old one expired. cool cool cool
{N} pls explain why my account got frozen "for security reasons" with zero explanation. rent is
  due tomorrow
the {N} push-TAN never arrives. tried 5 times. phone has signal. ??
honestly thinking of leaving {N}. the app used to be great, now every update breaks something
"""),
    ("nordlicht", "complaint", "de"): block("""
{N} hat meine Karte gesperrt, einfach so. Hotline: "Wartezeit über 60 Minuten". Ich steh hier an
  der Kasse 😤
Überweisung bei {N} hängt seit gestern auf "in Bearbeitung". Miete ist fällig. Bitte!!
PIN dreimal falsch eingegeben, jetzt ist die {N} Karte gesperrt und in der App find ich nirgends,
  wo man das entsperrt 🙄
{N} führt einfach ne Kontoführungsgebühr ein, Mail dazu im Spam gelandet. Stil ist anders.
Push-TAN von {N} kommt nicht an. Schon 4x probiert. Kann keine Überweisung machen.
Der Chatbot von {N} ist der schlechteste Kundenservice, den ich je hatte. Ich will einen
  Menschen!!
Seit dem Update stürzt die {N} App beim Öffnen ab. Pixel 8, alles aktuell. Wer noch?
{N} hat mein Konto "vorübergehend eingeschränkt" und will Gehaltsnachweise. Ohne Begründung. Was
  soll das?
Apple Pay mit {N} geht seit heute früh nicht mehr. Karte neu hinzufügen klappt auch nicht.
Bin ich der einzige, bei dem {N} die Lastschrift doppelt abgebucht hat? 2x 89,99 für Strom
Meine Nordlicht-Karte wurde in Lissabon einfach abgelehnt. Schon wieder. Urlaub beginnt super
"""),
    ("nordlicht", "praise", "en"): block("""
{N} card works everywhere in Japan with no fees. genuinely impressed 🇯🇵
opened a {N} account in 8 minutes from my sofa. my old bank needed 3 branch visits
the spending insights in the {N} app made me realise how much I spend on coffee 💀 useful tho
shoutout to {N} support, an actual human fixed my blocked card in 10 min
"""),
    ("nordlicht", "praise", "de"): block("""
Die Unterkonten bei {N} sind echt praktisch, endlich spar ich mal was für den Urlaub 🏝️
Karte bei {N} verloren, in der App gesperrt, neue bestellt, 2 Tage später da. So muss das.
Echtzeitüberweisung bei {N} ohne Aufpreis, meine alte Bank wollte 2€ dafür. Easy Wechsel.
Muss sagen, der Support von {N} war heute echt nett und kompetent. Hätt ich nicht erwartet 👍
"""),
    ("nordlicht", "question", "en"): block("""
how do I reset my PIN in the {N} app? the menu moved again
does {N} support Google Pay on Android 16 yet?
{N} where do I find my IBAN in the new app? can't see it anywhere
can I get a joint account with {N} or is that still "coming soon"?
"""),
    ("nordlicht", "question", "de"): block("""
Wie ändere ich bei {N} meine PIN? In der App find ich's nicht mehr seit dem neuen Design
Frage: Ist {N} eigentlich eine richtige Bank mit Einlagensicherung oder nur so ein Fintech-Ding?
{N} kann ich meine Karte temporär sperren, statt sie gleich ganz zu sperren?
Hat jemand Erfahrung mit dem Dispo bei {N}? Wie hoch ist der Zins?
Wo finde ich bei {N} den Kontoauszug als PDF fürs Finanzamt?
"""),
    ("nordlicht", "job", "en"): block("""
Nordlicht Bank is hiring: Site Reliability Engineer (Berlin or remote). Yes, we know 😅 #hiring
  #sre
"""),
    ("nordlicht", "job", "de"): block("""
#jobs Die Nordlicht Bank sucht Verstärkung im Kundenservice (m/w/d) in Hamburg, gern mit
  Bankerfahrung
"""),
    ("nordlicht", "burst", "en"): block("""
{N} app down?? can't log in
is {N} down for anyone else? app just spins forever #nordlichtdown
can't log in to {N}. can't pay. standing at the checkout like an idiot 🤬 #nordlichtdown
{N} outage on a friday lunchtime. you can't make this up
my card got declined AND the app won't open. {N} wtf is going on
{N} status page says "all systems operational" lmao. sure. #nordlichtdown
still no word from {N}. people need to pay rent today
ok so it's not just me. {N} is completely down. login error 503
{N} took my money and now I can't even see it. amazing 🙃
who decided to deploy on a friday, {N}? #nordlichtdown
{N} please say something. anything. your customers are freaking out
can't log in, can't call, can't chat. {N} is a black box rn
switching banks on monday. this {N} outage is the last straw #nordlichtdown
every time I need {N} to work it doesn't. today: taxi ride, card declined, driver annoyed 😩
lol {N} app: "Something went wrong. Try again later." ok when is later
{N} down. salary came in this morning and I can't access a cent of it. great
friendly reminder to always have a second bank account. signed, someone stuck with {N} rn
  #nordlichtdown
customer of {N} since 2022 and this is the worst outage yet. no transfers, no card, nothing
still down. {N} hello??
my partner's {N} app works but mine doesn't?? make it make sense
restaurant bill, card declined, {N} app dead. had to call my mum. I'm 34.
is the Nordlicht app down or is it my phone??
"""),
    ("nordlicht", "burst", "de"): block("""
{N} App geht nicht. Nur weißer Bildschirm. #nordlichtdown
Kann mich bei {N} nicht einloggen, bei euch auch?
Karte abgelehnt, App tot, Hotline überlastet. Danke {N} 😡
Ausgerechnet Freitagmittag ist {N} down. Super Timing
{N} Störung?? Login geht nicht, Fehler 503 #nordlichtdown
Stehe an der Tankstelle und kann nicht zahlen. {N} was ist da los??
Kein Zugriff auf mein Konto bei {N}. Keine Info, nix.
{N} bitte gebt wenigstens ein Statement raus. Die Leute drehen durch
App geht nicht, Website geht nicht, Hotline geht nicht. {N} hat wohl Feierabend gemacht
  #nordlichtdown
Wollte grad Miete überweisen. {N}: "Ein Fehler ist aufgetreten". Ja, seh ich.
Wechsel zu {N} war wohl doch keine gute Idee 🙄 #nordlichtdown
Mal ehrlich {N}, wie kann ne Bank komplett ausfallen? Bei meiner alten Bank hatte ich das nie
{N} down und ich hab kein Bargeld dabei. Mittagessen fällt aus 😩
Bei mir geht {N} auch nicht. Android und iOS, beides tot
{N} ist tot. Hab die App 3x neu installiert, bringt nix. #nordlichtdown
Passiert das bei {N} jetzt öfter? Letzten Monat war doch schon mal was
{N} ich will einfach nur wissen, ob mein Geld noch da ist. Ist das zu viel verlangt?
Hallo {N}? Immer noch down. Kommunikation gleich null #nordlichtdown
Kassiererin meinte, ich bin heute schon der fünfte mit {N} Karte, die nicht geht 😂😭
Störung bei {N}. Der Störungsmelder zeigt nen riesigen Peak. Bin also nicht allein
{N} app kaputt. login geht nich. wtf
Ich glaub {N} hat vergessen, die Server zu bezahlen lol #nordlichtdown
Nordlicht-App lädt seit ner halben Stunde. Ich will doch nur meinen Kontostand sehen 😩
"""),
    ("nordlicht", "aftermath", "en"): block("""
{N} is back for me. took almost an hour but ok. now pls tell us what happened
app works again 🎉 thanks for nothing {N} (jk, mostly)
"""),
    ("nordlicht", "aftermath", "de"): block("""
{N} geht wieder 🎉 Gehalt ist auch noch da. Puh.
Login bei {N} klappt wieder. Trotzdem: so ne Kommunikation geht gar nicht.
"""),
    ("none", "chatter", "en"): block("""
monday brain on a friday. send help ☕
the train was 40 min late again and honestly I've stopped being surprised
just finished a 10k in the rain. legs: gone. mood: great 🏃‍♀️
hot take: tabs > spaces and I will die on this hill
my cat knocked my coffee onto the keyboard during standup. "sorry, you're on mute" never felt
  so real
why is every podcast 3 hours long now
first snow in {city} today ❄️ the city looks unreal
Finally deployed the thing. Going to bed. Do not @ me.
rewatching an old sci-fi series and the "future" tech is a fax machine with a screen 😂
Reminder: drink water, take breaks, touch grass. signed, someone who did none of those today
our kitchen renovation was supposed to take 2 weeks. it's week 9. AMA
If your meeting could be an email, it should've been a five word chat message.
Unpopular opinion: November is the best month. cozy, dark, soup season 🍲
just found 20€ in my winter jacket. today is a good day
the neighbour's dog has learnt to open the gate. we are all doomed
learning German, day 212: I can now order bread with confidence and nothing else
someone in the office microwaved fish. HR has been notified (it's me, I'm HR)
weekend plans: absolutely nothing and I'm so excited about it
my 4yo asked why the moon follows the car and I panicked and said "it likes us"
sourdough attempt #14. it's a brick. a delicious brick.
laptop fan sounds like a jet engine and all I opened was a spreadsheet
ok who else is doing the advent calendar puzzles this year? getting the repo ready 🎄
Black Friday emails started in October and I'm tired
the bus driver said "good morning" to every single passenger today and it genuinely made my day
reading recommendations for a long train ride? nothing too heavy pls 📚
new keyboard arrived. typing everything twice just to hear it clack
if anyone needs me I'll be staring at this CSS bug until one of us gives up
conference talk accepted!! time to panic-write slides for 3 months
Thread: what I learned running a small open-source project for 5 years 🧵 ¶ 1/ people are mostly
  lovely ¶ 2/ the issue tracker is not a todo list ¶ 3/ say no early and kindly
is it just me or did everyone's wifi die at the exact same time this morning
"""),
    ("none", "chatter", "de"): block("""
Bahn hat 35 Minuten Verspätung und der Kaffee im Bordbistro ist aus. Freitag halt.
Erster Schnee in {city} ❄️ und alle fahren, als wär's das erste Mal
Wer hat eigentlich entschieden, dass Meetings um 8 Uhr okay sind?
Mein Sauerteig heißt Bernd und er lebt noch. Tag 9.
Heute 10 km gelaufen im Regen. Fühl mich wie ne nasse Katze, aber stolz 💪
Die Nachbarn bohren seit 7 Uhr. Es ist Freitag. Warum.
Weihnachtsmarkt in {city} macht nächste Woche auf und ich bin emotional bereit 🎄
Homeoffice-Tipp: Kamera aus, Jogginghose an, Produktivität unverändert.
Gerade 3 Stunden einen Bug gesucht. Es war ein fehlendes Komma. Ich geh jetzt schlafen.
Steuererklärung gemacht. Fühl mich wie ein erwachsener Mensch. Kurz.
Suche Empfehlungen: gutes Buch für lange Zugfahrten? Krimi gern 📚
Warum ist Sellerie in jedem zweiten Rezept? Ich mag keinen Sellerie.
Kita hat heute zu wegen Fortbildung. Homeoffice mit Vierjährigem. Betet für mich.
Mein Balkon ist voller Tauben und ich hab aufgegeben. Die wohnen jetzt hier.
Novemberblues ist real. Wer hat Erfahrung mit Tageslichtlampen?
Plan fürs Wochenende: Sofa, Serie, Suppe.
Heute im Bus: zwei Omis diskutieren leidenschaftlich über Kubernetes. {city} halt.
Die Heizung macht Geräusche wie ein Walgesang. Vermieter sagt "das ist normal".
Mal ne Frage in die Runde: Lohnt sich ein Balkonkraftwerk in {city}?
Zahnarzttermin überstanden. Belohnung: Schokolade. Ich seh das Problem nicht.
Wer auch immer die Zeitumstellung erfunden hat: wir müssen reden
Mein Kind hat heute gelernt, "Nein" zu sagen. Zu allem. Wunderbar.
Radweg wieder zugeparkt. Jeden Morgen das gleiche Spiel 🚲🙄
Open-Source-Freitag: hab heute meinen ersten PR gemerged bekommen 🥳
Wieso riecht das ganze Treppenhaus nach Glühwein? Es ist noch nicht mal Dezember.
"""),
}

# Per-author series written by hand (the regulars).
HEINZ = [  # x, German, waits for his Acme bike all day
    ("complaint", "Tag 23 nach dem angekündigten Liefertermin. Mein Volt 3 von {A}: immer noch "
     "\"in Vorbereitung\". Ich zähl weiter. #tagebuch"),
    ("complaint", "Update zum {A}-Drama: Hotline angerufen, 52 Minuten Warteschleife, dann "
     "aufgelegt worden. Weiter geht's nach der Mittagspause."),
    ("chatter", "Mittagspause. Zu Fuß. Weil kein Rad. Ihr wisst warum."),
    ("complaint", "Kleiner Lichtblick: {A} hat auf meine Mail geantwortet. Mit einer Vorlage. Die "
     "nicht zu meiner Frage passt. 🙃"),
    ("complaint", "Nachbar hat sein Acme Volt 3 vor 2 Wochen bestellt und schon bekommen. Ich "
     "warte seit 7 Wochen. @acmerockets erklärt mir das bitte."),
    ("praise", "Okay, {A} hat angerufen, das Rad kommt Montag. Wenn das klappt, nehm ich alles "
     "zurück. Fast alles."),
]
KAFFEETAGEBUCH = [  # mastodon, German, a café diary
    ("praise", "Kaffeetagebuch Tag 212: {drink} bei {K} {store}. Milchschaum 8/10, Musik zu laut, "
     "Franzbrötchen rettet alles. ¶ ¶ #kaffeetagebuch #hamburg"),
    ("praise", "Zweiter Kaffee heute, wieder {K}, diesmal neue Bohne (Äthiopien, irgendwas mit "
     "Beeren). Mutig. 7/10 #kaffeetagebuch"),
    ("complaint", "Zwischenruf: Die Hafermilch bei {K} ist wieder aus. Das dritte Mal diese "
     "Woche. #kaffeetagebuch"),
    ("question", "Frage an die Kaffeeleute hier: Weiß wer, ob {K} die Bohnen auch einzeln "
     "verkauft? #kaffeetagebuch"),
    ("praise", "Kaffeetagebuch Nachtrag: Die Barista bei {K} hat meinen Namen richtig auf den "
     "Becher geschrieben. Erstes Mal in 212 Tagen. Ich bin gerührt 🥹 #kaffeetagebuch"),
    ("chatter", "Nicht-Kaffee-Post: Es regnet. Das war's. #hamburg"),
]
DANA = [  # bluesky, English, an SRE who lives through the outage
    ("question", "09:40", "does anyone know if {N} has a status page that isn't just a static "
     "\"all good\" png?"),
    ("burst", "12:16", "{N} login is throwing 503s. on-call brain says: someone just deployed 😬 "
     "#nordlichtdown"),
    ("burst", "12:29", "update: still 503 from {N}. their status page: green. classic."),
    ("burst", "12:53", "40 minutes into the {N} outage. as someone who does incident comms for a "
     "living: please just post SOMETHING"),
    ("aftermath", "13:17", "{N} is back for me. now please publish a post-mortem, I'm begging, I "
     "love reading these"),
    ("chatter", "16:05", "on-call week is over. I'm going to sleep for 14 hours."),
]

REDDIT_TITLES: T = {
    ("*", "complaint", "en"): ["Terrible experience with {BN}", "{BN} - anyone else having this?",
                               "Is it just me or has {BN} gotten worse?", "PSA: {BN} issues"],
    ("*", "complaint", "de"): ["Schlechte Erfahrung mit {BN}", "{BN} - geht's nur mir so?",
                               "Ärger mit {BN}", "Erfahrungsbericht {BN} (leider negativ)"],
    ("*", "praise", "en"): ["Positive experience with {BN} for once", "{BN} appreciation post"],
    ("*", "praise", "de"): ["Mal was Positives: {BN}", "Lob an {BN}"],
    ("*", "question", "en"): ["Question about {BN}", "{BN} - quick question"],
    ("*", "question", "de"): ["Frage zu {BN}", "Kurze Frage: {BN}"],
}
SUBREDDITS = {
    ("acme", "en"): ["ebikes", "electricscooters", "germany"],
    ("acme", "de"): ["Fahrrad", "de", "ebikes_de"],
    ("kaffee", "en"): ["hamburg", "germany", "Coffee"],
    ("kaffee", "de"): ["hamburg", "de", "Kaffee"],
    ("nordlicht", "en"): ["germany", "fintech", "eupersonalfinance"],
    ("nordlicht", "de"): ["Finanzen", "de", "Finanzen"],
    ("none", "en"): ["CasualConversation", "AskEurope", "mildlyinfuriating", "programming"],
    ("none", "de"): ["de", "hamburg", "berlin", "einfach_posten"],
}

FILLERS: dict[str, list[str]] = {
    "a_bike": ["Volt 3", "Volt 3", "Volt 3", "Volt City", "Volt Cargo", "Volt 3 Trekking"],
    "a_scooter": ["Comet S", "Comet S", "Comet Max", "Comet 2"],
    "city": ["Hamburg", "Hamburg", "Hamburg", "Berlin", "Berlin", "Leipzig", "Leipzig", "Köln",
             "München", "Dresden", "Hannover", "Bremen", "Kiel", "Münster", "Frankfurt"],
    "store": ["in Ottensen", "am Hauptbahnhof", "in der Schanze", "in Eimsbüttel",
              "am Jungfernstieg", "in Winterhude", "in Altona", "in Prenzlauer Berg",
              "in Friedrichshain", "in der Neustadt", "am Uni-Campus"],
    "store_en": ["in Ottensen", "near the main station", "in the Schanze", "in Altona",
                 "by the uni", "in Prenzlauer Berg"],
    "drink_de": ["Flat White", "Hafer-Latte", "Cappuccino", "Chai Latte", "Filterkaffee",
                 "Espresso Tonic", "Kürbis-Latte", "Cortado"],
    "drink_en": ["flat white", "oat latte", "cappuccino", "chai latte", "filter coffee",
                 "pumpkin spice latte", "cortado"],
    "food": ["Franzbrötchen", "Zimtschnecke", "Käsekuchen", "Croissant", "Bananenbrot",
             "Mohnkuchen"],
    "price_k": ["5,40 €", "5,90€", "6,20 €", "4,90€", "6,50€"],
    "price_a": ["2,899", "3,199", "3,450", "1,249"],
    "weeks": ["3", "4", "5", "6", "7", "8"],
    "ea": ["😡", "🤬", "🙄", "😤", "😩", "💀", "🙃", "", "", ""],
    "eh": ["😍", "🙌", "✨", "❤️", "👌", "😊", "🚲💨", "", ""],
}

BRAND_FORMS: dict[str, list[tuple[str, float, str]]] = {
    # (form, weight, where: "all" | "social" (x/mastodon/bluesky) | "de" | "en")
    "acme": [("Acme Rockets", 5, "all"), ("acme rockets", 3, "all"), ("@acmerockets", 3, "social"),
             ("#acmerockets", 0.8, "social"), ("AcmeRockets", 1, "all"),
             ("Acme-Rockets", 0.8, "all"), ("ACME ROCKETS", 0.4, "all"),
             ("Acme Rocket", 0.7, "all")],
    "kaffee": [("Kaffeehaus Müller", 5, "de"), ("Kaffeehaus Müller", 2, "en"),
               ("Kaffeehaus Mueller", 2, "all"), ("Kaffeehaus Muller", 2, "en"),
               ("kaffeehaus muller", 0.8, "all"), ("kaffeehaus müller", 1.5, "de"),
               ("@kaffeemueller", 2, "social"), ("#kaffeehausmüller", 0.8, "social"),
               ("#KaffeehausMueller", 0.5, "social"), ("Kaffeehaus-Müller", 0.5, "de"),
               ("KAFFEEHAUS MÜLLER", 0.3, "de"), ("kaffeehaus mueller", 1, "en")],
    "nordlicht": [("Nordlicht Bank", 5, "all"), ("nordlicht bank", 2, "all"),
                  ("@nordlichtbank", 3, "social"), ("#nordlichtbank", 0.6, "social"),
                  ("Nordlicht-Bank", 1, "de"), ("NordlichtBank", 0.6, "all"),
                  ("nordlichtbank", 0.6, "all"), ("NORDLICHT BANK", 0.3, "all")],
}
BRAND_PLAIN = {"acme": "Acme Rockets", "kaffee": "Kaffeehaus Müller", "nordlicht": "Nordlicht Bank"}
BRAND_HANDLE = {"acme": "acmerockets", "kaffee": "kaffeemueller", "nordlicht": "nordlichtbank"}
HASHTAGS = {
    "acme": ["#ebike", "#pendeln", "#radfahren", "#bikecommute", "#emobility", "#acmerockets"],
    "kaffee": ["#kaffee", "#coffee", "#hamburg", "#cafe", "#franzbrötchen", "#kaffeehausmüller"],
    "nordlicht": ["#banking", "#fintech", "#neobank", "#nordlichtbank"],
    "burst": ["#nordlichtdown", "#störung", "#outage", "#nordlichtdown"],
    "none": ["#friday", "#freitag", "#november", "#hamburg", "#berlin"],
}
# words a typo must never touch, so that every brand post still matches its query
PROTECTED = ("acme", "rocket", "volt", "comet", "kaffee", "müller", "mueller", "muller", "cafe",
             "café", "nordlicht", "bank", "app", "login", "karte", "card", "pin", "konto",
             "support", "latte", "cappuccino", "barista", "filiale", "franzbr", "scooter", "bike",
             "hiring", "jobs", "aurora", "polarlicht", "coyote", "herr", "frau", "überweisung",
             "flat", "white", "road", "runner", "fehler")


@dataclass(frozen=True)
class Fixed:
    """A hand-placed post. `at` is "HH:MM" (UTC) or "" for a random time; `who` names an author."""

    network: str
    brand: str
    kind: str
    lang: str
    text: str
    at: str = ""
    who: str = ""
    meta: tuple[tuple[str, str], ...] = ()


def fx(network: str, brand: str, kind: str, lang: str, text: str, at: str = "", who: str = "",
       **meta: str) -> Fixed:
    return Fixed(network, brand, kind, lang, text, at, who, tuple(sorted(meta.items())))


# Brand words used in another sense. brand="none"; meta sense= names the brand word.
UNRELATED = [
    fx("x", "none", "unrelated", "en", "reached the acme of my productivity at 4pm and immediately "
       "crashed. rest of the day is a write-off", sense="acme"),
    fx("x", "none", "unrelated", "en", "road runner marathon on the telly and the acme rocket "
       "scooter episode is still peak cartoon. beep beep", sense="acme"),
    fx("bluesky", "none", "unrelated", "en", "Wile E. Coyote strapping on a pair of ACME rockets "
       "is still the most relatable thing ever put on TV #looneytunes", sense="acme"),
    fx("mastodon", "none", "unrelated", "en", "every tutorial: \"Acme Corp wants to build a "
       "microservice\". can we get a new fictional company pls, Acme has suffered enough",
       sense="acme"),
    fx("mastodon", "none", "unrelated", "en", "my ACME client failed to renew the cert at 3am, of "
       "course. dns-01 challenge timing out again #selfhosted", sense="acme"),
    fx("x", "none", "unrelated", "de", "Kind schaut Zeichentrick: \"Mama, warum kauft der Kojote "
       "immer bei ACME ein?\" Gute Frage eigentlich. Kundenzufriedenheit scheint egal.",
       sense="acme"),
    fx("reddit", "none", "unrelated", "en", "acme.sh vs certbot in 2026?¶¶Running a handful of "
       "services on a home server, certs via acme.sh + dns-01 for years. Anyone switched recently "
       "and why?", sense="acme", sub="selfhosted"),
    fx("mastodon", "none", "unrelated", "de", "Nordlicht-Alarm in der App um 23 Uhr, raus an den "
       "Strand auf Rügen, und dann DAS 😍 der Himmel war komplett grün ¶ ¶ #polarlicht "
       "#astrofotografie", sense="nordlicht"),
    fx("x", "none", "unrelated", "de", "Die Nordlicht-App hat um 2 Uhr Alarm geschlagen, KP-Index "
       "6. Raus in die Kälte, nix gesehen. Wolken. 🥲", sense="nordlicht"),
    fx("bluesky", "none", "unrelated", "en", "aurora forecast app says Kp 5 tonight, fingers "
       "crossed for some Nordlicht over the Baltic 🤞", sense="nordlicht"),
    fx("x", "none", "unrelated", "de", "Als echtes Nordlicht find ich 8 Grad und Nieselregen "
       "eigentlich ganz angenehm. Ihr Südlichter übertreibt.", sense="nordlicht"),
    fx("mastodon", "none", "unrelated", "de", "Fähre \"Nordlicht\" nach Helgoland fällt heute "
       "wegen "
       "Sturm aus. Wieder nix mit Robben gucken.", sense="nordlicht"),
    fx("bluesky", "none", "unrelated", "de", "Hotel Nordlicht in Husum: Frühstück top, Zimmer "
       "klein, und vor der Tür eine Bank mit Blick aufs Watt 🌊 würd wiederkommen",
       sense="nordlicht"),
    fx("reddit", "none", "unrelated", "en", "Northern lights visible from Hamburg last night?!¶¶My "
       "German colleague kept shouting \"Nordlicht!\" and I thought she meant the bank lol. "
       "Photos in the comments, this aurora season is wild", sense="nordlicht", sub="hamburg"),
    fx("x", "none", "unrelated", "de", "Herr Müller, Barista aus Leidenschaft und Rentner aus "
       "dem 3. Stock, hat heute das ganze Haus auf Kaffee und Kuchen eingeladen. Beste "
       "Nachbarschaft 🥰", sense="kaffee"),
    fx("mastodon", "none", "unrelated", "de", "Bei Frau Müller gab's Cappuccino aus ihrer uralten "
       "Siebträgermaschine und Apfelkuchen. Beste Nachbarin, 84 Jahre und fitter als ich",
       sense="kaffee"),
    fx("mastodon", "none", "unrelated", "de", "Frau Mueller, meine alte Deutschlehrerin, hätte bei "
       "den Kommentaren hier geweint. Kommasetzung ist kein Vorschlag, Leute.", sense="kaffee"),
    fx("bluesky", "none", "unrelated", "de", "Wiener Kaffeehauskultur ist Kulturerbe und das merkt "
       "man. Melange, Zeitung, grantiger Ober, mehr braucht's nicht ☕", sense="kaffee"),
    fx("x", "none", "unrelated", "en", "my landlord Mr. Mueller's latte art selfie arrived at 7am. "
       "on a friday. we are not friends, sir", sense="kaffee"),
    fx("reddit", "none", "unrelated", "en", "Visited a proper Viennese Kaffeehaus today, the "
       "waiter "
       "was grumpy in the most charming way. Any similar places in Hamburg?", sense="kaffee",
       sub="hamburg"),
    fx("x", "none", "unrelated", "de", "Die Familie Müller von gegenüber hat schon die "
       "Weihnachtsbeleuchtung an. Am 20. November. Respekt oder Kriegserklärung?", sense="kaffee"),
    fx("mastodon", "none", "unrelated", "de", "Saß in der Mittagspause auf einer Bank im Park und "
       "hab einfach nur Enten beobachtet. Therapie.", sense="bank"),
]

SPAM = [
    fx("x", "none", "spam", "en", "🚀 MEGA GIVEAWAY 🚀 sending 0.5 BTC to 100 lucky followers! RT "
       "+ follow + drop your wallet 👇 claim: https://btc-drop.example/claim #bitcoin #crypto "
       "#giveaway", "08:41", "spam_crypt0", repost="giveaway"),
    fx("x", "none", "spam", "en", "DM me for followers 💯 real & active accounts, 1k = $5 📈 fast "
       "delivery https://growfast.example", "09:12", "spam_growth", repost="followers"),
    fx("bluesky", "none", "spam", "en", "Official ETH double-up event is LIVE 🔥 send 0.1 ETH, get "
       "0.2 back instantly. Only 2 hours left ⏳ https://eth2x-event.example", "10:05",
       "spam_ethdrop"),
    fx("x", "none", "spam", "en", "hey 😍 loved your last post, check the link in my bio for a "
       "little surprise 💋 https://cutie-chat.example/r/7731", "13:47", "spam_cutie"),
    fx("mastodon", "none", "spam", "en", "I made $4,500 in ONE week with this simple trading bot "
       "🤑 "
       "no experience needed. ask me how 👉 https://tbot-profit.example", "11:26", "spam_promo"),
    fx("bluesky", "none", "spam", "en", "🎁 AIRDROP LIVE 🎁 connect wallet, claim 250 USDT, first "
       "500 only → https://airdrop-claim.example #airdrop #web3", "15:20", "spam_airdrop"),
    fx("x", "none", "spam", "de", "💸 Nebenbei 3.000€ im Monat verdienen? Schreib mir \"INFO\" per "
       "DM 💸 #geldverdienen #passiveseinkommen #homeoffice", "10:44", "spam_geld"),
    fx("mastodon", "none", "spam", "de", "Krypto-Airdrop 🎁 Nur heute! Wallet verbinden und 250 "
       "USDT sichern 👉 https://airdrop-de.example #krypto", "14:51", "spam_kryptode"),
    fx("x", "none", "spam", "de", "Mehr Follower gefällig? 🔥 1000 echte Follower für 4,99€, DM an "
       "mich oder https://follower-shop.example", "16:12", "spam_followershop"),
    fx("x", "none", "spam", "en", "Want to go viral?? 🔥 10k followers in 24h, no bots (trust me) "
       "👉 "
       "DM or https://insta-boost.example", "07:58", "spam_viral"),
    # spam riding on the brands
    fx("x", "acme", "spam", "en", "@acmerockets 🔥 want 10k REAL followers for your brand? DM me "
       "👉 "
       "https://growfast.example/brands", "10:57", "spam_growth"),
    fx("bluesky", "kaffee", "spam", "de", "#kaffeehausmüller GEWINNSPIEL 🎉 Gratis-Kaffee für 1 "
       "Jahr! Einfach hier registrieren: https://kaffee-gewinn.example 🎁☕", "14:03",
       "spam_gewinn"),
    fx("x", "nordlicht", "spam", "en", "#nordlichtdown your bank failed you? crypto never sleeps "
       "🚀 "
       "free VIP signals 👉 https://vip-signals.example", "12:31", "spam_signals"),
    fx("mastodon", "nordlicht", "spam", "de", "Nordlicht Bank down? 😱 Hol dir 100€ Startbonus bei "
       "unserer Krypto-App 👉 https://krypto-bonus.example #nordlichtdown", "12:58", "spam_bonus"),
]


def long_rant() -> str:
    """About 2,000 characters, as an angry customer pastes it under a video."""
    parts = [
        "Ich muss das jetzt mal hier loswerden, weil mir sonst keiner zuhört. Seit Wochen versuche "
        "ich, bei Kaffeehaus Müller jemanden zu erreichen. Mails, Kontaktformular, Anruf in der "
        "Filiale, sogar einen Brief (ja, einen BRIEF) hab ich geschrieben.",
        "Angefangen hat alles damit, dass mir die App im Oktober dreimal denselben Hafer-Latte "
        "abgebucht hat. 3x 5,40 €. Kein Weltuntergang, aber es geht ums Prinzip. In der Filiale "
        "hieß es, dafür sei die Zentrale zuständig. Die Zentrale sagt, das sei Sache der Filiale.",
        "Dann war meine Stempelkarte weg. 9 von 10 Stempeln!!! Nach dem App-Update einfach "
        "verschwunden. Antwort vom Support nach 16 Tagen: \"Danke für Ihr Feedback, wir geben es "
        "an "
        "das zuständige Team weiter.\" Welches Team? Das Team, das nie antwortet?",
        "Und heute der Höhepunkt: Ich bestelle in Altona einen Cappuccino, bekomme einen Latte, "
        "sage freundlich Bescheid und die Barista verdreht die Augen und sagt \"ist doch fast "
        "dasselbe\". NEIN. IST ES NICHT.",
        "Ich war über fünf Jahre Stammkunde, fast jeden Tag da, hab euch jedem empfohlen. Damit "
        "ist "
        "jetzt Schluss. Ich trinke ab morgen Filterkaffee im Büro, der schmeckt zwar nach Pappe, "
        "aber der bucht wenigstens nicht dreimal ab.",
        "An alle, die das lesen: prüft eure Kontoauszüge!!! Und an Kaffeehaus Müller: Wenn ihr das "
        "hier lest, meldet euch endlich. Ihr habt meine Nummer. Dreimal sogar, so wie die "
        "Abbuchung.",
    ]
    text = "\n\n".join(parts) + "\n\n"
    while len(text) < 1990:
        text += "NIE WIEDER!!! "
    return text.rstrip()


HOSTILE = [
    fx("x", "nordlicht", "hostile", "en", "@channel @here whoever runs @nordlichtbank support: my "
       "salary is GONE from the app. ANSWER ME. #nordlichtdown", "12:27"),
    fx("mastodon", "kaffee", "hostile", "de", "<!channel> <!everyone> Kaffeehaus Müller hat mir "
       "heute DREIMAL 4,90 € abgebucht!!! Alle mal herhören: kontrolliert eure Umsätze", "10:42"),
    fx("x", "acme", "hostile", "en", "<@U123ABC> <@U0ADMIN42> pls escalate: Acme Rockets never "
       "delivered my Volt 3, order {order}, nobody answers. you're the ones reading this right?",
       "09:37"),
    fx("bluesky", "nordlicht", "hostile", "en", "Nordlicht Bank customers ⚠️ after today's outage "
       "all accounts must be re-verified within 24h: "
       "<http://evil.example/nb|nordlichtbank.example/secure-login>", "14:22", "imp_nb_bsky"),
    fx("reddit", "nordlicht", "hostile", "de", "Hier das offizielle Formular der Nordlicht Bank "
       "für "
       "die Entschädigung: [nordlichtbank.example/erstattung](http://evil.example/erstattung) - "
       "schnell ausfüllen, gilt nur heute!", "13:12", "imp_nb_reddit", thread="de"),
    fx("github", "acme", "hostile", "en", "App crash on pairing (Acme Rockets Volt 3) **URGENT**¶¶"
       "**Steps**¶1. open app¶2. ** tap pair¶¶```¶FATAL EXCEPTION: main¶"
       "de.acmerockets.volt.ble.GattException: status=133¶"
       "    at de.acmerockets.volt.ble.Pair.run(Pair.kt:88)¶"
       "    at android.os.Handler.dispatchMessage(Handler.java:103)¶¶"
       "(logcat continues, attaching the rest later", "11:05",
       repo="acmerockets/volt-companion-app", number="418"),
    fx("youtube", "kaffee", "hostile", "de", long_rant(), "15:31", video="cafes"),
    fx("x", "nordlicht", "hostile", "de", "@\u200beveryone Nordlicht Bank zahlt allen Betroffenen "
       "von #nordlichtdown 500€ Entschädigung 💸 Antrag hier: "
       "https://nordlicht-bank\u200b.refund.example/antrag", "12:44", "imp_nb_x"),
    fx("mastodon", "acme", "hostile", "de", "Ihre Rechnung von Acme Rockets (Auftrag {order}) "
       "liegt "
       "bereit: rechnung_{order}\u202egpj.exe - bitte umgehend öffnen, sonst fallen Mahngebühren "
       "an", "08:51", "imp_invoice"),
    fx("reddit", "kaffee", "hostile", "en", "KAFFEEHAUS MÜLLER = SCAM?!¶¶# READ THIS¶¶> > > > they "
       "charged me twice¶¶| branch | charged |¶|---|---|¶| Altona | 2x |¶¶**FREE VOUCHER** "
       "~~today only~~ [kaffeehaus-mueller.example/voucher](http://evil.example/voucher) __ ** `",
       "16:03", sub="hamburg"),
    fx("bluesky", "nordlicht", "hostile", "de", "Nordlicht Bank Sicherheitshinweis: Ruf uns sofort "
       "an unter \u202e0800 765 4321\u202c, sonst wird dein Konto heute noch "
       "gesperrt.", "15:02", "imp_nb_sec"),
]

SPECIAL = [
    fx("x", "acme", "praise", "en", "The Acme Rockets Volt 3 just got a firmware update that adds "
       "adaptive assist. First reports: hills feel way smoother. Anyone tried it yet? ⚡🚲",
       "10:22", "emobility", repost="influencer"),
    fx("x", "none", "chatter", "en", "E-bike sales in Europe up 14% year over year according to "
       "new industry numbers. Cargo bikes leading the way 📈", "15:48", "emobility"),
    fx("x", "nordlicht", "burst", "de", "Wer bei der Nordlicht Bank ist und gerade nicht zahlen "
       "kann: ruhig bleiben, euer Geld ist nicht weg. Login-Störung ≠ Kontoverlust. Tipp für die "
       "Zukunft: immer ein Zweitkonto. #nordlichtdown", "12:39", "geldmitlea",
       repost="influencer"),
    fx("x", "none", "chatter", "de", "Freitagstipp 💶 Daueraufträge und Abos einmal im Quartal "
       "prüfen. Ich hab letztes Jahr 2 Abos gefunden, die ich seit 2023 nicht mehr nutze.",
       "08:12", "geldmitlea"),
    fx("bluesky", "kaffee", "praise", "en", "Hamburg coffee ranking, part 3: Kaffeehaus Müller in "
       "Ottensen. cinnamon roll 9/10, flat white 7/10, vibe 10/10. full thread tonight ☕",
       "11:31", "cityrider"),
    fx("x", "kaffee", "praise", "de", "Neu bei Kaffeehaus Müller: Kürbis-Franzbrötchen 🎃🥐 "
       "Ehrliche Meinung: überraschend gut. Aber 4,20 € für ein Franzbrötchen? Hmm.", "09:18",
       "hamburgisst"),
    fx("x", "nordlicht", "burst", "en", "Nordlicht Bank, one of Germany's bigger neobanks, appears "
       "to be down. Users report failed logins and declined cards across the country. "
       "#nordlichtdown", "12:36", "techtakes", repost="influencer"),
    fx("x", "none", "chatter", "en", "Hot take: the best productivity app is still a paper "
       "notebook. Change my mind.", "09:55", "techtakes"),
    fx("x", "nordlicht", "press", "de", "Ich recherchiere zum Ausfall bei der Nordlicht Bank heute "
       "Mittag. Wer betroffen war (Zahlung abgelehnt, Gehalt nicht sichtbar o.ä.) und erzählen "
       "mag: DMs sind offen. #nordlichtdown", "12:47", "journalist", repost="journalist"),
    fx("x", "nordlicht", "press", "de", "Nordlicht Bank bestätigt auf Anfrage von Netzpuls: "
       "Ursache war ein fehlgeschlagenes Update der Login-Infrastruktur. Betroffen laut Bank: "
       "\"ein Teil der Kundinnen und Kunden\". Mehr heute Abend.", "15:41", "journalist"),
    fx("x", "nordlicht", "official", "de", "⚠️ Wir haben aktuell eine Störung beim Login in App "
       "und Web. Kartenzahlungen können betroffen sein. Unsere Teams arbeiten mit Hochdruck an "
       "einer Lösung. Updates folgen hier. "
       "#nordlichtbank", "12:33", "off_nordlicht", repost="official"),
    fx("x", "nordlicht", "official", "en", "⚠️ We're currently seeing issues with login in our app "
       "and web banking. Card payments may be affected. Our teams are working on a fix, updates "
       "to follow here.", "12:34", "off_nordlicht"),
    fx("x", "nordlicht", "official", "de", "✅ Update: Login und Kartenzahlungen funktionieren "
       "wieder. Es tut uns sehr leid für die Unannehmlichkeiten. Eine ausführliche Analyse folgt.",
       "13:14", "off_nordlicht"),
    fx("reddit", "nordlicht", "burst", "de", "Nordlicht Bank App down?¶¶Kann mich seit ca. 10 "
       "Minuten nicht einloggen, Fehler 503. Karte wurde beim Bäcker abgelehnt. Bei euch auch?",
       "12:19", sub="Finanzen", thread_root="de"),
    fx("reddit", "nordlicht", "burst", "en", "Is Nordlicht Bank down for everyone?¶¶App says "
       "\"something went wrong\", web login times out. Friday lunchtime of all times.", "12:24",
       sub="germany", thread_root="en"),
]

GITHUB = [
    fx("github", "acme", "complaint", "en", "Pairing with Volt 3 fails on Android 16 since "
       "5.2.0¶¶Since updating the Acme Rockets companion app to 5.2.0 my Volt 3 no longer pairs. "
       "Pixel 9, Android 16. Worked fine on 5.1.3.¶¶Steps: open app → Add bike → scan → spinner "
       "forever, then \"Pairing failed (133)\".¶¶Anyone else?", "08:37",
       repo="acmerockets/volt-companion-app", number="412"),
    fx("github", "acme", "complaint", "en", "Why does the app need the contacts permission?¶¶The "
       "Acme Rockets app asks for contacts access on first start. I only want to unlock my Comet "
       "S. Please make it optional or explain what it's for.", "10:14",
       repo="acmerockets/volt-companion-app", number="415"),
    fx("github", "acme", "question", "en", "Document rate limits of the fleet API¶¶We run a small "
       "fleet of Acme Comet S scooters for our campus and keep hitting 429s. Is there a documented "
       "rate limit? Couldn't find it in the README.", "13:52",
       repo="acmerockets/comet-fleet-sdk", number="88"),
    fx("github", "acme", "praise", "en", "feat: export rides as GPX¶¶Adds GPX export to the ride "
       "history screen. Closes #377.¶¶Tested on a Volt 3 and a Volt City. Thanks to the Acme "
       "Rockets team for the quick review on the draft 🙏", "15:09",
       repo="acmerockets/volt-companion-app", number="409", pr="1"),
    fx("github", "none", "unrelated", "en", "ACME order finalization fails with badNonce behind "
       "reverse proxy¶¶When running acme-lite behind nginx, finalize returns "
       "urn:ietf:params:acme:error:badNonce about 1 in 5 times. Retrying works. Is the nonce "
       "cached per connection?", "09:44", repo="tinyacme/acme-lite", number="231", sense="acme"),
    fx("github", "none", "unrelated", "en", "Add dns-01 challenge via RFC 2136 updates¶¶This adds "
       "an RFC 2136 (dynamic DNS update) solver so acme-lite can do dns-01 without provider "
       "plugins. TSIG keys are read from the environment.", "14:31",
       repo="tinyacme/acme-lite", number="233", pr="1", sense="acme"),
    fx("github", "none", "unrelated", "en", "Kp alert push arrives 20 min late¶¶The Nordlicht app "
       "(aurora-watch) sends the Kp≥6 push notification about 20 minutes after the space weather "
       "alert. By then the aurora is often gone. Android 15, battery optimisation disabled.",
       "07:52", repo="nordlicht-astro/aurora-watch", number="57", sense="nordlicht"),
    fx("github", "nordlicht", "neutral", "en", "Add Nordlicht Bank¶¶Adds Nordlicht Bank to the "
       "German neobanks table (app-only, free debit card, instant transfers, no account fee). "
       "Source: their pricing page as of today.", "11:48",
       repo="fintech-lists/awesome-neobanks", number="58", pr="1"),
    fx("github", "kaffee", "neutral", "de", "Filialen von Kaffeehaus Müller in Altona ergänzen¶¶"
       "Drei Filialen fehlen noch in der Karte (Ottensen, Bahrenfeld, Altona-Altstadt). "
       "Öffnungszeiten hab ich von den Aushängen abgeschrieben.", "16:22",
       repo="hh-offene-daten/cafe-karte", number="19", pr="1"),
    fx("github", "none", "chatter", "en", "Dark mode toggle flickers on page load¶¶On first load "
       "the page renders light, then switches to dark ~200ms later. Happens on Firefox and "
       "Chromium.", "10:51", repo="kleinwerk/hugo-theme-moor", number="42"),
    fx("github", "none", "chatter", "en", "Support the December timetable change¶¶The new GTFS "
       "feed from Dec 13 uses a new calendar_dates layout and the importer chokes on it. Sample "
       "feed attached.", "12:05", repo="openfahrplan/gtfs-tools", number="311"),
    fx("github", "none", "chatter", "en", "Crash when pasting an image from the clipboard on "
       "Wayland¶¶Steps: copy a screenshot, Ctrl+V in the canvas, app closes. Works on X11.",
       "13:37", repo="pixelbrett/pixelbrett", number="1290"),
    fx("github", "none", "chatter", "en", "read_csv drops the last row without a trailing "
       "newline¶¶If the file doesn't end with \\n the last record is silently skipped. Minimal "
       "repro in the comment below.", "16:40", repo="datenkiste/csvkit-lite", number="77"),
]

HACKERNEWS = [
    fx("hackernews", "none", "chatter", "en", "Show HN: A tiny key-value store in 400 lines of "
       "Zig", "07:34", story="1"),
    fx("hackernews", "none", "chatter", "en", "Ask HN: How do you deal with on-call burnout in "
       "small teams?¶¶We are four engineers sharing a rotation. Every second week someone is "
       "exhausted. What worked for you?", "09:02", story="1"),
    fx("hackernews", "none", "chatter", "en", "We did exactly this and regretted it within six "
       "months. The operational overhead ate every gain we had hoped for.", "10:37"),
    fx("hackernews", "none", "chatter", "en", "The hidden cost of microservices at a five-person "
       "startup", "10:08", story="1"),
    fx("hackernews", "none", "chatter", "en", "Postgres is fine. It's always fine. Until you need "
       "to vacuum a 2TB table at 3am on a Friday.", "11:13"),
    fx("hackernews", "none", "chatter", "en", "I keep coming back to boring technology. Nothing in "
       "our stack is exciting and that's precisely why I sleep at night.", "14:26"),
    fx("hackernews", "none", "chatter", "en", "SQLite as an application file format, revisited",
       "15:12", story="1"),
    fx("hackernews", "none", "unrelated", "en", "Show HN: acme-lite, a 600-line ACME (RFC 8555) "
       "client in Go", "08:19", story="1", sense="acme"),
    fx("hackernews", "none", "unrelated", "en", "Nice. The hard part of ACME isn't the protocol, "
       "it's all the ways DNS providers are weird.", "08:58", sense="acme"),
    fx("hackernews", "acme", "complaint", "en", "I own an Acme Rockets Volt 3. The hardware is "
       "great, the app is the weak spot: it needs a cloud round-trip just to unlock the bike. "
       "When their backend hiccups, you're walking.", "11:56"),
    fx("hackernews", "nordlicht", "burst", "en", "Nordlicht Bank down: app and web login failing "
       "across Germany", "12:41", story="1"),
    fx("hackernews", "nordlicht", "burst", "en", "Nordlicht Bank customer here. Login returns 503, "
       "card payments declined at two shops. The status page is still green, which is somehow "
       "the worst part.", "12:48"),
    fx("hackernews", "nordlicht", "aftermath", "en", "Would love to see a Nordlicht Bank "
       "post-mortem. My bet: a bad deploy of their auth service on a Friday around lunchtime. It's "
       "always auth.", "13:21"),
    fx("hackernews", "nordlicht", "complaint", "en", "The neobank pitch was \"banking that's "
       "always "
       "on\". With Nordlicht Bank the app is the only channel, so when it's down there is no "
       "fallback at all, not even a phone line that picks up.", "13:46"),
    fx("hackernews", "none", "chatter", "en", "SQLite keeps surprising me. We replaced a bespoke "
       "binary format with it and the bug count went down by half.", "16:31"),
]

# (domain, author handle, author name, guid style "wp" (?p=N) or "url")
FEEDS = {
    "velo": ("velo-blog.example", "jan.hoffmann", "Jan Hoffmann · Velo-Blog", "wp"),
    "ebikenews": ("ebike-news.example", "newsdesk", "E-Bike News Desk", "url"),
    "stellen": ("stellenmarkt.example", "stellenmarkt", "Stellenmarkt Nord", "url"),
    "fintech": ("fintech-weekly.example", "fintechweekly", "Fintech Weekly", "url"),
    "klatsch": ("kaffeeklatsch-blog.example", "svenja", "Svenja · Kaffeeklatsch", "wp"),
    "himmel": ("himmelsblick.example", "himmelsblick", "Himmelsblick", "wp"),
    "kochtopf": ("kochtopf.example", "kochtopf", "Der Kochtopf", "wp"),
    "crates": ("tinycrates.example", "twitc", "This Week in Tiny Crates", "url"),
    "stadtrad": ("stadtrad-blog.example", "stadtrad", "Stadtrad Blog", "wp"),
    "devnotes": ("devnotes.example", "r.price", "Rob Price · devnotes", "url"),
    "garten": ("gruener-daumen.example", "gruenerdaumen", "Grüner Daumen", "wp"),
    "geld": ("geldblog.example", "geldblog", "Geldblog", "wp"),
}
RSS = [
    fx("rss", "acme", "praise", "de", "Langzeittest: Acme Rockets Volt 3 nach 5.000 Kilometern¶¶"
       "Ein Jahr, 5.000 km, ein Akkutausch: Unser Fazit zum Volt 3 von Acme Rockets fällt "
       "überwiegend positiv aus. Wäre da nicht die App.", "07:15", feed="velo"),
    fx("rss", "acme", "press", "en", "Acme Rockets recalls 1,200 Comet S scooters over brake "
       "issue¶¶The Leipzig-based maker says a batch of Comet S e-scooters built between July and "
       "September may have a faulty rear brake cable. Owners can check their serial number on "
       "the Acme Rockets website.", "09:30", feed="ebikenews"),
    fx("rss", "acme", "job", "de", "Acme Rockets GmbH sucht: Backend-Entwickler*in Python "
       "(m/w/d), Leipzig¶¶Du willst die Software hinter unseren E-Bikes und Scootern mitgestalten? "
       "Unbefristet, 30 Tage Urlaub, Jobrad natürlich.", "08:00", feed="stellen"),
    fx("rss", "nordlicht", "press", "en", "Nordlicht Bank passes two million customers, eyes "
       "Austria¶¶The Hamburg-based neobank says it added 400,000 customers this year and plans "
       "to launch in Austria in spring.", "07:05", feed="fintech"),
    fx("rss", "kaffee", "press", "de", "Die 10 besten Cafés in Hamburg und warum Kaffeehaus "
       "Müller knapp nicht dabei ist¶¶Gemütlich, solide, aber bei den Preisen und der Wartezeit "
       "hat die Kette in diesem Jahr verloren.", "11:00", feed="klatsch"),
    fx("rss", "none", "unrelated", "de", "Nordlicht-Saison: So fotografierst du Polarlichter mit "
       "dem Handy¶¶Kp-Index lesen, Belichtungszeit wählen, die richtige App: unsere Tipps für "
       "die Nächte im Winter.", "08:30", feed="himmel", sense="nordlicht"),
    fx("rss", "none", "chatter", "de", "Rezept: Kürbissuppe mit Ingwer und Kokosmilch¶¶Schnell, "
       "wärmend und vegan. Dazu passt geröstetes Brot.", "10:00", feed="kochtopf"),
    fx("rss", "none", "chatter", "en", "This Week in Tiny Crates #212¶¶A new allocator, two "
       "parser combinators and a very small HTTP client.", "07:45", feed="crates"),
    fx("rss", "none", "chatter", "de", "Stadtrat beschließt 12 Kilometer neue Radwege¶¶Bis 2028 "
       "sollen die Lücken im Netz zwischen Altona und Eimsbüttel geschlossen werden.", "13:30",
       feed="stadtrad"),
    fx("rss", "none", "chatter", "en", "Why I stopped using long-lived feature branches¶¶Trunk, "
       "small commits, flags. A year in, here's what changed.", "14:00", feed="devnotes"),
    fx("rss", "none", "chatter", "de", "Gartenarbeit im November: 7 Dinge, die jetzt noch zu tun "
       "sind¶¶Laub liegen lassen, Tulpen setzen, Kübel schützen.", "07:02", feed="garten"),
    fx("rss", "nordlicht", "press", "de", "Störung bei der Nordlicht Bank: Was Kundinnen und "
       "Kunden "
       "jetzt wissen müssen¶¶Login und Kartenzahlung waren am Freitagmittag rund eine Stunde "
       "gestört. Das Geld ist sicher, abgelehnte Zahlungen werden nicht belastet.", "15:10",
       feed="geld"),
]

VIDEOS = {  # key: (video id, title)
    "acme": ("q3Vt7LmX2aE", "Acme Rockets Volt 3 - ehrlicher Test nach 6 Monaten"),
    "cafes": ("Hk8pZ0rWcN4", "I tried every café chain in Hamburg"),
    "bank": ("bT5xQ9mLr2U", "Neobank-Vergleich 2026"),
    "lofi": ("Lf0b3atZ9kQ", "lofi beats to debug to"),
    "bread": ("s0UrD0ugh7w", "Sourdough for absolute beginners"),
    "aurora": ("aUr0r4Lp1nd", "Polarlicht-Zeitraffer über Lappland 4K"),
}
YOUTUBE = [
    fx("youtube", "acme", "complaint", "de", "Gutes Video, aber bei mir ist nach 4 Monaten der "
       "Akku "
       "vom Acme Volt 3 komplett ausgestiegen. Acme Rockets hat 5 Wochen für den Tausch gebraucht.",
       video="acme"),
    fx("youtube", "acme", "praise", "en", "Bought the Acme Rockets Volt 3 because of this review, "
       "2 "
       "months in and zero regrets 🙌", video="acme"),
    fx("youtube", "acme", "question", "de", "Kann man beim Acme Volt 3 auch einen größeren Akku "
       "nachrüsten?", video="acme"),
    fx("youtube", "acme", "complaint", "en", "Your review doesn't mention that Acme Rockets "
       "support "
       "takes weeks to answer. That's a big deal imo.", video="acme"),
    fx("youtube", "acme", "praise", "de", "Fahre das Acme Volt 3 seit einem Jahr täglich. Kann "
       "alles im Video bestätigen 👍", video="acme"),
    fx("youtube", "acme", "question", "en", "what's the range of the acme volt 3 in cold weather? "
       "❄️", video="acme"),
    fx("youtube", "none", "spam", "en", "I earned $7,400 last week thanks to Mrs. Jennifer Clarke "
       "🙏 "
       "her strategy is amazing, contact her on WhatsApp +1 555 0143", who="spam_yt",
       video="acme"),
    fx("youtube", "kaffee", "praise", "en", "Kaffeehaus Müller's cinnamon roll at 7:42 is the real "
       "star of this video 😂", video="cafes"),
    fx("youtube", "kaffee", "complaint", "de", "Kaffeehaus Mueller in Altona ist leider echt "
       "abgerutscht, war früher viel besser", video="cafes"),
    fx("youtube", "kaffee", "question", "en", "Which Kaffeehaus Muller branch was that? the one "
       "with the big windows?", video="cafes"),
    fx("youtube", "none", "chatter", "en", "who's here after the algorithm recommended this at 2am",
       video="cafes"),
    fx("youtube", "nordlicht", "complaint", "de", "Die Nordlicht Bank ist super, bis man den "
       "Support braucht. Dann bist du allein.", video="bank"),
    fx("youtube", "nordlicht", "praise", "en", "Been with Nordlicht Bank for 2 years, no "
       "complaints. App is the best of the bunch imo", video="bank"),
    fx("youtube", "nordlicht", "question", "de", "Gibt es bei der Nordlicht Bank eigentlich ein "
       "Gemeinschaftskonto?", video="bank"),
    fx("youtube", "nordlicht", "aftermath", "de", "Wer guckt das hier gerade, weil die Nordlicht "
       "Bank App heute Mittag nicht ging? 🙋‍♂️", "13:26", video="bank"),
    fx("youtube", "none", "spam", "de", "💸 Krypto-Signalgruppe, 300% in 2 Wochen, schreib mir 💸 "
       "Platz nur noch heute frei", who="spam_ytde", video="bank"),
    fx("youtube", "none", "chatter", "en", "studying for my exams at 3am with this, wish me luck",
       video="lofi"),
    fx("youtube", "none", "chatter", "en", "this playlist has carried me through 3 jobs and 2 "
       "burnouts", video="lofi"),
    fx("youtube", "none", "chatter", "en", "my starter is called Doughn Draper and he is thriving "
       "thanks to this video", video="bread"),
    fx("youtube", "none", "chatter", "de", "Hab's nachgebacken, hat geklappt!! Erstes Brot, das "
       "nicht wie ein Ziegelstein aussieht", video="bread"),
    fx("youtube", "none", "unrelated", "de", "Das Nordlicht so zu sehen steht ganz oben auf meiner "
       "Bucket List 😍", video="aurora", sense="nordlicht"),
    fx("youtube", "none", "unrelated", "en", "Which camera settings did you use for the aurora "
       "shots? 🤩", video="aurora", sense="nordlicht"),
]

# ---------------------------------------------------------------------------------------------
# Authors
# ---------------------------------------------------------------------------------------------

DE_FIRST = ["Lena", "Jonas", "Mia", "Felix", "Hannah", "Lukas", "Sophie", "Paul", "Marie", "Finn",
            "Lea", "Tim", "Anna", "Jan", "Laura", "Niklas", "Katharina", "Moritz", "Johanna",
            "Tobias", "Svenja", "Dennis", "Ute", "Birgit", "Kai", "Merle", "Ole", "Deniz", "Aylin",
            "Emre", "Olga", "Katja", "Piotr", "Frauke", "Hauke", "Jette", "Malte", "Wiebke",
            "Bernd", "Sabine"]
DE_LAST = ["Becker", "Schröder", "Krüger", "Hoffmann", "Wagner", "Lehmann", "Hansen", "Petersen",
           "Jansen", "Brandt", "Vogt", "Kowalski", "Yılmaz", "Demir", "Hartmann", "Ziegler",
           "Fuchs", "Lorenz", "Kuhn", "Seidel", "Winkler", "Haas", "Graf", "Berger", "Frank",
           "Claussen", "Thiessen", "Möller", "Ahrens", "Behrens"]
EN_FIRST = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Ethan", "Chloe", "Ryan", "Priya", "Arjun",
            "Sam", "Alex", "Jordan", "Taylor", "Megan", "Connor", "Aoife", "Siobhan", "Kofi",
            "Amara", "Mateo", "Lucia", "Yuki", "Wei", "Nadia", "Tom", "Beth", "Hamish", "Freya",
            "Marcus", "Zoe", "Isaac"]
EN_LAST = ["Carter", "Brooks", "Hughes", "Patel", "Nguyen", "O'Brien", "Murphy", "Walsh", "Reyes",
           "Okafor", "Mensah", "Kim", "Lindqvist", "Fraser", "Doyle", "Price", "Khan", "Shah",
           "Silva", "Costa", "Moreau", "Bennett", "Ellis", "Harper", "Quinn"]
NICKS = {
    "de": [("radlerin_hh", "Merle 🚲"), ("nachteule83", "Nachteule"),
           ("pixelpirat", "Pixelpirat 🏴‍☠️"), ("elbkind", "elbkind"), ("spreewaldgurke", "Gurke"),
           ("frau_fahrrad", "Frau Fahrrad"), ("nordseekrabbe", "Krabbe 🦐"),
           ("kiezkind_st", "Kiezkind"), ("moinmoin_mia", "Mia | moin"),
           ("fischbroetchen", "Fischbrötchen-Fan"), ("stullenfan", "Stulle"),
           ("regenjacke", "Regenjacke ☔")],
    "en": [("byte_wrangler", "Byte Wrangler"), ("grumpy_commuter", "grumpy commuter"),
           ("noodle_enjoyer", "noodle enjoyer 🍜"), ("kernelpanic_kat", "Kat (she/her)"),
           ("sunny_side_up", "Sunny"), ("tabs_not_spaces", "tabs > spaces"),
           ("latte_lover_92", "latte lover"), ("quietcoder", "quiet coder"),
           ("rainy_day_rob", "Rob ☔"), ("overcaffeinated", "over caffeinated"),
           ("plantmom_jess", "Jess 🌿"), ("sleepy_sysadmin", "sleepy sysadmin")],
}
REDDIT_ADJ = ["Fluffy", "Sudden", "Brave", "Quiet", "Proper", "Dizzy", "Careful", "Helpful",
              "Lumpy", "Rare", "Salty", "Curious"]
REDDIT_NOUN = ["Pancake", "Otter", "Lamp", "Kettle", "Badger", "Falcon", "Turnip", "Pickle",
               "Walrus", "Teapot", "Heron", "Mitten"]
NAME_SUFFIX = ["🚲", "☕", "🌊", "✨", "| she/her", "| he/him", "🏳️‍🌈", "🇩🇪🇪🇺", "| Dev", "📚"]
MASTODON_INSTANCES = (("mastodon.social", 0.55), ("social.example", 0.2), ("toot.example", 0.15),
                      ("norden.social.example", 0.1))
POOL_SIZES = {  # network: (de, en, both)
    "x": (11, 12, 5), "mastodon": (9, 9, 3), "bluesky": (7, 10, 3), "reddit": (7, 7, 2),
    "hackernews": (0, 7, 0), "github": (0, 5, 3), "youtube": (5, 7, 0),
}

SPECIAL_AUTHORS: dict[str, tuple[str, str, str, int | None, str, str]] = {
    "heinz": ("x", "heinz_radelt", "Heinz R. 🚲", 312, "de", "regular"),
    "kaffeetagebuch": ("mastodon", "kaffeetagebuch@social.example", "Ilka | Kaffeetagebuch ☕",
                       1840, "de", "regular"),
    "dana": ("bluesky", "dana-oncall.bsky.social", "Dana (on call, again)", 2310, "en",
             "regular"),
    "emobility": ("x", "emobility_daily", "E-Mobility Daily ⚡", 212400, "en", "influencer"),
    "geldmitlea": ("x", "geldmitlea", "Lea | Geld & Finanzen 💶", 143500, "de", "influencer"),
    "cityrider": ("bluesky", "cityrider.bsky.social", "City Rider", 58300, "en", "influencer"),
    "hamburgisst": ("x", "hamburg_isst", "Hamburg isst 🍽️", 96100, "de", "influencer"),
    "techtakes": ("x", "techtakes_daily", "Tech Takes Daily", 421800, "en", "influencer"),
    "journalist": ("x", "msonnfeld", "Mareike Sonnfeld | Netzpuls", 86400, "de", "journalist"),
    "off_acme": ("x", "acmerockets", "Acme Rockets 🚀", 48200, "both", "official"),
    "off_kaffee": ("x", "kaffeemueller", "Kaffeehaus Müller ☕", 22400, "de", "official"),
    "off_nordlicht": ("x", "nordlichtbank", "Nordlicht Bank", 131000, "both", "official"),
    "spam_crypt0": ("x", "crypt0_drop4412", "CryptoDrop 🚀", 3, "en", "spam"),
    "spam_btc2": ("x", "btc_giveaway_vp", "BTC Giveaway ✅ OFFICIAL", 17, "en", "spam"),
    "spam_airdropx": ("x", "airdrop_king_x", "Airdrop King 👑", 41, "en", "spam"),
    "spam_growth": ("x", "growthguru_mila", "Mila | Growth 📈", 1204, "en", "spam"),
    "spam_follow2": ("x", "followerz_fast", "Followers Fast 💯", 9, "en", "spam"),
    "spam_cutie": ("x", "lena_xoxo_1999", "Lena 💋", 612, "en", "spam"),
    "spam_geld": ("x", "nebenbei_reich", "Passives Einkommen 💸", 230, "de", "spam"),
    "spam_followershop": ("x", "follower_shop24", "Follower Shop", 58, "de", "spam"),
    "spam_viral": ("x", "go_viral_now_", "Go Viral 🔥", 77, "en", "spam"),
    "spam_signals": ("x", "signals_vip_77", "VIP Signals 💎", 88, "en", "spam"),
    "spam_ethdrop": ("bluesky", "free-eth-drop.bsky.social", "ETH Event 🔥", 0, "en", "spam"),
    "spam_ethbot": ("bluesky", "web3-rewards-hub.bsky.social", "Rewards Hub", 2, "en", "spam"),
    "spam_airdrop": ("bluesky", "usdt-claim.bsky.social", "USDT Claim", 1, "en", "spam"),
    "spam_gewinn": ("bluesky", "gewinnspiel-de.bsky.social", "Gewinnspiel 🎉", 4, "de", "spam"),
    "spam_promo": ("mastodon", "promo88@toot.example", "Promo", 2, "en", "spam"),
    "spam_kryptode": ("mastodon", "kryptobonus@social.example", "Krypto Bonus", 1, "de", "spam"),
    "spam_bonus": ("mastodon", "kryptoapp_promo@toot.example", "Krypto App", 0, "de", "spam"),
    "imp_nb_x": ("x", "nordIichtbank", "Nordlicht Bank ✅", 41, "de", "spam"),
    "imp_nb_bsky": ("bluesky", "nordlicht-bank-support.bsky.social", "Nordlicht Bank Support", 23,
                    "en", "spam"),
    "imp_nb_sec": ("bluesky", "nordlichtbank-sicherheit.bsky.social", "Nordlicht Sicherheit", 7,
                   "de", "spam"),
    "imp_nb_reddit": ("reddit", "NordlichtBank_Support_DE", "NordlichtBank_Support_DE", None, "de",
                      "spam"),
    "imp_invoice": ("mastodon", "rechnungsservice@toot.example", "Rechnungsservice", 3, "de",
                    "spam"),
    "spam_yt": ("youtube", "jennyclarke-fx9", "Jennifer Clarke Trading", None, "en", "spam"),
    "spam_ytde": ("youtube", "user-k8q2zx0p1m", "Signal King", None, "de", "spam"),
}


@dataclass
class Author:
    network: str
    handle: str
    name: str
    followers: int | None
    lang: str  # "de", "en" or "both"
    role: str = "user"
    affinity: float = 1.0
    did: str = ""
    posts: int = 0


def fold_ascii(text: str) -> str:
    table = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i", "'": "", "é": "e"}
    return "".join(table.get(c, c) for c in text.lower())


def umlauts_out(text: str) -> str:
    """How people without a German keyboard write: Müller -> Mueller."""
    table = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
    return "".join(table.get(c, c) for c in text)


class AuthorBook:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pools: dict[str, list[Author]] = {}
        self.special: dict[str, Author] = {}
        self.used_names: set[tuple[str, str]] = set()
        self.handles: set[tuple[str, str]] = set()
        for key, (net, handle, name, followers, lang, role) in SPECIAL_AUTHORS.items():
            author = Author(net, handle, name, followers, lang, role, did=self.did())
            self.special[key] = author
            self.handles.add((net, handle.lower()))
        nicks = {lang: list(items) for lang, items in NICKS.items()}
        for lang in ("de", "en"):
            rng.shuffle(nicks[lang])
        for net, (n_de, n_en, n_both) in POOL_SIZES.items():
            pool: list[Author] = []
            langs = ["de"] * n_de + ["en"] * n_en + ["both"] * n_both
            for lang in langs:
                nick = None
                if net in ("x", "mastodon", "bluesky", "hackernews") and lang != "both":
                    if nicks[lang] and rng.random() < 0.3:
                        nick = nicks[lang].pop()
                pool.append(self.person(net, lang, nick))
            self.pools[net] = pool

    def did(self) -> str:
        return "did:plc:" + "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz234567")
                                    for _ in range(24))

    def followers(self, net: str) -> int | None:
        rng = self.rng
        if net in ("x", "mastodon", "bluesky"):
            scale = {"x": 210, "mastodon": 150, "bluesky": 170}[net]
            return max(6, min(2600, int(rng.lognormvariate(0, 1.05) * scale)))
        if net == "github":
            return max(0, min(900, int(rng.lognormvariate(0, 1.2) * 22)))
        return None  # reddit, hackernews, youtube: the API gives no follower count

    def person(self, net: str, lang: str, nick: tuple[str, str] | None) -> Author:
        rng = self.rng
        while True:
            pick = lang if lang != "both" else rng.choice(["de", "en"])
            first = rng.choice(DE_FIRST if pick == "de" else EN_FIRST)
            last = rng.choice(DE_LAST if pick == "de" else EN_LAST)
            if (first, last) not in self.used_names:
                break
        self.used_names.add((first, last))
        f, la = fold_ascii(first), fold_ascii(last)
        nn = str(rng.randint(2, 99))
        name = f"{first} {last}"
        style, name_style = rng.random(), rng.random()
        if name_style < 0.2:
            name = first
        elif name_style < 0.32:
            name = f"{first} {last[0]}."
        elif name_style < 0.45:
            name = f"{first} {rng.choice(NAME_SUFFIX)}"
        elif name_style < 0.5:
            name = name.lower()
        if net == "x":
            options = [f + la, f"{f}_{la}", f"{f}{la[0]}{nn}", f[0] + la, f"{f}_{nn}", la + f[0]]
            handle = options[int(style * len(options))][:15]
        elif net == "mastodon":
            user = [f + la, f"{f}_{la}", f"{f}{nn}", f[0] + la][int(style * 4)]
            r, acc = rng.random(), 0.0
            instance = MASTODON_INSTANCES[0][0]
            for host, weight in MASTODON_INSTANCES:
                acc += weight
                if r < acc:
                    instance = host
                    break
            handle = f"{user}@{instance}"
        elif net == "bluesky":
            user = [f + la, f"{f}-{la}", f"{f}{la[0]}", f"{f}-{nn}"][int(style * 4)]
            handle = f"{user}.bsky.social"
        elif net == "reddit":
            if style < 0.35:
                adj, noun = rng.choice(REDDIT_ADJ), rng.choice(REDDIT_NOUN)
                handle = f"{adj}-{noun}-{rng.randint(1000, 9999)}"
            elif style < 0.6:
                handle = umlauts_out(f"{first}{last}").replace("'", "").replace("ı", "i")
            elif style < 0.75:
                handle = f"throwaway_{rng.randint(1000, 9999)}"
            else:
                handle = f"{f}_{la}{nn}"
            name = handle
        elif net == "hackernews":
            handle = [f[0] + la, f + la[0], f"{f}{nn}", f"{la}_{f[0]}"][int(style * 4)]
            name = handle
        elif net == "github":
            handle = [f"{f}-{la}", f + la, f"{f[0]}{la}-dev", f"{la}{f[0]}"][int(style * 4)]
        else:  # youtube
            if style < 0.3:
                handle = "user-" + "".join(rng.choice(string.ascii_lowercase + string.digits)
                                           for _ in range(10))
                name = first
            else:
                handle = umlauts_out(f"{first}{last}").replace("'", "").replace("ı", "i")
                handle += nn if style > 0.7 else ""
                name = f"{first} {last}"
        if nick is not None:
            handle, name = nick
            if net == "mastodon":
                handle = f"{handle}@{rng.choice(['mastodon.social', 'social.example'])}"
            elif net == "bluesky":
                handle = handle.replace("_", "-") + ".bsky.social"
        while (net, handle.lower()) in self.handles:
            handle = handle.replace("@", f"{rng.randint(0, 9)}@", 1) if "@" in handle else (
                handle + str(rng.randint(0, 9)))
        self.handles.add((net, handle.lower()))
        return Author(net, handle, name, self.followers(net), lang,
                      affinity=rng.lognormvariate(0, 0.9), did=self.did())

    def pick(self, net: str, lang: str, exclude: Author | None = None) -> Author:
        pool = [a for a in self.pools[net] if a.lang in (lang, "both") and a is not exclude]
        weights = [a.affinity * (4.0 if a.posts == 0 else a.posts**-1.5) for a in pool]
        return self.rng.choices(pool, weights)[0]


# ---------------------------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------------------------


@dataclass
class Item:
    network: str
    brand: str  # acme | kaffee | nordlicht | none
    kind: str
    lang: str  # the true language of the text
    text: str
    at: datetime
    author: Author
    meta: dict[str, str] = field(default_factory=dict)
    repost_of: Item | None = None
    id: str = ""
    url: str = ""
    lang_tag: str | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None


def weighted(rng: random.Random, options: list[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


class Slots(dict[str, str]):
    """Fills template slots on first use; the same slot name gets the same value in one post."""

    def __init__(self, rng: random.Random, network: str, lang: str) -> None:
        super().__init__()
        self.rng, self.network, self.lang = rng, network, lang

    def __missing__(self, key: str) -> str:
        rng = self.rng
        if key == "reply_to":
            return "{reply_to}"
        if key in ("A", "K", "N"):
            value = brand_form(rng, {"A": "acme", "K": "kaffee", "N": "nordlicht"}[key],
                               self.network, self.lang)
        elif key == "BN":
            value = BRAND_PLAIN[self.get("_brand", "acme")]
        elif key == "order":
            value = f"AR-{rng.randint(1000000, 9999999)}"
        elif key == "a_prod":
            value = rng.choice(FILLERS["a_bike"] + FILLERS["a_scooter"])
        else:
            value = rng.choice(FILLERS.get(f"{key}_{self.lang}") or FILLERS[key])
        self[key] = value
        return value


def brand_form(rng: random.Random, brand: str, network: str, lang: str) -> str:
    social = network in ("x", "mastodon", "bluesky")
    options = [(form, weight) for form, weight, where in BRAND_FORMS[brand]
               if where == "all" or where == lang or (where == "social" and social)]
    form = weighted(rng, options)
    if form.startswith("@"):
        if network == "bluesky":
            form += ".bsky.social"
        elif network == "mastodon" and rng.random() < 0.5:
            form += "@mastodon.social"
    return form


def fill(rng: random.Random, template: str, network: str, lang: str, brand: str) -> str:
    slots = Slots(rng, network, lang)
    if brand in BRAND_PLAIN:
        slots["_brand"] = brand
    text = template.format_map(slots)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def add_typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words)
                  if re.fullmatch(r"[a-zäöüß]{5,}", w) and not any(p in w for p in PROTECTED)]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    op = rng.choices(range(3), [0.45, 0.4, 0.15])[0]
    if op == 2 and w[j] in (w[j - 1], w[j + 1]):
        op = 1
    if op == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif op == 1:
        w = w[:j] + w[j + 1:]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500}


def decorate(rng: random.Random, text: str, item: Item, books: AuthorBook) -> str:
    """What people do to posts: typos, lowercase, @replies, hashtags, emoji, umlauts written out."""
    net, base = item.network, text
    if net in ("x", "mastodon", "bluesky") and item.kind in ("complaint", "praise", "chatter",
                                                             "question") and rng.random() < 0.08:
        friend = books.pick(net, item.lang, exclude=item.author)
        text = f"@{friend.handle} {text}"
    if rng.random() < 0.2 and net != "reddit" and item.kind != "job":
        tags = HASHTAGS["burst" if item.kind == "burst" else item.brand]
        picked = [t for t in rng.sample(tags, rng.randint(1, 2)) if t.lower() not in text.lower()]
        if picked:
            sep = "\n\n" if net == "mastodon" and rng.random() < 0.4 else " "
            text += sep + " ".join(picked)
    if rng.random() < 0.1:
        text += " " + rng.choice(["😅", "🙃", "lol", "😂", "🫠", "!!", "...", "ugh", "👀"])
    if item.lang == "de" and rng.random() < 0.1:
        text = umlauts_out(text)
    if rng.random() < 0.13:
        text = add_typo(rng, text)
    if net in ("x", "bluesky") and rng.random() < 0.08 and "http" not in text:
        text = text.lower()
    if len(text) > LIMITS.get(net, 10_000):
        return base
    return text


def parse_at(at: str, rng: random.Random) -> datetime:
    hour, minute = (int(p) for p in at.split(":"))
    return DAY.replace(hour=hour, minute=minute, second=rng.randrange(60))


HOUR_WEIGHTS = [0.6, 0.8, 1.0, 1.0, 1.1, 1.2, 1.1, 1.0, 1.0, 0.9]  # 07..16 UTC


def random_time(rng: random.Random, brand: str, kind: str) -> datetime:
    def between(a: str, b: str) -> datetime:
        start, end = parse_at(a, rng).replace(second=0), parse_at(b, rng).replace(second=0)
        return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))

    if kind == "burst":
        span = (BURST_END - BURST_START).total_seconds()
        return BURST_START + timedelta(seconds=int(rng.triangular(0, span - 1, 13 * 60)))
    if kind == "aftermath":
        return between("13:10", "14:40")
    if kind == "job":
        return between("15:00", "16:30") if brand == "nordlicht" else between("07:30", "10:30")
    if kind == "official":
        return between("09:00", "16:30")
    while True:
        hour = rng.choices(range(7, 17), HOUR_WEIGHTS)[0]
        at = DAY.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
        # keep the ordinary bank chatter away from the outage so the spike stands out
        quiet = DAY.replace(hour=11, minute=50) <= at < DAY.replace(hour=13, minute=40)
        if not (brand == "nordlicht" and quiet):
            return at


PLAN: list[tuple[str, str, str, int]] = [
    ("acme", "complaint", "en", 13), ("acme", "complaint", "de", 11),
    ("acme", "praise", "en", 7), ("acme", "praise", "de", 7),
    ("acme", "question", "en", 5), ("acme", "question", "de", 6),
    ("acme", "job", "en", 3), ("acme", "job", "de", 3),
    ("acme", "official", "en", 1), ("acme", "official", "de", 1),
    ("kaffee", "complaint", "de", 10), ("kaffee", "complaint", "en", 8),
    ("kaffee", "praise", "de", 7), ("kaffee", "praise", "en", 6),
    ("kaffee", "question", "de", 6), ("kaffee", "question", "en", 4),
    ("kaffee", "job", "de", 2), ("kaffee", "official", "de", 1),
    ("nordlicht", "complaint", "en", 10), ("nordlicht", "complaint", "de", 8),
    ("nordlicht", "praise", "en", 4), ("nordlicht", "praise", "de", 4),
    ("nordlicht", "question", "en", 4), ("nordlicht", "question", "de", 5),
    ("nordlicht", "job", "en", 1), ("nordlicht", "job", "de", 1),
    ("nordlicht", "burst", "en", 13), ("nordlicht", "burst", "de", 13),
    ("nordlicht", "aftermath", "en", 2), ("nordlicht", "aftermath", "de", 2),
    ("none", "chatter", "en", 27), ("none", "chatter", "de", 14),
]
NETWORK_WEIGHTS = {
    "job": (("x", 0.5), ("mastodon", 0.25), ("bluesky", 0.25)),
    "official": (("x", 1.0),),
    "burst": (("x", 0.4), ("mastodon", 0.2), ("bluesky", 0.22), ("reddit", 0.18)),
}
REGULAR_TIMES = {
    "heinz": ["07:22", "09:05", "12:12", "13:48", "15:20", "16:41"],
    "kaffeetagebuch": ["07:48", "10:15", "11:52", "14:40", "15:57", "16:33"],
}


class Deck:
    """Draws templates without replacement, reshuffling only when a pool runs out."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.decks: dict[tuple[str, str, str], list[str]] = {}

    def draw(self, key: tuple[str, str, str]) -> str:
        deck = self.decks.get(key)
        if not deck:
            deck = list(TEMPLATES[key])
            self.rng.shuffle(deck)
            self.decks[key] = deck
        return deck.pop()


def compose(rng: random.Random, books: AuthorBook) -> list[Item]:
    deck = Deck(rng)
    items: list[Item] = []

    def add(item: Item) -> Item:
        item.author.posts += 1
        items.append(item)
        return item

    for brand, kind, lang, n in PLAN:
        for _ in range(n):
            nets = NETWORK_WEIGHTS.get(kind, tuple(zip(SOCIAL, SOCIAL_WEIGHTS, strict=True)))
            net = weighted(rng, list(nets))
            if kind == "official":
                author = books.special[f"off_{brand}"]
            else:
                author = books.pick(net, lang)
            template = deck.draw((brand, kind, lang))
            item = Item(net, brand, kind, lang, "", random_time(rng, brand, kind), author)
            item.text = fill(rng, template, net, lang, brand)
            if kind not in ("official", "job"):
                item.text = decorate(rng, item.text, item, books)
            if net == "reddit" and ("*", kind, lang) in REDDIT_TITLES and rng.random() < 0.45:
                titles = REDDIT_TITLES[("*", kind, lang)]
                title = fill(rng, rng.choice(titles), net, lang, brand)
                if brand == "kaffee" and lang == "en":
                    title = title.replace("Müller", rng.choice(["Mueller", "Muller", "Müller"]))
                item.text = f"{title}\n\n{item.text}"
                item.meta["submission"] = "1"
            add(item)

    for key, series in (("heinz", HEINZ), ("kaffeetagebuch", KAFFEETAGEBUCH)):
        author = books.special[key]
        brand = "acme" if key == "heinz" else "kaffee"
        for (kind, template), at in zip(series, REGULAR_TIMES[key], strict=True):
            b = "none" if kind == "chatter" else brand
            item = Item(author.network, b, kind, "de", "", parse_at(at, rng), author)
            item.text = fill(rng, para(template), author.network, "de", b)
            add(item)
    author = books.special["dana"]
    for kind, at, template in DANA:
        b = "none" if kind == "chatter" else "nordlicht"
        item = Item("bluesky", b, kind, "en", "", parse_at(at, rng), author)
        item.text = fill(rng, template, "bluesky", "en", b)
        add(item)

    for fixed in (*UNRELATED, *SPAM, *HOSTILE, *SPECIAL, *GITHUB, *HACKERNEWS, *RSS, *YOUTUBE):
        meta = dict(fixed.meta)
        at = parse_at(fixed.at, rng) if fixed.at else random_time(rng, fixed.brand, fixed.kind)
        if fixed.who:
            author = books.special[fixed.who]
        elif fixed.network == "rss":
            _, handle, name, _ = FEEDS[meta["feed"]]
            author = Author("rss", handle, name, None, fixed.lang)
        else:
            author = books.pick(fixed.network, fixed.lang)
        text = para(fixed.text)
        if "{" in text:
            text = fill(rng, text, fixed.network, fixed.lang, fixed.brand)
        item = Item(fixed.network, fixed.brand, fixed.kind, fixed.lang, text, at, author, meta)
        if fixed.network == "reddit" and "\n\n" in text and "thread" not in meta:
            meta["submission"] = "1"
        add(item)
    return items


def resolve_replies(rng: random.Random, items: list[Item]) -> None:
    """Official replies answer the latest earlier complaint on x about the same brand."""
    items.sort(key=lambda i: i.at)
    for n, item in enumerate(items):
        if "{reply_to}" not in item.text:
            continue
        earlier = [i for i in items[:n] if i.network == "x" and i.brand == item.brand
                   and i.kind == "complaint" and i.author.role != "official"]
        earlier = [i for i in earlier if i.lang == item.lang] or earlier
        if not earlier:  # move the reply after the first complaint
            later = [i for i in items if i.network == "x" and i.brand == item.brand
                     and i.kind == "complaint"]
            earlier = later[:1]
            item.at = earlier[0].at + timedelta(minutes=rng.randint(8, 40))
        item.text = item.text.replace("{reply_to}", earlier[-1].author.handle)


REPOST_RULES: list[tuple[str, Callable[[Item], bool], int, str, tuple[int, int]]] = [
    # (name, which originals, how many, target: same | bluesky | spam, delay minutes)
    ("burst-x", lambda i: i.network == "x" and i.kind == "burst" and i.author.role == "user",
     4, "same", (1, 10)),
    ("journalist", lambda i: i.meta.get("repost") == "journalist", 3, "same", (2, 40)),
    ("influencer", lambda i: i.meta.get("repost") == "influencer", 3, "same", (1, 25)),
    ("official", lambda i: i.meta.get("repost") == "official", 1, "same", (1, 6)),
    ("complaint-x", lambda i: i.network == "x" and i.kind == "complaint" and i.brand == "acme"
     and i.author.role == "user", 2, "same", (5, 90)),
    ("complaint-mastodon", lambda i: i.network == "mastodon" and i.kind == "complaint"
     and i.brand == "kaffee", 1, "same", (10, 120)),
    ("burst-bluesky", lambda i: i.network == "bluesky" and i.kind == "burst"
     and i.author.role == "user", 2, "same", (1, 12)),
    ("crosspost", lambda i: i.network == "mastodon" and i.kind == "burst", 1, "bluesky", (0, 3)),
    ("giveaway", lambda i: i.meta.get("repost") == "giveaway", 1, "spam", (3, 200)),
    ("followers", lambda i: i.meta.get("repost") == "followers", 1, "spam", (30, 300)),
]
SPAM_COPIES = {"giveaway": ["spam_btc2", "spam_airdropx", "spam_ethbot"],
               "followers": ["spam_follow2"]}


def make_reposts(rng: random.Random, items: list[Item], books: AuthorBook) -> list[Item]:
    out: list[Item] = []
    for name, which, count, target, (lo, hi) in REPOST_RULES:
        originals = [i for i in items if which(i) and i.repost_of is None]
        chosen = rng.sample(originals, min(count, len(originals)))
        if name in ("journalist", "giveaway", "followers"):  # several copies of one original
            chosen = [chosen[0]] * (3 if name in ("journalist", "giveaway") else 1)
        for n, orig in enumerate(chosen):
            if target == "spam":
                author = books.special[SPAM_COPIES[name][n]]
            else:
                net = orig.network if target == "same" else target
                author = books.pick(net, orig.lang, exclude=orig.author)
            net = author.network
            at = orig.at + timedelta(minutes=rng.randint(lo, hi), seconds=rng.randrange(60))
            at = min(at, WINDOW_END - timedelta(seconds=rng.randint(5, 300)))
            if net == "x" and orig.network == "x" and target != "spam" and rng.random() < 0.75:
                text = f"RT @{orig.author.handle}: {orig.text}"
            else:
                text = orig.text + rng.choice(["", " ", "  ", "\n", " "])
            meta = {k: v for k, v in orig.meta.items() if k in ("thread", "sub")}
            copy = Item(net, orig.brand, "repost", orig.lang, text, at, author, meta, orig)
            author.posts += 1
            out.append(copy)
    return out


# ---------------------------------------------------------------------------------------------
# Ids, URLs, engagement, language tags
# ---------------------------------------------------------------------------------------------

TWITTER_EPOCH_MS = 1288834974657
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
B36 = string.digits + string.ascii_lowercase


def base36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = B36[r] + out
    return out or "0"


def slugify(text: str, sep: str, limit: int) -> str:
    words = re.findall(r"[a-z0-9]+", fold_ascii(text))
    slug = ""
    for w in words:
        if len(slug) + len(w) + 1 > limit:
            break
        slug = f"{slug}{sep}{w}" if slug else w
    return slug


class Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[tuple[str, str]] = set()
        self.thread: dict[str, tuple[str, str]] = {}  # lang -> (sub, base36 id)

    def unique(self, network: str, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if (network, value) not in self.seen:
                self.seen.add((network, value))
                return value

    def assign(self, item: Item) -> None:
        rng, at, a = self.rng, item.at, item.author
        ms = int(at.timestamp() * 1000)
        secs = int((at - WINDOW_START).total_seconds())
        net = item.network
        if net == "x":
            item.id = self.unique(net, lambda: str(
                ((ms + rng.randrange(1000) - TWITTER_EPOCH_MS) << 22)
                | (rng.randrange(1 << 10) << 12) | rng.randrange(1 << 12)))
            item.url = f"https://x.com/{a.handle}/status/{item.id}"
        elif net == "mastodon":
            item.id = self.unique(net, lambda: str(((ms + rng.randrange(1000)) << 16)
                                                   | rng.randrange(1 << 16)))
            user, host = a.handle.split("@")
            item.url = f"https://{host}/@{user}/{item.id}"
        elif net == "bluesky":
            def tid() -> str:
                v = ((ms * 1000 + rng.randrange(1_000_000)) << 10) | rng.randrange(1024)
                return "".join(TID_ALPHABET[(v >> (5 * k)) & 31] for k in range(12, -1, -1))
            key = tid()
            item.id = self.unique(net, lambda: f"at://{a.did}/app.bsky.feed.post/{key}")
            item.url = f"https://bsky.app/profile/{a.handle}/post/{key}"
        elif net == "reddit":
            self.reddit(item, secs)
        elif net == "hackernews":
            item.id = self.unique(net, lambda: str(50_318_000 + secs // 5 + rng.randrange(5)))
            item.url = f"https://news.ycombinator.com/item?id={item.id}"
        elif net == "github":
            repo, number = item.meta["repo"], item.meta["number"]
            item.id = self.unique(net, lambda: f"{repo}#{number}")
            kind = "pull" if item.meta.get("pr") else "issues"
            item.url = f"https://github.com/{repo}/{kind}/{number}"
        elif net == "youtube":
            alphabet = string.ascii_letters + string.digits + "_-"
            item.id = self.unique(net, lambda: "Ug" + rng.choice("wxyz")
                                  + "".join(rng.choice(alphabet) for _ in range(20)) + "4AaABAg")
            video = VIDEOS[item.meta["video"]][0]
            item.url = f"https://www.youtube.com/watch?v={video}&lc={item.id}"
        else:  # rss
            domain, _, _, guid = FEEDS[item.meta["feed"]]
            title = item.text.split("\n", 1)[0]
            item.url = f"https://{domain}/2026/11/20/{slugify(title, '-', 70)}/"
            item.id = self.unique(net, lambda: f"https://{domain}/?p={rng.randint(1200, 9800)}"
                                  if guid == "wp" else item.url)

    def reddit(self, item: Item, secs: int) -> None:
        rng = self.rng
        if "thread_root" in item.meta or item.meta.get("submission"):
            post = self.unique("reddit", lambda: "t3_" + base36(
                int("1s4k000", 36) + secs * 9 + rng.randrange(9)))[3:]
            sub = item.meta.get("sub") or rng.choice(SUBREDDITS[(item.brand, item.lang)])
            title = item.text.split("\n", 1)[0]
            item.id = f"t3_{post}"
            item.url = f"https://www.reddit.com/r/{sub}/comments/{post}/{slugify(title, '_', 50)}/"
            if "thread_root" in item.meta:
                self.thread[item.meta["thread_root"]] = (sub, post)
            return
        thread = item.meta.get("thread") or (item.lang if item.kind == "burst" else "")
        if item.repost_of is not None and item.repost_of.network == "reddit":
            thread = ""
        if thread and thread in self.thread:
            sub, post = self.thread[thread]
        else:
            sub = item.meta.get("sub") or rng.choice(SUBREDDITS[(item.brand, item.lang)])
            post = base36(int("1s4k000", 36) - rng.randrange(200_000) + secs * 9)
        comment = self.unique("reddit", lambda: "t1_" + base36(
            int("oc20000", 36) + secs * 80 + rng.randrange(80)))[3:]
        item.id = f"t1_{comment}"
        item.url = f"https://www.reddit.com/r/{sub}/comments/{post}/comment/{comment}/"


def engagement(rng: random.Random, item: Item) -> tuple[int | None, int | None, int | None]:
    net, kind = item.network, item.kind
    if net == "rss":
        return None, None, None
    if item.repost_of is not None and item.text.startswith("RT @"):
        return 0, 0, 0
    if kind == "spam":
        bot_likes = rng.choice([0, 0, 0, 1, 2, 3])
        if net == "reddit":
            return -rng.randint(1, 8), None, 0
        if net in ("youtube", "github", "hackernews"):
            return bot_likes, None, rng.randint(0, 2)
        return bot_likes, rng.randint(0, 1), 0
    if net in ("x", "mastodon", "bluesky"):
        mult = {"burst": 1.7, "hostile": 0.5, "official": 4.0, "press": 2.0, "job": 0.7,
                "repost": 0.4, "aftermath": 1.2}.get(kind, 1.0)
        mult *= 0.6 if net == "mastodon" else 1.0
        likes = int((item.author.followers or 100) ** 0.62 * rng.lognormvariate(-1.6, 0.9) * mult)
        reposts = int(likes * rng.uniform(0.03, 0.25))
        replies = int(likes * rng.uniform(0.05, 0.3))
        if kind in ("complaint", "question", "burst", "hostile"):
            replies += rng.randint(0, 3)
        if kind in ("official", "press"):
            replies = int(likes * rng.uniform(0.5, 1.1))
            reposts = int(likes * rng.uniform(0.2, 0.5))
        return likes, reposts, replies
    if net == "reddit":
        if "thread_root" in item.meta:
            return rng.randint(180, 420), None, rng.randint(120, 260)
        if item.id.startswith("t3_"):
            return int(rng.lognormvariate(2.3, 1.1)), None, int(rng.lognormvariate(1.6, 0.9))
        score = int(rng.lognormvariate(1.0, 1.1)) - (rng.randint(3, 9) if kind == "hostile" else 0)
        return score, None, rng.choice([0, 0, 0, 1, 1, 2, 3, 5])
    if net == "hackernews":
        if item.meta.get("story"):
            points = rng.randint(190, 260) if kind == "burst" else max(
                1, int(rng.lognormvariate(3.4, 1.0)))
            return points, None, int(points * rng.uniform(0.3, 0.8))
        return None, None, rng.choice([0, 0, 1, 1, 2, 3, 4, 7])
    if net == "github":
        return int(rng.lognormvariate(0.6, 1.0)), None, rng.randint(0, 12)
    # youtube
    return int(rng.lognormvariate(1.4, 1.4)), None, rng.choice([0, 0, 0, 1, 1, 2, 4, 9])


def language_tag(rng: random.Random, item: Item) -> str | None:
    """Networks that have a language field set it most of the time; the rest give none."""
    r = rng.random()
    if item.network == "x":
        return item.lang if r < 0.8 else None
    if item.network == "bluesky":
        return item.lang if r < 0.75 else None
    if item.network == "mastodon":
        if item.lang == "de" and r < 0.07:
            return "en"  # the client's default language, a common Mastodon mistake
        return item.lang if r < 0.6 else None
    return None


# ---------------------------------------------------------------------------------------------
# Output and checks
# ---------------------------------------------------------------------------------------------


def to_record(item: Item) -> dict[str, object]:
    return {
        "network": item.network, "id": item.id, "url": item.url, "author": item.author.handle,
        "author_name": item.author.name, "followers": item.author.followers, "text": item.text,
        "lang": item.lang_tag, "created_at": item.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "likes": item.likes, "reposts": item.reposts, "replies": item.replies,
    }


def build(seed: int) -> list[Item]:
    rng = random.Random(seed)
    books = AuthorBook(rng)
    items = compose(rng, books)
    resolve_replies(rng, items)
    items += make_reposts(rng, items, books)
    items.sort(key=lambda i: (i.at, i.network, i.author.handle))
    ids = Ids(rng)
    for item in items:
        ids.assign(item)
        item.lang_tag = (item.repost_of.lang_tag if item.repost_of is not None
                         and item.network == item.repost_of.network else language_tag(rng, item))
        item.likes, item.reposts, item.replies = engagement(rng, item)
    return items


def check(path: Path, items: list[Item]) -> list[str]:
    problems: list[str] = []
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if len(records) != len(items):
        problems.append("line count differs from items")
    seen: set[tuple[str, str]] = set()
    last = ""
    for n, rec in enumerate(records, 1):
        if tuple(rec) != KEYS:
            problems.append(f"line {n}: keys {list(rec)}")
        if (rec["network"], rec["id"]) in seen:
            problems.append(f"line {n}: duplicate id {rec['id']}")
        seen.add((rec["network"], rec["id"]))
        if rec["created_at"] < last:
            problems.append(f"line {n}: not sorted")
        last = rec["created_at"]
        at = datetime.strptime(rec["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if not WINDOW_START <= at < WINDOW_END:
            problems.append(f"line {n}: outside the window")
        if rec["lang"] not in ("en", "de", None):
            problems.append(f"line {n}: lang {rec['lang']}")
        limit = LIMITS.get(rec["network"])
        if limit and len(rec["text"]) > limit:
            problems.append(f"line {n}: {len(rec['text'])} chars on {rec['network']}")
        if "{" in rec["text"] and "}" in rec["text"]:
            problems.append(f"line {n}: unfilled slot? {rec['text'][:60]!r}")
    for item in items:
        if item.repost_of is not None:
            text = re.sub(r"^RT @\S+: ", "", item.text).rstrip()
            if text != item.repost_of.text.rstrip() or item.id == item.repost_of.id:
                problems.append(f"repost {item.id} does not copy {item.repost_of.id}")
    return problems


def table(title: str, counter: Counter[str]) -> str:
    total = sum(counter.values())
    rows = "".join(f"  {key:<22}{n:>5}  {100 * n / total:5.1f}%\n"
                   for key, n in counter.most_common())
    return f"{title} (total {total})\n{rows}"


def report(items: list[Item], problems: list[str]) -> str:
    out = [table("network", Counter(i.network for i in items)),
           table("language (true)", Counter(i.lang for i in items)),
           table("lang field", Counter(str(i.lang_tag) for i in items)),
           table("brand", Counter(i.brand for i in items)),
           table("kind", Counter(i.kind for i in items)),
           table("brand/kind", Counter(f"{i.brand}/{i.kind}" for i in items))]
    senses = Counter(i.meta.get("sense", "") for i in items if i.kind == "unrelated")
    out.append(table("unrelated sense of", senses))
    authors = Counter((i.network, i.author.handle) for i in items)
    top = ", ".join(f"{h} ({n})" for (_, h), n in authors.most_common(6))
    out.append(f"authors: {len(authors)} distinct; most active: {top}\n")
    burst = [i for i in items if i.brand == "nordlicht" and BURST_START <= i.at < BURST_END]
    hours = Counter(i.at.hour for i in items if i.brand == "nordlicht")
    per_hour = " ".join(f"{h:02d}h:{hours.get(h, 0)}" for h in range(7, 17))
    angry = sum(1 for i in burst if i.kind in ("burst", "hostile", "repost"))
    out.append(f"burst {BURST_START:%H:%M}-{BURST_END:%H:%M} UTC: {len(burst)} Nordlicht posts "
               f"({angry} angry posts or reposts of them); Nordlicht per hour: {per_hour}\n")
    lengths = [len(i.text) for i in items]
    mid = sum(1 for n in lengths if 60 <= n <= 250)
    out.append(f"text length: min {min(lengths)}, max {max(lengths)}, "
               f"{100 * mid / len(lengths):.0f}% within 60-250 chars\n")
    out.append(f"checks: {'ok' if not problems else f'{len(problems)} problem(s)'}\n")
    out.extend(f"  {p}\n" for p in problems)
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    items = build(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="\n") as fh:
        for item in items:
            fh.write(json.dumps(to_record(item), ensure_ascii=False) + "\n")
    problems = check(args.out, items)
    sys.stdout.write(f"wrote {len(items)} posts to {args.out}\n\n" + report(items, problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
