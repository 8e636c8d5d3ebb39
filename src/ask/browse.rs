//! Browse questions: whether a message asks to look through the catalogue ("有没有500元以下的
//! 跑鞋?", "which running shoes do you have in size 10?") rather than about one product, the
//! filters it states (price range in cents, size, colour, in stock, cheapest first), and which
//! catalogue products its words name.
//!
//! Product words come from the catalogue itself (English name words, Chinese name characters,
//! tags); the fixed vocabulary here is only the language of asking: cue phrases, price phrases,
//! the words for the four categories, and English function words.

use super::understand::fold;
use super::understand::slots::parse_cn_number;
use crate::domain::commerce::{Category, Product};
use crate::domain::turn::{Intent, Slots};
use crate::text::is_cjk;
use serde::Serialize;
use std::collections::BTreeSet;

/// A price range in cents, both ends included; `None` is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PriceRange {
    pub min_cents: Option<i64>,
    pub max_cents: Option<i64>,
}

impl PriceRange {
    pub fn is_open(&self) -> bool {
        self.min_cents.is_none() && self.max_cents.is_none()
    }

    pub fn admits(&self, cents: i64) -> bool {
        self.min_cents.is_none_or(|min| cents >= min) && self.max_cents.is_none_or(|max| cents <= max)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Relevance,
    PriceLow,
    PriceHigh,
}

/// What a browse question asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductQuery {
    /// The message, folded (ASCII lower-case, full-width forms half-width).
    #[serde(skip)]
    pub text: String,
    pub price: PriceRange,
    /// As [`Slots::size`] writes it ("10", "M").
    pub size: Option<String>,
    /// As [`Slots::color`] writes it ("black").
    pub color: Option<String>,
    pub in_stock_only: bool,
    pub sort: Sort,
    /// It asks whether the shop sells something ("do you sell", "你们卖"): finding nothing in
    /// the catalogue is then an answer too.
    pub asks_if_sold: bool,
}

/// How plainly a message asks to see several products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cue {
    None,
    /// "有没有", "which", "recommend": a browse question unless it names one product.
    Browse,
    /// "有哪些型号", "do you sell", "which ... do you have", "cheapest kettle": a list of products
    /// even when the message names one.
    List,
}

/// Whether the shop sells something: a miss in the catalogue is itself the answer.
const SELL_CUES: &[&str] = &[
    "你们卖",
    "有卖",
    "卖不卖",
    "在卖",
    "do you sell",
    "do you carry",
    "do you stock",
    "do you offer",
    "you guys sell",
];

const LIST_CUES: &[&str] = &[
    "型号",
    "几款",
    "哪些款",
    "款式",
    "都有哪些",
    "都有什么",
    "哪些商品",
    "哪些产品",
    "什么商品",
    "什么产品",
    "what models",
    "which models",
    "what kinds of",
    "what types of",
    "show me",
    "list your",
    "list all",
    "list the",
    "what do you have",
    "what do you sell",
];

const BROWSE_CUES: &[&str] = &[
    "有哪些",
    "有什么",
    "有没有",
    "哪些",
    "哪款",
    "哪几",
    "推荐",
    "便宜",
    "最贵",
    "预算",
    "想买",
    "想找",
    "有货的",
    "现货",
    "which",
    "any ",
    "do you have",
    "recommend",
    "suggest",
    "cheap",
    "expensive",
    "priciest",
    "looking for",
    "options",
    "budget",
];

/// Advice, comparisons and promotions: answered from knowledge or pricing, not by a list.
const NOT_BROWSING: &[&str] = &[
    "适合",
    "区别",
    "不一样",
    "比较",
    "对比",
    "哪个好",
    "哪个更",
    "值得",
    "优惠",
    "折扣",
    "活动",
    "满减",
    "券",
    "退货",
    "退换",
    "退款",
    "best",
    "better",
    "compare",
    "difference",
    "versus",
    " vs",
    "suitable",
    "good for",
    "worth",
    "discount",
    "promotion",
    "coupon",
    "return",
    "refund",
    " deal",
];

/// Questions about one named product's attributes ("轻驰3有哪些颜色", "what sizes of X do you have").
const ATTRIBUTES: &[&str] = &[
    "颜色", "尺码", "码", "尺寸", "功能", "参数", "容量", "材质", "温度", "档", "colour", "color", "size", "feature",
    "spec", "capacity", "material",
];

const PRICE_LOW: &[&str] =
    &["最便宜", "便宜", "cheapest", "cheaper", "lowest price", "least expensive", "inexpensive", "budget"];
const PRICE_HIGH: &[&str] = &["最贵", "most expensive", "priciest", "highest price"];
const IN_STOCK: &[&str] = &["有货的", "现货", "有库存的", "in stock", "available"];

/// After "cheapest"/"最便宜的", words that make it a question about a price rather than a list
/// ("cheapest I can get the Tempo Lite for", "最便宜的价格").
const SUPERLATIVE_NOT_A_NOUN: &[&str] =
    &["i", "we", "you", "it", "price", "prices", "way", "deal", "total", "possible", "for", "is", "on", "at", "option"];

