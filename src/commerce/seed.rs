//! The seed of the embedded store: `knowledge/store/*.json`, read, hashed and checked before
//! anything in the database is touched, so a bad file never replaces good data.

use crate::domain::commerce::{Coupon, Customer, Order, Product, Promotion, Shipment, StockRow};
use crate::ports::CommerceError;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const CATALOG: &str = "catalog.json";
const INVENTORY: &str = "inventory.json";
const CUSTOMERS: &str = "customers.json";
const ORDERS: &str = "orders.json";
const SHIPMENTS: &str = "shipments.json";
const PROMOTIONS: &str = "promotions.json";
const COUPONS: &str = "coupons.json";

/// Every file the seed is made of; all are required, so a mistyped seed dir is an error
/// rather than an empty shop.
pub(crate) const FILES: [&str; 7] = [CATALOG, INVENTORY, CUSTOMERS, ORDERS, SHIPMENTS, PROMOTIONS, COUPONS];

/// The seed files' bytes and their combined hash, read once so the hash always describes
/// exactly the data that gets parsed.
pub(crate) struct SeedFiles {
    dir: PathBuf,
    contents: Vec<(&'static str, Vec<u8>)>,
    pub hash: String,
}

/// The parsed seed, in file order.
#[derive(Debug)]
pub(crate) struct Seed {
    pub products: Vec<Product>,
    pub stock: Vec<StockRow>,
    pub customers: Vec<Customer>,
    pub orders: Vec<Order>,
    pub shipments: Vec<Shipment>,
    pub promotions: Vec<Promotion>,
    pub coupons: Vec<Coupon>,
}

fn corrupt(path: &Path, detail: impl std::fmt::Display) -> CommerceError {
    CommerceError::Corrupt(format!("seed {}: {detail}", path.display()))
}

impl SeedFiles {
    pub fn read(dir: &Path) -> Result<Self, CommerceError> {
        let mut hasher = blake3::Hasher::new();
        let mut contents = Vec::with_capacity(FILES.len());
        for name in FILES {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| corrupt(&path, e))?;
            // Name and length delimit each file, so moving bytes between files changes the hash.
            hasher.update(name.as_bytes());
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
            contents.push((name, bytes));
        }
        Ok(Self { dir: dir.to_path_buf(), contents, hash: hasher.finalize().to_hex().to_string() })
    }

    pub fn parse(&self) -> Result<Seed, CommerceError> {
        let seed = Seed {
            products: self.records(CATALOG, "sku")?,
            stock: self.records(INVENTORY, "sku")?,
            customers: self.records(CUSTOMERS, "id")?,
            orders: self.records(ORDERS, "order_id")?,
            shipments: self.records(SHIPMENTS, "order_id")?,
            promotions: self.records(PROMOTIONS, "id")?,
            coupons: self.records(COUPONS, "code")?,
        };
        self.check(&seed)?;
        Ok(seed)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Parses one file record by record, so an error names the record (by position and key).
    fn records<T: DeserializeOwned>(&self, name: &str, key: &str) -> Result<Vec<T>, CommerceError> {
        let path = self.path(name);
        let bytes = self.contents.iter().find(|(n, _)| *n == name).map(|(_, b)| b.as_slice()).unwrap_or_default();
        let values: Vec<Value> = serde_json::from_slice(bytes).map_err(|e| corrupt(&path, e))?;
        values
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                let label = record_label(i, &value, key);
                serde_json::from_value(value).map_err(|e| corrupt(&path, format!("{label}: {e}")))
            })
            .collect()
    }

    /// Keys are unique and references point at records that exist: the store's lookups rely
    /// on both.
    fn check(&self, seed: &Seed) -> Result<(), CommerceError> {
        let skus = unique(&self.path(CATALOG), "sku", seed.products.iter().map(|p| p.sku.clone()))?;
        let customers = unique(&self.path(CUSTOMERS), "id", seed.customers.iter().map(|c| c.id.clone()))?;
        let orders = unique(&self.path(ORDERS), "order_id", seed.orders.iter().map(|o| o.order_id.clone()))?;
        unique(&self.path(SHIPMENTS), "order_id", seed.shipments.iter().map(|s| s.order_id.clone()))?;
        unique(&self.path(PROMOTIONS), "id", seed.promotions.iter().map(|p| p.id.clone()))?;
        unique(&self.path(COUPONS), "code", seed.coupons.iter().map(|c| c.code.clone()))?;
        unique(
            &self.path(INVENTORY),
            "sku/size/color",
            seed.stock.iter().map(|r| format!("{} {:?} {:?}", r.sku, r.size, r.color)),
        )?;

        let known = |set: &HashSet<String>, file: &str, i: usize, what: &str, id: &str| {
            if set.contains(id) {
                Ok(())
            } else {
                Err(corrupt(&self.path(file), format!("record {}: unknown {what} {id:?}", i + 1)))
            }
        };
        for (i, row) in seed.stock.iter().enumerate() {
            known(&skus, INVENTORY, i, "sku", &row.sku)?;
        }
        for (i, order) in seed.orders.iter().enumerate() {
            known(&customers, ORDERS, i, "customer", &order.customer_id)?;
            for item in &order.items {
                known(&skus, ORDERS, i, "sku", &item.sku)?;
            }
        }
        for (i, shipment) in seed.shipments.iter().enumerate() {
            known(&orders, SHIPMENTS, i, "order", &shipment.order_id)?;
        }
        for (i, coupon) in seed.coupons.iter().enumerate() {
            if let Some(customer) = &coupon.customer_id {
                known(&customers, COUPONS, i, "customer", customer)?;
            }
        }
        Ok(())
    }
}

