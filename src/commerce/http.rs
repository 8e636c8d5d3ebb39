//! A connector to an external order system that speaks JSON over HTTP.
//!
//! The REST shape it expects (`{base}` is the configured base URL; bodies are the serde
//! forms of `crate::domain::commerce`, the same as the seed files):
//!
//! | request | answer |
//! | --- | --- |
//! | `GET {base}/products` | `[Product]` |
//! | `GET {base}/products/{sku}` | `Product` |
//! | `GET {base}/stock/{sku}?size=&color=` | `[StockRow]`, narrowed by the optional size and colour |
//! | `GET {base}/customers/{id}` | `Customer` |
//! | `GET {base}/orders/{id}` | `Order` |
//! | `GET {base}/orders?customer_id=` | `[Order]`, newest first |
//! | `GET {base}/orders/{id}/shipment` | `Shipment` |
//! | `GET {base}/promotions` | `[Promotion]` |
//! | `GET {base}/coupons?customer_id=` | `[Coupon]`: public ones, plus the customer's when given |
//! | `POST {base}/orders/{id}/changes` `OrderChange` | `Order` as changed |
//! | `POST {base}/returns` `NewReturn` | `ReturnRecord` |
//! | `POST {base}/restock-subscriptions` `RestockRequest` | `RestockSubscription` |
//! | `POST {base}/work-orders` `NewWorkOrder` | `WorkOrder` |
//!
//! Every request carries `Authorization: Bearer <api_key>` when a key is configured. Path
//! segments and query values are percent-encoded (ids come from shoppers).
//!
//! Status codes: 2xx is the answer. 404 is `Ok(None)` for a lookup (an empty list for
//! stock) and [`CommerceError::NotFound`] for a write. 409 is
//! [`CommerceError::NotAllowed`] and 400/422 [`CommerceError::Invalid`], both with the
//! server's message, read from `{"error":{"message":...}}`, `{"message":...}` or a plain-text
//! body. 401/403, 5xx, other codes, refused connections and timeouts are
//! [`CommerceError::Unavailable`]; a 2xx body that is not the expected JSON is
//! [`CommerceError::Corrupt`].

use crate::domain::commerce::{
    Coupon, Customer, NewReturn, NewWorkOrder, Order, OrderChange, Product, Promotion, RestockRequest,
    RestockSubscription, ReturnRecord, Shipment, StockRow, WorkOrder,
};
use crate::ports::{CommerceBackend, CommerceError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// How to reach the order system: `[commerce.http]` in clerk.toml.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpBackendConfig {
    /// e.g. `https://orders.example.com/api/v1`; a trailing `/` is ignored.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <api_key>`.
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// The whole request, connect to last byte.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
}

fn default_connect_timeout_ms() -> u64 {
    2_000
}

fn default_request_timeout_ms() -> u64 {
    5_000
}

impl HttpBackendConfig {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            connect_timeout_ms: default_connect_timeout_ms(),
            request_timeout_ms: default_request_timeout_ms(),
        }
    }
}

// The key stays out of logs.
impl fmt::Debug for HttpBackendConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpBackendConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .finish()
    }
}

pub struct HttpBackend {
    agent: ureq::Agent,
    base: String,
    authorization: Option<String>,
}

/// Bodies larger than this are not an order system's answer.
const MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;
/// Longest error message passed on from the server.
const MAX_MESSAGE_CHARS: usize = 300;

/// Percent-encodes one path segment: everything but ASCII letters, digits, `-`, `_` and `~`.
/// Dots are encoded too, so an id such as `..` cannot climb the path.
fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorBody {
    Nested { error: ErrorDetail },
    Flat { message: String },
    Plain { error: String },
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

/// The server's own words about a refusal, or the status line when it gave none.
fn server_message(status: u16, body: &str) -> String {
    let message = match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody::Nested { error }) => error.message,
        Ok(ErrorBody::Flat { message }) | Ok(ErrorBody::Plain { error: message }) => message,
        Err(_) => body.trim().to_string(),
    };
    if message.is_empty() { format!("HTTP {status}") } else { message.chars().take(MAX_MESSAGE_CHARS).collect() }
}

/// What a non-2xx answer means; `lookup` turns 404 into "no such record".
enum Refusal {
    Missing(String),
    Error(CommerceError),
}

fn refusal(status: u16, message: String, what: &str) -> Refusal {
    match status {
        404 => Refusal::Missing(message),
        409 => Refusal::Error(CommerceError::NotAllowed(message)),
        400 | 422 => Refusal::Error(CommerceError::Invalid(message)),
        401 | 403 => Refusal::Error(CommerceError::Unavailable(format!(
            "{what}: the order system refused our credentials (HTTP {status})"
        ))),
        _ => Refusal::Error(CommerceError::Unavailable(format!("{what}: HTTP {status}: {message}"))),
    }
}

