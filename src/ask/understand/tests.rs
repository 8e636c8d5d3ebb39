use super::*;
use crate::domain::commerce::Product;
use std::sync::OnceLock;

pub(super) fn catalog() -> Vec<Product> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge/store/catalog.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("catalog.json")).expect("catalog parses")
}

fn intents_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ingest/intents")
}

/// Trained once for all tests: start-up training is what these tests exercise.
fn shared() -> &'static Understander {
    static UNDERSTANDER: OnceLock<Understander> = OnceLock::new();
    UNDERSTANDER.get_or_init(|| Understander::load(&intents_dir(), &catalog()).expect("exemplars load"))
}

#[test]
fn intents_in_both_languages() {
    let u = shared();
    for (text, intent) in [
        ("我的快递什么时候能到", Intent::OrderStatus),
        ("帮我把收货地址改成杭州", Intent::OrderChange),
        ("山脊2 有10码的吗", Intent::InventoryCheck),
        ("洗碗机一次能洗多少套碗", Intent::ProductInfo),
        ("用了优惠券之后那双鞋要多少钱", Intent::PriceQuote),
        ("衣服小了，我想退掉", Intent::ReturnRefund),
        ("你们保修期是多久", Intent::PolicyQuestion),
        ("扫地机器人的拖布怎么拆下来", Intent::HowTo),
        ("我的积分还有多少", Intent::PointsBalance),
        ("付款的时候一直失败", Intent::PaymentIssue),
        ("are the trail shoes available in size 8", Intent::InventoryCheck),
        ("can I cancel the order I placed this morning", Intent::OrderChange),
        ("how long will my refund take to show up", Intent::ReturnRefund),
        ("how do I clean the filter of the dishwasher", Intent::HowTo),
        ("my card got declined at checkout", Intent::PaymentIssue),
        ("which is lighter, Tempo Lite or Stride Glide 3", Intent::ProductInfo),
        ("how many points have I got", Intent::PointsBalance),
        ("what's the weather like in Beijing", Intent::Other),
    ] {
        let got = u.understand(text);
        assert_eq!(got.intent, intent, "{text}: {got:?}");
    }
}

#[test]
fn rules_beat_the_classifier_for_strong_patterns() {
    let u = shared();
    // Product and price words pull the classifier elsewhere; the order number with a status
    // word, or the code with an error word, decides.
    let got = u.understand("202611150123 那双轻驰3多少钱买的，现在物流到哪了");
    assert_eq!((got.intent, got.slots.order_id.as_deref()), (Intent::OrderStatus, Some("202611150123")));
    let got = u.understand("price of the filter? the purifier shows F2 error");
    assert_eq!((got.intent, got.slots.fault_code.as_deref()), (Intent::FaultDiagnosis, Some("F2")));
    let got = u.understand("我想退货，转人工");
    assert_eq!(got.intent, Intent::HumanHandoff);
    assert!(got.confidence >= 0.8, "{got:?}");
}

#[test]
fn confidence_is_a_probability_and_low_on_gibberish() {
    let u = shared();
    let clear = u.understand("how do I connect the SweepBot to wifi");
    let gibberish = u.understand("zxqv blorf wibbly glomp");
    for got in [&clear, &gibberish] {
        assert!((0.0..=1.0).contains(&got.confidence), "{got:?}");
    }
    assert!(gibberish.confidence < 0.7, "{gibberish:?}");
    assert!(clear.confidence > gibberish.confidence + 0.25, "{clear:?} vs {gibberish:?}");
    assert_eq!(u.understand("").intent, Intent::Other);
}

#[test]
fn understanding_carries_language_slots_and_sentiment() {
    let u = shared();
    let got = u.understand("扫地机器人又报E-21了，太差了！！！急");
    assert_eq!(got.lang, Lang::Zh);
    assert_eq!(got.intent, Intent::FaultDiagnosis);
    assert_eq!((got.slots.fault_code.as_deref(), got.slots.product.as_deref()), (Some("E21"), Some("HH-RV500")));
    assert!(got.sentiment.is_angry() && got.sentiment.urgent, "{:?}", got.sentiment);
    let got = u.understand("Do you have the women's Stride Glide 3 in pink, US 7?");
    assert_eq!(got.lang, Lang::En);
    assert_eq!(got.slots.product.as_deref(), Some("HS-RUN-102"));
    assert_eq!((got.slots.size.as_deref(), got.slots.color.as_deref()), (Some("7"), Some("pink")));
}

