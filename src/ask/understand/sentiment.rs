//! Anger and urgency by weighted cues, in both languages. A cue right after a negation does
//! not count ("not angry", "不生气", "不急"); shouting (several capitalised words, "!!!") and
//! repeated complaints ("again", "第三次") add to the score. Anger is 1 - e^(-sum of weights), so
//! one insult is already "angry" (>= 0.6) and more cues push it toward 1.

use crate::domain::turn::Sentiment;

/// Chinese cues and their weights.
const ZH_ANGER: &[(&str, f32)] = &[
    ("垃圾", 1.2),
    ("骗子", 1.2),
    ("骗人", 1.2),
    ("坑人", 1.2),
    ("黑店", 1.2),
    ("妈的", 1.2),
    ("他妈", 1.2),
    ("傻逼", 1.2),
    ("气死", 1.2),
    ("忍无可忍", 1.2),
    ("什么破", 1.0),
    ("破玩意", 1.2),
    ("差劲", 1.0),
    ("恶心", 1.0),
    ("12315", 1.2),
    ("消协", 1.2),
    ("曝光你们", 1.2),
    ("太差", 1.0),
    ("很差", 0.8),
    ("真差", 0.8),
    ("差评", 0.8),
    ("投诉", 0.9),
    ("生气", 0.9),
    ("愤怒", 1.0),
    ("火大", 1.0),
    ("离谱", 0.8),
    ("不像话", 0.9),
    ("过分", 0.8),
    ("无语", 0.6),
    ("失望", 0.6),
    ("不满", 0.7),
    ("受够", 1.0),
    ("搞什么", 0.8),
    ("怎么回事", 0.4),
    ("烂", 0.6),
    ("坑", 0.5),
];
const EN_ANGER: &[(&str, f32)] = &[
    ("scam", 1.2),
    ("fraud", 1.2),
    ("garbage", 1.2),
    ("trash", 1.0),
    ("crap", 1.0),
    ("shit", 1.2),
    ("fuck", 1.2),
    ("fucking", 1.2),
    ("wtf", 1.2),
    ("bullshit", 1.2),
    ("damn", 0.8),
    ("furious", 1.2),
    ("outraged", 1.2),
    ("livid", 1.2),
    ("disgusting", 1.2),
    ("pathetic", 1.2),
    ("useless", 1.0),
    ("worst", 1.0),
    ("terrible", 1.0),
    ("horrible", 1.0),
    ("awful", 1.0),
    ("ridiculous", 1.0),
    ("unacceptable", 1.0),
    ("incompetent", 1.0),
    ("rip off", 1.0),
    ("ripoff", 1.0),
    ("lawyer", 1.0),
    ("angry", 0.9),
    ("mad", 0.6),
    ("upset", 0.7),
    ("annoyed", 0.6),
    ("pissed", 1.0),
    ("complaint", 0.8),
    ("complain", 0.8),
    ("disappointed", 0.6),
    ("unhappy", 0.6),
    ("not happy", 0.6),
    ("fed up", 1.0),
    ("sick of", 1.0),
    ("had enough", 1.0),
    ("never again", 0.9),
    ("what the hell", 1.2),
    ("joke", 0.5),
];
/// Repeated trouble: counted once, it turns a mild message sour.
const REPEAT: &[&str] = &[
    "又",
    "第二次",
    "第三次",
    "好几次",
    "多少次",
    "一直没",
    "还没",
    "三天了",
    "一周了",
    "again",
    "still",
    "third time",
    "second time",
    "how many times",
    "every time",
    "yet again",
    "for days",
    "for a week",
];
const ZH_URGENT: &[&str] = &["急", "马上", "赶紧", "尽快", "立刻", "立即", "快点", "今天", "今晚", "加急", "等不了"];
const EN_URGENT: &[&str] = &[
    "asap",
    "urgent",
    "urgently",
    "immediately",
    "right now",
    "today",
    "tonight",
    "hurry",
    "emergency",
    "as soon as possible",
    "right away",
];
const ZH_NEGATIONS: &[&str] = &["不", "没", "没有", "别", "并不", "不是", "不用", "无需", "不太"];
const EN_NEGATIONS: &[&str] =
    &["not", "no", "never", "dont", "don't", "isnt", "isn't", "wasnt", "wasn't", "arent", "aren't", "without"];
/// Upper-case words that are names, not shouting.
const ACRONYMS: &[&str] =
    &["SKU", "LED", "USB", "HEPA", "CADR", "LIDAR", "APP", "WIFI", "SF", "JD", "ZTO", "OK", "EU", "US", "VAT"];

