"""Triage: which open conversation needs a person first, and why. Pure: no database access.

The signals come from what the customer said last (their latest message; the subject too while that
message is their first), so a problem they have since called solved stops counting.

score = waiting points (time since the customer's last unanswered message against the mailbox's
        response goal: 40 per goal length up to 3 goals, then 120 more per e-fold, never capped, so a
        forgotten customer keeps rising above fresh ones)
      + stuck points (180, as urgent as 5 goal lengths waited: cannot log in, charged twice, data
        lost, still fails, hacked...)
      + angry points (180: "unacceptable", "third time", "we will cancel"...)
      + feeling points (frustrated 30, worried 20, confused 10: the feeling the customer chose, or
        frustrated when their words sound it: "still waiting", "annoyed")
      + customer points (VIP 25; enterprise or pro plan 10)
A latest message that reads as a thank-you or a resolution ("thanks, that worked", "danke, hat
geklappt", "merci, c'est réglé", "gracias, ya funciona") with nothing still open in it ("but it still
fails", a question) is done: -40 points in place of the feeling, and nobody waits for an answer to it
(`done`; `inbox.services.message_receive` then clears `waiting_since`). The words, per language (EN, DE,
FR, ES), are in the lists below.

Every part that counts adds a reason, shown beside the conversation. The parts that do not move with
the clock are stored on the conversation (`priority_points`, `priority_reasons`) so the inbox sorts by
the whole score in one indexed database query; see `inbox.selectors.triage_score`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

WAITING_WEIGHT, WAITING_KNEE = 40, 3.0  # points per goal length, linear up to the knee, then logarithmic
STUCK_POINTS = ANGRY_POINTS = 180
DONE_POINTS = -40
FEELING_POINTS = {"frustrated": 30, "worried": 20, "confused": 10}

# The words, one list per signal and language; regular expressions, matched without regard to case.
STUCK = {
    "en": [
        r"can'?t (?:log|sign) ?in",
        r"cannot (?:log|sign) ?in",
        r"unable to (?:log|sign) ?in",
        r"locked out",
        r"account is (?:locked|blocked)",
        r"charged (?:me )?twice",
        r"double[- ]charged?",
        r"data (?:is )?(?:lost|gone|deleted)",
        r"lost (?:all )?(?:of )?(?:my |our )?data",
        r"everything is gone",
        r"hacked",
        r"security",
        r"breach",
        r"not working",
        r"stopped working",
        r"doesn'?t work",
        r"isn'?t working",
        r"(?:is|are) down",
        r"outage",
        r"still (?:fails|failing|broken)",
        r"error 500",
        r"blank page",
    ],
    "de": [
        r"kann mich (?:\w+ ){0,3}nicht (?:mehr )?(?:anmelden|einloggen)",
        r"kein zugriff",
        r"gesperrt",
        r"doppelt (?:abgebucht|berechnet|belastet)",
        r"zweimal (?:abgebucht|berechnet|belastet)",
        r"daten (?:sind )?(?:weg|verloren|gelöscht|verschwunden)",
        r"funktioniert (?:auch |gar |überhaupt )?nicht",
        r"geht (?:gar )?nicht mehr",
        r"ausgefallen",
        r"gehackt",
        r"immer noch (?:\w+ ){0,3}(?:fehler|nicht|kaputt)",
        r"bricht (?:\w+ ){0,4}ab",
    ],
    "fr": [
        r"impossible de (?:me )?connecter",
        r"(?:je )?ne (?:peux|parviens) (?:pas|plus) (?:me connecter|travailler)",
        r"compte (?:est )?bloqué",
        r"(?:prélevé|débité|facturé) deux fois",
        r"double (?:prélèvement|facturation|débit)",
        r"données (?:sont )?(?:perdues|supprimées|effacées|disparues)",
        r"perdu (?:toutes )?(?:mes|nos) données",
        r"ne (?:marche|fonctionne) (?:pas|plus|toujours pas)",
        r"échoue",
        r"piraté",
        r"en panne",
    ],
    "es": [
        r"no puedo (?:iniciar sesión|entrar|acceder|pagar|trabajar)",
        r"cuenta bloqueada",
        r"cobrado dos veces",
        r"cobro doble",
        r"doble cargo",
        r"datos (?:perdidos|borrados)",
        r"perdí (?:todos )?mis datos",
        r"no funciona",
        r"sigue sin funcionar",
        r"hackead[oa]",
        r"caíd[oa]",
    ],
}
ANGRY = {
    "en": [
        r"unacceptable",
        r"ridiculous",
        r"outrageous",
        r"(?:third|fourth|fifth) time",
        r"fed up",
        r"(?:nobody|no one) (?:answers|replies|reads|seems)",
        r"cancel(?:ling)? (?:my|our) (?:subscription|account)",
        r"worst (?:support|service)",
        r"disgrace",
    ],
    "de": [
        r"inakzeptabel",
        r"unverschämt",
        r"frechheit",
        r"unzumutbar",
        r"skandal",
        r"(?:dritte|vierte) mal",
        r"niemand antwortet",
        r"kündigen",
    ],
    "fr": [
        r"inadmissible",
        r"inacceptable",
        r"scandaleux",
        r"honteux",
        r"(?:troisième|quatrième) fois",
        r"personne ne (?:répond|lit)",
        r"résilier",
        r"ras[- ]le[- ]bol",
    ],
    "es": [
        r"inaceptable",
        r"vergonzoso",
        r"indignante",
        r"una vergüenza",
        r"(?:tercera|cuarta) vez",
        r"nadie (?:responde|contesta)",
        r"cancelar (?:mi|la) (?:suscripción|cuenta)",
        r"hart[oa]",
    ],
}
FRUSTRATED = {
    "en": [r"still waiting", r"annoy(?:ed|ing)", r"frustrat\w*", r"takes forever", r"disappointed"],
    "de": [
        r"immer noch (?:auf|keine) (?:\w+ ){0,2}antwort",
        r"warte (?:immer noch|seit)",
        r"genervt",
        r"nervig",
        r"ärgerlich",
        r"enttäuscht",
    ],
    "fr": [
        r"toujours pas de réponse",
        r"j'attends toujours",
        r"agaç\w*",
        r"agacé",
        r"énervé",
        r"déçu",
        r"frustrant",
    ],
    "es": [r"sigo esperando", r"todavía sin respuesta", r"molest[oa]", r"frustrante", r"decepcionad[oa]"],
}
# A thank-you that closes the conversation: a resolution said anywhere, or thanks as the first words
# (thanks as the last words ends a request: "Please send the invoice. Thanks!").
RESOLVED = {
    "en": [
        r"that (?:did the trick|worked|fixed it|helped)",
        r"(?:it|this|everything) works (?:now|again|fine)",
        r"(?:it'?s|it is) working (?:now|again)",
        r"works now",
        r"working now",
        r"all sorted",
        r"sorted now",
        r"all good",
        r"all set",
        r"problem solved",
        r"(?:issue|problem) (?:is )?(?:resolved|solved|fixed)",
        r"(?:found|figured) it",
        r"you can close (?:this|it|the ticket)",
        r"no (?:further )?action needed",
        r"no need to reply",
    ],
    "de": [
        r"hat (?:gut |super )?geklappt",
        r"klappt (?:jetzt|wieder)",
        r"funktioniert (?:jetzt|wieder)",
        r"erledigt",
        r"problem (?:ist )?gelöst",
        r"gefunden",
        r"kann geschlossen werden",
        r"kein handlungsbedarf",
    ],
    "fr": [
        r"c['’]est réglé",
        r"(?:c['’]est |problème )résolu",
        r"ça (?:marche|fonctionne) (?:maintenant|à nouveau|de nouveau)",
        r"ça a marché",
        r"tout est (?:bon|ok|en ordre)",
        r"j['’]ai trouvé",
        r"vous pouvez (?:clôturer|fermer)",
        r"pas besoin de répondre",
    ],
    "es": [
        r"ya funciona",
        r"funciona (?:ahora|de nuevo|otra vez)",
        r"(?:problema|todo) (?:resuelto|solucionado|arreglado)",
        r"todo (?:bien|correcto|listo)",
        r"ya está",
        r"lo encontré",
        r"(?:pueden|podéis) cerrar",
        r"no hace falta responder",
    ],
}
THANKS = {
    "en": [r"thanks(?! in advance)", r"thank you(?! in advance)", r"thx", r"cheers", r"much appreciated"],
    "de": [r"danke(?! im voraus)", r"vielen dank(?! im voraus)", r"besten dank"],
    "fr": [r"merci(?! d['’]avance)"],
    "es": [r"gracias(?! de antemano| por adelantado)", r"muchas gracias"],
}
THANKS_LEAD_IN = r"(?:ok(?:ay)?|great|perfect|super|awesome|wonderful|excellent|prima|toll|perfekt|parfait|génial|genial|perfecto|estupendo|vale)"
# What keeps a thank-you open: "thanks, but it still fails", "merci, mais...", a new question.
STILL_OPEN = {
    "en": [r"\bbut\b", r"however", r"\bstill\b", r"another (?:question|problem|issue)", r"one more"],
    "de": [r"\baber\b", r"jedoch", r"allerdings", r"immer noch", r"noch eine frage"],
    "fr": [r"\bmais\b", r"cependant", r"toujours", r"une autre question"],
    "es": [r"\bpero\b", r"sin embargo", r"todavía", r"sigue", r"otra pregunta"],
}


def _words(lists: dict[str, list[str]]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{w})" for words in lists.values() for w in words), re.IGNORECASE)


STUCK_RE, ANGRY_RE, FRUSTRATED_RE = _words(STUCK), _words(ANGRY), _words(FRUSTRATED)
RESOLVED_RE, STILL_OPEN_RE = _words(RESOLVED), _words(STILL_OPEN)
THANKS_FIRST_RE = re.compile(
    rf"^\W*(?:{THANKS_LEAD_IN}\W+){{0,2}}(?:{_words(THANKS).pattern})\b", re.IGNORECASE
)
BLOCKED = STUCK_RE  # the name this pattern had before the other signals joined it


@dataclass(frozen=True)
class Priority:
    score: float
    reasons: list[str] = field(default_factory=list)
    done: bool = False  # the latest message reads as a thank-you or resolution with nothing left open


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.0f} days"
    return f"{hours:.0f} h" if hours >= 1 else f"{delta.total_seconds() / 60:.0f} min"


def waiting_points(waited: timedelta, goal_minutes: int) -> float:
    """Points for time waited against the goal: linear to the knee, then logarithmic and never capped.
    The database computes the same in `inbox.selectors.triage_score`."""
    ratio = max(waited / timedelta(minutes=max(goal_minutes, 1)), 0.0)
    if ratio <= WAITING_KNEE:
        return ratio * WAITING_WEIGHT
    knee = WAITING_KNEE * WAITING_WEIGHT
    return knee + knee * math.log(ratio / WAITING_KNEE)  # same slope at the knee


def reads_as_done(text: str) -> bool:
    """A thank-you or resolution ("perfect, all sorted", "danke, hat geklappt") with no problem, complaint,
    question or "but" left in it."""
    text = (text or "").strip()
    if not text or "?" in text or "¿" in text:
        return False
    if STUCK_RE.search(text) or ANGRY_RE.search(text) or STILL_OPEN_RE.search(text):
        return False
    return bool(RESOLVED_RE.search(text) or THANKS_FIRST_RE.search(text))


def standing(
    *, feeling: str = "", text: str = "", subject: str = "", attributes: dict | None = None
) -> Priority:
    """The part of the score that does not change with the clock, from the customer's latest message
    (`text`), the subject while that message is their first (`subject`, else ""), the feeling they chose
    and who they are. Stored on the conversation whenever one of these changes, so the database can
    sort by it."""
    score, reasons = 0, []
    done = reads_as_done(text)
    if done:
        score += DONE_POINTS
        reasons.append("says thanks: probably done")
    else:
        said = f"{subject}\n{text}" if subject else text or ""
        stuck, angry = STUCK_RE.search(said), ANGRY_RE.search(said)
        if stuck:
            score += STUCK_POINTS
            reasons.append(f"says “{stuck.group(0).lower()}”")
        if angry:
            score += ANGRY_POINTS
            reasons.append(f"sounds angry: “{angry.group(0).lower()}”")
        if feeling in FEELING_POINTS:
            score += FEELING_POINTS[feeling]
            reasons.append(f"feels {feeling}")
        elif (frustrated := FRUSTRATED_RE.search(said)) and not angry:
            score += FEELING_POINTS["frustrated"]
            reasons.append(f"sounds frustrated: “{frustrated.group(0).lower()}”")
    attributes = attributes or {}
    if attributes.get("vip"):
        score += 25
        reasons.append("VIP")
    elif str(attributes.get("plan", "")).lower() in {"enterprise", "pro"}:
        score += 10
        reasons.append(f"{attributes['plan']} plan")
    return Priority(score, reasons, done)


def combine(*, now: datetime, waiting_since: datetime | None, goal_minutes: int, fixed: Priority) -> Priority:
    """The full priority: the stored standing plus the waiting points as of `now`."""
    score, reasons = float(fixed.score), []
    if waiting_since is not None:
        waited = now - waiting_since
        ratio = waited / timedelta(minutes=max(goal_minutes, 1))
        score += waiting_points(waited, goal_minutes)
        goal = _hours(timedelta(minutes=goal_minutes))
        if ratio >= 1:
            reasons.append(f"waiting {_hours(waited)}, over the {goal} goal")
        elif ratio >= 0.5:
            reasons.append(f"waiting {_hours(waited)} of a {goal} goal")
    return Priority(round(score, 1), reasons + list(fixed.reasons), fixed.done)


def priority(
    *,
    now: datetime,
    waiting_since: datetime | None,
    goal_minutes: int,
    feeling: str = "",
    text: str = "",
    subject: str = "",
    attributes: dict | None = None,
) -> Priority:
    """The whole score in one call (tests and one-off use); the inbox sorts by it in the database."""
    fixed = standing(feeling=feeling, text=text, subject=subject, attributes=attributes)
    return combine(now=now, waiting_since=waiting_since, goal_minutes=goal_minutes, fixed=fixed)
