//! Text analysis for both languages, as a tantivy tokenizer: Han runs are cut by jieba
//! (search mode, with the user dictionary) and also into characters and character bigrams
//! for recall;
//! other runs are split into words (lower-cased and stemmed by the filters after this
//! tokenizer); code-like mentions ("E-21") add their normalised form; and every synonym
//! group whose phrase occurs adds the group's key, so "robot vacuum" meets "扫地机器人".

use crate::text::{SynonymGroup, code_key, find_codes, is_cjk};
use jieba_rs::Jieba;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymFile {
    #[serde(default)]
    group: Vec<SynonymEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymEntry {
    terms: Vec<String>,
}

/// Function characters that say nothing alone ("的", "吗", "怎"); they still count inside
/// words and bigrams.
const ZH_STOP_CHARS: &str =
    "的了是在我你他她它们吗呢吧啊么怎如何什可以有和与及或这那就都也还要会能请您好一个不没把被给让对为于从到等中上下";

/// Question and filler words, dropped as words and as bigrams: they appear in most
/// questions and most passages and only add noise to the ranking.
const ZH_STOP_WORDS: &[&str] = &[
    "怎么",
    "如何",
    "怎样",
    "什么",
    "为什么",
    "为何",
    "可以",
    "能否",
    "是否",
    "请问",
    "哪里",
    "哪些",
    "一下",
    "时候",
    "我们",
    "你们",
    "他们",
    "您好",
    "的话",
    "就是",
    "还是",
    "或者",
    "这个",
    "那个",
    "进行",
    "需要",
    "么办",
    "怎么办",
    "什么样",
    "吗？",
];

fn zh_stop(word: &str) -> bool {
    ZH_STOP_WORDS.contains(&word) || (word.chars().count() == 1 && word.chars().all(|c| ZH_STOP_CHARS.contains(c)))
}

/// Bumped whenever tokenisation changes, so indexes built by an older analyzer are rebuilt.
pub const ANALYZER_VERSION: u32 = 7;

/// Shared, immutable analysis resources.
pub struct Analysis {
    /// Analyzer version + dictionary + synonyms, hashed.
    fingerprint: String,
    jieba: Jieba,
    synonyms: Vec<SynonymGroup>,
}

impl Analysis {
    /// Loads jieba's default dictionary plus `dict.txt`, and `synonyms.toml`, from the ingest
    /// tuning directory. Missing files are fine (defaults); malformed ones are errors.
    pub fn load(ingest_dir: &Path) -> Result<Analysis, AnalysisError> {
        let mut jieba = Jieba::new();
        let mut hasher = blake3::Hasher::new();
        hasher.update(&ANALYZER_VERSION.to_le_bytes());
        let dict_path = ingest_dir.join("dict.txt");
        if let Ok(bytes) = std::fs::read(&dict_path) {
            hasher.update(&bytes);
        }
        let syn_path = ingest_dir.join("synonyms.toml");
        if let Ok(bytes) = std::fs::read(&syn_path) {
            hasher.update(&bytes);
        }
        if dict_path.exists() {
            let file = std::fs::File::open(&dict_path)
                .map_err(|source| AnalysisError::Read { path: dict_path.display().to_string(), source })?;
            jieba.load_dict(&mut std::io::BufReader::new(file)).map_err(|e| AnalysisError::Invalid {
                path: dict_path.display().to_string(),
                message: e.to_string(),
            })?;
        }
        let synonyms = if syn_path.exists() {
            let text = std::fs::read_to_string(&syn_path)
                .map_err(|source| AnalysisError::Read { path: syn_path.display().to_string(), source })?;
            Self::parse_synonyms(&text)
                .map_err(|message| AnalysisError::Invalid { path: syn_path.display().to_string(), message })?
        } else {
            Vec::new()
        };
        Ok(Analysis { fingerprint: hasher.finalize().to_hex()[..16].to_string(), jieba, synonyms })
    }

    pub fn with_synonyms(synonyms_toml: &str) -> Result<Analysis, String> {
        let fingerprint = blake3::hash(synonyms_toml.as_bytes()).to_hex()[..16].to_string();
        Ok(Analysis { fingerprint, jieba: Jieba::new(), synonyms: Self::parse_synonyms(synonyms_toml)? })
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn synonyms(&self) -> &[SynonymGroup] {
        &self.synonyms
    }

    fn parse_synonyms(text: &str) -> Result<Vec<SynonymGroup>, String> {
        let file: SynonymFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.group
            .into_iter()
            .enumerate()
            .map(|(i, g)| {
                let terms: Vec<String> =
                    g.terms.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
                if terms.len() < 2 {
                    return Err(format!("synonym group {} needs at least two terms", i + 1));
                }
                Ok(SynonymGroup::new(format!("syn{i}"), terms))
            })
            .collect()
    }

    /// The analyzer indexed text and queries both go through.
    pub fn analyzer(self: &Arc<Self>) -> TextAnalyzer {
        let stop = StopWordFilter::new(Language::English).expect("tantivy ships English stop words");
        TextAnalyzer::builder(ClerkTokenizer { analysis: Arc::clone(self), tokens: Vec::new() })
            .filter(RemoveLongFilter::limit(48))
            .filter(LowerCaser)
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build()
    }

    fn tokenize(&self, text: &str, out: &mut Vec<Token>) {
        out.clear();
        let push = |text: &str, from: usize, to: usize, out: &mut Vec<Token>| {
            let position = out.len();
            out.push(Token { offset_from: from, offset_to: to, position, text: text.to_string(), position_length: 1 });
        };
        for (start, end, han) in runs(text) {
            let run = &text[start..end];
            if han {
                let words = self.jieba.cut_for_search(run, true);
                // Characters and bigrams jieba already emitted as words are not added twice.
                let word_set: std::collections::HashSet<&str> = words.iter().map(|w| w.word).collect();
                for w in &words {
                    if !zh_stop(w.word) {
                        push(w.word, start + w.byte_start, start + w.byte_end, out);
                    }
                }
                let chars: Vec<(usize, char)> = run.char_indices().collect();
                // Single characters catch words jieba cut differently in question and passage.
                for &(a, c) in &chars {
                    let unigram = &run[a..a + c.len_utf8()];
                    if !zh_stop(unigram) && !word_set.contains(unigram) {
                        push(unigram, start + a, start + a + c.len_utf8(), out);
                    }
                }
                for pair in chars.windows(2) {
                    let (a, _) = pair[0];
                    let (b, c) = pair[1];
                    let bigram = &run[a..b + c.len_utf8()];
                    if !zh_stop(bigram) && !word_set.contains(bigram) {
                        push(bigram, start + a, start + b + c.len_utf8(), out);
                    }
                }
            } else {
                for (ws, we) in words(run) {
                    push(&run[ws..we], start + ws, start + we, out);
                }
                // "E-21" also yields "E21"; a code already written as one word adds nothing.
                let upper = run.to_ascii_uppercase();
                for code in find_codes(run) {
                    if !upper.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == code) {
                        push(&code, start, end, out);
                    }
                    // "E05" is also found as "E5", the way displays show it.
                    let key = code_key(&code);
                    if key != code {
                        push(&key, start, end, out);
                    }
                }
            }
        }
        if !self.synonyms.is_empty() {
            let lower = text.to_lowercase();
            for group in &self.synonyms {
                if group.phrase_in(&lower).is_some() {
                    push(group.key(), 0, 0, out);
                }
            }
        }
    }
}

/// Splits text into maximal Han and non-Han runs (byte ranges), skipping nothing.
fn runs(text: &str) -> Vec<(usize, usize, bool)> {
    let mut out: Vec<(usize, usize, bool)> = Vec::new();
    for (i, c) in text.char_indices() {
        let han = is_cjk(c);
        match out.last_mut() {
            Some(last) if last.2 == han => last.1 = i + c.len_utf8(),
            _ => out.push((i, i + c.len_utf8(), han)),
        }
    }
    out
}

/// Alphanumeric words of a non-Han run, as byte ranges.
fn words(run: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in run.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push((s, i));
        }
    }
    if let Some(s) = start {
        out.push((s, run.len()));
    }
    out
}

