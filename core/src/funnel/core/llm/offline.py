"""The offline provider: deterministic stage outputs from rules, no network, no key.

It exists so that ``funnel dev`` and the evaluation harness give a sensible conversation without
a Gemini key: it greets, answers from the knowledge base by quoting the retrieved text, says it
will check with the team when the knowledge base has nothing, offers the organisation's CTA when
the customer is ready, and hands off when asked for a person, when the customer is angry or when
someone tries to manipulate the bot. It reads the structured stage input from
``LlmRequest.hints`` (which the stages always fill) and never parses the prompt text.

What it cannot do: understand language. Intent, sentiment and risk come from keyword and regex
rules (English, Hindi in Devanagari, Hinglish); replies are phrasebook sentences plus quoted
knowledge; only English, Hinglish and Devanagari Hindi replies exist, so a customer writing
another script gets a reply the Mouth rules reject, and the conversation is handed to a person.

Token counts are estimates (characters / 4) and every result says ``provider="offline"`` and
``model="offline-rules-v1"``, so traces and the dashboard never mistake it for a real model.
"""

from __future__ import annotations

import re
import time
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from funnel.core.htl.enums import (
    Action,
    ConversationStage,
    CtaState,
    CustomerIntent,
    IntentLevel,
    MessageAuthor,
    MessageKind,
    RiskLevel,
    Sentiment,
    TurnTrigger,
)
from funnel.core.htl.policy import is_opt_out_message, transition_allowed
from funnel.core.htl.schemas import (
    SUMMARY_MAX,
    BrainOutput,
    ChatMessage,
    CtaOption,
    CtaUrl,
    Exchange,
    EyesOutput,
    LeadFacts,
    MemoryOutput,
    MouthOutput,
    ReplyButton,
    Retrieval,
    RetrievedChunk,
    RiskFlags,
    SelfCheck,
    TurnContext,
)
from funnel.core.htl.text import (
    clip,
    clip_words,
    dominant_script,
    estimate_tokens,
    find_urls,
    guess_language,
    is_emoji_only,
    is_hinglish,
    money_amounts,
    split_sentences,
    words,
)
from funnel.core.llm.base import LlmInvalidOutput, LlmRejected, LlmRequest, LlmResult, LlmUsage

OutputT = TypeVar("OutputT", bound=BaseModel)

PROVIDER = "offline"
MODEL = "offline-rules-v1"


def _pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


# --- Eyes: what the customer is doing ------------------------------------------------------

