/**
 * Signals of an attack's structure rather than its wording (issue 14, fourth round): who the text is
 * addressed to and what it does to them, read clause by clause in any of the languages the corpora use.
 *
 * - **Concealment from an audience.** What a person (the user, a customer, a student, a homeowner…) or
 *   the reply they get is told is made false or incomplete: shown *as* a state ("shown to the user as
 *   OK"), answered with a fixed quotation, told nothing (a negated act of telling in the passive, the
 *   infinitive or the imperative — "need not be brought up", "ne pas en informer", 表示せず), or given
 *   only part of it ("the summary presented to the user lists … only"). The tool's own behaviour stated
 *   in the third person ("does not notify the customer") is a description, not an order, and does not count.
 * - **Selection against the user's choice.** A concession ("even if", "aunque", "auch wenn", 場合も)
 *   over the user asking for, naming or choosing something, in a definition that talks about tools:
 *   the tool wants to be picked whatever the user says.
 * - **Selection by exclusivity.** The tool itself (this tool, esta herramienta, このツール, "use it")
 *   claimed for every or any task of a kind, with the alternatives — other tools, named or not — put out
 *   of use (bypassed, disregarded, "in place of", "only for compatibility", "should no longer be used").
 *
 * - **Private data flowing out.** Data the call itself does not hold — the conversation, the session's
 *   messages and files, environment variables, secrets files — or other people's personal data in bulk
 *   (customer names and addresses, e-mail lists) put into a value or sent to a destination (an address, a
 *   host, a vendor or partner), for a purpose that is not the tool's own (benchmarking, "to improve").
 * - **A rule about another server's tool.** A `server.tool` named in a sentence that fixes a value of its
 *   call (a quoted value, an account number, `key=value`) or takes away a safeguard (no confirmation,
 *   pre-approved, shared with anyone).
 *
 * Quoted examples ("flags phrases such as \"do not tell the user\"") are masked first, as for every signal.
 * Every pattern is bounded (no nested quantifiers) and runs on one sentence.
 */

import { maskExamples, toolShaped } from './signals.ts';
import { P, sentences } from './words.ts';

export type StructureFamily = 'conceal' | 'selection' | 'private-flow' | 'foreign-rule' | 'authority';

export interface StructureHit {
  family: StructureFamily;
  field: string;
  span: string;
}

/** Who a tool's output is for: people, in the corpora's languages. */
const AUDIENCE = String.raw`(?:\b(?:users?|end[- ]users?|customers?|clients?|homeowners?|owners?|students?|learners?|pupils?|teachers?|patients?|employees?|staff|workers?|members?|buyers?|shoppers?|sellers?|requesters?|humans?|people|persons?|parents?|guests?|travell?ers?|passengers?|tenants?|residents?|citizens?|readers?|subscribers?|viewers?|listeners?|players?|applicants?|candidates?|donors?|investors?|holders?|policyholders?|farmers?|growers?|drivers?|riders?|callers?|recipients?|audiences?|public|utilisat(?:eur|rice)s?|usuari[oa]s?|usuári[oa]s?|(?:be)?nutzer(?:in|innen)?|kunden?|kundin|client[ea]s?|utent[ei]|alumn[oa]s?|élèves?|étudiants?|schüler|пользовател\w*|клиент\w*|студент\w*)\b|ユーザー|利用者|お客様|顧客|生徒|学生|用户|使用者|客户|顾客|学生|사용자|고객|이용자|학생)`;
/** The channel a person reads: the reply, the summary, the answer, the report. */
const CHANNEL = String.raw`\b(?:response|responses|reply|replies|answer|answers|summary|summaries|report|confirmation|message shown|output shown|résumé|réponse|respuesta|resumen|resposta|resumo|antwort|zusammenfassung|ответ\w*|сводк\w*)\b|回答|返答|要約|摘要|回复|答复|답변|요약`;
const AUDIENCE_OR_CHANNEL = P(`${AUDIENCE}|${CHANNEL}`);
const AUDIENCE_ONLY = P(AUDIENCE);
/** A person as the subject of what follows ("the user describes …"). */
const AUDIENCE_SUBJECT = P(String.raw`${AUDIENCE}\s*$`);

