//! Every seed order in `knowledge/store/` recomputed by the engine, as of the day it was placed.

use super::{CartLine, Choice, Context, is_remote_province, quote, shop_day};
use crate::domain::commerce::{Coupon, Customer, Order, Product, Promotion, Shipment};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::path::Path;

fn load<T: DeserializeOwned>(name: &str) -> Vec<T> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge/store").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The shopper's situation when `order` was placed. Coupons as they stood then: the order's
/// own coupon was not yet used (its `used` flag records this very order). The tier is today's:
/// the seed keeps no tier history.
fn context_of(
    order: &Order,
    orders: &[Order],
    customer: &Customer,
    coupons: &[Coupon],
    promotions: &[Promotion],
    shipment: Option<&Shipment>,
) -> Context {
    let coupons = coupons
        .iter()
        .map(|coupon| {
            let mut coupon = coupon.clone();
            if order.coupon.as_deref() == Some(coupon.code.as_str()) {
                coupon.used = false;
            }
            coupon
        })
        .collect();
    let paid_before = orders
        .iter()
        .any(|o| o.customer_id == order.customer_id && o.created_at < order.created_at && o.paid_at.is_some());
    Context {
        today: shop_day(order.created_at),
        customer_id: Some(order.customer_id.clone()),
        tier: Some(customer.tier),
        // The balance after this order's redemption, plus what it redeemed.
        points_balance: customer.points + order.points_used,
        first_order: !paid_before,
        coupons,
        promotions: promotions.to_vec(),
        remote_region: is_remote_province(&order.address.province),
        express: shipment.is_some_and(|s| s.carrier == "SF Express"),
    }
}

#[test]
fn every_seed_order_recomputes_to_its_recorded_amounts() {
    let orders: Vec<Order> = load("orders.json");
    let catalog: HashMap<String, Product> =
        load::<Product>("catalog.json").into_iter().map(|p| (p.sku.clone(), p)).collect();
    let customers: HashMap<String, Customer> =
        load::<Customer>("customers.json").into_iter().map(|c| (c.id.clone(), c)).collect();
    let promotions: Vec<Promotion> = load("promotions.json");
    let coupons: Vec<Coupon> = load("coupons.json");
    let shipments: HashMap<String, Shipment> =
        load::<Shipment>("shipments.json").into_iter().map(|s| (s.order_id.clone(), s)).collect();
    assert!(orders.len() >= 40, "the seed has {} orders", orders.len());

    let mut mismatches = Vec::new();
    for order in &orders {
        let lines: Vec<CartLine> = order
            .items
            .iter()
            .map(|item| {
                let product = &catalog[&item.sku];
                CartLine {
                    sku: item.sku.clone(),
                    category: product.category,
                    unit_price_cents: item.unit_price_cents,
                    quantity: item.quantity,
                    final_sale: product.final_sale,
                }
            })
            .collect();
        let ctx = context_of(
            order,
            &orders,
            &customers[&order.customer_id],
            &coupons,
            &promotions,
            shipments.get(&order.order_id),
        );
        let choice = Choice { coupon: order.coupon.clone(), points: order.points_used };
        match quote(&lines, &ctx, &choice) {
            Ok(q) => {
                let got = (q.subtotal_cents, q.discount_cents, q.shipping_cents, q.points_used, q.total_cents);
                let want = (
                    order.subtotal_cents,
                    order.discount_cents,
                    order.shipping_cents,
                    order.points_used,
                    order.total_cents,
                );
                if got != want {
                    mismatches.push(format!("{}: computed {got:?}, recorded {want:?}", order.order_id));
                }
            }
            Err(e) => mismatches.push(format!("{}: refused: {e}", order.order_id)),
        }
    }
    assert!(mismatches.is_empty(), "(subtotal, discount, shipping, points, total):\n{}", mismatches.join("\n"));
}
