//! The tools one turn can call, over [`CommerceBackend`]: order status, order changes, stock
//! with alternatives and restock subscriptions, product search, returns, points, engineer work
//! orders.
//! Each returns what it called (for `tool_calls`) and a reply in the shopper's language.
//! Order privacy (CONTRACT.md): an order is shown only to its owner's token or after proof
//! (last 4 phone digits or the full email); anything else gets the same reply as an order
//! that does not exist.

use super::browse::{self, ProductQuery, Sort};
use crate::domain::Lang;
use crate::domain::commerce::{
    Category, NewReturn, NewWorkOrder, Order, OrderChange, OrderStatus, Product, RestockRequest, StockRow,
};
use crate::domain::conversation::PendingAsk;
use crate::domain::turn::{Intent, ToolCall};
use crate::ports::{CommerceBackend, CommerceError};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::{Value, json};

/// What a tool did and what to tell the shopper.
#[derive(Debug, Clone)]
pub struct ToolOutcome {
    pub call: ToolCall,
    pub answer: String,
    /// False when the tool could not give the shopper what they asked for (not found,
    /// backend down); such turns count as unanswered.
    pub answered: bool,
    pub pending: Option<PendingAsk>,
    /// Orders this turn proved access to, remembered by the session.
    pub verified_order: Option<String>,
}

/// Who is asking and when.
pub struct ToolContext<'a> {
    pub commerce: &'a dyn CommerceBackend,
    pub lang: Lang,
    pub now: DateTime<Utc>,
    pub customer_id: Option<&'a str>,
    /// Orders the session proved access to earlier.
    pub verified_orders: &'a [String],
}

pub fn say(lang: Lang, zh: impl Into<String>, en: impl Into<String>) -> String {
    match lang {
        Lang::Zh => zh.into(),
        Lang::En => en.into(),
    }
}

pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}¥{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// The shop's calendar: China time.
pub fn china_time(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!()))
}

fn call(name: &str, arguments: Value, ok: bool, result: Value) -> ToolCall {
    ToolCall { name: name.into(), arguments, ok, result }
}

fn outcome(call: ToolCall, answer: String, answered: bool) -> ToolOutcome {
    ToolOutcome { call, answer, answered, pending: None, verified_order: None }
}

fn backend_down(name: &str, arguments: Value, lang: Lang, e: &CommerceError) -> ToolOutcome {
    if let CommerceError::NotFound(what) | CommerceError::Invalid(what) = e {
        return outcome(
            call(name, arguments, false, json!({"error": "not_found", "message": what})),
            say(lang, format!("没有找到：{what}。"), format!("I could not find {what}.")),
            false,
        );
    }
    tracing::warn!(tool = name, error = %e, "commerce backend failed");
    outcome(
        call(name, arguments, false, json!({"error": "unavailable"})),
        say(
            lang,
            "抱歉，订单系统暂时无法访问，请稍后再试。",
            "Sorry, the order system is not reachable right now. Please try again shortly.",
        ),
        false,
    )
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Whether `proof` (last 4 phone digits, or the full email) matches the order.
fn proof_matches(order: &Order, email: Option<&str>, phone: Option<&str>, proof: &str) -> bool {
    let proof = proof.trim();
    if proof.contains('@') {
        return email.is_some_and(|e| e.eq_ignore_ascii_case(proof));
    }
    let proof = digits(proof);
    if proof.len() != 4 {
        return false;
    }
    [Some(order.address.phone.as_str()), phone].into_iter().flatten().any(|p| digits(p).ends_with(&proof))
}

/// Outcome of looking an order up on behalf of the asker.
enum OrderLookup {
    Visible(Box<Order>, bool),
    /// Missing, or not theirs, or no/wrong proof: the asker learns nothing either way.
    Hidden,
    Down(CommerceError),
}

fn find_order(ctx: &ToolContext, order_id: &str, proof: Option<&str>) -> OrderLookup {
    let order = match ctx.commerce.order(order_id) {
        Ok(Some(order)) => order,
        Ok(None) => return OrderLookup::Hidden,
        Err(e) => return OrderLookup::Down(e),
    };
    if ctx.customer_id == Some(order.customer_id.as_str()) || ctx.verified_orders.iter().any(|o| o == order_id) {
        return OrderLookup::Visible(Box::new(order), false);
    }
    let Some(proof) = proof else { return OrderLookup::Hidden };
    let customer = match ctx.commerce.customer(&order.customer_id) {
        Ok(c) => c,
        Err(e) => return OrderLookup::Down(e),
    };
    let (email, phone) =
        customer.as_ref().map(|c| (Some(c.email.as_str()), Some(c.phone.as_str()))).unwrap_or_default();
    if proof_matches(&order, email, phone, proof) {
        OrderLookup::Visible(Box::new(order), true)
    } else {
        OrderLookup::Hidden
    }
}

fn hidden_order(name: &str, arguments: Value, lang: Lang, order_id: &str) -> ToolOutcome {
    let mut out = outcome(
        call(name, arguments, false, json!({"error": "not_verified"})),
        say(
            lang,
            format!(
                "为保护您的隐私，请提供订单号 {order_id} 对应的收货手机号后四位（或下单邮箱），我再为您查询。如果您已登录，请确认订单号是否正确。"
            ),
            format!(
                "To protect your privacy, please give the last 4 digits of the phone number on order {order_id} (or the email used for it), and I will look it up. If you are signed in, please check the order number."
            ),
        ),
        true,
    );
    out.pending = Some(PendingAsk { intent: Intent::OrderStatus, slot: "order_proof".into(), options: Vec::new() });
    out
}

fn status_text(status: OrderStatus, lang: Lang) -> &'static str {
    match (status, lang) {
        (OrderStatus::PendingPayment, Lang::Zh) => "待付款",
        (OrderStatus::Paid, Lang::Zh) => "已付款，待发货",
        (OrderStatus::Processing, Lang::Zh) => "仓库处理中",
        (OrderStatus::Shipped, Lang::Zh) => "已发货",
        (OrderStatus::Delivered, Lang::Zh) => "已签收",
        (OrderStatus::Cancelled, Lang::Zh) => "已取消",
        (OrderStatus::ReturnRequested, Lang::Zh) => "退货申请中",
        (OrderStatus::Returned, Lang::Zh) => "退货已入库，退款处理中",
        (OrderStatus::Refunded, Lang::Zh) => "已退款",
        (OrderStatus::PendingPayment, Lang::En) => "awaiting payment",
        (OrderStatus::Paid, Lang::En) => "paid, waiting to ship",
        (OrderStatus::Processing, Lang::En) => "being prepared at the warehouse",
        (OrderStatus::Shipped, Lang::En) => "shipped",
        (OrderStatus::Delivered, Lang::En) => "delivered",
        (OrderStatus::Cancelled, Lang::En) => "cancelled",
        (OrderStatus::ReturnRequested, Lang::En) => "return requested",
        (OrderStatus::Returned, Lang::En) => "returned; the refund is being processed",
        (OrderStatus::Refunded, Lang::En) => "refunded",
    }
}

fn event_text(status: &str, lang: Lang) -> String {
    let zh = match status {
        "picked_up" => "已揽收",
        "departed_sort_centre" => "已离开分拣中心",
        "in_transit" => "运输中",
        "arrived_city" => "已到达目的城市",
        "delivery_appointment_booked" => "已预约送货",
        "out_for_delivery" => "派送中",
        "delivered" => "已签收",
        other => other,
    };
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => status.replace('_', " "),
    }
}