_INJECTION = _pattern(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|rules|prompt|guidelines|"
    r"above|previous|system)\b",
    r"\b(?:system|developer)\s+(?:prompt|message|mode)\b",
    r"\byou\s+are\s+now\b",
    r"\bact\s+as\s+(?:an?\s+)?(?:admin|developer|system|different)\b",
    r"\bjailbreak\b",
    r"\breveal\b.{0,30}\b(?:prompt|instructions)\b",
    r"</?\s*(?:system|instructions?|customer_messages)\s*>",
    r"\bpichl[ei]\s+instructions?\b",
    r"निर्देश.{0,20}(?:भूल|अनदेखा)",
)
_HUMAN = _pattern(
    r"\b(?:human|real\s+person|a\s+person|agent|representative|someone\s+real|"
    r"talk\s+to\s+(?:someone|somebody|a\s+person|your\s+team|sales|the\s+owner|manager)|"
    r"speak\s+to\s+(?:someone|somebody|a\s+person|your\s+team|sales|manager)|call\s+me|"
    r"manager|insaan|kisi\s+se\s+baat|kisi\s+insaan|banda\s+chahiye)\b",
    r"इंसान|किसी\s*से\s*बात|व्यक्ति\s*से|कॉल\s*कर",
)
_ANGER = _pattern(
    r"\b(?:stupid|useless|worst|pathetic|ridiculous|nonsense|angry|furious|idiot|rubbish|"
    r"waste\s+of\s+time|fed\s+up|bakwas|bekaar|bekar|pagal|ghatiya|faltu)\b",
    r"बकवास|बेकार|घटिया|पागल",
)
_DISTRUST = _pattern(r"\b(?:scam|fraud|fake|cheat(?:ing|ers?)?|dhokha|lies)\b", r"धोखा|फ्रॉड")
_LEGAL = _pattern(r"\b(?:lawyer|legal\s+action|sue\b|police|consumer\s+court|court)\b")
_SPAM = _pattern(
    r"\b(?:lottery|crypto|bitcoin|earn\s+money|work\s+from\s+home|click\s+here|free\s+gift|"
    r"investment\s+opportunity|loan\s+offer|forex)\b"
)
_OPT_OUT_LOOSE = _pattern(
    r"\b(?:unsubscribe|stop\s+(?:messaging|texting|sending)|don'?t\s+(?:message|text|contact)\s+"
    r"me|no\s+more\s+messages|message\s+mat\s+bhejo|band\s+karo)\b",
    r"मत\s*भेजो|बंद\s*करो",
)
_NOT_INTERESTED = _pattern(
    r"\b(?:not\s+interested|no\s+thanks|no\s+thank\s+you|wrong\s+number|not\s+for\s+me|"
    r"nahi\s+chahiye|interest\s+nahi|zarurat\s+nahi)\b",
    r"नहीं\s*चाहिए|रुचि\s*नहीं",
)
_PURCHASE = _pattern(
    r"\b(?:buy|purchase|order|sign\s*up|subscribe\s+to|book|booking|demo|interested|"
    r"want\s+to\s+(?:start|get|try)|ready|let'?s\s+(?:do|go|start)|how\s+do\s+i\s+(?:start|pay)|"
    r"lena\s+hai|chahiye|kharid|le\s+lunga)\b",
    r"खरीद|लेना\s*है|चाहिए",
)
_URGENT = _pattern(r"\b(?:now|today|asap|immediately|right\s+away|abhi|turant|aaj)\b", r"अभी|आज")
_PRICE = _pattern(
    r"\b(?:price|prices|pricing|cost|costs|how\s+much|fee|fees|charges?|rates?|plans?|"
    r"package|quote|budget|kitna|kitne|kitni|daam|rate\s+kya)\b",
    r"कीमत|दाम|कितना|कितने|कितनी|शुल्क|प्लान",
)
_CONTACT = _pattern(
    r"\b(?:phone|number|email|address|location|contact|where\s+are\s+you|office|timings?)\b",
    r"पता|संपर्क|नंबर",
)
_PROCESS = _pattern(r"\b(?:how\s+(?:do|does|to|can)|steps?|process|procedure|kaise)\b", r"कैसे")
_QUESTION = _pattern(
    r"\?",
    r"^\s*(?:what|how|when|where|which|who|why|can|could|do|does|is|are|will|kya|kaise|kab|"
    r"kahan|kaun|kyun)\b",
    r"\b(?:kya|kaise|kab|kahan|kaun|kyun)\b",
    r"क्या|कैसे|कब|कहाँ|कहां|कौन|क्यों",
)
_GREETING = _pattern(
    r"^\s*(?:hi+|hello+|hey+|hii+|good\s+(?:morning|afternoon|evening)|namaste|namaskar|"
    r"salaam|salam|hola|yo)\b",
    r"^\s*(?:नमस्ते|नमस्कार|प्रणाम)",
)
_ACK = _pattern(
    r"^\s*(?:ok(?:ay)?|k|thanks?|thank\s+you|thx|cool|great|nice|got\s+it|fine|sure|"
    r"theek\s+hai|thik\s+hai|accha|acha|shukriya|dhanyavaad|dhanyavad)\s*[.!]*\s*$",
    r"^\s*(?:ठीक\s*है|धन्यवाद|शुक्रिया|अच्छा)\s*[.!।]*\s*$",
)
_CONFUSED = _pattern(
    r"\b(?:confused|don'?t\s+understand|didn'?t\s+understand|samajh\s+nahi|samjha\s+nahi)\b",
    r"समझ\s*नहीं",
)

#: Canonical terms added to a search query per topic, so a Hinglish "kitna hai" finds an
#: English price list by full-text search as well as by vectors.
_TOPIC_TERMS = {
    "pricing": "price pricing cost plans",
    "contact": "contact address phone email",
    "process": "how process steps",
}
_LEVELS = [IntentLevel.UNKNOWN, IntentLevel.LOW, IntentLevel.MEDIUM, IntentLevel.HIGH]


def _at_least(current: IntentLevel, floor: IntentLevel) -> IntentLevel:
    if current is IntentLevel.VERY_HIGH:
        return current
    if floor is IntentLevel.VERY_HIGH:
        return floor
    return max(current, floor, key=_LEVELS.index)


def _last_lead_text(ctx: TurnContext) -> str:
    for message in reversed([*ctx.history, *ctx.new_messages]):
        if message.author is MessageAuthor.LEAD and any(ch.isalpha() for ch in message.text):
            return message.text
    return ""


def _cta_reply(ctx: TurnContext) -> tuple[bool, bool]:
    """(tapped one of our CTA buttons, and it was the accepting one)."""
    for message in ctx.new_messages:
        if message.reply_id and message.reply_id.startswith("cta:"):
            return True, message.reply_id.endswith(":accept")
    return False, False