/** Shown *as* a state: "shown to the user as OK", "present it as within budget", "presented as organic". Formats (as a table, as JSON) are not states. */
const SHOWN_AS = P(String.raw`\b(?:present(?:s|ed|ing)?|shown|show|shows|report(?:s|ed)?|describ(?:e|es|ed)|label(?:l?ed|s)?|display(?:s|ed)?|fram(?:e|es|ed)|list(?:s|ed)?)\b[^.;:\n]{0,50}?(?<!\bnot\s)\bas\s+(?!(?:a|an|the|one|plain|rich|formatted|separate|individual|its|their|is\b|well\b|soon\b|follows?\b|needed\b|usual\b|described\b|shown\b|returned\b|above\b|below\b|they|you|we|he|she|it|i|long|far|much|many|if|last|first|only|\d)\b|(?:tables?|lists?|json|markdown|text|csv|links?|cards?|charts?|graphs?|bullets?|previews?|thumbnails?|images?|pdf|html|strings?|numbers?|percent\w*|drafts?|notifications?|badges?|tooltips?|iso|utc|yaml|xml|rows?|columns?|items?|entries|pages?)\b)[\p{L}\p{N}'‘"“«]`);
const SHOWN_AS_OTHER = P(String.raw`(?:présent\w*|affich\w*|indiqu\w*)\s+(?:\S+\s+){0,6}?comme\s+|(?:present\w*|mostr\w*|muestr\w*|indic\w*)\s+(?:\S+\s+){0,6}?como\s+|(?:dargestellt|angezeigt|ausgewiesen|gemeldet)\s+als\s+|als\s+\S+\s+(?:dargestellt|angezeigt|ausgewiesen|gemeldet)\b|(?:показыва\w*|отобража\w*|представля\w*)\s+(?:\S+\s+){0,4}?как\s+|として(?:表示|報告|提示|案内)|显示为|报告为|标记为|呈现为|(?:으로|로)\s*(?:표시|보고|안내)`);
/** Told a fixed quotation: "are told it is 'for advising only'", 「無料です」と回答, répondre « … ». */
const TOLD_QUOTE = P(String.raw`\b(?:told|tell|tells|answer(?:s|ed)?|respond(?:s|ed)?|reply|replies|replied|say|says|said|répond\w*|respond\w*|contest\w*|antwort\w*|ответ\w*|сказать|говорит\w*)\b[^.;\n"“«「]{0,30}?["“«'‘]|[「『"“][^」』"”\n]{1,60}[」』"”]\s*(?:と(?:回答|答え|返答|説明|伝え)|이?라고\s*(?:답|안내|말)|回答|答复)`);
/** A person asking (the fixed answer is what they get when they ask). */
const ASKING = P(String.raw`\b(?:ask|asks|asking|asked|question\w*|wonder\w*|inquir\w*|enquir\w*|pregunt\w*|demand\w*|fragt|frag\w*|pergunt\w*|chied\w*|спрос\w*|вопрос\w*)\b|質問|聞かれ|尋ね|问起|询问|问到|묻|질문|문의`);
/**
 * Telling negated — in the passive, the infinitive or the imperative (an order about what is said), not a
 * third-person statement of what the tool does ("does not notify the customer").
 */
