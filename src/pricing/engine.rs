//! The calculation itself, in the order checkout works it out.

use super::explain::{yuan, yuan_plain};
use super::{CartLine, Choice, Context, PricingError, Quote, Step, StepKind};
use crate::domain::commerce::{Coupon, CouponKind, Promotion, PromotionRule};

const STANDARD_SHIPPING_CENTS: i64 = 1000;
const STANDARD_FREE_FROM_CENTS: i64 = 9900;
const REMOTE_SHIPPING_CENTS: i64 = 2500;
const REMOTE_FREE_FROM_CENTS: i64 = 29900;
/// SF next-day; never free.
const EXPRESS_UPGRADE_CENTS: i64 = 1500;
const POINTS_STEP: i64 = 100;
/// Points pay at most a fifth (20%) of the payable amount.
const POINTS_SHARE_DIVISOR: i64 = 5;

/// Prices the shopper's own choice; an unusable coupon or points amount is an error whose
/// message says why.
pub fn quote(lines: &[CartLine], ctx: &Context, choice: &Choice) -> Result<Quote, PricingError> {
    let goods = Goods::price(lines, ctx)?;
    let coupon = match choice.coupon.as_deref() {
        Some(code) => Some(usable_coupon(code, ctx)?),
        None => None,
    };
    let priced = goods.finish(coupon, ctx)?;
    priced.check_points(choice.points)?;
    Ok(priced.into_quote(choice.points))
}

/// The cheapest choice of the shopper's usable coupons and points. Ties go to fewer points,
/// then to no coupon (kept for a later order), then to the coupon listed first.
pub fn best_quote(lines: &[CartLine], ctx: &Context) -> Result<Quote, PricingError> {
    let goods = Goods::price(lines, ctx)?;
    let mut best = goods.finish(None, ctx)?.into_quote_with_max_points();
    let with_coupons = ctx
        .coupons
        .iter()
        .filter(|coupon| check_coupon(coupon, ctx).is_ok())
        .filter_map(|coupon| goods.finish(Some(coupon), ctx).ok());
    for priced in with_coupons {
        let candidate = priced.into_quote_with_max_points();
        if (candidate.total_cents, candidate.points_used) < (best.total_cents, best.points_used) {
            best = candidate;
        }
    }
    Ok(best)
}

/// The cart after steps 1-2.
struct Goods {
    steps: Vec<Step>,
    subtotal: i64,
    /// Non-final-sale amount left: what coupon thresholds are judged on and coupons come off.
    coupon_base: i64,
    /// Everything left.
    left: i64,
}

/// The cart after steps 1-5, before points.
struct Priced {
    steps: Vec<Step>,
    subtotal: i64,
    payable: i64,
    shipping: i64,
    points_balance: i64,
    /// The most points allowed by both the 20% limit and the balance.
    points_max: i64,
    coupon: Option<String>,
}

impl Goods {
    fn price(lines: &[CartLine], ctx: &Context) -> Result<Goods, PricingError> {
        validate(lines)?;
        let running: Vec<&Promotion> = ctx.promotions.iter().filter(|p| p.runs_on(ctx.today)).collect();
        let mut steps = Vec::new();
        let mut subtotal = 0i64;
        // What is left of each line after its category discount.
        let mut left_by_line = Vec::with_capacity(lines.len());
        for line in lines {
            let amount = line.unit_price_cents.checked_mul(line.quantity).ok_or(PricingError::TooLarge)?;
            subtotal = subtotal.checked_add(amount).ok_or(PricingError::TooLarge)?;
            let off = match best_category_discount(line, &running) {
                Some((promotion, unit_off)) if unit_off > 0 => {
                    // Item by item: each unit's discount is rounded, then multiplied.
                    let off = unit_off * line.quantity;
                    steps.push(Step {
                        kind: StepKind::Category,
                        label_en: format!("{} ({} × {})", promotion.name_en, line.sku, line.quantity),
                        label_zh: format!("{}（{} × {}）", promotion.name_zh, line.sku, line.quantity),
                        amount_cents: -off,
                    });
                    off
                }
                _ => 0,
            };
            left_by_line.push(amount - off);
        }
        let left: i64 = left_by_line.iter().sum();
        let non_final_sale: i64 =
            lines.iter().zip(&left_by_line).filter(|(line, _)| !line.final_sale).map(|(_, left)| left).sum();

        let threshold = running
            .iter()
            .filter_map(|promotion| threshold_discount(promotion, lines, &left_by_line))
            .max_by_key(|threshold| threshold.off);
        let threshold_off = threshold.as_ref().map_or(0, |t| t.off);
        if let Some(threshold) = threshold.filter(|t| t.off > 0) {
            steps.push(threshold.step());
        }
        Ok(Goods { steps, subtotal, coupon_base: (non_final_sale - threshold_off).max(0), left: left - threshold_off })
    }

