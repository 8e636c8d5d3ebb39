//! Slots of one message and the normalisers behind them. The conventions are those of
//! [`Slots`]: "E-21" -> "E21", "九码" -> "9", "黑色" -> "black", "两双" -> 2, 12-digit order
//! numbers only, SKUs as the catalogue writes them, coupon codes upper-case.
//!
//! The scanners work on the folded message (ASCII lower-cased, full-width folded, one char per
//! char of the original), so the original is consulted only where case matters ("M" alone).

use super::products::ProductNames;
use crate::domain::turn::Slots;
use crate::text::{find_codes, find_skus, normalize_code};

pub(super) fn extract(folded: &str, original: &str, products: &ProductNames, coupons: &[String]) -> Slots {
    let chars: Vec<char> = folded.chars().collect();
    let mut used = vec![false; chars.len()];
    let order_id = order_id(&chars, &mut used);
    let points = points(&chars, &mut used);
    let size = size(&chars, &original.chars().collect::<Vec<_>>(), &mut used);
    mark_names(folded, products, &mut used);
    let name_follows = |at: usize| products.name_soon(&chars[at..].iter().collect::<String>());
    let quantity = quantity(&chars, &mut used, &name_follows);
    let sku = find_skus(original).into_iter().find_map(|s| products.catalogue_sku(&s));
    // A basket of several products is about the first; a written SKU already says which
    // product, and its name next to it adds nothing.
    let product = match products.items(folded).as_slice() {
        [first, _, ..] => Some(first.0.clone()),
        _ => products.resolve(folded),
    };
    let product = product.filter(|p| sku.as_ref().is_none_or(|s| !products.names_same(s, p)));
    Slots {
        order_id,
        sku,
        product,
        size,
        color: color(&chars).map(str::to_string),
        quantity,
        fault_code: fault_code(original),
        coupon: coupon(original, folded, coupons),
        points,
    }
}

/// One product of a basket and the count stated for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketItem {
    /// SKU or family tag, as the `product` slot writes it.
    pub product: String,
    pub quantity: Option<i64>,
}

/// The products a message names with the count stated next to each ("SweepBot R5 plus the
/// maintenance kit", "两双轻驰3加一个T恤"); one product named twice is counted once per mention.
pub(super) fn basket(folded: &str, original: &str, products: &ProductNames) -> Vec<BasketItem> {
    let chars: Vec<char> = folded.chars().collect();
    let mut used = vec![false; chars.len()];
    order_id(&chars, &mut used);
    points(&chars, &mut used);
    size(&chars, &original.chars().collect::<Vec<_>>(), &mut used);
    mark_names(folded, products, &mut used);
    let mut items: Vec<BasketItem> = Vec::new();
    for (product, range) in products.items(folded) {
        let segment = &chars[range.clone()];
        let name_follows = |at: usize| products.name_soon(&segment[at..].iter().collect::<String>());
        let quantity = quantity(segment, &mut used[range].to_vec(), &name_follows);
        match items.iter_mut().find(|item| item.product == product) {
            Some(item) => item.quantity = Some(item.quantity.unwrap_or(1) + quantity.unwrap_or(1)),
            None => items.push(BasketItem { product, quantity }),
        }
    }
    items
}

/// Product names are no counts, sizes or codes: "3" in "Stride Glide 3 + jacket".
fn mark_names(folded: &str, products: &ProductNames, used: &mut [bool]) {
    for range in products.name_chars(folded) {
        used[range].iter_mut().for_each(|u| *u = true);
    }
}

/// A fault code as the guides write it: one letter of E/F/H/P and one or two digits, with
/// separators dropped ("E-21" -> "E21", "f2" -> "F2"). Model names ("R5", "K1") and filter
/// grades ("H13") are not codes.
pub fn normalize_fault_code(token: &str) -> Option<String> {
    let code = normalize_code(token)?;
    let mut chars = code.chars();
    let letter = chars.next()?;
    let digits: String = chars.collect();
    let shaped = matches!(letter, 'E' | 'F' | 'H' | 'P')
        && (1..=2).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !(letter == 'H' && digits.len() == 2);
    shaped.then_some(code)
}

fn fault_code(original: &str) -> Option<String> {
    // find_codes sorts; the code mentioned first is the one asked about.
    let mut codes: Vec<(usize, String)> = find_codes(original)
        .into_iter()
        .filter_map(|c| normalize_fault_code(&c))
        .map(|c| (first_mention(original, &c), c))
        .collect();
    codes.sort();
    codes.into_iter().next().map(|(_, c)| c).or_else(|| spoken_code(original))
}

