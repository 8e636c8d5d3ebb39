//! Quantities written in text: a number with its unit ("2.5厘米", "20 mm", "5-10 days",
//! "¥299"), or a time of day ("下午三点", "16:00", "4 pm"). A shopper stating one ("paid at
//! 3 pm", "a 2.5 cm threshold") compares it with the limit a page states in the same
//! dimension ("before 16:00", "climbs 20 mm"), which is rarely the same number.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Length,
    Weight,
    Volume,
    Duration,
    TimeOfDay,
    /// Temperature or angle: both are written "度".
    Degrees,
    Money,
    Percent,
    Power,
    Pressure,
    Charge,
    Energy,
    Loudness,
    Frequency,
}

/// A quantity and the bytes of `text` it takes, unit and any prefix included.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub dimension: Dimension,
    pub span: Range<usize>,
}

use Dimension::*;

/// Units after a number, lower-case. The longest one written wins ("mm" over "m", "个工作日"
/// over "工作日"); Latin ones must end at a word boundary ("5 min", not "5 mind").
const UNITS: &[(&str, Dimension)] = &[
    ("mm", Length),
    ("cm", Length),
    ("km", Length),
    ("m", Length),
    ("metre", Length),
    ("metres", Length),
    ("meter", Length),
    ("meters", Length),
    ("inch", Length),
    ("inches", Length),
    ("ft", Length),
    ("feet", Length),
    ("毫米", Length),
    ("厘米", Length),
    ("公分", Length),
    ("米", Length),
    ("公里", Length),
    ("英寸", Length),
    ("寸", Length),
    // No bare "g": "5G" is a Wi-Fi band.
    ("kg", Weight),
    ("gram", Weight),
    ("grams", Weight),
    ("kilo", Weight),
    ("kilos", Weight),
    ("lb", Weight),
    ("lbs", Weight),
    ("公斤", Weight),
    ("千克", Weight),
    ("克", Weight),
    ("斤", Weight),
    ("ml", Volume),
    ("l", Volume),
    ("litre", Volume),
    ("litres", Volume),
    ("liter", Volume),
    ("liters", Volume),
    ("毫升", Volume),
    ("升", Volume),
    ("sec", Duration),
    ("secs", Duration),
    ("second", Duration),
    ("seconds", Duration),
    ("min", Duration),
    ("mins", Duration),
    ("minute", Duration),
    ("minutes", Duration),
    ("h", Duration),
    ("hr", Duration),
    ("hrs", Duration),
    ("hour", Duration),
    ("hours", Duration),
    ("day", Duration),
    ("days", Duration),
    ("working day", Duration),
    ("working days", Duration),
    ("business day", Duration),
    ("business days", Duration),
    ("week", Duration),
    ("weeks", Duration),
    ("month", Duration),
    ("months", Duration),
    ("year", Duration),
    ("years", Duration),
    ("秒", Duration),
    ("分钟", Duration),
    ("小时", Duration),
    ("个小时", Duration),
    ("天", Duration),
    ("周", Duration),
    ("星期", Duration),
    ("个星期", Duration),
    ("个月", Duration),
    ("工作日", Duration),
    ("个工作日", Duration),
    ("年", Duration),
    ("am", TimeOfDay),
    ("pm", TimeOfDay),
    ("a.m.", TimeOfDay),
    ("p.m.", TimeOfDay),
    ("o'clock", TimeOfDay),
    ("°c", Degrees),
    ("°f", Degrees),
    ("℃", Degrees),
    ("°", Degrees),
    ("degree", Degrees),
    ("degrees", Degrees),
    ("度", Degrees),
    ("度电", Energy),
    ("kwh", Energy),
    ("yuan", Money),
    ("rmb", Money),
    // No bare 块: "两块滤芯" counts filters.
    ("元", Money),
    ("块钱", Money),
    ("%", Percent),
    ("％", Percent),
    ("percent", Percent),
    ("折", Percent),
    ("w", Power),
    ("kw", Power),
    ("watt", Power),
    ("watts", Power),
    ("瓦", Power),
    ("pa", Pressure),
    ("kpa", Pressure),
    ("mah", Charge),
    ("db", Loudness),
    ("分贝", Loudness),
    ("hz", Frequency),
    ("khz", Frequency),
    ("mhz", Frequency),
    ("ghz", Frequency),
];

const MONEY_PREFIXES: &[&str] = &["¥", "￥", "$", "rmb", "cny"];
/// Parts of the day before a Chinese clock time ("下午三点"); without one, "一点" is "a bit".
const DAY_PARTS: &[&str] = &["上午", "下午", "中午", "晚上", "早上", "凌晨", "傍晚", "晚", "早"];
const HAN_NUMERALS: &str = "零〇一二两三四五六七八九十百千万半";
const RANGE_MARKS: &[char] = &['-', '–', '~', '～', '至', '到'];

