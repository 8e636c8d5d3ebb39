//! One turn, end to end: validate -> session -> understand -> dialogue -> tools (a browse
//! question goes to product search) and/or retrieval -> compose -> handoff rules -> gap log ->
//! persist -> reply. Synchronous: the server runs it on a blocking thread; `clerk ask` calls it
//! directly.

use super::browse::{self, ProductQuery};
use super::compose::{self, Composed, Thresholds};
use super::dialogue;
use super::handoff;
use super::retrieve::{RetrieveError, Retriever, SearchRequest, interleave};
use super::tools::{self, ToolContext, ToolOutcome, say};
use super::understand::Understander;
use super::understand::guard::{self, Refusal};
use crate::domain::commerce::{NewWorkOrder, OrderChange, Product, RestockRequest};
use crate::domain::conversation::{
    ConversationStats, Feedback, GapCandidate, GapGroup, NewGap, NewTicket, PendingAsk, Session, TurnRecord,
};
use crate::domain::turn::{Citation, Handoff, HandoffReason, Intent, Reply, Slots, ToolCall, Understanding};
use crate::domain::{DocType, Evidence, Filters, Hit, Lang, SearchMode};
use crate::ports::{CommerceBackend, ConversationError, ConversationStore, Snapshot};
use crate::pricing;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// Longest message accepted, in characters (CONTRACT.md: over that, 413).
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Below this intent confidence a message that only fills slots continues the last intent.
const FOLLOW_UP_CONFIDENCE: f32 = 0.75;
/// Below this intent confidence Clerk does not prompt for a tool's missing slot: a message
/// with no clear sign of wanting that tool ("lorem ipsum" is not a stock question) gets the
/// knowledge base's answer, or none.
const PROMPT_CONFIDENCE: f32 = 0.5;
/// Passages retrieved for composing an answer.
const EVIDENCE_K: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error("message is {chars} characters; the limit is {MAX_MESSAGE_CHARS}")]
    TooLong { chars: usize },
    #[error("{0}")]
    Invalid(String),
    #[error("no index is loaded yet")]
    NoIndex,
    #[error("{0}")]
    Internal(String),
}

impl From<ConversationError> for TurnError {
    fn from(e: ConversationError) -> Self {
        match e {
            ConversationError::NotFound(what) => TurnError::Invalid(format!("unknown {what}")),
            ConversationError::Invalid(why) => TurnError::Invalid(why),
            ConversationError::Storage(why) => TurnError::Internal(why),
        }
    }
}

impl From<RetrieveError> for TurnError {
    fn from(e: RetrieveError) -> Self {
        match e {
            RetrieveError::EmptyQuery => TurnError::Invalid("the query is empty".into()),
            other => TurnError::Internal(other.to_string()),
        }
    }
}

/// One shopper message and who sent it; `customer_id` is verified by the caller.
#[derive(Debug, Clone, Default)]
pub struct TurnRequest {
    pub message: String,
    pub session_id: Option<String>,
    pub locale: Option<Lang>,
    pub customer_id: Option<String>,
    pub order_proof: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
    pub took_ms: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct Health {
    pub generation: u64,
    pub documents: usize,
    pub chunks: usize,
}

/// Where "now" comes from: the system clock, or a fixed instant (tests, replays).
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t,
        }
    }
}

pub struct Assistant {
    retriever: Retriever,
    index: RwLock<Option<Arc<Snapshot>>>,
    understander: Understander,
    commerce: Arc<dyn CommerceBackend>,
    conversations: Arc<dyn ConversationStore>,
    thresholds: Thresholds,
    clock: Clock,
}

/// What acting on a turn produced, before handoff and persistence.
#[derive(Default)]
struct Act {
    answer: String,
    answered: bool,
    citations: Vec<Citation>,
    tool_calls: Vec<ToolCall>,
    pending: Option<PendingAsk>,
    options: Vec<String>,
    evidence: Vec<GapCandidate>,
    suggestions: Vec<String>,
    /// Set when retrieval ran and found nothing to stand on.
    weak_evidence: bool,
    /// The product the cited passage is about, when the question did not name one.
    product_hint: Option<String>,
    /// The kind of document the knowledge answer cites first.
    doc_type: Option<DocType>,
    /// Time spent in retrieval and in composing, when the knowledge base was asked.
    retrieve_ms: f64,
    compose_ms: f64,
}

/// Where one turn's time went, in milliseconds (for evals and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StageTimings {
    pub understand_ms: f64,
    /// Dialogue state and tool calls: everything in acting that is not retrieval or composing.
    pub tools_ms: f64,
    pub retrieve_ms: f64,
    pub compose_ms: f64,
    /// Committing the session, the turn and its gap.
    pub store_ms: f64,
    pub total_ms: f64,
}

/// What a turn shows an evaluator beyond the reply.
#[derive(Debug, Clone, Default)]
pub struct TurnTrace {
    pub timings: StageTimings,
    /// The slots the turn acted on (understood, then merged with the session), before a cited
    /// passage's product is filled in.
    pub slots: Slots,
}

impl Act {
    fn said(answer: String) -> Act {
        Act { answer, answered: true, ..Default::default() }
    }

