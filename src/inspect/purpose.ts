/**
 * Purpose and demand (issue 14): what a tool says it is against what its text asks for.
 *
 * A tool says what it is by its name, its title, its server, its first sentence and its read-only
 * annotation; from these come the domains it works in (`purposeOf`). Its other sentences and its
 * parameter descriptions may ask for data — a credential, the conversation, someone's personal data —
 * or send data to a fixed destination (`demandsOf`). A demand inside the tool's own domains agrees with
 * it: a password-reset tool that speaks of passwords, a mailer that sends mail, a booking tool that
 * needs a passport number. A demand outside them is what poisoning looks like whatever its wording: a
 * weather tool that wants the conversation, a meter reader that reports the Wi-Fi password to a partner
 * endpoint, an insurance quote that asks for the password of another service's app.
 *
 * Words are kept for English, Spanish, French, German, Portuguese, Italian, Russian, Turkish, Chinese,
 * Japanese and Korean (the languages of the corpora). Not judged: demands with no word of these lists, a
 * datum named by the tool's own parameter name (the input shape declares it), and a demand that is
 * negated ("never paste a private key") — that is a safeguard.
 */
import { P, sentences } from './words.ts';

/** The domains a tool can say it works in. */
export type Domain = 'auth' | 'payment' | 'message' | 'network' | 'personal' | 'conversation';

/** What a tool says it is: the domains of its name, title, server and first sentence; whether it says it only reads. */
export interface Purpose {
  domains: ReadonlySet<Domain>;
  readOnly: boolean;
  /** A detector, scanner or redactor: the data it names is what it looks for. */
  inspects: boolean;
  /** A translator: the text it is given, instructions included, is what it works on. */
  translates: boolean;
}

/** The class of a datum asked for, and the domains any one of which makes it the tool's own business. */
export type DemandClass = 'credential' | 'conversation' | 'personal' | 'contact' | 'destination';

export interface Demand {
  class: DemandClass;
  field: string;
  span: string;
  /** Domains of which any one agrees with the demand. */
  agreesWith: readonly Domain[];
}

// Domain words (matched against what the tool says it is).
const DOMAIN_WORDS: Readonly<Record<Domain, RegExp>> = {
  auth: P(String.raw`\b(?:okta|auth0|keycloak|1password|bitwarden|lastpass|cognito|entra|locks?|door|access codes?|guest codes?|auth\w*|log ?ins?|logon|sign[- ]?in|sso|oauth\w*|saml|passwords?|passphrases?|passcodes?|credentials?|secrets?|vault|keychain|keys?|tokens?|2fa|mfa|otp|totp|ssh|certificates?|sessions?|unlock|identity|idp|iam|kms|contraseñas?|mot de passe|passwort\w*|kennwort\w*|senhas?|парол\w*|şifre\w*|anmeld\w*|connexion|identifiants?|zugangsdaten)\b|密码|口令|登录|认证|パスワード|ログイン|認証|비밀번호|로그인|인증`),
  payment: P(String.raw`\b(?:pay|pays|paying|payments?|payouts?|cards?|bank\w*|balances?|invoices?|bills?|billing|charges?|refunds?|transfers?|wallets?|iban|sepa|checkout|purchases?|funds?|money|accounts?|finance\w*|financial|ledger|transactions?|tax\w*|pos|till|tills|gift ?cards?|pago|pagar|cobr\w*|factura\w*|tarjetas?|cuentas?|paiements?|payer|factures?|cartes?|comptes?|zahlung\w*|bezahl\w*|rechnung\w*|konto|konten|karten?|pagamentos?|faturas?|cartão|contas?|bolletta|fattura|conto|paga|оплат\w*|плат[её]ж\w*|сч[её]т\w*|карт\w*|банк\w*|ödeme\w*|fatura\w*)\b|支付|付款|账户|银行|決済|支払|口座|銀行|결제|계좌|은행`),
  message: P(String.raw`\b(?:e-?mails?|mail\w*|sms|texts?|messages?|messaging|chat\w*|slack|teams|discord|telegram|whatsapp|notif\w*|send\w*|posts?|repl(?:y|ies)|inbox\w*|channels?|contacts?|correos?|mensajes?|courriels?|nachricht\w*|mensage\w*|messaggi\w*|сообщени\w*|письм\w*|почт\w*|mesaj\w*)\b|邮件|消息|短信|メール|メッセージ|메일|메시지|문자`),
  network: P(String.raw`\b(?:urls?|https?|web\w*|webhooks?|fetch\w*|download\w*|upload\w*|apis?|endpoints?|sync\w*|remote\w*|export\w*|publish\w*|browse\w*|crawl\w*|scrap\w*|requests?|proxy|dns|domains?|hooks?|callbacks?|forward\w*|telemetry|metrics|mirror\w*|backups?)\b|同步|上传|下载|同期|업로드`),
  personal: P(String.raw`\b(?:clinical|health\w*|medic\w*|biomed\w*|gdpr|dsgvo|rgpd|auskunft|datenschutz|privacy|profiles?|contacts?|customers?|patients?|employees?|hr|kyc|passports?|travell?ers?|guests?|members?|people|persons?|identity|address\w*|phones?|crm|visa|onboard\w*|bookings?|book|flights?|hotels?|reservations?|tenants?|residents?|pacientes?|clientes?|clients?|kunden?|mitarbeiter\w*|empleados?|employés?|пациент\w*|клиент\w*|сотрудник\w*)\b|客户|患者|员工|顧客|社員|고객|환자|직원`),
  conversation: P(String.raw`\b(?:agents?|prompts?|conversations?|chats?|transcripts?|history|memory|memories|context|dialog\w*|threads?|summar\w*|gespräch\w*|verlauf|conversación|conversa|разговор\w*|диалог\w*|переписк\w*)\b|对话|会話|대화`),
};

