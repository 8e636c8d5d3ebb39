//! Small pure functions on text that several layers share: language detection and the
//! normalisation of fault codes and SKUs, so that "E-21", "e21" and "E21" meet everywhere.

use crate::domain::Lang;

pub mod quantity;

/// The runs of ASCII digits in `text`, in order ("尾号1234，订单202611150123" -> "1234", "202611150123").
pub fn digit_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|run| !run.is_empty())
}

/// True for characters written with Han ideographs (and CJK punctuation-free symbols).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// Chinese when Han characters make up a fair share of the letters, else English.
/// Mixed questions like "扫地机器人 E04" count as Chinese: the Han part carries the meaning.
pub fn detect_lang(text: &str) -> Lang {
    let (mut han, mut latin) = (0usize, 0usize);
    for c in text.chars() {
        if is_cjk(c) {
            han += 1;
        } else if c.is_alphabetic() {
            latin += 1;
        }
    }
    // One Han character weighs about as much as a short English word.
    if han > 0 && han * 3 >= latin { Lang::Zh } else { Lang::En }
}

/// Normalises a fault-code-like token: uppercase, inner separators dropped. Returns None when
/// the token is not shaped like a code (1-3 letters then 1-3 digits, optionally a letter).
pub fn normalize_code(token: &str) -> Option<String> {
    let cleaned: String = token
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '.' | '‐' | '–'))
        .collect::<String>()
        .to_ascii_uppercase();
    let letters = cleaned.chars().take_while(|c| c.is_ascii_alphabetic()).count();
    let rest = &cleaned[letters..];
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    let tail = &rest[digits..];
    let shaped = (1..=3).contains(&letters)
        && (1..=3).contains(&digits)
        && (tail.is_empty() || (tail.len() == 1 && tail.chars().all(|c| c.is_ascii_alphabetic())));
    shaped.then_some(cleaned)
}

/// A normalised code's comparable form: the number without leading zeros, as displays and
/// voice prompts drop them ("E05" is shown "E5" and said "错误5").
pub fn code_key(code: &str) -> String {
    let letters = code.chars().take_while(|c| c.is_ascii_alphabetic()).count();
    let (head, rest) = code.split_at(letters);
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    let number = rest[..digits].trim_start_matches('0');
    let number = if number.is_empty() && digits > 0 { "0" } else { number };
    format!("{head}{number}{}", &rest[digits..])
}

/// Normalises an SKU ("hh-rv500", "HH RV500") to its comparable form ("HHRV500").
pub fn normalize_sku(token: &str) -> String {
    token.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase()
}

/// Code-like mentions in free text: "E-21", "e21", "F2", "H1". Finds letters, an optional
/// hyphen, digits, on word boundaries.
pub fn find_codes(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        // A letter run glued to a previous part by '-' is inside an SKU ("HS-RUN-101"), not a code.
        let starts_word = i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || matches!(chars[i - 1], '-' | '_'));
        if !(starts_word && chars[i].is_ascii_alphabetic()) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_alphabetic() {
            j += 1;
        }
        let letters_end = j;
        // "E-21" and "E_21", but not "E 21": a space would turn "size 9" or "is 2" into codes.
        if j < chars.len() && matches!(chars[j], '-' | '_') {
            j += 1;
        }
        let digits_start = j;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        let ends_word = j == chars.len() || !chars[j].is_ascii_alphanumeric();
        if j > digits_start && ends_word {
            let token: String = chars[i..j].iter().collect();
            if let Some(code) = normalize_code(&token) {
                found.push(code);
            }
            i = j;
        } else {
            i = letters_end.max(i + 1);
        }
    }
    found.sort();
    found.dedup();
    found
}

/// SKU-shaped mentions ("HH-RV500", "HS-RUN-101"): two or more dash-joined alphanumeric parts
/// with a letter prefix and at least one digit.
pub fn find_skus(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|t| {
            let parts: Vec<&str> = t.split('-').collect();
            parts.len() >= 2
                && parts.iter().all(|p| !p.is_empty())
                && parts[0].chars().all(|c| c.is_ascii_alphabetic())
                && t.chars().any(|c| c.is_ascii_digit())
        })
        .map(normalize_sku)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Normalised codes and SKUs a query names, for the exact-match leg.
pub fn query_codes(query: &str) -> Vec<String> {
    let mut codes = find_codes(query);
    codes.extend(find_skus(query));
    codes.sort();
    codes.dedup();
    codes
}

/// Phrases that mean the same thing (`ingest/synonyms.toml`), lower-cased; the index stores
/// every text saying one of them under the group's key token.
#[derive(Debug, Clone)]
pub struct SynonymGroup {
    key: String,
    phrases: Vec<String>,
}

impl SynonymGroup {
    pub fn new(key: String, phrases: Vec<String>) -> SynonymGroup {
        SynonymGroup { key, phrases }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// The group's first phrase that occurs in `lower` (lower-cased text), on word boundaries.
    pub fn phrase_in(&self, lower: &str) -> Option<&str> {
        self.phrases.iter().find(|p| contains_phrase(lower, p)).map(String::as_str)
    }
}

/// Phrase occurrence; Latin phrases must sit on word boundaries ("mop" is not in "mope").
fn contains_phrase(haystack: &str, phrase: &str) -> bool {
    if phrase.chars().any(is_cjk) {
        return haystack.contains(phrase);
    }
    haystack.match_indices(phrase).any(|(i, m)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + m.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_in_every_spelling_meet() {
        assert_eq!(normalize_code("E-21").as_deref(), Some("E21"));
        assert_eq!(normalize_code("e21").as_deref(), Some("E21"));
        assert_eq!(normalize_code("E21").as_deref(), Some("E21"));
        assert_ne!(normalize_code("E21"), normalize_code("E12"));
        assert_eq!(normalize_code("word"), None);
        assert_eq!(normalize_code("2024"), None);
    }

    #[test]
    fn finds_codes_in_questions() {
        assert_eq!(find_codes("robot vacuum shows e-21 again"), vec!["E21"]);
        assert_eq!(find_codes("扫地机器人 E04 怎么办"), vec!["E04"]);
        assert_eq!(find_codes("code F-2 and H1"), vec!["F2", "H1"]);
        assert!(find_codes("US 9 in size 10").is_empty());
        assert!(find_codes("the hallway is 2 metres").is_empty());
        assert!(find_codes("HS-RUN-101 and HH-RV500").is_empty());
    }

    #[test]
    fn detects_language() {
        assert_eq!(detect_lang("扫地机器人 E04"), Lang::Zh);
        assert_eq!(detect_lang("robot vacuum E04"), Lang::En);
        assert_eq!(detect_lang("这款 Stride Glide 3 有9码吗"), Lang::Zh);
    }
}