    fn tool(outcome: ToolOutcome, session: &mut Session) -> Act {
        if let Some(order) = outcome.verified_order
            && !session.verified_orders.contains(&order)
        {
            session.verified_orders.push(order);
        }
        let options = outcome.pending.as_ref().map(|p| p.options.clone()).unwrap_or_default();
        Act {
            answer: outcome.answer,
            answered: outcome.answered,
            tool_calls: vec![outcome.call],
            pending: outcome.pending,
            options,
            ..Default::default()
        }
    }

    fn ask_for(slot: &str, intent: Intent, question: String) -> Act {
        Act {
            answer: question,
            answered: true,
            pending: Some(PendingAsk { intent, slot: slot.into(), options: Vec::new() }),
            ..Default::default()
        }
    }
}

impl Assistant {
    pub fn new(
        retriever: Retriever,
        snapshot: Option<Snapshot>,
        understander: Understander,
        commerce: Arc<dyn CommerceBackend>,
        conversations: Arc<dyn ConversationStore>,
        clock: Clock,
    ) -> Self {
        Self {
            retriever,
            index: RwLock::new(snapshot.map(Arc::new)),
            understander,
            commerce,
            conversations,
            thresholds: Thresholds::default(),
            clock,
        }
    }

    /// Swaps in a newly published generation; turns in flight keep the one they started with.
    pub fn swap_index(&self, snapshot: Snapshot) {
        if let Ok(mut index) = self.index.write() {
            *index = Some(Arc::new(snapshot));
        }
    }

    fn snapshot(&self) -> Result<Arc<Snapshot>, TurnError> {
        self.index.read().ok().and_then(|i| i.clone()).ok_or(TurnError::NoIndex)
    }

    pub fn health(&self) -> Option<Health> {
        let snapshot = self.snapshot().ok()?;
        let mut docs: Vec<&str> = snapshot.chunks.iter().map(|c| c.doc_id.as_str()).collect();
        docs.sort_unstable();
        docs.dedup();
        Some(Health { generation: snapshot.manifest.generation, documents: docs.len(), chunks: snapshot.chunks.len() })
    }

    pub fn search(&self, request: &SearchRequest) -> Result<SearchResult, TurnError> {
        let started = Instant::now();
        let snapshot = self.snapshot()?;
        let (hits, _) = self.retriever.search(&snapshot, request)?;
        Ok(SearchResult { hits, took_ms: started.elapsed().as_secs_f64() * 1000.0 })
    }

    pub fn feedback(&self, feedback: &Feedback) -> Result<(), TurnError> {
        Ok(self.conversations.record_feedback(feedback)?)
    }

    pub fn gap_groups(&self, include_resolved: bool) -> Result<Vec<GapGroup>, TurnError> {
        Ok(self.conversations.gap_groups(include_resolved)?)
    }

    pub fn resolve_gap_group(&self, id: &str) -> Result<bool, TurnError> {
        Ok(self.conversations.resolve_gap_group(id)?)
    }

    pub fn stats(&self) -> Result<ConversationStats, TurnError> {
        Ok(self.conversations.stats()?)
    }

    pub fn turn(&self, request: TurnRequest) -> Result<Reply, TurnError> {
        self.traced_turn(request).map(|(reply, _)| reply)
    }

    /// The understanding of a message on its own, without a session.
    pub fn understand(&self, message: &str) -> crate::domain::turn::Understanding {
        self.understander.understand(message)
    }

