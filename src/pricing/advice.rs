//! The price a shopper asked for, and what they could do better, kept apart: threshold,
//! category and member discounts apply by themselves at checkout, while coupons and points
//! are the shopper's to choose (promotions policy), so a quote never applies one unasked.

use super::explain::yuan;
use super::{CartLine, Choice, Context, PricingError, Quote, quote};
use crate::domain::Lang;

/// A quote of the shopper's own choice, with what was refused and why, and better options
/// left for them to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    /// The quote with what they chose, less any coupon or points that could not be used.
    pub quote: Quote,
    /// Why a coupon or points they asked for were left out (expired, threshold not met, ...).
    pub refused: Vec<PricingError>,
    /// A usable coupon that makes the total lower than `quote`, priced without points.
    pub better: Option<Quote>,
}

impl PricingError {
    fn is_about_coupon(&self) -> bool {
        use PricingError::*;
        matches!(
            self,
            UnknownCoupon { .. }
                | CouponExpired { .. }
                | CouponUsed { .. }
                | CouponNotYours { .. }
                | NotFirstOrder { .. }
                | CouponThresholdNotMet { .. }
        )
    }

    fn is_about_points(&self) -> bool {
        use PricingError::*;
        matches!(
            self,
            PointsNegative { .. } | PointsNotHundreds { .. } | PointsOverBalance { .. } | PointsOverLimit { .. }
        )
    }
}

/// Prices `choice`; a coupon or points amount that cannot be used is left out and reported,
/// never swapped for another coupon. Only a cart that cannot be priced at all is an error.
pub fn advise(lines: &[CartLine], ctx: &Context, choice: &Choice) -> Result<Advice, PricingError> {
    let mut choice = choice.clone();
    let mut refused = Vec::new();
    let asked = loop {
        match quote(lines, ctx, &choice) {
            Ok(q) => break q,
            Err(e) if e.is_about_coupon() && choice.coupon.is_some() => {
                choice.coupon = None;
                refused.push(e);
            }
            Err(e) if e.is_about_points() && choice.points != 0 => {
                choice.points = 0;
                refused.push(e);
            }
            Err(e) => return Err(e),
        }
    };
    let before_points = |q: &Quote| q.payable_cents + q.shipping_cents;
    let better = ctx
        .coupons
        .iter()
        .filter(|coupon| asked.coupon.as_deref() != Some(coupon.code.as_str()))
        .filter_map(|coupon| quote(lines, ctx, &Choice { coupon: Some(coupon.code.clone()), points: 0 }).ok())
        .filter(|q| before_points(q) < before_points(&asked))
        .min_by_key(before_points);
    Ok(Advice { quote: asked, refused, better })
}