fn fmt_time(t: DateTime<Utc>) -> String {
    china_time(t).format("%Y-%m-%d %H:%M").to_string()
}

pub fn order_status(ctx: &ToolContext, order_id: &str, proof: Option<&str>) -> ToolOutcome {
    let arguments = json!({"order_id": order_id});
    let lang = ctx.lang;
    let (order, proven) = match find_order(ctx, order_id, proof) {
        OrderLookup::Visible(order, proven) => (order, proven),
        OrderLookup::Hidden => return hidden_order("order_status", arguments, lang, order_id),
        OrderLookup::Down(e) => return backend_down("order_status", arguments, lang, &e),
    };
    let shipment = match ctx.commerce.shipment(order_id) {
        Ok(s) => s,
        Err(e) => return backend_down("order_status", arguments, lang, &e),
    };
    let mut answer = say(
        lang,
        format!("订单 {order_id} 当前状态：{}。", status_text(order.status, lang)),
        format!("Order {order_id} is {}.", status_text(order.status, lang)),
    );
    if let Some(s) = &shipment {
        answer.push_str(&say(
            lang,
            format!("\n承运商：{}，运单号 {}。", s.carrier, s.tracking_no),
            format!("\nCarrier: {}, tracking number {}.", s.carrier, s.tracking_no),
        ));
        if let Some(e) = s.events.last() {
            answer.push_str(&say(
                lang,
                format!("\n最新物流：{} {} {}。", fmt_time(e.time), e.location, event_text(&e.status, lang)),
                format!("\nLatest: {} at {}, {}.", fmt_time(e.time), e.location, event_text(&e.status, lang)),
            ));
        }
        if let (Some(eta), None) = (s.eta, order.delivered_at) {
            answer.push_str(&say(
                lang,
                format!("\n预计送达：{}。", fmt_time(eta)),
                format!("\nEstimated delivery: {}.", fmt_time(eta)),
            ));
        }
    } else if matches!(order.status, OrderStatus::Paid | OrderStatus::Processing) {
        answer.push_str(&say(
            lang,
            "\n当天16:00前付款的订单当天发货，发货后可在这里查询物流。",
            "\nOrders paid before 16:00 ship the same day; tracking appears here once it ships.",
        ));
    }
    let result = json!({"order": *order, "shipment": shipment});
    let mut out = outcome(call("order_status", arguments, true, result), answer, true);
    out.verified_order = proven.then(|| order_id.to_string());
    out
}

/// Shipping has not started: the states in which an order may still change.
fn changeable(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::PendingPayment | OrderStatus::Paid | OrderStatus::Processing)
}

/// Beijing, Shanghai, Tianjin and Chongqing are their own province and city.
fn is_municipality(address: &crate::domain::commerce::Address) -> bool {
    address.city == address.province || address.province.ends_with('市')
}

/// "上海市浦东新区…", not "上海市上海市浦东新区…".
fn city_unless_municipality(address: &crate::domain::commerce::Address) -> &str {
    if is_municipality(address) { "" } else { &address.city }
}

/// A new address without a recipient keeps the order's name, and its phone unless one is given.
fn recipient_kept(change: &OrderChange, order: &Order) -> OrderChange {
    match change {
        OrderChange::Address { address } => {
            let mut address = address.clone();
            if address.name.is_empty() {
                address.name.clone_from(&order.address.name);
            }
            if address.phone.is_empty() {
                address.phone.clone_from(&order.address.phone);
            }
            OrderChange::Address { address }
        }
        other => other.clone(),
    }
}

pub fn order_change(ctx: &ToolContext, order_id: &str, proof: Option<&str>, change: &OrderChange) -> ToolOutcome {
    let arguments = json!({"order_id": order_id, "change": change});
    let lang = ctx.lang;
    let (order, proven) = match find_order(ctx, order_id, proof) {
        OrderLookup::Visible(order, proven) => (order, proven),
        OrderLookup::Hidden => return hidden_order("order_change", arguments, lang, order_id),
        OrderLookup::Down(e) => return backend_down("order_change", arguments, lang, &e),
    };
    let mut out = if !changeable(order.status) {
        let answer = say(
            lang,
            format!(
                "订单 {order_id} 当前状态为“{}”，已无法修改或取消。已发货的订单可在签收后按退货政策办理退货。",
                status_text(order.status, lang)
            ),
            format!(
                "Order {order_id} is {}, so it can no longer be changed or cancelled. Once delivered, you can return it under the returns policy.",
                status_text(order.status, lang)
            ),
        );
        outcome(
            call("order_change", arguments, false, json!({"error": "not_allowed", "status": order.status})),
            answer,
            true,
        )
    } else {
        let change = &recipient_kept(change, &order);
        match ctx.commerce.change_order(order_id, change) {
            Ok(updated) => {
                let answer = match change {
                    OrderChange::Cancel => say(
                        lang,
                        format!("已为您取消订单 {order_id}。如已付款，款项将按原路退回（一般1-7个工作日到账）。"),
                        format!(
                            "Order {order_id} is cancelled. If you paid, the money goes back to your original payment method (usually 1-7 working days)."
                        ),
                    ),
                    OrderChange::Address { address } => say(
                        lang,
                        format!(
                            "订单 {order_id} 的收货地址已改为：{}{}{}{}。",
                            address.province,
                            city_unless_municipality(address),
                            address.district,
                            address.line
                        ),
                        format!(
                            "The delivery address of order {order_id} is now: {}, {}, {}{}.",
                            address.line,
                            address.district,
                            address.city,
                            if is_municipality(address) { String::new() } else { format!(", {}", address.province) }
                        ),
                    ),
                    OrderChange::Quantity { sku, quantity } => say(
                        lang,
                        format!("订单 {order_id} 中 {sku} 的数量已改为 {quantity}。"),
                        format!("The quantity of {sku} on order {order_id} is now {quantity}."),
                    ),
                };
                outcome(call("order_change", arguments, true, json!({"order": updated})), answer, true)
            }
            Err(CommerceError::NotAllowed(why)) | Err(CommerceError::Invalid(why)) => outcome(
                call("order_change", arguments, false, json!({"error": "not_allowed", "message": why})),
                say(
                    lang,
                    format!("无法修改订单 {order_id}：{why}"),
                    format!("Order {order_id} cannot be changed: {why}"),
                ),
                true,
            ),
            Err(e) => backend_down("order_change", arguments, lang, &e),
        }
    };
    out.verified_order = proven.then(|| order_id.to_string());
    out
}

/// A size as the shopper gave it ("9") matched to the catalogue's ("US 9").
pub fn catalogue_size<'a>(product: &'a Product, size: &str) -> Option<&'a str> {
    let wanted = size.trim().to_ascii_uppercase();
    product.sizes.iter().map(String::as_str).find(|s| {
        let s_up = s.to_ascii_uppercase();
        s_up == wanted || s_up.strip_prefix("US ").is_some_and(|n| n == wanted)
    })
}

fn color_name(color: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return color.to_string();
    }
    match color {
        "black" => "黑色",
        "white" => "白色",
        "blue" => "蓝色",
        "pink" => "粉色",
        "olive" => "橄榄绿",
        "grey" | "gray" => "灰色",
        "red" => "红色",
        "green" => "绿色",
        "navy" => "藏青色",
        "orange" => "橙色",
        "yellow" => "黄色",
        other => other,
    }
    .to_string()
}

pub fn product_name(product: &Product, lang: Lang) -> &str {
    match lang {
        Lang::Zh => &product.name_zh,
        Lang::En => &product.name_en,
    }
}