impl HttpBackend {
    pub fn new(config: &HttpBackendConfig) -> Result<Self, CommerceError> {
        let base = config.base_url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(CommerceError::Invalid(format!(
                "commerce base_url must start with http:// or https://, not {:?}",
                config.base_url
            )));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_millis(config.connect_timeout_ms)))
            .timeout_global(Some(Duration::from_millis(config.request_timeout_ms)))
            .build()
            .new_agent();
        let authorization = config.api_key.as_ref().map(|key| format!("Bearer {key}"));
        Ok(Self { agent, base, authorization })
    }

    /// Sends a request and reads a 2xx body as `T`; `Err(Refusal)` for any other status.
    fn send<T: DeserializeOwned>(
        &self,
        request: ureq::RequestBuilder<ureq::typestate::WithoutBody>,
        what: &str,
    ) -> Result<Result<T, Refusal>, CommerceError> {
        self.finish(self.authorize(request).call(), what)
    }

    fn authorize<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let request = request.header("Accept", "application/json");
        match &self.authorization {
            Some(value) => request.header("Authorization", value),
            None => request,
        }
    }

    fn finish<T: DeserializeOwned>(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        what: &str,
    ) -> Result<Result<T, Refusal>, CommerceError> {
        let unavailable = |e: ureq::Error| CommerceError::Unavailable(format!("{what}: {e}"));
        let mut response = response.map_err(unavailable)?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(MAX_BODY_BYTES);
        if (200..300).contains(&status) {
            let text = body.read_to_string().map_err(unavailable)?;
            return serde_json::from_str(&text)
                .map(Ok)
                .map_err(|e| CommerceError::Corrupt(format!("{what}: unexpected answer: {e}")));
        }
        // The refusal's message is a courtesy: a body that cannot be read still refuses.
        let text = body.read_to_string().unwrap_or_default();
        Ok(Err(refusal(status, server_message(status, &text), what)))
    }

    fn url(&self, segments: &[&str]) -> String {
        let mut url = self.base.clone();
        for s in segments {
            url.push('/');
            url.push_str(&segment(s));
        }
        url
    }

    /// A GET of one record: 404 is `None`.
    fn lookup<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Option<T>, CommerceError> {
        let what = format!("GET /{}", segments.join("/"));
        // An empty id would address the collection, not a record.
        if segments.iter().any(|s| s.is_empty()) {
            return Ok(None);
        }
        let request = self.agent.get(self.url(segments)).query_pairs(query.iter().copied());
        match self.send(request, &what)? {
            Ok(value) => Ok(Some(value)),
            Err(Refusal::Missing(_)) => Ok(None),
            Err(Refusal::Error(e)) => Err(e),
        }
    }

    fn list<T: DeserializeOwned>(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Vec<T>, CommerceError> {
        Ok(self.lookup(segments, query)?.unwrap_or_default())
    }

    fn post<B: Serialize, T: DeserializeOwned>(&self, segments: &[&str], body: &B) -> Result<T, CommerceError> {
        let what = format!("POST /{}", segments.join("/"));
        let json = serde_json::to_vec(body).map_err(|e| CommerceError::Invalid(format!("{what}: {e}")))?;
        let request = self.authorize(self.agent.post(self.url(segments))).content_type("application/json");
        match self.finish(request.send(&json[..]), &what)? {
            Ok(value) => Ok(value),
            Err(Refusal::Missing(message)) => Err(CommerceError::NotFound(message)),
            Err(Refusal::Error(e)) => Err(e),
        }
    }
}

impl CommerceBackend for HttpBackend {
    fn name(&self) -> &str {
        "http"
    }

    fn product(&self, sku: &str) -> Result<Option<Product>, CommerceError> {
        self.lookup(&["products", sku], &[])
    }

    fn products(&self) -> Result<Vec<Product>, CommerceError> {
        self.list(&["products"], &[])
    }

    fn stock(&self, sku: &str, size: Option<&str>, color: Option<&str>) -> Result<Vec<StockRow>, CommerceError> {
        let query: Vec<(&str, &str)> =
            [("size", size), ("color", color)].into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
        self.list(&["stock", sku], &query)
    }

    fn customer(&self, id: &str) -> Result<Option<Customer>, CommerceError> {
        self.lookup(&["customers", id], &[])
    }

    fn order(&self, order_id: &str) -> Result<Option<Order>, CommerceError> {
        self.lookup(&["orders", order_id], &[])
    }

    fn orders_of(&self, customer_id: &str) -> Result<Vec<Order>, CommerceError> {
        if customer_id.is_empty() {
            return Ok(Vec::new());
        }
        self.list(&["orders"], &[("customer_id", customer_id)])
    }

    fn shipment(&self, order_id: &str) -> Result<Option<Shipment>, CommerceError> {
        self.lookup(&["orders", order_id, "shipment"], &[])
    }

    fn promotions(&self) -> Result<Vec<Promotion>, CommerceError> {
        self.list(&["promotions"], &[])
    }

