//! One behaviour suite, run against the embedded store and against the HTTP connector
//! talking to a mock order system that serves a store of its own: the two backends must
//! answer alike, down to the kind of error.

use super::testing::{Fixture, serve};
use super::{HttpBackend, HttpBackendConfig};
use crate::domain::commerce::{Address, NewReturn, NewWorkOrder, OrderChange, OrderStatus, RestockRequest, Tier};
use crate::ports::{CommerceBackend, CommerceError};
use chrono::NaiveDate;
use std::sync::Arc;

const DELIVERED: &str = "202609039593"; // C1001, HS-RUN-102
const DELIVERED_APPLIANCE: &str = "202609103984"; // C1003, HH-AP300 + HH-AP300-F
const PROCESSING: &str = "202611202163"; // C1011, HS-RUN-101 US 9 white + HA-SCK-140
const PAID: &str = "202611200986"; // C1003, HS-TRL-201
const SHIPPED: &str = "202611205176"; // C1005, HS-RUN-301
const PENDING_TWO_JACKETS: &str = "202611202337"; // C1001, HA-JKT-130 twice

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn is_kind(result: Result<impl std::fmt::Debug, CommerceError>, kind: fn(&CommerceError) -> bool) -> bool {
    match result {
        Err(e) => kind(&e),
        Ok(_) => false,
    }
}

fn not_found(e: &CommerceError) -> bool {
    matches!(e, CommerceError::NotFound(_))
}
fn not_allowed(e: &CommerceError) -> bool {
    matches!(e, CommerceError::NotAllowed(_))
}
fn invalid(e: &CommerceError) -> bool {
    matches!(e, CommerceError::Invalid(_))
}

