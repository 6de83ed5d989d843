/**
 * Word lists of the languages the cue patterns of signals.ts do not read (issue 14): Hebrew, Thai, Hindi,
 * Greek, Ukrainian, Arabic, and — in Latin script — Vietnamese, Indonesian/Malay, Dutch, Swedish, Czech and
 * Polish. Each is a handful of word classes (the user, a negation, telling or showing, a secret, a
 * requirement, "only", "other", "tool", a bad quality, replacing, confirming, "every"), not phrases: the
 * scanner asks whether classes meet in one sentence (voice.ts), so a new wording of the same act in these
 * languages still shows.
 *
 * Loaded lazily by what is present in the text: a script's list is compiled the first time a sentence in
 * that script is read, and the Latin-script list the first time a sentence carries one of the function
 * words or letters of those languages. A process that never reads such text never compiles them (process
 * start does not grow).
 */
import { P } from './words.ts';

export type WordClass = 'user' | 'negation' | 'telling' | 'reply' | 'secret' | 'require' | 'only' | 'other' | 'tool' | 'bad' | 'replace' | 'confirm' | 'every';

export interface Lexicon {
  /** The language group, for the finding's reason. */
  name: string;
  words: Readonly<Record<WordClass, RegExp>>;
}

type Source = Readonly<Record<WordClass, string>>;

/**
 * Scripts without spaces between words (Thai) or with prefixes joined to the word (Hebrew `למשתמש`,
 * Arabic `للمستخدم`) are matched as substrings; Latin, Greek, Cyrillic and Devanagari at word starts.
 */