/// The browse question in `message`, or None when it is not one. `fresh` are the slots the
/// message itself states (a product carried over from earlier turns does not make a list
/// question about one product); `slots` are the turn's, with context.
pub fn product_query(message: &str, intent: Intent, fresh: &Slots, slots: &Slots) -> Option<ProductQuery> {
    let text = fold(message);
    if slots.order_id.is_some() || slots.fault_code.is_some() || contains_any(&text, NOT_BROWSING) {
        return None;
    }
    let named = fresh.sku.is_some() || fresh.product.is_some();
    if named && contains_any(&text, ATTRIBUTES) {
        return None;
    }
    // A product slot with upper-case letters is a SKU; lower-case is a family tag ("stride-glide-3").
    let named_one = fresh.sku.is_some() || fresh.product.as_deref().is_some_and(crate::domain::turn::is_sku);
    let cue = cue(&text);
    // "那女款呢" after a stock check continues with the product under discussion.
    let carried = !named && (slots.product.is_some() || slots.sku.is_some());
    if carried && cue == Cue::None {
        return None;
    }
    let price = price_range(&text);
    let sort = sort_of(&text);
    let browses = match intent {
        // A message not understood as about products needs a plain list cue ("do you sell"),
        // or to be as short as a shopping question: a "which" in long chatter is none.
        Intent::Other if !named_one => {
            cue == Cue::List
                || (cue == Cue::Browse && length_in_words(&text) <= SHORT_QUESTION_WORDS)
                || !price.is_open()
                || sort != Sort::Relevance
        }
        Intent::ProductInfo | Intent::InventoryCheck | Intent::PriceQuote if !named_one => {
            cue >= Cue::Browse || !price.is_open() || sort != Sort::Relevance || intent == Intent::InventoryCheck
        }
        Intent::ProductInfo
        | Intent::InventoryCheck
        | Intent::PriceQuote
        | Intent::Other
        | Intent::FaultDiagnosis
        | Intent::PolicyQuestion
        | Intent::HowTo => {
            // "300-500的跑步外套有吗", "any purifiers under 2000?": a price range asks which fit,
            // even of one named type (and even when the classifier took it for a fault).
            let priced = !price.is_open()
                && match intent {
                    Intent::ProductInfo | Intent::InventoryCheck => true,
                    Intent::Other | Intent::FaultDiagnosis => named_one && cue == Cue::Browse,
                    _ => false,
                };
            cue == Cue::List || priced
        }
        _ => false,
    };
    browses.then(|| ProductQuery {
        in_stock_only: contains_any(&text, IN_STOCK),
        asks_if_sold: contains_any(&text, SELL_CUES),
        text,
        price,
        size: slots.size.clone(),
        color: slots.color.clone(),
        sort,
    })
}

/// Longest message, in words, a browse word alone makes a shopping question of.
const SHORT_QUESTION_WORDS: usize = 15;

/// Latin words plus Chinese characters, two to a word.
fn length_in_words(text: &str) -> usize {
    let han = text.chars().filter(|&c| is_cjk(c)).count();
    latin_words(text).len() + han.div_ceil(2)
}

fn contains_any(text: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| text.contains(p))
}

fn cue(text: &str) -> Cue {
    let list = contains_any(text, SELL_CUES)
        || contains_any(text, LIST_CUES)
        || asks_what_you_have(text)
        || asks_which_goods(text)
        || superlative_noun(text);
    if list {
        Cue::List
    } else if contains_any(text, BROWSE_CUES) {
        Cue::Browse
    } else {
        Cue::None
    }
}

/// "有哪些清仓的商品", "净化器滤芯有哪些": the goods themselves are what is asked for.
fn asks_which_goods(text: &str) -> bool {
    let asked = text.trim_end_matches(|c: char| c.is_whitespace() || "?？!！。.呢啊呀".contains(c));
    let ends_asking = ["有哪些", "有什么", "有啥"].iter().any(|s| asked.ends_with(s));
    let goods_after_which = text.match_indices("哪些").any(|(at, which)| {
        let next: String = text[at + which.len()..].chars().take(8).collect();
        next.contains("商品") || next.contains("产品")
    });
    ends_asking || goods_after_which
}

/// "which trail shoes do you have", "what kettles do you sell".
fn asks_what_you_have(text: &str) -> bool {
    let words = latin_words(text);
    words.iter().enumerate().filter(|(_, w)| *w == "what" || *w == "which").any(|(i, _)| {
        words.iter().skip(i + 1).take(7).collect::<Vec<_>>().windows(3).any(|w| {
            matches!(w[0].as_str(), "do" | "does")
                && w[1] == "you"
                && matches!(w[2].as_str(), "have" | "sell" | "carry" | "stock" | "offer")
        })
    })
}

/// "cheapest air purifier", "最便宜的跑鞋": a superlative followed by what to list.
fn superlative_noun(text: &str) -> bool {
    let words = latin_words(text);
    let en = words
        .windows(2)
        .any(|w| matches!(w[0].as_str(), "cheapest" | "priciest") && !SUPERLATIVE_NOT_A_NOUN.contains(&w[1].as_str()))
        || words.windows(3).any(|w| {
            matches!(w[0].as_str(), "most" | "least")
                && w[1] == "expensive"
                && !SUPERLATIVE_NOT_A_NOUN.contains(&w[2].as_str())
        });
    let zh = ["最便宜的", "最贵的"].iter().any(|s| {
        text.match_indices(s).any(|(at, _)| {
            let rest = &text[at + s.len()..];
            !rest.trim_start().is_empty() && !rest.starts_with('价') && !rest.starts_with("多少")
        })
    });
    en || zh
}

fn sort_of(text: &str) -> Sort {
    if contains_any(text, PRICE_HIGH) {
        Sort::PriceHigh
    } else if contains_any(text, PRICE_LOW) {
        Sort::PriceLow
    } else {
        Sort::Relevance
    }
}