    /// One turn, with where its time went.
    pub fn traced_turn(&self, request: TurnRequest) -> Result<(Reply, TurnTrace), TurnError> {
        let started = Instant::now();
        let message = validate(&request.message)?;
        let now = self.clock.now();
        let understood = self.understander.understand(message);
        let understand_ms = started.elapsed().as_secs_f64() * 1000.0;
        let lang = reply_lang(message, understood.lang, request.locale);
        let mut session = self.session(request.session_id.as_deref(), request.customer_id.as_deref(), lang, now)?;
        session.lang = lang;

        let (intent, confidence, mut slots) = resolve(&session, message, &understood);
        let proof = request.order_proof.clone().or_else(|| {
            session.pending.as_ref().filter(|p| p.slot == "order_proof").and_then(|_| dialogue::proof_in(message))
        });

        let acting = Instant::now();
        // A message naming an order is about that order: an attempt to talk past the proof
        // check is ignored, and the tool's own check still stands.
        let refused = guard::refusal(message)
            .filter(|r| understood.slots.order_id.is_none() || !matches!(r, Refusal::Injection | Refusal::Code));
        let mut act = if let Some(refusal) = refused {
            Act { answer: refusal_answer(refusal, lang), ..Default::default() }
        } else if session.handed_off && intent != Intent::Greeting {
            Act::said(say(
                lang,
                "已为您转接人工客服，请稍候，客服会尽快回复。",
                "A colleague has this chat and will reply shortly.",
            ))
        } else {
            let browse = browse::product_query(message, intent, &understood.slots, &slots);
            let (browse, proof) = (browse.as_ref(), proof.as_deref());
            self.act(&mut session, message, intent, confidence, &slots, browse, proof, lang, now)?
        };
        let acting_ms = acting.elapsed().as_secs_f64() * 1000.0;
        let acted_slots = slots.clone();

        if slots.product.is_none() && slots.sku.is_none() {
            slots.product = act.product_hint.take();
        }
        // Handoff: explicit request, business rules, anger, then repeated failure.
        let rule = handoff::business_rule(message);
        // A refused message is neither obeyed nor escalated.
        let reason = if refused.is_some() {
            None
        } else if intent == Intent::HumanHandoff {
            Some((HandoffReason::ExplicitRequest, "explicit request"))
        } else if let Some(rule) = rule {
            Some((HandoffReason::BusinessRule, rule))
        } else if understood.sentiment.is_angry() {
            Some((HandoffReason::NegativeSentiment, "negative sentiment"))
        } else if !act.answered && session.unanswered_streak + 1 >= 2 {
            Some((HandoffReason::RepeatedFailure, "two unanswered turns in a row"))
        } else {
            None
        };
        let handoff = match reason {
            Some((reason, why)) if !session.handed_off => {
                Some(self.hand_off(&session, message, intent, &slots, &act, reason, why, lang, now)?)
            }
            _ => None,
        };
        if let Some(h) = &handoff {
            let note = match h.reason {
                HandoffReason::BusinessRule => say(
                    lang,
                    "这个需要人工客服来处理，我已为您转接，请稍候。",
                    "This needs a colleague's decision; I have passed your chat to a human agent.",
                ),
                HandoffReason::NegativeSentiment => say(
                    lang,
                    "非常抱歉给您带来不好的体验，我已为您转接人工客服，请稍候。",
                    "I am sorry about this. I have passed your chat to a human agent, who will be with you shortly.",
                ),
                _ => say(
                    lang,
                    "已为您转接人工客服，请稍候。",
                    "I have passed your chat to a human agent; please hold on.",
                ),
            };
            act.answer = if act.answer.is_empty()
                || !act.answered
                || intent == Intent::HumanHandoff
                || h.reason == HandoffReason::BusinessRule
            {
                note
            } else {
                format!("{}\n\n{note}", act.answer)
            };
            act.pending = None;
            session.handed_off = true;
        }

        session.unanswered_streak = if act.answered { 0 } else { session.unanswered_streak + 1 };
        session.turns += 1;
        session.updated_at = now;
        session.last_intent = Some(intent);
        // The order under discussion outlives a turn about something else, so a later "get me
        // a human" still names it.
        session.slots = Slots { order_id: slots.order_id.clone().or(session.slots.order_id.take()), ..slots.clone() };
        session.pending = act.pending.clone();
        session.last_options = act.options.clone();

        let turn_id = format!("t_{}", uuid::Uuid::new_v4().simple());
        let reply = Reply {
            session_id: session.id.clone(),
            turn_id: turn_id.clone(),
            answer: act.answer,
            answered: act.answered,
            intent,
            slots,
            confidence,
            citations: act.citations,
            tool_calls: act.tool_calls,
            handoff,
            suggestions: act.suggestions,
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        let gap = (!reply.answered).then(|| NewGap {
            question: message.to_string(),
            lang,
            session_id: session.id.clone(),
            turn_id: turn_id.clone(),
            source: "unanswered".into(),
            candidates: act.evidence,
            at: now,
        });
        let record = TurnRecord {
            turn_id,
            session_id: session.id.clone(),
            at: now,
            question: message.to_string(),
            lang,
            intent,
            confidence,
            answered: reply.answered,
            handoff: reply.handoff.as_ref().map(|h| h.reason),
            latency_ms: reply.latency_ms,
            reply: serde_json::to_value(&reply).unwrap_or_default(),
        };
        // Committed before the reply leaves: a gap survives a crash right after.
        let storing = Instant::now();
        self.conversations.record_turn(&session, &record, gap.as_ref())?;
        let timings = StageTimings {
            understand_ms,
            tools_ms: (acting_ms - act.retrieve_ms - act.compose_ms).max(0.0),
            retrieve_ms: act.retrieve_ms,
            compose_ms: act.compose_ms,
            store_ms: storing.elapsed().as_secs_f64() * 1000.0,
            total_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        Ok((reply, TurnTrace { timings, slots: acted_slots }))
    }

    /// The session to continue, or a new one. A session belongs to the customer who began it:
    /// another token (or none) starts afresh rather than reading someone else's context.
    fn session(
        &self,
        session_id: Option<&str>,
        customer_id: Option<&str>,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> Result<Session, TurnError> {
        if let Some(id) = session_id {
            if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(TurnError::Invalid("session_id must be 1-64 letters, digits, '-' or '_'".into()));
            }
            if let Some(session) = self.conversations.load_session(id, now)?
                && session.customer_id.as_deref() == customer_id
            {
                return Ok(session);
            }
        }
        let id = format!("s_{}", uuid::Uuid::new_v4().simple());
        Ok(Session::new(id, customer_id.map(str::to_string), lang, now))
    }

    #[allow(clippy::too_many_arguments)]
    fn act(
        &self,
        session: &mut Session,
        message: &str,
        intent: Intent,
        confidence: f32,
        slots: &Slots,
        browse: Option<&ProductQuery>,
        proof: Option<&str>,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> Result<Act, TurnError> {
        let verified = session.verified_orders.clone();
        let ctx = ToolContext {
            commerce: self.commerce.as_ref(),
            lang,
            now,
            customer_id: session.customer_id.as_deref(),
            verified_orders: &verified,
        };
        let pending_slot = session.pending.as_ref().map(|p| p.slot.clone());
        // Answers to yes/no questions Clerk asked.
        if let Some(slot) = pending_slot.as_deref() {
            if dialogue::is_no(message) {
                return Ok(Act::said(say(
                    lang,
                    "好的，还有什么可以帮您？",
                    "All right. Anything else I can help with?",
                )));
            }
            if dialogue::accepts(slot, message) {
                match slot {
                    "confirm_return" => {
                        if let Some(order_id) = &slots.order_id {
                            return Ok(Act::tool(tools::return_request(&ctx, order_id, proof, true, false), session));
                        }
                    }
                    "restock_notify" => {
                        if let Some(product) = self.product_of(slots)? {
                            let contact =
                                session.customer_id.clone().unwrap_or_else(|| format!("session:{}", session.id));
                            let request = RestockRequest {
                                sku: product.sku.clone(),
                                size: slots
                                    .size
                                    .as_deref()
                                    .and_then(|s| tools::catalogue_size(&product, s))
                                    .map(str::to_string),
                                color: slots.color.clone(),
                                contact,
                            };
                            return Ok(Act::tool(tools::subscribe_restock(&ctx, &request), session));
                        }
                    }
                    "confirm_work_order" => {
                        let Some(sku) = slots.sku.clone().or_else(|| slots.product.clone()) else {
                            return Ok(Act::ask_for(
                                "product",
                                Intent::FaultDiagnosis,
                                say(lang, "请问是哪台电器出现的故障？", "Which appliance shows the fault?"),
                            ));
                        };
                        let request = NewWorkOrder {
                            sku,
                            fault_code: slots.fault_code.clone(),
                            description: session_summary(session),
                            steps_tried: Vec::new(),
                            customer_id: session.customer_id.clone(),
                            order_id: slots.order_id.clone(),
                        };
                        return Ok(Act::tool(tools::work_order(&ctx, &request), session));
                    }
                    "add_to_cart" => {
                        return Ok(Act::said(say(
                            lang,
                            "好的，已为您加入购物车，可在购物车中结算。",
                            "Done: it is in your cart, ready for checkout.",
                        )));
                    }
                    _ => {}
                }
            }
        }

        // A browse question ("which running shoes do you have in size 10?") lists products; one
        // whose words name nothing in the catalogue goes on to the paths below.
        if let Some(outcome) = browse.and_then(|query| tools::product_search(&ctx, query)) {
            if outcome.answered {
                return Ok(Act::tool(outcome, session));
            }
            // Nothing in the catalogue fits: the words may be about a rule ("do you sell my
            // data"), which the knowledge base answers; else the search's "we do not carry that".
            let rule = self.knowledge(message, intent, slots, lang)?;
            if rule.answered {
                return Ok(rule);
            }
            return Ok(Act {
                retrieve_ms: rule.retrieve_ms,
                compose_ms: rule.compose_ms,
                ..Act::tool(outcome, session)
            });
        }

        match intent {
            Intent::Greeting => Ok(Act::said(say(
                lang,
                "您好！我是禾登智能客服，可以帮您查订单、查库存、算价格，也能解答退换货、配送和电器使用问题。",
                "Hello! I am Halden's assistant. I can track orders, check stock and prices, and answer questions on returns, delivery and using your appliances.",
            ))),
            Intent::HumanHandoff => Ok(Act { answered: true, ..Default::default() }),
            Intent::OrderStatus | Intent::OrderChange | Intent::ReturnRefund => {
                let Some(order_id) = slots.order_id.clone().or_else(|| self.latest_order(session)) else {
                    // No order in play: a question about the rules ("who pays return shipping",
                    // "do I lose free shipping") is answered from the policies. A confidently
                    // understood order request without its number is asked for the number.
                    if intent == Intent::ReturnRefund {
                        return self.knowledge(message, intent, slots, lang);
                    }
                    let (mut retrieve_ms, mut compose_ms) = (0.0, 0.0);
                    if confidence < FOLLOW_UP_CONFIDENCE {
                        let act = self.knowledge(message, intent, slots, lang)?;
                        if act.answered || confidence < PROMPT_CONFIDENCE {
                            return Ok(act);
                        }
                        (retrieve_ms, compose_ms) = (act.retrieve_ms, act.compose_ms);
                    }
                    let ask = Act::ask_for(
                        "order_id",
                        intent,
                        say(
                            lang,
                            "请提供您的12位订单号，我来为您查询。",
                            "Please give me your 12-digit order number and I will look it up.",
                        ),
                    );
                    // The policy search that came to nothing still counts as retrieval time.
                    return Ok(Act { retrieve_ms, compose_ms, ..ask });
                };
                let outcome = match intent {
                    Intent::OrderStatus => tools::order_status(&ctx, &order_id, proof),
                    Intent::OrderChange => match order_change_of(message, slots) {
                        Some(change) => tools::order_change(&ctx, &order_id, proof, &change),
                        None => {
                            return Ok(Act::ask_for(
                                "order_change",
                                intent,
                                say(
                                    lang,
                                    format!(
                                        "请问订单 {order_id} 要修改什么？可以取消订单、修改数量，或告诉我新的收货地址。"
                                    ),
                                    format!(
                                        "What would you like to change on order {order_id}? I can cancel it, change a quantity, or take a new delivery address."
                                    ),
                                ),
                            ));
                        }
                    },
                    _ => {
                        let create = wants_return(message);
                        let quality = quality_problem(message);
                        tools::return_request(&ctx, &order_id, proof, create, quality)
                    }
                };
                let mut act = Act::tool(outcome, session);
                if let Some(p) = act.pending.as_mut()
                    && p.slot == "order_proof"
                {
                    p.intent = intent;
                    // Proof given and not accepted: nothing about the order was answered.
                    act.answered &= proof.is_none();
                }
                if intent == Intent::ReturnRefund && act.answered && act.pending.is_none() {
                    // "It is back at your warehouse; how long until the refund shows?": the
                    // order's state, then the rule that applies, when the policies answer it.
                    let rule = self.knowledge(&message.replace(order_id.as_str(), " "), intent, slots, lang)?;
                    if rule.answered {
                        act.answer = format!("{}\n\n{}", act.answer, rule.answer);
                        act.citations = rule.citations;
                    }
                    act.retrieve_ms = rule.retrieve_ms;
                    act.compose_ms = rule.compose_ms;
                }
                Ok(act)
            }
            Intent::InventoryCheck => {
                let Some(product) = self.product_of(slots)? else {
                    if confidence < PROMPT_CONFIDENCE {
                        return self.knowledge(message, intent, slots, lang);
                    }
                    return Ok(Act::ask_for(
                        "product",
                        intent,
                        say(lang, "请问您想查询哪款商品的库存？", "Which product would you like me to check?"),
                    ));
                };
                Ok(Act::tool(tools::stock(&ctx, &product, slots.size.as_deref(), slots.color.as_deref()), session))
            }
            Intent::PointsBalance if session.customer_id.is_some() && !asks_rules(message) => {
                Ok(Act::tool(tools::points(&ctx), session))
            }
            Intent::PriceQuote => match self.product_of(slots)? {
                Some(product) => Ok(self.price_quote(session, &product, slots, lang, now)),
                None => self.knowledge(message, intent, slots, lang),
            },
            Intent::FaultDiagnosis => {
                let mut act = self.knowledge(message, intent, slots, lang)?;
                if let Some(code) = slots.fault_code.as_deref()
                    && act.answered
                {
                    // "E04 in year 4: is the fan motor still under warranty?": the code's row,
                    // then the shop's rule on the rest of the question when a policy answers it.
                    let rule_slots = Slots { fault_code: None, ..slots.clone() };
                    let rule = self.knowledge(&without_code(message, code), intent, &rule_slots, lang)?;
                    if rule.answered && rule.doc_type == Some(DocType::Policy) {
                        act.answer = format!("{}\n\n{}", act.answer, rule.answer);
                        act.citations.extend(rule.citations);
                    }
                    act.retrieve_ms += rule.retrieve_ms;
                    act.compose_ms += rule.compose_ms;
                }
                if act.answered && slots.fault_code.is_some() && engineer_needed(&act.answer) {
                    act.answer.push_str(&say(
                        lang,
                        "\n\n如按以上步骤处理后仍未解决，需要我为您创建上门维修工单吗？",
                        "\n\nIf these steps do not fix it, shall I open an engineer work order for you?",
                    ));
                    act.pending = Some(PendingAsk { intent, slot: "confirm_work_order".into(), options: Vec::new() });
                }
                Ok(act)
            }
            _ => self.knowledge(message, intent, slots, lang),
        }
    }

    /// Retrieval and an extractive answer, filtered to the product and code the turn names.
    fn knowledge(&self, message: &str, intent: Intent, slots: &Slots, lang: Lang) -> Result<Act, TurnError> {
        let retrieving = Instant::now();
        let snapshot = self.snapshot()?;
        let mut query = message.to_string();
        if let Some(code) = &slots.fault_code
            && !query.to_uppercase().contains(code.as_str())
        {
            query.push(' ');
            query.push_str(code);
        }
        let filters = Filters {
            doc_type: (intent == Intent::FaultDiagnosis && slots.fault_code.is_some()).then_some(DocType::FaultCodes),
            product: slots.product.clone().filter(|p| p.chars().any(|c| c.is_ascii_uppercase())),
            lang: None,
        };
        let request = SearchRequest { query, k: EVIDENCE_K, mode: SearchMode::Hybrid, filters };
        let (mut evidence, _) = self.retriever.evidence(&snapshot, &request)?;
        if request.filters.product.is_some() && request.filters.doc_type.is_none() {
            // The product narrows the search, but the shop's rules (returns, payment, warranty)
            // are about no product: the unfiltered ranking takes turns with the filtered one.
            let unfiltered = SearchRequest { filters: Filters::default(), ..request };
            evidence = interleave(evidence, self.retriever.evidence(&snapshot, &unfiltered)?.0, EVIDENCE_K);
        } else if evidence.is_empty() && request.filters != Filters::default() {
            // A product the documents are not tagged with: search everything instead.
            let unfiltered = SearchRequest { filters: Filters::default(), ..request };
            evidence = self.retriever.evidence(&snapshot, &unfiltered)?.0;
        }
        let retrieve_ms = retrieving.elapsed().as_secs_f64() * 1000.0;
        let composing = Instant::now();
        let product = slots.sku.as_deref().or(slots.product.as_deref());
        let composed: Composed = compose::compose(message, lang, &evidence, product, &self.thresholds);
        let compose_ms = composing.elapsed().as_secs_f64() * 1000.0;
        let candidates = candidates_of(&evidence);
        let cited = composed.citations.first().and_then(|c| evidence.iter().find(|e| e.chunk.doc_id == c.doc_id));
        let product_hint = cited.and_then(|e| e.chunk.products.first().cloned());
        Ok(Act {
            product_hint: if composed.answered { product_hint } else { None },
            doc_type: cited.map(|e| e.chunk.doc_type),
            answer: composed.answer,
            answered: composed.answered,
            citations: composed.citations,
            evidence: candidates,
            weak_evidence: !composed.answered,
            retrieve_ms,
            compose_ms,
            ..Default::default()
        })
    }

    fn product_of(&self, slots: &Slots) -> Result<Option<Product>, TurnError> {
        let wanted = slots.sku.as_deref().or(slots.product.as_deref());
        let Some(wanted) = wanted else { return Ok(None) };
        let lookup = |sku: &str| self.commerce.product(sku).map_err(|e| TurnError::Internal(e.to_string()));
        if let Some(product) = lookup(wanted)? {
            return Ok(Some(product));
        }
        // A family tag ("stride-glide-3"): the first product carrying it that has the size asked.
        let family: Vec<Product> = self
            .commerce
            .products()
            .map_err(|e| TurnError::Internal(e.to_string()))?
            .into_iter()
            .filter(|p| p.tags.iter().any(|t| t == wanted))
            .collect();
        let with_size = family
            .iter()
            .find(|p| slots.size.as_deref().is_some_and(|s| tools::catalogue_size(p, s).is_some()))
            .cloned();
        Ok(with_size.or_else(|| family.into_iter().next()))
    }

    fn latest_order(&self, session: &Session) -> Option<String> {
        let customer = session.customer_id.as_deref()?;
        self.commerce.orders_of(customer).ok()?.into_iter().max_by_key(|o| o.created_at).map(|o| o.order_id)
    }

    fn price_quote(&self, session: &Session, product: &Product, slots: &Slots, lang: Lang, now: DateTime<Utc>) -> Act {
        let quantity = slots.quantity.unwrap_or(1).max(1);
        let lines = vec![pricing::CartLine {
            sku: product.sku.clone(),
            category: product.category,
            unit_price_cents: product.price_cents,
            quantity,
            final_sale: product.final_sale,
        }];
        let customer = session.customer_id.as_deref().and_then(|id| self.commerce.customer(id).ok().flatten());
        let orders = session.customer_id.as_deref().and_then(|id| self.commerce.orders_of(id).ok()).unwrap_or_default();
        let context = pricing::Context {
            today: pricing::shop_day(now),
            customer_id: session.customer_id.clone(),
            tier: customer.as_ref().map(|c| c.tier),
            points_balance: customer.as_ref().map(|c| c.points).unwrap_or(0),
            first_order: !orders.iter().any(|o| o.paid_at.is_some()),
            coupons: self.commerce.coupons(session.customer_id.as_deref()).unwrap_or_default(),
            promotions: self.commerce.promotions().unwrap_or_default(),
            remote_region: false,
            express: false,
        };
        let arguments = serde_json::json!({"lines": lines, "coupon": slots.coupon, "points": slots.points});
        let chosen = slots.coupon.as_ref().map(|code| {
            let choice = pricing::Choice { coupon: Some(code.clone()), points: slots.points.unwrap_or(0) };
            pricing::quote(&lines, &context, &choice)
        });
        let best = pricing::best_quote(&lines, &context);
        let name = tools::product_name(product, lang);
        let header = say(lang, format!("{name} × {quantity}："), format!("{name} × {quantity}:"));
        let (ok, answer, result) = match (chosen, best) {
            (Some(Ok(q)), _) => (true, format!("{header}\n{}", q.explain(lang)), serde_json::json!(q)),
            (Some(Err(e)), Ok(best)) => (
                true,
                format!("{header}\n{}\n{}", e.message(lang), best.explain(lang)),
                serde_json::json!({"error": e.to_string(), "best": best}),
            ),
            (None, Ok(best)) => (true, format!("{header}\n{}", best.explain(lang)), serde_json::json!(best)),
            (_, Err(e)) => (false, e.message(lang), serde_json::json!({"error": e.to_string()})),
        };
        let call = ToolCall { name: "price_quote".into(), arguments, ok, result };
        Act { answer, answered: ok, tool_calls: vec![call], ..Default::default() }
    }

    #[allow(clippy::too_many_arguments)]
    fn hand_off(
        &self,
        session: &Session,
        message: &str,
        intent: Intent,
        slots: &Slots,
        act: &Act,
        reason: HandoffReason,
        why: &str,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> Result<Handoff, TurnError> {
        let mut tried: Vec<String> = act.tool_calls.iter().map(|c| format!("{} (ok={})", c.name, c.ok)).collect();
        if act.weak_evidence {
            tried.push("knowledge search: no confident answer".into());
        }
        if session.unanswered_streak > 0 {
            tried.push(format!("{} earlier unanswered turn(s)", session.unanswered_streak));
        }
        let summary = handoff::summary(lang, message, intent, slots, &tried, session.customer_id.as_deref(), why);
        let ticket = NewTicket {
            session_id: session.id.clone(),
            reason,
            summary: summary.clone(),
            customer_id: session.customer_id.clone(),
            order_id: slots.order_id.clone(),
            at: now,
        };
        let ticket_id = self.conversations.create_ticket(&ticket)?;
        Ok(Handoff { reason, summary, ticket_id })
    }
}

/// Trims and checks a message: not empty, not too long, no control characters.
fn validate(message: &str) -> Result<&str, TurnError> {
    let chars = message.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(TurnError::TooLong { chars });
    }
    let trimmed = message.trim();
    if trimmed.is_empty() {
        return Err(TurnError::Invalid("message is empty".into()));
    }
    if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(TurnError::Invalid("message contains control characters (binary data?)".into()));
    }
    Ok(trimmed)
}

/// The language to answer in: the message's own, unless it has too little text to tell.
fn reply_lang(message: &str, detected: Lang, locale: Option<Lang>) -> Lang {
    let has_cjk = message.chars().any(crate::text::is_cjk);
    let words = message.split_whitespace().filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2).count();
    if has_cjk || words >= 2 { detected } else { locale.unwrap_or(detected) }
}

/// The turn's intent and slots with the session's context: a short answer to Clerk's own
/// question or a follow-up continues the last intent, and its slots carry over.
fn resolve(session: &Session, message: &str, understood: &Understanding) -> (Intent, f32, Slots) {
    let fresh = &understood.slots;
    let Some(last) = session.last_intent else { return (understood.intent, understood.confidence, fresh.clone()) };
    let answers_pending = session.pending.as_ref().is_some_and(|p| {
        let fills = match p.slot.as_str() {
            "size" => fresh.size.is_some(),
            "color" => fresh.color.is_some() || dialogue::refers_to_other(message),
            "order_id" => fresh.order_id.is_some(),
            "product" => fresh.product.is_some() || fresh.sku.is_some(),
            "order_proof" => dialogue::proof_in(message).is_some(),
            // Taking up or turning down an offer answers it whatever else the words suggest.
            slot => return dialogue::accepts(slot, message) || dialogue::is_no(message),
        };
        fills
            && (understood.confidence < FOLLOW_UP_CONFIDENCE
                || understood.intent == p.intent
                || message.chars().count() <= 12)
    });
    let follows_up = dialogue::is_follow_up(message) && (understood.intent == last || understood.confidence < 0.9);
    // "黑色", "size 10": a bare attribute narrows the question just asked.
    let narrows = dialogue::is_bare_attribute(message, fresh)
        && matches!(last, Intent::InventoryCheck | Intent::ProductInfo | Intent::PriceQuote);
    if answers_pending || follows_up || narrows {
        let continued = if narrows && understood.confidence >= 0.9 { understood.intent } else { last };
        let intent = session.pending.as_ref().filter(|_| answers_pending).map(|p| p.intent).unwrap_or(continued);
        let mut slots = session.slots.merged_with(fresh);
        if dialogue::refers_to_other(message) && session.last_options.len() == 2 {
            // "the other one" of the two options offered last turn.
            let current = slots.color.clone();
            if let Some(other) = session.last_options.iter().find(|o| Some(*o) != current.as_ref()) {
                slots.color = Some(other.clone());
            }
        }
        let confidence = understood.confidence.max(0.8);
        return (intent, confidence, slots);
    }
    // A new request: keep only what identifies the order or product under discussion. A
    // request for a person keeps both, so the agent need not ask again.
    let mut slots = fresh.clone();
    if slots.order_id.is_none()
        && matches!(
            understood.intent,
            Intent::OrderStatus | Intent::OrderChange | Intent::ReturnRefund | Intent::HumanHandoff
        )
    {
        slots.order_id = session.slots.order_id.clone();
    }
    let about_product = match understood.intent {
        Intent::InventoryCheck | Intent::PriceQuote | Intent::ProductInfo | Intent::HumanHandoff => true,
        // "is it still under warranty?", "坏了要自己拆下来寄回去吗": a rule asked of the
        // product just discussed.
        Intent::PolicyQuestion | Intent::FaultDiagnosis | Intent::HowTo => {
            dialogue::refers_back(message, understood.lang)
        }
        _ => false,
    };
    if slots.product.is_none() && slots.sku.is_none() && about_product {
        slots.product = session.slots.product.clone();
        slots.sku = session.slots.sku.clone();
    }
    (understood.intent, understood.confidence, slots)
}

/// What Clerk says to a message it refuses: what it can help with instead.
fn refusal_answer(refusal: Refusal, lang: Lang) -> String {
    let offer = say(
        lang,
        "我可以帮您查订单、库存和价格，也能解答本店的退换货、配送和电器使用问题。",
        "I can track your orders, check our stock and prices, and answer questions on our returns, delivery and appliances.",
    );
    let why = match refusal {
        Refusal::Gibberish => say(lang, "抱歉，我没有看懂您的意思。", "Sorry, I did not understand that."),
        Refusal::OtherShop => {
            say(lang, "抱歉，其他平台或商家的问题我无法解答。", "Sorry, I cannot answer for other shops or platforms.")
        }
        Refusal::ClaimedAuthority => say(
            lang,
            "抱歉，退款和优惠不能在聊天中授权。",
            "Sorry, refunds and discounts cannot be authorised in this chat.",
        ),
        Refusal::Injection | Refusal::Code => {
            say(lang, "抱歉，这个请求我无法处理。", "Sorry, I cannot help with that request.")
        }
    };
    format!("{why}{}{offer}", if lang == Lang::En { " " } else { "" })
}

fn candidates_of(evidence: &[Evidence]) -> Vec<GapCandidate> {
    evidence
        .iter()
        .take(5)
        .map(|e| GapCandidate {
            chunk_id: e.chunk.id.clone(),
            doc_id: e.chunk.doc_id.clone(),
            title: e.chunk.title.clone(),
            score: e.score,
        })
        .collect()
}

fn contains_any(message: &str, words: &[&str]) -> bool {
    let m = message.to_lowercase();
    words.iter().any(|w| m.contains(w))
}

fn order_change_of(message: &str, slots: &Slots) -> Option<OrderChange> {
    if contains_any(message, &["取消", "不要了", "cancel"]) {
        return Some(OrderChange::Cancel);
    }
    if let Some(address) = super::address::parse_address(message) {
        return Some(OrderChange::Address { address });
    }
    match (slots.sku.clone().or_else(|| slots.product.clone()), slots.quantity) {
        (Some(sku), Some(quantity)) => Some(OrderChange::Quantity { sku, quantity }),
        _ => None,
    }
}

/// A request to start a return now, not a question about one ("还在退货期内吧？").
fn wants_return(message: &str) -> bool {
    let asks = message.trim_end().ends_with(['?', '？', '吗', '么']);
    !asks
        && contains_any(
            message,
            &[
                "我要退",
                "想退",
                "申请退",
                "帮我退",
                "退掉",
                "i want to return",
                "return it",
                "start a return",
                "return my",
                "send it back",
                "refund me",
            ],
        )
}

fn quality_problem(message: &str) -> bool {
    contains_any(
        message,
        &["质量问题", "坏了", "破损", "开胶", "故障", "defect", "broken", "damaged", "faulty", "stopped working"],
    )
}

/// Questions about how points work, not about the shopper's own balance.
fn asks_rules(message: &str) -> bool {
    contains_any(
        message,
        &["怎么获得", "怎么赚", "规则", "如何累积", "how do i earn", "how are points earned", "rules"],
    )
}

/// The message with every mention of one fault code ("E-04", "e04") blanked out.
fn without_code(message: &str, code: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let is_code = crate::text::normalize_code(run).as_deref() == Some(code);
        out.push_str(if is_code { " " } else { run.as_str() });
        run.clear();
    };
    for c in message.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The fault row's "engineer visit" line (as compose renders it) says yes or "if it persists".
fn engineer_needed(answer: &str) -> bool {
    answer.lines().any(|line| {
        let line = line.trim();
        let value = line
            .strip_prefix("需要上门")
            .or_else(|| line.strip_prefix("Engineer visit"))
            .map(|rest| rest.trim_start_matches([':', '：', ' ']).trim().to_lowercase());
        value.is_some_and(|v| !v.is_empty() && v != "否" && v != "no" && !v.starts_with("no "))
    })
}

fn session_summary(session: &Session) -> String {
    serde_json::to_string(&session.slots).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_work_order_is_offered_only_when_the_row_calls_for_an_engineer() {
        assert!(engineer_needed("E04: 风机电机故障\n处理方法:\n1. 重启。\n需要上门: 是"));
        assert!(engineer_needed("E21: LiDAR cover blocked\nEngineer visit: If it persists"));
        assert!(!engineer_needed("E03: 尘盒未安装\n需要上门: 否"));
        assert!(!engineer_needed("E03: Dust bin missing\nEngineer visit: No"));
        assert!(!engineer_needed("Contact support to book an engineer visit."));
    }

    #[test]
    fn only_the_named_code_is_blanked_out() {
        assert_eq!(without_code("purifier E-04 in year 4, R5 too", "E04"), "purifier   in year 4, R5 too");
        assert_eq!(without_code("净化器显示e04怎么办", "E04"), "净化器显示 怎么办");
    }

    #[test]
    fn messages_are_checked_before_anything_else() {
        assert!(matches!(validate("  "), Err(TurnError::Invalid(_))));
        assert!(matches!(validate(&"x".repeat(MAX_MESSAGE_CHARS + 1)), Err(TurnError::TooLong { .. })));
        assert!(matches!(validate("a\u{0}b"), Err(TurnError::Invalid(_))));
        assert_eq!(validate(" 你好\n ").unwrap(), "你好");
    }
}