/// "record 3 (order_id 202611150123)", or just the position when the key is missing.
fn record_label(index: usize, value: &Value, key: &str) -> String {
    match value.get(key).and_then(Value::as_str) {
        Some(id) => format!("record {} ({key} {id})", index + 1),
        None => format!("record {}", index + 1),
    }
}

fn unique(path: &Path, what: &str, keys: impl Iterator<Item = String>) -> Result<HashSet<String>, CommerceError> {
    let mut seen = HashSet::new();
    for (i, key) in keys.enumerate() {
        if seen.contains(&key) {
            return Err(corrupt(path, format!("record {}: duplicate {what} {key}", i + 1)));
        }
        seen.insert(key);
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::testing::{copy_seed, edit_seed, seed_dir};

    #[test]
    fn the_shipped_seed_parses_and_checks() {
        let seed = SeedFiles::read(&seed_dir()).unwrap().parse().unwrap();
        assert_eq!(seed.products.len(), 16);
        assert_eq!(seed.customers.len(), 12);
        assert_eq!(seed.orders.len(), 44);
        assert!(seed.orders.iter().all(|o| o.order_id.len() == 12));
    }

    #[test]
    fn the_hash_follows_the_content() {
        let dir = tempfile::tempdir().unwrap();
        copy_seed(dir.path());
        let before = SeedFiles::read(dir.path()).unwrap().hash;
        assert_eq!(SeedFiles::read(dir.path()).unwrap().hash, before);
        edit_seed(dir.path(), PROMOTIONS, |promotions| promotions[2]["percent"] = Value::from(4));
        assert_ne!(SeedFiles::read(dir.path()).unwrap().hash, before);
    }

    #[test]
    fn a_bad_record_is_named_by_file_position_and_key() {
        let dir = tempfile::tempdir().unwrap();
        copy_seed(dir.path());
        edit_seed(dir.path(), CUSTOMERS, |customers| customers[1]["tier"] = Value::from("diamond"));
        let err = SeedFiles::read(dir.path()).unwrap().parse().unwrap_err().to_string();
        assert!(err.contains("customers.json") && err.contains("record 2 (id C1002)"), "{err}");
        assert!(err.contains("diamond"), "{err}");
    }

    #[test]
    fn broken_json_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        copy_seed(dir.path());
        std::fs::write(dir.path().join(ORDERS), "[\n  {\"order_id\": \"1\",\n").unwrap();
        let err = SeedFiles::read(dir.path()).unwrap().parse().unwrap_err().to_string();
        assert!(err.contains("orders.json") && err.contains("line"), "{err}");
    }

    #[test]
    fn dangling_references_and_duplicates_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        copy_seed(dir.path());
        edit_seed(dir.path(), INVENTORY, |rows| rows[4]["sku"] = Value::from("HS-NOPE-1"));
        let err = SeedFiles::read(dir.path()).unwrap().parse().unwrap_err().to_string();
        assert!(err.contains("inventory.json") && err.contains("record 5") && err.contains("HS-NOPE-1"), "{err}");

        copy_seed(dir.path());
        edit_seed(dir.path(), CATALOG, |products| products.push(products[0].clone()));
        let err = SeedFiles::read(dir.path()).unwrap().parse().unwrap_err().to_string();
        assert!(err.contains("duplicate sku HS-RUN-101"), "{err}");
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        copy_seed(dir.path());
        std::fs::remove_file(dir.path().join(COUPONS)).unwrap();
        let err = SeedFiles::read(dir.path()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("coupons.json"), "{err}");
    }
}
