//! Product names in a message -> the catalogue SKU they resolve to, or the family tag the
//! candidate SKUs share when the name fits several ("Stride Glide 3" -> "stride-glide-3").
//!
//! Names come from the catalogue (English name heads, model names, Chinese name segments,
//! tags that spell a name) plus a small table of words shoppers use. A message is matched
//! token by token, longest name first; long Latin words tolerate one typo.

use crate::domain::commerce::Product;
use crate::text::{is_cjk, normalize_sku};
use std::collections::{BTreeMap, BTreeSet};

/// Words shoppers use for products, beyond what the catalogue spells. A target starting
/// with '#' is a tag: every product carrying it.
const SHOPPER_WORDS: &[(&str, &str)] = &[
    ("扫地机", "HH-RV500"),
    ("扫地机器人", "HH-RV500"),
    ("扫拖机器人", "HH-RV500"),
    ("拖地机器人", "HH-RV500"),
    ("robot vacuum", "HH-RV500"),
    ("robot vacuums", "HH-RV500"),
    ("robot vac", "HH-RV500"),
    ("robovac", "HH-RV500"),
    ("robot cleaner", "HH-RV500"),
    ("vacuum robot", "HH-RV500"),
    ("vacuum", "HH-RV500"),
    ("vaccum", "HH-RV500"),
    ("空气净化器", "HH-AP300"),
    ("净化器", "HH-AP300"),
    ("净风", "HH-AP300"),
    ("purifier", "HH-AP300"),
    ("air purifier", "HH-AP300"),
    ("滤芯", "HH-AP300-F"),
    ("滤芯灯", "HH-AP300"),
    ("滤网灯", "HH-AP300"),
    ("filter light", "HH-AP300"),
    ("滤网", "HH-AP300-F"),
    ("filter", "HH-AP300-F"),
    ("filters", "HH-AP300-F"),
    ("hepa filter", "HH-AP300-F"),
    ("耗材套装", "HH-RV500-KIT"),
    ("耗材包", "HH-RV500-KIT"),
    ("配件包", "HH-RV500-KIT"),
    ("维护套装", "HH-RV500-KIT"),
    ("maintenance kit", "HH-RV500-KIT"),
    ("accessory kit", "HH-RV500-KIT"),
    ("洗碗机", "HH-DW600"),
    ("dishwasher", "HH-DW600"),
    ("dish washer", "HH-DW600"),
    ("电水壶", "HH-KT100"),
    ("烧水壶", "HH-KT100"),
    ("热水壶", "HH-KT100"),
    ("水壶", "HH-KT100"),
    ("kettle", "HH-KT100"),
    ("kettles", "HH-KT100"),
    ("sg3", "#stride-glide-3"),
    ("轻驰三", "#stride-glide-3"),
    ("越野跑鞋", "HS-TRL-201"),
    ("越野鞋", "HS-TRL-201"),
    ("trail shoe", "HS-TRL-201"),
    ("trail shoes", "HS-TRL-201"),
    ("trail runners", "HS-TRL-201"),
    ("碳板跑鞋", "HS-RUN-301"),
    ("碳板鞋", "HS-RUN-301"),
    ("竞速跑鞋", "HS-RUN-301"),
    ("racing shoe", "HS-RUN-301"),
    ("racing shoes", "HS-RUN-301"),
    ("carbon plate", "HS-RUN-301"),
    ("t恤", "HA-TEE-110"),
    ("t shirt", "HA-TEE-110"),
    ("tshirt", "HA-TEE-110"),
    ("tee", "HA-TEE-110"),
    ("shirt", "HA-TEE-110"),
    ("shirts", "HA-TEE-110"),
    ("tees", "HA-TEE-110"),
    ("长袖", "HA-TEE-091"),
    ("long sleeve", "HA-TEE-091"),
    ("短裤", "HA-SHO-120"),
    ("shorts", "HA-SHO-120"),
    ("外套", "HA-JKT-130"),
    ("防风外套", "HA-JKT-130"),
    ("风衣", "HA-JKT-130"),
    ("jacket", "HA-JKT-130"),
    ("jackets", "HA-JKT-130"),
    ("windbreaker", "HA-JKT-130"),
    ("featherlight", "HA-JKT-130"),
    ("袜子", "HA-SCK-140"),
    ("跑袜", "HA-SCK-140"),
    ("socks", "HA-SCK-140"),
    ("sock", "HA-SCK-140"),
];