// Data asked for, by class.
const CREDENTIAL = P(String.raw`\b(?:passwords?|passcodes?|passphrases?|pin codes?|pin numbers?|one-time (?:codes?|passwords?)|(?:2fa|mfa|sms|verification|security|authenticator|auth|login) codes?|backup codes?|recovery codes?|session (?:tokens?|cookies?|ids?)|(?:session|login|auth) cookies?|cookie values?|(?:access|session|hub|personal access) tokens? (?:of|for) (?:the user|another|other|\w+'s)|private keys?|secret keys?|app passwords?|seed phrases?|recovery phrases?|(?:login|sign-in|account) (?:details|data|credentials)|wi-?fi credentials|username and password|contraseñas?|código (?:sms|de verificación)|mot de passe|code (?:reçu par sms|sms|de vérification)|passwort\w*|kennwort\w*|zugangsdaten|senhas?|código de verificação|парол\w*|токен\w* доступа|код\w* подтвержд\w*|şifre\w*|doğrulama kod\w*)\b|\b[A-Z][A-Z0-9]*_(?:PASSWORD|PASSWD)\b|密码|口令|验证码|私钥|助记词|パスワード|暗証番号|認証コード|비밀번호|인증번호|인증 ?코드|2FA`);
/** A PIN, by its capital letters (a "pin" in lower case is also pinning a message). */
const PIN = /\bPINs?\b/;
const CONVERSATION = P(String.raw`\b(?:(?:recent|whole|entire|full|complete|previous|prior|earlier|ongoing|current) (?:\w+ )?(?:conversation|chat|dialog(?:ue)?)|(?:conversation|chat|message) (?:history|so far|log|transcript)|transcripts? of|system prompt|everything the user (?:has )?(?:said|typed|wrote|written)|(?:seen|mentioned|shared|visible|said|opened|typed|read) (?:so far|earlier|in (?:this|the) (?:session|conversation|chat))|(?:full|entire|whole|original|complete) text of the user'?s?|user'?s? (?:recent|previous|last|earlier) messages|historial|historia de (?:la )?conversación|conversación (?:completa|anterior|previa)|historique (?:de (?:la )?)?conversation|conversation (?:complète|précédente)|gesprächsverlauf|bisherigen gespräch\w*|aus dem gespräch|histórico da conversa|conversa (?:completa|anterior)|истори\w* (?:разговора|переписки|диалога)|sohbet geçmişi)\b|对话记录|对话内容|对话历史|聊天记录|会話履歴|会話の内容|これまでの会話|대화 내용|대화 기록|이전 대화`);
const PERSONAL = P(String.raw`\b(?:dates? of birth|birth ?dates?|passport numbers?|passports?|income|salary|salaries|medical \w+|health records?|diagnos\w+|bank details|bank account details|account balances?|balances|social security|ssn|national id\w*|occupancy|door locks?|lock states?|jahreseinkommen|einkommen|geburtsdatum|ingresos|fecha de nacimiento|revenus|date de naissance|renda|доход\w*)\b|收入|身份证|年収|生年月日|소득|주민등록`);
const CONTACT = P(String.raw`\b(?:phone numbers?|telephone numbers?|home address\w*|street address\w*|postal address\w*|contact details|parent contact\w*|telefonnummer\w*|anschrift|teléfonos?|número de teléfono|numéro de téléphone|telefone|número de telefone|телефон\w*|адрес(?:а|у|ом|е)?|telefon numara\w*)\b|电话号码|手机号|住址|電話番号|住所|전화번호|주소`);
/** A fixed destination: an address, a host, an outside server. */
const DESTINATION = P(String.raw`https?:\/\/[^\s"'<>)\x60]{4,200}|[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]{2,63}|\b(?:external|outside|remote|partner|third[- ]party|vendor) (?:\w+ )?(?:servers?|endpoints?|services?|hosts?|collectors?|apis?)\b|外部(?:サーバー|服务器|服務器)|외부 서버|внешн\w* сервер\w*`);

