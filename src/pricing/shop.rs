//! The shop's calendar and delivery regions.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// China time: promotions and coupons run by its calendar days.
const SHOP_OFFSET_HOURS: i64 = 8;

/// Provinces with remote-region shipping, by the names an address may use for them.
const REMOTE_PROVINCES: [(&str, &str); 7] = [
    ("新疆", "xinjiang"),
    ("西藏", "tibet"),
    ("青海", "qinghai"),
    ("内蒙古", "inner mongolia"),
    ("甘肃", "gansu"),
    ("宁夏", "ningxia"),
    ("海南", "hainan"),
];

/// The shop's calendar day at instant `at`.
pub fn shop_day(at: DateTime<Utc>) -> NaiveDate {
    (at + TimeDelta::hours(SHOP_OFFSET_HOURS)).date_naive()
}

/// Whether `province` (e.g. "新疆维吾尔自治区", "Hainan") pays remote-region shipping.
pub fn is_remote_province(province: &str) -> bool {
    let province = province.trim().to_lowercase();
    REMOTE_PROVINCES.iter().any(|(zh, en)| province.starts_with(zh) || province.starts_with(en))
}

/// Whether `text` (a question, an address line) names a remote-region province anywhere.
pub fn names_remote_province(text: &str) -> bool {
    let text = text.to_lowercase();
    REMOTE_PROVINCES.iter().any(|(zh, en)| text.contains(zh) || text.contains(en))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shop_day_turns_at_midnight_china_time() {
        let before: DateTime<Utc> = "2026-11-30T15:59:59Z".parse().unwrap();
        let after: DateTime<Utc> = "2026-11-30T16:00:00Z".parse().unwrap();
        assert_eq!(shop_day(before), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(shop_day(after), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    }

    #[test]
    fn remote_provinces_by_chinese_or_english_name() {
        assert!(is_remote_province("新疆维吾尔自治区"));
        assert!(is_remote_province("内蒙古自治区"));
        assert!(is_remote_province("海南省"));
        assert!(is_remote_province("Inner Mongolia"));
        assert!(!is_remote_province("上海市"));
        assert!(!is_remote_province("广东省"));
        assert!(names_remote_province("What do I pay with shipping to Xinjiang?"));
        assert!(names_remote_province("寄到海南三亚多少钱"));
        assert!(!names_remote_province("寄到上海多少钱"));
    }
}