impl Advice {
    /// The refusals, the quote line by line, then better options as separate lines.
    /// `offer_coupons` and `offer_points` are false when the shopper declined them.
    pub fn explain(&self, lang: Lang, offer_coupons: bool, offer_points: bool) -> String {
        let mut out: Vec<String> = self.refused.iter().map(|e| e.message(lang)).collect();
        out.push(self.quote.explain(lang));
        let zh = lang == Lang::Zh;
        if let Some(better) = self.better.as_ref().filter(|_| offer_coupons)
            && let Some(step) = better.steps.iter().find(|s| s.kind == super::StepKind::Coupon)
        {
            let label = if zh { &step.label_zh } else { &step.label_en };
            let total = yuan(better.total_cents);
            out.push(if zh {
                format!("另可选：使用{label}，实付 {total}（未自动使用，需要的话告诉我）。")
            } else {
                format!("Also possible: with {label} you would pay {total} (not applied; say if you want it).")
            });
        }
        let points = self.quote.points_max;
        if offer_points && self.quote.points_used == 0 && points > 0 {
            out.push(if zh {
                format!("本单最多还可用 {points} 积分抵扣 {}（以上未使用）。", yuan(points))
            } else {
                format!(
                    "You could also use up to {points} points (-{}) on this order; none are used above.",
                    yuan(points)
                )
            });
        }
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::commerce::{Category, PromotionRule, Tier};
    use crate::pricing::fixtures::{coupon, day, promotion};

    /// 50 off every 300 (capped at 300), Gold 3%; two public coupons and one expired own one.
    fn ctx() -> Context {
        let promotion = |id: &str, rule| promotion(id, rule, "2026-01-01", "2026-12-31");
        Context {
            today: day("2026-11-21"),
            customer_id: Some("C1".into()),
            tier: Some(Tier::Gold),
            points_balance: 5000,
            first_order: false,
            coupons: vec![
                coupon("SAVE60", 50000, 6000, None, "2026-12-31", false),
                coupon("SAVE150", 100000, 15000, None, "2026-12-31", false),
                coupon("HD60-C1", 50000, 6000, Some("C1"), "2026-09-30", false),
            ],
            promotions: vec![
                promotion(
                    "threshold",
                    PromotionRule::Threshold {
                        every_cents: 30000,
                        off_cents: 5000,
                        cap_cents: Some(30000),
                        excludes_final_sale: true,
                    },
                ),
                promotion("gold", PromotionRule::Member { tier: Tier::Gold, percent: 3 }),
            ],
            remote_region: false,
            express: false,
        }
    }

    fn shoe(quantity: i64) -> CartLine {
        CartLine { sku: "SHOE".into(), category: Category::Shoes, unit_price_cents: 69900, quantity, final_sale: false }
    }

    fn choose(coupon: Option<&str>, points: i64) -> Choice {
        Choice { coupon: coupon.map(Into::into), points }
    }

    #[test]
    fn nothing_asked_for_means_automatic_discounts_only_and_the_rest_offered() {
        // 699.00 - 100.00 = 599.00; Gold 3% 17.97 -> 581.03. SAVE60 would give 539.00 -> 522.83.
        let advice = advise(&[shoe(1)], &ctx(), &Choice::default()).unwrap();
        assert_eq!((advice.quote.coupon.as_deref(), advice.quote.points_used), (None, 0));
        assert_eq!(advice.quote.total_cents, 58103);
        assert_eq!(advice.better.as_ref().map(|q| (q.coupon.as_deref(), q.total_cents)), Some((Some("SAVE60"), 52283)));
        let en = advice.explain(Lang::En, true, true);
        assert!(en.contains("Total: ¥581.03"), "{en}");
        assert!(en.contains("with Coupon SAVE60") && en.contains("you would pay ¥522.83"), "{en}");
        assert!(en.contains("up to 5000 points"), "{en}");
        let declined = advice.explain(Lang::Zh, false, false);
        assert!(!declined.contains("SAVE60") && !declined.contains("积分"), "{declined}");
    }

    #[test]
    fn an_expired_coupon_is_refused_with_its_reason_and_not_replaced() {
        let advice = advise(&[shoe(1)], &ctx(), &choose(Some("hd60-c1"), 0)).unwrap();
        assert_eq!(
            advice.refused,
            vec![PricingError::CouponExpired { code: "HD60-C1".into(), expired: day("2026-09-30") }]
        );
        assert_eq!(advice.quote.coupon, None);
        let zh = advice.explain(Lang::Zh, true, true);
        assert!(zh.starts_with("优惠券 HD60-C1 已于 2026-09-30 过期。"), "{zh}");
        assert!(zh.contains("实付：¥581.03"), "{zh}");
    }

    #[test]
    fn a_coupon_below_its_threshold_is_refused_and_points_over_the_limit_too() {
        // 699.00 - 100.00 = 599.00 < 1000.00 for SAVE150; 20% of 581.03 allows 11,600 points, not 20,000.
        let advice = advise(&[shoe(1)], &ctx(), &choose(Some("SAVE150"), 20000)).unwrap();
        assert!(matches!(advice.refused[0], PricingError::CouponThresholdNotMet { eligible_cents: 59900, .. }));
        assert!(matches!(advice.refused[1], PricingError::PointsOverLimit { .. }));
        assert_eq!((advice.quote.total_cents, advice.quote.points_used), (58103, 0));
    }

    #[test]
    fn the_coupon_asked_for_is_used_and_a_better_one_only_mentioned() {
        // Two pairs: 1,398.00 - 200.00 = 1,198.00; SAVE60 -> 1,138.00, SAVE150 -> 1,048.00.
        let advice = advise(&[shoe(2)], &ctx(), &choose(Some("SAVE60"), 1000)).unwrap();
        assert_eq!((advice.quote.coupon.as_deref(), advice.quote.points_used), (Some("SAVE60"), 1000));
        assert_eq!(advice.better.as_ref().and_then(|q| q.coupon.as_deref()), Some("SAVE150"));
        assert!(advice.refused.is_empty());
    }

    #[test]
    fn a_cart_that_cannot_be_priced_is_still_an_error() {
        assert_eq!(advise(&[], &ctx(), &Choice::default()).unwrap_err(), PricingError::EmptyCart);
    }
}