#[test]
fn training_reports_cross_validated_calibration() {
    let report = shared().report();
    assert!(report.examples > 1000);
    assert!(report.cv_accuracy > 0.8, "{report:?}");
    assert!(report.cv_by_lang.iter().all(|l| l.count > 500), "{report:?}");
    assert!(report.ece < 0.05, "{report:?}");
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write fixture");
}

/// A minimal valid exemplar folder: one line per intent.
fn fixture_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for intent in Intent::ALL {
        write(dir.path(), &format!("{intent}.txt"), &format!("# {intent}\nexample of {intent}\n"));
    }
    dir
}

#[test]
fn exemplar_file_errors_name_the_file_and_line() {
    let dir = fixture_dir();
    assert!(Understander::read_exemplars(dir.path()).is_ok());

    write(dir.path(), "how_to.txt", "how do I pair the kettle\nhow_to\tdescale the kettle\n");
    let err = Understander::read_exemplars(dir.path()).expect_err("a tab is malformed").to_string();
    assert!(err.contains("how_to.txt:2:"), "{err}");

    write(dir.path(), "how_to.txt", "how do I pair the kettle\n");
    write(dir.path(), "greeting.txt", "hello\nHow do I  pair the kettle\n");
    let err = Understander::read_exemplars(dir.path()).expect_err("conflicting labels").to_string();
    assert!(err.contains("greeting.txt:2:") && err.contains("how_to"), "{err}");

    write(dir.path(), "greeting.txt", "hello\n");
    write(dir.path(), "small_talk.txt", "how are you\n");
    let err = Understander::read_exemplars(dir.path()).expect_err("unknown intent").to_string();
    assert!(err.contains("small_talk.txt"), "{err}");

    std::fs::remove_file(dir.path().join("small_talk.txt")).expect("remove");
    std::fs::remove_file(dir.path().join("points_balance.txt")).expect("remove");
    let err = Understander::read_exemplars(dir.path()).expect_err("missing intent").to_string();
    assert!(err.contains("points_balance.txt"), "{err}");

    write(dir.path(), "points_balance.txt", "# only a comment\n\n");
    let err = Understander::read_exemplars(dir.path()).expect_err("empty file").to_string();
    assert!(err.contains("points_balance.txt:1:"), "{err}");
}

#[test]
fn train_takes_extra_examples() {
    let dir = fixture_dir();
    let mut examples = Understander::read_exemplars(dir.path()).expect("fixture");
    examples.extend((0..5).map(|i| (format!("where is parcel number {i}"), Intent::OrderStatus)));
    let u = Understander::train(examples, &catalog()).expect("trains");
    assert_eq!(u.understand("where is parcel number 7").intent, Intent::OrderStatus);
    assert!(matches!(Understander::train(Vec::new(), &catalog()), Err(UnderstandError::NoExamples)));
}

/// Start-up cost and cross-validation figures; run with
/// `cargo test --release --lib understand::tests::measure -- --ignored --nocapture`.
#[test]
#[ignore = "measurement: prints timing and calibration"]
fn measure_training() {
    let started = Instant::now();
    let u = Understander::load(&intents_dir(), &catalog()).expect("exemplars load");
    let total = started.elapsed();
    let r = u.report();
    println!(
        "load: {:.0} ms (training {:.0} ms), {} examples, {} features",
        total.as_secs_f64() * 1e3,
        r.train_ms,
        r.examples,
        r.features
    );
    println!("cv accuracy {:.4}, temperature {:.2}, ECE {:.4}", r.cv_accuracy, r.temperature, r.ece);
    for l in &r.cv_by_lang {
        println!("  {}: {:.4} over {}", l.lang, l.accuracy, l.count);
    }
    for b in &r.calibration {
        println!(
            "  [{:.2}, {:.2}): n={:4} mean conf {:.3} accuracy {:.3}",
            b.low, b.high, b.count, b.mean_confidence, b.accuracy
        );
    }
    let n = 1000;
    let started = Instant::now();
    for i in 0..n {
        std::hint::black_box(u.understand(if i % 2 == 0 {
            "我的订单202611150123到哪了"
        } else {
            "do you have the Stride Glide 3 in US 9 black"
        }));
    }
    println!("understand: {:.1} us per message", started.elapsed().as_secs_f64() * 1e6 / n as f64);
}