/// Every quantity `text` states, in order.
pub fn quantities(text: &str) -> Vec<Quantity> {
    // ASCII lower-casing keeps byte offsets, so spans index `text` too.
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while at < lower.len() {
        let previous_end = found.last().map_or(0, |q: &Quantity| q.span.end);
        if let Some(q) = quantity_at(&lower, previous_end, at) {
            at = q.span.end;
            found.push(q);
        } else {
            at += lower[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

/// The dimensions of the quantities `text` states.
pub fn dimensions(text: &str) -> impl Iterator<Item = Dimension> {
    quantities(text).into_iter().map(|q| q.dimension)
}

/// The quantity whose number starts at byte `at`, if one does; a prefix ("¥", "下午") is looked
/// for after `from`, where the previous quantity ended, so quantities never overlap.
fn quantity_at(lower: &str, from: usize, at: usize) -> Option<Quantity> {
    if let Some(rest) = lower[at..].strip_prefix("百分之") {
        let (digits, _) = number_at(rest, 0)?;
        return Some(Quantity { dimension: Percent, span: at..at + "百分之".len() + digits });
    }
    // Digits glued to letters before them are a code or model ("E04", "E-21", "R5").
    if lower[..at].trim_end_matches('-').ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let (number, han) = number_at(lower, at)?;
    let mut end = at + number;
    // A range ("5-10 days", "16:00-22:00") is one quantity.
    let after_range = skip_spaces(lower, end);
    if let Some(mark) = lower[after_range..].chars().next().filter(|c| RANGE_MARKS.contains(c)) {
        let second = skip_spaces(lower, after_range + mark.len_utf8());
        if let Some((len, _)) = number_at(lower, second) {
            end = second + len;
        }
    }
    let text = &lower[at..end];
    let prefix_start = |prefixes: &[&str]| {
        let before = lower[from..at].trim_end_matches(' ');
        prefixes.iter().find(|p| before.ends_with(*p)).map(|p| from + before.len() - p.len())
    };
    let clock = |start: usize, end: usize| Some(Quantity { dimension: TimeOfDay, span: start..end });
    if !han && is_clock_digits(text) {
        return clock(at, end);
    }
    let mut unit_at = skip_spaces(lower, end);
    // "7-day return", "2-year warranty".
    if lower[unit_at..].starts_with('-') && lower[unit_at + 1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
        unit_at += 1;
    }
    let rest = &lower[unit_at..];
    if let Some(after_dian) = rest.strip_prefix('点') {
        let day_part = prefix_start(DAY_PARTS);
        if day_part.is_some() || (!han && text.parse::<u32>().is_ok_and(|h| h <= 24)) {
            let minutes = after_dian
                .strip_prefix('半')
                .map(|_| '半'.len_utf8())
                .or_else(|| {
                    number_len(after_dian).filter(|&n| after_dian[n..].starts_with('分')).map(|n| n + '分'.len_utf8())
                })
                .unwrap_or(0);
            return clock(day_part.unwrap_or(at), unit_at + '点'.len_utf8() + minutes);
        }
        return None;
    }
    let money_prefix = prefix_start(MONEY_PREFIXES).filter(|_| !han);
    let unit = UNITS
        .iter()
        .filter(|(unit, _)| {
            // "一升级" is a tier upgrade, not a litre.
            rest.starts_with(unit)
                && !rest[unit.len()..].starts_with('级')
                && (!unit.is_ascii()
                    || !unit.ends_with(|c: char| c.is_ascii_alphabetic())
                    || !rest[unit.len()..].starts_with(|c: char| c.is_ascii_alphabetic()))
        })
        .max_by_key(|(unit, _)| unit.len());
    match unit {
        // "2026年" is a date, not a duration.
        Some((unit, Duration)) if *unit == "年" && !han && text.len() == 4 => None,
        Some((unit, dimension)) => {
            Some(Quantity { dimension: *dimension, span: money_prefix.unwrap_or(at)..unit_at + unit.len() })
        }
        None if money_prefix.is_some() || (!han && is_money_digits(text)) => {
            Some(Quantity { dimension: Money, span: money_prefix.unwrap_or(at)..end })
        }
        None => None,
    }
}

/// The length of the number starting at byte `at`, and whether it is written in Han numerals.
fn number_at(lower: &str, at: usize) -> Option<(usize, bool)> {
    if lower[at..].starts_with(|c: char| c.is_ascii_digit()) {
        return number_len(&lower[at..]).map(|n| (n, false));
    }
    let han = lower[at..].chars().take_while(|c| HAN_NUMERALS.contains(*c)).map(char::len_utf8).sum::<usize>();
    (han > 0).then_some((han, true))
}

/// The length of the ASCII number `text` starts with: digits, with "." "," or ":" only
/// between digits ("1,299.00", "16:00").
fn number_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut n = 0;
    while n < bytes.len() {
        let inner = matches!(bytes[n], b'.' | b',' | b':') && n > 0 && bytes.get(n + 1).is_some_and(u8::is_ascii_digit);
        if !(bytes[n].is_ascii_digit() || inner) {
            break;
        }
        n += 1;
    }
    (n > 0).then_some(n)
}

fn skip_spaces(lower: &str, at: usize) -> usize {
    at + lower[at..].len() - lower[at..].trim_start_matches(' ').len()
}

/// "16:00", "9:30": hours and minutes.
fn is_clock_digits(text: &str) -> bool {
    let first = text.split(RANGE_MARKS).next().unwrap_or(text).trim();
    first.split_once(':').is_some_and(|(h, m)| {
        h.len() <= 2
            && m.len() == 2
            && h.parse::<u32>().is_ok_and(|h| h <= 24)
            && m.parse::<u32>().is_ok_and(|m| m < 60)
    })
}

/// A price written bare, as shop pages write them: "699.00", "1,299.00".
fn is_money_digits(text: &str) -> bool {
    text.split_once('.').is_some_and(|(_, cents)| cents.len() == 2 && !text.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(text: &str) -> Vec<Dimension> {
        dimensions(text).collect()
    }

    #[test]
    fn numbers_with_units_are_quantities_of_their_dimension() {
        assert_eq!(dims("门槛2.5厘米能过吗"), vec![Length]);
        assert_eq!(dims("| 越障高度 | 20 mm |"), vec![Length]);
        assert_eq!(dims("remote regions: 5-10 days"), vec![Duration]);
        assert_eq!(dims("签收后 3 个工作日内开具"), vec![Duration]);
        assert_eq!(dims("鞋子穿了十天开胶了"), vec![Duration]);
        assert_eq!(dims("加约 0.5 公斤软水盐"), vec![Weight]);
        assert_eq!(dims("can be set to 85 °C"), vec![Degrees]);
        assert_eq!(dims("discount of 20% on ¥299"), vec![Percent, Money]);
        assert_eq!(dims("drops to 629.00"), vec![Money]);
        assert_eq!(dims("5200 mAh, 5000 Pa"), vec![Charge, Pressure]);
        assert_eq!(dims("the 7-day return and 2-year warranty"), vec![Duration, Duration]);
        assert_eq!(dims("百分之二十"), vec![Percent]);
    }

    #[test]
    fn times_of_day_in_either_language() {
        assert_eq!(dims("下午三点付款今天能发货吗"), vec![TimeOfDay]);
        assert_eq!(dims("16:00 前付款的订单当天发货"), vec![TimeOfDay]);
        assert_eq!(dims("I paid at 3 pm"), vec![TimeOfDay]);
        assert_eq!(dims("晚上8点半"), vec![TimeOfDay]);
        assert_eq!(dims("客服时间 09:00-22:00"), vec![TimeOfDay]);
    }

    #[test]
    fn codes_counts_dates_and_plain_numbers_are_not_quantities() {
        assert!(dims("R5 shows E04").is_empty());
        assert!(dims("HH-RV500 and E-21").is_empty());
        assert!(dims("订单202611050862里的T恤").is_empty());
        assert!(dims("便宜一点").is_empty());
        assert!(dims("2026年11月5日").is_empty());
        assert!(dims("US 9.5 and size 10").is_empty());
        assert!(dims("5 mind the gap").is_empty());
    }

    #[test]
    fn look_alikes_of_units_are_not_quantities() {
        assert_eq!(dims("我家WiFi是5G的"), vec![]);
        assert_eq!(dims("两块滤芯"), vec![]);
        assert_eq!(dims("银卡一升级就是金卡"), vec![]);
        assert_eq!(dims("一天 1.1 度电，倾斜 15 度"), vec![Duration, Energy, Degrees]);
    }

    #[test]
    fn spans_are_ordered_disjoint_and_on_character_boundaries() {
        for text in
            ["我付了299 rmb 3天了还能退吗", "299 rmb 2 days?", "¥¥5元 ￥6 下午下午3点😀 rmb rmb 7", "５０元 ５点 😀3点"]
        {
            let found = quantities(text);
            for pair in found.windows(2) {
                assert!(pair[0].span.end <= pair[1].span.start, "{text}: {found:?}");
            }
            for q in &found {
                assert!(text.is_char_boundary(q.span.start) && text.is_char_boundary(q.span.end), "{text}: {q:?}");
            }
        }
        assert_eq!(dims("我付了299 rmb 3天了还能退吗"), vec![Money, Duration]);
    }

    #[test]
    fn the_span_covers_prefix_number_and_unit() {
        let text = "下午三点付款";
        let q = &quantities(text)[0];
        assert_eq!(&text[q.span.clone()], "下午三点");
        let text = "costs ¥ 1,299 in total";
        let q = &quantities(text)[0];
        assert_eq!(&text[q.span.clone()], "¥ 1,299");
        let text = "takes 5 - 10 working days";
        let q = &quantities(text)[0];
        assert_eq!(&text[q.span.clone()], "5 - 10 working days");
    }
}