/// Latin words of folded text, apostrophes dropped ("women's" -> "womens").
fn latin_words(text: &str) -> Vec<String> {
    text.replace(['\'', '’'], "")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Price phrases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Ceiling,
    Floor,
    Around,
}

/// Phrases before an amount ("under 300", "不超过500"); the longest that fits wins, so "no more
/// than" is a ceiling although it ends in "more than".
const BEFORE: &[(&str, Bound)] = &[
    ("under", Bound::Ceiling),
    ("below", Bound::Ceiling),
    ("less than", Bound::Ceiling),
    ("lower than", Bound::Ceiling),
    ("cheaper than", Bound::Ceiling),
    ("up to", Bound::Ceiling),
    ("max", Bound::Ceiling),
    ("maximum", Bound::Ceiling),
    ("at most", Bound::Ceiling),
    ("no more than", Bound::Ceiling),
    ("not more than", Bound::Ceiling),
    ("not over", Bound::Ceiling),
    ("within", Bound::Ceiling),
    ("budget", Bound::Ceiling),
    ("budget of", Bound::Ceiling),
    ("budget is", Bound::Ceiling),
    ("<", Bound::Ceiling),
    ("<=", Bound::Ceiling),
    ("≤", Bound::Ceiling),
    ("不超过", Bound::Ceiling),
    ("不超", Bound::Ceiling),
    ("不到", Bound::Ceiling),
    ("低于", Bound::Ceiling),
    ("少于", Bound::Ceiling),
    ("不高于", Bound::Ceiling),
    ("不多于", Bound::Ceiling),
    ("最多", Bound::Ceiling),
    ("顶多", Bound::Ceiling),
    ("预算", Bound::Ceiling),
    ("预算是", Bound::Ceiling),
    ("预算在", Bound::Ceiling),
    ("over", Bound::Floor),
    ("above", Bound::Floor),
    ("more than", Bound::Floor),
    ("higher than", Bound::Floor),
    ("at least", Bound::Floor),
    ("no less than", Bound::Floor),
    ("not less than", Bound::Floor),
    ("min", Bound::Floor),
    ("minimum", Bound::Floor),
    ("from", Bound::Floor),
    ("starting at", Bound::Floor),
    (">", Bound::Floor),
    (">=", Bound::Floor),
    ("≥", Bound::Floor),
    ("超过", Bound::Floor),
    ("高于", Bound::Floor),
    ("不低于", Bound::Floor),
    ("不少于", Bound::Floor),
    ("至少", Bound::Floor),
    ("大于", Bound::Floor),
    ("起码", Bound::Floor),
    ("around", Bound::Around),
    ("about", Bound::Around),
    ("roughly", Bound::Around),
    ("approximately", Bound::Around),
    ("大概", Bound::Around),
    ("大约", Bound::Around),
];

/// Phrases after an amount ("500元以下", "300 or more").
const AFTER: &[(&str, Bound)] = &[
    ("以下", Bound::Ceiling),
    ("以内", Bound::Ceiling),
    ("之内", Bound::Ceiling),
    ("内", Bound::Ceiling),
    ("封顶", Bound::Ceiling),
    ("or less", Bound::Ceiling),
    ("or under", Bound::Ceiling),
    ("or below", Bound::Ceiling),
    ("and under", Bound::Ceiling),
    ("and below", Bound::Ceiling),
    ("max", Bound::Ceiling),
    ("tops", Bound::Ceiling),
    ("以上", Bound::Floor),
    ("起", Bound::Floor),
    ("往上", Bound::Floor),
    ("or more", Bound::Floor),
    ("and up", Bound::Floor),
    ("and above", Bound::Floor),
    ("or above", Bound::Floor),
    ("plus", Bound::Floor),
    ("+", Bound::Floor),
    ("左右", Bound::Around),
    ("上下", Bound::Around),
];

/// Between two amounts of a range ("300-500", "200到400", "between 200 and 400").
const RANGE_JOINS: &[&str] = &["-", "~", "～", "–", "—", "到", "至", "to", "and"];

/// Currency marks around an amount; they say "money" but bound nothing.
const CURRENCY: &[&str] =
    &["块钱", "人民币", "dollars", "dollar", "bucks", "yuan", "kuai", "rmb", "cny", "元", "块", "¥", "￥", "$"];

/// What follows a number that is not money: sizes, counts, measures, durations, points.
const UNITS: &[&str] = &[
    "码", "号", "寸", "双", "件", "个", "台", "套", "岁", "斤", "公斤", "千克", "克", "米", "厘米", "毫", "天", "小时",
    "月", "年", "次", "人", "平", "分", "倍", "%", "积分", "瓦", "升", "档", "位", "公里", "cm", "mm", "km", "kg", "g",
    "lb", "lbs", "l", "ml", "w", "watt", "watts", "v", "year", "years", "yr", "month", "months", "day", "days", "hour",
    "hours", "hr", "min", "mins", "minute", "minutes", "pair", "pairs", "pack", "packs", "piece", "pieces", "pcs",
    "point", "points", "pts", "people", "person", "times", "percent", "x", "gb", "pa",
];

/// An amount of money in the text: char span and cents.
#[derive(Debug, Clone, Copy)]
struct Amount {
    start: usize,
    end: usize,
    cents: i64,
}

