//! Markdown body -> sections with heading paths. Each row of a code table (a table whose
//! first column holds fault codes) becomes its own section carrying the normalised code;
//! other tables are rendered row by row as "header: value" lines so both indexes see which
//! value belongs to which column.

use crate::text::normalize_code;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub headings: Vec<String>,
    /// Paragraphs, list items, table rows and code blocks, one block per entry: the
    /// chunker packs whole blocks.
    pub blocks: Vec<String>,
    pub code: Option<String>,
}

#[derive(Default)]
struct TableState {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: String,
    in_head: bool,
}

#[derive(Default)]
struct Builder {
    headings: Vec<(HeadingLevel, String)>,
    sections: Vec<Section>,
    blocks: Vec<String>,
    block: String,
    heading_text: Option<(HeadingLevel, String)>,
    table: Option<TableState>,
    /// The lists open around the text, innermost last: each one's next item number, None
    /// for a bulleted one.
    lists: Vec<Option<u64>>,
}

impl Builder {
    fn heading_path(&self) -> Vec<String> {
        self.headings.iter().map(|(_, t)| t.clone()).collect()
    }

    fn end_block(&mut self) {
        let text = self.block.trim();
        if !text.is_empty() {
            self.blocks.push(text.to_string());
        }
        self.block.clear();
    }

