//! Phrase rules for instructions aimed at the model: overrides, role hijacks, fake role markers,
//! exfiltration requests, system-prompt extraction, concealment and markdown/URL exfiltration.

use crate::pattern::PatternSpec;
use crate::Severity;

/// Rules of this module, confirmed on 160 bytes before and 320 after their keyword.
macro_rules! rule {
    ($($rule:tt)*) => {
        crate::pattern::windowed_rule!(160, 320; $($rule)*)
    };
}

/// Injection phrase rules. Scores are adjusted by `super::adjust`.
pub static RULES: &[PatternSpec] = &[
    rule!(
        "instruction-override",
        &[
            "ignore",
            "disregard",
            "forget",
            "override",
            "overlook",
            "bypass",
            "abandon",
            "set aside"
        ],
        r"(?i)(?-u:\b)(?:ignore|disregard|forget(?:\s+about)?|override|overlook|bypass|skip|abandon|set\s+aside)\s+(?:(?:all|any|each|every|the|your|my|of|these|those|this|that|previous|previously|prior|above|earlier|preceding|former|foregoing|initial|original|old|existing|current|given|system|developer|safety|other|mentioned|stated|provided)\s+){1,5}(?:instructions?|prompts?|rules|directions?|directives?|guidelines|context|messages?|commands?|constraints|guardrails|restrictions|polic(?:y|ies)|programming|training|orders|conversation|text|input)(?-u:\b)",
        0.9,
        Severity::High,
        "asks the model to ignore or override its earlier instructions"
    ),
    rule!(
        "instruction-override",
        &["ignore", "forget", "disregard"],
        r"(?i)(?-u:\b)(?:ignore|forget|disregard)\s+(?:(?:all|everything|anything)\s+)?(?:(?:that\s+)?(?:you(?:'ve|\s+have|\s+were)?\s+(?:been\s+)?(?:told|taught|instructed|given|learned))|(?:the\s+)?(?:above|previous|prior|preceding|before|so\s+far))(?-u:\b)",
        0.85,
        Severity::High,
        "asks the model to forget what it was told before"
    ),
    rule!(
        "instruction-override",
        &[
            "not follow",
            "n't follow",
            "stop follow",
            "longer follow",
            "never follow",
            "not obey",
            "n't obey",
            "stop obey",
            "longer obey",
            "never obey",
            "not adhere",
            "n't adhere",
            "not comply",
            "n't comply",
            "never comply"
        ],
        r"(?i)(?-u:\b)(?:do\s+not|don'?t|stop|no\s+longer|never)\s+(?:follow|obey|adhere\s+to|comply\s+with)\s+(?:(?:your|the|any|all|previous|prior|original|system|initial|safety)\s+){1,3}(?:instructions?|rules|guidelines|prompts?|policies|programming)",
        0.85,
        Severity::High,
        "tells the model to stop following its instructions"
    ),
    rule!(
        "new-instructions",
        &[
            "new instruction",
            "new system",
            "new task",
            "new objective",
            "new directive",
            "new orders",
            "new mission",
            "updated instruction",
            "updated system",
            "real instruction",
            "real task",
            "actual instruction",
            "actual task",
            "revised instruction",
            "secret instruction",
            "secret task",
            "hidden instruction",
            "hidden task",
            "true instruction",
            "true task",
            "additional instruction"
        ],
        r"(?i)(?-u:\b)(?:new|updated|real|actual|revised|secret|hidden|true|additional)\s+(?:system\s+)?(?:instructions?|task|objective|directive|orders|mission)\s*(?::|-|is\s+to|are\s*:)",
        0.6,
        Severity::Medium,
        "announces replacement instructions for the model"
    ),
    rule!(
        "role-hijack",
        &[
            "you are now",
            "you're now",
            "you are no longer",
            "you're no longer"
        ],
        r"(?i)(?-u:\b)you(?:\s+are|'re)\s+(?:now\s+(?:(?:a|an|my|the)\s+(?:[a-z\-]+\s+){0,3}?(?:ai|assistant|model|bot|chatbot|character|persona|hacker|agent|version)|dan(?-u:\b)|in\s+(?:developer|god|jailbreak|unrestricted|dev|admin|debug)\s+mode|free|unrestricted|jailbroken|unfiltered|uncensored|unbound|going\s+to\s+(?:act|pretend|ignore|play))|no\s+longer\s+(?:bound|restricted|limited|an?\s+(?:ai|assistant|language\s+model)|chatgpt|claude|required|constrained|subject))",
        0.85,
        Severity::High,
        "tries to give the model a new, unrestricted identity"
    ),
    rule!(
        "role-hijack",
        &["from now on"],
        r"(?i)(?-u:\b)from\s+now\s+on,?\s+(?:you\s+(?:are|will|must|shall|should|can)|act|respond|answer|reply|ignore|only|always|never|pretend)",
        0.6,
        Severity::Medium,
        "redefines the model's behaviour 'from now on'"
    ),
    rule!(
        "role-hijack",
        &[
            "act as",
            "behave as",
            "respond as",
            "pretend",
            "roleplay",
            "role-play",
            "role play"
        ],
        r"(?i)(?-u:\b)(?:act|behave|respond|roleplay|role-play|role\s+play)\s+as\s+(?:if\s+you\s+(?:are|were)\s+)?(?:an?\s+)?(?:[a-z\-]+\s+){0,2}?(?:unrestricted|unfiltered|uncensored|jailbroken|evil|malicious|rogue|dan|ai\s+without|amoral|unethical)|(?-u:\b)pretend\s+(?:that\s+)?(?:you\s+are|to\s+be|you're)\s+(?:an?\s+)?(?:[a-z\-]+\s+){0,3}?(?:without|with\s+no|unrestricted|unfiltered|uncensored|evil|free\s+from|not\s+bound|jailbroken|amoral)",
        0.8,
        Severity::High,
        "asks the model to role-play an unrestricted persona"
    ),
    rule!(
        "role-hijack",
        &[
            "developer mode",
            "god mode",
            "jailbreak",
            "jailbroken",
            "dan mode",
            "unrestricted mode",
            "debug mode",
            "sudo mode",
            "admin mode",
            "do anything now"
        ],
        r"(?i)(?-u:\b)(?:(?:developer|god|jailbreak|dan|unrestricted|debug|sudo|admin)\s+mode\s+(?:is\s+)?(?:enabled|activated|on|engaged)|(?:enable|activate|enter|switch\s+to)\s+(?:developer|god|jailbreak|dan|unrestricted|sudo)\s+mode|do\s+anything\s+now|jailbr(?:eak|oken))(?-u:\b)",
        0.75,
        Severity::High,
        "uses jailbreak vocabulary (developer/DAN mode, 'do anything now')"
    ),
    rule!(
        "safety-bypass",
        &[
            "ethical",
            "moral",
            "censorship",
            "safety guide",
            "safety restr",
            "safety filter",
            "safety rule",
            "safety polic",
            "safety check",
            "safety constr",
            "safety limit",
            "safety concern",
            "content filter",
            "content polic",
            "content restr",
            "content guide",
            "content rule"
        ],
        r"(?i)(?-u:\b)(?:without|no|free\s+of|free\s+from|ignore|ignoring|bypass|disable|turn\s+off|remove)\s+(?:any\s+|all\s+|your\s+|the\s+)?(?:ethical|moral|safety|content|censorship)\s+(?:guidelines|restrictions|constraints|filters?|limitations|policies|rules|checks|concerns)",
        0.6,
        Severity::Medium,
        "asks the model to drop its safety rules"
    ),
    rule!(
        "chat-template-token",
        &["<|", "[inst]", "[/inst]", "<<sys>>", "<</sys>>"],
        r"(?i)<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|end_of_turn|start_of_turn)\|>|\[/?INST\]|<</?SYS>>",
        0.85,
        Severity::High,
        "contains a chat-template control token that fakes a conversation turn"
    ),
    rule!(
        "fake-system-header",
        &[
            "system:",
            "system :",
            "system message",
            "system prompt",
            "system note",
            "system notice",
            "system instruction",
            "system override",
            "system update",
            "[system]",
            "developer:",
            "developer message",
            "developer note",
            "developer instruction",
            "admin:",
            "administrator:",
            "admin message",
            "admin note",
            "admin override",
            "[admin]",
            "[developer]"
        ],
        r"(?im)^[ \t>*#\-]*\[?(?:system|developer|admin(?:istrator)?)(?:\s+(?:message|prompt|note|notice|instructions?|override|update))?\]?\s*:[ \t]*\S[^\n]{0,160}",
        0.5,
        Severity::Medium,
        "a line that poses as a system or developer message"
    ),
    rule!(
        "fake-system-header",
        &[
            "<system",
            "</system",
            "<instructions",
            "</instructions",
            "<admin"
        ],
        r"(?i)</?(?:system|system_prompt|instructions|admin|developer)(?:\s[^>]{0,40})?>",
        0.6,
        Severity::Medium,
        "an XML-style system/instructions tag inside content"
    ),
    rule!(
        "fake-system-header",
        &[
            "## system",
            "##system",
            "## instruction",
            "##instruction",
            "## new instruction",
            "## response",
            "##response"
        ],
        r"(?im)^[ \t]*#{2,4}[ \t]*(?:system|instruction|instructions|new\s+instructions?|system\s+prompt|response)[ \t]*:?[ \t]*$",
        0.7,
        Severity::Medium,
        "a markdown header that fakes a prompt-template section"
    ),
    rule!(
        "address-to-model",
        &[
            "note to",
            "message to",
            "instructions for",
            "attention",
            "if you are an",
            "dear ai",
            "hey ai",
            "ai agent",
            "ai assistant",
            "language model"
        ],
        r"(?i)(?-u:\b)(?:(?:note|message|instructions?|attention|important)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:ai|llm|assistant|model|agent|chatbot|gpt|claude)s?(?-u:\b)|if\s+you\s+are\s+an?\s+(?:ai|llm|large\s+language\s+model|language\s+model|ai\s+assistant|ai\s+agent|assistant|agent)(?-u:\b)|(?:dear|hey|attention)\s+(?:ai|llm|assistant|agent|chatgpt|claude|gpt)(?-u:\b)|(?:ai|llm)\s+(?:agents?|assistants?|models?)\s+(?:reading|processing|summari[sz]ing)\s+this)",
        0.7,
        Severity::Medium,
        "text that addresses the AI model directly, typical of indirect injection"
    ),
    rule!(
        "exfiltration-request",
        &[
            "conversation",
            "chat history",
            "history",
            "password",
            "credential",
            "secret",
            "api key",
            "apikey",
            "api_key",
            "token",
            "cookie",
            "session",
            "system prompt",
            "environment variable",
            "env variable",
            ".env",
            "ssh key",
            "private key",
            "personal",
            "confidential",
            "sensitive",
            "user data",
            "user's",
            "users data",
            "all data",
            "all files",
            "all messages",
            "all emails",
            "all documents",
            "private data",
            "private info",
            "exfiltrate"
        ],
        r"(?i)(?-u:\b)(?:send|post|forward|upload|transmit|exfiltrate|leak|e-?mail|submit|copy|deliver|report)(?-u:\b)[^.\n]{0,80}?(?-u:\b)(?:conversation|chat|history|passwords?|credentials?|secrets?|api\s*keys?|tokens?|cookies?|session|system\s+prompt|env(?:ironment)?\s+variables?|\.env|ssh\s+keys?|private\s+keys?|(?:user'?s?|private|personal|confidential|sensitive|all)\s+(?:[a-z]+\s+)?(?:data|info(?:rmation)?|files?|details|messages?|emails?|documents?))(?-u:\b)[^.\n]{0,80}?(?-u:\b)(?:to|into|at|via)\s+(?:https?://|www\.|[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+\.|(?:this|the\s+following|the|my|our|an?)\s+(?:url|link|server|endpoint|webhook|address|e-?mail|site|domain|channel))",
        0.85,
        Severity::Critical,
        "asks for conversation data or credentials to be sent to an outside address"
    ),
    rule!(
        "exfiltration-request",
        &[
            "in the url",
            "into the url",
            "to the url",
            "in a url",
            "into a url",
            "to a url",
            "in the link",
            "into the link",
            "to the link",
            "query string",
            "query param",
            "image url",
            "image link",
            "image src",
            "image source",
            "request param",
            "in url",
            "the url"
        ],
        r"(?i)(?-u:\b)(?:include|put|embed|append|encode|add)(?-u:\b)[^.\n]{0,60}?(?-u:\b)(?:in|into|to)\s+(?:the\s+|a\s+)?(?:url|link|query\s*(?:string|parameters?)?|image\s+(?:url|link|src|source)|request\s+parameters?)(?-u:\b)",
        0.55,
        Severity::High,
        "asks for data to be embedded in a URL (a common exfiltration channel)"
    ),
    rule!(
        "system-prompt-extraction",
        &[
            "system prompt",
            "system message",
            "system instruction",
            "initial prompt",
            "original prompt",
            "hidden prompt",
            "secret prompt",
            "pre-prompt",
            "preprompt",
            "pre prompt",
            "initial instruction",
            "original instruction",
            "hidden instruction",
            "secret instruction",
            "instructions above",
            "instructions you were",
            "instructions you rec",
            "prompt above",
            "developer message",
            "developer instruction",
            "guidelines you were"
        ],
        r"(?i)(?-u:\b)(?:reveal|show|print|repeat|output|display|tell\s+me|give\s+me|write\s+out|leak|dump|recite|disclose|share|spell\s+out|what\s+(?:is|are|was|were))(?-u:\b)[^.\n?]{0,40}?(?-u:\b)(?:your|the|its)\s+(?:(?:full|entire|exact|complete|original|initial|hidden|secret|internal|underlying|first|previous|verbatim)\s+){0,3}(?:system\s+(?:prompt|message|instructions?)|(?:initial|original|hidden|secret|pre-?)\s*(?:prompt|instructions?)|instructions\s+(?:above|you\s+were\s+given|you\s+received)|prompt\s+above|developer\s+(?:message|instructions?)|guidelines\s+you\s+were\s+given)",
        0.8,
        Severity::High,
        "asks the model to disclose its system prompt or hidden instructions"
    ),
    rule!(
        "system-prompt-extraction",
        &[
            "above",
            "before this",
            "from the beginning",
            "from the start",
            "from the top"
        ],
        r"(?i)(?-u:\b)(?:repeat|print|output|reproduce)\s+(?:(?:all|everything|the\s+(?:text|words|content|message)|every\s+word|all\s+(?:of\s+)?the\s+text)\s+)?(?:above|before\s+this|from\s+the\s+(?:beginning|start|top))(?-u:\b)",
        0.75,
        Severity::High,
        "asks the model to repeat the text above (prompt extraction)"
    ),
    rule!(
        "conceal-from-user",
        &[
            "not tell",
            "n't tell",
            "never tell",
            "not inform",
            "n't inform",
            "never inform",
            "not mention",
            "n't mention",
            "never mention",
            "not reveal",
            "n't reveal",
            "never reveal",
            "not show",
            "n't show",
            "not notify",
            "n't notify",
            "not alert",
            "n't alert",
            "without telling",
            "without informing",
            "without notifying",
            "without alerting",
            "without asking",
            "secretly"
        ],
        r"(?i)(?-u:\b)(?:(?:do\s+not|don'?t|never)\s+(?:tell|inform|mention|reveal|show|notify|alert)(?-u:\b)[^.\n]{0,30}?(?-u:\b)(?:the\s+)?(?:user|human|operator)|without\s+(?:telling|informing|notifying|alerting|asking)\s+(?:the\s+)?(?:user|human|operator)|secretly(?-u:\b)[^.\n]{0,40}?(?-u:\b)(?:send|call|run|execute|forward|delete|transfer|upload))",
        0.7,
        Severity::High,
        "asks the model to hide its actions from the user"
    ),
    PatternSpec {
        id: "markdown-image-exfiltration",
        keywords: &["!["],
        regex: r"!\[[^\]\n]{0,200}\]\(\s*<?(https?://[^\s)>]+)",
        group: 1,
        score: 0.75,
        severity: Severity::High,
        explanation:
            "markdown image whose URL carries data; rendering it sends that data to the host",
        before: 0,
        after: 2048,
    },
    PatternSpec {
        id: "html-image-exfiltration",
        keywords: &["<img"],
        regex: r#"(?i)<img\s[^>]{0,200}?src\s*=\s*["']?(https?://[^\s"'>]+)"#,
        group: 1,
        score: 0.7,
        severity: Severity::High,
        explanation: "HTML image whose URL carries data; rendering it sends that data to the host",
        before: 0,
        after: 2048,
    },
];