/// The price range a message states ("500元以下", "under $50", "300-500", "200到400之间",
/// "between 200 and 400", "300以上", "500左右" = 400-600). `text` is folded.
pub fn price_range(text: &str) -> PriceRange {
    let chars: Vec<char> = text.chars().collect();
    let amounts = amounts(&chars);
    let mut range = PriceRange::default();
    // Several bounds narrow each other: the highest floor, the lowest ceiling.
    let ceiling = |cents: i64, r: &mut PriceRange| r.max_cents = Some(r.max_cents.map_or(cents, |m| m.min(cents)));
    let floor = |cents: i64, r: &mut PriceRange| r.min_cents = Some(r.min_cents.map_or(cents, |m| m.max(cents)));
    let mut i = 0;
    while i < amounts.len() {
        let a = amounts[i];
        let before = before_text(&chars, a.start);
        // Not a piece of a longer dash chain such as a date ("2026-11-21").
        let chained = (a.start > 0 && chars[a.start - 1] == '-')
            || amounts.get(i + 1).is_some_and(|b| chars.get(b.end) == Some(&'-'));
        if let Some(&b) = amounts.get(i + 1)
            && !chained
            && a.cents <= b.cents
            && joins_range(&chars[a.end..b.start], &before, &after_text(&chars, b.end))
        {
            floor(a.cents, &mut range);
            ceiling(b.cents, &mut range);
            i += 2;
            continue;
        }
        let after = after_text(&chars, a.end);
        let bound = longest(BEFORE, |p| before.ends_with(p)).or_else(|| longest(AFTER, |p| after.starts_with(p)));
        match bound {
            Some(Bound::Ceiling) => ceiling(a.cents, &mut range),
            Some(Bound::Floor) => floor(a.cents, &mut range),
            Some(Bound::Around) => {
                floor(a.cents.saturating_mul(4) / 5, &mut range);
                ceiling(a.cents.saturating_mul(6) / 5, &mut range);
            }
            None => {}
        }
        i += 1;
    }
    range
}

fn longest(phrases: &[(&str, Bound)], fits: impl Fn(&str) -> bool) -> Option<Bound> {
    phrases.iter().filter(|(p, _)| fits(p)).max_by_key(|(p, _)| p.chars().count()).map(|&(_, b)| b)
}

fn joins_range(between: &[char], before: &str, after: &str) -> bool {
    let mut join: String = between.iter().collect();
    for mark in CURRENCY {
        join = join.replace(mark, "");
    }
    let join = join.trim();
    match join {
        // "and" makes a range only with "between ... and ..." / "... and ... 之间".
        "and" => before.ends_with("between") || after.starts_with("之间"),
        _ => RANGE_JOINS.contains(&join),
    }
}

/// Up to 16 chars before `at`, without trailing spaces and currency marks.
fn before_text(chars: &[char], at: usize) -> String {
    let mut text: String = chars[at.saturating_sub(16)..at].iter().collect();
    loop {
        let trimmed = text.trim_end();
        let stripped = CURRENCY.iter().find_map(|c| trimmed.strip_suffix(c)).unwrap_or(trimmed);
        if stripped.len() == text.len() {
            return text;
        }
        text = stripped.to_string();
    }
}

/// Up to 16 chars after `at`, without leading spaces and currency marks.
fn after_text(chars: &[char], at: usize) -> String {
    let mut text: String = chars[at..chars.len().min(at + 16)].iter().collect();
    loop {
        let trimmed = text.trim_start();
        let stripped = CURRENCY.iter().find_map(|c| trimmed.strip_prefix(c)).unwrap_or(trimmed);
        if stripped.len() == text.len() {
            return text;
        }
        text = stripped.to_string();
    }
}

/// Numbers that may be money: not inside a word or SKU ("AP300", "HS-RUN-101"), not a size
/// ("size 10", "42码"), count or measure ("3 pairs", "1800W"), not an order number.
fn amounts(chars: &[char]) -> Vec<Amount> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some((cents, end)) = number_at(chars, i) else {
            i += 1;
            continue;
        };
        let glued = i > 0
            && (chars[i - 1].is_ascii_alphanumeric()
                || matches!(chars[i - 1], '.' | ',')
                || (chars[i - 1] == '-' && i > 1 && chars[i - 2].is_ascii_alphabetic()));
        let previous_word =
            latin_words(&chars[i.saturating_sub(8)..i].iter().collect::<String>()).pop().unwrap_or_default();
        let sized = matches!(previous_word.as_str(), "size" | "us" | "eu" | "uk" | "sz");
        if !glued && !sized && !followed_by_unit(&chars[end..]) {
            out.push(Amount { start: i, end, cents });
        }
        i = end.max(i + 1);
    }
    out
}

fn followed_by_unit(rest: &[char]) -> bool {
    let rest: String = rest.iter().collect::<String>();
    let rest = rest.trim_start();
    let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
    if !word.is_empty() {
        return UNITS.contains(&word.as_str());
    }
    UNITS.iter().any(|u| !u.is_ascii() && rest.starts_with(u)) || rest.starts_with('%')
}

