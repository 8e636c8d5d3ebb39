//! The conversation store in SQLite: sessions, turns, gaps, feedback, handoff tickets.
//! WAL mode with `synchronous=FULL`, so a committed turn (and its gap) survives a kill -9.

use crate::domain::Lang;
use crate::domain::conversation::{
    ConversationStats, Feedback, Gap, GapCandidate, GapGroup, NewGap, NewTicket, Rating, Session, TurnRecord,
};
use crate::ports::{ConversationError, ConversationStore};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    updated_at TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    turn_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    at TEXT NOT NULL,
    question TEXT NOT NULL,
    lang TEXT NOT NULL,
    intent TEXT NOT NULL,
    confidence REAL NOT NULL,
    answered INTEGER NOT NULL,
    handoff TEXT,
    latency_ms REAL NOT NULL,
    reply TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_session ON turns(session_id);
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    lang TEXT NOT NULL,
    session_id TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    source TEXT NOT NULL,
    candidates TEXT NOT NULL,
    at TEXT NOT NULL,
    resolved_at TEXT,
    UNIQUE (turn_id, source)
);
CREATE TABLE IF NOT EXISTS feedback (
    session_id TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    rating TEXT NOT NULL,
    csat INTEGER,
    comment TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (turn_id)
);
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    summary TEXT NOT NULL,
    customer_id TEXT,
    order_id TEXT,
    at TEXT NOT NULL
);
";

/// Two gap questions at least this similar (Jaccard over terms) share a group.
const GROUP_SIMILARITY: f64 = 0.4;

pub struct SqliteConversations {
    conn: Mutex<Connection>,
    session_ttl: Duration,
}

fn storage(e: impl std::fmt::Display) -> ConversationError {
    ConversationError::Storage(e.to_string())
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, ConversationError> {
    serde_json::to_string(value).map_err(storage)
}

impl SqliteConversations {
    pub fn open(path: &Path, session_ttl: Duration) -> Result<Self, ConversationError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| storage(format!("{}: {e}", parent.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| storage(format!("{}: {e}", path.display())))?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;")
            .map_err(storage)?;
        conn.execute_batch(SCHEMA).map_err(storage)?;
        Ok(Self { conn: Mutex::new(conn), session_ttl })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, ConversationError> {
        self.conn.lock().map_err(|_| storage("a writer panicked; the connection is poisoned"))
    }

    /// The turn's question, for a thumbs-down gap.
    fn turn_question(conn: &Connection, turn_id: &str) -> Result<Option<(String, String, String)>, ConversationError> {
        conn.query_row("SELECT session_id, question, lang FROM turns WHERE turn_id = ?1", params![turn_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(storage)
    }

    fn insert_gap(conn: &Connection, gap: &NewGap) -> Result<(), ConversationError> {
        // A retried request or a second thumbs-down on the same turn never logs twice.
        conn.execute(
            "INSERT OR IGNORE INTO gaps (question, lang, session_id, turn_id, source, candidates, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                gap.question,
                gap.lang.as_str(),
                gap.session_id,
                gap.turn_id,
                gap.source,
                json(&gap.candidates)?,
                gap.at.to_rfc3339()
            ],
        )
        .map_err(storage)?;
        Ok(())
    }

    fn all_gaps(conn: &Connection) -> Result<Vec<Gap>, ConversationError> {
        let mut stmt = conn
            .prepare(
                "SELECT id, question, lang, session_id, turn_id, source, candidates, at, resolved_at
                 FROM gaps ORDER BY id",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<String>>(8)?,
                ))
            })
            .map_err(storage)?;
        let mut gaps = Vec::new();
        for row in rows {
            let (id, question, lang, session_id, turn_id, source, candidates, at, resolved_at) =
                row.map_err(storage)?;
            let candidates: Vec<GapCandidate> = serde_json::from_str(&candidates).map_err(storage)?;
            gaps.push(Gap {
                id,
                gap: NewGap {
                    question,
                    lang: Lang::parse(&lang).unwrap_or(Lang::En),
                    session_id,
                    turn_id,
                    source,
                    candidates,
                    at: parse_time(&at)?,
                },
                resolved_at: resolved_at.as_deref().map(parse_time).transpose()?,
            });
        }
        Ok(gaps)
    }
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, ConversationError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(storage)
}