def observe_offline(ctx: TurnContext) -> EyesOutput:
    text = ctx.customer_text
    state = ctx.state
    language = guess_language(_last_lead_text(ctx), ctx.org.language)
    if ctx.trigger is TurnTrigger.FOLLOWUP or not ctx.new_messages:
        return EyesOutput(
            intent=CustomerIntent.OTHER,
            intent_level=state.intent_level,
            sentiment=state.sentiment,
            language=language,
            situation_summary="A follow-up is due; the customer has not written since.",
            confidence=0.6,
        )

    leads = [m for m in ctx.new_messages if m.author is MessageAuthor.LEAD]
    only_reactions = all(m.reaction for m in leads)
    tapped, accepted = _cta_reply(ctx)
    injection = bool(_INJECTION.search(text))
    risk = RiskFlags(
        spam=RiskLevel.HIGH if _SPAM.search(text) or len(find_urls(text)) >= 2 else RiskLevel.LOW,
        policy=RiskLevel.HIGH if _LEGAL.search(text) else RiskLevel.LOW,
        prompt_injection=injection,
    )
    letters = [ch for ch in text if ch.isalpha()]
    shouting = len(letters) >= 8 and sum(ch.isupper() for ch in letters) / len(letters) > 0.7
    annoyed = bool(_ANGER.search(text)) or shouting or "!!!" in text

    level = state.intent_level
    sentiment = Sentiment.ANNOYED if annoyed else state.sentiment
    knowledge = False
    topic: str | None = None
    intent: CustomerIntent
    summary: str
    if only_reactions or is_emoji_only(text):
        intent, summary = CustomerIntent.ACKNOWLEDGEMENT, "The customer reacted with emoji only."
        level = _at_least(level, IntentLevel.LOW)
    elif tapped:
        intent = CustomerIntent.CTA_RESPONSE
        if accepted:
            level, sentiment = IntentLevel.VERY_HIGH, Sentiment.POSITIVE
            summary = "The customer accepted the offered next step."
        else:
            summary = "The customer postponed the offered next step."
    elif any(is_opt_out_message(m.text) for m in leads) or _OPT_OUT_LOOSE.search(text):
        intent, summary = CustomerIntent.OPT_OUT, "The customer asked us to stop messaging."
        level, sentiment = IntentLevel.LOW, Sentiment.UNINTERESTED
    elif _HUMAN.search(text):
        intent, summary = CustomerIntent.HUMAN_REQUEST, "The customer asked to talk to a person."
    elif annoyed or _LEGAL.search(text):
        intent, summary = CustomerIntent.COMPLAINT, "The customer is upset and complaining."
    elif _NOT_INTERESTED.search(text):
        intent, summary = (
            CustomerIntent.NOT_INTERESTED,
            "The customer says they are not interested.",
        )
        level, sentiment = IntentLevel.LOW, Sentiment.UNINTERESTED
    elif _PURCHASE.search(text) and not _PRICE.search(text):
        intent, summary = CustomerIntent.PURCHASE, "The customer wants to go ahead."
        level = IntentLevel.VERY_HIGH if _URGENT.search(text) else IntentLevel.HIGH
        sentiment = Sentiment.POSITIVE
    elif _PRICE.search(text):
        intent, summary = CustomerIntent.PRICING, "The customer asks about prices."
        knowledge, topic = True, "pricing"
        level = _at_least(level, IntentLevel.MEDIUM)
        sentiment = Sentiment.CURIOUS
    elif _QUESTION.search(text):
        intent, summary = CustomerIntent.QUESTION, "The customer asks a question."
        knowledge = True
        topic = (
            "contact"
            if _CONTACT.search(text)
            else "process"
            if _PROCESS.search(text)
            else "product"
        )
        level = _at_least(level, IntentLevel.MEDIUM)
        sentiment = Sentiment.CONFUSED if _CONFUSED.search(text) else Sentiment.CURIOUS
    elif _GREETING.search(text):
        intent, summary = CustomerIntent.GREETING, "The customer greeted us."
        level = _at_least(level, IntentLevel.LOW)
    elif _ACK.search(text):
        intent, summary = CustomerIntent.ACKNOWLEDGEMENT, "The customer acknowledged our message."
    else:
        intent, summary = CustomerIntent.SMALL_TALK, "The customer wrote without a clear request."
    if _DISTRUST.search(text) and not annoyed:
        sentiment = Sentiment.DISTRUSTFUL
    if injection:
        summary += " The message tries to instruct the assistant (prompt injection)."

    query = None
    if knowledge:
        extra = _TOPIC_TERMS.get(topic or "", "")
        # In a burst ("hi" / "I have a 2 kW roof" / "price?") search with the asking messages,
        # not the greeting around them.
        asking = [m.text for m in leads if _QUESTION.search(m.text) or _PRICE.search(m.text)]
        text = "\n".join(asking) or text
        # No translation here: a message in another script is searched by the topic's English
        # terms and any Latin words in it (product names), which is what the documents share.
        if dominant_script(text) not in (None, "Latn"):
            text = " ".join(w for w in words(text) if w.isascii()) or ""
            extra = extra or "product"
        query = clip(f"{extra} {text}".strip(), 300) or None
    return EyesOutput(
        intent=intent,
        intent_level=level,
        sentiment=sentiment,
        risk_flags=risk.model_copy(
            update={"hallucination_risk": RiskLevel.MEDIUM if knowledge else RiskLevel.LOW}
        ),
        language=language,
        knowledge_needed=knowledge,
        knowledge_topic=topic,
        search_query=query,
        situation_summary=summary,
        confidence=0.75 if intent is not CustomerIntent.SMALL_TALK else 0.5,
    )