fn restock_text(date: Option<NaiveDate>, lang: Lang) -> String {
    match date {
        Some(d) => say(lang, format!("预计 {d} 补货"), format!("expected back on {d}")),
        None => say(lang, "补货时间未定", "no restock date yet"),
    }
}

/// Stock of one product, narrowing by size then colour, asking for what is missing.
pub fn stock(ctx: &ToolContext, product: &Product, size: Option<&str>, color: Option<&str>) -> ToolOutcome {
    let lang = ctx.lang;
    let name = product_name(product, lang).to_string();
    let size = match size {
        Some(s) => match catalogue_size(product, s) {
            Some(found) => Some(found.to_string()),
            None => {
                let arguments = json!({"sku": product.sku, "size": s});
                let answer = say(
                    lang,
                    format!("{name} 没有 {s} 码，可选尺码：{}。", product.sizes.join("、")),
                    format!("{name} does not come in size {s}. Sizes: {}.", product.sizes.join(", ")),
                );
                return outcome(call("stock", arguments, false, json!({"error": "no_such_size"})), answer, true);
            }
        },
        None => None,
    };
    let color = color.map(|c| c.to_ascii_lowercase());
    let arguments = json!({"sku": product.sku, "size": size, "color": color});
    let rows = match ctx.commerce.stock(&product.sku, size.as_deref(), color.as_deref()) {
        Ok(rows) => rows,
        Err(e) => return backend_down("stock", arguments, lang, &e),
    };
    if let Some(c) = &color
        && !product.colors.is_empty()
        && !product.colors.iter().any(|pc| pc == c)
    {
        let colors: Vec<String> = product.colors.iter().map(|c| color_name(c, lang)).collect();
        let answer = say(
            lang,
            format!("{name} 没有{}，可选颜色：{}。", color_name(c, lang), colors.join("、")),
            format!("{name} does not come in {c}. Colours: {}.", colors.join(", ")),
        );
        return outcome(call("stock", arguments, false, json!({"error": "no_such_color"})), answer, true);
    }
    let in_stock: Vec<&StockRow> = rows.iter().filter(|r| r.quantity > 0).collect();
    let result = json!({"rows": rows});
    let needs_size = !product.sizes.is_empty() && size.is_none();
    let needs_color = !product.colors.is_empty() && color.is_none();

    if needs_size {
        let mut sizes: Vec<&str> = in_stock.iter().filter_map(|r| r.size.as_deref()).collect();
        sizes.dedup();
        let answer = say(
            lang,
            format!("{name} 目前有货的尺码：{}。请问您要哪个尺码？", sizes.join("、")),
            format!("{name} is in stock in sizes {}. Which size would you like?", sizes.join(", ")),
        );
        let mut out = outcome(call("stock", arguments, true, result), answer, true);
        out.pending = Some(PendingAsk { intent: Intent::InventoryCheck, slot: "size".into(), options: Vec::new() });
        return out;
    }
    if in_stock.is_empty() {
        return out_of_stock(ctx, product, size.as_deref(), color.as_deref(), &rows, arguments);
    }
    if needs_color {
        let mut colors: Vec<String> = in_stock.iter().filter_map(|r| r.color.clone()).collect();
        colors.dedup();
        let names: Vec<String> = colors.iter().map(|c| color_name(c, lang)).collect();
        let size_text = size.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
        let answer = if colors.len() == 1 {
            say(
                lang,
                format!("有的，{name}{size_text} 目前只有{}有货。要加入购物车吗？", names[0]),
                format!("Yes, {name}{size_text} is in stock in {} only. Shall I add it to your cart?", names[0]),
            )
        } else {
            say(
                lang,
                format!("有的，{name}{size_text} 有货，{}？", names.join("还是")),
                format!("Yes, {name}{size_text} is in stock. {}?", capitalise(&names.join(" or "))),
            )
        };
        let mut out = outcome(call("stock", arguments, true, result), answer, true);
        out.pending = Some(PendingAsk { intent: Intent::InventoryCheck, slot: "color".into(), options: colors });
        return out;
    }
    let quantity: i64 = in_stock.iter().map(|r| r.quantity).sum();
    let detail =
        [size.clone(), color.as_deref().map(|c| color_name(c, lang))].into_iter().flatten().collect::<Vec<_>>();
    let answer = say(
        lang,
        format!("有货：{name} {}，库存 {quantity} 件。要加入购物车吗？", detail.join(" ")),
        format!("In stock: {name} {}, {quantity} available. Shall I add it to your cart?", detail.join(" ")),
    );
    let mut out = outcome(call("stock", arguments, true, result), answer, true);
    out.pending = Some(PendingAsk { intent: Intent::InventoryCheck, slot: "add_to_cart".into(), options: Vec::new() });
    out
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn out_of_stock(
    ctx: &ToolContext,
    product: &Product,
    size: Option<&str>,
    color: Option<&str>,
    rows: &[StockRow],
    arguments: Value,
) -> ToolOutcome {
    let lang = ctx.lang;
    let name = product_name(product, lang);
    let restock = rows.iter().filter_map(|r| r.restock_date).min();
    // Alternatives: the same product in another colour (same size) or size (same colour).
    let all = ctx.commerce.stock(&product.sku, None, None).unwrap_or_default();
    let same_size = |r: &&StockRow| size.is_some_and(|s| r.size.as_deref() == Some(s));
    let same_color = |r: &&StockRow| color.is_some_and(|c| r.color.as_deref() == Some(c));
    // Another colour in the size asked for comes first, then another size in the colour.
    let mut alternatives: Vec<&StockRow> =
        all.iter().filter(|r| r.quantity > 0).filter(|r| same_size(r) || same_color(r)).collect();
    alternatives.sort_by_key(|r| !same_size(r));
    alternatives.truncate(4);
    let describe = |r: &StockRow| {
        [r.size.clone(), r.color.as_deref().map(|c| color_name(c, lang))]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let alt_text: Vec<String> = alternatives.iter().map(|r| describe(r)).collect();
    let wanted =
        [size.map(str::to_string), color.map(|c| color_name(c, lang))].into_iter().flatten().collect::<Vec<_>>();
    let mut answer = say(
        lang,
        format!("抱歉，{name} {} 暂时缺货，{}。", wanted.join(" "), restock_text(restock, lang)),
        format!("Sorry, {name} {} is out of stock, {}.", wanted.join(" "), restock_text(restock, lang)),
    );
    if !alt_text.is_empty() {
        answer.push_str(&say(
            lang,
            format!("\n目前有货的可选：{}。", alt_text.join("、")),
            format!("\nIn stock instead: {}.", alt_text.join(", ")),
        ));
    }
    answer.push_str(&say(lang, "\n需要到货提醒吗？", "\nShall I notify you when it is back?"));
    let result = json!({"rows": rows, "restock_date": restock, "alternatives": alternatives});
    let mut out = outcome(call("stock", arguments, true, result), answer, true);
    out.pending =
        Some(PendingAsk { intent: Intent::InventoryCheck, slot: "restock_notify".into(), options: Vec::new() });
    out
}

pub fn subscribe_restock(ctx: &ToolContext, request: &RestockRequest) -> ToolOutcome {
    let arguments = json!(request);
    match ctx.commerce.subscribe_restock(request) {
        Ok(sub) => outcome(
            call("restock_subscription", arguments, true, json!(sub)),
            say(
                ctx.lang,
                "好的，到货后会第一时间通知您。",
                "Done: you will be notified as soon as it is back in stock.",
            ),
            true,
        ),
        Err(e) => backend_down("restock_subscription", arguments, ctx.lang, &e),
    }
}

/// Products shown for one browse question; the rest are counted.
const SEARCH_LIMIT: usize = 5;

/// One product that fits a browse question, with its stock for the size and colour asked.
struct Found<'a> {
    product: &'a Product,
    in_stock: bool,
    restock: Option<NaiveDate>,
}

/// Catalogue search for a browse question ("有没有500元以下的跑鞋?", "which running shoes do you
/// have in size 10?"): the products its words name that fit its price, size and colour, with
/// stock for that size and colour; up to five, in-stock and current lines first (by price when
/// the shopper asks for the cheapest or dearest). None when the question names nothing the
/// catalogue has and states no price: it is not a product search after all.
pub fn product_search(ctx: &ToolContext, query: &ProductQuery) -> Option<ToolOutcome> {
    let lang = ctx.lang;
    let arguments = json!(query);
    let catalogue = match ctx.commerce.products() {
        Ok(products) => products,
        Err(e) => return Some(backend_down("product_search", arguments, lang, &e)),
    };
    let Some(named) = browse::named_products(&catalogue, query) else {
        return query.asks_if_sold.then(|| not_sold(&catalogue, arguments, lang));
    };
    let fits = |p: &Product| {
        query.price.admits(p.price_cents)
            && query.size.as_deref().is_none_or(|s| catalogue_size(p, s).is_some())
            && query.color.as_deref().is_none_or(|c| p.colors.iter().any(|pc| pc == c))
    };
    let mut found = Vec::new();
    for product in named.products.iter().copied().filter(|p| fits(p)) {
        let size = query.size.as_deref().and_then(|s| catalogue_size(product, s));
        let rows = match ctx.commerce.stock(&product.sku, size, query.color.as_deref()) {
            Ok(rows) => rows,
            Err(e) => return Some(backend_down("product_search", arguments, lang, &e)),
        };
        let in_stock = rows.iter().any(|r| r.quantity > 0);
        let restock = if in_stock { None } else { rows.iter().filter_map(|r| r.restock_date).min() };
        if in_stock || !query.in_stock_only {
            found.push(Found { product, in_stock, restock });
        }
    }
    match query.sort {
        Sort::PriceLow => found.sort_by_key(|f| f.product.price_cents),
        Sort::PriceHigh => found.sort_by_key(|f| std::cmp::Reverse(f.product.price_cents)),
        Sort::Relevance => found.sort_by_key(|f| (!f.in_stock, f.product.final_sale)),
    }
    let matches: Vec<Value> = found
        .iter()
        .map(|f| {
            json!({
                "sku": f.product.sku, "name": product_name(f.product, lang), "price_cents": f.product.price_cents,
                "in_stock": f.in_stock, "restock_date": f.restock, "final_sale": f.product.final_sale,
            })
        })
        .collect();
    let result = json!({"terms": named.terms, "total": found.len(), "matches": matches});
    if found.is_empty() {
        let (answer, explained) = nothing_fits(query, &named, lang);
        return Some(outcome(call("product_search", arguments, true, result), answer, explained));
    }
    let n = found.len();
    let mut filters = filter_text(query, lang);
    filters.extend(match query.sort {
        _ if n == 1 => None,
        Sort::Relevance => None,
        Sort::PriceLow => Some(say(lang, "按价格从低到高", "cheapest first")),
        Sort::PriceHigh => Some(say(lang, "按价格从高到低", "dearest first")),
    });
    let products = if n == 1 { "product" } else { "products" };
    let mut answer = match (lang, filters.is_empty()) {
        (Lang::Zh, true) => format!("为您找到 {n} 款商品："),
        (Lang::Zh, false) => format!("为您找到 {n} 款商品（{}）：", filters.join("、")),
        (Lang::En, true) => format!("I found {n} matching {products}:"),
        (Lang::En, false) => format!("I found {n} {products} ({}):", filters.join(", ")),
    };
    for (i, f) in found.iter().take(SEARCH_LIMIT).enumerate() {
        answer.push_str(&format!("\n{}. {}", i + 1, found_line(f, query, lang)));
    }
    if found.len() > SEARCH_LIMIT {
        let more = found.len() - SEARCH_LIMIT;
        answer.push_str(&say(
            lang,
            format!("\n另有 {more} 款符合条件，告诉我尺码、颜色或预算可以帮您缩小范围。"),
            format!("\n{more} more match; tell me a size, colour or budget to narrow it down."),
        ));
    }
    let sized = found.iter().take(SEARCH_LIMIT).any(|f| !f.product.sizes.is_empty());
    answer.push_str(&if sized {
        say(
            lang,
            "\n想了解哪一款，或查某个尺码、颜色的库存，告诉我即可。",
            "\nTell me which one you would like to know more about, or a size and colour to check.",
        )
    } else {
        say(lang, "\n想了解哪一款，告诉我即可。", "\nTell me which one you would like to know more about.")
    });
    Some(outcome(call("product_search", arguments, true, result), answer, true))
}

/// "Do you sell tennis rackets?": no; say what the shop does sell, by category.
fn not_sold(catalogue: &[Product], arguments: Value, lang: Lang) -> ToolOutcome {
    let mut categories: Vec<Category> = Vec::new();
    for p in catalogue {
        if !categories.contains(&p.category) {
            categories.push(p.category);
        }
    }
    let names: Vec<&str> = categories
        .iter()
        .map(|c| match (c, lang) {
            (Category::Shoes, Lang::Zh) => "鞋类",
            (Category::Apparel, Lang::Zh) => "服饰",
            (Category::Appliances, Lang::Zh) => "家电",
            (Category::Consumables, Lang::Zh) => "耗材",
            (Category::Shoes, Lang::En) => "shoes",
            (Category::Apparel, Lang::En) => "apparel",
            (Category::Appliances, Lang::En) => "appliances",
            (Category::Consumables, Lang::En) => "consumables",
        })
        .collect();
    let answer = say(
        lang,
        format!("抱歉，我们目前没有销售这类商品。在售的品类有：{}。", names.join("、")),
        format!("Sorry, we do not carry that. What we sell: {}.", names.join(", ")),
    );
    let result = json!({"terms": [], "total": 0, "matches": []});
    outcome(call("product_search", arguments, true, result), answer, false)
}

/// "轻驰3 男子公路跑鞋（HS-RUN-101）¥699.00，US 10 黑色有货".
fn found_line(f: &Found, query: &ProductQuery, lang: Lang) -> String {
    let size = query.size.as_deref().and_then(|s| catalogue_size(f.product, s)).map(str::to_string);
    let color = query.color.as_deref().map(|c| color_name(c, lang));
    let asked = [size, color].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let stock = match (f.in_stock, lang) {
        (true, Lang::Zh) => format!("{asked} 有货"),
        (true, Lang::En) => format!("{asked} in stock"),
        (false, Lang::Zh) => format!("{asked} 暂时缺货，{}", restock_text(f.restock, lang)),
        (false, Lang::En) => format!("{asked} out of stock, {}", restock_text(f.restock, lang)),
    };
    let final_sale = if f.product.final_sale {
        say(lang, "，清仓商品不支持无理由退货", "; final sale, no no-reason returns")
    } else {
        String::new()
    };
    let (name, sku, price) = (product_name(f.product, lang), &f.product.sku, money(f.product.price_cents));
    say(
        lang,
        format!("{name}（{sku}）{price}，{}{final_sale}", stock.trim()),
        format!("{name} ({sku}) {price}, {}{final_sale}", stock.trim()),
    )
}

/// The filters a browse question stated, for the reply ("¥500.00 以下", "size 10", "black").
fn filter_text(query: &ProductQuery, lang: Lang) -> Vec<String> {
    let price = match (query.price.min_cents, query.price.max_cents) {
        (Some(min), Some(max)) => Some(format!("{}–{}", money(min), money(max))),
        (None, Some(max)) => Some(say(lang, format!("{} 以下", money(max)), format!("up to {}", money(max)))),
        (Some(min), None) => Some(say(lang, format!("{} 以上", money(min)), format!("from {}", money(min)))),
        (None, None) => None,
    };
    // Slots write shoe sizes bare ("10"); the catalogue writes them "US 10".
    let size = query.size.as_ref().map(|s| {
        let s = if s.starts_with(|c: char| c.is_ascii_digit()) { format!("US {s}") } else { s.clone() };
        say(lang, format!("{s} 码"), format!("size {s}"))
    });
    let color = query.color.as_deref().map(|c| color_name(c, lang));
    let stock = query.in_stock_only.then(|| say(lang, "有货", "in stock"));
    [price, size, color, stock].into_iter().flatten().collect()
}

/// Nothing fits: which filters ruled everything out, and the closest products the words named
/// with the colours and sizes they do come in. True when that answers the question: a product
/// it named does not come in the colour or size asked.
fn nothing_fits(query: &ProductQuery, named: &browse::Named, lang: Lang) -> (String, bool) {
    let offered = |p: &Product| {
        query.color.as_deref().is_none_or(|c| p.colors.iter().any(|pc| pc == c))
            && query.size.as_deref().is_none_or(|s| catalogue_size(p, s).is_some())
    };
    let mut explained = false;
    let filters = filter_text(query, lang);
    let mut answer = if filters.is_empty() {
        say(lang, "抱歉，没有找到相关商品。", "Sorry, I could not find a matching product.")
    } else {
        say(
            lang,
            format!("抱歉，没有找到符合条件（{}）的商品。", filters.join("、")),
            format!("Sorry, no product matches ({}).", filters.join(", ")),
        )
    };
    if !named.terms.is_empty() {
        let mut related = named.products.clone();
        related.sort_by_key(|p| p.price_cents);
        // A colour or size the product does not come in: say which it does.
        let options = |p: &Product| {
            let colors = query.color.as_deref().filter(|c| !p.colors.is_empty() && !p.colors.iter().any(|pc| pc == c));
            let sizes = query.size.as_deref().filter(|s| !p.sizes.is_empty() && catalogue_size(p, s).is_none());
            let colors = colors.map(|_| {
                let names: Vec<String> = p.colors.iter().map(|c| color_name(c, lang)).collect();
                say(lang, format!("颜色：{}", names.join("、")), format!("colours: {}", names.join(", ")))
            });
            let sizes = sizes
                .map(|_| say(lang, format!("尺码：{}", p.sizes.join("、")), format!("sizes: {}", p.sizes.join(", "))));
            let options: Vec<String> = [colors, sizes].into_iter().flatten().collect();
            if options.is_empty() {
                String::new()
            } else {
                say(lang, format!("（{}）", options.join("；")), format!(" ({})", options.join("; ")))
            }
        };
        explained = !named.products.iter().any(|p| offered(p)) && related.iter().any(|p| !options(p).is_empty());
        let related: Vec<String> = related
            .iter()
            .take(3)
            .map(|p| format!("{} {}{}", product_name(p, lang), money(p.price_cents), options(p)))
            .collect();
        answer.push_str(&say(
            lang,
            format!("\n相关商品有：{}。", related.join("、")),
            format!("\nRelated products: {}.", related.join("; ")),
        ));
    }
    (answer, explained)
}

/// What the shopper says about the goods they want to return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Condition {
    /// Worn or used ("用了两次", "ran in them").
    pub used: bool,
    /// Seal or pack opened ("拆封了", "opened the pack").
    pub opened: bool,
}