/** Asking for or moving data: provide, pass, paste, include, enter, send, report, mirror, ask for (across languages). */
const REQUEST = P(String.raw`\b(?:provide[sd]?|providing|pass|passes|passing|paste[sd]?|supply|include[sd]?|including|includes|put|fill|enter|add|attach\w*|append\w*|send|sends|sent|forward\w*|upload\w*|reports?|reported|mirror\w*|sync\w*|share[sd]?|ask (?:\w+ ){0,3}?for|collect\w*|type|give|hand over|carry|carries|contain|contains|copy|copied|submit\w*|transmit\w*|delivered|posted|incluye|incluir|incluya|indica|proporciona|introduce|añade|adjunta|envía|envíe|enviad\w*|pide|indiquez|indiquer|fournissez|saisissez|ajoutez|joignez|envoyez|incluez|demandez|transmis|envoyé\w*|geben sie|angeben|eintragen|einfügen|übernehmen sie|übernimm|enthalten|senden|gesendet|übermittel\w*|mitgeben|informe|inclua|envie|forneça|adicione|enviad[oa]s?|includi|inserisci|invia|inviat\w*|chiedi\w*|передайте|передать|укажите|введите|отправ\w*|добавьте|включите|ekleyin|girin|gönderin|yazın|gönderil\w*)\b|入力|送信|入れ|含め|指定|提供|输入|填入|发送|附上|包含|上传|입력|보내|포함|넣|전송`);
/** A demand turned down: "never paste a private key", "is not stored", "不会". */
const NEGATED = P(String.raw`\b(?:never|not|no|don't|do not|must not|should not|without|nor|rather than|instead of|except|excluding|nunca|jamás|jamais|ne|pas|nie|niemals|nicht|kein\w*|nunca|não|non|mai|не|никогда|asla|değil)\b|不|没|絶対に|しない|않`);

/** The demand kept from harm in the rest of the sentence: redacted, masked, never stored, not needed, typed in the app. */
const GUARDED_AFTER = P(String.raw`\b(?:redact\w*|mask\w*|blurr?\w*|obscur\w*|hidden|excluded|omitted|stripped|removed|dropped|skipped|replace (?:them|it) with|point (?:this|it) out|(?:is|are|was|were) (?:never|not)|not (?:needed|required|stored|kept|sent|shared|asked|logged)|never (?:stored|kept|sent|shared|asked|logged|returned)|(?:in|en|dans|na|no|im) (?:the|their|your|its|la|su|sua|l'|der|dem)? ?(?:own )?(?:\w+ )?(?:app|aplicación|application|appli|aplicativo)|no se (?:guarda|almacena|pide)|ne sont pas|werden nicht|nicht gespeichert)\b|\*\*\*|无需|不需要|不必|不会|不存储|필요 없|必要はありません|保存されません`);
/** A detector, a scanner, a redactor: the data it names is what it looks for. */
const INSPECTS = P(String.raw`\b(?:detect\w*|scan\w*|redact\w*|mask\w*|dlp|guard\w*|lint\w*|audit\w*|classif\w*|saniti[sz]\w*|anonymi[sz]\w*|pseudonymi[sz]\w*|pii|moderat\w*|phishing|fraud|leak\w*|secret-scan\w*)\b|检测|検出|탐지`);

