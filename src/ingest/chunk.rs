//! Sections -> chunks under the embedder's token budget, with content-hash ids.
//! Whole blocks (paragraphs, list items, table rows) are packed greedily; a block that is
//! too long alone is cut at sentence ends, and as a last resort by length.

use super::markdown::Section;
use super::source::SourceDoc;
use crate::domain::Chunk;

/// Bumped whenever the same text and budget would be cut differently, so that stored
/// chunks are rebuilt.
pub const CHUNKER_VERSION: u32 = 3;

/// Counts model tokens; the chunker stays pure by taking it as a function.
pub type TokenCount<'a> = &'a dyn Fn(&str) -> usize;

pub fn chunk_document(
    doc: &SourceDoc,
    sections: &[Section],
    path: &str,
    max_tokens: usize,
    count: TokenCount<'_>,
) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    // Identical passages in one document (repeated table rows) still get distinct ids.
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for section in sections {
        // Most documents open with "# <title>": repeating it in every path adds nothing.
        let headings = match section.headings.split_first() {
            Some((first, rest)) if first.eq_ignore_ascii_case(doc.meta.title.trim()) => rest,
            _ => &section.headings[..],
        };
        let section_path = headings.join(" > ");
        let mut make = |text: String| {
            let mut chunk = Chunk {
                id: String::new(),
                doc_id: doc.meta.id.clone(),
                doc_type: doc.meta.doc_type,
                lang: doc.meta.lang,
                products: doc.meta.products.clone(),
                title: doc.meta.title.clone(),
                section: section_path.clone(),
                path: path.to_string(),
                text,
                code: section.code.clone(),
            };
            chunk.id = chunk_id(&chunk);
            let repeats = seen.entry(chunk.id.clone()).or_default();
            *repeats += 1;
            if *repeats > 1 {
                chunk.id = blake3::hash(format!("{}#{repeats}", chunk.id).as_bytes()).to_hex()[..16].to_string();
            }
            chunks.push(chunk);
        };
        let budget = budget_under(&format!("{} > {}", doc.meta.title, section_path), max_tokens, count);
        for text in pack(&section.blocks, budget, count, Overlap::WithinBlocks) {
            make(text);
        }
    }
    chunks
}

/// Stable id from everything that shapes the chunk's index entries and embedding.
pub fn chunk_id(c: &Chunk) -> String {
    let mut h = blake3::Hasher::new();
    for part in [&c.doc_id, c.lang.as_str(), &c.title, &c.section, &c.text, c.code.as_deref().unwrap_or("")] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    h.update(c.products.join(",").as_bytes());
    h.update(c.doc_type.as_str().as_bytes());
    h.finalize().to_hex()[..16].to_string()
}

/// One long text (a corpus passage with no structure) cut into pieces that fit the budget
/// together with its title, which is embedded alongside each piece.
pub fn split_passage(title: &str, text: &str, max_tokens: usize, count: TokenCount<'_>) -> Vec<String> {
    let budget = budget_under(title, max_tokens, count);
    pack(&[text.to_string()], budget, count, Overlap::WithinBlocks)
}

/// The texts a chunk is embedded as: whole when it fits the window, else overlapping
/// windows, each under the chunk's heading path. A small embedding model represents a
/// short passage far better than a long one (and truncates past its limit), while the
/// chunk stays whole for full text and for answers.
pub fn embedding_windows(chunk: &Chunk, window_tokens: usize, count: TokenCount<'_>) -> Vec<String> {
    let whole = chunk.embedding_text();
    if count(&whole) <= window_tokens {
        return vec![whole];
    }
    let header = chunk.embedding_header();
    let budget = budget_under(&header, window_tokens, count);
    let lines: Vec<String> = chunk.text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    pack(&lines, budget, count, Overlap::Always).into_iter().map(|w| format!("{header}\n{w}")).collect()
}

/// Tokens left for text under a header that goes with every piece (never too few to
/// make progress).
fn budget_under(header: &str, max_tokens: usize, count: TokenCount<'_>) -> usize {
    max_tokens.saturating_sub(count(header)).max(16)
}

/// Whether a cut repeats the text before it in the next piece.
#[derive(Clone, Copy, PartialEq)]
enum Overlap {
    /// Only when the cut falls inside running text (chunks: no repeated table rows).
    WithinBlocks,
    /// At every cut (embedding windows, which are never shown).
    Always,
}

/// Packs whole blocks greedily under the budget. At a cut the next piece repeats the last
/// sentences before it (up to a quarter of the budget), so an answer that straddles the
/// cut is whole in one piece.
fn pack(blocks: &[String], budget: usize, count: TokenCount<'_>, overlap: Overlap) -> Vec<String> {
    let mut pieces = Vec::new();
    for block in blocks {
        split_block(block, budget, count, &mut pieces);
    }
    let overlap_budget = budget / 4;
    let mut out = Vec::new();
    let mut current: Vec<&Piece> = Vec::new();
    let mut current_tokens = 0;
    for piece in &pieces {
        if !current.is_empty() && current_tokens + piece.tokens > budget {
            out.push(join(&current));
            let mut carried: Vec<&Piece> = Vec::new();
            let mut carried_tokens = 0;
            if piece.continues || overlap == Overlap::Always {
                for prev in current.iter().rev() {
                    if carried_tokens + prev.tokens > overlap_budget
                        || carried_tokens + prev.tokens + piece.tokens > budget
                    {
                        break;
                    }
                    carried_tokens += prev.tokens;
                    carried.insert(0, prev);
                }
            }
            current = carried;
            current_tokens = carried_tokens;
        }
        current.push(piece);
        current_tokens += piece.tokens;
    }
    if !current.is_empty() {
        out.push(join(&current));
    }
    out
}