/// The pending confirmation of a return offered for a quality problem: "yes" creates that
/// one, whose shipping the shop pays.
pub const CONFIRM_QUALITY_RETURN: &str = "confirm_quality_return";

/// Tag of products that have no no-reason return once their seal is broken (socks, filters).
const SEALED_TAG: &str = "no-return-once-unsealed";

/// The returns policy for one item in the condition the shopper describes: why it cannot be
/// returned without a reason (`Err`), or the condition it must still meet (`Ok`, if any).
fn no_reason_rule(product: &Product, condition: Condition, lang: Lang) -> Result<Option<String>, String> {
    let name = product_name(product, lang);
    if product.final_sale {
        return Err(say(
            lang,
            format!("{name} 是清仓（final sale）商品，不支持无理由退货"),
            format!("{name} is final sale, with no no-reason return"),
        ));
    }
    let sealed = product.tags.iter().any(|t| t == SEALED_TAG);
    if sealed && (condition.opened || condition.used) {
        return Err(say(
            lang,
            format!("{name} 拆封后不支持无理由退货"),
            format!("{name} cannot be returned without a reason once the seal is broken"),
        ));
    }
    if condition.used {
        return Err(if product.category == Category::Appliances {
            say(
                lang,
                format!("{name} 已使用，电器拆封并使用后不支持无理由退货（仅拆封未使用的可以退）"),
                format!(
                    "{name} has been used: an appliance that was opened and used has no no-reason return (opened but unused ones can be returned)"
                ),
            )
        } else {
            say(
                lang,
                format!("{name} 已使用（穿过或用过），无理由退货要求商品未使用、吊牌包装完好"),
                format!(
                    "{name} has been used or worn; a no-reason return needs the goods unused, with tags and packaging"
                ),
            )
        });
    }
    Ok(if sealed {
        Some(say(lang, format!("{name} 需未拆封"), format!("{name} must still be sealed")))
    } else if product.category == Category::Appliances && !condition.opened {
        Some(say(
            lang,
            format!("{name} 拆封未使用也可以退，使用过则不能"),
            format!("{name} can go back opened but not used"),
        ))
    } else {
        None
    })
}

