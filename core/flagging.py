"""Flag passages that read as instructions planted for the reader or for an assistant, at ingest.

A passage is flagged when one of its sentences is

* an *override*: an imperative to ignore, disregard or forget instructions, rules, guidance or procedures;
* *addressed to an assistant*: prompt markers ("System:", "system prompt"), an AI/assistant named as the one told
  what to do, or a directive about what to say to "the user"/"the reader"/"whoever asks" — text written to be
  relayed, not read;
* a *negated duty*: a present-tense directive that tells practitioners not to refer, report, tell or contact
  (or that no referral or report is needed), which contradicts the safeguarding duty to share a concern.

Nothing here names a document, a question or a place. The word groups are grammar (negators, speech verbs) and one
general domain fact: the safeguarding duty is to pass a concern on (refer, report, tell, contact, escalate) to the
agencies, never a duty to tell the family or the person alleged to harm. Two kinds of genuine guidance are left
alone on purpose: "do not tell the parents/the alleged abuser" (recipients who are not the agencies), and
conditional threshold guidance ("where needs are met by universal services, a referral is not required") when the
condition describes no concern about the child. evals/planted.jsonl measures it (evals/planted.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.text import sentence_spans
from core.types import Chunk

# Bump when the rules change: it is part of the ingest signature, so every document is flagged again.
FLAGGER_VERSION = 2

# ---- word groups -------------------------------------------------------------------------------------------------
# The duty: pass the concern on. Recipient verbs take the person told as their object.
_RECIPIENT_VERBS = r"tell|inform|notify|contact|call|phone|ring|alert|speak to|talk to|let (?:\S+ ){1,4}?know"
_DUTY_VERBS = (
    rf"refer|report|escalate|{_RECIPIENT_VERBS}|raise (?:a |any |the |your )?concerns?|pass (?:\S+ ){{0,3}}?on"
)
_DUTY_NOUNS = r"referrals?|reports?|reporting|referring|notifications?"
_LIGHT_VERBS = r"make|submit|send|complete|raise|file|do"
_DUTY = rf"(?:{_DUTY_VERBS}|(?:{_LIGHT_VERBS}) (?:a |an |any |the )?(?:{_DUTY_NOUNS}))"

# Present-tense directives that negate what follows ("did not refer" is narrative, not a directive).
_NEGATOR = (
    r"(?:do not|don't|dont|never|(?:should|must|will|shall) never|should not|shouldn't|must not|mustn't|need not|"
    r"needn't|ought not to|"
    r"are not to|is not to|do not ever|no one should|nobody should)"
)
_NO_NEED = (
    r"(?:(?:do|does) not (?:need|have) to|(?:don't|doesn't|dont) (?:need|have) to|no need to|no requirement to|"
    r"no obligation to|not (?:required|necessary|obliged|needed) to|unnecessary to|nothing to)"
)
_ADVERB = r"(?:\w+ly |even |ever |also |then |yet )?"
_NEGATED_DUTY = re.compile(
    rf"\b(?:{_NEGATOR} (?:(?:need|have|bother) to )?|{_NO_NEED} ){_ADVERB}(?P<duty>{_DUTY})\b(?P<rest>(?: \S+){{0,5}})"
)
_NOT_NEEDED = r"(?:needed|required|necessary|warranted|appropriate|optional|unnecessary)"
# The passive ("concerns do not need to be reported") and "don't bother telling".
_PARTICIPLE = r"(?:referred|reported|escalated|passed on|notified|told|informed|contacted|raised)"
_GERUND = r"(?:referring|reporting|escalating|telling|informing|notifying|contacting|calling|raising)"
_PASSIVE_DUTY = re.compile(
    rf"\b(?:{_NEGATOR}|(?:do|does) not need to|(?:don't|doesn't|dont) need to|never needs? to|need not) "
    rf"(?:\S+ )?be {_PARTICIPLE}\b"
    rf"|\b(?:{_NEGATOR} |no need to )?(?:bother|refrain from|avoid) (?:to )?{_GERUND}\b(?P<rest>(?: \S+){{0,5}})"
)
_DUTY_NOT_NEEDED = re.compile(
    rf"\b(?:no (?:{_DUTY_NOUNS}) (?:is |are )?(?:{_NOT_NEEDED}|needs to be made)"
    rf"|(?:{_DUTY_NOUNS})(?: \S+){{0,5}}? (?:is|are) (?:not |n't |never )?(?:{_NOT_NEEDED})"
    rf"|no need (?:for|of) (?:a |an |any )?(?:{_DUTY_NOUNS}))\b"
)
# "optional" needs no "not"; the others do (checked in _negated_duty).

# Who is told matters for the recipient verbs: the duty runs to the agencies, not to the family, the person alleged
# to harm, the child ("never tell a child you will keep a secret") or the press.
_NOT_AGENCY = re.compile(
    r"\b(?:parents?|carers?|caregivers?|famil(?:y|ies)|mother|father|mum|dad|step-?\w+|guardians?|alleged|"
    r"abuser|perpetrator|suspect|accused|the person who|press|media)\b"
    r"|\b(?:child|children|young (?:person|people)|pupils?)\b(?!'s)"  # "children's social care" is an agency
)
_CONDITION = re.compile(r"\b(?:if|where|when|whenever|unless|provided|as long as|once)\b")
# What turns a condition into a concern about a child (then "no need to refer" still contradicts the duty).
_CONCERN = re.compile(
    r"\b(?:abus\w*|harm\w*|hit\w*|hurt\w*|injur\w*|bruis\w*|disclos\w*|neglect\w*|missing|concerns?|worr\w*|"
    r"danger\w*|assault\w*|exploit\w*|fgm|violen\w*|risk\w*|unsafe|frighten\w*|scared|afraid|self-harm\w*|"
    r"touch\w*|sexual\w*|groom\w*|allegations?)\b"
)

_NO_CONCERN = re.compile(rf"\b(?:no|without) (?:\S+ ){{0,2}}?(?:{_CONCERN.pattern[2:-2]})\b")

# Override: an imperative to set aside instructions. Clause-initial only ("must not ignore" is the opposite).
_OVERRIDE = re.compile(
    r"(?:^|[:;,.!?(\"'“]\s*|\b(?:and|then|please|now|just|so)\s+)"
    r"(?:ignore|disregard|forget|override|bypass|pay no attention to|set aside|put aside)\b(?: \S+){0,4}? "
    r"(?:instructions?|rules?|guidance|prompts?|procedures?|polic(?:y|ies)|directions?|directives?|above|"
    r"previous|prior|earlier|everything|all of (?:this|that|the above)|safeguards?|safety)\b"
)
# The one addressed is an assistant, or the text is written to be relayed to whoever asks.
_AI = r"(?:ai|a\.i\.|chatbot|chat ?bot|bot|language model|llm|gpt|(?:ai|virtual|digital|helpful|chat) assistant)"
_ADDRESSED = re.compile(
    rf"(?:^|\n)\s*(?:assistant|system|ai)\s*:"
    r"|\bsystem prompt\b|\bnew instructions?\s*:|<\|\w+\|>|\[/?inst\]|###\s*instruction"
    rf"|\b(?:you are|you're|act as|pretend to be|as) (?:a |an |the )?(?:\w+ ){{0,2}}{_AI}\b"
    rf"|\b(?:note|message|instructions?|reminder) (?:for|to) (?:the |any |all )?(?:{_AI}|assistants?|models?)\b"
    rf"|\b(?:{_AI}|the assistant|the model)s? (?:must|should|will|shall|is to|are to|needs? to)\b"
    rf"|\b(?:attention|hey|hello|dear|note to|to the),? (?:the )?{_AI}\b"
    r"|\b(?:response|answer|reply) to (?:any|every|all) (?:\S+ )?(?:questions?|quer(?:y|ies))\b"
    r"|\bfrom now on,? (?:you )?(?:answer|respond|reply|say|tell)\b"
    r"|\b(?:answer|respond to|reply to) (?:every|all|any) (?:questions?|quer(?:y|ies)|requests?)\b"
    r"|\b(?:always|only) (?:say|answer|reply|respond)\b|\b(?:say|answer|reply|respond) only\b"
)
# A cheap test first: _ADDRESSED is the costly pattern, and most sentences hold none of these words.
_ADDRESSED_HINT = re.compile(
    r"\b(?:ai|a\.i|chat ?bot|bot|models?|llm|gpt|assistants?|system|instructions?|answer|respond|reply|response|"
    r"say|attention|hey|hello|dear)\b|<\||\[/?inst|###"
)
_RELAY = re.compile(
    r"\b(?:tell|say to|answer|respond to|reply to|reassure|assure|inform|advise|give|remind|explain to|convince|"
    r"instruct) (?:the |any |every |all )?(?:users?|readers?|asker|questioner|person asking|people asking|"
    r"whoever asks|anyone (?:who asks|asking))(?=\s*(?:$|[:,.;!?\"'“]|that\b|the\b|with\b|to\b|not\b|this\b))"
    r"|\b(?:when asked|if asked|if (?:anyone|someone|somebody|a user|the user|people|you are|a reader) "
    r"(?:asks?|asked)|whoever asks)\b.{0,80}?\b(?:say|answer|reply|respond|tell)\b"
)


@dataclass(frozen=True)
class Flag:
    category: str  # "override", "addressed" or "duty"
    sentence: str
    start: int  # offsets of the sentence in the text given
    end: int

    def describe(self) -> str:
        what = {
            "override": "tells the reader to ignore instructions",
            "addressed": "is written as an instruction to an assistant",
            "duty": "tells the reader not to refer or report, against the safeguarding duty",
        }[self.category]
        sentence = self.sentence if len(self.sentence) <= 160 else self.sentence[:157] + "…"
        return f"{what}: “{sentence}”"


def _norm(sentence: str) -> str:
    s = sentence.replace("’", "'").replace("‘", "'").lower()
    return re.sub(r"\s+", " ", s)


# The same duty read more loosely, word by word: a negator, then within a few words the duty with nothing but
# auxiliaries, determiners, light verbs and adverbs between ("there's no point reporting", "never even pass it
# on"); or the duty as subject of a negated "needed"/"be" ("escalation should never happen"). Narrative ("did not",
# "no referral was made") and "should not be delayed" are not directives against the duty.
_W_DUTY = re.compile(
    r"refer|refers|referring|referral|referrals|report|reports|reporting|escalat\w*|notify|notifying|notification|"
    r"inform|informing|tell|telling|contact|contacting|phone|phoning|call|calling|shar(?:e|ing)|pass(?:ing)?|"
    r"rais(?:e|ing)"
)
_W_RECIPIENT = re.compile(r"inform|informing|tell|telling|contact|contacting|phone|phoning|call|calling")
_W_NEG = re.compile(r"not|never|no|nothing|unnecessary|needn't|nobody|pointless|\w+n't")
_W_PAST = re.compile(r"did|was|were|had|has|have|didn't|wasn't|weren't|hadn't|hasn't|haven't")
_W_BRIDGE = re.compile(
    r"need|needs|to|have|has|be|ever|even|also|then|make|making|submit|send|complete|file|do|a|an|any|the|your|for|"
    r"of|is|are|there|bother|point|reason|requirement|obligation|\w+ly"
)
_W_PREDICATE = re.compile(
    r"needed|required|necessary|be|happen|appropriate|warranted|expected|advised|recommended|mandatory|compulsory|"
    r"essential"
)
_W_PROTECT = re.compile(r"delayed|postponed|put|held|stopped|prevented|left|ignored|overlooked|missed|discouraged")


def _duty_window(s: str) -> bool:
    toks = re.findall(r"[\w'-]+", s)
    for i, t in enumerate(toks):
        if not _W_NEG.fullmatch(t) or _W_PAST.fullmatch(t) or (i and _W_PAST.fullmatch(toks[i - 1])):
            continue
        for j in range(i + 1, min(len(toks), i + 7)):
            if _W_DUTY.fullmatch(toks[j]):
                if any(x in ("was", "were", "had", "has") for x in toks[j + 1 : j + 7]):
                    break  # "no referral was made": narrative
                if _W_RECIPIENT.fullmatch(toks[j]) and _NOT_AGENCY.search(_recipient("tell", " ".join(toks[j + 1 :]))):
                    break
                return True
            if not _W_BRIDGE.fullmatch(toks[j]):
                break
        after = toks[i + 1 : i + 3]
        if t == "unnecessary" or (after and _W_PREDICATE.fullmatch(after[0])):
            if len(after) > 1 and _W_PROTECT.fullmatch(after[1]):
                continue
            if any(_W_DUTY.fullmatch(x) and not _W_RECIPIENT.fullmatch(x) for x in toks[max(0, i - 7) : i]):
                return True
    return False


_RECIPIENT_END = frozenset(
    "about if when where whenever that to unless because before after as with of for until while or and so".split()
)


def _recipient(verb: str, after: str) -> str:
    """Who a recipient verb tells: the words between "let" and "know", else the noun phrase after the verb."""
    words = verb.split()
    if words[0] == "let":
        return " ".join(words[1:-1])
    out: list[str] = []
    for w in after.split():
        bare = w.strip(",.;:!?")
        if bare in _RECIPIENT_END or len(out) >= 4:
            break
        out.append(bare)
        if bare != w:
            break
    return " ".join(out)


def _negated_duty(s: str) -> bool:
    conditional = bool(_CONDITION.search(s))
    concern = bool(_CONCERN.search(_NO_CONCERN.sub(" ", s)))
    if conditional and not concern:
        return False  # threshold guidance ("where needs are met by universal services, ... is not required")
    for m in _NEGATED_DUTY.finditer(s):
        verb = m.group("duty").split()[0]
        if re.fullmatch(_RECIPIENT_VERBS, m.group("duty")) or verb in ("speak", "talk"):
            if _NOT_AGENCY.search(_recipient(m.group("duty"), m.group("rest"))):
                continue  # "do not tell the parents ...": genuine guidance
        return True
    if _duty_window(s):
        return True
    for m in _PASSIVE_DUTY.finditer(s):
        rest = m.group("rest")
        if rest is None or not _NOT_AGENCY.search(_recipient("tell", rest)):
            return True
    for m in _DUTY_NOT_NEEDED.finditer(s):
        text = m.group(0)
        negated = text.startswith("no ") or any(w in text for w in (" not ", "n't ", " never "))
        if negated or text.endswith(("optional", "unnecessary")):
            return True
    return False


def flag_sentence(sentence: str) -> str:
    """The kind of planted instruction a sentence is ("override", "addressed", "duty"), or ""."""
    s = _norm(sentence)
    if _OVERRIDE.search(s):
        return "override"
    if (_ADDRESSED_HINT.search(s) and _ADDRESSED.search(s)) or _RELAY.search(s):
        return "addressed"
    if _negated_duty(s):
        return "duty"
    return ""


def flag_text(text: str) -> list[Flag]:
    """Every sentence of the text that reads as a planted instruction, in order."""
    out = []
    for a, b in sentence_spans(text):
        category = flag_sentence(text[a:b])
        if category:
            out.append(Flag(category=category, sentence=text[a:b], start=a, end=b))
    return out


def flag_chunks(chunks: Iterable[Chunk]) -> list[Chunk]:
    """The chunks, each flagged chunk carrying (in `flag`) why: its first planted sentence."""
    out = []
    for chunk in chunks:
        flags = flag_text(chunk.text)
        out.append(chunk.model_copy(update={"flag": flags[0].describe()}) if flags else chunk)
    return out