/// An error number as voice prompts say it and shoppers repeat it: "错误21", "报错 5",
/// "error 5" are E21 and E5 (the manuals: "语音只报数字，'错误12'即 E12").
fn spoken_code(original: &str) -> Option<String> {
    const MARKERS: &[&str] = &["错误", "报错", "error", "err"];
    let lower = original.to_lowercase();
    MARKERS.iter().find_map(|marker| {
        lower.match_indices(marker).find_map(|(at, m)| {
            let rest = lower[at + m.len()..].trim_start_matches([' ', '"', '“', '”', ':', '：', '#']);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let tail = &rest[digits.len()..];
            let after = tail.chars().next();
            let next_word: String =
                tail.trim_start().chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>();
            let counts = ["time", "times", "day", "days", "min", "mins", "minutes", "hours", "hrs"]
                .contains(&next_word.as_str())
                || tail.trim_start().starts_with(|c: char| "次天年个遍小分秒".contains(c));
            // "错误2次", "error 404", "error 5.1" are no codes.
            let decimal = after == Some('.') && tail[1..].starts_with(|c: char| c.is_ascii_digit());
            let ends = !counts && !decimal && after.is_none_or(|c| !c.is_ascii_alphanumeric());
            ((1..=2).contains(&digits.len()) && ends).then(|| format!("E{digits}"))
        })
    })
}

/// Where a normalised code first appears in text, separators ignored.
fn first_mention(text: &str, code: &str) -> usize {
    let squeezed: Vec<(usize, char)> = text
        .char_indices()
        .filter(|(_, c)| !matches!(c, '-' | '_'))
        .map(|(i, c)| (i, c.to_ascii_uppercase()))
        .collect();
    let target: Vec<char> = code.chars().collect();
    squeezed
        .windows(target.len())
        .find(|w| w.iter().map(|(_, c)| *c).eq(target.iter().copied()))
        .map_or(usize::MAX, |w| w[0].0)
}

/// Shoe sizes as the bare number ("US 9", "9码", "九码" -> "9"; "九码半" -> "9.5"), EU sizes
/// converted by the size chart, apparel letters upper-case ("m" / "中码" -> "M").
pub fn normalize_size(raw: &str) -> Option<String> {
    let folded = super::fold(raw);
    let chars: Vec<char> = folded.chars().collect();
    let mut used = vec![false; chars.len()];
    size(&chars, &raw.chars().collect::<Vec<_>>(), &mut used)
        .or_else(|| letter_size(folded.trim()).map(str::to_string))
        .or_else(|| {
            ascii_number(&chars, 0).filter(|&(_, end)| end == chars.len()).and_then(|(v, _)| shoe_size(v, false))
        })
}

/// Lower-case English colour words ("黑色" / "黑的" / "Black" -> "black").
pub fn normalize_color(raw: &str) -> Option<&'static str> {
    color(&super::fold(raw).chars().collect::<Vec<_>>())
}

/// A stated count of items ("两双" -> 2, "三件" -> 3, "2 pairs" -> 2).
pub fn parse_quantity(raw: &str) -> Option<i64> {
    let chars: Vec<char> = super::fold(raw).chars().collect();
    quantity(&chars, &mut vec![false; chars.len()], &|_| false)
}

/// Chinese numerals up to the ten-thousands: "三" -> 3, "十一" -> 11, "两千" -> 2000.
pub fn parse_cn_number(text: &str) -> Option<i64> {
    let (mut total, mut section, mut digit): (i64, i64, Option<i64>) = (0, 0, None);
    for c in text.chars() {
        if let Some(d) = cn_digit(c) {
            digit = Some(d);
            continue;
        }
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            '万' => 10_000,
            _ => return None,
        };
        if unit == 10_000 {
            total += (section + digit.take().unwrap_or(0)).max(1) * unit;
            section = 0;
        } else {
            section += digit.take().unwrap_or(1) * unit;
        }
    }
    let value = total + section + digit.unwrap_or(0);
    (!text.is_empty()).then_some(value)
}

fn cn_digit(c: char) -> Option<i64> {
    "零一二三四五六七八九".chars().position(|d| d == c).map(|p| p as i64).or(match c {
        '〇' => Some(0),
        '两' | '俩' => Some(2),
        _ => None,
    })
}

fn is_cn_numeral(c: char) -> bool {
    cn_digit(c).is_some() || matches!(c, '十' | '百' | '千' | '万')
}

fn order_id(chars: &[char], used: &mut [bool]) -> Option<String> {
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let end = i + chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        // "SF1234..." is a tracking number, not an order.
        let glued =
            (i > 0 && chars[i - 1].is_ascii_alphabetic()) || chars.get(end).is_some_and(char::is_ascii_alphabetic);
        if end - i == 12 && !glued {
            used[i..end].iter_mut().for_each(|u| *u = true);
            return Some(chars[i..end].iter().collect());
        }
        i = end;
    }
    None
}

/// An ASCII number starting at `i` (not inside a word or another number): digits, thousands
/// commas, a decimal part. Returns the value and the end index.
fn ascii_number(chars: &[char], i: usize) -> Option<(f64, usize)> {
    // Not inside a word, a range or a number ("1,299", "2.5"); after a comma ending a clause it starts.
    let inside_number = |k: usize| matches!(chars[k], '.' | ',') && k > 0 && chars[k - 1].is_ascii_digit();
    let starts = chars.get(i)?.is_ascii_digit()
        && (i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '-' || inside_number(i - 1)));
    if !starts {
        return None;
    }
    let mut end = i;
    let mut text = String::new();
    while end < chars.len() {
        let c = chars[end];
        if c.is_ascii_digit() {
            text.push(c);
            end += 1;
        } else if c == ',' && chars.len() >= end + 4 && chars[end + 1..end + 4].iter().all(char::is_ascii_digit) {
            end += 1;
        } else if c == '.' && !text.contains('.') && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
            text.push('.');
            end += 1;
        } else {
            break;
        }
    }
    text.parse().ok().map(|v| (v, end))
}

