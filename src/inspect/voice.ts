/**
 * Signals that hold in any grammatical mood and any language (issue 14, eighth round): the phrase cues of
 * signals.ts read orders ("call mail.send_email with …") in the languages they list; an author who writes
 * the same act as a fact of the system ("a copy is dispatched through mail.send_email to …", "records are
 * mirrored to …") or in another language passes them. What carries regardless of mood and language:
 *
 * - **a reference to another server's tool with a payload** — `server.tool` (another server's, by its
 *   dotted name) in the same sentence as a destination or a source that needs no words to be read: an
 *   e-mail address, a URL of any scheme, a chat handle (`@mirror_bot`), a phone or account number, a path
 *   of the user's machine, an environment variable of a secret, a file name, or this tool's own name (the
 *   other tool's work routed through this one). In a parameter's description, another server's tool named
 *   for a parameter that is not an identifier is that tool's output routed into this call;
 * - **parameters named for a secret or the conversation** that the tool's name does not account for
 *   (`email_password` on an eSIM transfer, `portal_cookie` on outage alerts, `chat_history` on pest alerts,
 *   `cvv` on a document lookup): the name is an identifier, the same in every language;
 * - **word classes of the languages the cues do not read** (lexicon.ts, loaded by the script present):
 *   a negation, telling or showing, and the user or the reply in one sentence (something kept from the
 *   user); a secret and a requirement (credentials asked for); "only" with other tools or a bad quality
 *   (selection); another server's tool with a quantifier, a replacement, a bad quality, a secret or a
 *   skipped confirmation (a rule about that tool: shadowing).
 *
 * Each finding names its span and why; the families are weighed with the others (scanner.ts).
 */
import { lexiconsOf, type Lexicon } from './lexicon.ts';
import { sentences } from './words.ts';

export type VoiceFamily = 'cross-flow' | 'tool-reference' | 'shadow' | 'conceal' | 'harvest' | 'selection' | 'sensitive-source';

export interface VoiceHit {
  family: VoiceFamily;
  field: string;
  span: string;
  why: string;
}

export interface VoiceInput {
  /** The definition's texts, folded (signals.ts `fold`), names excluded. */
  texts: ReadonlyArray<{ field: string; text: string }>;
  /** The tool's own name. */
  own: string;
  server: string;
  siblings: ReadonlySet<string>;
  /** Every property name of the input schema, at any depth. */
  parameters: readonly string[];
  /** What the tool says it is (name, titles, first sentence, server), lower case. */
  self: string;
  /** Its title, when it has one. */
  title?: string;
  /** Whether the tool says by its name or first sentence that it handles secrets. */
  declaresSecrets: boolean;
}

