//! What the embedded store lets a shopper do to an order, as pure functions on [`Order`], so
//! a change is checked the same way when it is made and when it is replayed after a reseed.
//!
//! - Address and quantity changes and cancelling are allowed only before the order leaves
//!   the warehouse: `pending_payment`, `paid`, `processing`.
//! - A quantity change names a SKU; it applies only when exactly one line has that SKU (the
//!   change carries no size or colour to pick between lines). It recomputes the subtotal
//!   (quantity x list unit price, summed) and the total from it, and keeps the discount,
//!   shipping and points the order was priced with: repricing is the pricing engine's job,
//!   which an adapter does not run. A change that would leave a negative payable amount is
//!   refused for a person to settle.
//! - A return is possible on a delivered order (and on one with a return already requested,
//!   for its other lines); it marks the order `return_requested`.
//!
//! Return windows, final-sale and hygiene exceptions are policy, checked by the caller.

use crate::domain::commerce::{Address, Order, OrderChange, OrderStatus};
use crate::ports::CommerceError;

/// Above this a quantity is a typo or abuse, not an order line.
pub(crate) const MAX_LINE_QUANTITY: i64 = 99;

fn changeable(order: &Order) -> Result<(), CommerceError> {
    match order.status {
        OrderStatus::PendingPayment | OrderStatus::Paid | OrderStatus::Processing => Ok(()),
        OrderStatus::Cancelled => {
            Err(CommerceError::NotAllowed(format!("order {} is already cancelled", order.order_id)))
        }
        status => Err(CommerceError::NotAllowed(format!(
            "order {} is {}; it can no longer be changed",
            order.order_id,
            status.as_str()
        ))),
    }
}

fn check_address(address: &Address) -> Result<(), CommerceError> {
    let required = [
        ("name", &address.name),
        ("phone", &address.phone),
        ("province", &address.province),
        ("city", &address.city),
        ("line", &address.line),
    ];
    match required.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((field, _)) => Err(CommerceError::Invalid(format!("the new address has no {field}"))),
        None => Ok(()),
    }
}

/// The index of the one line holding `sku`.
pub(crate) fn line_of(order: &Order, sku: &str) -> Result<usize, CommerceError> {
    let mut lines = order.items.iter().enumerate().filter(|(_, item)| item.sku == sku).map(|(i, _)| i);
    match (lines.next(), lines.next()) {
        (Some(i), None) => Ok(i),
        (None, _) => Err(CommerceError::Invalid(format!("order {} has no item {sku}", order.order_id))),
        (Some(_), Some(_)) => Err(CommerceError::NotAllowed(format!(
            "order {} has {sku} in more than one size or colour; a person will change it",
            order.order_id
        ))),
    }
}

pub(crate) fn apply_change(order: &mut Order, change: &OrderChange) -> Result<(), CommerceError> {
    changeable(order)?;
    match change {
        OrderChange::Address { address } => {
            check_address(address)?;
            order.address = address.clone();
        }
        OrderChange::Quantity { sku, quantity } => {
            if !(1..=MAX_LINE_QUANTITY).contains(quantity) {
                return Err(CommerceError::Invalid(format!(
                    "a quantity must be between 1 and {MAX_LINE_QUANTITY}; to drop the item, cancel the order"
                )));
            }
            let line = line_of(order, sku)?;
            let mut repriced = order.clone();
            repriced.items[line].quantity = *quantity;
            repriced.subtotal_cents = repriced.items.iter().map(|i| i.quantity * i.unit_price_cents).sum();
            if repriced.subtotal_cents < repriced.discount_cents {
                return Err(CommerceError::NotAllowed(format!(
                    "order {} would need repricing; a person will change the quantity",
                    order.order_id
                )));
            }
            repriced.total_cents =
                repriced.subtotal_cents - repriced.discount_cents + repriced.shipping_cents - repriced.points_used;
            *order = repriced;
        }
        OrderChange::Cancel => order.status = OrderStatus::Cancelled,
    }
    Ok(())
}