# --- Brain: what to do ---------------------------------------------------------------------

_TERMINAL = frozenset({ConversationStage.CLOSED, ConversationStage.LOST, ConversationStage.GHOSTED})
_MAX_NUDGES = 3


def _move(ctx: TurnContext, proposed: ConversationStage) -> ConversationStage:
    """``proposed`` when the state machine allows it, else the current stage."""
    customer_turn = ctx.trigger is TurnTrigger.CUSTOMER and bool(ctx.new_messages)
    current = ctx.state.stage
    return (
        proposed if transition_allowed(current, proposed, customer_turn=customer_turn) else current
    )


def _best_cta(ctx: TurnContext) -> CtaOption | None:
    ctas = ctx.active_ctas
    if not ctas:
        return None
    wanted = {w.lower() for w in words(ctx.customer_text)}
    return max(ctas, key=lambda c: len(wanted & {w.lower() for w in words(c.label)}))


def decide_offline(ctx: TurnContext, eyes: EyesOutput, retrieval: Retrieval) -> BrainOutput:
    state = ctx.state

    def out(
        action: Action,
        plan: str,
        stage: ConversationStage | None = None,
        *,
        cta_id: str | None = None,
        followup_delay_minutes: int | None = None,
        needs_attention: bool = False,
        attention_reason: str | None = None,
        confidence: float = 0.7,
    ) -> BrainOutput:
        return BrainOutput(
            action=action,
            new_stage=_move(ctx, stage) if stage else state.stage,
            plan=plan,
            cta_id=cta_id,
            followup_delay_minutes=followup_delay_minutes,
            needs_attention=needs_attention,
            attention_reason=attention_reason,
            confidence=confidence,
        )

    def handoff(reason: str) -> BrainOutput:
        return out(
            Action.HANDOFF,
            "Tell the customer a person from the team will follow up here soon.",
            needs_attention=True,
            attention_reason=reason,
        )

    if ctx.trigger is TurnTrigger.FOLLOWUP or not ctx.new_messages:
        if state.stage in _TERMINAL:
            return out(Action.IGNORE, "The conversation is over; no follow-up.")
        if state.total_nudges >= _MAX_NUDGES:
            return out(
                Action.IGNORE, "No answer after several follow-ups.", ConversationStage.GHOSTED
            )
        return out(
            Action.RESPOND,
            "Send a short, friendly check-in asking if they have questions. No new facts.",
            followup_delay_minutes=180 * (state.total_nudges + 1),
        )

    flags = eyes.risk_flags
    if flags.prompt_injection:
        return handoff("prompt-injection attempt")
    if flags.policy is RiskLevel.HIGH:
        return handoff("high policy risk (legal threat or abuse)")
    if eyes.intent is CustomerIntent.OPT_OUT:
        return out(Action.IGNORE, "The customer opted out: send nothing.")
    if eyes.intent is CustomerIntent.HUMAN_REQUEST:
        return handoff("customer asked for a person")
    if eyes.sentiment is Sentiment.ANNOYED or eyes.intent is CustomerIntent.COMPLAINT:
        return handoff("customer is annoyed")
    if flags.spam is RiskLevel.HIGH or eyes.intent is CustomerIntent.ACKNOWLEDGEMENT:
        return out(Action.IGNORE, "Nothing to answer.")
    if eyes.intent is CustomerIntent.NOT_INTERESTED:
        return out(
            Action.RESPOND,
            "Thank them, accept it politely, leave the door open. No question.",
            ConversationStage.LOST,
        )
    if eyes.intent is CustomerIntent.CTA_RESPONSE:
        if eyes.intent_level is IntentLevel.VERY_HIGH:
            return out(
                Action.RESPOND,
                "Thank them for accepting; the team will confirm the next step.",
                ConversationStage.CTA,
                needs_attention=True,
                attention_reason="customer accepted the CTA",
            )
        return out(
            Action.RESPOND,
            "Acknowledge that now is not the time; we will check back later.",
            followup_delay_minutes=24 * 60,
        )
    cta = _best_cta(ctx)
    already_offered = state.cta_id is not None and state.cta_state in (
        CtaState.OFFERED,
        CtaState.ACCEPTED,
    )
    ready = eyes.intent_level in (IntentLevel.HIGH, IntentLevel.VERY_HIGH)
    if ready and cta is not None and not already_offered and not eyes.knowledge_needed:
        return out(
            Action.INITIATE_CTA,
            f"The customer is ready: offer the CTA '{cta.label}'.",
            ConversationStage.CTA,
            cta_id=cta.id,
            confidence=0.8,
        )
    if eyes.knowledge_needed and not retrieval.grounded:
        return out(
            Action.RESPOND,
            "The knowledge base does not cover this: say we will check with the team and get "
            "back. State no facts.",
            ConversationStage.QUALIFICATION
            if state.stage is ConversationStage.GREETING
            else state.stage,
            needs_attention=True,
            attention_reason="question the knowledge base cannot answer",
        )
    if eyes.intent is CustomerIntent.PRICING:
        return out(
            Action.RESPOND,
            "Answer the price question by quoting the knowledge.",
            ConversationStage.PRICING,
        )
    if eyes.knowledge_needed:
        return out(
            Action.RESPOND,
            "Answer the question by quoting the knowledge.",
            ConversationStage.QUALIFICATION
            if state.stage is ConversationStage.GREETING
            else state.stage,
        )
    if eyes.intent is CustomerIntent.GREETING:
        return out(Action.RESPOND, "Greet them and ask how we can help.")
    return out(Action.RESPOND, "Ask what they are looking for.")