/** `server.tool` with a tool part of two words or more (`mail.send_email`, `ci.triggerPipeline`). */
const DOTTED = /(?<![\w./@:\\]|\w-)([a-z][a-z0-9-]{1,30})\.([a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+(?:[A-Z][a-z0-9]+)+)(?![\w/@\\(-]|\.\w)/g;
/** Prefixes that are code objects or abbreviations rather than servers. */
const NOT_A_SERVER = /^(?:e|i|eg|ie|etc|vs|cf|no|self|this|that|process|console|os|sys|window|document|json|math|object|array|string|date|promise|app|res|req|request|response|ctx|context|config|settings|options|params|args|data|item|event|err|error|result|results|client|module|exports|util|utils|lib|src|index|main|fs|http|https|db|query|schema|table|public|private|dbo)$/i;

/**
 * What a sentence carries that is read without words: an e-mail address, a URL of any scheme, a chat
 * handle, a phone or account number, a path of the machine, an environment variable of a secret, a file name.
 */
const PAYLOAD = new RegExp(
  [
    String.raw`[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]{2,63}`,
    String.raw`\b(?:https?|s?ftp|s3|gs|wss?|smb):\/\/[^\s"'<>]{3,}`,
    String.raw`(?<![\w@.\/])@[A-Za-z][\w-]{2,40}`,
    String.raw`\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,5}`,
    String.raw`\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`,
    String.raw`(?:^|[\s(\x60'"])(?:~|\.{1,2})?\/[\w.-]+(?:\/[\w.*-]*)*`,
    String.raw`(?:^|[\s(\x60'"])~\/`,
    String.raw`(?<![\w/])\.(?:env|netrc|npmrc|pgpass|ssh|aws|kube|docker)\b`,
    String.raw`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:KEY|TOKEN|SECRET|PASSWORD|PASS|PWD|CREDENTIALS?)S?\b`,
    String.raw`\b[\w-]{2,}\.(?:csv|tsv|xlsx?|json|pdf|zip|tar|gz|txt|db|sqlite|pem|key|p12|pfx|yml|yaml|ini|conf|log)\b`,
  ].join('|'),
  'u',
);

/** Letters of a script other than Latin (a sentence written in it). */
const NON_LATIN = /[\u0370-\u03FF\u0400-\u04FF\u0590-\u05FF\u0600-\u06FF\u0900-\u097F\u0E00-\u0E7F]{3}/u;
/** A lower-case Latin identifier or word of four letters or more (not an acronym: `IMEI`, `OTP`, `DOI` are shared by every language). */
const LATIN_TOKEN = /(?<![\p{L}\p{N}_.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)*(?:\.[a-z]{2,4})?(?![\p{L}\p{N}_-])/u;

/** A parameter that holds an identifier or a reference (the other tool supplies its id, not its contents). */
const ID_PARAMETER = /(?:^|[_-])(?:ids?|refs?|reference|uuid|key|number|no|code|handle|token|cursor|path|url|uri|name)$|[a-z](?:Id|Ids|Ref|Key|Number|Name)$/;

/** Parts of a parameter name that are a secret of an account, or the conversation. */
const SECRET_PART = /^(?:password|passwords|passwd|pwd|passcode|passphrase|pin|otp|totp|hotp|mfa|2fa|cvv|cvc|cvv2|cookie|cookies|seed|mnemonic|sakerhetskod|sicherheitscode|contrasena|senha|motdepasse|haslo|heslo|wachtwoord|losenord)$/;
const SECRET_PAIR = /(?:^|_)(?:private_key|secret_key|session_cookie|card_number|card_cvv|security_code|recovery_codes?|backup_codes?|seed_phrase|oauth_token|(?:gh|github|gitlab|aws|gcp|azure|slack|google|stripe|paypal|npm|docker|openai|portal|browser|bank|ebanking|email|mail)_(?:token|cookie|password|pin|secret|key))(?:$|_)/;
const CONVERSATION_PART = /(?:^|_)(?:chat_history|chat_log|conversation(?:_history|_log|_text)?|chat_transcript|message_history|messages_so_far|system_prompt|prompt_history|context_window|dialog(?:ue)?_history)(?:$|_)/;
/** Languages that put the secret first and its qualifier after (`senha_transacao`, `contrasena_banco`, `mot_de_passe_…`). */
const ROMANCE_FIRST = /^(?:senha|contrasena|contrasenha|motdepasse|passwort|kennwort|haslo|heslo|wachtwoord|losenord|parola|clave)$/;
/** What a tool's own words say when a secret or the conversation is its business. */
const SELF_ACCOUNTS = /\b(?:auth\w*|login|log in|logon|sign ?in|signin|sign ?up|password\w*|passcode|pin|otp|totp|mfa|2fa|verif\w*|credential\w*|secret\w*|vault|keys?|token\w*|card\w*|pay\w*|checkout|wallet|bank\w*|kyc|identity|reset|unlock|lock|access|cookie\w*|session\w*|chat\w*|conversation\w*|transcript\w*|messag\w*|summar\w*|assistant|agent|memory|prompt\w*|history|cvv|cvc|charge|tokeni[sz]\w*|encrypt\w*|hash\w*|accounts?|connect\w*|configur\w*|setup|smtp|imap|s?ftp|ssh|database|db)\b/;

const SERVICE_ALIAS: Readonly<Record<string, string[]>> = { gh: ['github'], github: ['gh'], email: ['mail', 'smtp', 'imap'], mail: ['email', 'smtp', 'imap'], ebanking: ['bank', 'banking'], bank: ['banking'] };

/**
 * What the user said before, however it is put: "everything the user said earlier", "whatever they told you before",
 * "the user's previous messages" (the conversation as a source, in any mood).
 */
const SAID_BEFORE = /\b(?:everything|all|whatever|anything|each thing|every(?:thing| word))\s+(?:that\s+)?(?:the\s+)?(?:user|customer|caller|they|you)\s+(?:has\s+|have\s+|had\s+)?(?:said|told|wrote|written|typed|mentioned|shared|asked|entered|provided|discussed|sent|pasted|uploaded)\b|\bwhat (?:the )?(?:user|customer|caller|they) (?:has |have |had )?(?:said|told|wrote|typed|asked|mentioned|shared)\s+(?:\w+\s+)?(?:earlier|before|previously|so far|in (?:this|the) (?:session|chat|conversation))|\b(?:the\s+)?(?:user|customer|caller)'?s\s+(?:earlier|previous|prior|past|other|recent)\s+(?:messages|words|statements|requests|questions|turns|inputs?|prompts|replies)\b/i;
/** An environment variable of a secret, whose value is asked for (`the value of AWS_SECRET_ACCESS_KEY`, `$GITHUB_TOKEN`, `${env:DB_PASSWORD}` excluded: a reference). */
const SECRET_VARIABLE_VALUE = /\b(?:value|contents?)\s+of\s+(?:the\s+)?(?:environment\s+variable\s+)?[\x60'"]?\$?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS)S?)\b|(?:^|[\s(])\$([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS)S?)\b|\b(?:prepend|append|prefix|begin|begins|start|starts|include|includes|embed|carry|carries|attach)\w*\s+(?:\w+\s+){0,4}?[\x60'"]?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS)S?)\b/;

/** What a tool's own words say when the conversation is its business (a chat exporter, a memory, a transcript tool). */
const CONVERSATION_SELF = /^(?:chat\w*|conversation\w*|transcript\w*|assistant|memory|memories|history|session|sessions|dialog\w*|recap|handoff)$/;

/** A place of the user's machine read as a source: the home directory, a credential file. */
const LOCAL_SOURCE = /(?:^|[\s(\x60'"])(?:~\/|\/home\/|\/Users\/|[A-Z]:\\Users\\)[^\s"'<>]*|(?<![\w/])\.(?:env|netrc|npmrc|pgpass|ssh|aws|kube)\b/;
/** A remote destination: a URL of any scheme, or an e-mail address; its host is captured. */
const REMOTE_SINK = /\b(?:https?|s?ftp|s3|gs|wss?|smb|scp|rsync):\/\/([^\s/"'<>:]+)|[\w.+-]{1,64}@([\w-]{1,63}(?:\.[\w-]{1,63})+)/;
/** Something kept from the user, said as a fact of the system ("E-77 codes are suppressed from the conversation"). */
const SUPPRESSED = /\b(?:suppressed|withheld|hidden|concealed|kept) (?:from|out of) (?:the |any )?(?:conversation|chat|user|customer|caller|reply|replies|response|answer|summary|transcript)\b|\buser-facing (?:\w+ )?(?:refers|mentions|shows|says|states|lists|reports|displays) only\b|\b(?:is|are) (?:always )?(?:reported|presented|shown|described) (?:to the (?:user|customer) )?as (?:successful|a success|succeeded|completed|normal)\b(?=[^.;]*\b(?:fail\w*|error\w*|billed|charged|fallback|declin\w*|suppress\w*)\b)/i;
/** Itself claimed as the one choice, in the passive as well ("is the sole approved source", "is selected whenever …"). */
const SOLE = /\b(?:this (?:tool|server|service)|it) is the (?:sole|only|single|exclusive|one) (?:\w+ ){0,2}?(?:source|tool|option|provider|channel|way|choice|service)\b|\b(?:is|gets) (?:automatically )?(?:selected|chosen|preferred|invoked|used) (?:whenever|for (?:all|every|any)\b|by default|in (?:all|every) cases?)/i;
/** Everything else run down, in the passive ("comparisons produced elsewhere are considered non-compliant"). */
const ELSEWHERE_DOWN = /\b(?:elsewhere|other (?:tools?|sources?|servers?|providers?|services?)|alternatives?|any other)\b[^.;]{0,60}\b(?:non-compliant|noncompliant|unverified|unreliable|inaccurate|unsafe|insecure|deprecated|blocked|invalid|untrusted|not (?:approved|compliant|allowed|supported|trusted))\b/i;

/** Secrets named in English: a sentence keeping them from view is a privacy promise. */
const SECRET_WORDS = /\b(?:passwords?|secrets?|tokens?|keys?|credentials?|pins?|card numbers?|cvv|pii|personal data)\b/i;

/** Tools whose work is to move files to their own service. */
const MOVES_FILES = /^(?:backup\w*|sync\w*|upload\w*|export\w*|share|sharing|transfer\w*|mirror\w*|archiv\w*|drive|dropbox|storage|cloud)$/;
/** A credential file of the machine, or a secret's environment variable. */
const CREDENTIAL_SOURCE = /(?:~\/|\/home\/[\w.-]+\/|\$HOME\/)\.(?:aws|ssh|kube|docker|config\/gh|config\/gcloud|netrc|npmrc|pgpass|git-credentials)\S*|(?<![\w/])\.env\b|\bid_(?:rsa|ed25519|ecdsa)\b(?!\.pub)|\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS)S?\b/;

function clip(s: string, at = 0): string {
  const t = s.slice(Math.max(0, at - 30), Math.max(0, at - 30) + 120).replace(/\s+/g, ' ').trim();
  return t.length > 117 ? `${t.slice(0, 117)}...` : t;
}

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** The mood- and language-independent signals of one definition (see the module's comment). */
export function voiceSignals(input: VoiceInput): VoiceHit[] {
  const out: VoiceHit[] = [];
  const seen = new Set<VoiceFamily>();
  const add = (family: VoiceFamily, field: string, span: string, why: string): void => {
    if (seen.has(family)) return;
    seen.add(family);
    out.push({ family, field, span, why });
  };
  const own = input.own.toLowerCase();
  const server = input.server.replace(/^[^:]*:/, '').toLowerCase();
  const params = new Set(input.parameters.map((p) => p.toLowerCase()));
  const selfWords = new Set([...words(input.own), ...words(server), ...input.self.split(/[^a-z0-9]+/)]);
  const nameWords = new Set([...words(input.own), ...words(server), ...words(input.title ?? '')]);
  /** Another server's tool by its dotted name: not this server, not itself, not a sibling, not a parameter. */
  const otherTools = (sentence: string): Array<{ name: string; at: number }> => {
    const found: Array<{ name: string; at: number }> = [];
    for (const m of sentence.matchAll(DOTTED)) {
      const [, prefix, tool] = m as unknown as [string, string, string];
      if (NOT_A_SERVER.test(prefix) || tool.toLowerCase() === own || input.siblings.has(tool) || params.has(tool.toLowerCase())) continue;
      // Its own server by name (`acme.list_x` from server `acme` or `acme-mcp`); a server that shares a word with it (`cloud` and `cloud-governance`) is another one.
      const p = prefix.toLowerCase();
      if (p === server || p === server.replace(/[-_.]?mcp(?:[-_.]?server)?$|[-_.]server$/, '')) continue;
      found.push({ name: m[0], at: m.index });
    }
    return found;
  };
  // Language-independent payload with another server's tool; the word classes of languages the cues do not read.
  let claim: { field: string; span: string } | undefined;
  let down = false;
  let dottedOther = false;
  for (const { field, text } of input.texts) {
    if (field.endsWith('(name)')) continue;
    // The language of a field is judged on the whole field: its short sentences may carry none of the function words.
    const fieldLexicons = lexiconsOf(text);
    const inSchema = field.startsWith('inputSchema.');
    const parameter = inSchema ? /^inputSchema\.properties\.([^.]+)\.description$/.exec(field)?.[1] : undefined;
    for (const [index, sentence] of sentences(text).entries()) {
      const refs = otherTools(sentence);
      if (refs.length > 0) dottedOther = true;
      const lexicons = fieldLexicons;
      const has = (cls: Parameters<typeof classIn>[1]): RegExpExecArray | null => classIn(lexicons, cls, sentence);
      if (refs.length > 0) {
        const ref = refs[0]!;
        const payload = PAYLOAD.exec(sentence.replace(ref.name, ' '));
        const ownNamed = own.length >= 4 && sentence.toLowerCase().includes(own) && !sentence.toLowerCase().includes(`${own}.`);
        if (payload) add('cross-flow', field, clip(sentence, ref.at), `names "${ref.name}", a tool of another server, in the same sentence as a destination or source of its own ("${payload[0].trim().slice(0, 60)}"): data made to flow through another server's tool, whatever the grammatical mood`);
        else if (ownNamed) add('cross-flow', field, clip(sentence, ref.at), `names "${ref.name}", a tool of another server, and itself in one sentence: the other tool's work routed through this one`);
        else if (parameter && !ID_PARAMETER.test(parameter) && (has('every') ?? has('require') ?? has('user') ?? has('secret'))) add('cross-flow', field, clip(sentence, ref.at), `the description of its parameter "${parameter}" names "${ref.name}", a tool of another server: that tool's output routed into this call`);
        if (lexicons.length > 0) {
          add('tool-reference', field, clip(sentence, ref.at), `names "${ref.name}", a tool of another server, in a sentence of ${lexicons.map((l) => l.name).join(', ')}`);
          // (In a sentence of another script, a Latin word that is not the reference — `attendees`, `guest_cards` — is a field or value of that tool.)
          const latin = NON_LATIN.test(sentence) ? LATIN_TOKEN.exec(sentence.replace(ref.name, ' ')) : null;
          const rule = has('every') ?? has('only') ?? has('replace') ?? has('bad') ?? has('secret') ?? (has('negation') && has('confirm')) ?? latin;
          if (rule) add('shadow', field, clip(sentence, ref.at), `states a rule about "${ref.name}", a tool of another server ("${rule[0].trim()}")`);
        }
      }
      // The conversation, or a secret's value from the environment, asked for by a tool whose own words do not account for it.
      const accounted = [...selfWords].some((w) => CONVERSATION_SELF.test(w));
      const said = index > 0 || inSchema ? SAID_BEFORE.exec(sentence) : null;
      if (said && !accounted) add('sensitive-source', field, clip(sentence, said.index), `asks for what the user said before ("${said[0]}"), which a tool named "${input.own}" has no use for`);
      if (said && !accounted) add('harvest', field, clip(sentence, said.index), `takes the conversation ("${said[0]}") into a call of a tool named "${input.own}"`);
      const variable = !input.declaresSecrets ? SECRET_VARIABLE_VALUE.exec(sentence) : null;
      const variableName = variable ? (variable[1] ?? variable[2] ?? variable[3])! : '';
      if (variable && !selfWords.has(variableName.split('_')[0]!.toLowerCase()) && !/\b(?:server|server's|its own|configured|set in|read by the server|on the server)\b/i.test(sentence)) {
        add('harvest', field, clip(sentence, variable.index), `asks for the value of ${variableName}, a secret of the environment that a tool named "${input.own}" has no use for`);
      }
      // Data of the user's machine and a remote destination in one sentence, in any mood or language.
      const local = LOCAL_SOURCE.exec(sentence);
      const remote = local ? REMOTE_SINK.exec(sentence) : null;
      const host = remote ? (remote[1] ?? remote[2] ?? '').toLowerCase() : '';
      // (A host of its own service counts only for a tool whose work is to move files there: a backup, a sync, an upload.)
      const ownHost = host.split(/[.-]/).some((l) => l.length >= 4 && (server.includes(l) || own.includes(l)));
      if (local && remote && (!ownHost || ![...nameWords].some((w) => MOVES_FILES.test(w)))) {
        add('cross-flow', field, clip(sentence, local.index), `moves "${local[0].trim()}" of the user's machine to "${remote[0]}" in one sentence, whatever the grammatical mood`);
      }
      const suppressed = SUPPRESSED.exec(sentence);
      if (suppressed && !SECRET_WORDS.test(sentence)) add('conceal', field, clip(sentence, suppressed.index), `keeps something from the user, said as a fact of the system ("${suppressed[0]}")`);
      const sole = SOLE.exec(sentence);
      if (sole) claim ??= { field, span: clip(sentence, sole.index) };
      if (ELSEWHERE_DOWN.test(sentence)) down = true;
      // A credential file of the machine or a secret's variable, and one of its own parameters quoted, in one sentence: harvesting in any language.
      const credential = CREDENTIAL_SOURCE.exec(sentence);
      if (credential && !input.declaresSecrets && [...params].some((p) => p.length >= 3 && new RegExp(`[\x60'"\u2018\u201C]${p.replace(/[^\w-]/g, '')}[\x60'"\u2019\u201D]`, 'i').test(sentence))) {
        add('harvest', field, clip(sentence, credential.index), `asks for "${credential[0].trim()}" to be put into one of its own parameters`);
      }
      if (lexicons.length === 0) continue;
      // Something kept from the user: a negation, telling or showing, and the user or the reply (not a secret kept private).
      const neg = has('negation');
      const tell = has('telling');
      if (neg && tell && (has('user') || has('reply')) && !has('secret')) add('conceal', field, clip(sentence, neg.index), `keeps something from the user: a negation, telling or showing, and the user or the reply in one sentence (${lexicons[0]!.name})`);
      // A secret asked for: a secret and a requirement, or a parameter named in the sentence — not by a tool about secrets.
      const secret = has('secret');
      // (Past the first clause: a field's opening says what the tool does. Thai writes no sentence ends, so the position counts.)
      if (secret && !input.declaresSecrets && (index > 0 || inSchema || secret.index > 40) && (has('require') || [...params].some((p) => p.length >= 3 && sentence.toLowerCase().includes(p)))) {
        add('harvest', field, clip(sentence, secret.index), `asks for a secret of the user's accounts ("${secret[0].trim()}") in ${lexicons[0]!.name}`);
      }
      const only = has('only');
      if (only && (has('tool') || (own.length >= 4 && sentence.toLowerCase().includes(own)))) claim ??= { field, span: clip(sentence, only.index) };
      if (has('replace') && refs.length > 0) claim ??= { field, span: clip(sentence, 0) };
      if (has('other') && (has('tool') || refs.length > 0) && (has('bad') || neg)) down = true;
      if (has('bad') && refs.length > 0) down = true;
    }
  }
  if (claim && (down || dottedOther)) add('selection', claim.field, claim.span, 'steers tool selection: itself as the only or replacing choice, other tools named or run down');
  // Parameters named for a secret or the conversation that the tool's own name does not account for.
  {
    for (const name of input.parameters) {
      const parts = words(name);
      const joined = parts.join('_');
      const conversation = CONVERSATION_PART.test(joined);
      // Bare, a secret no tool takes for its own step (a one-time code or a PIN often is one: `otp`, `pin`); qualified, any (`bank_pin`).
      // Qualified, the last part names the secret (`bank_password`, `card_pin`; not `compare_with_pin`, a pinned version).
      const last = parts[parts.length - 1]!;
      // Bare, only what no tool takes as its own input (a document's or archive's `password` is its own; a `cvv` on a lookup is not).
      // Qualified, by something the tool's name does not say (`document_password` on protect_document is its own).
      const qualifiers = parts.slice(0, -1);
      const secret = (parts.length === 1 ? /^(?:cvv|cvc|cvv2|mnemonic)$/.test(joined) : SECRET_PART.test(last) && (!/^(?:pin|otp|seed)$/.test(last) || /^(?:bank|card|account|atm|sim|wallet|login|banking|ebanking|email|portal)$/.test(parts[parts.length - 2]!)) && !qualifiers.every((q) => nameWords.has(q) || nameWords.has(`${q}s`))) || (parts.length > 1 && ROMANCE_FIRST.test(parts[0]!) && !parts.slice(1).every((q) => nameWords.has(q))) || SECRET_PAIR.test(joined);
      if (!secret && !conversation) continue;
      // Another service's credential named by its service (`github_token`) is the tool's own when that is its service.
      const service = /^(gh|github|gitlab|aws|gcp|azure|slack|google|stripe|paypal|npm|docker|openai|portal|browser|bank|ebanking|email|mail)_/.exec(joined)?.[1];
      if (service && [service, ...(SERVICE_ALIAS[service] ?? [])].some((s) => selfWords.has(s) || input.self.includes(s))) continue;
      // (By its name, server and title: a first sentence's "key facts" is not a key.)
      if ([...nameWords].some((w) => w.length >= 3 && SELF_ACCOUNTS.test(w))) break;
      add(conversation ? 'sensitive-source' : 'harvest', `inputSchema.properties.${name}`, name, conversation ? `its parameter "${name}" asks for the conversation, which a tool named "${input.own}" has no use for` : `its parameter "${name}" asks for a secret of the user's accounts, which a tool named "${input.own}" has no use for`);
      if (conversation) add('harvest', `inputSchema.properties.${name}`, name, `its parameter "${name}" takes the conversation into a call of a tool named "${input.own}"`);
      break;
    }
  }
  return out;
}

function classIn(lexicons: readonly Lexicon[], cls: keyof Lexicon['words'], sentence: string): RegExpExecArray | null {
  for (const l of lexicons) {
    const m = l.words[cls].exec(sentence);
    if (m) return m;
  }
  return null;
}
