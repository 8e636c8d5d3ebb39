//! The embedded commerce store: one SQLite file in the data dir, seeded from
//! `knowledge/store/*.json`.
//!
//! Two kinds of table. *Seeded* tables (products, stock, customers, orders, shipments,
//! promotions, coupons) hold the seed; each row keeps its record in the domain's serde form
//! beside the columns queries filter on. *Runtime* tables hold what shoppers create (returns,
//! restock subscriptions, work orders), a journal of order events (changes and returns) and
//! the id sequences; a reseed never touches them.
//!
//! Reseeding: the blake3 hash of the seed files is kept in `meta`. When [`SqliteStore::open`]
//! or [`SqliteStore::reload_if_changed`] finds another hash, the new seed is parsed and
//! checked first (a bad file changes nothing), then in one transaction the seeded tables are
//! replaced and the order journal is replayed on the new orders, event by event, with the
//! same rules that accepted it (`commerce::rules`). An event still allowed on the new data is
//! applied again; one that no longer is (the order is gone, or the seed says it has shipped
//! since) is kept in the journal, marked not applied, and the seed's version of the order
//! stands: the seed is the warehouse's truth. Returns, subscriptions and work orders are
//! kept as they are, so their ids stay valid.
//!
//! Ids are `RMA-`, `RS-` (restock subscription) and `WO-` + the UTC date + a per-day
//! sequence of four or more digits, e.g. `RMA-20261121-0001`; sequences live in a runtime
//! table, so an id is never handed out twice. Asking again for the same restock
//! subscription returns the existing one.
//!
//! Stock is checked, not reserved: a quantity increase is refused when the variant has too
//! few in stock, but orders do not draw stock down (the seed's stock is the warehouse's).

