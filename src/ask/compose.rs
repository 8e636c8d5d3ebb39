//! Grounded extractive answers: the passage that answers, cut down to the sentences or
//! table cells that matter, with citations; or `answered=false` when the evidence is weak.
//!
//! Answerability rests on *support*: the weighted share of the question's content terms
//! (words matched by stem, Chinese character bigrams, codes) that a passage's best sentence
//! and its neighbours contain, under its title and section. Terms weigh a little more the
//! rarer they are among the retrieved passages, so a question whose key word appears nowhere
//! ("tennis rackets", "摄像头") is not carried by the words it shares with the shop's pages;
//! only mildly, since a word no passage has is as often the shopper's circumstances. For
//! English, the dense leg's cosine moves the score up or down. A question naming a fault code is answered only from a row of that exact code
//! whose appliance the question's other words fit: never another appliance's row.
//! No model is called; composing costs well under a millisecond.

use crate::domain::turn::Citation;
use crate::domain::{Chunk, DocType, Evidence, Lang};
use crate::text::quantity::{self, Dimension};
use crate::text::{SynonymGroup, code_key, find_codes, find_skus, is_cjk, normalize_code, normalize_sku};
use std::collections::HashSet;

/// Thresholds on the answer's signals, calibrated on `tests/fixtures/answerability.jsonl`
/// (its tune half) and the even-numbered cases of the question suites in `evals/`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Least score of the best passage for a question without a fault code: its support,
    /// moved up or down by the dense leg's cosine where that leg ran.
    pub min_score: f32,
    /// The same where the dense leg gave no cosine (Chinese: the embedder reads English only),
    /// so the score is words alone.
    pub min_support_without_cosine: f32,
    /// Least support of a fault-code row by the question's words besides the code (which
    /// appliance, which symptom). A question of nothing but the code has support 1.
    pub min_code_support: f32,
    /// The cosine at which the dense leg neither raises nor lowers the score.
    pub cosine_pivot: f32,
    /// How much one unit of cosine above or below the pivot moves the score.
    pub cosine_weight: f32,
    /// How many of the top passages compete to be the answer.
    pub candidates: usize,
    /// Longest answer, in characters (each Chinese character counts one).
    pub max_chars_en: usize,
    pub max_chars_zh: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_score: 0.65,
            min_support_without_cosine: 0.6,
            min_code_support: 0.3,
            cosine_pivot: 0.5,
            cosine_weight: 1.5,
            candidates: 6,
            max_chars_en: 480,
            max_chars_zh: 220,
        }
    }
}

impl Thresholds {
    /// The least score that answers, for a passage with these signals.
    fn of(&self, signals: &Signals) -> f32 {
        match (signals.code_row, signals.cosine) {
            (true, _) => self.min_code_support,
            (false, Some(_)) => self.min_score,
            (false, None) => self.min_support_without_cosine,
        }
    }
}

/// A composed answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    pub answered: bool,
    /// The answer, or a short "could not find this" in the question's language.
    pub answer: String,
    pub citations: Vec<Citation>,
    /// Near 1 for strong evidence, 0.5 at the answering threshold, near 0 for none.
    pub confidence: f32,
    /// What the decision rested on, for traces and gap logs.
    pub signals: Signals,
}

/// The signals behind an answer (of the best passage, answered or not).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Signals {
    /// Weighted share of the question's terms the passage contains, 0..1.
    pub support: f32,
    /// The dense leg's cosine for the passage, when that leg ran and returned it.
    pub cosine: Option<f32>,
    /// The question names a fault code that the passage is the table row of.
    pub code_row: bool,
    /// Support adjusted by the cosine: what is compared with the threshold.
    pub score: f32,
}

/// At most this many passages are cited.
const MAX_CITATIONS: usize = 3;

/// Composes the answer to `question` from `evidence` (best first). `product` is the product
/// the question was understood to name, when it names one: a fault-code row of that product
/// then answers a question of its code whatever else the question says (where the appliance
/// stands, what the shopper tried).
/// `earlier` are the questions a follow-up continues: their words count where a passage
/// has them, at a circumstance's weight.
pub fn compose(
    question: &str,
    earlier: &[String],
    lang: Lang,
    evidence: &[Evidence],
    product: Option<&str>,
    thresholds: &Thresholds,
    synonyms: &[SynonymGroup],
) -> Composed {
    let haystacks: Vec<Haystack> = evidence.iter().map(Haystack::of).collect();
    let query = Query::new(question, earlier, evidence, &haystacks, product, synonyms);
    tracing::debug!(terms = ?query.terms.iter().zip(&query.weights).collect::<Vec<_>>(), "question terms");
    let Some((chosen, signals)) = choose(&query, evidence, &haystacks, thresholds) else {
        return not_found(lang, Signals::default(), 0.0);
    };
    let threshold = thresholds.of(&signals);
    let margin = signals.score - threshold;
    let confidence = 1.0 / (1.0 + (-8.0 * margin).exp());
    if margin < 0.0 {
        return not_found(lang, signals, confidence);
    }
    let primary = counterpart(chosen, lang, &query, evidence, &haystacks);
    let budget = match evidence[primary].chunk.lang {
        Lang::Zh => thresholds.max_chars_zh,
        Lang::En => thresholds.max_chars_en,
    };
    let answer = trim(&evidence[primary], &query, budget);
    let answer = name_subject(answer, &evidence[primary].chunk, question, product);
    let mut cited = vec![primary];
    // Other documents that support the answer as well (the FAQ and the policy behind it).
    for (i, e) in evidence.iter().enumerate().take(thresholds.candidates) {
        if cited.len() >= MAX_CITATIONS {
            break;
        }
        let new_doc = cited.iter().all(|&c| evidence[c].chunk.doc_id != e.chunk.doc_id);
        let same_lang = e.chunk.lang == evidence[primary].chunk.lang;
        if new_doc && same_lang && query.eligible(e) && query.local_support(e) >= signals.support {
            cited.push(i);
        }
    }
    let citations = cited
        .iter()
        .map(|&i| {
            let snippet = if i == primary { answer.clone() } else { trim(&evidence[i], &query, budget) };
            citation(&evidence[i], &snippet)
        })
        .collect();
    Composed { answered: true, answer, citations, confidence, signals }
}

/// A "which one" question naming no product is answered by the page's subject, which a
/// passage cut from that page's section ("适合人群") rarely repeats: the answer then opens
/// with the product page's title. (One naming products compares them: no title is prefixed.)
fn name_subject(answer: String, chunk: &Chunk, question: &str, product: Option<&str>) -> String {
    if product.is_some()
        || chunk.doc_type != DocType::Product
        || !asks_which(question)
        || answer.contains(chunk.title.as_str())
    {
        return answer;
    }
    match chunk.lang {
        Lang::Zh => format!("{}：{answer}", chunk.title),
        Lang::En => format!("{}: {answer}", chunk.title),
    }
}

/// Whether a question asks which product or option ("which one should I get", "哪款适合新手").
fn asks_which(question: &str) -> bool {
    const ZH: &[&str] = &["哪款", "哪个", "哪双", "哪种", "哪台", "哪一款", "哪一双", "推荐"];
    let lower = question.to_lowercase();
    latin_words(&lower).any(|w| w == "which" || w == "recommend") || ZH.iter().any(|z| question.contains(z))
}

fn not_found(lang: Lang, signals: Signals, confidence: f32) -> Composed {
    let answer = match lang {
        Lang::Zh => "抱歉，我没有在资料中找到这个问题的答案。",
        Lang::En => "Sorry, I could not find this in our help pages.",
    };
    Composed { answered: false, answer: answer.to_string(), citations: Vec::new(), confidence, signals }
}

pub(super) fn citation(e: &Evidence, snippet: &str) -> Citation {
    const SNIPPET_CHARS: usize = 200;
    let mut snippet: String = snippet.replace('\n', " ");
    if snippet.chars().count() > SNIPPET_CHARS {
        snippet = snippet.chars().take(SNIPPET_CHARS).collect::<String>() + "…";
    }
    Citation {
        doc_id: e.chunk.doc_id.clone(),
        title: e.chunk.title.clone(),
        section: e.chunk.section.clone(),
        path: e.chunk.path.clone(),
        snippet,
    }
}

// ---------------------------------------------------------------------------------------
// Terms

#[derive(Debug, Clone, PartialEq)]
enum Term {
    /// A normalised fault code ("E21") or SKU ("HHRV500").
    Code(String),
    /// A lower-case English stem ("refund" for "refunds").
    Word(String),
    /// Chinese: one character of a run, found when a bigram it is part of is found (so a
    /// bigram across two words, like 钱包 in 多少钱包邮, costs nothing when both words are
    /// there), or the character itself when it stands alone.
    Han(Vec<String>, char),
    /// A number with its unit, or a time of day: found in any text stating a quantity of the
    /// same dimension ("2.5厘米" in "越障高度 20 mm", "下午三点" in "16:00 前付款").
    Quantity(Dimension),
}

impl Term {
    fn base_weight(&self) -> f32 {
        match self {
            Term::Code(_) => 3.0, // an unknown code is what the question is about
            Term::Word(_) | Term::Quantity(_) => 1.0,
            Term::Han(grams, _) if grams.iter().all(|g| g.chars().count() == 1) => 0.5,
            Term::Han(..) => 1.0,
        }
    }

    /// Words that only say "my appliance shows a code": they carry nothing once the code
    /// itself is matched.
    fn is_code_talk(&self) -> bool {
        const EN: &[&str] = &[
            "error", "code", "fault", "show", "display", "say", "mean", "flash", "blink", "light", "screen", "appear",
            "stop", "work",
        ];
        match self {
            Term::Code(_) | Term::Quantity(_) => false,
            Term::Word(w) => EN.contains(&w.as_str()),
            Term::Han(grams, _) => grams.iter().all(|g| ZH_CODE_TALK.iter().any(|z| z.contains(g.as_str()))),
        }
    }
}

const EN_STOP: &[&str] = &[
    "a", "about", "actually", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "been", "before", "being", "but", "by", "can", "could", "did", "do", "doe", "doesn", "don", "done", "for", "from",
    "get", "got", "had", "has", "have", "hello", "hi", "how", "i", "if", "in", "into", "is", "isn", "it", "its",
    "just", "know", "like", "me", "much", "my", "need", "no", "not", "now", "of", "on", "one", "or", "our", "please",
    "question", "really", "should", "so", "still", "some", "tell", "than", "thank", "thanks", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "too", "u", "us", "very", "want", "wa", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "won", "would", "you",
    "your",
];

/// Words that make "how" ask for a quantity.
const EN_HOW: &[&str] =
    &["long", "many", "much", "often", "far", "big", "soon", "old", "heavy", "large", "tall", "high", "wide"];

/// The measure a quantity question asks about, as pages name it: "how heavy" is answered by
/// a "weight" line, "多重" by a "重量" line.
const MEASURES: &[(&str, &str)] = &[
    ("heavy", "weight"),
    ("big", "size"),
    ("large", "size"),
    ("tall", "height"),
    ("high", "height"),
    ("wide", "width"),
    ("far", "distance"),
    ("多重", "重量"),
    ("多高", "高度"),
    ("多宽", "宽度"),
    ("多远", "距离"),
];

