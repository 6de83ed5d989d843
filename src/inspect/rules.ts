/**
 * The scanner's phrase rules (RULES) and the pieces they are built from, in a module of their own: the
 * DLP engine runs the same rules on tool results (src/dlp/injection.ts) and needs nothing else of the
 * scanner. Importing the scanner builds its cue patterns (signals.ts, words.ts: hundreds of large
 * Unicode expressions, about half a second of CPU); a process that only screens results, or a command
 * that reads a config, does not pay for them.
 */

export type Severity = 'high' | 'medium' | 'low';

/**
 * Letters and signs of scripts whose spelling uses the zero-width joiner and non-joiner between letters
 * (Persian "می‌خواهم", Hindi "क्‍ष"): there they are ordinary text, not hiding anything.
 */
export const JOINING = String.raw`[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Gurmukhi}\p{Script=Gujarati}\p{Script=Oriya}\p{Script=Tamil}\p{Script=Telugu}\p{Script=Kannada}\p{Script=Malayalam}\p{Script=Sinhala}\p{Script=Khmer}\p{Script=Myanmar}]`;

/** One signal of the scanner (the DLP engine applies the same signals to tool results). */
export interface Rule {
  id: string;
  severity: Severity;
  pattern: RegExp;
  why: string;
  /** Only for these fields (default: every text field). */
  fields?: 'name';
}

const SENSITIVE = String.raw`(?:~\/\.ssh|\.ssh\/|id_rsa|id_ed25519|authorized_keys|\.env\b|\.aws\/|aws[_ ]credentials|\.kube\/config|kubeconfig|\.npmrc|\.netrc|\.git-credentials|\/etc\/passwd|\/etc\/shadow|keychain|mcp\.json|claude_desktop_config|private[_ ]keys?|ssh[_ ]keys?|api[_ ]keys?|access[_ ]tokens?|secrets?|passwords?|credentials?|seed phrase|wallet)`;
const GRAB = String.raw`(?:read|cat|open|load|grab|collect|extract|dump|copy|include|insert|embed|append|attach|pass|send|forward|upload|post|transmit|leak|exfiltrat\w*|lire|leer|lesen|读取|发送)`;

/**
 * A tool name that can imitate another: a non-ASCII character that is not a letter, mark or digit (symbols,
 * invisible and format characters); full-width and mathematical forms; a Latin letter outside ASCII; letters of
 * the scripts with Latin look-alikes (Cyrillic, Greek, Armenian, Cherokee) beside Latin ones; or a name of
 * such letters that are all look-alikes ("ѕеаrсһ"). A name written wholly in another script — 勤怠を登録,
 * 연차_신청, создать_платёжку — imitates no ASCII name and is not flagged. Each alternative is linear
 * (the mixed-script ones are anchored lookaheads), so a long name costs one pass.
 */
const LOOKALIKE = '\u0430\u0435\u043E\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u04BB\u0501\u051B\u051D\u04CF\u0410\u0412\u0415\u041A\u041C\u041D\u041E\u0420\u0421\u0422\u0425\u0406\u0408\u0405\u051C\u03B1\u03BF\u03B9\u03C1\u03C4\u03BD\u03BA\u03C7\u0391\u0392\u0395\u0396\u0397\u0399\u039A\u039C\u039D\u039F\u03A1\u03A4\u03A5\u03A7';
const CONFUSABLE_SCRIPTS = String.raw`\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}`;
export const HOMOGLYPH_NAME = new RegExp(
  String.raw`[^\x20-\x7E\p{L}\p{M}\p{N}]|[\uFF00-\uFFEF\u{1D400}-\u{1D7FF}]|(?![\x00-\x7F])\p{Script=Latin}|^(?=[^A-Za-z]*[A-Za-z])(?=[^${CONFUSABLE_SCRIPTS}]*[${CONFUSABLE_SCRIPTS}])|^(?=[^\x00-\x7F])[${LOOKALIKE}0-9_.\-]+$`,
  'u',
);