# --- Mouth: the message --------------------------------------------------------------------

# Phrasebook: English, Hinglish (Latin script) and Hindi in Devanagari. {business} and {label}
# are filled in; business names go in quotes so their script does not count against the reply.
_PHRASES: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hi{name}! Thanks for messaging {business}. How can I help you today?",
        "hi-Latn": "Namaste{name}! {business} mein aapka swagat hai. Batayiye, main aapki kya "
        "madad kar sakta hoon?",
        "hi-Deva": "नमस्ते{name}! “{business}” में आपका स्वागत है। बताइए, मैं आपकी क्या मदद कर सकता हूँ?",
    },
    "default": {
        "en": "Thanks for your message! Could you tell me a little more about what you need?",
        "hi-Latn": "Message ke liye shukriya! Aapko kis cheez ki zarurat hai, thoda batayenge?",
        "hi-Deva": "संदेश के लिए धन्यवाद! आपको किस चीज़ की ज़रूरत है, थोड़ा बताएंगे?",
    },
    "check": {
        "en": "I don't have confirmed details on that right now. I'll check with the team and "
        "get back to you here.",
        "hi-Latn": "Iski pakki jaankari abhi mere paas nahi hai. Main team se check karke aapko "
        "yahin batata hoon.",
        "hi-Deva": "इसकी पक्की जानकारी अभी मेरे पास नहीं है। मैं टीम से पूछकर आपको यहीं बताता हूँ।",
    },
    "answer_intro": {
        "en": "",
        "hi-Latn": "Humari jaankari ke hisaab se:",
        "hi-Deva": "हमारी जानकारी के अनुसार:",
    },
    "answer_more": {
        "en": "Would you like to know anything else?",
        "hi-Latn": "Aur kuch jaanna chahenge?",
        "hi-Deva": "क्या आप कुछ और जानना चाहेंगे?",
    },
    "handoff": {
        "en": "Sure, I'm passing this to a member of our team. They will reply to you here soon.",
        "hi-Latn": "Bilkul, main aapko humari team ke ek member se connect kar raha hoon. Woh "
        "jaldi yahin reply karenge.",
        "hi-Deva": "ज़रूर, मैं आपको हमारी टीम के एक सदस्य से जोड़ रहा हूँ। वे जल्द ही यहीं जवाब देंगे।",
    },
    "cta": {
        "en": "Great! The next step is: {label}. Tap below to go ahead.",
        "hi-Latn": "Badhiya! Agla step hai: {label}. Aage badhne ke liye neeche tap karein.",
        "hi-Deva": "बढ़िया! अगला कदम: “{label}”। आगे बढ़ने के लिए नीचे टैप करें।",
    },
    "cta_later": {
        "en": "Maybe later",
        "hi-Latn": "Baad mein",
        "hi-Deva": "बाद में",
    },
    "cta_accepted": {
        "en": "Thank you! Our team will confirm the next step with you here shortly.",
        "hi-Latn": "Shukriya! Humari team jaldi hi yahin aapke saath agla step confirm karegi.",
        "hi-Deva": "धन्यवाद! हमारी टीम जल्द ही यहीं आपके साथ अगला कदम तय करेगी।",
    },
    "cta_postponed": {
        "en": "No problem at all. I'll check back with you later.",
        "hi-Latn": "Koi baat nahi. Main aapse baad mein phir baat karta hoon.",
        "hi-Deva": "कोई बात नहीं। मैं आपसे बाद में फिर बात करता हूँ।",
    },
    "not_interested": {
        "en": "No problem, thanks for letting us know. If anything changes, just message us here.",
        "hi-Latn": "Koi baat nahi, batane ke liye shukriya. Kabhi zarurat ho to yahin message "
        "kijiye.",
        "hi-Deva": "कोई बात नहीं, बताने के लिए धन्यवाद। कभी ज़रूरत हो तो यहीं संदेश कीजिए।",
    },
    "followup": {
        "en": "Just checking in: do you have any questions I can help with?",
        "hi-Latn": "Bas yaad dilane ke liye: koi sawaal ho to batayiye, main madad kar sakta hoon?",
        "hi-Deva": "बस याद दिलाने के लिए: कोई सवाल हो तो बताइए, क्या मैं मदद कर सकता हूँ?",
    },
}