use super::rules;
use super::seed::{Seed, SeedFiles};
use crate::domain::commerce::{
    Coupon, Customer, NewReturn, NewWorkOrder, Order, OrderChange, Product, Promotion, RestockRequest,
    RestockSubscription, ReturnRecord, Shipment, StockRow, WorkOrder,
};
use crate::ports::{CommerceBackend, CommerceError};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Params, Transaction, TransactionBehavior, params};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY, position INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stock (
    position INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    size TEXT,
    color TEXT,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stock_sku ON stock(sku);
CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id, created_at);
CREATE TABLE IF NOT EXISTS shipments (order_id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS promotions (id TEXT PRIMARY KEY, position INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS coupons (
    code TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    customer_id TEXT,
    record TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS order_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    event TEXT NOT NULL,
    at TEXT NOT NULL,
    applied INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS returns (rma TEXT PRIMARY KEY, order_id TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS returns_order ON returns(order_id);
CREATE TABLE IF NOT EXISTS restock_subscriptions (
    id TEXT PRIMARY KEY,
    sku TEXT NOT NULL,
    size TEXT,
    color TEXT,
    contact TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS work_orders (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sequences (prefix TEXT PRIMARY KEY, last INTEGER NOT NULL);
";

const CLEAR_SEEDED: &str = "
DELETE FROM products; DELETE FROM stock; DELETE FROM customers; DELETE FROM orders;
DELETE FROM shipments; DELETE FROM promotions; DELETE FROM coupons;
";

const SEED_HASH_KEY: &str = "seed_hash";

/// What happened to an order through the API, journalled so it can be replayed on a new seed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum OrderEvent {
    Change { change: OrderChange },
    Return { rma: String, skus: Vec<String> },
}

pub struct SqliteStore {
    conn: Mutex<Connection>,
    seed_dir: PathBuf,
    now: fn() -> DateTime<Utc>,
}

fn db(e: rusqlite::Error) -> CommerceError {
    CommerceError::Unavailable(format!("commerce database: {e}"))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, CommerceError> {
    serde_json::to_string(value).map_err(|e| CommerceError::Corrupt(format!("cannot encode a record: {e}")))
}

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, CommerceError> {
    serde_json::from_str(text).map_err(|e| CommerceError::Corrupt(format!("stored record: {e}")))
}

/// The records of the rows `sql` selects (its one column is `record`).
fn records<T: DeserializeOwned>(conn: &Connection, sql: &str, params: impl Params) -> Result<Vec<T>, CommerceError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let texts = stmt.query_map(params, |r| r.get::<_, String>(0)).map_err(db)?;
    texts.map(|text| decode(&text.map_err(db)?)).collect()
}

fn record<T: DeserializeOwned>(conn: &Connection, sql: &str, params: impl Params) -> Result<Option<T>, CommerceError> {
    let text: Option<String> = conn.query_row(sql, params, |r| r.get(0)).optional().map_err(db)?;
    text.map(|t| decode(&t)).transpose()
}

fn load_order(conn: &Connection, order_id: &str) -> Result<Option<Order>, CommerceError> {
    record(conn, "SELECT record FROM orders WHERE order_id = ?1", params![order_id])
}

fn load_product(conn: &Connection, sku: &str) -> Result<Option<Product>, CommerceError> {
    record(conn, "SELECT record FROM products WHERE sku = ?1", params![sku])
}

fn order_not_found(order_id: &str) -> CommerceError {
    CommerceError::NotFound(format!("order {order_id}"))
}

fn product_not_found(sku: &str) -> CommerceError {
    CommerceError::NotFound(format!("product {sku}"))
}

fn immediate(conn: &mut Connection) -> Result<Transaction<'_>, CommerceError> {
    // Take the write lock up front: a deferred transaction that reads, then writes, can fail
    // with SQLITE_BUSY when another writer got in between.
    conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)
}

/// `PREFIX-YYYYMMDD-NNNN`, the next number of that prefix and day.
fn next_id(tx: &Transaction, kind: &str, now: DateTime<Utc>) -> Result<String, CommerceError> {
    let prefix = format!("{kind}-{}", now.format("%Y%m%d"));
    let n: i64 = tx
        .query_row(
            "INSERT INTO sequences (prefix, last) VALUES (?1, 1)
             ON CONFLICT (prefix) DO UPDATE SET last = last + 1 RETURNING last",
            params![prefix],
            |r| r.get(0),
        )
        .map_err(db)?;
    Ok(format!("{prefix}-{n:04}"))
}

/// The order's rules for one event; the order is untouched when they refuse it.
fn apply_rules(order: &mut Order, event: &OrderEvent) -> Result<(), CommerceError> {
    match event {
        OrderEvent::Change { change } => rules::apply_change(order, change),
        OrderEvent::Return { skus, .. } => rules::apply_return(order, skus),
    }
}

/// Stores an order an event has been applied to, with the event's side effects.
fn persist(tx: &Transaction, order: &Order, event: &OrderEvent) -> Result<(), CommerceError> {
    tx.execute("UPDATE orders SET record = ?2 WHERE order_id = ?1", params![order.order_id, to_json(order)?])
        .map_err(db)?;
    if let (OrderEvent::Change { change: OrderChange::Cancel }, Some(code)) = (event, &order.coupon) {
        release_coupon(tx, code)?;
    }
    Ok(())
}

/// A cancelled order gives its customer's own coupon back (public codes are never "used").
fn release_coupon(tx: &Transaction, code: &str) -> Result<(), CommerceError> {
    let coupon: Option<Coupon> =
        record(tx, "SELECT record FROM coupons WHERE code = ?1 AND customer_id IS NOT NULL", params![code])?;
    if let Some(mut coupon) = coupon.filter(|c| c.used) {
        coupon.used = false;
        tx.execute("UPDATE coupons SET record = ?2 WHERE code = ?1", params![code, to_json(&coupon)?]).map_err(db)?;
    }
    Ok(())
}

fn journal(tx: &Transaction, order_id: &str, event: &OrderEvent, at: DateTime<Utc>) -> Result<(), CommerceError> {
    tx.execute(
        "INSERT INTO order_events (order_id, event, at, applied) VALUES (?1, ?2, ?3, 1)",
        params![order_id, to_json(event)?, at.to_rfc3339()],
    )
    .map_err(db)?;
    Ok(())
}

fn insert_seed(tx: &Transaction, seed: &Seed) -> Result<(), CommerceError> {
    tx.execute_batch(CLEAR_SEEDED).map_err(db)?;
    let mut stmt = tx.prepare("INSERT INTO products (sku, position, record) VALUES (?1, ?2, ?3)").map_err(db)?;
    for (i, p) in seed.products.iter().enumerate() {
        stmt.execute(params![p.sku, i, to_json(p)?]).map_err(db)?;
    }
    let mut stmt =
        tx.prepare("INSERT INTO stock (position, sku, size, color, record) VALUES (?1, ?2, ?3, ?4, ?5)").map_err(db)?;
    for (i, row) in seed.stock.iter().enumerate() {
        stmt.execute(params![i, row.sku, row.size, row.color, to_json(row)?]).map_err(db)?;
    }
    let mut stmt = tx.prepare("INSERT INTO customers (id, record) VALUES (?1, ?2)").map_err(db)?;
    for c in &seed.customers {
        stmt.execute(params![c.id, to_json(c)?]).map_err(db)?;
    }
    let mut stmt = tx
        .prepare("INSERT INTO orders (order_id, customer_id, created_at, record) VALUES (?1, ?2, ?3, ?4)")
        .map_err(db)?;
    for o in &seed.orders {
        stmt.execute(params![o.order_id, o.customer_id, o.created_at.timestamp(), to_json(o)?]).map_err(db)?;
    }
    let mut stmt = tx.prepare("INSERT INTO shipments (order_id, record) VALUES (?1, ?2)").map_err(db)?;
    for s in &seed.shipments {
        stmt.execute(params![s.order_id, to_json(s)?]).map_err(db)?;
    }
    let mut stmt = tx.prepare("INSERT INTO promotions (id, position, record) VALUES (?1, ?2, ?3)").map_err(db)?;
    for (i, p) in seed.promotions.iter().enumerate() {
        stmt.execute(params![p.id, i, to_json(p)?]).map_err(db)?;
    }
    let mut stmt =
        tx.prepare("INSERT INTO coupons (code, position, customer_id, record) VALUES (?1, ?2, ?3, ?4)").map_err(db)?;
    for (i, c) in seed.coupons.iter().enumerate() {
        stmt.execute(params![c.code, i, c.customer_id, to_json(c)?]).map_err(db)?;
    }
    Ok(())
}

/// Applies the journal again, oldest first; returns (applied, no longer applicable).
fn replay(tx: &Transaction) -> Result<(usize, usize), CommerceError> {
    let events: Vec<(i64, String, String)> = {
        let mut stmt = tx.prepare("SELECT seq, order_id, event FROM order_events ORDER BY seq").map_err(db)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)?
    };
    let (mut applied, mut dropped) = (0, 0);
    for (seq, order_id, event) in events {
        let event: OrderEvent = decode(&event)?;
        let reapplied =
            load_order(tx, &order_id)?.and_then(|mut order| apply_rules(&mut order, &event).ok().map(|()| order));
        match &reapplied {
            Some(order) => {
                persist(tx, order, &event)?;
                applied += 1;
            }
            None => dropped += 1,
        }
        tx.execute("UPDATE order_events SET applied = ?2 WHERE seq = ?1", params![seq, reapplied.is_some()])
            .map_err(db)?;
    }
    Ok((applied, dropped))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `db_path` and seeds it from `seed_dir` when
    /// the seed is new or has changed. When a seeded database exists and the new seed is bad,
    /// the store opens on the data it has and logs why; only a first seeding that fails is
    /// an error.
    pub fn open(db_path: &Path, seed_dir: &Path) -> Result<Self, CommerceError> {
        Self::open_with_clock(db_path, seed_dir, Utc::now)
    }

    fn open_with_clock(db_path: &Path, seed_dir: &Path, now: fn() -> DateTime<Utc>) -> Result<Self, CommerceError> {
        let unavailable = |e: &dyn std::fmt::Display| CommerceError::Unavailable(format!("{}: {e}", db_path.display()));
        if let Some(parent) = db_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| unavailable(&e))?;
        }
        let conn = Connection::open(db_path).map_err(|e| unavailable(&e))?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;")
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        let store = Self { conn: Mutex::new(conn), seed_dir: seed_dir.to_path_buf(), now };
        match store.reload_if_changed() {
            Ok(_) => Ok(store),
            Err(e) if store.seed_hash()?.is_some() => {
                tracing::warn!(error = %e, "commerce seed not loaded; serving the data seeded before");
                Ok(store)
            }
            Err(e) => Err(e),
        }
    }

    /// Reseeds when the seed files have changed since the last seeding (see the module doc).
    /// Returns whether it reseeded. On an error the previous data stays as it was.
    pub fn reload_if_changed(&self) -> Result<bool, CommerceError> {
        let files = SeedFiles::read(&self.seed_dir)?;
        if self.seed_hash()?.as_deref() == Some(files.hash.as_str()) {
            return Ok(false);
        }
        let seed = files.parse()?;
        let mut conn = self.lock()?;
        let tx = immediate(&mut conn)?;
        insert_seed(&tx, &seed)?;
        let (applied, dropped) = replay(&tx)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![SEED_HASH_KEY, files.hash],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        tracing::info!(
            products = seed.products.len(),
            orders = seed.orders.len(),
            order_events_applied = applied,
            order_events_dropped = dropped,
            "commerce store seeded from {}",
            self.seed_dir.display()
        );
        Ok(true)
    }

    fn seed_hash(&self) -> Result<Option<String>, CommerceError> {
        self.lock()?
            .query_row("SELECT value FROM meta WHERE key = ?1", params![SEED_HASH_KEY], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, CommerceError> {
        self.conn.lock().map_err(|_| CommerceError::Unavailable("a writer panicked; the connection is poisoned".into()))
    }

    /// A quantity increase needs that much more of the line's variant in stock.
    fn check_stock(conn: &Connection, before: &Order, after: &Order, sku: &str) -> Result<(), CommerceError> {
        let line = rules::line_of(before, sku)?;
        let item = &after.items[line];
        let extra = item.quantity - before.items[line].quantity;
        if extra <= 0 {
            return Ok(());
        }
        let row: Option<StockRow> = record(
            conn,
            "SELECT record FROM stock WHERE sku = ?1 AND size IS ?2 AND color IS ?3",
            params![item.sku, item.size, item.color],
        )?;
        let available = row.map_or(0, |r| r.quantity);
        if available < extra {
            return Err(CommerceError::NotAllowed(format!(
                "only {available} more of {sku} in stock; the quantity cannot go up by {extra}"
            )));
        }
        Ok(())
    }

    /// The earlier return of this order that already covers one of `skus` (empty: all).
    fn overlapping_return(conn: &Connection, order_id: &str, skus: &[String]) -> Result<Option<String>, CommerceError> {
        let earlier: Vec<ReturnRecord> =
            records(conn, "SELECT record FROM returns WHERE order_id = ?1 ORDER BY rma", params![order_id])?;
        Ok(earlier
            .into_iter()
            .find(|r| r.skus.is_empty() || skus.is_empty() || r.skus.iter().any(|s| skus.contains(s)))
            .map(|r| r.rma))
    }
}

/// The product's own spelling of a requested size or colour, or why it has none such.
fn variant(sku: &str, what: &str, offered: &[String], asked: Option<&str>) -> Result<Option<String>, CommerceError> {
    let Some(asked) = asked else { return Ok(None) };
    offered
        .iter()
        .find(|o| o.eq_ignore_ascii_case(asked.trim()))
        .cloned()
        .map(Some)
        .ok_or_else(|| CommerceError::Invalid(format!("{sku} has no {what} {asked}")))
}

impl CommerceBackend for SqliteStore {
    fn name(&self) -> &str {
        "sqlite"
    }

    fn product(&self, sku: &str) -> Result<Option<Product>, CommerceError> {
        load_product(&*self.lock()?, sku)
    }

    fn products(&self) -> Result<Vec<Product>, CommerceError> {
        records(&*self.lock()?, "SELECT record FROM products ORDER BY position", [])
    }

    fn stock(&self, sku: &str, size: Option<&str>, color: Option<&str>) -> Result<Vec<StockRow>, CommerceError> {
        // Sizes and colours as shoppers type them: "us 9", "Black".
        records(
            &*self.lock()?,
            "SELECT record FROM stock WHERE sku = ?1
               AND (?2 IS NULL OR size = ?2 COLLATE NOCASE)
               AND (?3 IS NULL OR color = ?3 COLLATE NOCASE)
             ORDER BY position",
            params![sku, size.map(str::trim), color.map(str::trim)],
        )
    }

    fn customer(&self, id: &str) -> Result<Option<Customer>, CommerceError> {
        record(&*self.lock()?, "SELECT record FROM customers WHERE id = ?1", params![id])
    }

    fn order(&self, order_id: &str) -> Result<Option<Order>, CommerceError> {
        load_order(&*self.lock()?, order_id)
    }

    /// Newest first.
    fn orders_of(&self, customer_id: &str) -> Result<Vec<Order>, CommerceError> {
        records(
            &*self.lock()?,
            "SELECT record FROM orders WHERE customer_id = ?1 ORDER BY created_at DESC, order_id DESC",
            params![customer_id],
        )
    }

    fn shipment(&self, order_id: &str) -> Result<Option<Shipment>, CommerceError> {
        record(&*self.lock()?, "SELECT record FROM shipments WHERE order_id = ?1", params![order_id])
    }

    fn promotions(&self) -> Result<Vec<Promotion>, CommerceError> {
        records(&*self.lock()?, "SELECT record FROM promotions ORDER BY position", [])
    }

    fn coupons(&self, customer_id: Option<&str>) -> Result<Vec<Coupon>, CommerceError> {
        records(
            &*self.lock()?,
            "SELECT record FROM coupons WHERE customer_id IS NULL OR customer_id = ?1 ORDER BY position",
            params![customer_id],
        )
    }

    fn change_order(&self, order_id: &str, change: &OrderChange) -> Result<Order, CommerceError> {
        let now = (self.now)();
        let mut conn = self.lock()?;
        let tx = immediate(&mut conn)?;
        let before = load_order(&tx, order_id)?.ok_or_else(|| order_not_found(order_id))?;
        let event = OrderEvent::Change { change: change.clone() };
        let mut after = before.clone();
        apply_rules(&mut after, &event)?;
        if let OrderChange::Quantity { sku, .. } = change {
            Self::check_stock(&tx, &before, &after, sku)?;
        }
        persist(&tx, &after, &event)?;
        journal(&tx, order_id, &event, now)?;
        tx.commit().map_err(db)?;
        Ok(after)
    }

    fn create_return(&self, request: &NewReturn) -> Result<ReturnRecord, CommerceError> {
        if request.reason.trim().is_empty() {
            return Err(CommerceError::Invalid("a return needs a reason".into()));
        }
        let now = (self.now)();
        let mut conn = self.lock()?;
        let tx = immediate(&mut conn)?;
        let mut order = load_order(&tx, &request.order_id)?.ok_or_else(|| order_not_found(&request.order_id))?;
        rules::apply_return(&mut order, &request.skus)?;
        if let Some(rma) = Self::overlapping_return(&tx, &request.order_id, &request.skus)? {
            return Err(CommerceError::NotAllowed(format!("these items already have a return: {rma}")));
        }
        let rma = next_id(&tx, "RMA", now)?;
        let created = ReturnRecord {
            rma: rma.clone(),
            order_id: request.order_id.clone(),
            skus: request.skus.clone(),
            reason: request.reason.clone(),
            quality_issue: request.quality_issue,
            created_at: now,
        };
        tx.execute(
            "INSERT INTO returns (rma, order_id, record) VALUES (?1, ?2, ?3)",
            params![rma, created.order_id, to_json(&created)?],
        )
        .map_err(db)?;
        let event = OrderEvent::Return { rma, skus: request.skus.clone() };
        persist(&tx, &order, &event)?;
        journal(&tx, &request.order_id, &event, now)?;
        tx.commit().map_err(db)?;
        Ok(created)
    }

    fn subscribe_restock(&self, request: &RestockRequest) -> Result<RestockSubscription, CommerceError> {
        let contact = request.contact.trim();
        if contact.is_empty() {
            return Err(CommerceError::Invalid("a restock notice needs a contact".into()));
        }
        let now = (self.now)();
        let mut conn = self.lock()?;
        let tx = immediate(&mut conn)?;
        let product = load_product(&tx, &request.sku)?.ok_or_else(|| product_not_found(&request.sku))?;
        let request = RestockRequest {
            sku: product.sku.clone(),
            size: variant(&product.sku, "size", &product.sizes, request.size.as_deref())?,
            color: variant(&product.sku, "colour", &product.colors, request.color.as_deref())?,
            contact: contact.to_string(),
        };
        let existing: Option<RestockSubscription> = record(
            &tx,
            "SELECT record FROM restock_subscriptions WHERE sku = ?1 AND size IS ?2 AND color IS ?3 AND contact = ?4",
            params![request.sku, request.size, request.color, request.contact],
        )?;
        if let Some(existing) = existing {
            return Ok(existing);
        }
        let subscription = RestockSubscription { id: next_id(&tx, "RS", now)?, request, created_at: now };
        let r = &subscription.request;
        tx.execute(
            "INSERT INTO restock_subscriptions (id, sku, size, color, contact, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![subscription.id, r.sku, r.size, r.color, r.contact, to_json(&subscription)?],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(subscription)
    }

    fn create_work_order(&self, request: &NewWorkOrder) -> Result<WorkOrder, CommerceError> {
        if request.description.trim().is_empty() {
            return Err(CommerceError::Invalid("a work order needs a description of the fault".into()));
        }
        let now = (self.now)();
        let mut conn = self.lock()?;
        let tx = immediate(&mut conn)?;
        load_product(&tx, &request.sku)?.ok_or_else(|| product_not_found(&request.sku))?;
        if let Some(order_id) = &request.order_id {
            let order = load_order(&tx, order_id)?.ok_or_else(|| order_not_found(order_id))?;
            if request.customer_id.as_ref().is_some_and(|c| *c != order.customer_id) {
                return Err(CommerceError::Invalid(format!("order {order_id} belongs to another customer")));
            }
        }
        let work_order = WorkOrder { id: next_id(&tx, "WO", now)?, request: request.clone(), created_at: now };
        tx.execute(
            "INSERT INTO work_orders (id, record) VALUES (?1, ?2)",
            params![work_order.id, to_json(&work_order)?],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(work_order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::testing::{Fixture, copy_seed, edit_seed};
    use crate::domain::commerce::OrderStatus;
    use chrono::TimeZone;
    use serde_json::Value;
    use std::sync::Arc;

    const DELIVERED: &str = "202609039593";
    const PROCESSING: &str = "202611202163";
    const PAID: &str = "202611200986";
    const SHIPPED_WITH_OWN_COUPON: &str = "202611205176";

    fn a_return(order_id: &str) -> NewReturn {
        NewReturn { order_id: order_id.into(), skus: vec![], reason: "changed my mind".into(), quality_issue: false }
    }

    fn a_work_order() -> NewWorkOrder {
        NewWorkOrder {
            sku: "HH-RV500".into(),
            fault_code: Some("E2".into()),
            description: "side brush stuck".into(),
            steps_tried: vec![],
            customer_id: None,
            order_id: None,
        }
    }

    fn a_restock() -> RestockRequest {
        RestockRequest { sku: "HH-RV500".into(), size: None, color: Some("black".into()), contact: "C1001".into() }
    }

    fn set(records: &mut [Value], key: &str, id: &str, field: &str, value: Value) {
        let record = records.iter_mut().find(|r| r[key] == id).unwrap();
        record[field] = value;
    }

    #[test]
    fn a_reseed_picks_up_the_edit_and_keeps_what_shoppers_did() {
        let f = Fixture::new();
        let s = &f.store;
        let rma = s.create_return(&a_return(DELIVERED)).unwrap().rma;
        let subscription = s.subscribe_restock(&a_restock()).unwrap();
        s.create_work_order(&a_work_order()).unwrap();
        let mut address = s.order(PROCESSING).unwrap().unwrap().address;
        address.line = "中山路8号".into();
        s.change_order(PROCESSING, &OrderChange::Address { address: address.clone() }).unwrap();
        s.change_order(PAID, &OrderChange::Cancel).unwrap();

        edit_seed(&f.seed(), "catalog.json", |p| set(p, "sku", "HS-RUN-101", "price_cents", Value::from(65900)));
        // The warehouse shipped the paid order before the cancel reached it.
        edit_seed(&f.seed(), "orders.json", |o| set(o, "order_id", PAID, "status", Value::from("shipped")));
        assert!(s.reload_if_changed().unwrap());
        assert!(!s.reload_if_changed().unwrap(), "nothing changed since");

        assert_eq!(s.product("HS-RUN-101").unwrap().unwrap().price_cents, 65900);
        assert_eq!(s.order(PROCESSING).unwrap().unwrap().address, address, "the address change is replayed");
        assert_eq!(s.order(PAID).unwrap().unwrap().status, OrderStatus::Shipped, "the seed wins over a stale cancel");
        assert_eq!(s.order(DELIVERED).unwrap().unwrap().status, OrderStatus::ReturnRequested);
        let again = s.create_return(&a_return(DELIVERED)).unwrap_err();
        assert!(again.to_string().contains(&rma), "the return survived: {again}");
        assert_eq!(s.subscribe_restock(&a_restock()).unwrap().id, subscription.id);
        assert!(s.create_work_order(&a_work_order()).unwrap().id.ends_with("-0002"), "sequences survive");
    }

    #[test]
    fn a_bad_seed_leaves_the_old_data_serving() {
        let f = Fixture::new();
        f.store.change_order(PAID, &OrderChange::Cancel).unwrap();
        edit_seed(&f.seed(), "orders.json", |o| set(o, "order_id", PROCESSING, "status", Value::from("lost")));

        let err = f.store.reload_if_changed().unwrap_err().to_string();
        assert!(err.contains("orders.json") && err.contains(PROCESSING) && err.contains("lost"), "{err}");
        assert_eq!(f.store.order(PROCESSING).unwrap().unwrap().status, OrderStatus::Processing);
        assert_eq!(f.store.order(PAID).unwrap().unwrap().status, OrderStatus::Cancelled);

        let reopened = SqliteStore::open(&f.db(), &f.seed()).unwrap();
        assert_eq!(reopened.products().unwrap().len(), 16, "a seeded database opens on its old data");
        assert!(reopened.reload_if_changed().is_err(), "and keeps saying what is wrong");

        let fresh = tempfile::tempdir().unwrap();
        let err = SqliteStore::open(&fresh.path().join("commerce.sqlite"), &f.seed()).err().unwrap();
        assert!(matches!(err, CommerceError::Corrupt(_)), "nothing to fall back on: {err}");

        copy_seed(&f.seed());
        assert!(!f.store.reload_if_changed().unwrap(), "the good seed is the one already loaded");
    }

    #[test]
    fn reopening_keeps_everything_without_reseeding() {
        let f = Fixture::new();
        let first = f.store.create_work_order(&a_work_order()).unwrap();
        f.store.change_order(PAID, &OrderChange::Cancel).unwrap();
        let (db, seed) = (f.db(), f.seed());
        drop(f.store);
        let store = SqliteStore::open(&db, &seed).unwrap();
        assert!(!store.reload_if_changed().unwrap());
        assert_eq!(store.order(PAID).unwrap().unwrap().status, OrderStatus::Cancelled);
        assert_ne!(store.create_work_order(&a_work_order()).unwrap().id, first.id);
    }

    #[test]
    fn cancelling_gives_the_customer_coupon_back() {
        let f = Fixture::new();
        edit_seed(&f.seed(), "orders.json", |o| {
            set(o, "order_id", SHIPPED_WITH_OWN_COUPON, "status", Value::from("processing"))
        });
        f.store.reload_if_changed().unwrap();
        let used =
            |code: &str| f.store.coupons(Some("C1005")).unwrap().into_iter().find(|c| c.code == code).unwrap().used;
        assert!(used("HD60-C1005"));
        f.store.change_order(SHIPPED_WITH_OWN_COUPON, &OrderChange::Cancel).unwrap();
        assert!(!used("HD60-C1005"));
    }

    #[test]
    fn ids_count_per_day_and_never_repeat() {
        fn nov_21() -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
        }
        fn nov_22() -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap()
        }
        let f = Fixture::new();
        let day1 = SqliteStore::open_with_clock(&f.db(), &f.seed(), nov_21).unwrap();
        assert_eq!(day1.create_return(&a_return(DELIVERED)).unwrap().rma, "RMA-20261121-0001");
        assert_eq!(day1.create_return(&a_return("202609103984")).unwrap().rma, "RMA-20261121-0002");
        assert_eq!(day1.create_work_order(&a_work_order()).unwrap().id, "WO-20261121-0001");
        let day2 = SqliteStore::open_with_clock(&f.db(), &f.seed(), nov_22).unwrap();
        let returned = day2.create_return(&a_return("202609159918")).unwrap();
        assert_eq!((returned.rma.as_str(), returned.created_at), ("RMA-20261122-0001", nov_22()));
    }

    #[test]
    fn concurrent_writers_get_distinct_ids() {
        let f = Fixture::new();
        let store = Arc::new(f.store);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    (0..5).map(|_| store.create_work_order(&a_work_order()).unwrap().id).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut ids: Vec<String> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 20);
    }
}