/// How far a return request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    /// Eligibility only, with an offer to create it.
    Check,
    /// The shopper's message asks for it: created, unless only an exchange is possible, which
    /// is offered instead.
    Requested,
    /// The shopper said yes to Clerk's offer: created as offered.
    Accepted,
}

/// Return eligibility under the returns policy, and the return itself as `creation` says.
pub fn return_request(
    ctx: &ToolContext,
    order_id: &str,
    proof: Option<&str>,
    creation: Creation,
    quality_issue: bool,
    condition: Condition,
) -> ToolOutcome {
    let arguments = json!({
        "order_id": order_id, "create": creation != Creation::Check, "quality_issue": quality_issue,
        "used": condition.used, "opened": condition.opened,
    });
    let lang = ctx.lang;
    let (order, proven) = match find_order(ctx, order_id, proof) {
        OrderLookup::Visible(order, proven) => (order, proven),
        OrderLookup::Hidden => return hidden_order("return_eligibility", arguments, lang, order_id),
        OrderLookup::Down(e) => return backend_down("return_eligibility", arguments, lang, &e),
    };
    let today = china_time(ctx.now).date_naive();
    let mut out = match (order.status, order.delivered_at) {
        (OrderStatus::Delivered, Some(delivered)) => {
            let delivered_day = china_time(delivered).date_naive();
            let days = (today - delivered_day).num_days();
            let products: Vec<Product> =
                order.items.iter().filter_map(|i| ctx.commerce.product(&i.sku).ok().flatten()).collect();
            let rules: Vec<Result<Option<String>, String>> =
                products.iter().map(|p| no_reason_rule(p, condition, lang)).collect();
            let blockers: Vec<String> = rules.iter().filter_map(|r| r.clone().err()).collect();
            let conditions: Vec<String> = rules.into_iter().filter_map(|r| r.ok().flatten()).collect();
            // As the policy counts: signed on the 3rd, returnable through the 10th.
            let last_no_reason_day = delivered_day + chrono::Days::new(7);
            let last_exchange_day = delivered_day + chrono::Days::new(15);
            let eligible_no_reason = today <= last_no_reason_day && blockers.is_empty();
            let eligible_quality = quality_issue && today <= last_exchange_day;
            let eligible = eligible_no_reason || eligible_quality;
            // A quality problem after the no-reason week is an exchange, not a refund: asked for
            // a return, Clerk offers the exchange rather than making one unasked.
            let exchange_only = quality_issue && today > last_no_reason_day;
            let create = match creation {
                Creation::Check => false,
                Creation::Requested => !exchange_only,
                Creation::Accepted => true,
            };
            let verdict = json!({
                "eligible": eligible, "delivered_on": delivered_day, "days_since_delivery": days,
                "no_reason_until": last_no_reason_day, "exchange_until": last_exchange_day, "exceptions": blockers,
            });
            if !eligible {
                let why = if !blockers.is_empty() && today <= last_no_reason_day {
                    blockers.join("；")
                } else {
                    say(
                        lang,
                        format!("该订单于 {delivered_day} 签收，7天无理由退货已于 {last_no_reason_day} 截止"),
                        format!(
                            "it was delivered on {delivered_day} and the 7-day no-reason return ended on {last_no_reason_day}"
                        ),
                    )
                };
                let answer = say(
                    lang,
                    format!(
                        "订单 {order_id} 目前不能无理由退货：{why}。如有质量问题，签收15天内可换货，之后可享受保修。"
                    ),
                    format!(
                        "Order {order_id} cannot be returned without a reason: {why}. For a quality problem you can exchange within 15 days of delivery, and repair under warranty after that."
                    ),
                );
                outcome(call("return_eligibility", arguments, true, verdict), answer, true)
            } else if create {
                let reason = match (quality_issue, exchange_only) {
                    (true, true) => "quality_exchange",
                    (true, false) => "quality",
                    (false, _) => "no_reason",
                };
                let request = NewReturn {
                    order_id: order_id.to_string(),
                    skus: Vec::new(),
                    reason: reason.into(),
                    quality_issue,
                };
                match ctx.commerce.create_return(&request) {
                    Ok(record) => {
                        let rma = &record.rma;
                        let answer = match (quality_issue, exchange_only) {
                            (true, true) => say(
                                lang,
                                format!(
                                    "已为订单 {order_id} 创建质量问题换货申请，单号 {rma}。我们会安排免费上门取件，检测确认后为您换同款新品（尺码或颜色可调整，以库存为准）。"
                                ),
                                format!(
                                    "Quality exchange created for order {order_id}: {rma}. We will pick it up free of charge and, once the fault is confirmed, send you the same item new (size or colour can change, subject to stock)."
                                ),
                            ),
                            (true, false) => say(
                                lang,
                                format!(
                                    "已为订单 {order_id} 创建质量问题退货申请，单号 {rma}。我们会安排免费上门取件，检测确认后1-3个工作日内退款；想换货也可以告诉我们。"
                                ),
                                format!(
                                    "Quality return created for order {order_id}: {rma}. We will pick it up free of charge; the refund follows 1-3 working days after the fault is confirmed, or tell us if you prefer an exchange."
                                ),
                            ),
                            (false, _) => say(
                                lang,
                                format!(
                                    "已为订单 {order_id} 创建退货申请，退货单号 {rma}。请在7天内寄回，仓库收货检验后1-3个工作日内退款。"
                                ),
                                format!(
                                    "Return created for order {order_id}: RMA {rma}. Please send it back within 7 days; the refund follows 1-3 working days after the warehouse checks it."
                                ),
                            ),
                        };
                        outcome(
                            call("create_return", arguments, true, json!({"eligibility": verdict, "return": record})),
                            answer,
                            true,
                        )
                    }
                    Err(CommerceError::NotAllowed(why)) => outcome(
                        call("create_return", arguments, false, json!({"error": "not_allowed", "message": why})),
                        say(lang, format!("无法创建退货：{why}"), format!("The return could not be created: {why}")),
                        true,
                    ),
                    Err(e) => backend_down("create_return", arguments, lang, &e),
                }
            } else {
                let condition_text = if conditions.is_empty() {
                    String::new()
                } else {
                    say(lang, format!("（{}）", conditions.join("；")), format!(" ({})", conditions.join("; ")))
                };
                let answer = if quality_issue {
                    // A quality problem has its own windows: refund or exchange for 7 days,
                    // exchange to day 15, then repair under warranty.
                    let (windows_zh, windows_en, offer_zh, offer_en) = if today <= last_no_reason_day {
                        (
                            format!(
                                "{last_no_reason_day} 前（含当天）可退货退款或换货，{last_exchange_day} 前（含当天）可换货"
                            ),
                            format!(
                                "you can return it for a refund or exchange it up to and including {last_no_reason_day}, and exchange it up to and including {last_exchange_day}"
                            ),
                            "退货申请",
                            "return",
                        )
                    } else {
                        (
                            format!("{last_exchange_day} 前（含当天）可换货"),
                            format!("you can exchange it up to and including {last_exchange_day}"),
                            "换货申请",
                            "exchange",
                        )
                    };
                    say(
                        lang,
                        format!(
                            "订单 {order_id} 于 {delivered_day} 签收。如是质量问题，{windows_zh}，之后在保修期内免费维修。需要我现在为您创建{offer_zh}吗？"
                        ),
                        format!(
                            "Order {order_id} was delivered on {delivered_day}. For a quality problem {windows_en}; after that it is repaired free under warranty. Shall I create the {offer_en} now?"
                        ),
                    )
                } else {
                    say(
                        lang,
                        format!(
                            "订单 {order_id} 于 {delivered_day} 签收，可在 {last_no_reason_day} 前（含当天）申请7天无理由退货{condition_text}。需要我现在为您创建退货申请吗？"
                        ),
                        format!(
                            "Order {order_id} was delivered on {delivered_day}; you can return it without a reason up to and including {last_no_reason_day}{condition_text}. Shall I create the return now?"
                        ),
                    )
                };
                let mut out = outcome(call("return_eligibility", arguments, true, verdict), answer, true);
                let slot = if quality_issue { CONFIRM_QUALITY_RETURN } else { "confirm_return" };
                out.pending = Some(PendingAsk { intent: Intent::ReturnRefund, slot: slot.into(), options: Vec::new() });
                out
            }
        }
        (status, _) => {
            let answer = match status {
                OrderStatus::PendingPayment | OrderStatus::Paid | OrderStatus::Processing => say(
                    lang,
                    format!(
                        "订单 {order_id} 还未发货（{}），无需退货，可以直接取消订单。需要取消吗？",
                        status_text(status, lang)
                    ),
                    format!(
                        "Order {order_id} has not shipped yet ({}), so there is nothing to return: you can cancel it instead. Shall I cancel it?",
                        status_text(status, lang)
                    ),
                ),
                OrderStatus::Shipped => say(
                    lang,
                    format!("订单 {order_id} 正在配送中，签收后7天内可申请无理由退货。"),
                    format!(
                        "Order {order_id} is on its way; once delivered you have 7 days to return it without a reason."
                    ),
                ),
                _ => say(
                    lang,
                    format!("订单 {order_id} 当前状态：{}。", status_text(status, lang)),
                    format!("Order {order_id} is {}.", status_text(status, lang)),
                ),
            };
            outcome(
                call(
                    "return_eligibility",
                    arguments,
                    true,
                    json!({"eligible": false, "status": status, "payment_method": order.payment_method}),
                ),
                answer,
                true,
            )
        }
    };
    out.verified_order = proven.then(|| order_id.to_string());
    out
}