    /// Steps 3-5: the coupon (its threshold checked here), the member discount, shipping.
    fn finish(&self, coupon: Option<&Coupon>, ctx: &Context) -> Result<Priced, PricingError> {
        let mut steps = self.steps.clone();
        let mut left = self.left;
        if let Some(coupon) = coupon {
            if self.coupon_base < coupon.threshold_cents {
                return Err(PricingError::CouponThresholdNotMet {
                    code: coupon.code.clone(),
                    threshold_cents: coupon.threshold_cents,
                    eligible_cents: self.coupon_base,
                });
            }
            let off = coupon.amount_cents.clamp(0, self.coupon_base);
            steps.push(coupon_step(coupon, off));
            left -= off;
        }

        let member = ctx
            .promotions
            .iter()
            .filter(|p| p.runs_on(ctx.today))
            .filter_map(|promotion| match promotion.rule {
                PromotionRule::Member { tier, percent } if Some(tier) == ctx.tier => Some((promotion, percent)),
                _ => None,
            })
            .max_by_key(|(_, percent)| *percent);
        if let Some((promotion, percent)) = member {
            let off = percent_of(left, percent);
            if off > 0 {
                steps.push(Step {
                    kind: StepKind::Member,
                    label_en: format!("{} on {}", promotion.name_en, yuan(left)),
                    label_zh: format!("{}（{}）", promotion.name_zh, yuan(left)),
                    amount_cents: -off,
                });
                left -= off;
            }
        }

        let payable = left;
        let shipping = shipping_steps(payable, ctx);
        let shipping_cents = shipping.iter().map(|step| step.amount_cents).sum();
        steps.extend(shipping);
        let points_max = ctx.points_balance.min(payable / POINTS_SHARE_DIVISOR).max(0) / POINTS_STEP * POINTS_STEP;
        Ok(Priced {
            steps,
            subtotal: self.subtotal,
            payable,
            shipping: shipping_cents,
            points_balance: ctx.points_balance,
            points_max,
            coupon: coupon.map(|c| c.code.clone()),
        })
    }
}

impl Priced {
    /// Step 6's rules: hundreds, at most 20% of the payable amount, at most the balance.
    fn check_points(&self, points: i64) -> Result<(), PricingError> {
        if points < 0 {
            return Err(PricingError::PointsNegative { points });
        }
        if points % POINTS_STEP != 0 {
            return Err(PricingError::PointsNotHundreds { points });
        }
        let limit = self.payable / POINTS_SHARE_DIVISOR / POINTS_STEP * POINTS_STEP;
        if points > limit {
            return Err(PricingError::PointsOverLimit { points, limit });
        }
        if points > self.points_balance {
            return Err(PricingError::PointsOverBalance { points, balance: self.points_balance });
        }
        Ok(())
    }

    fn into_quote_with_max_points(self) -> Quote {
        let points = self.points_max;
        self.into_quote(points)
    }

    /// `points` must have passed [`Priced::check_points`].
    fn into_quote(self, points: i64) -> Quote {
        let mut steps = self.steps;
        if points > 0 {
            steps.push(Step {
                kind: StepKind::Points,
                label_en: format!("{points} points"),
                label_zh: format!("积分抵扣（{points} 积分）"),
                amount_cents: -points,
            });
        }
        Quote {
            steps,
            subtotal_cents: self.subtotal,
            discount_cents: self.subtotal - self.payable,
            payable_cents: self.payable,
            shipping_cents: self.shipping,
            points_used: points,
            points_max: self.points_max,
            total_cents: self.payable + self.shipping - points,
            coupon: self.coupon,
        }
    }
}

fn validate(lines: &[CartLine]) -> Result<(), PricingError> {
    if lines.is_empty() {
        return Err(PricingError::EmptyCart);
    }
    for line in lines {
        if line.quantity < 1 {
            return Err(PricingError::BadQuantity { sku: line.sku.clone(), quantity: line.quantity });
        }
        if line.unit_price_cents < 0 {
            return Err(PricingError::NegativePrice { sku: line.sku.clone(), unit_price_cents: line.unit_price_cents });
        }
    }
    Ok(())
}