_STOPWORDS_TEXT = (
    "a an the is are was were be to of and or in on at for with what how much many does do "
    "you your i me my we our it this that can could please pls tell about hai hain kya ka "
    "ki ke ko se me mein bhai"
)
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_MARKDOWN_PREFIX = re.compile(r"^\s*(?:#+|[-*•]|\d+[.)])\s*")


def _variant(ctx: TurnContext, eyes: EyesOutput | None) -> str:
    text = ctx.customer_text if any(ch.isalpha() for ch in ctx.customer_text) else ""
    text = text or _last_lead_text(ctx)
    script = dominant_script(text)
    if script == "Deva":
        return "hi-Deva"
    if script == "Latn" and is_hinglish(text):
        return "hi-Latn"
    if script is None and eyes is not None:
        if eyes.language.startswith("hi-Deva"):
            return "hi-Deva"
        if eyes.language.startswith("hi-Latn"):
            return "hi-Latn"
    return "en"


def _phrase(key: str, variant: str, **values: str) -> str:
    return _PHRASES[key][variant].format(**values)


def _sentences(chunk: RetrievedChunk) -> list[str]:
    out = []
    for line in chunk.text.splitlines():
        line = _MARKDOWN_PREFIX.sub("", line).strip()
        if line:
            out += split_sentences(line)
    return out


def _best_sentences(retrieval: Retrieval, query: str, pricing: bool, limit: int) -> list[str]:
    """The knowledge sentences most related to the query, in their original order."""
    wanted = {w.lower() for w in words(query)} - _STOPWORDS
    scored: list[tuple[float, int, str]] = []
    position = 0
    for rank, chunk in enumerate(retrieval.usable_chunks[:3]):
        for sentence in _sentences(chunk):
            overlap = len(wanted & {w.lower() for w in words(sentence)})
            score = overlap + (2.0 if pricing and money_amounts(sentence) else 0.0) - rank * 0.5
            scored.append((score, position, sentence))
            position += 1
    if not scored:
        return []
    scored.sort(key=lambda item: (-item[0], item[1]))
    chosen = [scored[0]]
    if len(scored) > 1 and scored[1][0] > 0:
        chosen.append(scored[1])
    chosen.sort(key=lambda item: item[1])
    picked = [s for _, _, s in chosen]
    while len(picked) > 1 and sum(len(s.split()) for s in picked) > limit:
        picked.pop()
    return picked


def _cta_message(ctx: TurnContext, cta: CtaOption, variant: str) -> MouthOutput:
    text = _phrase("cta", variant, label=cta.label)
    if cta.url and cta.url.startswith("https://"):
        # The CTA's own URL is always allowed: the button opens it.
        return MouthOutput(
            kind=MessageKind.CTA_URL,
            text=text,
            cta_url=CtaUrl(display_text=clip(cta.label, 20), url=cta.url),
            language=variant,
        )
    accept = clip(cta.label, 20)
    later = _phrase("cta_later", variant)
    buttons = [ReplyButton(id=f"cta:{cta.id}:accept", title=accept)]
    if later.casefold() != accept.casefold():
        buttons.append(ReplyButton(id=f"cta:{cta.id}:later", title=later))
    return MouthOutput(kind=MessageKind.REPLY_BUTTONS, text=text, buttons=buttons, language=variant)