/// A block, or a sentence of a block too long to keep whole.
struct Piece {
    text: String,
    tokens: usize,
    /// Continues the block of the piece before it (so it is joined by a space, not a line).
    continues: bool,
}

fn join(pieces: &[&Piece]) -> String {
    let mut text = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            // Chinese sentences run on without a space.
            let cjk_before = text.chars().next_back().is_some_and(|c| crate::text::is_cjk(c) || !c.is_ascii());
            match (piece.continues, cjk_before) {
                (false, _) => text.push('\n'),
                (true, false) => text.push(' '),
                (true, true) => {}
            }
        }
        text.push_str(&piece.text);
    }
    text
}

/// Pieces of one block, each within budget: the whole block when it fits, otherwise its
/// sentences, and as a last resort halves of an overlong sentence.
fn split_block(block: &str, budget: usize, count: TokenCount<'_>, out: &mut Vec<Piece>) {
    let first = out.len();
    split_to_fit(block, budget, count, out);
    for piece in &mut out[first + 1..] {
        piece.continues = true;
    }
}

fn split_to_fit(block: &str, budget: usize, count: TokenCount<'_>, out: &mut Vec<Piece>) {
    let tokens = count(block);
    if tokens <= budget {
        out.push(Piece { text: block.to_string(), tokens, continues: false });
        return;
    }
    let sentences = split_sentences(block);
    if sentences.len() > 1 {
        for sentence in sentences {
            split_to_fit(sentence.trim(), budget, count, out);
        }
        return;
    }
    let chars: Vec<char> = block.chars().collect();
    if chars.len() < 2 {
        out.push(Piece { text: block.to_string(), tokens, continues: false });
        return;
    }
    let mid = chars.len() / 2;
    let cut = (mid..chars.len()).find(|&i| chars[i].is_whitespace()).unwrap_or(mid);
    let (left, right): (String, String) = (chars[..cut].iter().collect(), chars[cut..].iter().collect());
    split_to_fit(left.trim(), budget, count, out);
    split_to_fit(right.trim(), budget, count, out);
}

fn split_sentences(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ends = match c {
            '。' | '！' | '？' | '；' => true,
            '.' | '!' | '?' | ';' => chars.peek().is_none_or(|(_, n)| n.is_whitespace()),
            _ => false,
        };
        if ends {
            let end = i + c.len_utf8();
            parts.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts.retain(|p| !p.trim().is_empty());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::markdown::sections;
    use crate::ingest::source::parse_document;

    fn words(text: &str) -> usize {
        text.split_whitespace().count() + text.chars().filter(|c| crate::text::is_cjk(*c)).count()
    }

    fn doc(body: &str) -> SourceDoc {
        parse_document(&format!("---\nid: d-en\ntitle: Doc\ntype: manual\nlang: en\n---\n{body}")).unwrap()
    }

    #[test]
    fn small_sections_are_one_chunk_each() {
        let d = doc("## A\none two\n\nthree\n## B\nfour\n");
        let chunks = chunk_document(&d, &sections(&d.body), "knowledge/d.md", 64, &words);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].text, "one two\nthree");
        assert_eq!(chunks[0].section, "A");
        assert_eq!(chunks[0].path, "knowledge/d.md");
    }

    #[test]
    fn long_sections_split_under_budget_and_ids_are_stable() {
        let para = "word ".repeat(30);
        let body = format!("## Long\n{para}\n\n{para}\n\n{}\n", "Sentence one is here. ".repeat(20));
        let d = doc(&body);
        let chunks = chunk_document(&d, &sections(&d.body), "p", 40, &words);
        assert!(chunks.len() >= 3, "{}", chunks.len());
        for c in &chunks {
            assert!(words(&c.text) <= 40, "chunk over budget: {}", words(&c.text));
        }
        let again = chunk_document(&d, &sections(&d.body), "p", 40, &words);
        assert_eq!(chunks, again);
        let ids: std::collections::HashSet<_> = chunks.iter().map(|c| &c.id).collect();
        assert_eq!(ids.len(), chunks.len());
    }

    #[test]
    fn chinese_text_splits_at_sentence_marks() {
        let body = format!("## 说明\n{}\n", "这是一个很长的句子。".repeat(30));
        let d = doc(&body);
        let chunks = chunk_document(&d, &sections(&d.body), "p", 60, &words);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.text.ends_with('。')));
    }

    #[test]
    fn long_chunks_embed_as_overlapping_windows_under_their_heading() {
        let sentences: Vec<String> = (0..12).map(|i| format!("Sentence number {i} is here.")).collect();
        let d = doc(&format!("## Care\n{}\n", sentences.join(" ")));
        let chunk = &chunk_document(&d, &sections(&d.body), "p", 500, &words)[0];
        assert_eq!(embedding_windows(chunk, 500, &words), vec![chunk.embedding_text()], "short: one window");

        let windows = embedding_windows(chunk, 28, &words);
        assert!(windows.len() > 2, "{windows:?}");
        for w in &windows {
            assert!(w.starts_with("Doc > Care\n"), "{w}");
            assert!(words(w) <= 28, "{w}");
        }
        for pair in windows.windows(2) {
            let last_of_first = pair[0].rsplit(". ").next().unwrap().trim_end_matches('.');
            assert!(pair[1].contains(last_of_first), "no overlap between {pair:?}");
        }
        for s in &sentences {
            assert!(windows.iter().any(|w| w.contains(s.as_str())), "{s} lost");
        }
    }
}