const MEN: &[&str] = &["men", "mens", "man", "male", "男"];
const WOMEN: &[&str] = &["women", "womens", "woman", "ladies", "lady", "female", "女"];
/// Words that pick a men's or women's model of a product named earlier.
const GENDER_MODEL_WORDS: &[&str] = &[
    "男款", "女款", "男士", "女士", "男鞋", "女鞋", "男式", "女式", "男码", "女码", "men's", "men’s", "mens",
    "for men", "women", "ladies", "female", "male",
];

struct Entry {
    sku: String,
    tags: Vec<String>,
    final_sale: bool,
}

pub struct ProductNames {
    products: Vec<Entry>,
    /// Name tokens -> the products the name fits.
    names: BTreeMap<Vec<String>, BTreeSet<usize>>,
    /// Tags that spell a product name ("stride-glide-3", "drypace"): the family slots.
    name_tags: BTreeSet<String>,
}

impl ProductNames {
    pub fn new(catalog: &[Product]) -> ProductNames {
        let products: Vec<Entry> = catalog
            .iter()
            .map(|p| Entry { sku: p.sku.clone(), tags: p.tags.clone(), final_sale: p.final_sale })
            .collect();
        let mut names: BTreeMap<Vec<String>, BTreeSet<usize>> = BTreeMap::new();
        let mut add = |name: &str, who: &mut dyn Iterator<Item = usize>| {
            let toks = tokens(&super::fold(name));
            if !toks.is_empty() {
                names.entry(toks).or_default().extend(who);
            }
        };
        let heads: Vec<String> = catalog.iter().map(|p| english_head(&p.name_en)).collect();
        let models: Vec<Vec<String>> = heads.iter().map(|h| tokens(&super::fold(&model_name(h)))).collect();
        for (i, p) in catalog.iter().enumerate() {
            add(&heads[i], &mut std::iter::once(i));
            add(chinese_head(&p.name_zh), &mut std::iter::once(i));
            for segment in chinese_segments(&p.name_zh) {
                add(segment, &mut std::iter::once(i));
            }
            let model = model_name(&heads[i]);
            if is_distinctive_model(&model) {
                // A model name fits every product whose model starts with it: "Stride Glide 3"
                // is also the start of "Stride Glide 3 W", and the brand word "SweepBot" alone
                // names the robot and its kit.
                let toks = &models[i];
                add(&model, &mut (0..catalog.len()).filter(|&j| models[j].starts_with(toks)));
                if let Some(brand) = model.split_whitespace().next().filter(|w| is_distinctive_model(w)) {
                    let brand_toks = tokens(&super::fold(brand));
                    add(brand, &mut (0..catalog.len()).filter(|&j| models[j].starts_with(&brand_toks)));
                }
            }
            // Engineers write the model code inside the SKU: "AP300" for HH-AP300.
            if let Some(code) = model_code(&p.sku) {
                add(&code, &mut (0..catalog.len()).filter(|&j| model_code(&catalog[j].sku).as_ref() == Some(&code)));
            }
        }
        let mut name_tags = BTreeSet::new();
        for tag in catalog.iter().flat_map(|p| &p.tags) {
            let spelled = tag.replace('-', " ");
            let carriers: Vec<usize> = (0..catalog.len()).filter(|&i| catalog[i].tags.contains(tag)).collect();
            let in_every_name =
                carriers.iter().all(|&i| contains_tokens(&tokens(&super::fold(&heads[i])), &tokens(&spelled)));
            if in_every_name {
                add(&spelled, &mut carriers.iter().copied());
                name_tags.insert(tag.clone());
            }
        }
        for &(word, target) in SHOPPER_WORDS {
            let targets: Vec<usize> = match target.strip_prefix('#') {
                Some(tag) => (0..catalog.len()).filter(|&i| catalog[i].tags.iter().any(|t| t == tag)).collect(),
                None => (0..catalog.len()).filter(|&i| catalog[i].sku == target).collect(),
            };
            add(word, &mut targets.into_iter());
        }
        names.retain(|_, who| !who.is_empty());
        ProductNames { products, names, name_tags }
    }