pub fn assess(message: &str) -> Sentiment {
    let folded = super::fold(message);
    let chars: Vec<char> = folded.chars().collect();
    let words = ascii_words(&folded);

    let mut anger: f32 =
        zh_cues(&chars, ZH_ANGER).into_iter().sum::<f32>() + en_cues(&words, EN_ANGER).into_iter().sum::<f32>();
    let repeated = REPEAT.iter().any(|r| if r.is_ascii() { contains_words(&words, r) } else { folded.contains(r) });
    if repeated && anger > 0.0 {
        anger += 0.4;
    }
    anger += shouting(message);
    let urgent_zh = zh_cues(&chars, &ZH_URGENT.iter().map(|&w| (w, 1.0)).collect::<Vec<_>>());
    let urgent_en = en_cues(&words, &EN_URGENT.iter().map(|&w| (w, 1.0)).collect::<Vec<_>>());
    Sentiment { anger: 1.0 - (-anger.max(0.0)).exp(), urgent: !(urgent_zh.is_empty() && urgent_en.is_empty()) }
}

/// Weights of Chinese cues found, longest cue first at each place, unless a negation sits
/// right before it.
fn zh_cues(chars: &[char], cues: &[(&str, f32)]) -> Vec<f32> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let hit = cues.iter().filter(|(cue, _)| starts_at(chars, i, cue)).max_by_key(|(cue, _)| cue.chars().count());
        match hit {
            Some(&(cue, weight)) => {
                let before: String = chars[i.saturating_sub(3)..i].iter().collect();
                if !ZH_NEGATIONS.iter().any(|n| before.ends_with(n) || before.ends_with(&format!("{n}太"))) {
                    found.push(weight);
                }
                i += cue.chars().count();
            }
            None => i += 1,
        }
    }
    found
}

/// Weights of English cues found (whole words), unless one of the three words before is a
/// negation ("I'm not angry", "no complaints").
fn en_cues(words: &[String], cues: &[(&str, f32)]) -> Vec<f32> {
    let mut found = Vec::new();
    for (i, _) in words.iter().enumerate() {
        for &(cue, weight) in cues {
            let cue_words: Vec<&str> = cue.split(' ').collect();
            let matches = words.len() >= i + cue_words.len()
                && cue_words
                    .iter()
                    .zip(&words[i..])
                    .all(|(c, w)| w == c || (cue_words.len() == 1 && w == &format!("{c}s")));
            if matches {
                let negated = words[i.saturating_sub(3)..i].iter().any(|w| EN_NEGATIONS.contains(&w.as_str()));
                if !negated {
                    found.push(weight);
                }
            }
        }
    }
    found
}

/// Several capitalised words or piled-up exclamation marks.
fn shouting(message: &str) -> f32 {
    let caps = message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_uppercase()) && !ACRONYMS.contains(w))
        .count();
    let bangs = message.chars().filter(|&c| c == '!' || c == '！').count();
    let mut score = 0.0;
    if caps >= 2 {
        score += 0.7;
    }
    if bangs >= 3 {
        score += 0.6;
    } else if bangs == 2 || message.contains("?!") || message.contains("？！") {
        score += 0.3;
    }
    score
}

fn ascii_words(folded: &str) -> Vec<String> {
    folded
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.replace('\'', ""))
        .collect()
}

fn contains_words(words: &[String], phrase: &str) -> bool {
    let parts: Vec<&str> = phrase.split(' ').collect();
    words.windows(parts.len()).any(|w| w.iter().zip(&parts).all(|(a, b)| a == b))
}

fn starts_at(chars: &[char], i: usize, cue: &str) -> bool {
    cue.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insults_and_shouting_are_angry() {
        assert!(assess("你们这是什么垃圾产品，太差了！").is_angry());
        assert!(assess("This is ridiculous, WHERE IS MY ORDER").is_angry());
        assert!(assess("I'm furious, the vacuum broke AGAIN!!!").anger > 0.85);
        assert!(assess("我要投诉，第三次了还没发货").is_angry());
    }

    #[test]
    fn calm_and_negated_messages_are_not() {
        assert!(assess("你好，请问扫地机器人有黑色的吗").anger < 0.1);
        assert!(assess("I'm not angry, just asking where my order is").anger < 0.1);
        assert!(assess("我不生气，就是想问一下").anger < 0.1);
        assert!(assess("no complaints, the kettle works great").anger < 0.1);
        assert!(assess("Does the SKU HS-RUN-101 have a HEPA filter?").anger < 0.1);
    }

    #[test]
    fn urgency_and_its_negation() {
        assert!(assess("急！明天比赛要穿").urgent);
        assert!(assess("I need it asap").urgent);
        assert!(assess("can it arrive today?").urgent);
        assert!(!assess("不急，慢慢来").urgent);
        assert!(!assess("no rush, not urgent").urgent);
    }
}