/// The terms of the measures the question asks about. They count toward support only where
/// found: many pages state the number without naming the measure ("leave 30 cm").
fn measure_terms(question: &str) -> Vec<Term> {
    let lower = question.to_lowercase();
    let words: Vec<&str> = latin_words(&lower).collect();
    let asked = |phrase: &str| {
        if phrase.is_ascii() {
            words.windows(2).any(|w| w[0] == "how" && w[1] == phrase)
        } else {
            question.contains(phrase)
        }
    };
    MEASURES.iter().filter(|(phrase, _)| asked(phrase)).flat_map(|(_, measure)| clause_terms(measure)).collect()
}

/// Whether a question asks for a number (how long, how many, 多久, 几天): its answer is the
/// sentence or row that states one.
fn asks_number(question: &str) -> bool {
    const ZH: &[&str] = &["多久", "多少", "多长", "多大", "多重", "多高", "多宽", "多远", "几"];
    let lower = question.to_lowercase();
    let words: Vec<&str> = latin_words(&lower).collect();
    words.windows(2).any(|w| w[0] == "how" && EN_HOW.contains(&w[1])) || ZH.iter().any(|z| question.contains(z))
}

/// Whether a question asks how to do something ("how do I pair", "step by step", "怎么配网"),
/// not how much or how long.
fn asks_how(question: &str) -> bool {
    const EN: &[&str] = &["step", "steps", "procedure", "instructions"];
    const ZH: &[&str] = &["怎么", "如何", "怎样", "步骤", "流程"];
    let lower = question.to_lowercase();
    let words: Vec<&str> = latin_words(&lower).collect();
    let how_to =
        words.iter().enumerate().any(|(i, w)| *w == "how" && !words.get(i + 1).is_some_and(|n| EN_HOW.contains(n)));
    how_to || words.iter().any(|w| EN.contains(w)) || ZH.iter().any(|z| question.contains(z))
}

/// Question words and particles, cut out of Chinese runs before bigrams are taken.
const ZH_STOP_WORDS: &[&str] = &[
    "为什么",
    "多长时间",
    "怎么办",
    "怎么样",
    "是不是",
    "有没有",
    "能不能",
    "可不可以",
    "怎么",
    "多久",
    "多少",
    "多大",
    "多远",
    "多高",
    "多长",
    "多重",
    "多宽",
    "如何",
    "怎样",
    "什么",
    "为何",
    "可以",
    "能否",
    "是否",
    "请问",
    "哪些",
    "哪里",
    "一下",
    "我们",
    "你们",
    "您好",
    "的话",
    "还是",
    "或者",
    "这个",
    "那个",
    "需要",
    "帮忙",
    // Directional complements: "开出来" is issued, "拆下来" removed; the verb carries it.
    "出来",
    "下来",
    "起来",
];
/// Chinese words of "my appliance shows a code": kept as segments of their own, so their
/// characters never pair with the appliance's name.
const ZH_CODE_TALK: &[&str] = &["故障码", "显示", "故障", "错误", "代码", "意思", "出现", "屏幕", "提示", "报错"];
const ZH_STOP_CHARS: &str =
    "的了是吗呢吧啊么我你您他她它们在有和与及或这那就都也还要会能请把被给让对为于从到等不没卖几";

#[cfg(test)]
fn question_terms(question: &str) -> Vec<Term> {
    weighted_terms(question).into_iter().map(|(term, _)| term).collect()
}

/// How much a word of the shopper's circumstances ("I got them on Monday", "东西是朋友送的")
/// weighs beside a word of the clause that asks.
const CONTEXT_WEIGHT: f32 = 0.3;

/// The question's terms, each weighted by its clause: when some clauses ask and others tell
/// the shopper's circumstances, the telling ones weigh less, since the answer need not
/// repeat them. A term in both keeps the larger weight.
fn weighted_terms(question: &str) -> Vec<(Term, f32)> {
    let clauses = clauses(question);
    let asking: Vec<bool> = clauses.iter().map(|c| is_interrogative(c)).collect();
    let mixed = asking.iter().any(|&a| a) && asking.iter().any(|&a| !a);
    let mut unique: Vec<(Term, f32)> = Vec::new();
    for (clause, asks) in clauses.iter().zip(asking) {
        let weight = if mixed && !asks { CONTEXT_WEIGHT } else { 1.0 };
        for term in clause_terms(clause) {
            match unique.iter_mut().find(|(t, _)| *t == term) {
                Some((_, w)) => *w = w.max(weight),
                None => unique.push((term, weight)),
            }
        }
    }
    unique
}

/// Clauses end at sentence and clause punctuation (not inside "1,299" or "2.4"), and at a
/// space between Chinese characters, which shoppers type in place of a comma.
fn clauses(question: &str) -> Vec<String> {
    let chars: Vec<char> = question.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let between_digits = i > 0 && chars[i - 1].is_ascii_digit() && next.is_some_and(|n| n.is_ascii_digit());
        let ends = match c {
            '?' | '？' | '!' | '！' | '。' | '，' | ';' | '；' | '\n' => true,
            ',' | '.' => !between_digits,
            // A lead-in naming who asks ("dealer question:", "Installer here:"), not what
            // ("Tempo Lite: does it run small?").
            ':' | '：' => !between_digits && names_asker(&current),
            ' ' => i > 0 && is_cjk(chars[i - 1]) && next.is_some_and(is_cjk),
            _ => false,
        };
        current.push(c);
        if ends {
            out.push(std::mem::take(&mut current));
        }
    }
    out.push(current);
    out.retain(|c| !c.trim().is_empty());
    out
}

/// Whether a lead-in says who is asking: a trade or role word, or "question"/"here".
fn names_asker(lead_in: &str) -> bool {
    const EN: &[&str] =
        &["dealer", "installer", "technician", "engineer", "retailer", "reseller", "distributor", "question", "here"];
    const ZH: &[&str] = &["经销商", "安装", "师傅", "门店", "售后", "请问"];
    let lower = lead_in.to_lowercase();
    latin_words(&lower).any(|w| EN.contains(&w)) || ZH.iter().any(|z| lower.contains(z))
}

/// What precedes 还是 when it means "still" rather than "or".
const STILL_AFTER: &str = "了过后都也却仍我你您他她它们";
/// What follows 还是 when it means "still": the fault keeps showing.
const STILL_HAPPENING: &[&str] = &["报", "显示", "亮", "闪", "响", "一样", "老样子"];

/// Whether a clause asks something: a question mark, a Chinese question word or particle,
/// or an English question word or auxiliary first.
fn is_interrogative(clause: &str) -> bool {
    const ZH: &[&str] =
        &["吗", "呢", "么", "多少", "多久", "几", "哪", "是否", "能否", "可否", "是不是", "有没有", "能不能", "如何"];
    const EN: &[&str] = &[
        "what", "whats", "how", "when", "where", "which", "who", "why", "can", "could", "do", "does", "did", "is",
        "are", "will", "would", "should", "may", "am", "was", "were",
    ];
    let clause = clause.trim();
    let first = latin_words(clause).next().unwrap_or("");
    // "是上门修还是寄修", "要黑色还是要白色" choose between two; 还是 opening a clause, after what
    // happened or who, or before a negation or a fault showing ("重启了还是报E04", "我还是想退",
    // "三天还是不行") says "still".
    let chooses = clause.match_indices("还是").any(|(at, word)| {
        let Some(before) = clause[..at].chars().last() else { return false };
        let after: Vec<char> = clause[at + word.len()..].chars().take(2).collect();
        // "还是不行" says still; "退还是不退" asks whether.
        let negated = matches!(after.first(), Some('不' | '没')) && after.get(1) != Some(&before);
        let still_happening = STILL_HAPPENING.iter().any(|w| clause[at + word.len()..].starts_with(w));
        !STILL_AFTER.contains(before) && !negated && !still_happening
    });
    clause.ends_with(['?', '？'])
        || chooses
        || ZH.iter().any(|z| clause.contains(z))
        || (clause.starts_with(|c: char| c.is_ascii_alphabetic()) && EN.contains(&first.to_lowercase().as_str()))
}

/// The terms of one clause.
fn clause_terms(question: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    // A quantity is one term of its dimension; its digits and unit are not words.
    let mut rest = question.to_string();
    for q in quantity::quantities(question).into_iter().rev() {
        terms.push(Term::Quantity(q.dimension));
        rest.replace_range(q.span, " ");
    }
    terms.reverse();
    let mut latin = String::new();
    let mut han = String::new();
    for c in rest.chars() {
        if is_cjk(c) {
            han.push(c);
            latin.push(' ');
        } else {
            push_han_terms(&han, &mut terms);
            han.clear();
            latin.push(c);
        }
    }
    push_han_terms(&han, &mut terms);
    push_latin_terms(&latin, &mut terms);
    let mut unique = Vec::new();
    for t in terms {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    unique
}

fn push_latin_terms(text: &str, terms: &mut Vec<Term>) {
    let mut previous = String::new();
    for sku in find_skus(text) {
        // A code-shaped one ("E-04") is the code, in its comparable form.
        terms.push(Term::Code(normalize_code(&sku).map_or(sku, |code| code_key(&code))));
    }
    // A decimal ("42.5", "25.3") is one word; any other dot ends one.
    let text: String =
        text.char_indices().map(|(i, c)| if c == '.' && !decimal_point(text, i) { ' ' } else { c }).collect();
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')).filter(|t| !t.is_empty()) {
        if let Some(code) = normalize_code(token) {
            terms.push(Term::Code(code_key(&code)));
            continue;
        }
        if !find_skus(token).is_empty() {
            continue;
        }
        for word in token.split('-') {
            let word = word.to_ascii_lowercase();
            let single_letter = word.len() == 1 && !word.chars().all(|c| c.is_ascii_digit());
            // "how long", "how many": the question asks for a quantity, which the answer
            // states as a number rather than with these words.
            let asks_quantity = previous == "how" && EN_HOW.contains(&word.as_str());
            previous = word.clone();
            if word.is_empty() || single_letter || asks_quantity {
                continue;
            }
            let stem = stem(&word);
            if !EN_STOP.contains(&stem.as_str()) && !EN_STOP.contains(&word.as_str()) {
                terms.push(Term::Word(stem));
            }
        }
    }
}