/// `PREFIX-YYYYMMDD-NNNN`.
fn is_id(id: &str, prefix: &str) -> bool {
    let Some(rest) = id.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else { return false };
    let parts: Vec<&str> = rest.split('-').collect();
    parts.len() == 2
        && parts[0].len() == 8
        && parts[1].len() >= 4
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn lookups(b: &dyn CommerceBackend) {
    let glide = b.product("HS-RUN-101").unwrap().unwrap();
    assert!(glide.name_en.starts_with("Stride Glide 3"));
    assert_eq!(glide.price_cents, 69900);
    assert!(b.product("HS-RUN-999").unwrap().is_none());
    let products = b.products().unwrap();
    assert_eq!(products.len(), 16);
    assert_eq!(products[0].sku, "HS-RUN-101", "catalogue order is kept");

    let wang = b.customer("C1001").unwrap().unwrap();
    assert_eq!((wang.tier, wang.points), (Tier::Gold, 2860));
    assert!(b.customer("C0000").unwrap().is_none());

    let order = b.order(DELIVERED).unwrap().unwrap();
    assert_eq!((order.status, order.customer_id.as_str()), (OrderStatus::Delivered, "C1001"));
    assert!(b.order("999999999999").unwrap().is_none());
    // Ids come from shoppers: none of these may reach another record or route.
    for hostile in ["../customers/C1001", "202609039593/shipment", "1?customer_id=C1001", "", "订单 1", "."] {
        assert!(b.order(hostile).unwrap().is_none(), "{hostile:?}");
    }

    let shipment = b.shipment(DELIVERED).unwrap().unwrap();
    assert_eq!((shipment.carrier.as_str(), shipment.tracking_no.as_str()), ("ZTO", "794580730215"));
    assert!(b.shipment(PROCESSING).unwrap().is_none(), "a processing order has not shipped");

    let promotions = b.promotions().unwrap();
    assert_eq!(promotions.len(), 4);
    assert_eq!(promotions[0].id, "PROMO-THRESHOLD-2026");

    let public = b.coupons(None).unwrap();
    assert_eq!(public.len(), 4);
    assert!(public.iter().all(|c| c.customer_id.is_none()));
    let codes: Vec<String> = b.coupons(Some("C1001")).unwrap().into_iter().map(|c| c.code).collect();
    assert_eq!(codes, ["HALDEN60", "HALDEN150", "NEW20", "MOON80", "BDAY60-C1001"]);
}

fn stock(b: &dyn CommerceBackend) {
    let black = b.stock("HS-RUN-101", Some("US 9"), Some("black")).unwrap();
    assert_eq!(black.len(), 1);
    assert_eq!((black[0].quantity, black[0].restock_date), (0, Some(day(2026, 11, 28))));
    let white = b.stock("HS-RUN-101", Some("US 9"), Some("white")).unwrap();
    assert_eq!(white.len(), 1);
    assert!(white[0].quantity > 0 && white[0].restock_date.is_none());
    assert_eq!(b.stock("HS-RUN-101", Some("us 9"), Some("WHITE")).unwrap(), white, "typed as shoppers type");

    let us9: Vec<String> =
        b.stock("HS-RUN-101", Some("US 9"), None).unwrap().into_iter().filter_map(|r| r.color).collect();
    assert_eq!(us9, ["black", "white", "blue"]);
    assert_eq!(b.stock("HS-RUN-101", None, Some("black")).unwrap().len(), 10);
    assert_eq!(b.stock("HS-RUN-101", None, None).unwrap().len(), 30);

    let vacuum = b.stock("HH-RV500", None, Some("black")).unwrap();
    assert_eq!((vacuum[0].quantity, vacuum[0].restock_date), (0, Some(day(2026, 12, 15))));
    assert!(b.stock("HS-RUN-999", None, None).unwrap().is_empty());
    assert!(b.stock("HS-RUN-101", Some("US 99"), None).unwrap().is_empty());
}

fn orders_of(b: &dyn CommerceBackend) {
    let orders = b.orders_of("C1001").unwrap();
    assert_eq!(orders.len(), 4);
    assert!(orders.iter().all(|o| o.customer_id == "C1001"));
    assert!(orders.windows(2).all(|w| w[0].created_at >= w[1].created_at), "newest first");
    assert_eq!(orders[0].order_id, PENDING_TWO_JACKETS);
    assert!(b.orders_of("C9999").unwrap().is_empty());
    assert!(b.orders_of("").unwrap().is_empty());
    assert!(b.orders_of("C1001&customer_id=C1003").unwrap().is_empty(), "a query value stays one value");
}

fn changes(b: &dyn CommerceBackend) {
    let mut address = b.order(PROCESSING).unwrap().unwrap().address;
    address.line = "新街口1号 2单元301".into();
    let changed = b.change_order(PROCESSING, &OrderChange::Address { address: address.clone() }).unwrap();
    assert_eq!(changed.address, address);
    assert_eq!(b.order(PROCESSING).unwrap().unwrap().address, address, "the change is stored");
    let no_name = Address { name: " ".into(), ..address.clone() };
    assert!(is_kind(b.change_order(PROCESSING, &OrderChange::Address { address: no_name }), invalid));

    let socks = OrderChange::Quantity { sku: "HA-SCK-140".into(), quantity: 2 };
    let changed = b.change_order(PROCESSING, &socks).unwrap();
    assert_eq!((changed.subtotal_cents, changed.discount_cents, changed.total_cents), (81700, 12832, 68868));
    // US 9 white has 6 pairs; 49 more is beyond it.
    let too_many = OrderChange::Quantity { sku: "HS-RUN-101".into(), quantity: 50 };
    assert!(is_kind(b.change_order(PROCESSING, &too_many), not_allowed));
    assert_eq!(b.order(PROCESSING).unwrap().unwrap().subtotal_cents, 81700, "a refused change changes nothing");
    let absent = OrderChange::Quantity { sku: "HS-TRL-201".into(), quantity: 1 };
    assert!(is_kind(b.change_order(PROCESSING, &absent), invalid));
    let ambiguous = OrderChange::Quantity { sku: "HA-JKT-130".into(), quantity: 2 };
    assert!(is_kind(b.change_order(PENDING_TWO_JACKETS, &ambiguous), not_allowed));

    assert!(is_kind(b.change_order(SHIPPED, &OrderChange::Cancel), not_allowed));
    assert!(is_kind(b.change_order(DELIVERED, &OrderChange::Address { address }), not_allowed));
    let cancelled = b.change_order(PAID, &OrderChange::Cancel).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let again = b.change_order(PAID, &OrderChange::Cancel).unwrap_err();
    assert!(not_allowed(&again) && again.to_string().contains("already cancelled"), "{again}");
    assert!(is_kind(b.change_order("999999999999", &OrderChange::Cancel), not_found));
    assert!(is_kind(b.change_order("../returns", &OrderChange::Cancel), not_found));
}

fn runtime_records(b: &dyn CommerceBackend) {
    let request = NewReturn {
        order_id: DELIVERED.into(),
        skus: vec!["HS-RUN-102".into()],
        reason: "too small".into(),
        quality_issue: false,
    };
    let first = b.create_return(&request).unwrap();
    assert!(is_id(&first.rma, "RMA"), "{}", first.rma);
    assert_eq!((first.order_id.as_str(), first.skus.as_slice()), (DELIVERED, request.skus.as_slice()));
    assert_eq!(b.order(DELIVERED).unwrap().unwrap().status, OrderStatus::ReturnRequested);
    let twice = b.create_return(&request).unwrap_err();
    assert!(not_allowed(&twice) && twice.to_string().contains(&first.rma), "{twice}");

    let whole = NewReturn { order_id: DELIVERED_APPLIANCE.into(), skus: vec![], ..request.clone() };
    let second = b.create_return(&whole).unwrap();
    assert_ne!(second.rma, first.rma);
    assert!(is_kind(b.create_return(&NewReturn { order_id: PROCESSING.into(), ..request.clone() }), not_allowed));
    let foreign = NewReturn { order_id: "202609159918".into(), skus: vec!["HH-AP300".into()], ..request.clone() };
    assert!(is_kind(b.create_return(&foreign), invalid));
    assert!(is_kind(b.create_return(&NewReturn { reason: " ".into(), ..request.clone() }), invalid));
    assert!(is_kind(b.create_return(&NewReturn { order_id: "999999999999".into(), ..request }), not_found));

    let restock = RestockRequest {
        sku: "HS-RUN-101".into(),
        size: Some("us 9".into()),
        color: Some("Black".into()),
        contact: "C1001".into(),
    };
    let subscription = b.subscribe_restock(&restock).unwrap();
    assert!(is_id(&subscription.id, "RS"), "{}", subscription.id);
    assert_eq!(
        (subscription.request.size.as_deref(), subscription.request.color.as_deref()),
        (Some("US 9"), Some("black"))
    );
    let canonical = RestockRequest { size: Some("US 9".into()), color: Some("black".into()), ..restock.clone() };
    assert_eq!(b.subscribe_restock(&canonical).unwrap().id, subscription.id, "asking twice is one subscription");
    let other = b.subscribe_restock(&RestockRequest { contact: "13800000000".into(), ..restock.clone() }).unwrap();
    assert_ne!(other.id, subscription.id);
    assert!(is_kind(b.subscribe_restock(&RestockRequest { size: Some("US 20".into()), ..restock.clone() }), invalid));
    assert!(is_kind(b.subscribe_restock(&RestockRequest { contact: "".into(), ..restock.clone() }), invalid));
    assert!(is_kind(b.subscribe_restock(&RestockRequest { sku: "HS-NOPE".into(), ..restock }), not_found));

    let work = NewWorkOrder {
        sku: "HH-DW600".into(),
        fault_code: Some("E4".into()),
        description: "water stays in the tub".into(),
        steps_tried: vec!["cleaned the filter".into()],
        customer_id: Some("C1005".into()),
        order_id: Some("202609204579".into()),
    };
    let created = b.create_work_order(&work).unwrap();
    assert!(is_id(&created.id, "WO"), "{}", created.id);
    assert_eq!(created.request, work);
    assert!(is_kind(b.create_work_order(&NewWorkOrder { customer_id: Some("C1001".into()), ..work.clone() }), invalid));
    assert!(is_kind(
        b.create_work_order(&NewWorkOrder { order_id: Some("999999999999".into()), ..work.clone() }),
        not_found
    ));
    assert!(is_kind(b.create_work_order(&NewWorkOrder { description: "".into(), ..work.clone() }), invalid));
    assert!(is_kind(b.create_work_order(&NewWorkOrder { sku: "HH-NOPE".into(), ..work }), not_found));
}

fn suite(b: &dyn CommerceBackend) {
    lookups(b);
    stock(b);
    orders_of(b);
    changes(b);
    runtime_records(b);
}

#[test]
fn the_sqlite_store_behaves() {
    let fixture = Fixture::new();
    suite(&fixture.store);
}

#[test]
fn the_http_connector_behaves_the_same() {
    let served = Fixture::new();
    let server = serve(Arc::new(served.store), "s3cret");
    let config = HttpBackendConfig { api_key: Some("s3cret".into()), ..HttpBackendConfig::new(&server.base) };
    let http = HttpBackend::new(&config).unwrap();
    suite(&http);

    // And record for record: the wire form loses nothing.
    let local = Fixture::new();
    assert_eq!(http.products().unwrap(), local.store.products().unwrap());
    assert_eq!(http.customer("C1004").unwrap(), local.store.customer("C1004").unwrap());
    assert_eq!(http.orders_of("C1004").unwrap(), local.store.orders_of("C1004").unwrap());
    assert_eq!(http.shipment(SHIPPED).unwrap(), local.store.shipment(SHIPPED).unwrap());
    assert_eq!(http.promotions().unwrap(), local.store.promotions().unwrap());
    assert_eq!(http.coupons(Some("C1003")).unwrap(), local.store.coupons(Some("C1003")).unwrap());
}