pub fn points(ctx: &ToolContext) -> ToolOutcome {
    let lang = ctx.lang;
    let Some(customer_id) = ctx.customer_id else {
        return outcome(
            call("points_balance", json!({}), false, json!({"error": "not_signed_in"})),
            say(
                lang,
                "请先登录会员账号，我才能查询您的积分和等级。",
                "Please sign in to your member account so I can look up your points and tier.",
            ),
            true,
        );
    };
    let arguments = json!({"customer_id": customer_id});
    let customer = match ctx.commerce.customer(customer_id) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return outcome(
                call("points_balance", arguments, false, json!({"error": "not_found"})),
                say(lang, "没有找到您的会员信息。", "I could not find your member account."),
                false,
            );
        }
        Err(e) => return backend_down("points_balance", arguments, lang, &e),
    };
    let tier = match (customer.tier, lang) {
        (crate::domain::commerce::Tier::Member, Lang::Zh) => "普通会员",
        (crate::domain::commerce::Tier::Silver, Lang::Zh) => "银卡会员",
        (crate::domain::commerce::Tier::Gold, Lang::Zh) => "金卡会员",
        (crate::domain::commerce::Tier::Platinum, Lang::Zh) => "铂金会员",
        (crate::domain::commerce::Tier::Member, Lang::En) => "Member",
        (crate::domain::commerce::Tier::Silver, Lang::En) => "Silver",
        (crate::domain::commerce::Tier::Gold, Lang::En) => "Gold",
        (crate::domain::commerce::Tier::Platinum, Lang::En) => "Platinum",
    };
    let mut answer = say(
        lang,
        format!("您是{tier}，当前积分 {}（价值 {}，100积分抵1元）。", customer.points, money(customer.points)),
        format!(
            "You are a {tier} member with {} points (worth {}; 100 points = ¥1.00).",
            customer.points,
            money(customer.points)
        ),
    );
    let today = china_time(ctx.now).date_naive();
    if let Some(lot) =
        customer.points_expiring.iter().filter(|l| l.expires >= today && l.points > 0).min_by_key(|l| l.expires)
    {
        answer.push_str(&say(
            lang,
            format!("\n其中 {} 积分将于 {} 过期。", lot.points, lot.expires),
            format!("\n{} of them expire on {}.", lot.points, lot.expires),
        ));
    }
    outcome(call("points_balance", arguments, true, json!(customer)), answer, true)
}