/// A number in digits or Chinese numerals at `i`, as an integer, with its end.
fn integer_at(chars: &[char], i: usize) -> Option<(i64, usize)> {
    if let Some((v, end)) = ascii_number(chars, i) {
        return (v.fract() == 0.0).then_some((v as i64, end));
    }
    if !is_cn_numeral(*chars.get(i)?) {
        return None;
    }
    let end = i + chars[i..].iter().take_while(|&&c| is_cn_numeral(c)).count();
    parse_cn_number(&chars[i..end].iter().collect::<String>()).map(|v| (v, end))
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

fn at(chars: &[char], i: usize, pattern: &str) -> bool {
    pattern.chars().enumerate().all(|(k, p)| chars.get(i + k) == Some(&p))
}

/// `word` at `i` as a whole ASCII word.
fn word_at(chars: &[char], i: usize, word: &str) -> bool {
    let end = i + word.chars().count();
    at(chars, i, word)
        && (i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '\''))
        && chars.get(end).is_none_or(|c| !c.is_ascii_alphabetic())
}

fn any_word_at<'a>(chars: &[char], i: usize, words: &[&'a str]) -> Option<&'a str> {
    words.iter().copied().filter(|w| word_at(chars, i, w)).max_by_key(|w| w.len())
}

fn contains(chars: &[char], pattern: &str) -> bool {
    (0..chars.len()).any(|i| at(chars, i, pattern))
}

fn points(chars: &[char], used: &mut [bool]) -> Option<i64> {
    const UNITS: &[&str] = &["积分", "个积分", "分积分", "points", "point", "pts", "of my points"];
    const LEADS: &[&str] = &["积分抵扣", "积分抵", "积分用", "积分兑换", "积分"];
    for i in 0..chars.len() {
        if used[i] {
            continue;
        }
        // "2000积分", "2,000 points", "1万积分"
        if let Some((value, end)) = points_number(chars, i) {
            let j = skip_spaces(chars, end);
            if UNITS.iter().any(|u| at(chars, j, u)) {
                used[i..end].iter_mut().for_each(|u| *u = true);
                return Some(value);
            }
        }
        // "积分抵扣2000", "积分 500"
        if let Some(lead) = LEADS.iter().find(|l| at(chars, i, l)) {
            let j = skip_spaces(chars, i + lead.chars().count());
            if let Some((value, end)) = points_number(chars, j).filter(|&(v, _)| v >= 10) {
                used[j..end].iter_mut().for_each(|u| *u = true);
                return Some(value);
            }
        }
    }
    None
}

/// An integer with an optional 万/千/k multiplier ("1万" -> 10000, "2k" -> 2000).
fn points_number(chars: &[char], i: usize) -> Option<(i64, usize)> {
    let (mut value, mut end) = integer_at(chars, i)?;
    let multiplier = match chars.get(end) {
        Some('万') => 10_000,
        Some('千') | Some('k') => 1000,
        _ => 1,
    };
    if multiplier > 1 && !is_cn_numeral(chars[i]) {
        value *= multiplier;
        end += 1;
    }
    Some((value, end))
}