/// The largest category discount on one unit of `line`, if any promotion covers it.
fn best_category_discount<'p>(line: &CartLine, running: &[&'p Promotion]) -> Option<(&'p Promotion, i64)> {
    running
        .iter()
        .filter_map(|promotion| match &promotion.rule {
            PromotionRule::Category { category, percent, excluded_skus, excludes_final_sale }
                if *category == line.category
                    && !(line.final_sale && *excludes_final_sale)
                    && !excluded_skus.iter().any(|sku| sku.eq_ignore_ascii_case(&line.sku)) =>
            {
                Some((*promotion, percent_of(line.unit_price_cents, *percent)))
            }
            _ => None,
        })
        .max_by_key(|(_, unit_off)| *unit_off)
}

struct ThresholdDiscount<'p> {
    promotion: &'p Promotion,
    base: i64,
    every: i64,
    times: i64,
    /// Before the cap.
    uncapped: i64,
    off: i64,
}

impl ThresholdDiscount<'_> {
    fn step(&self) -> Step {
        let (cap_en, cap_zh) = if self.off < self.uncapped {
            (format!(", capped at {}", yuan(self.off)), format!("，封顶 {}", yuan(self.off)))
        } else {
            (String::new(), String::new())
        };
        Step {
            kind: StepKind::Threshold,
            label_en: format!(
                "{} ({} full {} in {}{cap_en})",
                self.promotion.name_en,
                self.times,
                yuan(self.every),
                yuan(self.base)
            ),
            label_zh: format!(
                "{}（{} 含 {} 个 {}{cap_zh}）",
                self.promotion.name_zh,
                yuan(self.base),
                self.times,
                yuan(self.every)
            ),
            amount_cents: -self.off,
        }
    }
}

/// `off` for every full `every` of the amount left on the lines the promotion counts.
fn threshold_discount<'p>(
    promotion: &'p Promotion,
    lines: &[CartLine],
    left_by_line: &[i64],
) -> Option<ThresholdDiscount<'p>> {
    let PromotionRule::Threshold { every_cents, off_cents, cap_cents, excludes_final_sale } = promotion.rule else {
        return None;
    };
    if every_cents <= 0 || off_cents <= 0 {
        return None;
    }
    let base: i64 = lines
        .iter()
        .zip(left_by_line)
        .filter(|(line, _)| !(line.final_sale && excludes_final_sale))
        .map(|(_, left)| left)
        .sum();
    let times = base / every_cents;
    let uncapped = times.saturating_mul(off_cents);
    let off = cap_cents.map_or(uncapped, |cap| uncapped.min(cap.max(0))).min(base);
    Some(ThresholdDiscount { promotion, base, every: every_cents, times, uncapped, off })
}

/// The coupon with `code` from the context, if this shopper may use it today.
fn usable_coupon<'c>(code: &str, ctx: &'c Context) -> Result<&'c Coupon, PricingError> {
    let code = code.trim();
    let coupon = ctx
        .coupons
        .iter()
        .find(|coupon| coupon.code.eq_ignore_ascii_case(code))
        .ok_or_else(|| PricingError::UnknownCoupon { code: code.to_uppercase() })?;
    check_coupon(coupon, ctx)?;
    Ok(coupon)
}

/// Everything about a coupon but its threshold, which depends on the cart.
fn check_coupon(coupon: &Coupon, ctx: &Context) -> Result<(), PricingError> {
    let code = || coupon.code.clone();
    if coupon.customer_id.as_ref().is_some_and(|owner| Some(owner) != ctx.customer_id.as_ref()) {
        return Err(PricingError::CouponNotYours { code: code() });
    }
    if coupon.used {
        return Err(PricingError::CouponUsed { code: code() });
    }
    if ctx.today > coupon.expires {
        return Err(PricingError::CouponExpired { code: code(), expired: coupon.expires });
    }
    if coupon.kind == CouponKind::NewCustomer && !ctx.first_order {
        return Err(PricingError::NotFirstOrder { code: code() });
    }
    Ok(())
}

fn coupon_step(coupon: &Coupon, off: i64) -> Step {
    let (name_en, name_zh) = super::explain::coupon_kind_names(coupon.kind);
    Step {
        kind: StepKind::Coupon,
        label_en: format!(
            "{name_en} {} ({} off {})",
            coupon.code,
            yuan(coupon.amount_cents),
            yuan(coupon.threshold_cents)
        ),
        label_zh: format!(
            "{name_zh} {}（满{}减{}）",
            coupon.code,
            yuan_plain(coupon.threshold_cents),
            yuan_plain(coupon.amount_cents)
        ),
        amount_cents: -off,
    }
}