pub fn work_order(ctx: &ToolContext, request: &NewWorkOrder) -> ToolOutcome {
    let arguments = json!(request);
    match ctx.commerce.create_work_order(request) {
        Ok(wo) => outcome(
            call("create_work_order", arguments, true, json!(wo)),
            say(
                ctx.lang,
                format!("已为您创建上门维修工单 {}，工程师会在1个工作日内联系您预约时间。", wo.id),
                format!(
                    "I have opened engineer work order {}; an engineer will contact you within 1 working day to book a visit.",
                    wo.id
                ),
            ),
            true,
        ),
        Err(e) => backend_down("create_work_order", arguments, ctx.lang, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::commerce::{
        Coupon, Customer, Promotion, RestockSubscription, ReturnRecord, Shipment, WorkOrder,
    };
    use crate::domain::turn::Slots;

    /// A small shop: products and stock rows; every other call is unavailable.
    struct Shelf {
        products: Vec<Product>,
        stock: Vec<StockRow>,
        down: bool,
    }

    fn unavailable<T>() -> Result<T, CommerceError> {
        Err(CommerceError::Unavailable("not in this test".into()))
    }

    impl CommerceBackend for Shelf {
        fn name(&self) -> &str {
            "shelf"
        }
        fn product(&self, sku: &str) -> Result<Option<Product>, CommerceError> {
            Ok(self.products.iter().find(|p| p.sku == sku).cloned())
        }
        fn products(&self) -> Result<Vec<Product>, CommerceError> {
            if self.down { unavailable() } else { Ok(self.products.clone()) }
        }
        fn stock(&self, sku: &str, size: Option<&str>, color: Option<&str>) -> Result<Vec<StockRow>, CommerceError> {
            Ok(self
                .stock
                .iter()
                .filter(|r| r.sku == sku)
                .filter(|r| size.is_none_or(|s| r.size.as_deref() == Some(s)))
                .filter(|r| color.is_none_or(|c| r.color.as_deref() == Some(c)))
                .cloned()
                .collect())
        }
        fn customer(&self, _: &str) -> Result<Option<Customer>, CommerceError> {
            unavailable()
        }
        fn order(&self, _: &str) -> Result<Option<Order>, CommerceError> {
            unavailable()
        }
        fn orders_of(&self, _: &str) -> Result<Vec<Order>, CommerceError> {
            unavailable()
        }
        fn shipment(&self, _: &str) -> Result<Option<Shipment>, CommerceError> {
            unavailable()
        }
        fn promotions(&self) -> Result<Vec<Promotion>, CommerceError> {
            unavailable()
        }
        fn coupons(&self, _: Option<&str>) -> Result<Vec<Coupon>, CommerceError> {
            unavailable()
        }
        fn change_order(&self, _: &str, _: &OrderChange) -> Result<Order, CommerceError> {
            unavailable()
        }
        fn create_return(&self, _: &NewReturn) -> Result<ReturnRecord, CommerceError> {
            unavailable()
        }
        fn subscribe_restock(&self, _: &RestockRequest) -> Result<RestockSubscription, CommerceError> {
            unavailable()
        }
        fn create_work_order(&self, _: &NewWorkOrder) -> Result<WorkOrder, CommerceError> {
            unavailable()
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn product(
        sku: &str,
        en: &str,
        zh: &str,
        category: Category,
        yuan: i64,
        sizes: &[&str],
        colors: &[&str],
        tags: &[&str],
    ) -> Product {
        Product {
            sku: sku.into(),
            name_en: en.into(),
            name_zh: zh.into(),
            category,
            price_cents: yuan * 100,
            sizes: sizes.iter().map(|s| s.to_string()).collect(),
            colors: colors.iter().map(|s| s.to_string()).collect(),
            final_sale: tags.contains(&"clearance"),
            tags: tags.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn row(sku: &str, size: Option<&str>, color: &str, quantity: i64, restock: Option<&str>) -> StockRow {
        StockRow {
            sku: sku.into(),
            size: size.map(str::to_string),
            color: Some(color.into()),
            quantity,
            restock_date: restock.and_then(|d| d.parse().ok()),
        }
    }

    fn shelf() -> Shelf {
        let mut products = vec![
            product(
                "HS-A",
                "Aero road running shoe",
                "飞燕 公路跑鞋",
                Category::Shoes,
                499,
                &["US 9", "US 10"],
                &["black", "white"],
                &["running", "road"],
            ),
            product(
                "HS-B",
                "Bolt trail running shoe",
                "闪电 越野跑鞋",
                Category::Shoes,
                899,
                &["US 10"],
                &["olive"],
                &["running", "trail"],
            ),
            product(
                "HS-C",
                "Comet racing shoe (last season)",
                "彗星 竞速跑鞋(清仓)",
                Category::Shoes,
                299,
                &["US 9"],
                &["black"],
                &["running", "clearance"],
            ),
            product("HK-1", "Kettle", "电水壶", Category::Appliances, 299, &[], &["white"], &["kettle"]),
        ];
        let mut stock = vec![
            row("HS-A", Some("US 9"), "black", 5, None),
            row("HS-A", Some("US 9"), "white", 0, None),
            row("HS-A", Some("US 10"), "black", 0, Some("2026-12-01")),
            row("HS-A", Some("US 10"), "white", 3, None),
            row("HS-B", Some("US 10"), "olive", 2, None),
            row("HS-C", Some("US 9"), "black", 1, None),
            row("HK-1", None, "white", 4, None),
        ];
        for i in 1..=6 {
            let sku = format!("HA-T{i}");
            products.push(product(
                &sku,
                &format!("Tee {i} running top"),
                &format!("T恤{i}号"),
                Category::Apparel,
                90 + i,
                &["M"],
                &["grey"],
                &["running", "top"],
            ));
            stock.push(row(&sku, Some("M"), "grey", 10, None));
        }
        Shelf { products, stock, down: false }
    }

    /// The product search of `message` as the turn would run it, with the slots the
    /// understander would give.
    fn search(shop: &Shelf, lang: Lang, message: &str, size: Option<&str>, color: Option<&str>) -> Option<ToolOutcome> {
        let slots = Slots { size: size.map(str::to_string), color: color.map(str::to_string), ..Default::default() };
        let query = browse::product_query(message, Intent::InventoryCheck, &slots, &slots)?;
        let ctx = ToolContext { commerce: shop, lang, now: Utc::now(), customer_id: None, verified_orders: &[] };
        product_search(&ctx, &query)
    }

    #[test]
    fn a_price_ceiling_and_a_size_list_what_fits_with_its_stock() {
        let shop = shelf();
        let out = search(&shop, Lang::Zh, "有没有500元以下的跑鞋？10码", Some("10"), None).unwrap();
        assert!(out.answered);
        assert_eq!(out.call.name, "product_search");
        // HS-B is over ¥500 and HS-C has no US 10.
        assert!(out.answer.contains("飞燕 公路跑鞋（HS-A）¥499.00，US 10 有货"), "{}", out.answer);
        assert!(!out.answer.contains("HS-B") && !out.answer.contains("HS-C"), "{}", out.answer);
        assert!(out.answer.contains("¥500.00 以下"));

        let black =
            search(&shop, Lang::En, "any running shoes under 500 in black, size 10?", Some("10"), Some("black"));
        let black = black.unwrap();
        assert!(black.answer.contains("US 10 black out of stock, expected back on 2026-12-01"), "{}", black.answer);
    }

    #[test]
    fn in_stock_and_current_lines_come_first_and_cheapest_first_when_asked() {
        let shop = shelf();
        let out = search(&shop, Lang::En, "which running shoes do you have in size 9?", Some("9"), None).unwrap();
        let (a, c) = (out.answer.find("HS-A").unwrap(), out.answer.find("HS-C").unwrap());
        assert!(a < c, "the clearance line comes last: {}", out.answer);
        assert!(out.answer.contains("final sale"));

        let cheapest = search(&shop, Lang::Zh, "最便宜的跑鞋是哪款", None, None).unwrap();
        let at = |sku: &str| cheapest.answer.find(sku).unwrap();
        assert!(at("HS-C") < at("HS-A") && at("HS-A") < at("HS-B"), "{}", cheapest.answer);
        assert!(cheapest.answer.contains("按价格从低到高"));
    }

    #[test]
    fn at_most_five_are_listed_and_the_rest_counted() {
        let out = search(&shelf(), Lang::En, "what running tops do you have", None, None).unwrap();
        assert_eq!(out.answer.matches("HA-T").count(), 5, "{}", out.answer);
        assert!(out.answer.contains("1 more match"));
        assert_eq!(out.call.result["total"], 6);
    }

    #[test]
    fn nothing_fits_is_said_in_the_shoppers_language_and_left_unanswered() {
        let shop = shelf();
        let zh = search(&shop, Lang::Zh, "100元以下的跑鞋有哪些", None, None).unwrap();
        assert!(!zh.answered);
        assert!(zh.answer.contains("没有找到") && zh.answer.contains("¥100.00 以下"), "{}", zh.answer);
        assert!(zh.answer.contains("彗星 竞速跑鞋(清仓) ¥299.00"), "the closest is offered: {}", zh.answer);

        // Black in US 10 is sold out, and only in stock was asked for.
        let en = search(&shop, Lang::En, "black running shoes in stock, size 10", Some("10"), Some("black")).unwrap();
        assert!(!en.answered);
        assert!(en.answer.starts_with("Sorry, no product matches (size US 10, black, in stock)"), "{}", en.answer);
    }

    #[test]
    fn words_the_catalogue_does_not_have_are_no_search_unless_asked_if_sold() {
        let shop = shelf();
        assert!(search(&shop, Lang::En, "which tennis rackets do you have?", None, None).is_none());
        let sold = search(&shop, Lang::En, "do you sell tennis rackets?", None, None).unwrap();
        assert!(!sold.answered);
        assert_eq!(sold.answer, "Sorry, we do not carry that. What we sell: shoes, appliances, apparel.");
        let zh = search(&shop, Lang::Zh, "你们卖不卖手机", None, None).unwrap();
        assert!(zh.answer.starts_with("抱歉，我们目前没有销售这类商品"), "{}", zh.answer);
    }

    #[test]
    fn a_colour_nothing_comes_in_is_answered_with_the_colours_there_are() {
        let out = search(&shelf(), Lang::En, "do you have kettles in black?", None, Some("black")).unwrap();
        assert!(out.answer.contains("Kettle ¥299.00 (colours: white)"), "{}", out.answer);
    }

    #[test]
    fn a_used_appliance_or_a_broken_seal_has_no_no_reason_return() {
        let kettle = product("HK-1", "Kettle", "电水壶", Category::Appliances, 299, &[], &["white"], &[]);
        let socks = product("HA-S", "Socks", "袜子", Category::Apparel, 59, &["M"], &["white"], &[SEALED_TAG]);
        let tee = product("HA-T", "Tee", "T恤", Category::Apparel, 99, &["M"], &["grey"], &[]);
        let used = Condition { used: true, opened: true };
        let opened = Condition { used: false, opened: true };
        assert!(no_reason_rule(&kettle, used, Lang::Zh).unwrap_err().contains("已使用"));
        assert_eq!(no_reason_rule(&kettle, opened, Lang::En), Ok(None));
        let unsaid = no_reason_rule(&kettle, Condition::default(), Lang::En).unwrap().unwrap();
        assert!(unsaid.contains("opened but not used"), "{unsaid}");
        assert!(no_reason_rule(&socks, opened, Lang::En).unwrap_err().contains("seal is broken"));
        assert!(no_reason_rule(&socks, Condition::default(), Lang::En).unwrap().unwrap().contains("sealed"));
        assert_eq!(no_reason_rule(&tee, Condition::default(), Lang::En), Ok(None));
        assert!(no_reason_rule(&tee, used, Lang::En).is_err());
    }

    #[test]
    fn a_backend_that_is_down_is_said_so() {
        let shop = Shelf { down: true, ..shelf() };
        let out = search(&shop, Lang::En, "which running shoes do you have", None, None).unwrap();
        assert!(!out.answered && !out.call.ok);
        assert!(out.answer.contains("not reachable"));
    }
}