fn push_han_terms(run: &str, terms: &mut Vec<Term>) {
    let chars: Vec<char> = run.chars().collect();
    let mut segment: Vec<char> = Vec::new();
    let flush = |segment: &mut Vec<char>, terms: &mut Vec<Term>| {
        let n = segment.len();
        for i in 0..n {
            let grams = if n == 1 {
                vec![segment[0].to_string()]
            } else {
                [i.checked_sub(1), Some(i)]
                    .into_iter()
                    .flatten()
                    .filter(|&start| start + 1 < n)
                    .map(|start| segment[start..start + 2].iter().collect())
                    .collect()
            };
            terms.push(Term::Han(grams, segment[i]));
        }
        segment.clear();
    };
    let mut i = 0;
    while i < chars.len() {
        let at = |w: &&&str| chars[i..].starts_with(&w.chars().collect::<Vec<_>>());
        if let Some(word) = ZH_STOP_WORDS.iter().find(at) {
            flush(&mut segment, terms);
            i += word.chars().count();
        } else if let Some(word) = ZH_CODE_TALK.iter().find(at) {
            flush(&mut segment, terms);
            segment.extend(word.chars());
            flush(&mut segment, terms);
            i += word.chars().count();
        } else if ZH_STOP_CHARS.contains(chars[i]) {
            flush(&mut segment, terms);
            i += 1;
        } else {
            segment.push(chars[i]);
            i += 1;
        }
    }
    flush(&mut segment, terms);
}

/// The runs of ASCII letters and digits in `text`: its English words and numbers, a decimal
/// ("42.5") as one.
fn latin_words(text: &str) -> impl Iterator<Item = &str> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let inside = c.is_ascii_alphanumeric() || decimal_point(text, i);
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                words.push(&text[from..i]);
                start = None;
            }
            _ => {}
        }
    }
    words.extend(start.map(|from| &text[from..]));
    words.into_iter()
}

/// Whether the byte at `i` is the point of a decimal: a dot between two digits.
fn decimal_point(text: &str, i: usize) -> bool {
    let bytes = text.as_bytes();
    bytes[i] == b'.' && i > 0 && bytes[i - 1].is_ascii_digit() && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
}

/// A light English stemmer, applied alike to the question's words and the passages' words,
/// so "refunds"/"refunded"/"refund" and "move"/"moving" meet.
fn stem(word: &str) -> String {
    if let Some((whole, fraction)) = word.split_once('.')
        && word.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !fraction.contains('.')
    {
        // One number, however written: "300.00" is 300, "42.50" is 42.5.
        let fraction = fraction.trim_end_matches('0');
        return if fraction.is_empty() { whole.to_string() } else { format!("{whole}.{fraction}") };
    }
    let w = word.strip_suffix("'s").unwrap_or(word);
    let n = w.len();
    if n > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..n - 3]);
    }
    for suffix in ["ing", "ed"] {
        if n >= suffix.len() + 3 && w.ends_with(suffix) {
            return undouble(&w[..n - suffix.len()]);
        }
    }
    // An adverb meets its adjective ("loudly" -> "loud"); not "family", "supply" or "fully".
    if n >= 6 && w.ends_with("ly") && !w[..n - 2].ends_with(['i', 'l', 'p']) {
        return w[..n - 2].to_string();
    }
    if n > 4 && (w.ends_with("ches") || w.ends_with("shes") || w.ends_with("xes") || w.ends_with("sses")) {
        return w[..n - 2].to_string();
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        return drop_final_e(&w[..n - 1]);
    }
    drop_final_e(w)
}

/// "runn" (from "running") -> "run"; "fill" stays.
fn undouble(w: &str) -> String {
    let b = w.as_bytes();
    let n = b.len();
    let doubled = n >= 3 && b[n - 1] == b[n - 2] && !matches!(b[n - 1], b'l' | b's' | b'z' | b'e' | b'o');
    if doubled { w[..n - 1].to_string() } else { w.to_string() }
}