/// Terms for grouping: lower-cased words for Latin text, character bigrams for CJK runs.
fn terms(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut cjk: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_cjk = |cjk: &mut Vec<char>, out: &mut HashSet<String>| {
        if cjk.len() == 1 {
            out.insert(cjk[0].to_string());
        }
        for pair in cjk.windows(2) {
            out.insert(pair.iter().collect());
        }
        cjk.clear();
    };
    for c in text.chars() {
        if crate::text::is_cjk(c) {
            if !word.is_empty() {
                out.insert(std::mem::take(&mut word));
            }
            cjk.push(c);
        } else {
            flush_cjk(&mut cjk, &mut out);
            if c.is_alphanumeric() {
                word.extend(c.to_lowercase());
            } else if !word.is_empty() {
                out.insert(std::mem::take(&mut word));
            }
        }
    }
    flush_cjk(&mut cjk, &mut out);
    if !word.is_empty() {
        out.insert(word);
    }
    out
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 { 0.0 } else { a.intersection(b).count() as f64 / union as f64 }
}

/// Single-link grouping in arrival order; a group's id is its first gap's, so it stays put
/// while new questions join.
fn group(gaps: Vec<Gap>) -> Vec<GapGroup> {
    let term_sets: Vec<HashSet<String>> = gaps.iter().map(|g| terms(&g.gap.question)).collect();
    let mut group_of: Vec<usize> = (0..gaps.len()).collect();
    for i in 0..gaps.len() {
        for j in 0..i {
            if jaccard(&term_sets[i], &term_sets[j]) >= GROUP_SIMILARITY {
                let (from, to) = (group_of[i], group_of[j]);
                // Merge i's group into j's (earlier) group.
                for g in group_of.iter_mut() {
                    if *g == from {
                        *g = to;
                    }
                }
            }
        }
    }
    let mut by_root: BTreeMap<usize, Vec<Gap>> = BTreeMap::new();
    for (gap, root) in gaps.into_iter().zip(group_of) {
        by_root.entry(root).or_default().push(gap);
    }
    let mut groups: Vec<GapGroup> = by_root
        .into_values()
        .map(|questions| {
            let label = questions.first().map(|g| g.gap.question.clone()).unwrap_or_default();
            let id = format!("g{}", questions.first().map(|g| g.id).unwrap_or_default());
            let resolved = questions.iter().all(|g| g.resolved_at.is_some());
            GapGroup { id, label, count: questions.len(), resolved, questions }
        })
        .collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
    groups
}

impl ConversationStore for SqliteConversations {
    fn load_session(&self, session_id: &str, now: DateTime<Utc>) -> Result<Option<Session>, ConversationError> {
        let conn = self.lock()?;
        let state: Option<String> = conn
            .query_row("SELECT state FROM sessions WHERE id = ?1", params![session_id], |r| r.get(0))
            .optional()
            .map_err(storage)?;
        let Some(state) = state else { return Ok(None) };
        let session: Session = serde_json::from_str(&state).map_err(storage)?;
        if now - session.updated_at > self.session_ttl {
            return Ok(None);
        }
        Ok(Some(session))
    }