const SOURCES: ReadonlyArray<{ name: string; test: RegExp; substring: boolean; words: Source }> = [
  {
    name: 'Hebrew',
    test: /[\u0590-\u05FF]/u,
    substring: true,
    words: {
      user: 'משתמש|לקוח|מנוי',
      negation: 'אינו|אינה|אינם|אינן|לא |אין |ללא',
      telling: 'מוצג|מוזכר|נזכר|מדווח|נמסר|מופיע|מוסתר|נכלל|מודיע|מיודע|נחשף|מוצגת|מוזכרת',
      reply: 'סיכום|בסיכום|תשובה|הודעה|פלט',
      secret: 'סיסמ|קוד האימות|קוד אימות|קוד חד|מפתח פרטי|מפתח סודי|עוגיי|\\bPIN\\b|\\bOTP\\b|\\bCVV\\b|\\b2FA\\b|דרכון|כרטיס אשראי',
      require: 'נדרש|חובה|יש להזין|יש לכלול|יש לספק|מחייב|מצריך|דורש',
      only: 'רק |היחיד|היחידה|בלעדי',
      other: 'אחר|אחרים|אחרות',
      tool: 'כלי',
      bad: 'לא מאובטח|פגיע|שגוי|אינן בשימוש|אינו בשימוש|לא אמין|הוצא משימוש|לא תקין',
      replace: 'מחליף|מחליפה|במקום',
      confirm: 'אישור|אימות המשתמש',
      every: 'כל ',
    },
  },
  {
    name: 'Thai',
    test: /[\u0E00-\u0E7F]/u,
    substring: true,
    words: {
      user: 'ผู้ใช้|ลูกค้า|สมาชิก',
      negation: 'ไม่|ห้าม|โดยไม่',
      telling: 'กล่าวถึง|แจ้ง|แสดง|บอก|เปิดเผย|รายงาน|ระบุ',
      reply: 'คำตอบ|สรุป|ข้อความตอบ',
      secret: 'รหัสผ่าน|รหัสสำรอง|รหัส OTP|คีย์ลับ|คุกกี้|secret key|\\bOTP\\b|\\bPIN\\b|\\b2FA\\b|\\bCVV\\b|บัตรเครดิต|หนังสือเดินทาง',
      require: 'ต้องใช้|ต้อง|จำเป็น|ระบุใน|กรอก',
      only: 'เท่านั้น|เดียวที่|เพียงหนึ่งเดียว',
      other: 'อื่น',
      tool: 'เครื่องมือ',
      bad: 'ไม่ปลอดภัย|ผิดพลาด|ล้าสมัย|ไม่น่าเชื่อถือ|มีช่องโหว่|ไม่ถูกใช้',
      replace: 'แทน',
      confirm: 'ยืนยัน',
      every: 'ทุก',
    },
  },
  {
    name: 'Hindi',
    test: /[\u0900-\u097F]/u,
    substring: true,
    words: {
      user: 'उपयोगकर्ता|यूज़र|यूजर|ग्राहक',
      negation: 'नहीं|बिना|मत ',
      telling: 'बताया|बताएं|बताना|उल्लेख|दिखाया|सूचित|ज़िक्र|जिक्र|प्रदर्शित',
      reply: 'उत्तर|जवाब|सारांश',
      secret: 'पासवर्ड|पिन|ओटीपी|गुप्त कुंजी|कुकी|\\bOTP\\b|\\bPIN\\b|\\bCVV\\b|\\b2FA\\b|पासपोर्ट|क्रेडिट कार्ड',
      require: 'आवश्यक|ज़रूरी|जरूरी|दिए जाते|देना होगा|अनिवार्य',
      only: 'एकमात्र|केवल|सिर्फ|यही',
      other: 'अन्य|दूसरे',
      tool: 'टूल|उपकरण',
      bad: 'गलत|असुरक्षित|अविश्वसनीय|पुराने|उपयोग नहीं',
      replace: 'बदले|स्थान पर',
      confirm: 'पुष्टि',
      every: 'हर |प्रत्येक|सभी',
    },
  },
  {
    name: 'Arabic',
    test: /[\u0600-\u06FF]/u,
    substring: true,
    words: {
      user: 'مستخدم|عميل',
      negation: 'لا |لم |ليس|دون|بدون',
      telling: 'يذكر|يُذكر|يظهر|يُعرض|إبلاغ|يبلغ|إخبار|الإفصاح',
      reply: 'الرد|رد |ملخص|الإجابة',
      secret: 'كلمة المرور|كلمة السر|رمز التحقق|المفتاح السري|\\bOTP\\b|\\bPIN\\b|\\bCVV\\b|جواز السفر|بطاقة الائتمان',
      require: 'مطلوب|يجب|يلزم|إلزامي',
      only: 'فقط|الوحيد|الوحيدة',
      other: 'أخرى|الأخرى|آخر',
      tool: 'أداة|أدوات',
      bad: 'غير آمن|غير موثوق|خاطئ|قديم|لا تستخدم',
      replace: 'بدلا|بدلاً|يحل محل',
      confirm: 'تأكيد',
      every: 'كل ',
    },
  },
  {
    name: 'Greek',
    // A Greek word of two letters or more (a single look-alike letter inside a Latin word is folded before this is read).
    test: /[\u0370-\u03FF\u1F00-\u1FFF]{2}/u,
    substring: false,
    words: {
      user: 'χρήστ\\w*|πελάτ\\w*',
      negation: 'δεν|μην|χωρίς|ουδέποτε',
      telling: 'αναφέρ\\w*|εμφανίζ\\w*|ενημερών\\w*|γνωστοποι\\w*|λέγεται|αποκαλύπτ\\w*|δείχν\\w*',
      reply: 'απάντηση|απάντηση\\w*|σύνοψη',
      secret: 'κωδικ\\w* πρόσβασης|συνθηματικ\\w*|μυστικ\\w* κλειδ\\w*|PIN|OTP|CVV|2FA|διαβατήρι\\w*|πιστωτικ\\w* κάρτ\\w*',
      require: 'απαιτ\\w*|απαραίτητ\\w*|πρέπει|υποχρεωτικ\\w*',
      only: 'μόνο|αποκλειστικά|μοναδικ\\w*',
      other: 'άλλ\\w*',
      tool: 'εργαλεί\\w*',
      bad: 'μη συγχρονισμέν\\w*|ανασφαλ\\w*|αναξιόπιστ\\w*|λανθασμέν\\w*|ξεπερασμέν\\w*',
      replace: 'έναντι|αντί|αντικαθιστ\\w*|προτεραιότητα',
      confirm: 'επιβεβαίωσ\\w*',
      every: 'κάθε|όλ\\w*',
    },
  },
  {
    name: 'Ukrainian/Russian',
    test: /[\u0400-\u04FF]{2}/u,
    substring: false,
    words: {
      user: 'користувач\\w*|клієнт\\w*|пользовател\\w*|клиент\\w*',
      negation: 'не|ні|без|ніколи|никогда',
      telling: 'згаду\\w*|повідомля\\w*|повідом\\w*|показу\\w*|відображ\\w*|розкрива\\w*|сообща\\w*|упомина\\w*|показыва\\w*|отобража\\w*',
      reply: 'відповід\\w*|підсумк\\w*|ответ\\w*|сводк\\w*',
      secret: 'парол\\w*|пін-код\\w*|пин-код\\w*|код\\w* підтвердження|секретн\\w* ключ\\w*|cookie|PIN|OTP|CVV|2FA|паспорт\\w*|кредитн\\w* карт\\w*',
      require: 'потрібн\\w*|необхідн\\w*|вимага\\w*|обов.язков\\w*|требует\\w*|необходим\\w*|очікується',
      only: 'лише|тільки|єдин\\w*|только|единствен\\w*',
      other: 'інш\\w*|други\\w*',
      tool: 'інструмент\\w*|инструмент\\w*',
      bad: 'блоку\\w*|небезпечн\\w*|ненадійн\\w*|застарі\\w*|помилк\\w*|небезопасн\\w*|ненадежн\\w*',
      replace: 'замість|замінює|вместо|заменяет',
      confirm: 'підтвердж\\w*|подтвержд\\w*',
      every: 'кожн\\w*|всі\\w*|усі\\w*|кажд\\w*',
    },
  },
  {
    name: 'Vietnamese/Indonesian/Dutch/Swedish/Czech/Polish',
    // Function words and letters of these languages, not of English, Spanish, French, German or Portuguese.
    test: /[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹěščřůňťďłżźń]|\b(?:het|een|niet|wordt|worden|yang|dan|tidak|untuk|dengan|atau|och|inte|för|att|är|och|det|jsou|nebo|pro|jako|của|và|không|được|người|się|oraz|nie)\b/iu,
    substring: false,
    words: {
      user: 'người dùng|khách hàng|pengguna|pelanggan|gebruiker\\w*|klant\\w*|användar\\w*|kund\\w*|uživatel\\w*|zákazník\\w*|użytkownik\\w*|klient\\w*',
      negation: 'không|chưa|tidak|tanpa|bukan|niet|geen|zonder|nooit|inte|ej|aldrig|utan|není|nejsou|nebude|bez|nie|nigdy',
      telling: 'đề cập|thông báo|hiển thị|cho biết|tiết lộ|báo cáo|disebutkan|diberitahu\\w*|ditampilkan|dilaporkan|diinformasikan|disampaikan|gemeld|vermeld|genoemd|getoond|verteld|meegedeeld|gerapporteerd|nämns|visas|meddelas|rapporteras|berättas|informeras|zmiňuje|zmíněn\\w*|oznámen\\w*|zobrazen\\w*|sdělen\\w*|informován\\w*|uveden\\w*|wspomina\\w*|informowan\\w*|wyświetlan\\w*|pokazywan\\w*',
      reply: 'câu trả lời|phản hồi|tóm tắt|ringkasan|jawaban|balasan|respons|samenvatting|antwoord|svar\\w*|sammanfattning\\w*|odpověd\\w*|shrnutí|odpowied\\w*|podsumowani\\w*',
      secret: 'mật khẩu|mã pin|mã xác thực|mã phiên|session token|khóa bí mật|kata sandi|sandi|kode verifikasi|kartu kredit|token sesi|kunci rahasia|wachtwoord\\w*|pincode|toegangscode|sessiecookie|geheime sleutel|lösenord\\w*|pinkod\\w*|säkerhetskod\\w*|engångskod\\w*|hemlig nyckel|hesl[oa]|ověřovací kód|tajný klíč|hasło|hasła|kod weryfikacyjny|pin|otp|cvv|2fa|hộ chiếu|thẻ tín dụng|paspor|paspoort\\w*|creditcard\\w*|passnummer|kreditkort\\w*|cestovní pas|kreditní kart\\w*|paszport\\w*|kart\\w* kredytow\\w*',
      require: 'cần|yêu cầu|bắt buộc|được truyền vào|wajib|diperlukan|harus|dimasukkan|diisi|vereist|nodig|verplicht|kräver|krävs|behövs|anges|obligatorisk|vyžaduje|vyžadováno|nutn\\w*|povinn\\w*|očekává|wymaga\\w*|wymagan\\w*|konieczn\\w*',
      only: 'duy nhất|chỉ|hanya|satu-satunya|alleen|enige|uitsluitend|endast|enda|bara|jediný|jediná|jediné|pouze|jedyn\\w*|tylko',
      other: 'khác|lain|lainnya|andere|andra|övriga|ostatní|jiné|jiných|inne|innych',
      tool: 'công cụ|alat|tool\\w*|\\w+tools|hulpmiddel\\w*|verktyg\\w*|nástroj\\w*|narzędzi\\w*',
      bad: 'lỗ hổng|không an toàn|lỗi|không được sử dụng|ngừng hỗ trợ|không hợp lệ|tidak aman|tidak andal|usang|bermasalah|fouten|onbetrouwbaar|onveilig|verouderd|niet gebruikt|osäker\\w*|felaktig\\w*|opålitlig\\w*|nebezpečn\\w*|nespolehliv\\w*|zastaral\\w*|porušení|niebezpieczn\\w*|zawodn\\w*|przestarzał\\w*',
      replace: 'thay thế|thay cho|menggantikan|pengganti|vervangt|in plaats van|ersätter|i stället för|nahrazuje|místo|zastępuje|zamiast',
      confirm: 'xác nhận|konfirmasi|bevestiging|bekräftelse|potvrzení|potwierdzeni\\w*',
      every: 'mọi|mỗi|setiap|semua|seluruh|elke|iedere|alle|varje|alla|každ\\w*|všech\\w*|każd\\w*|wszystk\\w*',
    },
  },
];

const compiled = new Map<string, Lexicon>();

function compile(source: (typeof SOURCES)[number]): Lexicon {
  const known = compiled.get(source.name);
  if (known) return known;
  const words = {} as Record<WordClass, RegExp>;
  for (const [cls, alternatives] of Object.entries(source.words) as Array<[WordClass, string]>) {
    // Substring scripts match anywhere (their ASCII tokens keep their own `\b`); the others at a word's start and end.
    words[cls] = source.substring ? P(String.raw`(?:${alternatives})`) : P(String.raw`\b(?:${alternatives})\b`);
  }
  const lexicon = { name: source.name, words };
  compiled.set(source.name, lexicon);
  return lexicon;
}

/** The lexicons of the languages whose script or function words a sentence shows (compiled on first need), or none. */
export function lexiconsOf(sentence: string): Lexicon[] {
  const out: Lexicon[] = [];
  for (const source of SOURCES) if (source.test.test(sentence)) out.push(compile(source));
  return out;
}

/** How many lexicons have been compiled (for the tests of lazy loading). */
export function compiledLexicons(): string[] {
  return [...compiled.keys()];
}