/// The fee by region (free from a payable amount) and the express upgrade on top.
fn shipping_steps(payable: i64, ctx: &Context) -> Vec<Step> {
    let (fee, free_from, region_en, region_zh) = if ctx.remote_region {
        (REMOTE_SHIPPING_CENTS, REMOTE_FREE_FROM_CENTS, "remote region", "偏远地区")
    } else {
        (STANDARD_SHIPPING_CENTS, STANDARD_FREE_FROM_CENTS, "standard", "普通地区")
    };
    let mut steps = vec![Step {
        kind: StepKind::Shipping,
        label_en: format!("Shipping ({region_en}, free from {})", yuan(free_from)),
        label_zh: format!("运费（{region_zh}，满{}元包邮）", yuan_plain(free_from)),
        amount_cents: if payable >= free_from { 0 } else { fee },
    }];
    if ctx.express {
        steps.push(Step {
            kind: StepKind::Express,
            label_en: "Express upgrade (SF next-day)".into(),
            label_zh: "顺丰次日达加价".into(),
            amount_cents: EXPRESS_UPGRADE_CENTS,
        });
    }
    steps
}

/// `percent`% of a non-negative `amount`, rounded half up to the cent; never more than `amount`.
fn percent_of(amount: i64, percent: i64) -> i64 {
    let percent = i128::from(percent.clamp(0, 100));
    let off = (i128::from(amount.max(0)) * percent + 50) / 100;
    i64::try_from(off).unwrap_or(0).min(amount.max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Lang;
    use crate::domain::commerce::{Category, Tier};
    use crate::pricing::fixtures::{coupon, day, promotion};
    use proptest::prelude::*;

    /// The seed's promotions: 50 off every 300 capped at 300, apparel 15% in November except
    /// the Tempo Lite, Gold 3%, Platinum 5%.
    fn shop_promotions() -> Vec<Promotion> {
        vec![
            promotion(
                "threshold",
                PromotionRule::Threshold {
                    every_cents: 30000,
                    off_cents: 5000,
                    cap_cents: Some(30000),
                    excludes_final_sale: true,
                },
                "2026-01-01",
                "2026-12-31",
            ),
            promotion(
                "apparel",
                PromotionRule::Category {
                    category: Category::Apparel,
                    percent: 15,
                    excluded_skus: vec!["HS-RUN-301".into()],
                    excludes_final_sale: true,
                },
                "2026-11-01",
                "2026-11-30",
            ),
            promotion("gold", PromotionRule::Member { tier: Tier::Gold, percent: 3 }, "2026-01-01", "2026-12-31"),
            promotion(
                "platinum",
                PromotionRule::Member { tier: Tier::Platinum, percent: 5 },
                "2026-01-01",
                "2026-12-31",
            ),
        ]
    }

    fn shop_coupons() -> Vec<Coupon> {
        vec![
            coupon("HALDEN60", 50000, 6000, None, "2026-12-31", false),
            coupon("HALDEN150", 100000, 15000, None, "2026-12-31", false),
            coupon("NEW20", 9900, 2000, None, "2026-12-31", false),
            coupon("MOON80", 80000, 8000, None, "2026-10-08", false),
            coupon("HD60-C1005", 50000, 6000, Some("C1005"), "2026-12-31", true),
            coupon("HD150-C1008", 100000, 15000, Some("C1008"), "2026-12-31", false),
            coupon("BDAY60-C1001", 50000, 6000, Some("C1001"), "2026-11-30", false),
        ]
    }

    fn ctx(today: &str, tier: Option<Tier>) -> Context {
        Context {
            today: day(today),
            customer_id: Some("C1001".into()),
            tier,
            points_balance: 0,
            first_order: false,
            coupons: shop_coupons(),
            promotions: shop_promotions(),
            remote_region: false,
            express: false,
        }
    }

    fn line(sku: &str, category: Category, yuan: i64, quantity: i64) -> CartLine {
        CartLine { sku: sku.into(), category, unit_price_cents: yuan * 100, quantity, final_sale: false }
    }

    fn tee(quantity: i64) -> CartLine {
        line("HA-TEE-110", Category::Apparel, 149, quantity)
    }

    fn glide(quantity: i64) -> CartLine {
        line("HS-RUN-101", Category::Shoes, 699, quantity)
    }

    fn choose(coupon: Option<&str>, points: i64) -> Choice {
        Choice { coupon: coupon.map(Into::into), points }
    }

    #[test]
    fn two_tees_and_a_shoe_with_halden60_for_a_gold_member_in_a_remote_region() {
        // Goods 2 x 149.00 + 699.00 = 997.00.
        // 1. Apparel 15%: 149.00 x 15% = 22.35 a tee, 44.70 off -> 253.30 + 699.00 = 952.30.
        // 2. 952.30 holds 3 full 300.00: 150.00 off -> 802.30.
        // 3. HALDEN60 (500.00 threshold met by 802.30): 60.00 off -> 742.30.
        // 4. Gold 3%: 22.269 -> 22.27 off -> 720.03 payable; discounts 276.97.
        // 5. Remote region, free from 299.00: 0. Express +15.00. Total 735.03.
        let mut c = ctx("2026-11-20", Some(Tier::Gold));
        c.remote_region = true;
        c.express = true;
        let q = quote(&[tee(2), glide(1)], &c, &choose(Some("HALDEN60"), 0)).unwrap();
        let amounts: Vec<(StepKind, i64)> = q.steps.iter().map(|s| (s.kind, s.amount_cents)).collect();
        assert_eq!(
            amounts,
            vec![
                (StepKind::Category, -4470),
                (StepKind::Threshold, -15000),
                (StepKind::Coupon, -6000),
                (StepKind::Member, -2227),
                (StepKind::Shipping, 0),
                (StepKind::Express, 1500),
            ]
        );
        assert_eq!((q.subtotal_cents, q.discount_cents, q.payable_cents), (99700, 27697, 72003));
        assert_eq!((q.shipping_cents, q.total_cents, q.coupon.as_deref()), (1500, 73503, Some("HALDEN60")));
    }

    #[test]
    fn full_stack_example_of_the_promotions_policy() {
        // Policy example 1: 2 x 699.00 + 2 x 149.00 = 1,696.00; tees 126.65 each -> 1,651.30;
        // 5 x 50.00 -> 1,401.30; 满1000减150 -> 1,251.30; Gold 37.539 -> 37.54 -> 1,213.76;
        // points limit 242.75 -> 24,200, balance 8,650 -> 8,600 used; total 1,127.76.
        let mut c = ctx("2026-11-20", Some(Tier::Gold));
        c.points_balance = 8650;
        let q = quote(&[glide(2), tee(2)], &c, &choose(Some("HALDEN150"), 8600)).unwrap();
        assert_eq!((q.discount_cents, q.payable_cents, q.shipping_cents), (48224, 121376, 0));
        assert_eq!((q.points_used, q.points_max, q.total_cents), (8600, 8600, 112776));
        assert_eq!(best_quote(&[glide(2), tee(2)], &c).unwrap(), q);

        let en = q.explain(Lang::En);
        assert!(en.starts_with("Goods: ¥1696.00\napparel en (HA-TEE-110 × 2): -¥44.70\n"), "{en}");
        assert!(en.contains("Coupon HALDEN150 (¥150.00 off ¥1000.00): -¥150.00"), "{en}");
        assert!(en.contains(": -¥37.54\nPayable after discounts: ¥1213.76\n"), "{en}");
        assert!(en.contains("Shipping (standard, free from ¥99.00): free"), "{en}");
        assert!(en.ends_with("8600 points: -¥86.00\nTotal: ¥1127.76"), "{en}");
        let zh = q.explain(Lang::Zh);
        assert!(zh.contains("店铺券 HALDEN150（满1000减150）：-¥150.00"), "{zh}");
        assert!(zh.contains("优惠后应付：¥1213.76"), "{zh}");
        assert!(zh.ends_with("实付：¥1127.76"), "{zh}");
    }

    #[test]
    fn threshold_cap_and_tempo_lite_exclusion_for_a_platinum_member() {
        // Policy example 3 with shoes 10% as well: Tempo Lite stays 1,299.00, Ridge Trail
        // 809.10, jacket 339.15 -> 2,447.25; 8 x 50.00 capped at 300.00 -> 2,147.25;
        // 满1000减150 -> 1,997.25; Platinum 99.8625 -> 99.86 -> 1,897.39.
        let mut c = ctx("2026-11-20", Some(Tier::Platinum));
        c.promotions.push(promotion(
            "shoes",
            PromotionRule::Category {
                category: Category::Shoes,
                percent: 10,
                excluded_skus: vec!["HS-RUN-301".into()],
                excludes_final_sale: true,
            },
            "2026-11-01",
            "2026-11-30",
        ));
        let cart = [
            line("HS-RUN-301", Category::Shoes, 1299, 1),
            line("HS-TRL-201", Category::Shoes, 899, 1),
            line("HA-JKT-130", Category::Apparel, 399, 1),
        ];
        let q = quote(&cart, &c, &choose(Some("HALDEN150"), 0)).unwrap();
        assert_eq!(q.payable_cents, 189739);
        let category: Vec<i64> =
            q.steps.iter().filter(|s| s.kind == StepKind::Category).map(|s| s.amount_cents).collect();
        assert_eq!(category, vec![-8990, -5985]);
        let threshold = q.steps.iter().find(|s| s.kind == StepKind::Threshold).unwrap();
        assert_eq!(threshold.amount_cents, -30000);
        assert!(threshold.label_en.contains("capped at ¥300.00"), "{}", threshold.label_en);
    }

    #[test]
    fn the_coupon_that_saves_most_is_chosen_and_only_one_is_used() {
        // Policy example 4a: 1,299.00 - 4 x 50.00 = 1,099.00; 满1000减150 -> 949.00.
        let c = ctx("2026-10-15", None);
        let q = best_quote(&[line("HS-RUN-301", Category::Shoes, 1299, 1)], &c).unwrap();
        assert_eq!((q.coupon.as_deref(), q.total_cents, q.discount_cents), (Some("HALDEN150"), 94900, 35000));
        assert_eq!(q.steps.iter().filter(|s| s.kind == StepKind::Coupon).count(), 1);
    }

    #[test]
    fn new_customer_coupon_is_for_a_first_order_and_loses_to_a_bigger_store_coupon() {
        // Policy example 4b: 899.00 - 100.00 = 799.00; NEW20 -> 779.00, HALDEN60 -> 739.00.
        let mut c = ctx("2026-10-15", None);
        c.first_order = true;
        let cart = [line("HS-TRL-201", Category::Shoes, 899, 1)];
        assert_eq!(quote(&cart, &c, &choose(Some("NEW20"), 0)).unwrap().total_cents, 77900);
        let best = best_quote(&cart, &c).unwrap();
        assert_eq!((best.coupon.as_deref(), best.total_cents), (Some("HALDEN60"), 73900));

        c.first_order = false;
        let refused = quote(&cart, &c, &choose(Some("NEW20"), 0)).unwrap_err();
        assert_eq!(refused, PricingError::NotFirstOrder { code: "NEW20".into() });
        assert!(refused.message(Lang::Zh).contains("仅限首单"));
    }

    #[test]
    fn final_sale_items_count_for_no_coupon_or_threshold_but_take_the_member_discount() {
        // Policy example 4c: jacket 399.00 - 50.00 = 349.00 eligible, below 500.00 for
        // HALDEN60; plus the 129.00 final-sale item at full price = 478.00.
        let clearance = CartLine { final_sale: true, ..line("HA-TEE-091", Category::Apparel, 129, 1) };
        let cart = [line("HA-JKT-130", Category::Apparel, 399, 1), clearance];
        let c = ctx("2026-10-15", None);
        assert_eq!(
            quote(&cart, &c, &choose(Some("HALDEN60"), 0)).unwrap_err(),
            PricingError::CouponThresholdNotMet {
                code: "HALDEN60".into(),
                threshold_cents: 50000,
                eligible_cents: 34900
            }
        );
        assert_eq!(quote(&cart, &c, &Choice::default()).unwrap().total_cents, 47800);
        // Gold: 478.00 x 3% = 14.34 off, the final-sale item included -> 463.66.
        let gold = ctx("2026-10-15", Some(Tier::Gold));
        assert_eq!(quote(&cart, &gold, &Choice::default()).unwrap().total_cents, 46366);
        // November: only the jacket gets 15% (59.85 off) -> 339.15 - 50.00 + 129.00 = 418.15.
        let november = ctx("2026-11-20", None);
        assert_eq!(quote(&cart, &november, &Choice::default()).unwrap().total_cents, 41815);
    }

    #[test]
    fn shipping_is_judged_after_discounts_and_by_region() {
        // Shipping policy: 2 x 59.00 = 118.00 - NEW20 = 98.00 < 99.00 -> 10.00 shipping.
        let mut c = ctx("2026-10-15", None);
        c.first_order = true;
        let socks = [line("HA-SCK-140", Category::Apparel, 59, 2)];
        let q = quote(&socks, &c, &choose(Some("new20"), 0)).unwrap();
        assert_eq!((q.payable_cents, q.shipping_cents, q.total_cents), (9800, 1000, 10800));
        // One tee to Hainan: below 299.00 -> 25.00; a jacket (349.00 after 50.00 off) ships free.
        c.remote_region = true;
        assert_eq!(quote(&[tee(1)], &c, &Choice::default()).unwrap().shipping_cents, 2500);
        let jacket = [line("HA-JKT-130", Category::Apparel, 399, 1)];
        assert_eq!(quote(&jacket, &c, &Choice::default()).unwrap().shipping_cents, 0);
    }

    #[test]
    fn member_discount_rounds_half_up() {
        // 1.50 x 3% = 0.045 -> 0.05 off.
        let c = ctx("2026-10-15", Some(Tier::Gold));
        let cheap = [CartLine { unit_price_cents: 150, ..line("X", Category::Consumables, 0, 1) }];
        assert_eq!(quote(&cheap, &c, &Choice::default()).unwrap().payable_cents, 145);
    }

    #[test]
    fn points_are_hundreds_within_twenty_percent_and_the_balance() {
        // One tee, 149.00: 20% is 29.80, so at most 2,900 points.
        let mut c = ctx("2026-10-15", None);
        c.points_balance = 5000;
        let cart = [tee(1)];
        let q = quote(&cart, &c, &choose(None, 2900)).unwrap();
        assert_eq!((q.points_max, q.total_cents), (2900, 12000));
        assert_eq!(
            quote(&cart, &c, &choose(None, 3000)).unwrap_err(),
            PricingError::PointsOverLimit { points: 3000, limit: 2900 }
        );
        assert_eq!(
            quote(&cart, &c, &choose(None, 2950)).unwrap_err(),
            PricingError::PointsNotHundreds { points: 2950 }
        );
        assert_eq!(quote(&cart, &c, &choose(None, -100)).unwrap_err(), PricingError::PointsNegative { points: -100 });
        c.points_balance = 1050;
        assert_eq!(
            quote(&cart, &c, &choose(None, 2000)).unwrap_err(),
            PricingError::PointsOverBalance { points: 2000, balance: 1050 }
        );
        assert_eq!(best_quote(&cart, &c).unwrap().points_used, 1000);
    }

    #[test]
    fn coupons_must_be_current_unused_and_the_shoppers_own() {
        let cart = [glide(2)];
        let mut c = ctx("2026-11-20", None);
        let refused = |c: &Context, code: &str| quote(&cart, c, &choose(Some(code), 0)).unwrap_err();
        assert_eq!(
            refused(&c, "MOON80"),
            PricingError::CouponExpired { code: "MOON80".into(), expired: day("2026-10-08") }
        );
        assert_eq!(refused(&c, "HD150-C1008"), PricingError::CouponNotYours { code: "HD150-C1008".into() });
        assert_eq!(refused(&c, "NOPE"), PricingError::UnknownCoupon { code: "NOPE".into() });
        c.customer_id = Some("C1005".into());
        assert_eq!(refused(&c, "HD60-C1005"), PricingError::CouponUsed { code: "HD60-C1005".into() });
        c.customer_id = None;
        assert_eq!(refused(&c, "BDAY60-C1001"), PricingError::CouponNotYours { code: "BDAY60-C1001".into() });
        // The expiry day itself still counts.
        c.today = day("2026-10-08");
        assert!(quote(&cart, &c, &choose(Some("MOON80"), 0)).is_ok());
    }

    #[test]
    fn bad_lines_are_refused() {
        let c = ctx("2026-10-15", None);
        let none = Choice::default();
        assert_eq!(quote(&[], &c, &none).unwrap_err(), PricingError::EmptyCart);
        assert_eq!(
            quote(&[glide(0)], &c, &none).unwrap_err(),
            PricingError::BadQuantity { sku: "HS-RUN-101".into(), quantity: 0 }
        );
        let negative = CartLine { unit_price_cents: -1, ..glide(1) };
        assert_eq!(
            quote(&[negative], &c, &none).unwrap_err(),
            PricingError::NegativePrice { sku: "HS-RUN-101".into(), unit_price_cents: -1 }
        );
        let huge = CartLine { unit_price_cents: i64::MAX, ..glide(2) };
        assert_eq!(quote(&[huge], &c, &none).unwrap_err(), PricingError::TooLarge);
    }

    fn arb_line() -> impl Strategy<Value = CartLine> {
        let skus = prop::sample::select(vec!["HS-RUN-101", "HS-RUN-301", "HA-TEE-110", "HH-KT100", "X-1"]);
        let categories =
            prop::sample::select(vec![Category::Shoes, Category::Apparel, Category::Appliances, Category::Consumables]);
        (skus, categories, 0i64..300_000, 1i64..4, any::<bool>()).prop_map(
            |(sku, category, price, quantity, final_sale)| CartLine {
                sku: sku.into(),
                category,
                unit_price_cents: price,
                quantity,
                final_sale,
            },
        )
    }

    fn arb_context() -> impl Strategy<Value = Context> {
        let days = prop::sample::select(vec!["2026-10-08", "2026-10-15", "2026-11-20", "2026-12-05", "2027-01-10"]);
        let tiers = prop::sample::select(vec![None, Some(Tier::Member), Some(Tier::Gold), Some(Tier::Platinum)]);
        let customers = prop::sample::select(vec![None, Some("C1001"), Some("C1008")]);
        (days, tiers, customers, 0i64..6000, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(today, tier, customer, points_balance, first_order, remote_region, express)| Context {
                today: day(today),
                customer_id: customer.map(Into::into),
                tier,
                points_balance,
                first_order,
                coupons: shop_coupons(),
                promotions: shop_promotions(),
                remote_region,
                express,
            },
        )
    }

    /// Promotions and coupons beyond anything the shop runs: percentages over 100, discounts
    /// larger than their thresholds.
    fn arb_wild_context() -> impl Strategy<Value = Context> {
        let threshold = (1i64..50_000, 0i64..100_000, prop::option::of(0i64..200_000)).prop_map(|(every, off, cap)| {
            PromotionRule::Threshold { every_cents: every, off_cents: off, cap_cents: cap, excludes_final_sale: true }
        });
        let category = (0i64..150, any::<bool>()).prop_map(|(percent, excludes_final_sale)| PromotionRule::Category {
            category: Category::Apparel,
            percent,
            excluded_skus: vec![],
            excludes_final_sale,
        });
        let member = (0i64..150).prop_map(|percent| PromotionRule::Member { tier: Tier::Gold, percent });
        let coupon_amounts = prop::collection::vec((0i64..20_000, 0i64..200_000), 0..3);
        (arb_context(), threshold, category, member, coupon_amounts).prop_map(
            |(mut c, threshold, category, member, coupon_amounts)| {
                c.promotions = [threshold, category, member]
                    .into_iter()
                    .map(|rule| promotion("wild", rule, "2026-01-01", "2027-12-31"))
                    .collect();
                c.coupons = coupon_amounts
                    .into_iter()
                    .enumerate()
                    .map(|(i, (threshold, amount))| {
                        coupon(&format!("W{i}"), threshold, amount, None, "2027-12-31", false)
                    })
                    .collect();
                c.tier = Some(Tier::Gold);
                c
            },
        )
    }

    proptest! {
        #[test]
        fn discounts_never_exceed_the_goods_whatever_the_promotions(
            lines in prop::collection::vec(arb_line(), 1..5),
            c in arb_wild_context(),
        ) {
            let codes = std::iter::once(None).chain(c.coupons.iter().map(|coupon| Some(coupon.code.clone())));
            for code in codes {
                let Ok(q) = quote(&lines, &c, &Choice { coupon: code, points: 0 }) else { continue };
                prop_assert!(0 <= q.discount_cents && q.discount_cents <= q.subtotal_cents, "{:?}", q);
                prop_assert!(q.total_cents >= 0, "{:?}", q);
                let charges = [StepKind::Shipping, StepKind::Express];
                let discounts = q.steps.iter().filter(|s| !charges.contains(&s.kind));
                prop_assert!(discounts.clone().all(|s| s.amount_cents <= 0), "a discount that adds: {:?}", q);
            }
            let best = best_quote(&lines, &c).unwrap();
            prop_assert!(best.total_cents >= 0 && best.discount_cents <= best.subtotal_cents, "{:?}", best);
        }

        #[test]
        fn best_quote_beats_every_valid_choice(lines in prop::collection::vec(arb_line(), 1..5), c in arb_context()) {
            let best = best_quote(&lines, &c).unwrap();
            prop_assert_eq!(&quote(&lines, &c, &Choice { coupon: best.coupon.clone(), points: best.points_used }).unwrap(), &best);
            let codes = std::iter::once(None).chain(c.coupons.iter().map(|coupon| Some(coupon.code.clone())));
            for code in codes {
                for points in (0..=c.points_balance).step_by(100) {
                    let Ok(q) = quote(&lines, &c, &Choice { coupon: code.clone(), points }) else { continue };
                    prop_assert!(q.total_cents >= 0, "negative total {:?}", q);
                    prop_assert!(0 <= q.discount_cents && q.discount_cents <= q.subtotal_cents, "{:?}", q);
                    prop_assert_eq!(q.total_cents, q.subtotal_cents - q.discount_cents + q.shipping_cents - q.points_used);
                    prop_assert!(best.total_cents <= q.total_cents, "best {:?} loses to {:?}", best, q);
                }
            }
        }
    }
}