    fn flush_section(&mut self) {
        self.end_block();
        if !self.blocks.is_empty() {
            let blocks = std::mem::take(&mut self.blocks);
            self.sections.push(Section { headings: self.heading_path(), blocks, code: None });
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some((_, heading)) = self.heading_text.as_mut() {
            heading.push_str(text);
        } else if let Some(table) = self.table.as_mut() {
            table.cell.push_str(text);
        } else {
            self.block.push_str(text);
        }
    }

    fn finish_table(&mut self, table: TableState) {
        let is_code_table =
            !table.rows.is_empty() && table.rows.iter().all(|r| r.first().is_some_and(|c| normalize_code(c).is_some()));
        if is_code_table {
            // Prose before the table stays one section; each row is a section of its own.
            self.flush_section();
            let mut path = self.heading_path();
            for row in &table.rows {
                let code = row.first().and_then(|c| normalize_code(c));
                let label = row.first().cloned().unwrap_or_default();
                path.push(label);
                self.sections.push(Section {
                    headings: path.clone(),
                    blocks: vec![render_row(&table.header, row)],
                    code,
                });
                path.pop();
            }
        } else {
            self.end_block();
            for row in &table.rows {
                self.blocks.push(render_row(&table.header, row));
            }
        }
    }
}

fn render_row(header: &[String], row: &[String]) -> String {
    row.iter()
        .enumerate()
        .filter(|(_, cell)| !cell.trim().is_empty())
        .map(|(i, cell)| match header.get(i).filter(|h| !h.trim().is_empty()) {
            Some(h) => format!("{}: {}", h.trim(), cell.trim()),
            None => cell.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Splits a Markdown body into sections along headings and code-table rows.
pub fn sections(body: &str) -> Vec<Section> {
    let mut b = Builder::default();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(body, options) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                b.flush_section();
                b.heading_text = Some((level, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text)) = b.heading_text.take() {
                    b.headings.retain(|(l, _)| *l < level);
                    b.headings.push((level, text.trim().to_string()));
                }
            }
            Event::Start(Tag::Table(_)) => {
                b.end_block();
                b.table = Some(TableState::default());
            }
            Event::End(TagEnd::Table) => {
                if let Some(table) = b.table.take() {
                    b.finish_table(table);
                }
            }
            Event::Start(Tag::TableHead) => {
                if let Some(t) = b.table.as_mut() {
                    t.in_head = true;
                }
            }
            Event::End(TagEnd::TableHead) => {
                if let Some(t) = b.table.as_mut() {
                    t.in_head = false;
                    t.header = std::mem::take(&mut t.row);
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let Some(t) = b.table.as_mut() {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(t) = b.table.as_mut() {
                    let cell = std::mem::take(&mut t.cell);
                    t.row.push(cell.trim().to_string());
                }
            }
            Event::Start(Tag::Paragraph) if b.lists.is_empty() => b.end_block(),
            Event::End(TagEnd::Paragraph) if b.lists.is_empty() => b.end_block(),
            Event::End(TagEnd::Paragraph) => b.block.push(' '),
            Event::Start(Tag::List(start)) => {
                if b.lists.is_empty() {
                    b.end_block();
                }
                b.lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                b.lists.pop();
                if b.lists.is_empty() {
                    b.end_block();
                }
            }
            Event::Start(Tag::Item) => {
                // Top-level items are blocks of their own; nested items stay with their parent.
                if b.lists.len() <= 1 {
                    b.end_block();
                } else {
                    b.block.push_str("; ");
                }
                // A step keeps its number: the order of a procedure is part of it.
                if let Some(Some(n)) = b.lists.last_mut() {
                    b.block.push_str(&format!("{n}. "));
                    *n += 1;
                }
            }
            Event::Start(Tag::CodeBlock(_)) => b.end_block(),
            Event::End(TagEnd::CodeBlock) => b.end_block(),
            Event::Text(text) | Event::Code(text) => b.push_text(&text),
            Event::SoftBreak | Event::HardBreak => b.push_text(" "),
            Event::Html(_) | Event::InlineHtml(_) => {}
            _ => {}
        }
    }
    b.flush_section();
    b.sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_steps_keep_their_numbers_and_bullets_stay_plain() {
        let s = sections(
            "## Pairing\n1. Turn on Bluetooth.\n2. Open the app.\n\n```\nK1-3F7A\n```\n\n5. Confirm.\n\n- tip\n",
        );
        assert_eq!(s[0].blocks, vec!["1. Turn on Bluetooth.", "2. Open the app.", "K1-3F7A", "5. Confirm.", "tip"]);
    }

    #[test]
    fn nested_headings_make_paths() {
        let s = sections("# Manual\nintro\n## Set-up\n### Pairing\nstep one\n## Cleaning\nwipe it\n");
        let paths: Vec<_> = s.iter().map(|x| x.headings.join(" > ")).collect();
        assert_eq!(paths, vec!["Manual", "Manual > Set-up > Pairing", "Manual > Cleaning"]);
        assert_eq!(s[1].blocks, vec!["step one"]);
    }

    #[test]
    fn code_table_rows_are_sections_with_codes() {
        let md = "## Water\nHow codes show.\n\n| Code | Meaning | Engineer visit |\n|---|---|---|\n| E04 | Water inlet fault | No |\n| E-21 | LiDAR blocked | Yes |\n\nAfter table.\n";
        let s = sections(md);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].blocks, vec!["How codes show."]);
        assert_eq!(s[1].code.as_deref(), Some("E04"));
        assert_eq!(s[1].headings.join(" > "), "Water > E04");
        assert_eq!(s[1].blocks[0], "Code: E04 | Meaning: Water inlet fault | Engineer visit: No");
        assert_eq!(s[2].code.as_deref(), Some("E21"));
        assert_eq!(s[3].blocks, vec!["After table."]);
    }

    #[test]
    fn other_tables_render_rows_in_place() {
        let md = "## Specs\n| Item | Value |\n|---|---|\n| Power | 45 W |\n| Weight | 5.2 kg |\n";
        let s = sections(md);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].blocks, vec!["Item: Power | Value: 45 W", "Item: Weight | Value: 5.2 kg"]);
        assert_eq!(s[0].code, None);
    }

    #[test]
    fn code_blocks_lists_and_empty_input() {
        let md = "## Reset\n1. Hold the button\n2. Wait\n   - nested note\n\n```\nSSID: Home-2.4G\n```\n";
        let s = sections(md);
        assert_eq!(s[0].blocks, vec!["1. Hold the button", "2. Wait; nested note", "SSID: Home-2.4G"]);
        assert!(sections("").is_empty());
        assert!(sections("## Only a heading\n").is_empty());
    }
}