    fn record_turn(&self, session: &Session, turn: &TurnRecord, gap: Option<&NewGap>) -> Result<(), ConversationError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(storage)?;
        tx.execute(
            "INSERT INTO sessions (id, updated_at, state) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state",
            params![session.id, session.updated_at.to_rfc3339(), json(session)?],
        )
        .map_err(storage)?;
        tx.execute(
            "INSERT INTO turns (turn_id, session_id, at, question, lang, intent, confidence, answered, handoff,
                                latency_ms, reply)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                turn.turn_id,
                turn.session_id,
                turn.at.to_rfc3339(),
                turn.question,
                turn.lang.as_str(),
                turn.intent.as_str(),
                turn.confidence,
                turn.answered,
                turn.handoff.map(|h| json(&h)).transpose()?,
                turn.latency_ms,
                turn.reply.to_string()
            ],
        )
        .map_err(storage)?;
        if let Some(gap) = gap {
            Self::insert_gap(&tx, gap)?;
        }
        tx.commit().map_err(storage)
    }

    fn record_feedback(&self, feedback: &Feedback) -> Result<(), ConversationError> {
        if feedback.csat.is_some_and(|c| !(1..=5).contains(&c)) {
            return Err(ConversationError::Invalid("csat must be 1 to 5".into()));
        }
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(storage)?;
        let Some((session_id, question, lang)) = Self::turn_question(&tx, &feedback.turn_id)? else {
            return Err(ConversationError::NotFound(format!("turn {}", feedback.turn_id)));
        };
        if session_id != feedback.session_id {
            return Err(ConversationError::NotFound(format!("turn {}", feedback.turn_id)));
        }
        let rating = match feedback.rating {
            Rating::Up => "up",
            Rating::Down => "down",
        };
        tx.execute(
            "INSERT INTO feedback (session_id, turn_id, rating, csat, comment, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(turn_id) DO UPDATE SET rating = excluded.rating, csat = excluded.csat,
                 comment = excluded.comment, at = excluded.at",
            params![
                feedback.session_id,
                feedback.turn_id,
                rating,
                feedback.csat,
                feedback.comment,
                feedback.at.to_rfc3339()
            ],
        )
        .map_err(storage)?;
        if feedback.rating == Rating::Down {
            let gap = NewGap {
                question,
                lang: Lang::parse(&lang).unwrap_or(Lang::En),
                session_id,
                turn_id: feedback.turn_id.clone(),
                source: "thumbs_down".into(),
                candidates: Vec::new(),
                at: feedback.at,
            };
            Self::insert_gap(&tx, &gap)?;
        }
        tx.commit().map_err(storage)
    }

    fn create_ticket(&self, ticket: &NewTicket) -> Result<String, ConversationError> {
        let id = format!("T-{}-{}", ticket.at.format("%Y%m%d"), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO tickets (id, session_id, reason, summary, customer_id, order_id, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                ticket.session_id,
                json(&ticket.reason)?,
                ticket.summary,
                ticket.customer_id,
                ticket.order_id,
                ticket.at.to_rfc3339()
            ],
        )
        .map_err(storage)?;
        Ok(id)
    }

    fn gap_groups(&self, include_resolved: bool) -> Result<Vec<GapGroup>, ConversationError> {
        let gaps = Self::all_gaps(&*self.lock()?)?;
        let groups = group(gaps);
        Ok(groups.into_iter().filter(|g| include_resolved || !g.resolved).collect())
    }

    fn resolve_gap_group(&self, group_id: &str) -> Result<bool, ConversationError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(storage)?;
        let open: Vec<Gap> = Self::all_gaps(&tx)?.into_iter().filter(|g| g.resolved_at.is_none()).collect();
        let Some(target) = group(open).into_iter().find(|g| g.id == group_id) else { return Ok(false) };
        let now = Utc::now().to_rfc3339();
        for gap in &target.questions {
            tx.execute("UPDATE gaps SET resolved_at = ?1 WHERE id = ?2", params![now, gap.id]).map_err(storage)?;
        }
        tx.commit().map_err(storage)?;
        Ok(true)
    }

    fn stats(&self) -> Result<ConversationStats, ConversationError> {
        let mut stats = ConversationStats::default();
        let mut latencies: Vec<f64> = Vec::new();
        {
            let conn = self.lock()?;
            let count = |sql: &str| -> Result<u64, ConversationError> {
                conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64).map_err(storage)
            };
            stats.turns = count("SELECT COUNT(*) FROM turns")?;
            stats.answered = count("SELECT COUNT(*) FROM turns WHERE answered = 1 AND handoff IS NULL")?;
            stats.handoffs = count("SELECT COUNT(*) FROM turns WHERE handoff IS NOT NULL")?;
            stats.feedback_up = count("SELECT COUNT(*) FROM feedback WHERE rating = 'up'")?;
            stats.feedback_down = count("SELECT COUNT(*) FROM feedback WHERE rating = 'down'")?;
            stats.csat_avg = conn
                .query_row("SELECT AVG(csat) FROM feedback WHERE csat IS NOT NULL", [], |r| r.get(0))
                .map_err(storage)?;
            let mut stmt = conn.prepare("SELECT intent, COUNT(*) FROM turns GROUP BY intent").map_err(storage)?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).map_err(storage)? {
                let (intent, n) = row.map_err(storage)?;
                stats.intents.insert(intent, n.max(0) as u64);
            }
            let mut stmt =
                conn.prepare("SELECT latency_ms FROM turns ORDER BY at DESC LIMIT 10000").map_err(storage)?;
            for row in stmt.query_map([], |r| r.get::<_, f64>(0)).map_err(storage)? {
                latencies.push(row.map_err(storage)?);
            }
        }
        latencies.sort_by(f64::total_cmp);
        let percentile =
            |p: f64| (!latencies.is_empty()).then(|| latencies[((latencies.len() - 1) as f64 * p).round() as usize]);
        stats.latency_ms_p50 = percentile(0.5);
        stats.latency_ms_p95 = percentile(0.95);
        stats.open_gaps = self.gap_groups(false)?.iter().map(|g| g.count as u64).sum();
        let rate = |n: u64| if stats.turns == 0 { 0.0 } else { n as f64 / stats.turns as f64 };
        stats.self_resolution_rate = rate(stats.answered);
        stats.handoff_rate = rate(stats.handoffs);
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::turn::Intent;

    fn turn(store: &SqliteConversations, session: &Session, question: &str, answered: bool) -> String {
        let turn_id = format!("t{}", uuid::Uuid::new_v4().simple());
        let record = TurnRecord {
            turn_id: turn_id.clone(),
            session_id: session.id.clone(),
            at: session.updated_at,
            question: question.into(),
            lang: Lang::En,
            intent: Intent::Other,
            confidence: 0.5,
            answered,
            handoff: None,
            latency_ms: 3.0,
            reply: serde_json::json!({}),
        };
        let gap = NewGap {
            question: question.into(),
            lang: Lang::En,
            session_id: session.id.clone(),
            turn_id: turn_id.clone(),
            source: "unanswered".into(),
            candidates: Vec::new(),
            at: session.updated_at,
        };
        store.record_turn(session, &record, (!answered).then_some(&gap)).unwrap();
        turn_id
    }

    #[test]
    fn gaps_group_by_similarity_survive_reopening_and_resolve_together() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let now = Utc::now();
        let session = Session::new("s1".into(), None, Lang::En, now);
        {
            let store = SqliteConversations::open(&path, Duration::minutes(30)).unwrap();
            turn(&store, &session, "Do you sell tennis rackets?", false);
            turn(&store, &session, "do you sell tennis rackets", false);
            turn(&store, &session, "Can I pay with bitcoin?", false);
            turn(&store, &session, "What is the return window?", true);
        }
        let store = SqliteConversations::open(&path, Duration::minutes(30)).unwrap();
        let groups = store.gap_groups(false).unwrap();
        assert_eq!(groups.iter().map(|g| g.count).collect::<Vec<_>>(), vec![2, 1]);
        assert!(store.resolve_gap_group(&groups[0].id).unwrap());
        assert!(!store.resolve_gap_group(&groups[0].id).unwrap(), "already resolved");
        let open = store.gap_groups(false).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].label, "Can I pay with bitcoin?");
        assert_eq!(store.stats().unwrap().turns, 4);
    }

    #[test]
    fn a_thumbs_down_is_a_gap_once_and_feedback_needs_a_real_turn() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteConversations::open(&dir.path().join("c.sqlite"), Duration::minutes(30)).unwrap();
        let now = Utc::now();
        let session = Session::new("s1".into(), None, Lang::En, now);
        let turn_id = turn(&store, &session, "How do I descale the kettle?", true);
        let feedback = Feedback {
            session_id: "s1".into(),
            turn_id: turn_id.clone(),
            rating: Rating::Down,
            csat: Some(2),
            comment: None,
            at: now,
        };
        store.record_feedback(&feedback).unwrap();
        store.record_feedback(&feedback).unwrap();
        let groups = store.gap_groups(false).unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].count, 1);
        let wrong = Feedback { turn_id: "nope".into(), ..feedback.clone() };
        assert!(matches!(store.record_feedback(&wrong), Err(ConversationError::NotFound(_))));
        let bad = Feedback { csat: Some(9), ..feedback };
        assert!(matches!(store.record_feedback(&bad), Err(ConversationError::Invalid(_))));
    }

    #[test]
    fn an_idle_session_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteConversations::open(&dir.path().join("c.sqlite"), Duration::minutes(30)).unwrap();
        let now = Utc::now();
        let session = Session::new("s1".into(), None, Lang::En, now);
        turn(&store, &session, "hello", true);
        assert!(store.load_session("s1", now + Duration::minutes(29)).unwrap().is_some());
        assert!(store.load_session("s1", now + Duration::minutes(31)).unwrap().is_none());
    }
}