/// Nouns an English count may stand before ("2 pairs", "three jackets").
const COUNT_NOUNS: &[&str] = &[
    "pair",
    "pairs",
    "pcs",
    "piece",
    "pieces",
    "unit",
    "units",
    "item",
    "items",
    "box",
    "boxes",
    "pack",
    "packs",
    "set",
    "sets",
    "bottle",
    "bottles",
    "shirts",
    "t-shirts",
    "tees",
    "jackets",
    "shorts",
    "socks",
    "filters",
    "kits",
    "kettles",
    "purifiers",
    "vacuums",
    "dishwashers",
    "shoes",
    "sneakers",
    "of them",
    "of these",
    "of those",
    "more",
];
const NUMBER_WORDS: &[&str] = &["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
/// Chinese measure words for items; "个" only for two or more (一个 is mostly "a").
const MEASURES: &str = "双件台个条盒套只包份箱瓶支";
/// What after "个"/"件" shows the count is of something other than items.
const NOT_ITEMS: &[&str] =
    &["问题", "月", "小时", "星期", "礼拜", "工作日", "人", "地方", "字", "订单", "号", "事", "多"];

/// Verbs a bare count may follow ("I need 3", "make it 2").
const COUNT_VERBS: &[&str] = &["buy", "need", "want", "get", "order", "take", "make it", "买", "要", "订"];
/// Units that show a number is not a count of items.
const NOT_ITEM_UNITS: &[&str] = &[
    "day", "days", "hour", "hours", "minute", "minutes", "mins", "week", "weeks", "month", "months", "year", "years",
    "business", "working", "cm", "mm", "kg", "km", "%", "yuan", "rmb", "points", "point", "percent", "times", "天",
    "小时", "分钟", "周", "个月", "年", "元", "块", "积分", "公里", "公斤", "斤", "次", "码", "号", "折",
];

/// A stated count of items: a number before a measure word, a count noun or a product name
/// ("两双", "2 pairs", "20 PureAir 300 units"), after "quantity", or a bare number after a
/// buying verb ("I need 3"). "一双"/"一台" is an article ("a pair"), not a count.
fn quantity(chars: &[char], used: &mut [bool], name_follows: &dyn Fn(usize) -> bool) -> Option<i64> {
    for i in 0..chars.len() {
        if used[i] || (i > 0 && chars[i - 1] == '第') {
            continue;
        }
        // "数量改成3", "quantity to 3", "qty 2", "x2"
        for lead in [
            "数量改成",
            "数量改为",
            "数量改到",
            "数量为",
            "数量是",
            "数量",
            "quantity to",
            "quantity of",
            "quantity",
            "qty",
            "x",
            "×",
        ] {
            if (lead.starts_with(|c: char| c.is_ascii_alphabetic()) && !word_at(chars, i, lead)) || !at(chars, i, lead)
            {
                continue;
            }
            let j = skip_spaces(chars, i + lead.chars().count());
            let j = if matches!(chars.get(j), Some(':' | '=' | '：')) { skip_spaces(chars, j + 1) } else { j };
            if let Some((n, end)) = integer_at(chars, j).filter(|&(n, _)| (1..=99).contains(&n)) {
                used[j..end].iter_mut().for_each(|u| *u = true);
                return Some(n);
            }
        }
        let Some((n, end)) = integer_at(chars, i).or_else(|| number_word(chars, i)) else { continue };
        let article = chars[i] == '一' && end == i + 1;
        if !(1..=99).contains(&n) || article {
            continue;
        }
        let j = skip_spaces(chars, end);
        let zh_count = chars.get(j).is_some_and(|&measure| {
            let rest = &chars[j + 1..];
            // "3双装" is a pack size, "一个问题" a question, "两个月" a time.
            let pack = rest.first() == Some(&'装');
            let not_items = matches!(measure, '个' | '件') && NOT_ITEMS.iter().any(|w| at(rest, 0, w));
            let article_like = measure == '个' && n < 2;
            MEASURES.contains(measure) && !(pack || not_items || article_like)
        });
        let en_count = j > end && any_word_at(chars, j, COUNT_NOUNS).is_some();
        let unit_follows = NOT_ITEM_UNITS.iter().any(|u| at(chars, j, u));
        let of_a_product = !unit_follows && j > end && chars[i].is_ascii_digit() && name_follows(j);
        let after_verb = COUNT_VERBS.iter().any(|v| {
            let before: String = chars[..i].iter().collect::<String>();
            before.trim_end().ends_with(v) && (!v.is_ascii() || before.trim_end().len() < before.len())
        });
        if zh_count || en_count || of_a_product || (after_verb && !unit_follows) {
            used[i..end].iter_mut().for_each(|u| *u = true);
            return Some(n);
        }
    }
    None
}

fn number_word(chars: &[char], i: usize) -> Option<(i64, usize)> {
    let word = any_word_at(chars, i, NUMBER_WORDS)?;
    let value = NUMBER_WORDS.iter().position(|w| *w == word)? as i64 + 1;
    Some((value, i + word.len()))
}

/// Men's and women's US sizes by EU size, from the size chart.
const EU_MEN: &[(f64, &str)] = &[
    (40.0, "7"),
    (40.5, "7.5"),
    (41.0, "8"),
    (42.0, "8.5"),
    (42.5, "9"),
    (43.0, "9.5"),
    (44.0, "10"),
    (44.5, "10.5"),
    (45.0, "11"),
    (46.0, "12"),
];
const EU_WOMEN: &[(f64, &str)] = &[(35.5, "5"), (36.5, "6"), (38.0, "7"), (39.0, "8"), (40.5, "9")];

/// A shoe size as the catalogue's number: US sizes as written, EU sizes by the chart.
fn shoe_size(value: f64, women: bool) -> Option<String> {
    if (4.0..=15.0).contains(&value) && (value * 2.0).fract() == 0.0 {
        return Some(if value.fract() == 0.0 { format!("{}", value as i64) } else { format!("{value}") });
    }
    let chart = if women { [EU_WOMEN, EU_MEN] } else { [EU_MEN, EU_WOMEN] };
    chart.iter().find_map(|c| c.iter().find(|(eu, _)| (eu - value).abs() < 0.01)).map(|(_, us)| us.to_string())
}

fn letter_size(word: &str) -> Option<&'static str> {
    Some(match word {
        "xxs" => "XXS",
        "xs" | "extra small" => "XS",
        "s" | "small" => "S",
        "m" | "medium" => "M",
        "l" | "large" => "L",
        "xl" | "extra large" | "x-large" | "x large" => "XL",
        "xxl" | "2xl" | "xx-large" | "xx large" => "XXL",
        "xxxl" | "3xl" => "XXXL",
        _ => return None,
    })
}

