//! Sections -> chunks under the embedder's token budget, with content-hash ids.
//! Whole blocks (paragraphs, list items, table rows) are packed greedily; a block that is
//! too long alone is cut at sentence ends, and as a last resort by length.

use super::markdown::Section;
use super::source::SourceDoc;
use crate::domain::Chunk;

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
        let header_tokens = count(&format!("{} > {}", doc.meta.title, section_path));
        let budget = max_tokens.saturating_sub(header_tokens).max(16);
        for text in pack(&section.blocks, budget, count) {
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

fn pack(blocks: &[String], budget: usize, count: TokenCount<'_>) -> Vec<String> {
    let mut pieces = Vec::new();
    for block in blocks {
        split_block(block, budget, count, &mut pieces);
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let mut current_tokens = 0;
    for (piece, tokens) in pieces {
        if !current.is_empty() && current_tokens + tokens > budget {
            out.push(std::mem::take(&mut current));
            current_tokens = 0;
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&piece);
        current_tokens += tokens;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Pieces of one block, each within budget, with their token counts.
fn split_block(block: &str, budget: usize, count: TokenCount<'_>, out: &mut Vec<(String, usize)>) {
    let tokens = count(block);
    if tokens <= budget {
        out.push((block.to_string(), tokens));
        return;
    }
    let sentences = split_sentences(block);
    if sentences.len() > 1 {
        let mut current = String::new();
        for sentence in sentences {
            let joined = format!("{current}{sentence}");
            if !current.is_empty() && count(&joined) > budget {
                split_block(current.trim(), budget, count, out);
                current = sentence.to_string();
            } else {
                current = joined;
            }
        }
        if !current.trim().is_empty() {
            split_block(current.trim(), budget, count, out);
        }
        return;
    }
    // One overlong sentence: halve it at a character boundary until the halves fit.
    let chars: Vec<char> = block.chars().collect();
    if chars.len() < 2 {
        out.push((block.to_string(), tokens));
        return;
    }
    let mid = chars.len() / 2;
    let cut = (mid..chars.len()).find(|&i| chars[i].is_whitespace()).unwrap_or(mid);
    let (left, right): (String, String) = (chars[..cut].iter().collect(), chars[cut..].iter().collect());
    split_block(left.trim(), budget, count, out);
    split_block(right.trim(), budget, count, out);
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
}