/// An amount in yuan at `i`, as cents, with its end: digits with thousands commas and up to two
/// decimals, or Chinese numerals with a unit ("五百", "两千").
fn number_at(chars: &[char], i: usize) -> Option<(i64, usize)> {
    if chars[i].is_ascii_digit() {
        let mut end = i;
        let mut yuan: i64 = 0;
        let mut digits = 0;
        while end < chars.len() {
            let c = chars[end];
            if let Some(d) = c.to_digit(10) {
                yuan = yuan.checked_mul(10)?.checked_add(i64::from(d))?;
                digits += 1;
                end += 1;
            } else if c == ',' && chars.get(end + 1..end + 4).is_some_and(|g| g.iter().all(char::is_ascii_digit)) {
                end += 1;
            } else {
                break;
            }
        }
        // Order numbers, phone numbers: too long to be a price asked about.
        if digits > 7 {
            return None;
        }
        let mut cents = yuan.checked_mul(100)?;
        if chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
            let decimals: Vec<u32> = chars[end + 1..].iter().map_while(|c| c.to_digit(10)).collect();
            let tenths = decimals.first().copied().unwrap_or(0);
            let hundredths = decimals.get(1).copied().unwrap_or(0);
            cents += i64::from(tenths * 10 + hundredths);
            end += 1 + decimals.len();
        }
        // "5千", "1万", "2k".
        let scale = match chars.get(end) {
            Some('千') => 1000,
            Some('万') => 10_000,
            Some('k') if !chars.get(end + 1).is_some_and(char::is_ascii_alphabetic) => 1000,
            _ => 1,
        };
        if scale > 1 {
            return Some((cents.checked_mul(scale)?, end + 1));
        }
        return Some((cents, end));
    }
    let numeral = |c: &char| "零〇一二两三四五六七八九十百千万".contains(*c);
    let end = i + chars[i..].iter().take_while(|c| numeral(c)).count();
    let run: String = chars[i..end].iter().collect();
    let has_unit = run.contains(['十', '百', '千', '万']);
    let priced = chars.get(end).is_some_and(|c| matches!(c, '元' | '块'));
    if end == i || !(has_unit || priced) {
        return None;
    }
    parse_cn_number(&run).and_then(|yuan| yuan.checked_mul(100)).map(|cents| (cents, end))
}

// ---------------------------------------------------------------------------------------------
// Catalogue words

/// One thing the question asks for, as the catalogue can match it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// A stemmed English word, matched against name words and tags.
    Word(String),
    /// Two adjacent characters, at least one Chinese, matched inside the Chinese name.
    Chars(String),
    Category(Category),
}

impl Term {
    /// A category names what is asked for more surely than any one word.
    fn weight(&self) -> usize {
        match self {
            Term::Category(_) => 2,
            _ => 1,
        }
    }

    fn describe(&self) -> String {
        match self {
            Term::Word(w) | Term::Chars(w) => w.clone(),
            Term::Category(Category::Shoes) => "category:shoes".into(),
            Term::Category(Category::Apparel) => "category:apparel".into(),
            Term::Category(Category::Appliances) => "category:appliances".into(),
            Term::Category(Category::Consumables) => "category:consumables".into(),
        }
    }
}

/// Words for the catalogue's four categories.
const CATEGORY_WORDS: &[(&str, Category)] = &[
    ("鞋", Category::Shoes),
    ("shoe", Category::Shoes),
    ("sneaker", Category::Shoes),
    ("trainer", Category::Shoes),
    ("footwear", Category::Shoes),
    ("衣服", Category::Apparel),
    ("服装", Category::Apparel),
    ("服饰", Category::Apparel),
    ("上衣", Category::Apparel),
    ("apparel", Category::Apparel),
    ("clothe", Category::Apparel),
    ("clothing", Category::Apparel),
    ("garment", Category::Apparel),
    ("家电", Category::Appliances),
    ("电器", Category::Appliances),
    ("appliance", Category::Appliances),
    ("耗材", Category::Consumables),
    ("consumable", Category::Consumables),
    ("refill", Category::Consumables),
];

/// English words of asking that name no product.
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "for",
    "to",
    "in",
    "on",
    "at",
    "by",
    "with",
    "without",
    "from",
    "into",
    "as",
    "is",
    "are",
    "was",
    "be",
    "am",
    "do",
    "doe",
    "does",
    "did",
    "dont",
    "you",
    "your",
    "we",
    "our",
    "us",
    "i",
    "me",
    "my",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "there",
    "here",
    "what",
    "whats",
    "which",
    "who",
    "how",
    "why",
    "when",
    "where",
    "any",
    "some",
    "all",
    "every",
    "each",
    "other",
    "anything",
    "something",
    "thing",
    "one",
    "have",
    "ha",
    "has",
    "had",
    "get",
    "got",
    "can",
    "could",
    "would",
    "should",
    "will",
    "may",
    "please",
    "pls",
    "thank",
    "thanks",
    "hi",
    "hello",
    "want",
    "need",
    "looking",
    "look",
    "find",
    "show",
    "list",
    "tell",
    "give",
    "sell",
    "carry",
    "stock",
    "offer",
    "recommend",
    "suggest",
    "cheap",
    "cheaper",
    "cheapest",
    "expensive",
    "priciest",
    "most",
    "least",
    "price",
    "priced",
    "cost",
    "under",
    "below",
    "less",
    "lower",
    "than",
    "over",
    "above",
    "more",
    "between",
    "up",
    "max",
    "maximum",
    "min",
    "minimum",
    "budget",
    "around",
    "about",
    "roughly",
    "range",
    "size",
    "sized",
    "colour",
    "color",
    "available",
    "option",
    "model",
    "kind",
    "type",
    "stuff",
    "item",
    "product",
    "like",
    "good",
    "nice",
    "just",
    "only",
    "also",
    "really",
    "very",
    "much",
    "many",
    "yuan",
    "rmb",
    "kuai",
    "dollar",
    "buck",
    "cny",
    "eu",
    "uk",
    "not",
    "no",
    "yes",
    "guy",
    "currently",
    "now",
    "right",
];

/// The catalogue products a question names and the terms that named them.
pub struct Named<'a> {
    pub terms: Vec<String>,
    /// The best-matching products, in catalogue order.
    pub products: Vec<&'a Product>,
}