#[derive(Clone)]
pub struct ClerkTokenizer {
    analysis: Arc<Analysis>,
    tokens: Vec<Token>,
}

pub struct VecTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    index: usize,
}

impl Tokenizer for ClerkTokenizer {
    type TokenStream<'a> = VecTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream<'a> {
        self.analysis.tokenize(text, &mut self.tokens);
        VecTokenStream { tokens: &mut self.tokens, index: usize::MAX }
    }
}

impl TokenStream for VecTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.index = self.index.wrapping_add(1);
        self.index < self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index]
    }
}

/// Runs the full analyzer and returns the terms (used for queries and in tests).
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> TextAnalyzer {
        let a = Analysis::with_synonyms("[[group]]\nterms = [\"robot vacuum\", \"扫地机器人\", \"扫地机\"]\n").unwrap();
        Arc::new(a).analyzer()
    }

    #[test]
    fn english_is_lowercased_stemmed_and_stopworded() {
        let t = terms(&mut analyzer(), "The Filters was Replaced");
        assert_eq!(t, vec!["filter", "replac"]);
    }

    #[test]
    fn chinese_gets_words_and_bigrams() {
        let t = terms(&mut analyzer(), "更换滤芯");
        assert!(t.contains(&"更换".to_string()), "{t:?}");
        assert!(t.contains(&"滤芯".to_string()) || t.contains(&"滤".to_string()), "{t:?}");
        assert!(t.contains(&"换滤".to_string()), "bigram across words: {t:?}");
    }

    #[test]
    fn codes_are_normalised_and_synonyms_meet() {
        let t = terms(&mut analyzer(), "error E-21 on my robot vacuum");
        assert!(t.contains(&"e21".to_string()), "{t:?}");
        let zh = terms(&mut analyzer(), "扫地机器人报错");
        assert!(t.contains(&"syn0".to_string()) && zh.contains(&"syn0".to_string()));
        assert!(!terms(&mut analyzer(), "a robotic vacuumed room").contains(&"syn0".to_string()));
    }
}