    /// The SKU or family tag the message names, if any.
    pub fn resolve(&self, folded: &str) -> Option<String> {
        let toks = tokens(folded);
        let located = self.mentions(&toks);
        let mentions: Vec<BTreeSet<usize>> = located.iter().map(|(_, _, who)| who.clone()).collect();
        let first = mentions.first()?;
        let all = mentions.iter().skip(1).fold(first.clone(), |acc, m| &acc & m);
        let mut candidates = if !all.is_empty() {
            all
        } else if let Some(consumable) = self.consumable_of_named_appliance(&located) {
            BTreeSet::from([consumable])
        } else {
            first.clone()
        };
        self.narrow_by_gender(&mut candidates, &toks, &located);
        self.drop_accessories_and_clearance(&mut candidates);
        match candidates.len() {
            0 => None,
            1 => candidates.first().map(|&i| self.products[i].sku.clone()),
            _ => self.family_tag(&candidates),
        }
    }

    /// The one product of the family under discussion that the message's own gender words
    /// pick when it names no product itself: "女款买几码" after the Stride Glide 3 is the
    /// women's shoe, and "那男款呢" after the women's is the men's. `carried` is the family tag
    /// or a product of it.
    pub fn narrow_family(&self, carried: &str, folded: &str) -> Option<String> {
        // A model's gender, not any 男 or 女 ("男朋友说37码偏小" is about the same shoe).
        if !GENDER_MODEL_WORDS.iter().any(|w| folded.contains(w)) {
            return None;
        }
        let toks = tokens(folded);
        let families: Vec<&String> = match self.products.iter().find(|p| p.sku == carried) {
            Some(product) => product.tags.iter().filter(|t| self.name_tags.contains(*t)).collect(),
            None => self.name_tags.iter().filter(|t| t.as_str() == carried).collect(),
        };
        families.into_iter().find_map(|family| {
            let members: BTreeSet<usize> =
                (0..self.products.len()).filter(|&i| self.products[i].tags.contains(family)).collect();
            let mut candidates = members.clone();
            self.narrow_by_gender(&mut candidates, &toks, &[]);
            if candidates == members {
                return None;
            }
            self.drop_accessories_and_clearance(&mut candidates);
            match candidates.len() {
                1 => candidates.first().map(|&i| self.products[i].sku.clone()),
                _ => None,
            }
        })
    }

    /// The products of a message that names several ("SweepBot R5 plus the maintenance kit",
    /// "轻驰3加一个T恤"), each with the chars of the message that belong to it. Names joined by
    /// a conjunction are separate products; names side by side are one ("净风300 滤芯").
    pub fn items(&self, folded: &str) -> Vec<(String, std::ops::Range<usize>)> {
        let spans = token_spans(folded);
        let toks: Vec<String> = spans.iter().map(|t| t.text.clone()).collect();
        let located = self.mentions(&toks);
        let chars: Vec<char> = folded.chars().collect();
        // Where the message is cut: at the last conjunction between two names.
        let mut cuts = vec![0];
        for pair in located.windows(2) {
            let (gap_start, gap_end) = (spans[pair[0].1 - 1].end, spans[pair[1].0].start);
            if let Some(at) = last_conjunction(&chars[gap_start..gap_end]) {
                cuts.push(gap_start + at);
            }
        }
        cuts.push(chars.len());
        cuts.windows(2)
            .filter_map(|w| {
                let segment: String = chars[w[0]..w[1]].iter().collect();
                self.resolve(&segment).map(|product| (product, w[0]..w[1]))
            })
            .collect()
    }

    /// The chars of `folded` that spell product names, so "3" in "Stride Glide 3" is no count.
    pub fn name_chars(&self, folded: &str) -> Vec<std::ops::Range<usize>> {
        let spans = token_spans(folded);
        let toks: Vec<String> = spans.iter().map(|t| t.text.clone()).collect();
        self.mentions(&toks).into_iter().map(|(start, end, _)| spans[start].start..spans[end - 1].end).collect()
    }

    /// The catalogue's spelling of an SKU in any spelling ("hs-run-101" -> "HS-RUN-101").
    pub fn catalogue_sku(&self, written: &str) -> Option<String> {
        let wanted = normalize_sku(written);
        self.products.iter().find(|p| normalize_sku(&p.sku) == wanted).map(|p| p.sku.clone())
    }