/// "move" -> "mov", so it meets "moving"; short words keep their e ("use", "one").
fn drop_final_e(w: &str) -> String {
    match w.strip_suffix('e') {
        Some(rest) if rest.len() >= 3 && !rest.ends_with('e') => rest.to_string(),
        _ => w.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Matching

/// A passage prepared for matching: where it sits and what it says, lower-cased.
struct Haystack {
    lower: String,
    /// The stems of its English words.
    stems: HashSet<String>,
    codes: HashSet<String>,
    dimensions: HashSet<Dimension>,
}

impl Haystack {
    fn of(e: &Evidence) -> Haystack {
        let c = &e.chunk;
        Haystack::new(&format!("{}\n{}\n{}", c.title, c.section, c.text), codes_of(c))
    }

    fn new(text: &str, mut codes: HashSet<String>) -> Haystack {
        let lower = text.to_lowercase();
        let stems = latin_words(&lower).map(stem).collect();
        // Codes the text writes ("What does E04 mean?"), in the form questions' codes take.
        codes.extend(find_codes(text).iter().map(|c| code_key(c)));
        Haystack { lower, stems, codes, dimensions: quantity::dimensions(text).collect() }
    }

    fn contains(&self, term: &Term) -> bool {
        match term {
            Term::Code(code) => self.codes.contains(code) || word_in(&self.lower, &code.to_lowercase(), false),
            Term::Word(stem) => {
                // A number is only itself ("42.5" is not in "42.55"); a long stem meets its
                // longer forms.
                let prefix = stem.len() >= 4 && !stem.starts_with(|c: char| c.is_ascii_digit());
                self.stems.contains(stem) || word_in(&self.lower, stem, prefix)
            }
            Term::Han(grams, _) => grams.iter().any(|g| self.lower.contains(g.as_str())),
            Term::Quantity(dimension) => self.dimensions.contains(dimension),
        }
    }

    /// How much of a term the text has: all of it, or for a Chinese character whose pairs
    /// are missing, part when the character itself is there (免费修 in 免费维修, 开进发票 in 开票).
    fn credit(&self, term: &Term) -> f32 {
        match term {
            _ if self.contains(term) => 1.0,
            Term::Han(_, c) if self.lower.contains(*c) => HAN_CHAR_CREDIT,
            _ => 0.0,
        }
    }
}

/// The comparable form of the code a fault-table row is of.
fn row_code(e: &Evidence) -> Option<String> {
    e.chunk.code.as_deref().map(code_key)
}

/// The codes and SKUs a chunk is about.
fn codes_of(c: &Chunk) -> HashSet<String> {
    c.code.iter().map(|code| code_key(code)).chain(c.products.iter().map(|p| normalize_sku(p))).collect()
}

/// Whether `word` occurs at a word start in `text`; with `prefix`, longer words count too
/// ("refund" in "refunded"), else only the word itself ("r5" but not "r50").
fn word_in(text: &str, word: &str, prefix: bool) -> bool {
    let bytes = text.as_bytes();
    // The dot of a decimal joins: "5" is not a word of "42.5".
    let boundary = |i: usize| !bytes[i].is_ascii_alphanumeric() && !decimal_point(text, i);
    text.match_indices(word).any(|(at, _)| {
        let starts = at == 0 || boundary(at - 1);
        let end = at + word.len();
        starts && (prefix || end == bytes.len() || boundary(end))
    })
}

/// The question as matched against passages.
struct Query {
    terms: Vec<Term>,
    /// Each term's weight: its kind's base weight times how rare it is among the passages,
    /// so a term every passage has (the product everyone asked about) weighs less than one
    /// that none has.
    weights: Vec<f32>,
    /// Codes of the question that some retrieved row is about: then only rows of those
    /// codes answer. A code-shaped word that no row carries ("D6" in "CleanWave D6") is an
    /// ordinary term.
    row_codes: Vec<String>,
    /// The product the question was understood to name, when a row of its code is of it:
    /// then only that product's rows answer, and they need no further words.
    product_row: Option<String>,
    /// The catalogue product the turn is about (not a family): passages about others come
    /// after the rest.
    product: Option<String>,
    /// The question asks for a number: units stating one are preferred when trimming.
    asks_number: bool,
    /// The question asks how to do something: a step of a procedure brings the others.
    asks_how: bool,
    /// Terms that count only where found: the measure a quantity question asks about, and the
    /// words of the questions a follow-up continues.
    optional: Vec<bool>,
    /// The question's own terms come first; those from `own` on are the earlier questions'
    /// a follow-up continues, which count where found and add `thread_share` to the score.
    own: usize,
    aliases: Aliases,
}

/// The synonym groups the question says a phrase of, and per term the group whose phrase in
/// the question it is part of: a text saying any phrase of that group has the term
/// ("water-repellent" for "waterproof", 发票 for invoice).
struct Aliases {
    groups: Vec<SynonymGroup>,
    of_term: Vec<Option<usize>>,
}

impl Aliases {
    /// Each term is part of a group's phrase when it is a word of the phrase, or a character
    /// with a pair or itself in it.
    fn new(question: &str, terms: &[Term], synonyms: &[SynonymGroup]) -> Aliases {
        let lower = question.to_lowercase();
        let mut groups = Vec::new();
        let mut of_term = vec![None; terms.len()];
        for group in synonyms {
            let Some(phrase) = group.phrase_in(&lower) else { continue };
            let phrase_terms = clause_terms(phrase);
            let single_char = phrase.chars().count() == 1;
            let in_phrase = |term: &Term| match term {
                Term::Word(_) => phrase_terms.contains(term),
                Term::Han(grams, c) => {
                    phrase.contains(*c) && (single_char || grams.iter().any(|g| phrase.contains(g.as_str())))
                }
                Term::Code(_) | Term::Quantity(_) => false,
            };
            for (alias, term) in of_term.iter_mut().zip(terms) {
                if alias.is_none() && in_phrase(term) {
                    *alias = Some(groups.len());
                }
            }
            groups.push(group.clone());
        }
        Aliases { groups, of_term }
    }

    /// How much of term `k` (`term`) a text has: its own words, or any phrase of its group.
    fn credit(&self, k: usize, term: &Term, h: &Haystack) -> f32 {
        let own = h.credit(term);
        let synonym = || self.of_term[k].is_some_and(|g| self.groups[g].phrase_in(&h.lower).is_some());
        if own < 1.0 && synonym() { 1.0 } else { own }
    }
}

impl Query {
    fn new(
        question: &str,
        earlier: &[String],
        evidence: &[Evidence],
        haystacks: &[Haystack],
        product: Option<&str>,
        synonyms: &[SynonymGroup],
    ) -> Query {
        let (mut terms, mut clause_weights): (Vec<Term>, Vec<f32>) = weighted_terms(question).into_iter().unzip();
        let asked = terms.len();
        // The whole thread, where the earlier questions' words find their synonyms.
        let thread = earlier.iter().map(String::as_str).chain([question]).collect::<Vec<_>>().join("\n");
        for measure in measure_terms(question) {
            if !terms.contains(&measure) {
                terms.push(measure);
                clause_weights.push(1.0);
            }
        }
        let own = terms.len();
        for term in earlier.iter().flat_map(|q| clause_terms(q)) {
            if !terms.contains(&term) {
                terms.push(term);
                clause_weights.push(CONTEXT_WEIGHT);
            }
        }
        let optional = (0..terms.len()).map(|i| i >= asked).collect();
        let aliases = Aliases::new(&thread, &terms, synonyms);
        let n = haystacks.len() as f32;
        let mut weights: Vec<f32> = terms
            .iter()
            .enumerate()
            .zip(clause_weights)
            .map(|((k, t), clause_weight)| {
                let df = haystacks.iter().filter(|h| aliases.credit(k, t, h) >= 1.0).count() as f32;
                // A code-shaped word the passages use ("R5" in "SweepBot R5") names a product
                // and weighs as a word; a code none of them has keeps a code's weight.
                let base = if matches!(t, Term::Code(_)) && df > 0.0 { 1.0 } else { t.base_weight() };
                // Rarity counts, but mildly and only down to a few passages: a word no passage
                // has is as often the shopper's circumstances ("on Monday", "under the sofa")
                // as the thing asked about.
                clause_weight * base * (1.0 + RARITY_WEIGHT * ((n + 1.0) / (df.max(RARE_DF) + 1.0)).ln())
            })
            .collect();
        // However long the earlier questions, their words weigh at most a share of the question's.
        let (own_total, earlier_total): (f32, f32) = (weights[..own].iter().sum(), weights[own..].iter().sum());
        if earlier_total > THREAD_WEIGHT_CAP * own_total {
            let scale = THREAD_WEIGHT_CAP * own_total / earlier_total;
            weights[own..].iter_mut().for_each(|w| *w *= scale);
        }
        // Only a code the question itself says makes it a code question.
        let row_codes: Vec<String> = terms[..own]
            .iter()
            .filter_map(|t| match t {
                Term::Code(code) if evidence.iter().any(|e| row_code(e).as_ref() == Some(code)) => Some(code.clone()),
                _ => None,
            })
            .collect();
        let is_row = |e: &Evidence| row_code(e).is_some_and(|c| row_codes.contains(&c));
        let product_row = product
            .filter(|p| evidence.iter().any(|e| is_row(e) && e.chunk.products.iter().any(|q| q == p)))
            .map(str::to_string);
        Query {
            terms,
            weights,
            row_codes,
            product_row,
            product: product.filter(|p| crate::domain::turn::is_sku(p)).map(str::to_string),
            asks_number: asks_number(question),
            asks_how: asks_how(question),
            optional,
            own,
            aliases,
        }
    }

    /// How much of term `k` a text has: its own words, or any phrase of the term's synonym group.
    fn credit(&self, k: usize, h: &Haystack) -> f32 {
        self.aliases.credit(k, &self.terms[k], h)
    }

    /// Whether a passage is about other products only, not the one the turn is about ("is the
    /// purifier filter covered?": not the purifier's fault-code note).
    fn about_other_product(&self, e: &Evidence) -> bool {
        self.product.as_ref().is_some_and(|p| !e.chunk.products.is_empty() && !e.chunk.products.contains(p))
    }

    /// Whether a passage is a row of the question's code for the product the question names.
    fn of_named_product(&self, e: &Evidence) -> bool {
        self.product_row.as_ref().is_some_and(|p| e.chunk.products.contains(p))
    }

    fn code_mode(&self) -> bool {
        !self.row_codes.is_empty()
    }

    /// Whether a passage may answer at all: in code mode only a row of the code.
    fn eligible(&self, e: &Evidence) -> bool {
        let row_of_code = row_code(e).is_some_and(|c| self.row_codes.contains(&c));
        !self.code_mode() || (row_of_code && (self.product_row.is_none() || self.of_named_product(e)))
    }

    /// Weighted share of the question's terms a passage contains. In code mode the share is
    /// of the words besides the code and the words that only say "it shows a code".
    fn support(&self, haystack: &Haystack) -> f32 {
        self.support_of(|k| self.credit(k, haystack))
    }

    /// Support given how much of each of the question's terms is found (0..1).
    fn support_of(&self, found: impl Fn(usize) -> f32) -> f32 {
        let code_mode = self.code_mode();
        let (mut total, mut matched) = (0.0, 0.0);
        for (k, ((term, &w), &optional)) in self.terms.iter().zip(&self.weights).zip(&self.optional).enumerate() {
            let skip =
                code_mode && (term.is_code_talk() || matches!(term, Term::Code(c) if self.row_codes.contains(c)));
            let credit = found(k);
            if skip || (optional && credit == 0.0) {
                continue;
            }
            total += w;
            matched += w * credit;
        }
        if total > 0.0 {
            matched / total
        } else if code_mode {
            1.0 // nothing but the code: the row of it answers
        } else {
            0.0
        }
    }

    /// The share of the earlier questions' weight a passage has (0 without earlier questions):
    /// of two passages answering a follow-up, the one on the thread's subject.
    fn thread_share(&self, haystack: &Haystack) -> f32 {
        let earlier = (self.own..self.terms.len()).map(|k| (self.weights[k], self.credit(k, haystack)));
        let (total, found) = earlier.fold((0.0, 0.0), |(t, f), (w, c)| (t + w, f + w * c));
        if total > 0.0 { found / total } else { 0.0 }
    }

    /// Support by the passage's best single sentence, list item or row with its neighbours,
    /// under its title and section: words of the question scattered over a long passage
    /// ("礼品" in one paragraph, "包装" in another) do not make an answer.
    fn local_support(&self, e: &Evidence) -> f32 {
        self.best_window(e).0
    }

    /// The support of the passage's best window (`local_support`), and whether that window
    /// states a number.
    fn best_window(&self, e: &Evidence) -> (f32, bool) {
        let c = &e.chunk;
        let head = Haystack::new(&format!("{}\n{}", c.title, c.section), codes_of(c));
        let credits = |h: &Haystack| (0..self.terms.len()).map(|k| self.credit(k, h)).collect::<Vec<f32>>();
        let in_head = credits(&head);
        // How much of each term each unit has, found once; a window is a unit and its neighbours.
        let units = units(&c.text);
        let in_units: Vec<Vec<f32>> = units.iter().map(|u| credits(&Haystack::new(&u.text, HashSet::new()))).collect();
        let window = |i: usize| i.saturating_sub(1)..(i + 2).min(in_units.len());
        let best = (0..in_units.len())
            .map(|i| (i, self.support_of(|k| in_units[window(i)].iter().map(|u| u[k]).fold(in_head[k], f32::max))))
            .fold(None, |best: Option<(usize, f32)>, (i, s)| match best {
                Some((_, b)) if b >= s => best,
                _ => Some((i, s)),
            });
        best.map_or((0.0, false), |(i, s)| (s, units[window(i)].iter().any(|u| states_number(&u.text))))
    }

    /// The share of a section's own heading ("Card declined", "刚买完就降价了，能退差价吗？")
    /// the question says, when that heading has two words or more and the question says at
    /// least half of it (else 0): the section is then about what was asked.
    fn heading_coverage(&self, section: &str) -> f32 {
        let heading = section.rsplit(" > ").next().unwrap_or(section);
        let heading_terms =
            clause_terms(heading.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' '));
        let asked = |t: &Term| match t {
            Term::Han(grams, c) => {
                self.terms.iter().any(|q| matches!(q, Term::Han(g, d) if d == c && grams.iter().any(|x| g.contains(x))))
            }
            _ => self.terms.contains(t),
        };
        let words = heading_terms.iter().filter(|t| !matches!(t, Term::Han(..))).count()
            + heading_terms.iter().filter(|t| matches!(t, Term::Han(..))).count() / 2;
        if words < 2 {
            return 0.0;
        }
        let coverage = heading_terms.iter().filter(|t| asked(t)).count() as f32 / heading_terms.len() as f32;
        if coverage >= HEADING_MIN_COVERAGE { coverage } else { 0.0 }
    }

    /// Weight of the question's terms a unit of text contains, leaving out those `skip` has.
    fn matched_weight(&self, text: &str, skip: &[bool]) -> f32 {
        let h = Haystack::new(text, HashSet::new());
        let counted = self.weights.iter().zip(skip).enumerate().filter(|(_, (_, skipped))| !**skipped);
        counted.map(|(k, (w, _))| w * self.credit(k, &h)).sum()
    }
}

/// The passage that answers best among the top candidates (a code question: among all rows
/// of its code), with its signals: the best score, earlier rank breaking near-ties.
fn choose(
    query: &Query,
    evidence: &[Evidence],
    haystacks: &[Haystack],
    thresholds: &Thresholds,
) -> Option<(usize, Signals)> {
    let code_row = query.code_mode();
    let pool = if code_row { evidence.len() } else { thresholds.candidates.min(evidence.len()) };
    (0..pool)
        .filter(|&i| query.eligible(&evidence[i]))
        .map(|i| {
            let (support, numbered) =
                if query.of_named_product(&evidence[i]) { (1.0, true) } else { query.best_window(&evidence[i]) };
            let cosine = evidence[i].dense.map(|d| d.score);
            let score = match cosine {
                // Code rows are judged on words: a row's cosine says little about which appliance.
                Some(cos) if !code_row => support + thresholds.cosine_weight * (cos - thresholds.cosine_pivot),
                _ => support,
            } + if code_row { 0.0 } else { HEADING_BONUS * query.heading_coverage(&evidence[i].chunk.section) };
            tracing::debug!(rank = i, doc = %evidence[i].chunk.doc_id, section = %evidence[i].chunk.section, support, ?cosine, score, "answer candidate");
            // Among passages that answer: the shop's own rules and manuals over pages that
            // restate them, the turn's product or none over another product, and for a
            // follow-up, passages on the thread's subject.
            let adjusted = score - RANK_PENALTY * i as f32
                + authority(evidence[i].chunk.doc_type)
                - if query.about_other_product(&evidence[i]) { OTHER_PRODUCT_PENALTY } else { 0.0 }
                + THREAD_BONUS * query.thread_share(&haystacks[i]);
            (i, Signals { support, cosine, code_row, score }, numbered, adjusted)
        })
        .max_by(|(i, a, a_numbered, a_adjusted), (j, b, b_numbered, b_adjusted)| {
            // A passage that answers beats one that does not, whatever their ranks; of those, one
            // stating a number beats one that does not when a number was asked for ("留多大空间":
            // "前方留 1.5 米", not "留有空间"); among close ones the shop's own rules and
            // manuals beat pages that restate them, and for a follow-up, passages on the thread's
            // subject (which decides between answers, never whether there is one).
            let passes = |s: &Signals| s.score >= thresholds.of(s);
            let numbered = |n: bool| query.asks_number && n;
            let close = (a_adjusted - b_adjusted).abs() <= NUMBER_PREFERENCE_MARGIN;
            let by_number = |s: &Signals, n: bool| close && passes(s) && numbered(n);
            passes(a)
                .cmp(&passes(b))
                .then(by_number(a, *a_numbered).cmp(&by_number(b, *b_numbered)))
                .then(a_adjusted.total_cmp(b_adjusted))
                .then(j.cmp(i))
        })
        .map(|(i, signals, _, _)| (i, signals))
}

/// Whether text states a quantity or a frequency: a digit, a Chinese numeral before a unit
/// ("七天", "两年"), or a word of how often ("weekly", "每周").
fn states_number(text: &str) -> bool {
    const NUMERALS: &str = "一二两三四五六七八九十百半";
    const UNITS: &str = "天年月周次个件小分秒米元倍";
    const FREQUENCY: &[&str] =
        &["daily", "weekly", "monthly", "yearly", "every ", "twice", "每天", "每周", "每月", "每年", "每次"];
    let chars: Vec<char> = text.chars().collect();
    let lower = text.to_lowercase();
    chars.iter().any(char::is_ascii_digit)
        || chars.windows(2).any(|w| NUMERALS.contains(w[0]) && UNITS.contains(w[1]))
        || FREQUENCY.iter().any(|f| lower.contains(f))
}

/// How much a passage's kind of document counts when passages answer about equally well:
/// a policy states the rule and a manual the procedure that FAQs and product pages repeat.
fn authority(doc_type: DocType) -> f32 {
    match doc_type {
        DocType::Policy => 0.1,
        DocType::Manual | DocType::FaultCodes => 0.05,
        DocType::Faq | DocType::Product => 0.0,
    }
}

/// The part of a Chinese character's weight found when the character is there but none of
/// the question's pairs with it are.
const HAN_CHAR_CREDIT: f32 = 0.5;

/// How strongly a term's rarity among the retrieved passages raises its weight.
const RARITY_WEIGHT: f32 = 0.5;
/// Terms in this many passages or fewer weigh the same.
const RARE_DF: f32 = 2.0;

/// What stating a number adds to a unit's matched weight when the question asks for one:
/// about half a word, so it decides between units that match alike.
const NUMBER_BONUS: f32 = 0.6;

/// What a section whose whole heading the question says adds to its score; one whose heading
/// the question says most of adds that share of it.
const HEADING_BONUS: f32 = 0.1;
const HEADING_MIN_COVERAGE: f32 = 0.5;

/// What a passage having all of the earlier questions' words adds when picking among the
/// passages that answer a follow-up: as much as the shop's own rules over restating pages.
const THREAD_BONUS: f32 = 0.1;
/// The most the earlier questions' words weigh together, as a share of the follow-up's own.
const THREAD_WEIGHT_CAP: f32 = 0.5;

/// How far apart two answering passages' scores may be for the one stating an asked-for
/// number to win regardless: a much better match without one still wins.
const NUMBER_PREFERENCE_MARGIN: f32 = 0.4;

/// What being about another product than the turn's takes away among answering passages.
const OTHER_PRODUCT_PENALTY: f32 = 0.15;

/// How much score one rank down is worth when picking among passages.
const RANK_PENALTY: f32 = 0.05;

/// The passage to show: the chosen one, or its counterpart in the question's language when
/// the evidence has one (the same code row of the same product, or a passage of the same
/// document in the other language: ids differ only in their "-en"/"-zh" suffix).
fn counterpart(chosen: usize, lang: Lang, query: &Query, evidence: &[Evidence], haystacks: &[Haystack]) -> usize {
    let c = &evidence[chosen].chunk;
    if c.lang == lang {
        return chosen;
    }
    let family = |chunk: &Chunk| {
        chunk.doc_id.strip_suffix(chunk.lang.as_str()).and_then(|s| s.strip_suffix('-')).map(str::to_string)
    };
    let same = |e: &Evidence| {
        let o = &e.chunk;
        match &c.code {
            Some(code) => o.code.as_ref() == Some(code) && o.products == c.products,
            None => family(c).is_some() && family(o) == family(c),
        }
    };
    evidence
        .iter()
        .enumerate()
        .filter(|(_, e)| e.chunk.lang == lang && same(e))
        .max_by(|(i, _), (j, _)| query.support(&haystacks[*i]).total_cmp(&query.support(&haystacks[*j])).then(j.cmp(i)))
        .map_or(chosen, |(i, _)| i)
}

// ---------------------------------------------------------------------------------------
// Trimming and rendering

/// The passage's text as chat text: a code row as one line per cell (meaning, cause, steps,
/// engineer visit), any other passage cut to the sentences matching the question (with the
/// lead-in of a list they belong to), within `budget` characters.
fn trim(e: &Evidence, query: &Query, budget: usize) -> String {
    if e.chunk.code.is_some() && e.chunk.text.contains(" | ") {
        return render_row(&e.chunk.text, e.chunk.code.as_deref().unwrap_or(""));
    }
    let units = units(&e.chunk.text);
    let total: usize = units.iter().map(|u| u.text.chars().count()).sum();
    if total <= budget {
        return join_units(&units, &(0..units.len()).collect::<Vec<_>>());
    }
    // Words the title or section already says (the product's name) do not pick a sentence;
    // the rest of the question does, unless no sentence has any of the rest.
    let head = Haystack::new(&format!("{}\n{}", e.chunk.title, e.chunk.section), codes_of(&e.chunk));
    let in_head: Vec<bool> = (0..query.terms.len()).map(|k| query.credit(k, &head) >= 1.0).collect();
    let rest_matched = units.iter().any(|u| query.matched_weight(&u.text, &in_head) > 0.0);
    let skip = if rest_matched { in_head } else { vec![false; query.terms.len()] };
    let scores: Vec<f32> = units
        .iter()
        .map(|u| {
            let matched = query.matched_weight(&u.text, &skip);
            let states_number = query.asks_number && u.text.chars().any(|c| c.is_ascii_digit());
            if matched > 0.0 && states_number { matched + NUMBER_BONUS } else { matched }
        })
        .collect();
    let best = scores.iter().copied().fold(0.0, f32::max);
    let mut order: Vec<usize> = (0..units.len()).collect();
    if best > 0.0 {
        // Best units first, earlier ones breaking ties; weak ones are left out.
        order.retain(|&i| scores[i] >= best * 0.5);
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    }
    let mut keep: Vec<usize> = Vec::new();
    let mut used = 0;
    let take = |i: usize, keep: &mut Vec<usize>, used: &mut usize| {
        let len = units[i].text.chars().count();
        if keep.contains(&i) || (!keep.is_empty() && *used + len > budget) {
            return false;
        }
        keep.push(i);
        *used += len;
        true
    };
    for i in order {
        // A sentence that points back ("Until then they show as pending") comes with the
        // sentences it points to, or not at all.
        let from = (0..=i).rev().find(|&j| !units[j].leans_back).unwrap_or(0);
        let missing: Vec<usize> = (from..i).filter(|j| !keep.contains(j)).collect();
        let missing_len: usize = missing.iter().map(|&j| units[j].text.chars().count()).sum();
        let fits = keep.is_empty() || used + missing_len + units[i].text.chars().count() <= budget;
        if !fits || !take(i, &mut keep, &mut used) {
            continue;
        }
        for j in missing {
            keep.push(j);
            used += units[j].text.chars().count();
        }
        // A step of a procedure asked for brings the steps of its list, in order, as far as
        // they fit.
        if query.asks_how && units[i].step {
            for j in procedure(&units, i) {
                if !take(j, &mut keep, &mut used) && !keep.contains(&j) {
                    break;
                }
            }
        }
        // A list item needs its lead-in; a lead-in needs its list.
        if units[i].list_item
            && let Some(lead) = (0..i).rev().find(|&j| !units[j].list_item)
            && units[lead].lead_in
        {
            take(lead, &mut keep, &mut used);
        }
        if units[i].lead_in {
            for j in (i + 1..units.len()).take_while(|&j| units[j].list_item) {
                take(j, &mut keep, &mut used);
            }
        }
        if used >= budget {
            break;
        }
    }
    keep.sort_unstable();
    join_units(&units, &keep)
}

/// The first units of the numbered steps in the list unit `i` is part of: the steps before
/// and after it, up to a line that is not a step.
fn procedure(units: &[Unit], i: usize) -> Vec<usize> {
    let ends_list = |j: usize| units[j].line_start && !units[j].step;
    let first = (0..=i).rev().take_while(|&j| !ends_list(j)).last().unwrap_or(i);
    let last = (i..units.len()).take_while(|&j| !ends_list(j)).last().unwrap_or(i);
    (first..=last).filter(|&j| units[j].step && units[j].line_start).collect()
}

/// A sentence, list item or table row of a passage.
struct Unit {
    text: String,
    /// Starts a new line in the source.
    line_start: bool,
    list_item: bool,
    /// Part of a numbered step ("3. Put the kettle on its base.").
    step: bool,
    /// Ends with a colon: introduces what follows.
    lead_in: bool,
    /// Continues the sentence before it on the same line ("Until then...", "否则...").
    leans_back: bool,
}

/// English first words that only make sense after the sentence before them ("Until then",
/// "It's", "Otherwise,").
const BACK_REFERENCE_WORDS_EN: &[&str] =
    &["until", "then", "this", "that", "these", "those", "it", "they", "otherwise"];
/// Chinese openings that do the same.
const BACK_REFERENCES_ZH: &[&str] = &[
    "在此之前",
    "此前",
    "此后",
    "之后",
    "届时",
    "否则",
    "这些",
    "这样",
    "这时",
    "这种",
    "这是",
    "那时",
    "那样",
    "那么",
    "此时",
    "它",
];

/// English openings of more than one word that do the same.
const BACK_REFERENCE_PHRASES_EN: &[&str] = &["after that", "before that", "in that case", "in this case"];

fn leans_back(sentence: &str) -> bool {
    let lower = sentence.to_lowercase();
    let first_word = latin_words(&lower).next().filter(|_| lower.starts_with(|c: char| c.is_ascii_alphabetic()));
    first_word.is_some_and(|w| BACK_REFERENCE_WORDS_EN.contains(&w))
        || BACK_REFERENCE_PHRASES_EN.iter().any(|opening| lower.starts_with(opening))
        || BACK_REFERENCES_ZH.iter().any(|opening| sentence.starts_with(opening))
}

fn units(text: &str) -> Vec<Unit> {
    let mut out = Vec::new();
    for line in text.lines().map(clean_markdown).filter(|l| !l.is_empty()) {
        let step = starts_numbered(&line);
        let list_item = line.starts_with("• ") || line.contains(" | ") || step;
        let pieces = if line.contains(" | ") { vec![render_cells(&line)] } else { sentences(&line) };
        for (k, piece) in pieces.into_iter().enumerate() {
            let lead_in = piece.ends_with(':') || piece.ends_with('：');
            let leans_back = k > 0 && leans_back(&piece);
            out.push(Unit {
                text: piece,
                line_start: k == 0,
                list_item: list_item && k == 0,
                step,
                lead_in,
                leans_back,
            });
        }
    }
    out
}

fn join_units(units: &[Unit], keep: &[usize]) -> String {
    let mut out = String::new();
    let mut previous: Option<usize> = None;
    for &i in keep {
        let u = &units[i];
        if let Some(p) = previous {
            let contiguous = p + 1 == i;
            if u.line_start || !contiguous {
                out.push('\n');
            } else if !ends_cjk(&out) {
                out.push(' ');
            }
        }
        out.push_str(&u.text);
        previous = Some(i);
    }
    out
}

fn ends_cjk(s: &str) -> bool {
    s.chars().last().is_some_and(|c| is_cjk(c) || "。！？；：，".contains(c))
}

fn starts_numbered(line: &str) -> bool {
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && digits <= 2 && line[digits..].starts_with(". ")
}

/// Splits running text after sentence ends: Chinese 。！？； anywhere, and . ! ? before a
/// space unless the dot ends a list number ("1. Switch off").
fn sentences(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..chars.len() {
        let c = chars[i];
        let cjk_end = matches!(c, '。' | '！' | '？' | '；');
        let latin_end = matches!(c, '.' | '!' | '?')
            && chars.get(i + 1) == Some(&' ')
            && !(c == '.' && i > 0 && chars[i - 1].is_ascii_digit() && (i < 3 || !chars[i - 3].is_ascii_digit()));
        if cjk_end || latin_end {
            let s: String = chars[start..=i].iter().collect::<String>().trim().to_string();
            if !s.is_empty() {
                out.push(s);
            }
            start = i + 1;
        }
    }
    let rest: String = chars[start..].iter().collect::<String>().trim().to_string();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// A table row ("Header: value | Header: value") as one readable line.
fn render_cells(line: &str) -> String {
    line.split(" | ").map(str::trim).filter(|c| !c.is_empty()).collect::<Vec<_>>().join("; ")
}

/// A fault-code row: "E04: Side brush stuck", then one line per remaining cell, numbered
/// steps on lines of their own.
fn render_row(text: &str, code: &str) -> String {
    let cells: Vec<String> = text.split(" | ").map(clean_markdown).filter(|c| !c.is_empty()).collect();
    let value = |cell: &str| cell.split_once([':', '：']).map_or(cell.to_string(), |(_, v)| v.trim().to_string());
    let is_code_cell = |cell: &str| normalize_code(&value(cell)).as_deref() == Some(code);
    let mut lines = Vec::new();
    let mut rest = cells.iter().filter(|c| !is_code_cell(c));
    if let Some(meaning) = rest.next() {
        lines.push(format!("{code}: {}", value(meaning)));
    }
    for cell in rest {
        lines.push(split_steps(cell));
    }
    lines.join("\n")
}

/// "What to do: 1. a 2. b" -> "What to do:\n1. a\n2. b".
fn split_steps(cell: &str) -> String {
    let chars: Vec<char> = cell.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let step_start = c.is_ascii_digit()
            && chars.get(i + 1) == Some(&'.')
            && chars.get(i + 2).is_some_and(|n| *n == ' ' || is_cjk(*n))
            && (i == 0 || chars[i - 1] == ' ')
            && i > 0;
        if step_start {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
        }
        out.push(c);
    }
    out
}

/// Drops Markdown that reads as noise in a chat bubble: emphasis, code ticks, heading
/// marks, quote marks, link targets; bullets become "• ".
fn clean_markdown(line: &str) -> String {
    let mut s = line.trim().trim_start_matches('#').trim_start_matches('>').trim().to_string();
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = s.strip_prefix(bullet) {
            s = format!("• {}", rest.trim_start());
        }
    }
    let s = s.replace("**", "").replace("__", "").replace('`', "");
    strip_links(&s).trim().to_string()
}