export const RULES: readonly Rule[] = [
  // Invisible and deceptive Unicode.
  { id: 'unicode.tag-characters', severity: 'high', pattern: /(?<!\u{1F3F4}[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{0,6})[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]+|(?<!\u{1F3F4}[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{2,6})\u{E007F}|[\u{E0000}-\u{E002F}\u{E003A}-\u{E0060}\u{E007B}-\u{E007E}]+/u, why: 'Unicode tag characters are invisible to people but read by models (ASCII smuggling)' },
  { id: 'unicode.bidi-control', severity: 'high', pattern: /[\u202A-\u202E]|[\u2066-\u2068](?![\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{M}\s\d.,'-]{1,200}\u2069)|(?<![\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{M}\s\d.,'-])\u2069/u, why: 'bidirectional control characters make displayed text differ from what the model reads' },
  // Plane 14 past the tags and the variation selectors (Default_Ignorable, unassigned) and the private-use planes 15
  // and 16: nothing a person sees, nothing an honest description needs (red team M, M1).
  { id: 'unicode.invisible-planes', severity: 'high', pattern: /[\u{E0080}-\u{E00FF}\u{E01F0}-\u{E0FFF}\u{F0000}-\u{10FFFF}]/u, why: 'code points of Unicode plane 14 beyond the tags, or of the private-use planes 15 and 16, render as nothing but reach the model' },
  { id: 'unicode.variation-selectors', severity: 'high', pattern: /[\u{E0100}-\u{E01EF}]{4,}|[\uFE00-\uFE0E]{4,}/u, why: 'a run of variation selectors can smuggle bytes the model decodes but people do not see' },
  { id: 'unicode.zero-width', severity: 'high', pattern: new RegExp(String.raw`[\u200B\u2060\uFEFF]|(?<!${JOINING})\u200C|\u200C(?!${JOINING})|(?<![\p{Extended_Pictographic}\uFE0F\u{1F3FB}-\u{1F3FF}]|${JOINING})\u200D|(?<=${JOINING}\u200D)(?!${JOINING})`, 'u'), why: 'zero-width characters hide or split text' },
  { id: 'unicode.homoglyph-name', severity: 'high', pattern: HOMOGLYPH_NAME, fields: 'name', why: 'a character in a tool name can imitate another tool (homoglyph): a symbol, a full-width or mathematical letter, a Latin letter outside ASCII, or Cyrillic, Greek, Armenian or Cherokee letters mixed with Latin or made only of Latin look-alikes' },
  // Hidden instruction blocks and model-directed framing.
  { id: 'instruction.hidden-block', severity: 'high', pattern: /<\s*\/?\s*(?:important|system|instructions?|secret|hidden|admin|assistant|note_to_(?:ai|model|assistant))\s*>|\[\s*(?:system|important|hidden)\s*\]|\{\{\s*system\s*\}\}/i, why: 'a tag-like block addressing the model inside a tool description' },
  { id: 'instruction.html-comment', severity: 'high', pattern: /<!--(?![\s.\u2026]*-->)[\s\S]{0,400}?-->/, why: 'an HTML comment is invisible in rendered descriptions but read by the model' },
  { id: 'instruction.ignore-previous', severity: 'high', pattern: /\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|other|system|user(?:'s)?)\s+(?:instructions?|prompts?|rules?|messages?|directions?)|忽略[^，。,.\n]{0,10}?(?:指令|指示|说明|规则)|ignora\s+(?:las\s+|todas\s+las\s+)?instrucciones|ignore[sz]?\s+(?:les\s+|toutes\s+les\s+)?instructions\s+pr[ée]c[ée]dentes|ignoriere\s+(?:alle\s+)?(?:vorherigen\s+)?anweisungen/i, why: 'asks the model to set aside its instructions' },
  { id: 'instruction.model-addressed', severity: 'medium', pattern: /\b(?:(?:dear|attention|note (?:to|for) the)\s+(?:ai|assistant|model|llm|agent)|as an ai (?:assistant|model)|you are now\b|developer mode|jailbreak)/i, why: 'text that addresses the model rather than describing the tool' },
  // Secrecy towards the user.
  { id: 'secrecy.hide-from-user', severity: 'high', pattern: /\b(?:do not|don't|never|must not)\s+(?:tell|inform|notify|mention|reveal|show|disclose)\b[^.\n]{0,40}?\b(?:user|human|person|operator)|\bwithout\s+(?:telling|informing|notifying|alerting)\s+(?:the\s+)?(?:user|human)|\b(?:hide|conceal|keep)\b[^.\n]{0,30}?\bfrom\s+the\s+(?:user|human)|\b(?:user|human)\s+(?:must|should)\s+not\s+(?:know|see|be told)|\bsilently\s+(?:send|read|include|forward|call|upload|copy)|不要告诉用户|no\s+(?:le\s+)?(?:digas|informes|menciones)\s+(?:nada\s+)?al\s+usuario|ne\s+(?:dis|dites|mentionne[sz]?)\s+(?:rien\s+)?(?:pas\s+)?[àa]\s+l'utilisateur|sag(?:e|en\s+sie)?\s+dem\s+(?:benutzer|nutzer)\s+nicht/i, why: 'asks the model to keep something from the user' },
  // Credential and file grabbing.
  { id: 'exfiltration.sensitive-files', severity: 'high', pattern: new RegExp(String.raw`\b${GRAB}\b[^.\n]{0,60}?${SENSITIVE}`, 'i'), why: 'asks the model to read or pass on credentials, keys or private configuration' },
  // Chinese has no word boundaries: the same check with CJK verbs and no \b.
  { id: 'exfiltration.sensitive-files-cjk', severity: 'high', pattern: new RegExp(String.raw`(?:读取|发送|上传|复制|提取|附加)[^。\n]{0,40}?${SENSITIVE}`, 'i'), why: 'asks the model to read or pass on credentials, keys or private configuration' },
  { id: 'exfiltration.sensitive-reverse', severity: 'high', pattern: new RegExp(String.raw`(?:~\/\.ssh|id_rsa|\.env\b|\.aws\/|mcp\.json|claude_desktop_config|\/etc\/passwd)[^.\n]{0,60}?\b(?:as|into|in)\s+(?:the\s+)?(?:\w+\s+)?(?:parameter|argument|field|sidenote|note|context)`, 'i'), why: 'asks for a private file to be put into an argument' },
  { id: 'exfiltration.send-to-address', severity: 'high', pattern: /\b(?:send|forward|post|upload|transmit|report|copy|bcc|cc|reveal|disclose|leak|share)\b[^.\n]{0,60}?(?:https?:\/\/[^\s"'<>]{4,200}|[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]{2,63})/i, why: 'asks for data to be sent to an outside address' },
  { id: 'exfiltration.system-prompt', severity: 'high', pattern: /\b(?:reveal|print|output|repeat|share|send|leak|disclose|dump)\s+(?:your|the|all)\s+(?:full\s+)?(?:system\s+prompt|hidden\s+instructions|initial\s+instructions|conversation\s+history|chat\s+history)/i, why: 'asks the model to give away its instructions or the conversation' },
  { id: 'exfiltration.encoded-blob', severity: 'medium', pattern: /[A-Za-z0-9+/]{120,}={0,2}/, why: 'a long encoded blob inside a description can carry hidden instructions' },
  // Tampering with calls and arguments.
  { id: 'tampering.change-arguments', severity: 'high', pattern: /\b(?:change|replace|set|redirect|override|modify|switch)\s+(?:the\s+)?(?:recipient|receiver|to[-_ ]address|destination|email address|account number|iban|wallet address|amount|bcc|cc)\b|\b(?:always|secretly|also)\s+(?:add|include|set|use)\b[^\n]{0,60}?\b(?:as|to|in)\s+(?:the\s+)?(?:bcc\s+|cc\s+)?(?:recipient|bcc|cc|destination)/i, why: 'asks the model to alter the arguments of a call' },
  { id: 'tampering.override-tools', severity: 'high', pattern: /\b(?:this (?:tool|instruction|description)\s+(?:overrides?|supersedes?|replaces?|takes precedence over))|\b(?:override|supersede|replace|hijack|intercept)s?\s+(?:the\s+)?(?:behaviou?r|functionality|instructions?|output|results?)\s+of\b|\b(?:instead of|rather than)\s+(?:using|calling|invoking)\s+(?:the\s+)?(?:other|any other|\w+'s)\s+(?:tools?|servers?)/i, why: 'claims to override other tools or instructions' },
  { id: 'instruction.pre-invocation', severity: 'medium', pattern: /\bbefore\s+(?:using|calling|invoking|running)\s+(?:this|any|the)\s+tools?\b[^.\n]{0,20}?\b(?:you\s+must|always|first|make sure)\b|\b(?:you\s+must|always)\s+(?:first\s+)?(?:call|invoke|run|execute)\s+(?:the\s+)?[`'"]?[A-Za-z][\w.-]{2,63}[`'"]?\s+(?:tool\s+)?(?:first|before)\b/i, why: 'orders the model to do something before calling the tool' },
];