/// The products whose words fit the question best: each matching term adds its weight, and
/// only the top score is kept ("running shoes" lists shoes, not running shirts). The whole
/// catalogue when the question names nothing but asks about price ("anything under 100?");
/// None when it names nothing in the catalogue and states no price: then it is not a
/// question about the catalogue after all.
pub fn named_products<'a>(catalogue: &'a [Product], query: &ProductQuery) -> Option<Named<'a>> {
    let words: Vec<String> = latin_words(&query.text).iter().map(|w| stem(w)).collect();
    let terms = terms(&query.text);
    let vocabularies: Vec<BTreeSet<String>> = catalogue.iter().map(|p| vocabulary(p, &words)).collect();
    let matches = |term: &Term, i: usize| match term {
        Term::Word(w) => vocabularies[i].contains(w),
        Term::Chars(pair) => fold(&catalogue[i].name_zh).contains(pair.as_str()),
        Term::Category(c) => catalogue[i].category == *c,
    };
    let useful: Vec<&Term> = terms.iter().filter(|t| (0..catalogue.len()).any(|i| matches(t, i))).collect();
    if unmatched_head(&query.text, &terms, &useful) {
        return None;
    }
    if useful.is_empty() {
        let asks_price = !query.price.is_open() || query.sort != Sort::Relevance;
        return asks_price.then(|| Named { terms: Vec::new(), products: catalogue.iter().collect() });
    }
    let scores: Vec<usize> =
        (0..catalogue.len()).map(|i| useful.iter().filter(|t| matches(t, i)).map(|t| t.weight()).sum()).collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    Some(Named {
        terms: useful.iter().map(|t| t.describe()).collect(),
        products: catalogue.iter().zip(&scores).filter(|(_, s)| **s == best).map(|(p, _)| p).collect(),
    })
}

/// Whether the first English noun phrase ends in a word no product has while another of its
/// words matched: "a GPS running watch" is a watch, and the shop sells no watch, however many
/// running shoes it has.
fn unmatched_head(text: &str, terms: &[Term], useful: &[&Term]) -> bool {
    let words = latin_words(text);
    let content =
        |w: &String| w.len() >= 2 && !STOPWORDS.contains(&w.as_str()) && !STOPWORDS.contains(&stem(w).as_str());
    let Some(start) = words.iter().position(content) else { return false };
    // Numbers belong to the phrase ("Stride Glide 3") but do not end it.
    let run: Vec<String> = words[start..]
        .iter()
        .take_while(|w| content(w) || w.bytes().all(|b| b.is_ascii_digit()))
        .filter(|w| !w.bytes().all(|b| b.is_ascii_digit()))
        .map(|w| stem(w))
        .collect();
    let term_of = |w: &String| {
        terms.iter().find(|t| match t {
            Term::Word(tw) => tw == w,
            Term::Category(c) => CATEGORY_WORDS.iter().any(|(cw, cc)| cw == w && cc == c),
            Term::Chars(_) => false,
        })
    };
    let is_useful = |w: &String| term_of(w).is_some_and(|t| useful.contains(&t));
    match run.split_last() {
        Some((head, modifiers)) => !is_useful(head) && modifiers.iter().any(is_useful),
        None => false,
    }
}

/// The terms of a folded question: category words first (their characters are then spent),
/// gender characters, English words, Chinese character pairs.
fn terms(text: &str) -> Vec<Term> {
    let mut rest = text.replace(['\'', '’'], "");
    let mut terms = Vec::new();
    let mut add = |term: Term| {
        if !terms.contains(&term) {
            terms.push(term);
        }
    };
    for &(word, category) in CATEGORY_WORDS {
        if word.is_ascii() {
            continue;
        }
        if rest.contains(word) {
            add(Term::Category(category));
            rest = rest.replace(word, " ");
        }
    }
    for (c, tag) in [('男', "men"), ('女', "women")] {
        if rest.contains(c) {
            add(Term::Word(tag.into()));
        }
    }
    for word in latin_words(&rest) {
        let stemmed = stem(&word);
        if let Some(&(_, category)) = CATEGORY_WORDS.iter().find(|(w, _)| *w == stemmed) {
            add(Term::Category(category));
        } else if word.len() >= 2
            && !word.bytes().all(|b| b.is_ascii_digit())
            && !STOPWORDS.contains(&word.as_str())
            && !STOPWORDS.contains(&stemmed.as_str())
        {
            add(Term::Word(stemmed));
        }
    }
    let chars: Vec<char> = rest.chars().collect();
    for pair in chars.windows(2) {
        let joined = pair.iter().all(|c| is_cjk(*c) || c.is_ascii_alphanumeric());
        if joined && pair.iter().any(|c| is_cjk(*c)) {
            add(Term::Chars(pair.iter().collect()));
        }
    }
    terms
}

/// A product's English words: its name's, its one-word tags, the words of longer tags the
/// question spells out ("short sleeve"), and "men"/"women" for unisex products.
fn vocabulary(product: &Product, question_words: &[String]) -> BTreeSet<String> {
    let mut words: BTreeSet<String> = latin_words(&fold(&product.name_en)).iter().map(|w| stem(w)).collect();
    for tag in &product.tags {
        let parts: Vec<String> = latin_words(&fold(tag)).iter().map(|w| stem(w)).collect();
        let spelled = parts.len() == 1 || question_words.windows(parts.len()).any(|w| w == parts.as_slice());
        if spelled {
            words.extend(parts);
        }
        if tag == "unisex" {
            words.extend(["men".to_string(), "women".to_string()]);
        }
    }
    words
}