    /// Product sets of the names found with their token spans, in message order, longest
    /// name first at each place.
    fn mentions(&self, toks: &[String]) -> Vec<(usize, usize, BTreeSet<usize>)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            match self.name_at(&toks[i..]) {
                Some((len, who)) => {
                    out.push((i, i + len, who.clone()));
                    i += len;
                }
                None => i += 1,
            }
        }
        out
    }

    /// Whether a product slot (SKU or family tag) covers the SKU `sku`.
    pub fn names_same(&self, sku: &str, product: &str) -> bool {
        sku == product || self.products.iter().any(|p| p.sku == sku && p.tags.iter().any(|t| t == product))
    }

    /// The longest name at the start of `toks` (exact spellings before typo matches), with
    /// its length in tokens.
    fn name_at(&self, toks: &[String]) -> Option<(usize, &BTreeSet<usize>)> {
        self.names
            .iter()
            .filter(|(name, _)| name.len() <= toks.len() && name.iter().zip(toks).all(|(a, b)| same_token(a, b)))
            .max_by_key(|(name, _)| (name.len(), name.iter().zip(toks).filter(|(a, b)| a == b).count()))
            .map(|(name, who)| (name.len(), who))
    }

    /// Whether a product name starts within the first three tokens of `folded` ("PureAir 300
    /// filters", "wind jackets", "black kettles" after a count).
    pub fn name_soon(&self, folded: &str) -> bool {
        let toks = tokens(folded);
        (0..toks.len().min(3)).any(|i| self.name_at(&toks[i..]).is_some())
    }

    /// "净风300 滤芯" / "净风300的滤芯" names the filter by its purifier: the filter is meant
    /// when it comes right after (at most one token between) the one appliance it fits.
    fn consumable_of_named_appliance(&self, located: &[(usize, usize, BTreeSet<usize>)]) -> Option<usize> {
        located.windows(2).find_map(|pair| {
            let [(_, appliance_end, appliance), (start, _, consumables)] = pair else { return None };
            let appliance = (appliance.len() == 1).then(|| appliance.first()).flatten()?;
            let fits = format!("fits-{}", self.products[*appliance].sku);
            (*start <= appliance_end + 1)
                .then(|| consumables.iter().copied().find(|&c| self.products[c].tags.contains(&fits)))
                .flatten()
        })
    }

    /// Men's or women's by the words of the message; when it says both ("is the women's Stride
    /// Glide 3 just a smaller men's shoe"), by the one right next to a product name.
    fn narrow_by_gender(
        &self,
        candidates: &mut BTreeSet<usize>,
        toks: &[String],
        located: &[(usize, usize, BTreeSet<usize>)],
    ) {
        let says = |words: &[&str]| toks.iter().any(|t| words.contains(&t.as_str()));
        let beside = |words: &[&str]| {
            located.iter().any(|(start, end, _)| {
                let before = start.checked_sub(1).and_then(|i| toks.get(i));
                [before, toks.get(*end)].into_iter().flatten().any(|t| words.contains(&t.as_str()))
            })
        };
        let tag = match (says(MEN), says(WOMEN)) {
            (true, false) => "men",
            (false, true) => "women",
            (true, true) => match (beside(MEN), beside(WOMEN)) {
                (true, false) => "men",
                (false, true) => "women",
                _ => return,
            },
            _ => return,
        };
        let narrowed: BTreeSet<usize> =
            candidates.iter().copied().filter(|&i| self.products[i].tags.iter().any(|t| t == tag)).collect();
        if !narrowed.is_empty() {
            *candidates = narrowed;
        }
    }

    /// A bare model name means the appliance, not its kit ("SweepBot R5"), and an unqualified
    /// name means the current product, not last season's clearance ("DryPace T-shirt").
    fn drop_accessories_and_clearance(&self, candidates: &mut BTreeSet<usize>) {
        let skus: BTreeSet<String> = candidates.iter().map(|&i| self.products[i].sku.clone()).collect();
        let without_accessories: BTreeSet<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| {
                !self.products[i].tags.iter().any(|t| t.strip_prefix("fits-").is_some_and(|s| skus.contains(s)))
            })
            .collect();
        if !without_accessories.is_empty() {
            *candidates = without_accessories;
        }
        let current: BTreeSet<usize> = candidates.iter().copied().filter(|&i| !self.products[i].final_sale).collect();
        if !current.is_empty() {
            *candidates = current;
        }
    }

    fn family_tag(&self, candidates: &BTreeSet<usize>) -> Option<String> {
        let first = &self.products[*candidates.first()?];
        first
            .tags
            .iter()
            .filter(|t| self.name_tags.contains(*t))
            .find(|t| candidates.iter().all(|&i| self.products[i].tags.contains(t)))
            .cloned()
    }
}

/// Words that join two products in one basket.
const CONJUNCTIONS: &[&str] = &["+", "&", "、", "plus", "and", "with", "加", "和", "跟", "还有", "以及", "外加", "再"];