def compose_offline(
    ctx: TurnContext,
    eyes: EyesOutput,
    brain: BrainOutput,
    retrieval: Retrieval,
    violations: list[str],
) -> MouthOutput:
    variant = _variant(ctx, eyes)
    limit = ctx.org.reply_word_limit
    claims: list[str] = []
    name = ctx.state.lead_facts.name
    name_part = f" {name.split()[0]}" if name else ""

    def text_reply(text: str) -> MouthOutput:
        return MouthOutput(
            kind=MessageKind.TEXT,
            text=clip_words(text, limit),
            language=variant,
            self_check=SelfCheck(grounded_claims=claims),
        )

    if violations:
        # Second attempt: the safest message there is for this action, no facts, no links.
        if brain.action is Action.HANDOFF:
            return text_reply(_phrase("handoff", variant))
        return text_reply(_phrase("check" if eyes.knowledge_needed else "default", variant))

    if brain.action is Action.HANDOFF:
        return text_reply(_phrase("handoff", variant))
    if brain.action is Action.INITIATE_CTA:
        cta = ctx.cta(brain.cta_id)
        if cta is not None:
            return _cta_message(ctx, cta, variant)
    if ctx.trigger is TurnTrigger.FOLLOWUP or not ctx.new_messages:
        return text_reply(_phrase("followup", variant))
    if eyes.intent is CustomerIntent.NOT_INTERESTED:
        return text_reply(_phrase("not_interested", variant))
    if eyes.intent is CustomerIntent.CTA_RESPONSE:
        accepted = eyes.intent_level is IntentLevel.VERY_HIGH
        return text_reply(_phrase("cta_accepted" if accepted else "cta_postponed", variant))
    if eyes.knowledge_needed:
        if not retrieval.grounded:
            return text_reply(_phrase("check", variant))
        query = f"{eyes.search_query or ''} {ctx.customer_text}"
        picked = _best_sentences(
            retrieval, query, eyes.knowledge_topic == "pricing", max(limit - 12, 10)
        )
        if not picked:
            return text_reply(_phrase("check", variant))
        chunk_ids = [c.chunk_id for c in retrieval.usable_chunks[:3]]
        claims = [f"{s} (knowledge: {', '.join(chunk_ids)})" for s in picked]
        quoted = " ".join(picked)
        # Hindi replies quote the knowledge verbatim, so its own language stays as written.
        intro = _phrase("answer_intro", variant)
        body = quoted if variant == "en" else f"{intro} “{quoted}”"
        more = _phrase("answer_more", variant)
        text = body if "?" in quoted else f"{body} {more}"
        if len(text.split()) > limit:
            text = body
        return text_reply(text)
    if eyes.intent is CustomerIntent.GREETING:
        business = ctx.org.business_name
        return text_reply(_phrase("greeting", variant, name=name_part, business=business))
    return text_reply(_phrase("default", variant))


# --- Memory: the rolling summary -----------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NAME = re.compile(
    r"(?:\b(?i:my\s+name\s+is|i\s+am|i'm|this\s+is|mera\s+naam)\s+)"
    r"([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
)
_NAME_DEVA = re.compile(r"मेरा\s+नाम\s+(\S+)")
_COMPANY = re.compile(
    r"(?:\b(?i:i\s+work\s+(?:at|for)|working\s+(?:at|for|with)|our\s+company\s+is|"
    r"my\s+company\s+is|company\s+name\s+is|representing|calling\s+from)\s+)"
    r"([A-Z][\w&.'-]*(?:\s+[A-Z][\w&.'-]*){0,3})"
)
_NEED = re.compile(
    r"\b(?:i\s+need|we\s+need|looking\s+for|i\s+want|we\s+want|interested\s+in)\s+([^.?!\n]{3,80})",
    re.IGNORECASE,
)
# Words that follow "I am" without being a name ("I am Interested", "I'm Looking…").
_NOT_NAMES = frozenset({"interested", "looking", "not", "ready", "here", "fine", "good", "from"})


def extract_facts(messages: list[ChatMessage]) -> LeadFacts:
    name = email = company = None
    needs: list[str] = []
    for message in messages:
        if message.author is not MessageAuthor.LEAD:
            continue
        text = message.text
        if found := _EMAIL.search(text):
            email = found.group(0)
        match = _NAME.search(text) or _NAME_DEVA.search(text)
        if match and match.group(1).split()[0].lower() not in _NOT_NAMES:
            name = match.group(1).strip("।,.")
        if found := _COMPANY.search(text):
            company = found.group(1).rstrip(".,;:!")
        needs += [clip(m.group(1).strip(), 80) for m in _NEED.finditer(text)]
    return LeadFacts(name=name, email=email, company=company, needs=needs)


