//! A knowledge file on disk -> validated front matter + Markdown body.
//! Front matter is TOML between `+++` lines or YAML between `---` lines.

use crate::domain::{DocMeta, DocType, Lang};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SourceError {
    #[error("no front matter: the file must start with a +++ (TOML) or --- (YAML) block")]
    MissingFrontMatter,
    #[error("front matter is not closed by a matching {0} line")]
    Unclosed(&'static str),
    #[error("front matter is not valid {format}: {message}")]
    Syntax { format: &'static str, message: String },
    #[error("front matter field `{field}`: {message}")]
    Field { field: &'static str, message: String },
    #[error("the document has no content after its front matter")]
    Empty,
}

/// A parsed knowledge file, before chunking.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDoc {
    pub meta: DocMeta,
    pub body: String,
}

/// Front matter values, whichever syntax they came in.
enum Value {
    Text(String),
    List(Vec<String>),
    Other,
}

pub fn parse_document(text: &str) -> Result<SourceDoc, SourceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (fence, format) = match text.lines().next().map(str::trim_end) {
        Some("+++") => ("+++", "TOML"),
        Some("---") => ("---", "YAML"),
        _ => return Err(SourceError::MissingFrontMatter),
    };
    let after_open = &text[text.find('\n').map_or(text.len(), |i| i + 1)..];
    let mut offset = 0;
    let mut close = None;
    for line in after_open.split_inclusive('\n') {
        if line.trim_end() == fence {
            close = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let (front_end, body_start) = close.ok_or(SourceError::Unclosed(fence))?;
    let front = &after_open[..front_end];
    let body = after_open[body_start..].to_string();
    let fields = if format == "TOML" { toml_fields(front)? } else { yaml_fields(front)? };
    let meta = validate(&fields)?;
    if body.trim().is_empty() {
        return Err(SourceError::Empty);
    }
    Ok(SourceDoc { meta, body })
}

fn toml_fields(front: &str) -> Result<BTreeMap<String, Value>, SourceError> {
    let table: toml::Table =
        toml::from_str(front).map_err(|e| SourceError::Syntax { format: "TOML", message: e.message().to_string() })?;
    Ok(table
        .into_iter()
        .map(|(k, v)| {
            let value = match v {
                toml::Value::String(s) => Value::Text(s),
                toml::Value::Datetime(d) => Value::Text(d.to_string()),
                toml::Value::Array(items) => {
                    Value::List(items.into_iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
                }
                _ => Value::Other,
            };
            (k, value)
        })
        .collect())
}

fn yaml_fields(front: &str) -> Result<BTreeMap<String, Value>, SourceError> {
    use serde_yaml_ng::Value as Y;
    let doc: Y =
        serde_yaml_ng::from_str(front).map_err(|e| SourceError::Syntax { format: "YAML", message: e.to_string() })?;
    let Y::Mapping(map) = doc else {
        return Err(SourceError::Syntax { format: "YAML", message: "expected key: value pairs".into() });
    };
    let scalar = |v: &Y| match v {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    Ok(map
        .iter()
        .filter_map(|(k, v)| {
            let key = k.as_str()?.to_string();
            let value = match v {
                Y::Sequence(items) => Value::List(items.iter().filter_map(scalar).collect()),
                Y::Null => Value::List(Vec::new()),
                other => scalar(other).map_or(Value::Other, Value::Text),
            };
            Some((key, value))
        })
        .collect())
}

fn text_field(fields: &BTreeMap<String, Value>, field: &'static str) -> Result<String, SourceError> {
    match fields.get(field) {
        Some(Value::Text(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::Text(_)) => Err(SourceError::Field { field, message: "is empty".into() }),
        Some(_) => Err(SourceError::Field { field, message: "must be a string".into() }),
        None => Err(SourceError::Field { field, message: "is missing".into() }),
    }
}

fn validate(fields: &BTreeMap<String, Value>) -> Result<DocMeta, SourceError> {
    let id = text_field(fields, "id")?;
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(SourceError::Field {
            field: "id",
            message: format!("{id:?} may hold only letters, digits, '-', '_' and '.'"),
        });
    }
    let title = text_field(fields, "title")?;
    let type_text = text_field(fields, "type")?;
    let doc_type = DocType::parse(&type_text).ok_or_else(|| SourceError::Field {
        field: "type",
        message: format!("{type_text:?} is not one of manual, policy, fault_codes, faq, product"),
    })?;
    let lang_text = text_field(fields, "lang")?;
    let lang = Lang::parse(&lang_text)
        .ok_or_else(|| SourceError::Field { field: "lang", message: format!("{lang_text:?} is not zh or en") })?;
    let products = match fields.get("products") {
        None => Vec::new(),
        Some(Value::List(items)) => items.iter().map(|s| s.trim().to_string()).collect(),
        Some(Value::Text(s)) => vec![s.trim().to_string()],
        Some(Value::Other) => {
            return Err(SourceError::Field { field: "products", message: "must be a list of strings".into() });
        }
    };
    let updated = match fields.get("updated") {
        None => String::new(),
        Some(Value::Text(s)) => {
            let day = s.get(..10).unwrap_or(s);
            chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| SourceError::Field {
                field: "updated",
                message: format!("{s:?} is not a date (YYYY-MM-DD)"),
            })?;
            day.to_string()
        }
        Some(_) => return Err(SourceError::Field { field: "updated", message: "must be a date".into() }),
    };
    Ok(DocMeta { id, title, doc_type, lang, products, updated })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_front_matter() {
        let doc = parse_document(
            "+++\nid = \"a-zh\"\ntitle = \"标题\"\ntype = \"faq\"\nlang = \"zh\"\nproducts = [\"HH-KT100\"]\nupdated = 2026-09-01\n+++\n\n## 问题？\n答案\n",
        )
        .unwrap();
        assert_eq!(doc.meta.id, "a-zh");
        assert_eq!(doc.meta.doc_type, DocType::Faq);
        assert_eq!(doc.meta.lang, Lang::Zh);
        assert_eq!(doc.meta.products, vec!["HH-KT100"]);
        assert_eq!(doc.meta.updated, "2026-09-01");
        assert!(doc.body.contains("## 问题？"));
    }

    #[test]
    fn yaml_front_matter() {
        let doc = parse_document(
            "---\nid: b-en\ntitle: Returns\ntype: policy\nlang: en\nproducts: []\nupdated: 2026-10-01\n---\nBody text\n",
        )
        .unwrap();
        assert_eq!(doc.meta.doc_type, DocType::Policy);
        assert!(doc.meta.products.is_empty());
        assert_eq!(doc.body.trim(), "Body text");
    }

    #[test]
    fn malformed_front_matter_is_explained() {
        assert_eq!(parse_document("# Just a heading\n"), Err(SourceError::MissingFrontMatter));
        assert_eq!(parse_document(""), Err(SourceError::MissingFrontMatter));
        assert_eq!(parse_document("---\nid: x\n"), Err(SourceError::Unclosed("---")));
        let bad_type = parse_document("---\nid: x\ntitle: T\ntype: novel\nlang: en\n---\ntext\n");
        assert!(matches!(bad_type, Err(SourceError::Field { field: "type", .. })));
        let no_title = parse_document("+++\nid = \"x\"\ntype = \"faq\"\nlang = \"en\"\n+++\ntext\n");
        assert!(matches!(no_title, Err(SourceError::Field { field: "title", .. })));
        let bad_toml = parse_document("+++\nid = \n+++\ntext\n");
        assert!(matches!(bad_toml, Err(SourceError::Syntax { format: "TOML", .. })));
        let bad_date = parse_document("---\nid: x\ntitle: T\ntype: faq\nlang: en\nupdated: soon\n---\nt\n");
        assert!(matches!(bad_date, Err(SourceError::Field { field: "updated", .. })));
        let empty = parse_document("---\nid: x\ntitle: T\ntype: faq\nlang: en\n---\n\n  \n");
        assert_eq!(empty, Err(SourceError::Empty));
    }
}