/// Where the last conjunction in `gap` starts, English words whole.
fn last_conjunction(gap: &[char]) -> Option<usize> {
    (0..gap.len()).rev().find(|&i| {
        CONJUNCTIONS.iter().any(|w| {
            let word: Vec<char> = w.chars().collect();
            let fits = gap.get(i..i + word.len()) == Some(&word[..]);
            let latin = word[0].is_ascii_alphabetic();
            let whole = !latin
                || ((i == 0 || !gap[i - 1].is_ascii_alphanumeric())
                    && gap.get(i + word.len()).is_none_or(|c| !c.is_ascii_alphanumeric()));
            fits && whole
        })
    })
}

/// "Stride Glide 3 W (women's road running shoe)" -> "Stride Glide 3 W"; a list after a
/// comma ("Cushion running socks, 3 pairs") is cut too.
fn english_head(name: &str) -> String {
    name.split(['(', ',']).next().unwrap_or(name).trim().to_string()
}

/// "PureAir 300 air purifier" -> "PureAir 300": the words before the first lower-case one.
fn model_name(head: &str) -> String {
    head.split_whitespace()
        .take_while(|w| !w.chars().next().is_some_and(|c| c.is_lowercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A model name is a name, not a common word, when it has a digit, an inner capital
/// ("SweepBot") or several words ("Tempo Lite"); "Cushion" alone is not.
fn is_distinctive_model(model: &str) -> bool {
    let words: Vec<&str> = model.split_whitespace().collect();
    words.len() >= 2
        || model.chars().any(|c| c.is_ascii_digit())
        || words.iter().any(|w| w.chars().skip(1).any(|c| c.is_uppercase()))
}

/// The model code inside an SKU, when it has a digit: "HH-AP300-F" -> "AP300".
fn model_code(sku: &str) -> Option<String> {
    sku.split('-').nth(1).filter(|c| c.chars().any(|ch| ch.is_ascii_digit())).map(str::to_string)
}

/// "扫地机器人 R5(扫拖一体)" -> "扫地机器人 R5".
fn chinese_head(name: &str) -> &str {
    name.split(['(', '（']).next().unwrap_or(name).trim()
}

/// The space- and bracket-separated parts of a Chinese name that can stand alone as a name:
/// at least two characters, Chinese or a model number ("R5"), and not a count ("8套").
fn chinese_segments(name: &str) -> impl Iterator<Item = &str> {
    name.split([' ', '(', ')', '（', '）']).map(str::trim).filter(|s| {
        s.chars().count() >= 2
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars().any(|c| is_cjk(c) || c.is_ascii_digit())
    })
}

/// Latin letter runs, digit runs (split from each other: "r5" -> "r", "5") and single Han
/// characters, lower-cased; apostrophes inside words are dropped ("men's" -> "mens").
pub fn tokens(folded: &str) -> Vec<String> {
    token_spans(folded).into_iter().map(|t| t.text).collect()
}

/// One token of [`tokens`] and the chars of the text it covers.
struct Token {
    text: String,
    start: usize,
    end: usize,
}

fn token_spans(folded: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let chars: Vec<char> = folded.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let continues = current.chars().last().is_some_and(|last| {
            (last.is_ascii_alphabetic() && c.is_ascii_alphabetic()) || (last.is_ascii_digit() && c.is_ascii_digit())
        });
        if matches!(c, '\'' | '’') && !current.is_empty() && chars.get(i + 1).is_some_and(char::is_ascii_alphabetic) {
            continue;
        }
        if continues {
            current.push(c.to_ascii_lowercase());
            continue;
        }
        if !current.is_empty() {
            out.push(Token { text: std::mem::take(&mut current), start, end: i });
        }
        start = i;
        if c.is_ascii_alphanumeric() {
            current.push(c.to_ascii_lowercase());
        } else if is_cjk(c) {
            out.push(Token { text: c.to_string(), start: i, end: i + 1 });
        }
    }
    if !current.is_empty() {
        out.push(Token { text: current, start, end: chars.len() });
    }
    out
}

fn contains_tokens(haystack: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Equal, or one edit apart for longer Latin words ("purifer", "jaket", "sweepbto"); a word
/// that is the name minus a plural "s" is another word ("short" is not "shorts").
fn same_token(name: &str, word: &str) -> bool {
    name == word
        || (name.len() >= 6
            && word.len() >= 5
            && name.strip_suffix('s') != Some(word)
            && name.bytes().all(|b| b.is_ascii_alphabetic())
            && word.bytes().all(|b| b.is_ascii_alphabetic())
            && within_one_edit(name.as_bytes(), word.as_bytes()))
}

/// Optimal string alignment distance <= 1 (one insertion, deletion, substitution or swap).
pub(super) fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match (ra.len(), rb.len()) {
        (0, _) | (_, 0) => true,
        (la, lb) if la == lb => {
            ra[1..] == rb[1..] || (la >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        (la, lb) if la > lb => ra[1..] == *rb,
        _ => *ra == rb[1..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::understand::fold;
    use crate::ask::understand::tests::catalog;

    fn resolve(names: &ProductNames, text: &str) -> Option<String> {
        names.resolve(&fold(text))
    }

    #[test]
    fn names_resolve_to_skus() {
        let names = ProductNames::new(&catalog());
        for (text, sku) in [
            ("my robot vacuum stopped", "HH-RV500"),
            ("扫地机器人一直报错", "HH-RV500"),
            ("SweepBot R5 side brush", "HH-RV500"),
            ("women's Stride Glide 3 in pink", "HS-RUN-102"),
            ("轻驰3 男款", "HS-RUN-101"),
            ("净风300 复合滤芯多少钱", "HH-AP300-F"),
            ("净风300的滤芯", "HH-AP300-F"),
            ("PureAir 300 noise level", "HH-AP300"),
            ("R5 耗材套装", "HH-RV500-KIT"),
            ("电水壶 H1", "HH-KT100"),
            ("烧水壶", "HH-KT100"),
            ("the dishwaser won't drain", "HH-DW600"),
            ("DryPace T-shirt in grey", "HA-TEE-110"),
            ("Ridge Trail 2 size 10", "HS-TRL-201"),
            ("does the SweepBot mop", "HH-RV500"),
            ("AP300 shows E05", "HH-AP300"),
            ("the wind jaket", "HA-JKT-130"),
            ("purifier filter light is on", "HH-AP300"),
            ("the purifier beeps, do I need a new filter?", "HH-AP300"),
            ("short-sleeve DryPace T-shirt", "HA-TEE-110"),
        ] {
            assert_eq!(resolve(&names, text).as_deref(), Some(sku), "{text}");
        }
    }

    #[test]
    fn ambiguous_names_give_the_family_tag() {
        let names = ProductNames::new(&catalog());
        assert_eq!(resolve(&names, "Stride Glide 3 有货吗").as_deref(), Some("stride-glide-3"));
        assert_eq!(resolve(&names, "轻驰3 九码").as_deref(), Some("stride-glide-3"));
        assert_eq!(resolve(&names, "DryPace stuff").as_deref(), Some("drypace"));
    }

    #[test]
    fn a_family_under_discussion_is_narrowed_by_the_words_of_a_later_message() {
        let names = ProductNames::new(&catalog());
        assert_eq!(names.narrow_family("stride-glide-3", "女款买几码").as_deref(), Some("HS-RUN-102"));
        assert_eq!(names.narrow_family("stride-glide-3", "and the men's?").as_deref(), Some("HS-RUN-101"));
        assert_eq!(names.narrow_family("stride-glide-3", "白色9码有货吗"), None);
        assert_eq!(names.narrow_family("stride-glide-3", "男款和女款差在哪"), None);
        // From one product of the family to the other.
        assert_eq!(names.narrow_family("HS-RUN-102", "那男款呢").as_deref(), Some("HS-RUN-101"));
        assert_eq!(names.narrow_family("HH-KT100", "女款呢"), None);
        assert_eq!(names.narrow_family("HS-RUN-102", "男朋友说37码偏小，要换38吗"), None);
    }

    #[test]
    fn generic_words_name_nothing() {
        let names = ProductNames::new(&catalog());
        for text in
            ["这款运动鞋怎么样", "are the shoes true to size?", "is it in stock", "running shoes for a marathon"]
        {
            assert_eq!(resolve(&names, text), None, "{text}");
        }
    }

    #[test]
    fn one_edit_apart() {
        assert!(within_one_edit(b"purifier", b"purifer"));
        assert!(within_one_edit(b"sweepbot", b"sweepbto"));
        assert!(within_one_edit(b"kettle", b"kettles"));
        assert!(!within_one_edit(b"kettle", b"kittel"));
    }
}