/// Plural to singular, enough for product nouns ("shoes", "brushes", "accessories", "mens").
fn stem(word: &str) -> String {
    let n = word.len();
    if n > 4 && word.ends_with("ies") {
        format!("{}y", &word[..n - 3])
    } else if n > 4 && ["ches", "shes", "sses", "xes"].iter().any(|s| word.ends_with(s)) {
        word[..n - 2].to_string()
    } else if n > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        word[..n - 1].to_string()
    } else {
        word.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> (Option<i64>, Option<i64>) {
        let r = price_range(&fold(text));
        (r.min_cents, r.max_cents)
    }

    #[test]
    fn price_ceilings_floors_and_ranges_in_cents() {
        for (text, expected) in [
            ("有没有500元以下的跑鞋?", (None, Some(50000))),
            ("500以内的外套", (None, Some(50000))),
            ("不超过1000元的跑鞋有哪些", (None, Some(100000))),
            ("预算五百块以内", (None, Some(50000))),
            ("running shoes under $800", (None, Some(80000))),
            ("anything below 300?", (None, Some(30000))),
            ("less than 99.5 yuan", (None, Some(9950))),
            ("no more than 1,200", (None, Some(120000))),
            ("300-500的跑步外套有吗", (Some(30000), Some(50000))),
            ("¥300-¥500", (Some(30000), Some(50000))),
            ("有什么200到400之间的衣服", (Some(20000), Some(40000))),
            ("两百到四百的衣服", (Some(20000), Some(40000))),
            ("show me running shoes between 600 and 900", (Some(60000), Some(90000))),
            ("from 200 to 400", (Some(20000), Some(40000))),
            ("1000元以上的家电", (Some(100000), None)),
            ("over 2000 please", (Some(200000), None)),
            ("500左右的跑鞋", (Some(40000), Some(60000))),
            ("5千以下的家电", (None, Some(500000))),
        ] {
            assert_eq!(range(text), expected, "{text}");
        }
    }

    #[test]
    fn sizes_counts_skus_dates_and_orders_are_not_prices() {
        for text in [
            "which running shoes do you have in size 10?",
            "有没有白色的鞋子 42码",
            "7-9码的跑鞋",
            "size 7-9 shoes",
            "HS-RUN-101 有货吗",
            "AP300 under the sofa",
            "我的订单202611150123",
            "the 1800W kettle",
            "over 3 pairs",
            "满300减50",
            "2026-11-21 到货吗",
            "under the 300 off deal",
        ] {
            assert_eq!(range(text), (None, None), "{text}");
        }
    }

    fn query(text: &str, intent: Intent, fresh: Slots) -> Option<ProductQuery> {
        product_query(text, intent, &fresh, &fresh)
    }

    fn product(p: &str) -> Slots {
        Slots { product: Some(p.into()), ..Default::default() }
    }

    #[test]
    fn browse_questions_become_queries() {
        let none = Slots::default;
        for (text, intent, slots) in [
            ("有没有500元以下的跑鞋?", Intent::ProductInfo, none()),
            ("which running shoes do you have in size 10?", Intent::InventoryCheck, none()),
            ("扫地机器人有哪些型号", Intent::FaultDiagnosis, product("HH-RV500")),
            ("cheapest air purifier", Intent::PriceQuote, product("HH-AP300")),
            ("do you sell trail shoes", Intent::ProductInfo, product("HS-TRL-201")),
            ("what kettles do you have", Intent::ProductInfo, product("HH-KT100")),
            ("有哪些家电", Intent::Other, none()),
            ("最便宜的跑鞋是哪款", Intent::PriceQuote, none()),
            ("running shoes under 800", Intent::ProductInfo, none()),
            ("跑鞋有货吗", Intent::InventoryCheck, none()),
            ("轻驰3有哪些款", Intent::ProductInfo, product("stride-glide-3")),
            ("300-500的跑步外套有吗", Intent::ProductInfo, product("HA-JKT-130")),
            ("any purifiers under 2000 yuan?", Intent::FaultDiagnosis, product("HH-AP300")),
            ("有哪些清仓的商品", Intent::PolicyQuestion, none()),
            ("净化器滤芯有哪些", Intent::ProductInfo, product("HH-AP300-F")),
            ("你们卖不卖手机", Intent::Other, none()),
        ] {
            assert!(query(text, intent, slots).is_some(), "{text}");
        }
    }

    #[test]
    fn questions_about_one_product_or_advice_stay_where_they_were() {
        let none = Slots::default;
        for (text, intent, slots) in [
            (
                "now that everyone lives in different cities we only talk on video calls, which is nice but not the same",
                Intent::Other,
                none(),
            ),
            ("有没有黑色的跑步T恤，M码有货吗", Intent::InventoryCheck, product("HA-TEE-110")),
            ("any black jackets in size L?", Intent::InventoryCheck, product("HA-JKT-130")),
            ("Cheapest I can get the Tempo Lite for right now?", Intent::PriceQuote, product("HS-RUN-301")),
            ("轻驰3女款现在有哪些颜色有货", Intent::InventoryCheck, product("HS-RUN-102")),
            (
                "What sizes of the women's Stride Glide 3 do you have in pink?",
                Intent::InventoryCheck,
                product("HS-RUN-102"),
            ),
            ("电水壶容量多少，有哪些温度档", Intent::ProductInfo, product("HH-KT100")),
            ("Which of your running shoes is best for a marathon?", Intent::ProductInfo, none()),
            ("哪款跑鞋适合跑马拉松", Intent::ProductInfo, none()),
            ("轻驰3和山脊2有什么区别", Intent::ProductInfo, none()),
            ("are the shoes true to size?", Intent::ProductInfo, none()),
            ("跑鞋有什么优惠", Intent::PriceQuote, none()),
            ("which courier has my parcel", Intent::OrderStatus, none()),
            ("扫地机器人有哪些故障代码", Intent::FaultDiagnosis, product("HH-RV500")),
            ("哪些清仓商品不能退货", Intent::PolicyQuestion, none()),
            ("How much is the Tempo Lite, is it under 1500?", Intent::PriceQuote, product("HS-RUN-301")),
        ] {
            assert_eq!(query(text, intent, slots), None, "{text}");
        }
    }

    #[test]
    fn a_query_carries_its_filters() {
        let slots = Slots { size: Some("10".into()), color: Some("black".into()), ..Default::default() };
        let q = product_query("最便宜的有货的黑色跑鞋 10码 300-800", Intent::InventoryCheck, &slots, &slots).unwrap();
        assert_eq!(q.price, PriceRange { min_cents: Some(30000), max_cents: Some(80000) });
        assert_eq!((q.size.as_deref(), q.color.as_deref()), (Some("10"), Some("black")));
        assert!(q.in_stock_only);
        assert_eq!(q.sort, Sort::PriceLow);
        assert!(!q.asks_if_sold);
        let q = query("what's the most expensive dishwasher you sell", Intent::ProductInfo, Slots::default()).unwrap();
        assert_eq!(q.sort, Sort::PriceHigh);
        assert!(query("你们卖不卖手机", Intent::Other, Slots::default()).unwrap().asks_if_sold);
    }

    fn catalogue() -> Vec<Product> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge/store/catalog.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn named(text: &str) -> Option<Vec<String>> {
        let catalogue = catalogue();
        let q = ProductQuery {
            text: fold(text),
            price: price_range(&fold(text)),
            size: None,
            color: None,
            in_stock_only: false,
            sort: sort_of(&fold(text)),
            asks_if_sold: false,
        };
        named_products(&catalogue, &q).map(|n| n.products.iter().map(|p| p.sku.clone()).collect())
    }

    #[test]
    fn catalogue_words_name_products_in_both_languages() {
        let shoes = ["HS-RUN-101", "HS-RUN-102", "HS-TRL-201", "HS-RUN-301", "HS-RUN-091"];
        assert_eq!(named("你们有哪些跑鞋").unwrap(), shoes);
        assert_eq!(named("which running shoes do you have").unwrap(), shoes);
        assert_eq!(named("有没有白色的鞋子").unwrap(), shoes);
        assert_eq!(named("do you sell trail shoes").unwrap(), ["HS-TRL-201"]);
        assert_eq!(named("越野跑鞋有哪些").unwrap(), ["HS-TRL-201"]);
        assert_eq!(named("women's running shoes").unwrap(), ["HS-RUN-102", "HS-TRL-201"]);
        assert_eq!(named("女款跑鞋").unwrap(), ["HS-RUN-102", "HS-TRL-201"]);
        assert_eq!(named("扫地机器人有哪些型号").unwrap(), ["HH-RV500"]);
        assert_eq!(named("cheapest air purifier").unwrap(), ["HH-AP300"]);
        assert_eq!(named("running shorts").unwrap(), ["HA-SHO-120"]);
        assert_eq!(named("300-500的跑步外套有吗").unwrap(), ["HA-JKT-130"]);
        assert_eq!(named("有哪些家电").unwrap(), ["HH-AP300", "HH-RV500", "HH-DW600", "HH-KT100"]);
        assert_eq!(named("有哪些耗材").unwrap(), ["HH-AP300-F", "HH-RV500-KIT"]);
        assert_eq!(named("do you have any T恤").unwrap(), ["HA-TEE-110", "HA-TEE-091"]);
        assert_eq!(named("long sleeve running tops").unwrap(), ["HA-TEE-091"]);
    }

    #[test]
    fn unknown_words_name_nothing_unless_a_price_is_asked() {
        assert!(named("do you sell tennis rackets?").is_none());
        // A matching modifier does not make an unsold thing sold.
        assert!(named("Do you sell a Halden GPS running watch?").is_none());
        assert!(named("any waterproof running backpacks").is_none());
        assert_eq!(named("running shoes for flat feet").unwrap().len(), 5);
        assert!(named("有哪些优惠").is_none());
        assert_eq!(named("what's the cheapest thing you sell").unwrap().len(), 16);
        assert_eq!(named("anything under 100 yuan").unwrap().len(), 16);
    }

    proptest::proptest! {
        #[test]
        fn any_message_parses_without_panic(message in "[0-9０-９.,¥$ a-z元块以下内上到至和之间千万百两五-]{0,40}") {
            let range = price_range(&fold(&message));
            proptest::prop_assert!(range.min_cents.is_none_or(|c| c >= 0));
            proptest::prop_assert!(range.max_cents.is_none_or(|c| c >= 0));
            let _ = product_query(&message, Intent::ProductInfo, &Slots::default(), &Slots::default());
        }
    }

    #[test]
    fn plurals_fold_to_the_singular() {
        assert_eq!(stem("shoes"), "shoe");
        assert_eq!(stem("brushes"), "brush");
        assert_eq!(stem("accessories"), "accessory");
        assert_eq!(stem("womens"), "women");
        assert_eq!(stem("glass"), "glass");
    }
}