const TRANSLATES = P(String.raw`\b(?:translat\w*|übersetz\w*|traduc\w*|tradu[sz]\w*|перев[оеё]д\w*|çevir\w*)\b|翻译|翻訳|번역`);
/** What introduces an example of what a detector looks for, in the languages of the corpora. */
const EXAMPLE_LEAD = P(String.raw`\b(?:e\.g\.|i\.e\.|such as|like|for example|for instance|flags?|detects?|catches|looks? for|phrases?|attempts?|patterns?|beispiel\w*|z\. ?b\.|etwa|por ejemplo|como|par exemple|comme|por exemplo|ad esempio|например)\b|例如|比如|如|例えば|など|예를 들어|예:`);

/**
 * Whether the phrase found at `at` is a quotation or an example inside a tool whose work is such text
 * (a translator, a prompt-injection detector): its subject, not an instruction to the model.
 */
export function quotedSubject(purpose: Purpose, text: string, at: number): boolean {
  if (!purpose.inspects && !purpose.translates) return false;
  const sentenceStart = Math.max(text.lastIndexOf('. ', at), text.lastIndexOf('\n', at), text.lastIndexOf('。', at), 0);
  return quoted(text.slice(sentenceStart, at + 1), at - sentenceStart) || EXAMPLE_LEAD.test(text.slice(sentenceStart, at));
}