    fn coupons(&self, customer_id: Option<&str>) -> Result<Vec<Coupon>, CommerceError> {
        let query: Vec<(&str, &str)> = customer_id.map(|c| ("customer_id", c)).into_iter().collect();
        self.list(&["coupons"], &query)
    }

    fn change_order(&self, order_id: &str, change: &OrderChange) -> Result<Order, CommerceError> {
        self.post(&["orders", order_id, "changes"], change)
    }

    fn create_return(&self, request: &NewReturn) -> Result<ReturnRecord, CommerceError> {
        self.post(&["returns"], request)
    }

    fn subscribe_restock(&self, request: &RestockRequest) -> Result<RestockSubscription, CommerceError> {
        self.post(&["restock-subscriptions"], request)
    }

    fn create_work_order(&self, request: &NewWorkOrder) -> Result<WorkOrder, CommerceError> {
        self.post(&["work-orders"], request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::testing::{Fixture, canned, serve};
    use std::sync::Arc;
    use std::time::Instant;

    fn backend(base: &str, api_key: Option<&str>, request_timeout_ms: u64) -> HttpBackend {
        let config = HttpBackendConfig {
            api_key: api_key.map(String::from),
            request_timeout_ms,
            ..HttpBackendConfig::new(base)
        };
        HttpBackend::new(&config).unwrap()
    }

    fn unavailable<T: fmt::Debug>(result: Result<T, CommerceError>) -> String {
        match result {
            Err(CommerceError::Unavailable(message)) => message,
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[test]
    fn path_segments_cannot_escape_or_break_the_url() {
        assert_eq!(segment("HS-RUN-101"), "HS-RUN-101");
        assert_eq!(segment("../x"), "%2E%2E%2Fx");
        assert_eq!(segment("1?a=b#c d"), "1%3Fa%3Db%23c%20d");
        assert_eq!(segment("订"), "%E8%AE%A2");
    }

    #[test]
    fn the_server_message_is_passed_on_in_any_usual_shape() {
        assert_eq!(server_message(409, r#"{"error":{"code":"x","message":"already shipped"}}"#), "already shipped");
        assert_eq!(server_message(409, r#"{"message":"already shipped"}"#), "already shipped");
        assert_eq!(server_message(409, r#"{"error":"already shipped"}"#), "already shipped");
        assert_eq!(server_message(409, "already shipped\n"), "already shipped");
        assert_eq!(server_message(409, ""), "HTTP 409");
        assert_eq!(server_message(500, &"x".repeat(5000)).len(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn config_reads_from_toml_with_defaults_and_hides_the_key() {
        let config: HttpBackendConfig =
            toml::from_str("base_url = \"https://orders.example.com/api/\"\napi_key = \"k-123\"").unwrap();
        assert_eq!((config.connect_timeout_ms, config.request_timeout_ms), (2_000, 5_000));
        assert!(!format!("{config:?}").contains("k-123"));
        assert_eq!(HttpBackend::new(&config).unwrap().url(&["orders", "1"]), "https://orders.example.com/api/orders/1");
        assert!(toml::from_str::<HttpBackendConfig>("base_url = \"http://x\"\ntimeout = 3").is_err());
        assert!(matches!(
            HttpBackend::new(&HttpBackendConfig::new("orders.example.com")),
            Err(CommerceError::Invalid(_))
        ));
    }

    #[test]
    fn the_api_key_is_sent_as_a_bearer_token() {
        let served = Fixture::new();
        let server = serve(Arc::new(served.store), "right");
        assert!(backend(&server.base, Some("right"), 5_000).product("HS-RUN-101").unwrap().is_some());
        for key in [None, Some("wrong")] {
            let message = unavailable(backend(&server.base, key, 5_000).product("HS-RUN-101"));
            assert!(message.contains("credentials"), "{message}");
        }
    }

    #[test]
    fn a_slow_server_times_out_as_unavailable() {
        let base = canned("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]", Duration::from_secs(3));
        let started = Instant::now();
        let message = unavailable(backend(&base, None, 300).products());
        assert!(started.elapsed() < Duration::from_secs(2), "gave up after {:?}", started.elapsed());
        assert!(message.contains("timeout"), "{message}");
    }

    #[test]
    fn failures_of_the_order_system_map_to_errors_the_turn_can_degrade_on() {
        let down = canned("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n", Duration::ZERO);
        assert!(unavailable(backend(&down, None, 2_000).order("1")).contains("503"));

        let garbled = canned("HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n<html/>\r\n", Duration::ZERO);
        assert!(matches!(backend(&garbled, None, 2_000).order("1"), Err(CommerceError::Corrupt(_))));

        let refusing = canned("HTTP/1.1 409 Conflict\r\ncontent-length: 15\r\n\r\nalready shipped", Duration::ZERO);
        match backend(&refusing, None, 2_000).change_order("1", &OrderChange::Cancel) {
            Err(CommerceError::NotAllowed(message)) => assert_eq!(message, "already shipped"),
            other => panic!("{other:?}"),
        }

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        unavailable(backend(&format!("http://{closed}"), None, 2_000).promotions());
    }
}