const LETTER_SIZES: &[&str] = &[
    "xxs",
    "xs",
    "s",
    "m",
    "l",
    "xl",
    "xxl",
    "2xl",
    "xxxl",
    "3xl",
    "small",
    "medium",
    "large",
    "extra small",
    "extra large",
    "x-large",
    "x large",
    "xx-large",
    "xx large",
];
const ZH_LETTER_SIZES: &[(&str, &str)] = &[
    ("加加大", "XXL"),
    ("特大号", "XXL"),
    ("加大码", "XL"),
    ("加大号", "XL"),
    ("加大", "XL"),
    ("特小号", "XS"),
    ("特小码", "XS"),
    ("中码", "M"),
    ("中号", "M"),
    ("小码", "S"),
    ("小号", "S"),
    ("大码", "L"),
    ("大号", "L"),
];

fn size(chars: &[char], original: &[char], used: &mut [bool]) -> Option<String> {
    let women = ["女", "women", "woman", "ladies", "lady"].iter().any(|w| contains(chars, w));
    for i in 0..chars.len() {
        if used[i] {
            continue;
        }
        // "US 9", "size 9.5", "尺码42", "size M", "eu 42"
        if let Some(lead) = ["us", "size", "sz", "eu"]
            .iter()
            .find(|w| word_at(chars, i, w))
            .copied()
            .or_else(|| ["尺码", "码数", "鞋码"].into_iter().find(|w| at(chars, i, w)))
        {
            let mut j = skip_spaces(chars, i + lead.chars().count());
            if matches!(chars.get(j), Some(':' | '：')) {
                j = skip_spaces(chars, j + 1);
            }
            if let Some((v, end)) = ascii_number(chars, j) {
                let followed_by_count = any_word_at(chars, skip_spaces(chars, end), COUNT_NOUNS).is_some();
                if let Some(s) = shoe_size(v, women).filter(|_| !followed_by_count) {
                    used[j..end].iter_mut().for_each(|u| *u = true);
                    return Some(s);
                }
            }
            if let Some(word) = any_word_at(chars, j, LETTER_SIZES) {
                return letter_size(word).map(str::to_string);
            }
        }
        // "9码", "9.5码", "42码", "九码半"
        let number = ascii_number(chars, i).or_else(|| {
            let end = i + chars[i..].iter().take_while(|&&c| is_cn_numeral(c)).count();
            let value = parse_cn_number(&chars[i..end].iter().collect::<String>())?;
            (end > i && (i == 0 || !is_cn_numeral(chars[i - 1]))).then_some((value as f64, end))
        });
        if let Some((v, end)) = number {
            let j = skip_spaces(chars, end);
            if chars.get(j) == Some(&'码') {
                let half = if chars.get(j + 1) == Some(&'半') { 0.5 } else { 0.0 };
                if let Some(s) = shoe_size(v + half, women) {
                    used[i..end].iter_mut().for_each(|u| *u = true);
                    return Some(s);
                }
            }
        }
        // "m码", "XL号"
        if let Some(word) = any_word_at(chars, i, &LETTER_SIZES[..10]) {
            let j = skip_spaces(chars, i + word.len());
            if matches!(chars.get(j), Some('码' | '号')) {
                return letter_size(word).map(str::to_string);
            }
        }
        if let Some((_, letter)) = ZH_LETTER_SIZES.iter().find(|(w, _)| at(chars, i, w)) {
            return Some(letter.to_string());
        }
        // "in M", "an XL": letters written upper-case, not a unit after a number ("1.7 L").
        if let Some(word) = any_word_at(chars, i, &LETTER_SIZES[..10]) {
            let written: String = original[i..i + word.len()].iter().collect();
            let after_number = chars[..i].iter().rev().find(|c| !c.is_whitespace()).is_some_and(|c| c.is_ascii_digit());
            if written.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) && !after_number {
                return letter_size(word).map(str::to_string);
            }
        }
        // "in 8.5": a bare half-size step after "in", unless a unit follows ("in 5 days")
        if word_at(chars, i, "in") {
            let j = skip_spaces(chars, i + 2);
            if let Some((v, end)) = ascii_number(chars, j).filter(|&(_, end)| end > j) {
                let next = skip_spaces(chars, end);
                let unit = NOT_ITEM_UNITS.iter().any(|u| at(chars, next, u))
                    || any_word_at(chars, next, COUNT_NOUNS).is_some();
                if let Some(s) = shoe_size(v, women).filter(|_| !unit && (4.0..=15.0).contains(&v)) {
                    used[j..end].iter_mut().for_each(|u| *u = true);
                    return Some(s);
                }
            }
        }
        // "in medium", "in a large", "medium size"
        for lead in ["in a ", "in an ", "in "] {
            if word_at(chars, i, lead.trim_end()) && at(chars, i, lead) {
                let j = i + lead.len();
                if let Some(word) = any_word_at(chars, j, &LETTER_SIZES[10..]) {
                    return letter_size(word).map(str::to_string);
                }
            }
        }
        if let Some(word) = any_word_at(chars, i, &LETTER_SIZES[10..])
            && at(chars, skip_spaces(chars, i + word.len()), "size")
        {
            return letter_size(word).map(str::to_string);
        }
    }
    None
}