/** Whether a match sits inside quotation marks (a mention, not a request). */
function quoted(sentence: string, at: number): boolean {
  const before = sentence.slice(0, at);
  const open = (before.match(/[\u201C\u00AB\u300C\u300E]/g) ?? []).length - (before.match(/[\u201D\u00BB\u300D\u300F]/g) ?? []).length;
  if (open > 0) return true;
  const straight = (before.match(/"/g) ?? []).length;
  const single = (before.match(/(?<![\p{L}\p{N}])'|'(?![\p{L}\p{N}])/gu) ?? []).length;
  return straight % 2 === 1 || single % 2 === 1;
}

/** The name and the text of what a tool says it is, lower-cased, words apart. */
function selfWords(definition: Record<string, unknown>, server: string): string {
  const annotations = (definition.annotations ?? {}) as Record<string, unknown>;
  const description = typeof definition.description === 'string' ? definition.description : '';
  const first = sentences(description)[0] ?? '';
  return [definition.name, definition.title, annotations.title, first, server.replace(/^[^:]*:/, '')]
    .filter((v): v is string => typeof v === 'string')
    .join(' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ');
}

/** Purposes by definition and server: the phrase rules and the signal layer both ask for it. */
const purposes = new WeakMap<object, { server: string; self: string; purpose: Purpose }>();

/** What a tool says it is (see `Purpose`). */
export function purposeOf(definition: Record<string, unknown>, server: string): Purpose {
  // (Keyed by the object, checked against what it says now: a definition changed in place is read again.)
  const self = selfWords(definition, server);
  const known = purposes.get(definition);
  if (known && known.server === server && known.self === self && known.purpose.readOnly === ((definition.annotations as Record<string, unknown> | undefined)?.readOnlyHint === true)) return known.purpose;
  const purpose = readPurpose(definition, self);
  purposes.set(definition, { server, self, purpose });
  return purpose;
}

function readPurpose(definition: Record<string, unknown>, self: string): Purpose {
  const domains = new Set<Domain>();
  for (const [domain, words] of Object.entries(DOMAIN_WORDS) as Array<[Domain, RegExp]>) if (words.test(self)) domains.add(domain);
  const annotations = (definition.annotations ?? {}) as Record<string, unknown>;
  return { domains, readOnly: annotations.readOnlyHint === true, inspects: INSPECTS.test(self), translates: TRANSLATES.test(self) };
}

/** The same demand, in which domains it would be the tool's own business. */
const AGREES: Readonly<Record<DemandClass, readonly Domain[]>> = {
  credential: ['auth'],
  conversation: ['conversation'],
  personal: ['personal', 'payment'],
  contact: ['personal', 'payment', 'message'],
  destination: ['network', 'message'],
};

/** Whether the clause before `at` turns the demand down. */
function negatedBefore(sentence: string, at: number): boolean {
  const clause = sentence.slice(Math.max(0, at - 80), at).split(/[,;:\u2014\u2013()]|\b(?:and|but|then|y|et|und|e|и)\b/u).pop() ?? '';
  return NEGATED.test(clause);
}

function shown(sentence: string, at: number, length: number): string {
  const s = sentence.slice(Math.max(0, at - 40), at + length + 40).trim();
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** A parameter's own name that says what it holds (`password`, `otp`, `passport_number`): the input shape declares the datum. */
function namedByParameter(name: string, cls: DemandClass): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ');
  if (cls === 'credential') return CREDENTIAL.test(words) || /\b(?:pin|otp|code|codes|cvv|cvc|token|key|secret|pass|pwd)\b/i.test(words);
  if (cls === 'personal') return PERSONAL.test(words) || /\b(?:phone|address|dob|birth|passport|income|ssn|balance|balances|accounts?)\b/i.test(words);
  if (cls === 'contact') return CONTACT.test(words) || /\b(?:phone|address|tel|telefon\w*|tel[eé]fono|numero|número|endere[cç]o|adresse)\b/i.test(words);
  if (cls === 'conversation') return CONVERSATION.test(words) || /\b(?:history|transcript|messages|context)\b/i.test(words);
  return /\b(?:url|uri|endpoint|webhook|email|to|recipient|address|host|target)\b/i.test(words);
}

/**
 * What the texts ask for beyond what the tool says it is: a request verb and a datum in one sentence,
 * not turned down, not quoted, not kept from harm after it ("… are redacted") — in the description after
 * its first sentence, and in each parameter's description unless the parameter's own name declares the
 * datum (the input shape says it takes a password: that is not hidden).
 * `folded`: a text as the model reads it (signals.ts `fold`).
 */
export function demandsOf(definition: Record<string, unknown>, folded: (text: string) => string): Demand[] {
  const out: Demand[] = [];
  const description = typeof definition.description === 'string' ? definition.description : '';
  const classes: ReadonlyArray<readonly [DemandClass, RegExp]> = [
    ['credential', CREDENTIAL],
    ['conversation', CONVERSATION],
    ['personal', PERSONAL],
    ['contact', CONTACT],
    ['destination', DESTINATION],
  ];
  const seek = (sentence: string, field: string, param?: string, next?: string): void => {
    const verb = REQUEST.exec(sentence);
    if (!verb) return;
    for (const [cls, pattern] of classes) {
      const m = pattern.exec(sentence) ?? (cls === 'credential' ? PIN.exec(sentence) : null);
      if (!m || negatedBefore(sentence, m.index) || quoted(sentence, m.index) || GUARDED_AFTER.test(sentence.slice(m.index))) continue;
      // Kept from harm in the clause after it, of the same datum ("tell the user to enter their PIN at the panel; the
      // tool never asks for it").
      if (next && /\b(?:it|them|one)\b/i.test(next) && (GUARDED_AFTER.test(next) || /\bnever (?:asks?|needs?|stores?|sees?|requests?)\b/i.test(next)) && !pattern.test(next)) continue;
      if (verb && verb.index < m.index && negatedBefore(sentence, verb.index)) continue;
      if (param !== undefined && namedByParameter(param, cls)) continue;
      out.push({ class: cls, field, span: shown(sentence, m.index, m[0].length), agreesWith: AGREES[cls] });
    }
  };
  const parts = sentences(folded(description));
  for (const [i, sentence] of parts.entries()) if (i > 0) seek(sentence, 'description', undefined, parts[i + 1]);
  const properties = (definition.inputSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (properties && typeof properties === 'object') {
    for (const [name, value] of Object.entries(properties)) {
      const text = (value as { description?: unknown } | null)?.description;
      if (typeof text !== 'string') continue;
      for (const sentence of sentences(folded(text))) seek(sentence, `inputSchema.properties.${name}.description`, name);
    }
  }
  return out;
}

/** The demands of a definition that its purpose does not account for. */
export function unaccounted(purpose: Purpose, demands: readonly Demand[]): Demand[] {
  if (purpose.inspects) return [];
  // A tool that says it only reads (`readOnlyHint`) sends nothing to a destination of its text's choosing, unless it is a network tool.
  const agrees = (d: Demand, domain: Domain): boolean => purpose.domains.has(domain) && !(purpose.readOnly && d.class === 'destination' && domain !== 'network');
  return demands.filter((d) => !d.agreesWith.some((domain) => agrees(d, domain)));
}

const DATUM: Readonly<Record<DemandClass, string>> = {
  credential: 'a credential (a password, PIN, one-time or backup code, session cookie or private key)',
  conversation: 'the conversation or what the session holds',
  personal: 'personal data (birth date, passport, income, health, balances, home sensors)',
  contact: 'contact data (a phone number, a postal address)',
  destination: 'data sent to a fixed destination (an address, a host, an outside server)',
};

/** The reason given for a demand outside the tool's purpose: what the tool says it is, and what it asks for. */
export function mismatchWhy(purpose: Purpose, demand: Demand): string {
  const said = purpose.domains.size > 0 ? `a tool about ${[...purpose.domains].join(', ')}` : 'a tool whose name, title and first sentence name none of auth, payment, messaging, network, personal data or the conversation';
  return `${said} asks for ${DATUM[demand.class]}, which only a tool about ${demand.agreesWith.join(' or ')} has a use for`;
}

/** Refraining: a negation and, within a few words, an act that moves, shows, changes or asks for something. */
const REFRAIN = P(String.raw`\b(?:never|do not|don't|must not|mustn't|should not|shouldn't|may not|cannot|can't|is not to|are not to|not allowed to|no|nunca|no|jamais|ne|nie|niemals|nicht|não|non|mai|не|никогда)\b(?:\s+\S+){0,3}?\s+(?:change|alter|modify|override|bypass|replace|swap|send|forward|post|share|echo|reveal|disclose|log|repeat|store|print|paste|ask (?:\S+ ){0,3}?for|inform|tell|notify|mention|expose|leak|cambi\w*|modifi\w*|envi\w*|compart\w*|revel\w*|registr\w*|pedir|pidas|changer|modifier|envoyer|partager|révéler|demander|ändern|senden|teilen|preisgeben|weitergeben|protokollieren|fragen|alterar|enviar|mudar|partilhar|compartilhar|изменя\w*|отправля\w*|раскрыва\w*|сообща\w*)\b|(?:不要|切勿|请勿|不得|绝不)(?:更改|修改|发送|透露|泄露|记录|索要)|(?:変更|送信|共有|記録)しないで|(?:변경|전송|공유|기록)하지 마`);
/** What is refrained from is a secret, a value the user gave, or a channel or party other than the user. */
const REFRAINED_OBJECT = P(String.raw`\b(?:secrets?|passwords?|passcodes?|tokens?|keys?|pins?|codes?|values?|credentials?|beneficiar(?:y|ies)|amounts?|recipients?|periods?|destinations?|ibans?|steps?|channels?|logs?|personal (?:addresses|accounts|e-?mails?)|third parties|anyone else|externally|outside|employees?|the public|chat|e-mail|email|grades?|adjusting entries|secreto|contraseña|mot de passe|passwort|senha|пароль|montant|destinataire|betrag|empfänger|importe|destinatario|valor|importo|сумм\w*|получател\w*)\b|密码|秘密|令牌|金额|收款人|パスワード|金額|비밀번호|금액`);
/** Keeping something from the user themselves: that is never a safeguard. */
const FROM_USER = P(String.raw`\b(?:tell|inform|notify|mention|show|reveal|disclose|alert)\w*\s+(?:(?!unless\b|if\b|until\b|when\b)\S+\s+){0,2}?(?:the |this |your )?(?:user|human|requester)\b|\b(?:from|to) the (?:user|human)\b|\buser (?:should|must|will) not (?:know|see|notice|learn)`);

/**
 * Whether a sentence is a safeguard: the model told to refrain from moving, showing, changing or asking
 * for something — a secret, a value the user gave, a channel or a party other than the user ("Never
 * change the beneficiary or amount the user gave", "must not echo the value back", "Do not inform the
 * employee through chat"). An instruction that narrows what the model does is the opposite of poisoning,
 * unless what it keeps quiet is kept from the user.
 */
export function refrains(sentence: string): boolean {
  const known = refrained.get(sentence);
  if (known !== undefined) return known;
  const out = readRefrains(sentence);
  if (refrained.size >= 20_000) refrained.clear();
  refrained.set(sentence, out);
  return out;
}

/** Sentences judged, remembered: schemas repeat the same sentences across a listing (bounded, cleared whole when full). */
const refrained = new Map<string, boolean>();

function readRefrains(sentence: string): boolean {
  const m = REFRAIN.exec(sentence);
  if (!m) return false;
  if (FROM_USER.test(sentence)) return false;
  // What is refrained from is in the same clause ("Do not change this, and include the user's email …" refrains from nothing named).
  const clause = sentence.slice(m.index).split(/[,;:\u2014\u2013]|\s(?:and|but|or|then)\s/u)[0]!;
  return REFRAINED_OBJECT.test(clause);
}