def _summary_line(ctx: TurnContext, exchange: Exchange) -> str:
    date = ctx.local_now.strftime("%Y-%m-%d %H:%M")
    parts = []
    lead = " ".join(m.text for m in exchange.messages if m.author is MessageAuthor.LEAD)
    if lead:
        parts.append(f"lead: “{clip(' '.join(lead.split()), 120)}”")
    for author, label in ((MessageAuthor.HUMAN, "agent"), (MessageAuthor.BOT, "bot")):
        said = " ".join(m.text for m in exchange.messages if m.author is author)
        if said:
            parts.append(f"{label}: “{clip(' '.join(said.split()), 100)}”")
    if exchange.action is not None:
        parts.append(f"action {exchange.action.value}")
    if exchange.stage is not None:
        parts.append(f"stage {exchange.stage.value}")
    return f"{date} — " + ("; ".join(parts) if parts else "no new messages")


def summarise_offline(ctx: TurnContext, exchange: Exchange) -> MemoryOutput:
    old = ctx.state.rolling_summary.strip()
    line = _summary_line(ctx, exchange)
    lines = [*(old.splitlines() if old else []), line]
    # Oldest lines go first; the newest line is always kept (clipped if it alone is too long).
    while len(lines) > 1 and len("\n".join(lines)) > SUMMARY_MAX:
        lines.pop(0)
    summary = clip("\n".join(lines), SUMMARY_MAX)
    facts = extract_facts(exchange.messages)
    learned = [k for k in ("name", "email", "company") if getattr(facts, k)]
    changes = "learned " + ", ".join(learned) if learned else "summary extended"
    return MemoryOutput(rolling_summary=summary, lead_facts=facts, changes=changes)


# --- the client ----------------------------------------------------------------------------


class OfflineLlmClient:
    """An :class:`~funnel.core.llm.base.LlmClient` that answers every stage from rules."""

    def __init__(self) -> None:
        self._closed = False

    @property
    def provider(self) -> str:
        return PROVIDER

    @property
    def is_offline(self) -> bool:
        return True

    async def aclose(self) -> None:
        self._closed = True

    async def generate(self, request: LlmRequest[OutputT]) -> LlmResult[OutputT]:
        started = time.perf_counter()
        output = self._produce(request)
        try:
            # Round-trip through JSON so the caller gets exactly what a real provider would:
            # an instance of the requested type, validated from the text "the model" wrote.
            raw = output.model_dump_json()
            validated = request.output_type.model_validate_json(raw)
        except ValidationError as exc:
            raise LlmInvalidOutput(
                str(exc), raw_text=output.model_dump_json(), provider=PROVIDER, model=MODEL
            ) from exc
        usage = LlmUsage(
            input_tokens=estimate_tokens(request.system) + estimate_tokens(request.prompt),
            output_tokens=estimate_tokens(raw),
        )
        return LlmResult(
            output=validated,
            usage=usage,
            latency_ms=(time.perf_counter() - started) * 1000,
            model=MODEL,
            provider=PROVIDER,
            raw_text=raw,
        )

    def _produce(self, request: LlmRequest[Any]) -> BaseModel:
        hints = request.hints
        if "context" not in hints:
            raise LlmRejected(
                "the offline provider needs the stage's structured input in request.hints",
                provider=PROVIDER,
                model=MODEL,
            )
        ctx = TurnContext.model_validate(hints["context"])
        output_type = request.output_type
        if output_type is EyesOutput:
            return observe_offline(ctx)
        if output_type is BrainOutput:
            return decide_offline(ctx, _eyes(hints, ctx), _retrieval(hints))
        if output_type is MouthOutput:
            brain = BrainOutput.model_validate(hints["brain"])
            violations = [str(v) for v in hints.get("violations", [])]
            return compose_offline(ctx, _eyes(hints, ctx), brain, _retrieval(hints), violations)
        if output_type is MemoryOutput:
            exchange = Exchange.model_validate(hints.get("exchange", {}))
            return summarise_offline(ctx, exchange)
        raise LlmRejected(
            f"the offline provider cannot produce {output_type.__name__}",
            provider=PROVIDER,
            model=MODEL,
        )


def _eyes(hints: dict[str, Any], ctx: TurnContext) -> EyesOutput:
    if "eyes" in hints:
        return EyesOutput.model_validate(hints["eyes"])
    return observe_offline(ctx)


def _retrieval(hints: dict[str, Any]) -> Retrieval:
    return Retrieval.model_validate(hints.get("retrieval", {}))


__all__ = [
    "MODEL",
    "PROVIDER",
    "OfflineLlmClient",
    "compose_offline",
    "decide_offline",
    "extract_facts",
    "observe_offline",
    "summarise_offline",
]