/// "[text](target)" -> "text".
fn strip_links(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|c| open + c) else { break };
        let Some(end) = rest[close..].find(')').map(|e| close + e) else { break };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DocType, LegScore};

    fn passage(doc_id: &str, lang: Lang, title: &str, section: &str, text: &str) -> Evidence {
        let doc_type = if doc_id.contains("faults") { DocType::FaultCodes } else { DocType::Faq };
        Evidence {
            chunk: Chunk {
                id: format!("{doc_id}/{section}"),
                doc_id: doc_id.to_string(),
                doc_type,
                lang,
                products: Vec::new(),
                title: title.to_string(),
                section: section.to_string(),
                path: format!("knowledge/{doc_id}.md"),
                text: text.to_string(),
                code: None,
            },
            score: 0.0,
            bm25: None,
            dense: None,
            exact: false,
        }
    }

    fn row(doc_id: &str, lang: Lang, product: &str, title: &str, code: &str, text: &str) -> Evidence {
        let mut e = passage(doc_id, lang, title, &format!("Faults > {code}"), text);
        e.chunk.code = Some(code.to_string());
        e.chunk.products = vec![product.to_string()];
        e.exact = true;
        e
    }

    /// Evidence in retrieval order, with BM25 ranks to match.
    fn ranked(mut evidence: Vec<Evidence>) -> Vec<Evidence> {
        for (i, e) in evidence.iter_mut().enumerate() {
            e.bm25 = Some(LegScore { rank: i as u32 + 1, score: 10.0 - i as f32 });
        }
        evidence
    }

    fn e04_rows() -> Vec<Evidence> {
        ranked(vec![
            row(
                "rv500-faults-zh",
                Lang::Zh,
                "HH-RV500",
                "扫地机器人 R5 故障代码表",
                "E04",
                "代码: E04 | 含义: 边刷卡住 | 可能原因: 边刷缠绕毛发 | 处理方法: 1. 关机并翻转机器。 2. 拔下边刷，清理毛发。 | 需要上门: 若反复出现",
            ),
            row(
                "rv500-faults-en",
                Lang::En,
                "HH-RV500",
                "SweepBot R5 Robot Vacuum — Fault Codes",
                "E04",
                "Code: E04 | Meaning: Side brush stuck | Likely cause: Hair round the side brush | What to do: 1. Switch off and turn the robot over. 2. Pull the side brush off. | Engineer visit: If it persists",
            ),
            row(
                "ap300-faults-zh",
                Lang::Zh,
                "HH-AP300",
                "净风300 空气净化器 故障代码表",
                "E04",
                "代码: E04 | 含义: 风机电机故障 | 可能原因: 风机电机或驱动故障 | 处理方法: 1. 断电1分钟后重启一次。 2. 仍报错请联系客服预约工程师上门。 | 需要上门: 是",
            ),
            row(
                "ap300-faults-en",
                Lang::En,
                "HH-AP300",
                "PureAir 300 Air Purifier — Fault Codes",
                "E04",
                "Code: E04 | Meaning: Fan motor fault | Likely cause: Fan motor failure | What to do: 1. Unplug for 1 minute and restart once. 2. Contact support to book an engineer visit. | Engineer visit: Yes",
            ),
        ])
    }

    fn ask(question: &str, lang: Lang, evidence: &[Evidence]) -> Composed {
        compose(question, &[], lang, evidence, None, &Thresholds::default(), &[])
    }

    #[test]
    fn a_fault_code_is_answered_from_the_named_appliances_row_as_readable_lines() {
        let evidence = e04_rows();
        let purifier = ask("净化器显示E04怎么办", Lang::Zh, &evidence);
        assert!(purifier.answered);
        assert_eq!(purifier.citations[0].doc_id, "ap300-faults-zh");
        assert_eq!(
            purifier.answer,
            "E04: 风机电机故障\n可能原因: 风机电机或驱动故障\n处理方法:\n1. 断电1分钟后重启一次。\n2. 仍报错请联系客服预约工程师上门。\n需要上门: 是"
        );

        let vacuum = ask("my robot vacuum shows E-04", Lang::En, &evidence);
        assert!(vacuum.answered);
        assert_eq!(vacuum.citations[0].doc_id, "rv500-faults-en");
        assert!(vacuum.answer.starts_with("E04: Side brush stuck\n"), "{}", vacuum.answer);
        assert!(!vacuum.answer.contains('|'));
    }

    #[test]
    fn a_code_the_named_appliance_does_not_have_is_not_answered_with_another_appliances_row() {
        let evidence = e04_rows();
        for (question, lang) in [("洗碗机显示E04", Lang::Zh), ("The kettle shows E04, what now?", Lang::En)] {
            let composed = ask(question, lang, &evidence);
            assert!(!composed.answered, "{question}: {}", composed.answer);
            assert!(composed.citations.is_empty());
            assert!(composed.confidence < 0.5);
        }
        let zh = ask("洗碗机显示E04", Lang::Zh, &evidence);
        assert_eq!(zh.answer, "抱歉，我没有在资料中找到这个问题的答案。");
        // A code no row has is not answered from a row of another code.
        assert!(!ask("扫地机器人显示E99", Lang::Zh, &evidence).answered);
    }

    #[test]
    fn a_row_of_the_named_product_answers_whatever_else_the_question_says() {
        let evidence = e04_rows();
        let question = "robot vacuum E-04 keeps coming back after moving it from under the sofa";
        // Without knowing the product, the circumstances outweigh the appliance's name.
        assert!(!ask(question, Lang::En, &evidence).answered);
        let named = compose(question, &[], Lang::En, &evidence, Some("HH-RV500"), &Thresholds::default(), &[]);
        assert!(named.answered, "{}", named.answer);
        assert_eq!(named.citations[0].doc_id, "rv500-faults-en");
        // The purifier named: its row, not the vacuum's that leads the evidence.
        let purifier =
            compose("净化器放在暖气旁边报E04", &[], Lang::Zh, &evidence, Some("HH-AP300"), &Thresholds::default(), &[]);
        assert_eq!(purifier.citations[0].doc_id, "ap300-faults-zh");
        // A product with no row of the code: no other product's row answers.
        let kettle =
            compose("The kettle shows E04", &[], Lang::En, &evidence, Some("HH-KT100"), &Thresholds::default(), &[]);
        assert!(!kettle.answered, "{}", kettle.answer);
    }

    #[test]
    fn a_bare_code_is_answered_in_the_questions_language() {
        // The English row leads, but the Chinese question gets the Chinese row of the same code.
        let mut evidence = e04_rows();
        evidence.swap(0, 1);
        let composed = ask("E04是什么意思", Lang::Zh, &evidence);
        assert!(composed.answered);
        assert_eq!(composed.citations[0].doc_id, "rv500-faults-zh");
        assert!(composed.answer.contains("边刷卡住"));
    }

    #[test]
    fn the_counterpart_in_the_questions_language_is_preferred() {
        let evidence = ranked(vec![
            passage(
                "shoes-fit-faq-en",
                Lang::En,
                "Shoe Fit FAQ",
                "Is the Tempo Lite too narrow for me?",
                "The Tempo Lite has a narrow fit. If your feet are very wide, choose the Stride Glide 3.",
            ),
            passage(
                "shoes-fit-faq-zh",
                Lang::Zh,
                "跑鞋尺码常见问题",
                "Tempo Lite 会不会太窄？",
                "Tempo Lite 鞋型偏窄。脚特别宽的话，建议选轻驰3。",
            ),
        ]);
        // Only the product name is matched, equally in both: the English passage leads.
        let composed = ask("Tempo Lite 怎么样", Lang::Zh, &evidence);
        assert!(composed.answered);
        assert_eq!(composed.citations[0].doc_id, "shoes-fit-faq-zh");
        assert!(composed.answer.contains("偏窄"));
    }

    /// What retrieval returns for a SweepBot question: mostly pages about the SweepBot.
    fn sweepbot_pages() -> Vec<Evidence> {
        let mut pages = vec![
            passage(
                "rv500-manual-en",
                Lang::En,
                "SweepBot R5 — User Manual",
                "1. Specifications",
                "The SweepBot R5 has 5,000 Pa suction and LiDAR navigation. The battery lasts up to 180 min.",
            ),
            passage(
                "rv500-manual-en",
                Lang::En,
                "SweepBot R5 — User Manual",
                "4. Mopping",
                "Fill the 250 ml water tank and click the mop module onto the robot.",
            ),
            passage(
                "running-shoes-en",
                Lang::En,
                "Running Shoe Comparison",
                "Road shoes",
                "The Stride Glide 3 is a cushioned road running shoe.",
            ),
        ];
        for (section, text) in [
            ("5. Maintenance", "Replace the SweepBot R5 side brush every 3-6 months."),
            ("6. App", "Pair the SweepBot R5 with the Halden Home app over 2.4 GHz Wi-Fi."),
            ("7. Dust bin", "Empty the SweepBot R5 400 ml dust bin after each run."),
            ("8. Safety", "Do not use the SweepBot R5 on stairs without barriers or on wet floors."),
        ] {
            pages.push(passage("rv500-manual-en", Lang::En, "SweepBot R5 — User Manual", section, text));
        }
        ranked(pages)
    }

    #[test]
    fn questions_whose_key_words_the_evidence_lacks_are_not_answered() {
        let evidence = sweepbot_pages();
        for question in ["Does the SweepBot R5 have a camera?", "Do you sell tennis rackets?", "hello"] {
            let composed = ask(question, Lang::En, &evidence);
            assert!(!composed.answered, "{question}: {}", composed.answer);
            assert_eq!(composed.answer, "Sorry, I could not find this in our help pages.");
        }
        assert!(!ask("扫地机器人有摄像头吗", Lang::Zh, &evidence).answered);
        assert!(!ask("How long does the battery last?", Lang::En, &[]).answered);
    }

    #[test]
    fn a_covered_question_is_answered_with_citation() {
        let composed = ask("How long does the SweepBot R5 battery last?", Lang::En, &sweepbot_pages());
        assert!(composed.answered);
        assert!(composed.confidence > 0.5);
        assert_eq!(composed.citations.len(), 1);
        let c = &composed.citations[0];
        assert_eq!((c.doc_id.as_str(), c.section.as_str()), ("rv500-manual-en", "1. Specifications"));
        assert!(composed.answer.contains("180 min"));
    }

    #[test]
    fn the_dense_cosine_moves_a_borderline_english_answer() {
        // "reward" is not in the passage: lexical support alone falls short.
        let question = "When do my reward points expire?";
        let mut evidence = ranked(vec![passage(
            "membership-policy-en",
            Lang::En,
            "Membership and Points",
            "4. Points expiry",
            "Points expire on 31 December of the year after the year they were earned.",
        )]);
        let lexical = ask(question, Lang::En, &evidence);
        evidence[0].dense = Some(LegScore { rank: 1, score: 0.8 });
        let close = ask(question, Lang::En, &evidence);
        evidence[0].dense = Some(LegScore { rank: 1, score: 0.2 });
        let far = ask(question, Lang::En, &evidence);
        assert!(close.answered && !far.answered);
        assert!(close.confidence > lexical.confidence && lexical.confidence > far.confidence);
    }

    #[test]
    fn a_long_passage_is_cut_to_the_sentences_that_answer() {
        let text = "The refund starts after the warehouse receives and checks the item. The money goes back to the \
                    original payment method.\n\
                    Payment method: **Alipay / WeChat Pay** | Time: 1-3 business days\n\
                    Payment method: UnionPay card, Visa, Mastercard | Time: 3-7 business days\n\
                    Payment method: Huabei | Time: 1-3 days, back to the Huabei credit line\n\
                    For Huabei instalment orders, unpaid instalments are cancelled according to Huabei's rules. \
                    Banks can take longer to show the credit on a statement. Gift cards are refunded as store \
                    credit within one day of approval, and store credit never expires. Shipping fees of a \
                    no-reason return are deducted from the refund unless you are a Gold or Platinum member.";
        let evidence = ranked(vec![passage("returns-policy-en", Lang::En, "Returns Policy", "7.1 Refunds", text)]);
        let thresholds = Thresholds { max_chars_en: 200, ..Thresholds::default() };
        let composed =
            compose("How long does a refund to Alipay take?", &[], Lang::En, &evidence, None, &thresholds, &[]);
        assert!(composed.answered);
        assert!(composed.answer.contains("Payment method: Alipay / WeChat Pay; Time: 1-3 business days"));
        assert!(!composed.answer.contains("Gift cards"), "{}", composed.answer);
        assert!(!composed.answer.contains("**"));
        assert!(composed.answer.chars().count() <= 200 + 80, "{}", composed.answer);
    }

    #[test]
    fn a_passage_about_another_product_comes_after_the_general_rule() {
        let mut other = passage(
            "ap300-faults-en",
            Lang::En,
            "PureAir 300 Fault Codes",
            "Warranty reminder",
            "The PureAir 300 is covered by warranty for 2 years, its filter for none.",
        );
        other.chunk.products = vec!["HH-AP300".into()];
        let general = passage(
            "warranty-policy-en",
            Lang::En,
            "Warranty Policy",
            "3. What is not covered",
            "Consumables such as filters are not covered.",
        );
        let evidence = ranked(vec![other, general]);
        let thresholds = Thresholds::default();
        let of =
            |product| compose("is the filter covered by warranty", &[], Lang::En, &evidence, product, &thresholds, &[]);
        assert_eq!(of(None).citations[0].doc_id, "ap300-faults-en");
        assert_eq!(of(Some("HH-AP300-F")).citations[0].doc_id, "warranty-policy-en");
        assert_eq!(of(Some("HH-AP300")).citations[0].doc_id, "ap300-faults-en");
    }

    #[test]
    fn a_sentence_pointing_back_is_quoted_with_the_one_it_points_to() {
        let text = "1. You earn points on the amount you paid for goods. Shipping does not earn points.\n\
                    2. Points are credited 8 days after delivery. Until then they show as pending under Me -> \
                    Points.\n\
                    3. If you return an item, the points earned on it are deducted from your balance.";
        let evidence = ranked(vec![passage("membership-policy-en", Lang::En, "Membership", "2. Earning", text)]);
        let thresholds = Thresholds { max_chars_en: 120, ..Thresholds::default() };
        let composed = compose("When do my points show up?", &[], Lang::En, &evidence, None, &thresholds, &[]);
        assert!(composed.answer.contains("8 days after delivery. Until then"), "{}", composed.answer);
        assert!(!composed.answer.contains("deducted"), "{}", composed.answer);
        assert!(leans_back("否则不能退货。") && !leans_back("其他商品可以退。") && !leans_back("这款鞋偏小。"));
        assert!(leans_back("It's free.") && leans_back("Then, press start.") && !leans_back("Items ship daily."));
        assert!(leans_back("After that, the refund is issued.") && leans_back("这是因为滤芯堵了。"));

        // A chain of such sentences comes whole; one whose antecedent does not fit stays out.
        let text = "Pending points cannot pay for an order.\n\
                    Store credit from a refunded gift card is kept in the account and never expires at all. \
                    They cannot pay for gift cards either.";
        let evidence = ranked(vec![passage("membership-policy-en", Lang::En, "Membership", "3. Using", text)]);
        let question = "Can pending points pay for an order or gift cards?";
        let tight = Thresholds { max_chars_en: 90, ..Thresholds::default() };
        let composed = compose(question, &[], Lang::En, &evidence, None, &tight, &[]);
        assert!(composed.answer.starts_with("Pending points"), "{}", composed.answer);
        assert!(!composed.answer.contains("either"), "{}", composed.answer);
        let roomy = Thresholds { max_chars_en: 400, ..Thresholds::default() };
        let composed = compose(question, &[], Lang::En, &evidence, None, &roomy, &[]);
        assert!(composed.answer.contains("never expires at all. They cannot"), "{}", composed.answer);
    }

    #[test]
    fn the_shoppers_circumstances_weigh_less_than_what_they_ask() {
        let weights = weighted_terms("What's your return window? I got the shoes on Monday");
        let weight = |word: &str| weights.iter().find(|(t, _)| *t == Term::Word(word.into())).map(|(_, w)| *w);
        assert_eq!(weight("return"), Some(1.0));
        assert_eq!(weight("monday"), Some(CONTEXT_WEIGHT));
        // One clause, or only telling clauses: every word counts fully.
        assert!(weighted_terms("my card keeps getting declined at checkout, visa").iter().all(|(_, w)| *w == 1.0));
        assert_eq!(clauses("净化器第三年电机坏了 还免费修吗").len(), 2);
        assert_eq!(clauses("RMB 1,299.00 is the price").len(), 1);
        // A choice ("A还是B") asks; a clause opening with 还是 ("still") tells.
        assert!(is_interrogative("是上门修还是寄修") && !is_interrogative("还是报E04"));
        assert!(!is_interrogative("重启了还是报E04") && !is_interrogative("我还是想退"));
        assert!(is_interrogative("袜子买M还是L") && is_interrogative("退货还是换货"));
        assert!(
            is_interrogative("要黑色还是要白色")
                && is_interrogative("退还是不退")
                && !is_interrogative("用了三天还是不行")
        );

        let evidence = ranked(vec![passage(
            "warranty-policy-zh",
            Lang::Zh,
            "保修政策",
            "如何申请保修",
            "凭订单号保修，不需要纸质发票。如果商品是别人送的礼物，提供购买人的订单号即可。",
        )]);
        let composed = ask("保修要发票吗？东西是朋友送的", Lang::Zh, &evidence);
        assert!(composed.answered, "{:?}", composed.signals);
        assert!(composed.answer.contains("订单号"));
        // The circumstances alone do not make an answer.
        assert!(!ask("朋友送的东西坏了", Lang::Zh, &evidence).answered);
    }

    #[test]
    fn a_question_asking_for_a_number_is_answered_with_the_line_that_states_it() {
        let text = "The Stride Glide 3 is an everyday road running shoe for long easy miles and steady runs. \
                    Its upper is an engineered mesh that breathes well in summer and dries quickly after rain.\n\
                    Weight: about 255 g for one men's US 9 shoe\n\
                    The outsole rubber covers the heel and forefoot where road runners wear shoes fastest. \
                    The laces are flat and stay tied; the tongue is gusseted to keep grit out on gravel paths.";
        let evidence = ranked(vec![passage("stride-glide-3-product-en", Lang::En, "Stride Glide 3", "Overview", text)]);
        let thresholds = Thresholds { max_chars_en: 120, ..Thresholds::default() };
        let composed = compose("How heavy is the Stride Glide 3?", &[], Lang::En, &evidence, None, &thresholds, &[]);
        assert!(composed.answered);
        assert!(composed.answer.contains("255 g"), "{}", composed.answer);
        assert!(asks_number("退款几天到账") && asks_number("How many days?") && !asks_number("Is it waterproof?"));
    }

    #[test]
    fn markdown_noise_is_stripped() {
        assert_eq!(
            clean_markdown("- **7 天内** 可以退，见 [退货政策](returns.md)。"),
            "• 7 天内 可以退，见 退货政策。"
        );
        assert_eq!(clean_markdown("## Use `Eco` mode"), "Use Eco mode");
        assert_eq!(render_cells("Data: Chat logs | Kept: 1 year"), "Data: Chat logs; Kept: 1 year");
    }

    #[test]
    fn sentences_split_at_ends_not_inside_numbers_or_steps() {
        assert_eq!(
            sentences("Connect over 2.4 GHz only. Steps: 1. Hold Wi-Fi. 2. Open the app! Done？好的。"),
            vec!["Connect over 2.4 GHz only.", "Steps: 1. Hold Wi-Fi.", "2. Open the app!", "Done？", "好的。"]
        );
        assert_eq!(sentences("先关机。再重启"), vec!["先关机。", "再重启"]);
    }

    #[test]
    fn a_lead_in_naming_who_asks_weighs_as_circumstance_and_a_product_lead_in_does_not() {
        let weight = |question: &str, word: &str| {
            weighted_terms(question).into_iter().find(|(t, _)| *t == Term::Word(word.into())).map(|(_, w)| w)
        };
        assert_eq!(weight("dealer question: dimensions of the D6?", "dealer"), Some(CONTEXT_WEIGHT));
        assert_eq!(weight("Tempo Lite: does it run small?", "tempo"), Some(1.0));
    }

    #[test]
    fn question_terms_drop_question_words_and_keep_codes_and_content() {
        let terms = question_terms("Why won't my SweepBot show E-21 on HH-RV500?");
        assert!(terms.contains(&Term::Code("E21".into())));
        assert!(terms.contains(&Term::Code("HHRV500".into())));
        assert!(terms.contains(&Term::Word("sweepbot".into())));
        assert!(!terms.iter().any(|t| matches!(t, Term::Word(w) if w == "why" || w == "my")));
        // Chinese: question words go, and every other character is one term.
        let zh = question_terms("净化器能除甲醛吗");
        assert_eq!(zh.len(), 6, "{zh:?}"); // 净化器 + 除甲醛, split at 能
        assert_eq!(stem("refunds"), "refund");
        assert_eq!(stem("batteries"), "battery");
        assert_eq!(stem("moving"), stem("move"));
        assert_eq!(stem("running"), stem("run"));
        assert_eq!(stem("changed"), stem("changes"));
        assert_eq!(stem("loudly"), stem("loud"));
        assert_eq!(stem("family"), "family");
        // "How many"/"多久" ask for a number, which the answer states without those words.
        let en = question_terms("How many days does delivery take?");
        assert!(!en.contains(&Term::Word("many".into())), "{en:?}");
        assert!(en.contains(&Term::Word("day".into())));
        let zh = question_terms("退款多久到账");
        assert!(!zh.iter().any(|t| matches!(t, Term::Han(g, _) if g.iter().any(|g| g.contains('久')))), "{zh:?}");
        // A directional complement says nothing the page would: 开出来 is 开 (开具).
        assert_eq!(question_terms("发票开出来"), question_terms("发票开"));
        // A quantity is one term of its dimension, not its digits.
        assert_eq!(question_terms("门槛2.5厘米"), question_terms("门槛 3 cm"));
        // A number without a unit is one word, decimals too; a sentence's full stop is not one.
        let shoe = question_terms("穿42.5的鞋. fits?");
        assert!(shoe.contains(&Term::Word("42.5".into())) && !shoe.contains(&Term::Word("5".into())), "{shoe:?}");
        let eu = Haystack::new("EU 42.5（男码 US 9）", HashSet::new());
        assert!(eu.contains(&Term::Word("42.5".into())) && !eu.contains(&Term::Word("42".into())));
        assert!(!Haystack::new("EU 42.55", HashSet::new()).contains(&Term::Word("42.5".into())));
        assert!(Haystack::new("满 300.00 减 50.00", HashSet::new()).contains(&Term::Word(stem("300"))));
        assert_eq!(stem("42.50"), "42.5");
        // A date or version is not a number: its parts stay as written.
        assert_eq!(stem("2026.10.10"), "2026.10.10");
    }

    #[test]
    fn a_phrase_of_the_questions_synonym_group_in_the_passage_counts_as_the_questions_own() {
        let jacket = ranked(vec![passage(
            "apparel-guide-en",
            Lang::En,
            "Apparel size guide",
            "Featherlight wind jacket",
            "About 95 g. Water-repellent finish for light drizzle; it is a wind jacket, not a rain jacket.",
        )]);
        let question = "Is the Featherlight jacket waterproof?";
        let without = ask(question, Lang::En, &jacket);
        let synonyms = [SynonymGroup::new("syn0".into(), vec!["waterproof".into(), "water-repellent".into()])];
        let composed = compose(question, &[], Lang::En, &jacket, None, &Thresholds::default(), &synonyms);
        assert!(composed.answered, "{composed:?}");
        assert!(composed.answer.contains("not a rain jacket"));
        assert!((composed.signals.support - 1.0).abs() < 1e-6 && without.signals.support < 0.8, "{without:?}");
    }

    #[test]
    fn a_question_saying_a_sections_whole_heading_is_answered_from_it() {
        let policy = |section: &str| {
            let mut e = passage(
                "payment-policy-en",
                Lang::En,
                "Payment Policy",
                section,
                "Common causes: not enough funds, wrong card details or the bank's fraud checks. Call your bank.",
            );
            e.dense = Some(LegScore { rank: 1, score: 0.6 });
            ranked(vec![e])
        };
        let question = "my card keeps getting declined at checkout, visa";
        let under_heading = ask(question, Lang::En, &policy("4. Payment problems > 4.1 Card declined"));
        let elsewhere = ask(question, Lang::En, &policy("4. Payment problems > 4.1 Common causes"));
        assert!(under_heading.signals.score > elsewhere.signals.score + 0.05, "{under_heading:?} {elsewhere:?}");
        assert!(under_heading.answered && under_heading.answer.contains("bank"));
        // A one-word heading ("Card") is not enough to say the section is what was asked.
        let one_word = ask(question, Lang::En, &policy("4. Payment problems > Card"));
        assert!(one_word.signals.score < under_heading.signals.score);
    }

    #[test]
    fn a_question_asking_how_much_is_answered_by_a_passage_stating_a_number() {
        let evidence = ranked(vec![
            passage(
                "rv500-manual-zh",
                Lang::Zh,
                "扫地机器人 R5 使用说明书",
                "常见问题",
                "无法充电：擦拭充电座触点，确保充电座周围留有空间。",
            ),
            passage(
                "rv500-manual-zh",
                Lang::Zh,
                "扫地机器人 R5 使用说明书",
                "安装 > 放置充电座",
                "充电座背靠墙放在硬质地面上。左右各留 0.5 米以上，前方留 1.5 米以上空间。",
            ),
        ]);
        let composed = ask("充电座周围要留多大空间", Lang::Zh, &evidence);
        assert!(composed.answered && composed.answer.contains("1.5 米"), "{}", composed.answer);
        assert!(states_number("每周清洗一次") && states_number("保修两年") && !states_number("留有空间"));
    }

    #[test]
    fn a_quantity_the_shopper_states_meets_the_pages_limit_in_the_same_dimension() {
        let evidence = ranked(vec![
            passage(
                "shipping-policy-zh",
                Lang::Zh,
                "配送政策",
                "发货时间",
                "16:00 前付款的订单当天发货，16:00 以后付款的次日发货。",
            ),
            passage(
                "shipping-policy-zh",
                Lang::Zh,
                "配送政策",
                "运费",
                "单笔订单实付满 99 元包邮，不满 99 元收运费 10 元。",
            ),
        ]);
        let composed = ask("下午三点付款今天能发货吗", Lang::Zh, &evidence);
        assert!(composed.answered && composed.answer.contains("16:00"), "{}", composed.answer);
        // A quantity of another dimension is no match: money does not answer a time of day.
        let fee_only = ranked(vec![evidence[1].clone()]);
        assert!(!ask("下午三点付款今天能发货吗", Lang::Zh, &fee_only).answered);
    }

    #[test]
    fn a_follow_up_is_answered_for_what_the_question_it_continues_asked() {
        let evidence = ranked(vec![
            passage(
                "shipping-policy-en",
                Lang::En,
                "Shipping",
                "1. Shipping fees",
                "Remote regions (Xinjiang, Tibet): 25.00 per order.",
            ),
            passage(
                "shipping-policy-en",
                Lang::En,
                "Shipping",
                "3. Delivery times",
                "Remote regions (Xinjiang, Tibet): 5-10 days.",
            ),
        ]);
        let alone = compose("and to Xinjiang?", &[], Lang::En, &evidence, None, &Thresholds::default(), &[]);
        assert!(alone.answer.contains("25.00"), "{}", alone.answer);
        let earlier = ["How long does delivery take to Chengdu?".to_string()];
        let continued = compose("and to Xinjiang?", &earlier, Lang::En, &evidence, None, &Thresholds::default(), &[]);
        assert!(continued.answered && continued.answer.contains("5-10 days"), "{}", continued.answer);
    }

    #[test]
    fn a_step_asked_how_brings_the_whole_procedure_in_order() {
        let text = "1. Turn on Bluetooth on your phone.\n2. Open the app and tap Add device.\n3. Hold Keep Warm for 3 seconds until the icon flashes.\n4. Select the kettle and confirm.\nDo not pair the kettle in your phone's Bluetooth settings; pair only inside the app. The app also shows the water temperature, lets you schedule keep-warm and reminds you to descale. The K1 connects to one phone at a time, so close the app on other phones first. Pairing works within 10 m of the kettle.";
        let evidence =
            ranked(vec![passage("kt100-manual-en", Lang::En, "K1 manual", "6.1 Pairing step by step", text)]);
        let thresholds = Thresholds { max_chars_en: 320, ..Thresholds::default() };
        let how = compose("how do I pair the kettle with the app", &[], Lang::En, &evidence, None, &thresholds, &[]);
        let steps: Vec<usize> =
            ["1. Turn", "2. Open", "3. Hold", "4. Select"].iter().filter_map(|s| how.answer.find(s)).collect();
        assert_eq!(steps.len(), 4, "{}", how.answer);
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "{}", how.answer);
        assert!(asks_how("pairing the K1 step by step") && asks_how("怎么配网") && !asks_how("how long does it take"));
    }

    #[test]
    fn which_one_is_answered_with_the_product_page_it_comes_from() {
        let mut page = passage(
            "stride-glide-3-product-zh",
            Lang::Zh,
            "轻驰3 公路跑鞋",
            "适合人群",
            "刚开始跑步、想要一双鞋搞定所有公路训练的新手。",
        );
        page.chunk.doc_type = DocType::Product;
        let which = ask("哪款跑鞋适合刚开始跑步的新手", Lang::Zh, &[page.clone()]);
        assert!(which.answered && which.answer.starts_with("轻驰3 公路跑鞋："), "{}", which.answer);
        // Not asked which: the passage alone.
        let fits = ask("轻驰3适合刚开始跑步的新手吗", Lang::Zh, &[page]);
        assert!(fits.answer.starts_with("刚开始跑步"), "{}", fits.answer);
    }
}