/// Checks the return against the order and marks the order; `skus` empty means all of it.
pub(crate) fn apply_return(order: &mut Order, skus: &[String]) -> Result<(), CommerceError> {
    if !matches!(order.status, OrderStatus::Delivered | OrderStatus::ReturnRequested) {
        return Err(CommerceError::NotAllowed(format!(
            "order {} is {}; only a delivered order can be returned",
            order.order_id,
            order.status.as_str()
        )));
    }
    if let Some(sku) = skus.iter().find(|sku| !order.items.iter().any(|item| &item.sku == *sku)) {
        return Err(CommerceError::Invalid(format!("order {} has no item {sku}", order.order_id)));
    }
    order.status = OrderStatus::ReturnRequested;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::commerce::OrderItem;
    use chrono::{TimeZone, Utc};

    fn order(status: OrderStatus, items: &[(&str, i64, i64)]) -> Order {
        let items: Vec<OrderItem> = items
            .iter()
            .map(|&(sku, quantity, unit_price_cents)| OrderItem {
                sku: sku.into(),
                size: None,
                color: None,
                quantity,
                unit_price_cents,
            })
            .collect();
        let subtotal_cents = items.iter().map(|i| i.quantity * i.unit_price_cents).sum();
        Order {
            order_id: "202611200001".into(),
            customer_id: "C1".into(),
            status,
            created_at: Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap(),
            paid_at: None,
            items,
            subtotal_cents,
            discount_cents: 5000,
            shipping_cents: 1000,
            points_used: 100,
            total_cents: subtotal_cents - 5000 + 1000 - 100,
            payment_method: None,
            coupon: None,
            address: Address {
                name: "王丽".into(),
                phone: "13800000000".into(),
                province: "上海市".into(),
                city: "上海市".into(),
                district: "浦东新区".into(),
                line: "张杨路1号".into(),
            },
            delivered_at: None,
        }
    }

    #[test]
    fn changes_stop_once_the_order_ships() {
        for status in [OrderStatus::PendingPayment, OrderStatus::Paid, OrderStatus::Processing] {
            let mut o = order(status, &[("A", 1, 10000)]);
            assert!(apply_change(&mut o, &OrderChange::Cancel).is_ok());
            assert_eq!(o.status, OrderStatus::Cancelled);
        }
        for status in [OrderStatus::Shipped, OrderStatus::Delivered, OrderStatus::Cancelled, OrderStatus::Refunded] {
            let mut o = order(status, &[("A", 1, 10000)]);
            let before = o.clone();
            let err = apply_change(&mut o, &OrderChange::Quantity { sku: "A".into(), quantity: 2 }).unwrap_err();
            assert!(matches!(err, CommerceError::NotAllowed(_)), "{status:?}: {err}");
            assert_eq!(o, before);
        }
    }

    #[test]
    fn a_quantity_change_recomputes_subtotal_and_total_only() {
        let mut o = order(OrderStatus::Paid, &[("A", 1, 10000), ("B", 2, 2500)]);
        apply_change(&mut o, &OrderChange::Quantity { sku: "A".into(), quantity: 3 }).unwrap();
        assert_eq!(o.items[0].quantity, 3);
        assert_eq!(o.subtotal_cents, 35000);
        assert_eq!((o.discount_cents, o.shipping_cents, o.points_used), (5000, 1000, 100));
        assert_eq!(o.total_cents, 35000 - 5000 + 1000 - 100);
    }

    #[test]
    fn a_quantity_change_needs_one_line_and_a_sane_quantity() {
        let mut o = order(OrderStatus::Paid, &[("A", 1, 10000), ("A", 1, 10000)]);
        let err = apply_change(&mut o, &OrderChange::Quantity { sku: "A".into(), quantity: 2 }).unwrap_err();
        assert!(matches!(err, CommerceError::NotAllowed(_)), "{err}");
        let err = apply_change(&mut o, &OrderChange::Quantity { sku: "Z".into(), quantity: 2 }).unwrap_err();
        assert!(matches!(err, CommerceError::Invalid(_)), "{err}");
        for quantity in [0, -1, MAX_LINE_QUANTITY + 1] {
            let mut o = order(OrderStatus::Paid, &[("A", 1, 10000)]);
            let err = apply_change(&mut o, &OrderChange::Quantity { sku: "A".into(), quantity }).unwrap_err();
            assert!(matches!(err, CommerceError::Invalid(_)), "{quantity}: {err}");
        }
    }

    #[test]
    fn a_quantity_cut_below_the_discount_is_left_to_a_person() {
        let mut o = order(OrderStatus::Paid, &[("A", 2, 3000)]);
        let err = apply_change(&mut o, &OrderChange::Quantity { sku: "A".into(), quantity: 1 }).unwrap_err();
        assert!(matches!(err, CommerceError::NotAllowed(_)), "{err}");
        assert_eq!(o.items[0].quantity, 2);
    }

    #[test]
    fn an_address_needs_its_parts() {
        let mut o = order(OrderStatus::Processing, &[("A", 1, 10000)]);
        let mut address = o.address.clone();
        address.line = "  ".into();
        let err = apply_change(&mut o, &OrderChange::Address { address: address.clone() }).unwrap_err();
        assert!(err.to_string().contains("line"), "{err}");
        address.line = "世纪大道100号".into();
        apply_change(&mut o, &OrderChange::Address { address }).unwrap();
        assert_eq!(o.address.line, "世纪大道100号");
    }

    #[test]
    fn returns_need_a_delivered_order_and_its_own_items() {
        let mut o = order(OrderStatus::Delivered, &[("A", 1, 10000), ("B", 1, 10000)]);
        assert!(matches!(apply_return(&mut o, &["Z".into()]), Err(CommerceError::Invalid(_))));
        apply_return(&mut o, &["A".into()]).unwrap();
        assert_eq!(o.status, OrderStatus::ReturnRequested);
        apply_return(&mut o, &["B".into()]).unwrap();
        let mut shipped = order(OrderStatus::Shipped, &[("A", 1, 10000)]);
        assert!(matches!(apply_return(&mut shipped, &[]), Err(CommerceError::NotAllowed(_))));
    }
}