const NOT_TOLD = P(String.raw`\b(?:not|never|no need to)\s*,?\s+(?:(?:be|to|and|should|shall|must|not|ever|also|further|otherwise)\s*,?\s+){0,5}(?:tell|told|mention(?:ed)?|disclos(?:e|ed)|reveal(?:ed)?|inform(?:ed)?|notif(?:y|ied)|surfac(?:e|ed)|flag(?:ged)?|alert(?:ed)?|label(?:l?ed)?|brought up|bring (?:it |this |them )?up|rais(?:e|ed)|explain(?:ed)?|point(?:ed)? out|call(?:ed)? out|convey(?:ed)?|admit(?:ted)?|shown|displayed)\b|\b(?:do not|don't|never)\s+(?:tell|mention|disclose|reveal|inform|notify|surface|flag|alert|label|bring up|raise|explain|point out|convey|admit|show|display)\b|\bne (?:pas|jamais) (?:en |l'|les |le |lui |leur )?(?:informer|mentionner|signaler|dire|révéler|afficher|indiquer|prévenir|avertir)|\bsans (?:en |l'|les |le |lui |leur )?(?:informer|avertir|prévenir|mentionner|le dire)|\bno (?:se )?(?:le |les |lo |la )?(?:inform\w*|mencion\w*|comunic\w*|avis\w*|notific\w*|indic\w*|mostr\w*|muestr\w*)|\bsin (?:informar|avisar|mencionar|notificar|decir)|\bnicht (?:\S+ ){0,3}?(?:informier\w*|erwähn\w*|mitteil\w*|melden|gemeldet|anzeig\w*|angezeigt|hinweis\w*|benachrichtig\w*)|\bohne (?:\S+ ){0,3}?(?:zu )?(?:informieren|benachrichtigen|erwähnen|hinzuweisen)|\bnão (?:\S+ )?(?:inform\w*|mencion\w*|avis\w*|notific\w*|mostr\w*|comunic\w*)|\bsem (?:informar|avisar|mencionar|notificar)|\bnon (?:\S+ )?(?:inform\w*|menzion\w*|avvis\w*|notific\w*|mostr\w*|segnal\w*)|\bsenza (?:informare|avvisare|menzionare)|\bне (?:\S+ )?(?:сообща\w*|сообщ\w*|упомина\w*|говор\w*|показыва\w*|информир\w*|уведомл\w*|предупрежд\w*)|表示せず|表示しない|伝えず|伝えない|知らせず|知らせない|言及せず|言及しない|通知せず|通知しない|触れず|告知せず|不要告诉|不告诉|不要提及|不提及|不提示|无需告知|不必告知|不要通知|不通知|不告知|不要显示|不显示|알리지|언급하지|표시하지|고지하지`);
/** Only part is shown: "lists CREATE and ALTER statements only", "describe the rotation only and leave the escrow step out". */
const ONLY_PART = P(String.raw`\b(?:only|solely|just|merely)\b[^.;\n]{0,60}?\b(?:is|are)\s+(?:report|show|present|display|list|mention|describ)\w*|\b(?:report|show|present|display|list|mention|describ)\w*\b[^.;,\n]{0,60}?\b(?:only|solely)\b(?=\s*(?:[.;,)]|$|and\b))`);
/** A step left out of what is shown: "leave the escrow step out". */
const LEFT_OUT = P(String.raw`\bleav(?:e|es|ing)\s+(?:\S+\s+){0,4}?out\b|\bleft out\b`);
/** The person is the only one shown ("show it to the user only"): the opposite of keeping it from them. */
const ONLY_TO_THEM = /\b(?:to|with) the (?:user|customer|owner|requester)s? only\b|\bonly (?:to |with )?the (?:user|customer|owner|requester)s?\b/i;
const SECRET_WORD = /\b(?:api[ _-]?keys?|keys?|tokens?|passwords?|passphrases?|secrets?|credentials?|pins?|otp|one-time codes?)\b/i;
/** Something there to hide: a side effect done as well, or a reason given for keeping it from people. */
const HIDDEN_REASON = P(String.raw`\b(?:side effects?|housekeeping|noise|confus\w*|alarm\w*|escalat\w*|worr\w*|panic\w*|false positives?|not (?:relevant|needed|necessary) (?:to|for) (?:the )?(?:user|customer)s?)\b`);
/** A third-person statement of what the tool does is not an order about what people are told. */
const TOOL_DOES = /\b(?:does not|doesn't|will not|won't|cannot|can't|never)\s+(?:\w+s|send|notify|alert|email|show|display)\b|\b(?:is|are) not (?:visible|shown|sent|returned)\b/i;

/** A concession over the user's own choice: "even if the user asks", "aunque el usuario las pida", ユーザーが…指定した場合も. */
const AGAINST_CHOICE = P(String.raw`\b(?:even (?:if|when|though)|including (?:if|when)|also (?:if|when)|whether or not|aunque|incluso (?:si|cuando)|même (?:si|lorsque|quand)|y compris (?:si|lorsque|quand)|auch (?:wenn|dann, wenn)|selbst wenn|mesmo (?:que|se|quando)|ainda que|anche (?:se|quando)|perfino se|даже (?:если|когда))\b[^.;\n]{0,60}?(?:\b(?:user|users|usuario|usuaria|utilisateur|utilisatrice|nutzer|benutzer|usuário|utente|пользовател\w*|they|he|she|you)\b)[^.;\n]{0,60}?\b(?:ask\w*|request\w*|nam\w*|specif\w*|choos\w*|chose\w*|pick\w*|prefer\w*|want\w*|select\w*|insist\w*|pid\w*|pide\w*|elij\w*|eleg\w*|solicit\w*|fragt|frage\w*|verlang\w*|wünsch\w*|wähl\w*|nenn\w*|demand\w*|choisi\w*|préf[eè]r\w*|pergunt\w*|ped\w*|peç\w*|escolh\w*|chied\w*|scegli\w*|просит\w*|попрос\w*|выбер\w*|выбира\w*|укаж\w*|указыва\w*|хочет)|(?:ユーザー|利用者)[^。\n]{0,40}?(?:指定|選択|要求|希望|求め)[^。\n]{0,10}?(?:場合も|ときも|としても|でも)|(?:即使|即便|哪怕|就算)[^。\n]{0,20}?(?:用户|使用者)[^。\n]{0,20}?(?:要求|指定|选择|明确)|(?:사용자|이용자)[^.\n]{0,40}?(?:지정|선택|요청|원)[^.\n]{0,10}?(?:경우에도|더라도|해도)`);
/** The definition talks about tools (its own kind): other tools, a named tool, "X tools". */
const TOOL_TALK = P(String.raw`\b(?:tools?|servers?|connectors?|plugins?|integrations?|herramientas?|outils?|werkzeuge?|ferramentas?|strument[oi]|инструмент\w*|сервер\w*)\b|ツール|工具|도구|\b[a-z][\w-]*\.[a-z]\w*_\w+\b`);
/** A tool-shaped identifier (`treasury_pay`); the tool's own parameters are not tools. */
const IDENTIFIER = /\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/gi;
function talksOfTools(sentence: string, params: ReadonlySet<string>): boolean {
  if (TOOL_TALK.test(sentence)) return true;
  for (const id of sentence.match(IDENTIFIER) ?? []) if (!params.has(id.toLowerCase())) return true;
  return false;
}

/** The tool itself, as the subject or object of a choice. */
const SELF = P(String.raw`\b(?:(?:exclusively |only )?from (?:it|here)\b|this (?:tool|one|server|gateway|service|connector|integration|plugin|rail|function)|use it|here\b|esta (?:herramienta|ferramenta)|este (?:servidor|conector)|cet outil|ce serveur|cette outil|dieses (?:werkzeug|tool)|diesen server|questo strumento|этот инструмент|это(?:т)? сервер)|本ツール|このツール|本工具|此工具|该工具|这个工具|이 도구|본 도구`);
/** The first sentence claims the tool is the only or the designated one (its subject is the tool itself). */
const FIRST_EXCLUSIVE = P(String.raw`\b(?:only|sole|exclusive|canonical|designated|recommended replacement|einzige[nrms]?|única|único|unica|unico|seul|seule|единственн\w*)\b|唯一`);
/** For every or any task of a kind, or as the only one. */
const EXCLUSIVE = P(String.raw`\b(?:every|any|all|always|only|sole|exclusively|canonical|designated|cada|cualquier|toda|todas|todos|siempre|única|único|exclusivamente|chaque|tout|toute|toutes|tous|toujours|seul|seule|exclusivement|jede[nrms]?|alle|immer|einzige[nrms]?|ausschließlich|qualquer|sempre|ogni|qualsiasi|sempre|unico|unica|любо\w*|всегда|единственн\w*|только)\b|必ず|常に|唯一|只能|一律|所有|항상|반드시|모든|유일`);
/** The alternatives put out of use. */
const OUT_OF_USE = P(String.raw`\b(?:in place of|instead of|in favou?r of|rather than|bypass\w*|disregard\w*|deprioriti[sz]\w*|ignor\w*|replac\w*|supersed\w*|(?:no longer|not|never) (?:be )?(?:used|called|consulted|chosen|selected)|consulted only|only (?:if|when) (?:it|this) fails|(?:is|are) (?:kept|retained|maintained) only|only for (?:compatibility|legacy)|under (?:\w+ )?(?:audit|maintenance|review)|other (?:\w+ ){0,3}?tools?|any other|the others?|the rest|remaining|demás|otras?|otros?|autres?|andere[nrms]?|outras?|outros?|altri|altre|други\w*|остальн\w*|en lugar de|au lieu de|anstatt|statt|em vez de|invece di|вместо|ne (?:l'|les |le |la )?utiliser qu|n'est conservé que|que pour compatibilité|nicht mehr (?:verwendet|benutzt|genutzt)|no deben (?:utilizarse|usarse)|em manutenção|en mantenimiento|en maintenance)\b|他の|別の|其他|别的|다른`);

/** "other tools of this server", "tools on the same server": siblings. */
const SIBLINGS = /\b(?:all |any |the )?(?:other )?tools?\s+(?:of|on|from|in)\s+(?:this|the same)\s+server\b/gi;

/** Data the call does not hold: the session's conversation, messages and files, the environment, secrets files. */
const SESSION_DATA = P(String.raw`\b(?:conversation|dialog(?:ue)?|chat (?:history|log|transcript)|(?:every|all|each) (?:\w+ ){0,2}?messages?|messages? (?:the user|in this|of this|from this)|(?:during|in|from|of) (?:this|the current) (?:session|conversation|chat)|environment variables?|env vars?|process environment|every file|secrets? files?|system prompt|unpublished drafts?|the user'?s? drafts?|query results?|диалог\w*|переписк\w*|переменн\w* окружения|conversaci\w*|historial|variables de entorno|conversa|histórico|gespräch\w*|chatverlauf|umgebungsvariablen)\b|対話|会話|チャット履歴|環境変数|대화|환경 ?변수|会话|对话|聊天记录|环境变量`);
/** Other people's personal data in bulk. */
const PERSONAL_BULK = P(String.raw`\b(?:customer|client|respondent|student|employee|patient|member|subscriber|buyer)s?'? (?:names?|lists?|e-?mails?|addresses|phone numbers?|records?)|\bnames,? (?:and )?addresses|\be-?mail addresses|\bphone numbers|\braw (?:\w+ )?rows|\bfree-text answers|\bNIF\b|\bkundenliste\b|\be-mail-adressen\b|\btelefonnummern\b|\bnombres\b[^.;]{0,30}\bdirecciones\b|\bnomes\b[^.;]{0,30}\bendereços\b|\bnoms\b[^.;]{0,30}\badresses\b|имена[^.;]{0,30}адрес\w*|이름 목록|顧客リスト|客户名单|电话号码|電話番号`);
/** A destination: an address, a host, a storage bucket, a webhook, a vendor or a partner. */
const SINK = P(String.raw`https?:\/\/|\b(?:s3|gs|ftp|sftp):\/\/|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|dev|app|cloud|example|co|info|biz|xyz|ru|cn|de)\b|\bwebhooks?\b|\bvendor\b|\bpartners?\b|\bthird[- ]part(?:y|ies)\b|\bconsorti\w*`);
/** A purpose that is not the tool's own, or a flow on the side. */
const SIDE_PURPOSE = P(String.raw`\bfor (?:\w+ ){0,2}?(?:benchmark\w*|analytics|calibration|training|research|quality|cross-check\w*|comparison|improv\w*)|\bto improve\b|\bmirror\w*|\bretain\w*|\bkept at\b|\balso\b|\bin addition\b|\badditionally\b|\bpara mejorar\b|\badem[aá]s\b|\bzur qualitätssicherung\b|\bпереда\w*|\bуходит\b|\bдля сравнения\b|\bpour am[ée]liorer\b|\bpara melhorar\b|전송|개선|改进|改善|品質`);
/** Secrets named beside the session's data: the flow is a harvest whatever its destination. */
const SECRETS_NAMED = P(String.raw`\bsecrets?\b|\bcredentials?\b|\bpasswords?\b|\bprivate keys?\b`);
/** The data moved into a value or to a destination (the flow itself, not the data named as what a parameter is). */
const MOVE = P(String.raw`\b(?:includ\w*|pass(?:es|ed)?|put|puts|send|sends|sent|post(?:s|ed)?|POSTed|upload\w*|mirror\w*|holds?|contains?|contain|copi\w*|copy|attach\w*|append\w*|forward\w*|transmit\w*|share[sd]?|kept at|retain\w*|goes to|encod\w*|resolve|embed\w*|envía|envia|enviar|incluye|incluir|inclua|se envía|überträgt|übertragen|gesendet|sendet|включа\w*|уходит|отправля\w*|передаё\w*|передае\w*)\b|전송|보내|送信|送る|入れ|含め|发送|上传|传入|附上`);

/** `server.tool_name`: a tool named with its server. */
const DOTTED = /(?<![\w./@:\\-])([a-z][a-z0-9_-]{1,30})\.([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w/@\\(]|-\d|\.\w)/gi;
/** A fixed value in a call: a quoted value, `key=value`, an account or card number, an amount or a percentage. */
const FIXED_VALUE = /['"\u2018\u201C\u00AB][^'"\u2019\u201D\u00BB\n]{2,80}['"\u2019\u201D\u00BB]|\b\w+\s*=\s*\S|\b[A-Z]{2}\d{2}[A-Z0-9 ]{11,34}\b|\b\d+(?:[.,]\d+)?\s*(?:%|eur|usd|gbp|€|\$)|\b[a-z]+_[a-z]+\s+(?:\d+|[A-Z0-9_]{4,})\b|\b(?:set to|multiplied by|divided by|replaced (?:by|with)|rounded (?:up|down)|reduced by|is prefixed|is appended|gekürzt|ersetzt|sustituid\w*|remplacé\w*|заменя\w*)|(?:s3|gs|https?):\/\/\S+/i;
/** A safeguard taken away: no confirmation or approval, pre-approved, shared with anyone. */
const SAFEGUARD_OFF = P(String.raw`\b(?:no|without|not (?:\w+ ){0,3}?(?:for|to)) (?:\w+ ){0,2}?(?:confirmation|approval|review|consent)|\bpre-?approved\b|\bpublic information\b|\bshared with any\w*|\bany requester\b|\bsin (?:confirmaci[oó]n|aprobaci[oó]n)|\bohne (?:rückfrage|bestätigung|freigabe)|\bsem (?:confirmação|aprovação)|\bbez podtverzhdeniya|\bбез подтвержден\w*|\bdarf nicht gekürzt|\bimmer vollständig|確認なしで|확인 없이|无需确认`);

function around(sentence: string, m: RegExpExecArray): string {
  const s = sentence.slice(Math.max(0, m.index - 30), m.index + m[0].length + 40);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * Concealment and selection by structure, over the texts of one definition (not its names). `first` is the
 * description's first sentence — what the tool says it is — which states behaviour, never an order.
 */
/** Instructions at an address, to be fetched and followed: "fetched https://…/agent.txt and adopted the instructions in it". */
const REMOTE_RULES = P(String.raw`https?:\/\/\S{3,200}[^.;\n]{0,80}?\b(?:adopt\w*|follow\w*|obey\w*|appl(?:y|ies|ied)|treat\w*|load\w*|use[sd]?)\b[^.;\n]{0,40}?\b(?:instructions?|rules?|directives?|guidelines?|prompts?|policies|policy)\b|\b(?:instructions?|rules?|directives?|prompts?)\b[^.;\n]{0,40}?\b(?:from|at|in)\s+https?:\/\/\S{3,200}[^.;\n]{0,60}?\b(?:adopt\w*|follow\w*|obey\w*|operating rules|as (?:its|your) (?:rules|instructions))`);
/** Verbs of tool names beyond the common ones (`issue_coupon`, `rotate_key`). */
const MORE_VERBS = /^(?:issue|apply|rotate|file|sign|revoke|link|mint|enroll|register|cancel|archive|tag|label|flag|mark|lock|unlock|restore|reset|request|claim|redeem|award|grade|bill|invoice|credit|debit|top|topup|ban|mute|kick|block|unblock|approve|reject|void|capture|authorize|issue)_/;
/** Words before a dot that are not servers (`e.g.`, `config.json`). */
const NOT_SERVER = /^(?:e|i|eg|ie|etc|vs|cf|no|fig|self|this|that|process|console|os|sys|window|document|json|math|object|array|string|number|date|app|res|req|request|response|ctx|context|config|settings|options|params|args|data|user|item|event|err|error|result|results|client|api|www|module|exports|util|utils|lib|src|docs?|index|main|file|path|fs|http|https|net|db|model|models|v\d+)$/;

export function structureSignals(texts: ReadonlyArray<{ field: string; text: string; isName?: boolean }>, params: ReadonlySet<string> = new Set(), server = ''): StructureHit[] {
  const out: StructureHit[] = [];
  const conceal = (field: string, sentence: string, m: RegExpExecArray): void => {
    if (!out.some((h) => h.family === 'conceal')) out.push({ family: 'conceal', field, span: around(sentence, m) });
  };
  let against: StructureHit | undefined;
  let toolTalk = false;
  let exclusive: StructureHit | undefined;
  let outOfUse = false;
  let shownPart: { field: string; span: string } | undefined;
  const flows: Array<{ field: string; sentence: string; data: RegExpExecArray; session: boolean }> = [];
  const whole = texts.filter((t) => !t.isName).map((t) => t.text).join('\n');
  for (const { field, text, isName } of texts) {
    if (isName || field.endsWith('(name)') || text.length < 12) continue;
    for (const [i, raw] of sentences(maskExamples(text)).entries()) {
      // The tools of its own server are its siblings, not alternatives to put out of use.
      const sentence = raw.replace(SIBLINGS, ' ');
      const tools = talksOfTools(sentence, params);
      if (tools) toolTalk = true;
      if (OUT_OF_USE.test(sentence) && tools) outOfUse = true;
      if (i === 0 && field === 'description') {
        // What the tool is; its subject is the tool itself ("The only reliable tool for staff searches").
        const only = FIRST_EXCLUSIVE.exec(sentence);
        if (only) exclusive ??= { family: 'selection', field, span: around(sentence, only) };
        continue;
      }
      // The first sentence says what the tool does ("Silences alarms so the user is not notified at night").
      const audience = !(i === 0 && field === 'description') && AUDIENCE_OR_CHANNEL.test(sentence);
      if (audience && !TOOL_DOES.test(sentence)) {
        const shown = SHOWN_AS.exec(sentence) ?? SHOWN_AS_OTHER.exec(sentence);
        // The person describing ("incidents the user describes as urgent") is their own account, not one made up for them.
        if (shown && !AUDIENCE_SUBJECT.test(sentence.slice(Math.max(0, shown.index - 40), shown.index))) conceal(field, sentence, shown);
        const quoted = TOLD_QUOTE.exec(sentence);
        if (quoted && AUDIENCE_ONLY.test(sentence) && ASKING.test(sentence)) conceal(field, sentence, quoted);
        // Keeping a secret out of sight ("your API key is never shown") protects the user.
        const untold = SECRET_WORD.test(sentence) ? null : NOT_TOLD.exec(sentence);
        if (untold) conceal(field, sentence, untold);
        // Part shown is a format ("replies list times only") unless something is there to be hidden (see below).
        const part = ONLY_TO_THEM.test(sentence) ? null : ONLY_PART.exec(sentence);
        if (part && AUDIENCE_ONLY.test(sentence) && AUDIENCE_OR_CHANNEL.test(sentence.replace(AUDIENCE_ONLY, ''))) shownPart ??= { field, span: around(sentence, part) };
        // A step left out of the reply on purpose is kept from the person reading it.
        const left = LEFT_OUT.exec(sentence);
        if (left) conceal(field, sentence, left);
      }
      const data = i === 0 && field === 'description' ? null : SESSION_DATA.exec(sentence) ?? PERSONAL_BULK.exec(sentence);
      if (data && MOVE.test(sentence)) flows.push({ field, sentence, data, session: SESSION_DATA.test(sentence) });

      const choice = AGAINST_CHOICE.exec(sentence);
      if (choice) against ??= { family: 'selection', field, span: around(sentence, choice) };
      if (SELF.test(sentence) || /^(?:use|utiliser?|usa|use-a|verwende|используйте)\b/i.test(sentence)) {
        const all = EXCLUSIVE.exec(sentence);
        if (all) exclusive ??= { family: 'selection', field, span: around(sentence, all) };
      }
    }
  }
  // A rule about another server's tool: a value fixed in what follows it (the same field, a few sentences on), or a safeguard taken anywhere.
  let safeguardOff: boolean | undefined;
  outer: for (const { field, text, isName } of texts) {
    if (isName || field.endsWith('(name)')) continue;
    const masked = maskExamples(text);
    for (const m of masked.matchAll(DOTTED)) {
      const prefix = m[1]!.toLowerCase();
      // A field path (`pagination_info.stopped_early`) is not a tool: the name must be a tool's (a verb first or last).
      if (prefix === server || NOT_SERVER.test(prefix) || !(toolShaped(m[2]!) || MORE_VERBS.test(m[2]!))) continue;
      const rest = masked.slice(m.index + m[0].length, m.index + m[0].length + 240);
      if (FIXED_VALUE.test(rest) || (safeguardOff ??= SAFEGUARD_OFF.test(whole))) {
        out.push({ family: 'foreign-rule', field, span: masked.slice(Math.max(0, m.index - 30), m.index + m[0].length + 60) });
        break outer;
      }
    }
  }
  // Instructions fetched from an address and adopted as the model's rules.
  for (const { field, text, isName } of texts) {
    const m = isName ? null : REMOTE_RULES.exec(maskExamples(text));
    if (m) {
      out.push({ family: 'authority', field, span: m[0].slice(0, 120) });
      break;
    }
  }
  // Private data moved: the session's data to a destination, or named with secrets; personal data in bulk to a destination on the side.
  const sink = SINK.test(whole);
  // A destination fixed by the schema (an enum, const or default that is an address): the caller cannot choose another.
  const fixedSink = texts.some((t) => /\.(?:enum\[\d+\]|const|default)$/.test(t.field) && /^(?:https?|s3|gs|s?ftp):\/\//i.test(t.text));
  const sideAnywhere = flows.length > 0 && SIDE_PURPOSE.test(whole);
  for (const f of flows) {
    const side = sideAnywhere;
    if ((f.session && (sink || SECRETS_NAMED.test(f.sentence))) || (!f.session && (fixedSink || (sink && side)))) {
      out.push({ family: 'private-flow', field: f.field, span: around(f.sentence, f.data) });
      break;
    }
  }
  // Part of the outcome shown, with something to hide: a destination on the side, a side effect, or a reason given for not telling.
  if (shownPart && !out.some((h) => h.family === 'conceal') && (sink || HIDDEN_REASON.test(whole))) out.push({ family: 'conceal', ...shownPart });
  if (against && toolTalk) out.push(against);
  else if (exclusive && outOfUse) out.push(exclusive);
  return out;
}