const ZH_COLORS: &[(&str, &str)] = &[
    ("橄榄绿", "olive"),
    ("橄榄色", "olive"),
    ("军绿", "olive"),
    ("藏青", "navy"),
    ("海军蓝", "navy"),
    ("粉红", "pink"),
    ("橘", "orange"),
    ("黑", "black"),
    ("白", "white"),
    ("蓝", "blue"),
    ("粉", "pink"),
    ("灰", "grey"),
    ("红", "red"),
    ("绿", "green"),
    ("橙", "orange"),
    ("银", "silver"),
    ("黄", "yellow"),
    ("紫", "purple"),
];
const EN_COLORS: &[(&str, &str)] = &[
    ("black", "black"),
    ("white", "white"),
    ("blue", "blue"),
    ("pink", "pink"),
    ("olive", "olive"),
    ("grey", "grey"),
    ("gray", "grey"),
    ("red", "red"),
    ("green", "green"),
    ("orange", "orange"),
    ("silver", "silver"),
    ("navy", "navy"),
    ("yellow", "yellow"),
    ("purple", "purple"),
];

/// Words that make "silver" a membership tier, not a colour.
const TIER_WORDS: &[&str] = &["member", "tier", "level", "gold", "platinum", "points", "会员", "积分", "等级"];
/// Words around a colour that make it the colour of a light or screen.
const LAMP_WORDS: &[&str] = &["light", "lights", "led", "indicator", "lamp", "screen", "display"];
/// Words after a colour that make it the colour of a symptom ("white spots", "白色水渍").
const SYMPTOM_WORDS: &[&str] =
    &["spot", "spots", "film", "stain", "stains", "smoke", "residue", "marks", "streaks", "mould", "mold", "rust"];
const ZH_SYMPTOM_WORDS: &[&str] =
    &["水渍", "水印", "水垢", "斑点", "污渍", "污垢", "印子", "痕迹", "锈迹", "霉点", "霉斑", "烟雾", "泡沫"];

/// The first colour named. A bare Chinese colour character counts only as a colour word
/// ("黑色", "黑的", "黑款", "橄榄绿"), so "黑屏" and "明白" are not colours; lights are not
/// product colours ("红灯", "red light", "the light is still red"), and "Silver" next to
/// membership words is a tier.
fn color(chars: &[char]) -> Option<&'static str> {
    let tier_talk = TIER_WORDS.iter().any(|w| contains(chars, w));
    for i in 0..chars.len() {
        for &(word, name) in ZH_COLORS {
            if !at(chars, i, word) {
                continue;
            }
            let end = i + word.chars().count();
            let standalone = word.chars().count() >= 2 || matches!(chars.get(end), Some('色' | '的' | '款'));
            // A light a few characters back ("空气质量灯一直是红色"), not corduroy (灯芯绒).
            let clause_start = chars[..i].iter().rposition(|c| "，。！？；,.!?;\n".contains(*c)).map_or(0, |p| p + 1);
            let near = &chars[clause_start.max(i.saturating_sub(6))..chars.len().min(end + 4)];
            let lamp =
                near.iter().enumerate().any(|(k, &c)| (c == '灯' && near.get(k + 1) != Some(&'芯')) || c == '光');
            let after = if chars.get(end) == Some(&'色') { end + 1 } else { end };
            let symptom = ZH_SYMPTOM_WORDS.iter().any(|w| at(chars, after, w));
            let idiom = i > 0 && matches!(chars[i - 1], '明' | '空' | '坦');
            if standalone && !lamp && !idiom && !symptom {
                return Some(name);
            }
        }
        for &(word, name) in EN_COLORS {
            if word_at(chars, i, word) && !(name == "silver" && tier_talk) {
                let next = skip_spaces(chars, i + word.len());
                let lamp_after = LAMP_WORDS.iter().chain(SYMPTOM_WORDS).any(|w| word_at(chars, next, w));
                let before: String = chars[i.saturating_sub(24)..i].iter().collect();
                let lamp_before = before.split(|c: char| !c.is_ascii_alphabetic()).any(|w| LAMP_WORDS.contains(&w));
                if !lamp_after && !lamp_before {
                    return Some(name);
                }
            }
        }
    }
    None
}

