//! A new delivery address typed in a message: "改到浙江省杭州市西湖区文三路100号",
//! "new address: 88 Nanjing Road, Huangpu District, Shanghai". The recipient's name and phone
//! stay those of the order unless the message gives a new mobile number.

use crate::domain::commerce::Address;

/// The municipalities, which are their own province and city.
const MUNICIPALITIES: [&str; 4] = ["北京市", "上海市", "天津市", "重庆市"];
const MUNICIPALITIES_EN: [(&str, &str); 4] =
    [("beijing", "北京市"), ("shanghai", "上海市"), ("tianjin", "天津市"), ("chongqing", "重庆市")];
const PROVINCES: [&str; 30] = [
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
];
const PROVINCE_SUFFIXES: [&str; 6] = ["省", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区"];
/// Words a street line contains (a bare place name is not an address).
const STREET_ZH: [&str; 10] = ["路", "街", "道", "号", "弄", "巷", "村", "苑", "小区", "大厦"];
const STREET_EN: [&str; 8] = ["road", "street", "avenue", "lane", "rd", "st", "ave", "alley"];

/// The address in `message`, or None when it does not state a complete one (province or
/// municipality, city, district and a street line). Name and phone are left empty unless a
/// mobile number is given: the caller keeps the order's.
pub fn parse_address(message: &str) -> Option<Address> {
    zh_address(message).or_else(|| en_address(message))
}

fn mobile(message: &str) -> String {
    crate::text::digit_runs(message).find(|run| run.len() == 11 && run.starts_with('1')).unwrap_or_default().to_string()
}

/// Splits `text` after the first occurrence of any of `ends` (the suffix stays with the part).
fn take_until<'a>(text: &'a str, ends: &[&str]) -> Option<(&'a str, &'a str)> {
    ends.iter().filter_map(|end| text.find(end).map(|at| at + end.len())).min().map(|cut| (&text[..cut], &text[cut..]))
}

fn zh_address(message: &str) -> Option<Address> {
    let text: String = message.chars().filter(|c| !c.is_whitespace()).collect();
    // The address starts at its province (or municipality), written with or without its suffix.
    let (start, province_end) = MUNICIPALITIES
        .iter()
        .filter_map(|m| text.find(m).map(|at| (at, at + m.len())))
        .chain(PROVINCES.iter().filter_map(|name| {
            let at = text.find(name)?;
            let after = &text[at + name.len()..];
            let suffix = PROVINCE_SUFFIXES.iter().find(|s| after.starts_with(*s)).map_or(0, |s| s.len());
            Some((at, at + name.len() + suffix))
        }))
        .min()?;
    let province = &text[start..province_end];
    let rest = &text[province_end..];
    let (city, rest) = if MUNICIPALITIES.contains(&province) {
        (province, rest)
    } else {
        take_until(rest, &["市", "自治州", "地区"])?
    };
    let (district, line) = take_until(rest, &["区", "县"])?;
    let line = line.trim_matches(|c: char| "，,。.！!".contains(c));
    let line = line.split(['，', ',', '。']).next().unwrap_or(line);
    if line.chars().count() < 3 || !STREET_ZH.iter().any(|w| line.contains(w)) {
        return None;
    }
    let phone = mobile(message);
    let line = line.replace(&phone, "");
    Some(Address {
        name: String::new(),
        phone,
        province: province.to_string(),
        city: city.to_string(),
        district: district.to_string(),
        line,
    })
}

fn en_address(message: &str) -> Option<Address> {
    // What follows "address" / "to" is the address, when the message says so.
    // ASCII lowercasing keeps byte offsets, so positions found in `lower` slice `message`.
    let lower = message.to_ascii_lowercase();
    let from = ["address:", "address is", "address to", "address", "ship it to", "send it to", "deliver to"]
        .iter()
        .find_map(|cue| lower.find(cue).map(|at| at + cue.len()))?;
    let parts: Vec<&str> = message
        .get(from..)?
        .split(',')
        .map(|p| p.trim().trim_end_matches(['.', '!']))
        .filter(|p| !p.is_empty())
        .collect();
    // "address of order 2026... to 88 Nanjing Road": the street starts after the last "to".
    let first = *parts.first()?;
    let line = first.rfind(" to ").map_or(first, |at| &first[at + 4..]).trim();
    let line_lower = line.to_lowercase();
    let street = line.chars().any(|c| c.is_ascii_digit())
        && line_lower.split_whitespace().any(|w| STREET_EN.contains(&w.trim_matches('.')));
    if !street || parts.len() < 3 {
        return None;
    }
    let district = parts.iter().find(|p| {
        let p = p.to_lowercase();
        p.ends_with("district") || p.ends_with("county")
    })?;
    let after: Vec<&str> = parts.iter().skip_while(|p| *p != district).skip(1).copied().collect();
    let city = after.first()?;
    let municipality = MUNICIPALITIES_EN.iter().find(|(en, _)| city.to_lowercase().starts_with(en));
    let province = match (municipality, after.get(1)) {
        (Some((_, zh)), _) => zh.to_string(),
        (None, Some(province)) => province.to_string(),
        (None, None) => return None,
    };
    Some(Address {
        name: String::new(),
        phone: mobile(message),
        province,
        city: city.to_string(),
        district: district.to_string(),
        line: line.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_chinese_address_from_a_request() {
        let a = parse_address("订单改一下地址，改到浙江省杭州市西湖区文三路100号 华星大厦5楼").expect("address");
        assert_eq!((a.province.as_str(), a.city.as_str(), a.district.as_str()), ("浙江省", "杭州市", "西湖区"));
        assert_eq!(a.line, "文三路100号华星大厦5楼");
        assert!(a.phone.is_empty() && a.name.is_empty());

        let b = parse_address("新地址：上海市浦东新区张江路88号，电话13912345678").expect("municipality");
        assert_eq!((b.province.as_str(), b.city.as_str(), b.district.as_str()), ("上海市", "上海市", "浦东新区"));
        assert_eq!((b.line.as_str(), b.phone.as_str()), ("张江路88号", "13912345678"));
    }

    #[test]
    fn reads_an_english_address_after_its_cue() {
        let a = parse_address("Please change the address to 88 Nanjing Road, Huangpu District, Shanghai").expect("en");
        assert_eq!((a.province.as_str(), a.city.as_str()), ("上海市", "Shanghai"));
        assert_eq!((a.district.as_str(), a.line.as_str()), ("Huangpu District", "88 Nanjing Road"));
        let c =
            parse_address("change the address of order 202611205186 to 88 Nanjing Road, Huangpu District, Shanghai")
                .expect("after the order number");
        assert_eq!(c.line, "88 Nanjing Road");
        let b = parse_address("new address: 12 Wensan Road, Xihu District, Hangzhou, Zhejiang").expect("province");
        assert_eq!((b.city.as_str(), b.province.as_str()), ("Hangzhou", "Zhejiang"));
    }

    #[test]
    fn a_place_name_or_half_an_address_is_not_an_address() {
        for text in [
            "改订单202611205186地址Ⱥaddress K, 1 road, x district, y",
            "我想改地址",
            "寄到浙江省杭州市",
            "杭州市西湖区文三路100号",
            "上海市浦东新区",
            "can I change the address?",
            "address: Shanghai",
            "send it to 88 Nanjing Road",
            "我在广东省深圳市南山区",
        ] {
            assert_eq!(parse_address(text), None, "{text}");
        }
    }
}