/// Coupon codes: a known code anywhere, or a code-shaped token ("HALDEN60", "hd60-c1005",
/// a shopper's own "HD150-C1008") written upper-case or next to a coupon word.
fn coupon(original: &str, folded: &str, known: &[String]) -> Option<String> {
    let coupon_word =
        ["券", "优惠码", "折扣码", "兑换码", "coupon", "promo", "voucher", "code"].iter().any(|w| folded.contains(w));
    original.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).find_map(|token| {
        let upper = token.trim_matches('-').to_ascii_uppercase();
        if known.contains(&upper) {
            return Some(upper);
        }
        let letters = upper.chars().take_while(char::is_ascii_alphabetic).count();
        let digits = upper[letters..].chars().take_while(char::is_ascii_digit).count();
        let tail = &upper[letters + digits..];
        let tail_ok = tail.is_empty()
            || tail.strip_prefix('-').is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphanumeric()));
        // A per-shopper code has a short prefix and an account tail: "HD60-C1002".
        let account_tail = tail.strip_prefix('-').is_some_and(|t| {
            let letters = t.chars().take_while(char::is_ascii_alphabetic).count();
            letters >= 1 && t.len() - letters >= 2 && t[letters..].chars().all(|c| c.is_ascii_digit())
        });
        let prefix_ok = (3..=8).contains(&letters) || (letters == 2 && account_tail);
        let shaped = prefix_ok && (2..=4).contains(&digits) && tail_ok;
        let written_upper = token.chars().all(|c| !c.is_ascii_lowercase());
        // Catalogue-style SKUs ("HH-AP300") are not coupons.
        let sku_like = upper.contains('-') && upper.split('-').next().is_some_and(|p| p.len() == 2);
        (shaped && !sku_like && (coupon_word || written_upper)).then_some(upper)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::understand::fold;

    fn slots(text: &str) -> Slots {
        let names = ProductNames::new(&crate::ask::understand::tests::catalog());
        extract(&fold(text), text, &names, &["HALDEN60".to_string()])
    }

    #[test]
    fn normalisers_follow_the_slot_conventions() {
        assert_eq!(normalize_fault_code("E-21").as_deref(), Some("E21"));
        assert_eq!(normalize_fault_code("e21").as_deref(), Some("E21"));
        assert_eq!(normalize_fault_code("f2").as_deref(), Some("F2"));
        assert_eq!(normalize_fault_code("E04").as_deref(), Some("E04"));
        assert_eq!(normalize_fault_code("R5"), None);
        assert_eq!(normalize_fault_code("H13"), None);
        assert_eq!(fault_code("R5 语音说传感器错误21 是啥意思").as_deref(), Some("E21"));
        assert_eq!(fault_code("the robot vacuum says \"Error 5\"").as_deref(), Some("E5"));
        assert_eq!(fault_code("报错了2次"), None);
        assert_eq!(fault_code("page says error 404"), None);
        assert_eq!(fault_code("My vacuum keeps saying error 5.").as_deref(), Some("E5"));
        assert_eq!(fault_code("I got an error 3 times at checkout"), None);
        assert_eq!(fault_code("错误 2 次"), None);
        assert_eq!(normalize_size("九码").as_deref(), Some("9"));
        assert_eq!(normalize_size("九码半").as_deref(), Some("9.5"));
        assert_eq!(normalize_size("US 9").as_deref(), Some("9"));
        assert_eq!(normalize_size("9.5码").as_deref(), Some("9.5"));
        assert_eq!(normalize_size("size 10").as_deref(), Some("10"));
        assert_eq!(normalize_size("m").as_deref(), Some("M"));
        assert_eq!(normalize_size("中码").as_deref(), Some("M"));
        assert_eq!(normalize_size("加大码").as_deref(), Some("XL"));
        assert_eq!(normalize_size("XL").as_deref(), Some("XL"));
        assert_eq!(normalize_size("42.5码").as_deref(), Some("9"));
        assert_eq!(normalize_color("黑色"), Some("black"));
        assert_eq!(normalize_color("黑的"), Some("black"));
        assert_eq!(normalize_color("Black"), Some("black"));
        assert_eq!(normalize_color("橄榄绿"), Some("olive"));
        assert_eq!(normalize_color("军绿色"), Some("olive"));
        assert_eq!(normalize_color("灰色"), Some("grey"));
        assert_eq!(normalize_color("gray"), Some("grey"));
        assert_eq!(parse_quantity("两双"), Some(2));
        assert_eq!(parse_quantity("三件"), Some(3));
        assert_eq!(parse_quantity("2 pairs"), Some(2));
        assert_eq!(parse_quantity("three jackets"), Some(3));
        assert_eq!(parse_cn_number("十一"), Some(11));
        assert_eq!(parse_cn_number("两千"), Some(2000));
        assert_eq!(parse_cn_number("一万五千"), Some(15000));
    }

    #[test]
    fn slots_of_whole_messages() {
        let s = slots("订单202611150123到哪了");
        assert_eq!(s.order_id.as_deref(), Some("202611150123"));
        assert_eq!(s.quantity, None);

        let s = slots("轻驰3 女款 九码半 粉色 要两双");
        assert_eq!((s.product.as_deref(), s.size.as_deref()), (Some("HS-RUN-102"), Some("9.5")));
        assert_eq!((s.color, s.quantity), (Some("pink".into()), Some(2)));

        let s = slots("Is HS-RUN-101 in US 10.5 black?");
        assert_eq!(
            (s.sku.as_deref(), s.size.as_deref(), s.color.as_deref()),
            (Some("HS-RUN-101"), Some("10.5"), Some("black"))
        );

        let s = slots("robot vacuum shows e-21 again");
        assert_eq!((s.fault_code.as_deref(), s.product.as_deref()), (Some("E21"), Some("HH-RV500")));

        let s = slots("用2000积分加上halden60券能便宜多少");
        assert_eq!((s.points, s.coupon.as_deref()), (Some(2000), Some("HALDEN60")));

        let s = slots("can I use code new20 with 1,500 points?");
        assert_eq!((s.points, s.coupon.as_deref()), (Some(1500), Some("NEW20")));

        let s = slots("price of 3 BoilSmart kettles in 8.5? no, I need 2");
        assert_eq!((s.quantity, s.product.as_deref(), s.size.as_deref()), (Some(3), Some("HH-KT100"), Some("8.5")));
        assert_eq!(slots("ok I need 2").quantity, Some(2));
        assert_eq!(slots("price of 2 wind jackets?").quantity, Some(2));

        let s = slots("is HH-AP300-F filter in stock");
        assert_eq!((s.sku.as_deref(), s.product), (Some("HH-AP300-F"), None));

        let s = slots("what would it cost with my coupon HD60-C1002");
        assert_eq!(s.coupon.as_deref(), Some("HD60-C1002"));
        assert_eq!(slots("apply HD150-C1008 to my order").coupon.as_deref(), Some("HD150-C1008"));
        let s = slots("women's Stride Glide 3 + Featherlight jacket, what's the total");
        assert_eq!((s.quantity, s.product.as_deref()), (None, Some("HS-RUN-102")));
        assert_eq!(slots("SweepBot R5 plus the maintenance kit").product.as_deref(), Some("HH-RV500"));
    }

    fn basket_of(text: &str) -> Vec<(String, Option<i64>)> {
        let names = ProductNames::new(&crate::ask::understand::tests::catalog());
        basket(&fold(text), text, &names).into_iter().map(|i| (i.product, i.quantity)).collect()
    }

    #[test]
    fn a_basket_has_each_product_named_with_its_own_count() {
        let own = |items: &[(&str, Option<i64>)]| -> Vec<(String, Option<i64>)> {
            items.iter().map(|(p, q)| (p.to_string(), *q)).collect()
        };
        assert_eq!(
            basket_of("SweepBot R5 plus the maintenance kit, using HALDEN150"),
            own(&[("HH-RV500", None), ("HH-RV500-KIT", None)])
        );
        assert_eq!(
            basket_of("women's Stride Glide 3 + Featherlight jacket"),
            own(&[("HS-RUN-102", None), ("HA-JKT-130", None)])
        );
        assert_eq!(basket_of("两双轻驰3女款加一件T恤"), own(&[("HS-RUN-102", Some(2)), ("HA-TEE-110", None)]));
        assert_eq!(basket_of("2 filters for the purifier"), own(&[("HH-AP300-F", Some(2))]));
        assert_eq!(basket_of("净风300 滤芯两包"), own(&[("HH-AP300-F", Some(2))]));
    }

    #[test]
    fn look_alikes_are_not_slots() {
        let s = slots("我有一个问题，屏幕黑屏了，指示灯红色闪烁");
        assert_eq!((s.quantity, s.color.as_deref()), (None, None));
        let s = slots("the kettle holds 1.7 L and the red light blinks");
        assert_eq!((s.size.as_deref(), s.color.as_deref()), (None, None));
        let s = slots("SweepBot R5 and BoilSmart K1, HEPA H13");
        assert_eq!(s.fault_code, None);
        let s = slots("tracking SF1234567890123, phone 13800138000, order 20261115012");
        assert_eq!(s.order_id, None);
        let s = slots("I'm not sure, 我不明白");
        assert!(s.is_empty(), "{s:?}");
        let s = slots("11月9号下单的");
        assert_eq!(s.size, None);
        let s = slots("缓震跑袜3双装");
        assert_eq!(s.quantity, None);
        let s = slots("想买一台洗碗机，一双跑鞋");
        assert_eq!(s.quantity, None);
        let s = slots("Am I still Silver or Gold member?");
        assert_eq!(s.color, None);
        assert_eq!(slots("Tempo Lite白的，9码，现在能下单吗").size.as_deref(), Some("9"));
        let s = slots("the filter light is still red");
        assert_eq!(s.color, None);
        // A colour of a symptom or of a light further back in the clause is no product colour.
        for symptom in ["洗完碗上有白色水渍", "white spots on the glasses", "空气质量灯一直是红色", "出风口有黑色污渍"]
        {
            assert_eq!(slots(symptom).color, None, "{symptom}");
        }
        assert_eq!(slots("灯很好看，要白色的").color.as_deref(), Some("white"));
        for product in ["有白色水壶吗", "黑色印花T恤有M码吗", "灯芯绒外套有黑色的吗"] {
            assert!(slots(product).color.is_some(), "{product}");
        }
        let s = slots("arrives in 5 days");
        assert_eq!((s.size, s.quantity), (None, None));
    }
}
