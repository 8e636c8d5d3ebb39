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
    /// The index's synonym groups: knowledge answers match a question's phrase by any of its group.
    synonyms: Vec<crate::text::SynonymGroup>,
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
    /// The knowledge answer cites one fault code's row first.
    cites_code_row: bool,
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
        synonyms: Vec<crate::text::SynonymGroup>,
        clock: Clock,
    ) -> Self {
        Self {
            retriever,
            index: RwLock::new(snapshot.map(Arc::new)),
            understander,
            commerce,
            conversations,
            thresholds: Thresholds::default(),
            synonyms,
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
        if understood.slots.product.is_none()
            && understood.slots.sku.is_none()
            && slots.sku.is_none()
            && let Some(sku) =
                slots.product.as_deref().and_then(|carried| self.understander.narrow_family(carried, message))
        {
            // The product carried from earlier turns, narrowed or switched by this message's
            // words ("女款买几码", "那男款呢").
            slots.product = Some(sku);
        }
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
        if refused.is_some() || handoff.is_some() {
            // Neither a refused message nor one a person takes over is a question to continue.
            session.recent_questions.clear();
        } else {
            remember_question(&mut session, message, intent, lang);
        }
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
        let earlier = if dialogue::continues(message, lang) { session.recent_questions.clone() } else { Vec::new() };
        // The message as the documents word it, worked out only by the paths that search them.
        let customer_id = session.customer_id.clone();
        let rule_words = || self.in_rule_words(message, slots, customer_id.as_deref(), lang);
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
                    "confirm_return" | tools::CONFIRM_QUALITY_RETURN => {
                        if let Some(order_id) = &slots.order_id {
                            let quality = slot == tools::CONFIRM_QUALITY_RETURN;
                            let outcome = tools::return_request(
                                &ctx,
                                order_id,
                                proof,
                                tools::Creation::Accepted,
                                quality,
                                tools::Condition::default(),
                            );
                            return Ok(Act::tool(outcome, session));
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
            // data"), which a policy or FAQ answers; a product page answering instead only
            // describes something else we sell, so the search's "we do not carry that" stands.
            let rule = self.knowledge(&rule_words(), &earlier, intent, slots, lang)?;
            if rule.answered && matches!(rule.doc_type, Some(DocType::Policy | DocType::Faq)) {
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
                        return self.knowledge(&rule_words(), &earlier, intent, slots, lang);
                    }
                    let (mut retrieve_ms, mut compose_ms) = (0.0, 0.0);
                    if confidence < FOLLOW_UP_CONFIDENCE {
                        let act = self.knowledge(&rule_words(), &earlier, intent, slots, lang)?;
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
                        let quality = quality_problem(message);
                        let creation = if wants_return(message, quality) {
                            tools::Creation::Requested
                        } else {
                            tools::Creation::Check
                        };
                        tools::return_request(&ctx, &order_id, proof, creation, quality, condition_of(message))
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
                    // Goods back at the warehouse: the question is when the money arrives.
                    let result = act.tool_calls.first().map(|c| &c.result);
                    let refunding =
                        result.and_then(|r| r["status"].as_str()).is_some_and(|s| s == "returned" || s == "refunded");
                    // A return refused for the goods' state: the rule behind the refusal.
                    let refusal = result.and_then(|r| r["exceptions"].as_array()?.first()?.as_str());
                    let rule_question = match (result.and_then(|r| r["payment_method"].as_str()), refusal) {
                        (Some(method), _) if refunding => refund_question(method, lang),
                        (_, Some(refusal)) => refusal.to_string(),
                        _ => rule_words().replace(order_id.as_str(), " "),
                    };
                    let rule = self.shop_rule(&rule_question, lang)?;
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
                        return self.knowledge(&rule_words(), &earlier, intent, slots, lang);
                    }
                    return Ok(Act::ask_for(
                        "product",
                        intent,
                        say(lang, "请问您想查询哪款商品的库存？", "Which product would you like me to check?"),
                    ));
                };
                let outcome = tools::stock(&ctx, &product, slots.size.as_deref(), slots.color.as_deref());
                let offered = !matches!(outcome.call.result["error"].as_str(), Some("no_such_size" | "no_such_color"));
                let mut act = Act::tool(outcome, session);
                if !offered {
                    // A size or colour the product does not come in: the page that lists them.
                    let retrieving = Instant::now();
                    let evidence = self.product_evidence(&product, message, lang)?;
                    act.citations =
                        own_page(&evidence).map(|e| compose::citation(e, &e.chunk.text)).into_iter().collect();
                    act.retrieve_ms = retrieving.elapsed().as_secs_f64() * 1000.0;
                }
                Ok(act)
            }
            Intent::PointsBalance if session.customer_id.is_some() && !asks_rules(message) => {
                Ok(Act::tool(tools::points(&ctx), session))
            }
            Intent::PriceQuote => {
                let basket = self.basket(message, slots)?;
                if basket.is_empty() {
                    return self.knowledge(&rule_words(), &earlier, intent, slots, lang);
                }
                match basket.as_slice() {
                    [(product, 1)] if asks_list_price(message, slots) => {
                        self.list_price(session, product, message, lang, now)
                    }
                    _ => Ok(self.price_quote(session, &basket, message, slots, lang, now)),
                }
            }
            Intent::FaultDiagnosis => {
                let question = rule_words();
                let mut act = self.knowledge(&question, &earlier, intent, slots, lang)?;
                if let Some(code) = slots.fault_code.as_deref()
                    && act.answered
                {
                    // "E04 in year 4: is the fan motor still under warranty?": the code's row,
                    // then the shop's rule on the rest of the question when a policy or the
                    // fault-code guide's own notes (its warranty reminder) answer it.
                    let rule_slots = Slots { fault_code: None, ..slots.clone() };
                    let rule = self.knowledge(&without_code(&question, code), &earlier, intent, &rule_slots, lang)?;
                    let states_rule = rule.doc_type == Some(DocType::Policy)
                        || (rule.doc_type == Some(DocType::FaultCodes) && !rule.cites_code_row);
                    if rule.answered && states_rule {
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
            _ => self.knowledge(&rule_words(), &earlier, intent, slots, lang),
        }
    }

    /// The message as the documents would word it: a coupon code ("NEW20") is unknown to the
    /// rules, which speak of its kind ("new-customer coupon").
    fn in_rule_words(&self, message: &str, slots: &Slots, customer_id: Option<&str>, lang: Lang) -> String {
        if slots.coupon.is_none() {
            return message.to_string();
        }
        let coupons = self.commerce.coupons(customer_id).unwrap_or_default();
        replace_tokens(message, |token| {
            coupons
                .iter()
                .find(|c| c.code.eq_ignore_ascii_case(token))
                .map(|c| pricing::coupon_in_rule_words(c, lang).to_string())
        })
    }

    /// Retrieval and an extractive answer, filtered to the product and code the turn names.
    /// `earlier` are the questions a follow-up continues ("and to Lhasa?" after "How long
    /// does delivery take to Chengdu?"), empty for a question of its own.
    fn knowledge(
        &self,
        message: &str,
        earlier: &[String],
        intent: Intent,
        slots: &Slots,
        lang: Lang,
    ) -> Result<Act, TurnError> {
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
            product: slots.product.clone().filter(|p| crate::domain::turn::is_sku(p)),
            lang: None,
        };
        // The question as composed: with the code the turn understood ("错误21" is E21).
        let asked = query.clone();
        let request = SearchRequest { query, k: EVIDENCE_K, mode: SearchMode::Hybrid, filters };
        let (mut evidence, _) = self.retriever.evidence(&snapshot, &request)?;
        if !earlier.is_empty() {
            // The follow-up's own words may not find the passage ("and to Lhasa?"), and say too
            // little for a cosine: the ranking of the whole thread leads, with its cosines, and
            // takes turns with the follow-up's own.
            let continued =
                SearchRequest { query: format!("{} {}", earlier.join(" "), request.query), ..request.clone() };
            evidence = interleave(self.retriever.evidence(&snapshot, &continued)?.0, evidence, EVIDENCE_K);
        }
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
        let composed: Composed =
            compose::compose(&asked, earlier, lang, &evidence, product, &self.thresholds, &self.synonyms);
        let compose_ms = composing.elapsed().as_secs_f64() * 1000.0;
        let candidates = candidates_of(&evidence);
        // The passage quoted: a document (a fault-code guide) holds rows and notes alike.
        let cited = composed
            .citations
            .first()
            .and_then(|c| evidence.iter().find(|e| e.chunk.doc_id == c.doc_id && e.chunk.section == c.section));
        let product_hint = cited.and_then(|e| e.chunk.products.first().cloned());
        Ok(Act {
            product_hint: if composed.answered { product_hint } else { None },
            doc_type: cited.map(|e| e.chunk.doc_type),
            cites_code_row: cited.is_some_and(|e| e.chunk.code.is_some()),
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

    /// The shop's rule on a question about one order, from the policies and FAQs in the
    /// shopper's language only: the order's own words (products, dates) would otherwise pull in
    /// manuals and product pages.
    fn shop_rule(&self, question: &str, lang: Lang) -> Result<Act, TurnError> {
        let retrieving = Instant::now();
        let snapshot = self.snapshot()?;
        let search = |doc_type| SearchRequest {
            query: question.to_string(),
            k: EVIDENCE_K,
            mode: SearchMode::Hybrid,
            filters: Filters { doc_type: Some(doc_type), product: None, lang: Some(lang) },
        };
        let policies = self.retriever.evidence(&snapshot, &search(DocType::Policy))?.0;
        let faqs = self.retriever.evidence(&snapshot, &search(DocType::Faq))?.0;
        let evidence = interleave(policies, faqs, EVIDENCE_K);
        let retrieve_ms = retrieving.elapsed().as_secs_f64() * 1000.0;
        let composing = Instant::now();
        let composed = compose::compose(question, &[], lang, &evidence, None, &self.thresholds, &self.synonyms);
        Ok(Act {
            answer: composed.answer,
            answered: composed.answered,
            citations: composed.citations,
            retrieve_ms,
            compose_ms: composing.elapsed().as_secs_f64() * 1000.0,
            ..Default::default()
        })
    }

    fn product_of(&self, slots: &Slots) -> Result<Option<Product>, TurnError> {
        let wanted = slots.sku.as_deref().or(slots.product.as_deref());
        let Some(wanted) = wanted else { return Ok(None) };
        self.product_named(wanted, slots.size.as_deref())
    }

    /// An SKU, or a family tag's product that has `size` (else its first).
    fn product_named(&self, wanted: &str, size: Option<&str>) -> Result<Option<Product>, TurnError> {
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
        let with_size = family.iter().find(|p| size.is_some_and(|s| tools::catalogue_size(p, s).is_some())).cloned();
        Ok(with_size.or_else(|| family.into_iter().next()))
    }

    fn latest_order(&self, session: &Session) -> Option<String> {
        let customer = session.customer_id.as_deref()?;
        self.commerce.orders_of(customer).ok()?.into_iter().max_by_key(|o| o.created_at).map(|o| o.order_id)
    }

    /// What the shopper wants priced with the count of each: every product the message names
    /// when it names several, else the product and quantity slots (which carry over turns).
    fn basket(&self, message: &str, slots: &Slots) -> Result<Vec<(Product, i64)>, TurnError> {
        let named = self.understander.basket(message);
        if named.len() >= 2 {
            let mut basket = Vec::new();
            for item in named {
                if let Some(product) = self.product_named(&item.product, slots.size.as_deref())? {
                    basket.push((product, item.quantity.unwrap_or(1).max(1)));
                }
            }
            return Ok(basket);
        }
        Ok(self.product_of(slots)?.map(|product| (product, slots.quantity.unwrap_or(1).max(1))).into_iter().collect())
    }

    /// The shop's situation for this shopper: tier, points, coupons, running promotions, and the
    /// region and express upgrade the message names.
    fn pricing_context(&self, session: &Session, message: &str, now: DateTime<Utc>) -> pricing::Context {
        let customer = session.customer_id.as_deref().and_then(|id| self.commerce.customer(id).ok().flatten());
        let orders = session.customer_id.as_deref().and_then(|id| self.commerce.orders_of(id).ok()).unwrap_or_default();
        pricing::Context {
            today: pricing::shop_day(now),
            customer_id: session.customer_id.clone(),
            tier: customer.as_ref().map(|c| c.tier),
            points_balance: customer.as_ref().map(|c| c.points).unwrap_or(0),
            first_order: !orders.iter().any(|o| o.paid_at.is_some()),
            coupons: self.commerce.coupons(session.customer_id.as_deref()).unwrap_or_default(),
            promotions: self.commerce.promotions().unwrap_or_default(),
            remote_region: pricing::names_remote_province(message),
            express: contains_any(message, EXPRESS_WORDS),
        }
    }

    /// The price the shopper asked for: their coupon and points only, refusals with the reason,
    /// better coupons and unused points as separate lines.
    fn price_quote(
        &self,
        session: &Session,
        basket: &[(Product, i64)],
        message: &str,
        slots: &Slots,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> Act {
        let lines: Vec<pricing::CartLine> = basket
            .iter()
            .map(|(product, quantity)| pricing::CartLine {
                sku: product.sku.clone(),
                category: product.category,
                unit_price_cents: product.price_cents,
                quantity: *quantity,
                final_sale: product.final_sale,
            })
            .collect();
        let context = self.pricing_context(session, message, now);
        let (no_coupon, no_points) = (contains_any(message, NO_COUPON), contains_any(message, NO_POINTS));
        let coupon = slots.coupon.clone().filter(|_| !no_coupon);
        let points = match slots.points {
            Some(points) => points,
            // "用积分抵扣": as many as the cart allows.
            None if !no_points && contains_any(message, USE_POINTS) => {
                let without = pricing::Choice { coupon: coupon.clone(), points: 0 };
                pricing::advise(&lines, &context, &without).map(|a| a.quote.points_max).unwrap_or(0)
            }
            None => 0,
        };
        let choice = pricing::Choice { coupon, points };
        let arguments = serde_json::json!({"lines": lines, "coupon": choice.coupon, "points": choice.points});
        let names: Vec<String> = basket
            .iter()
            .map(|(product, quantity)| format!("{} × {quantity}", tools::product_name(product, lang)))
            .collect();
        let header = say(lang, format!("{}：", names.join(" + ")), format!("{}:", names.join(" + ")));
        let (ok, answer, result) = match pricing::advise(&lines, &context, &choice) {
            Ok(advice) => {
                // The quote itself, with what was refused and the better option beside it.
                let mut result = serde_json::json!(advice.quote);
                result["refused"] =
                    serde_json::json!(advice.refused.iter().map(ToString::to_string).collect::<Vec<_>>());
                result["better"] = serde_json::json!(advice.better);
                (true, format!("{header}\n{}", advice.explain(lang, !no_coupon, !no_points)), result)
            }
            Err(e) => (false, e.message(lang), serde_json::json!({"error": e.to_string()})),
        };
        let call = ToolCall { name: "price_quote".into(), arguments, ok, result };
        Act { answer, answered: ok, tool_calls: vec![call], ..Default::default() }
    }

    /// Passages about `product` in the shopper's language, best first for `message`.
    fn product_evidence(&self, product: &Product, message: &str, lang: Lang) -> Result<Vec<Evidence>, TurnError> {
        let snapshot = self.snapshot()?;
        let filters = Filters { doc_type: None, product: Some(product.sku.clone()), lang: Some(lang) };
        let request = SearchRequest { query: message.to_string(), k: EVIDENCE_K, mode: SearchMode::Hybrid, filters };
        Ok(self.retriever.evidence(&snapshot, &request)?.0)
    }

    /// "How much is the Ridge Trail 2?": the list price, what the automatic promotions make of
    /// it at checkout, and the passage that states the price.
    fn list_price(
        &self,
        session: &Session,
        product: &Product,
        message: &str,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> Result<Act, TurnError> {
        let retrieving = Instant::now();
        let evidence = self.product_evidence(product, message, lang)?;
        let retrieve_ms = retrieving.elapsed().as_secs_f64() * 1000.0;
        let price = tools::money(product.price_cents);
        let states_price = |e: &&Evidence| mentions_amount(&e.chunk.text, product.price_cents);
        let cited = evidence
            .iter()
            .find(states_price)
            .or_else(|| own_page(&evidence))
            .map(|e| compose::citation(e, &e.chunk.text));
        let name = tools::product_name(product, lang);
        let mut answer = say(
            lang,
            format!("{name}（{}）售价 {price}。", product.sku),
            format!("{name} ({}) costs {price}.", product.sku),
        );
        // Automatic discounts only: coupons and points are the shopper's to choose.
        let context =
            pricing::Context { coupons: Vec::new(), points_balance: 0, ..self.pricing_context(session, message, now) };
        let line = pricing::CartLine {
            sku: product.sku.clone(),
            category: product.category,
            unit_price_cents: product.price_cents,
            quantity: 1,
            final_sale: product.final_sale,
        };
        if let Ok(q) = pricing::quote(&[line], &context, &pricing::Choice::default())
            && q.payable_cents < product.price_cents
        {
            answer.push_str(&say(
                lang,
                format!("\n结算时自动享受满减/活动优惠后应付 {}；需要按优惠券或会员价算总价，告诉我即可。", tools::money(q.payable_cents)),
                format!(
                    "\nThe automatic promotions bring it to {} at checkout; ask me for a full quote with your coupon or member price.",
                    tools::money(q.payable_cents)
                ),
            ));
        }
        if product.final_sale {
            answer.push_str(&say(lang, "\n清仓商品，不支持无理由退货。", "\nFinal sale: no no-reason returns."));
        }
        let call = ToolCall {
            name: "price_quote".into(),
            arguments: serde_json::json!({"sku": product.sku}),
            ok: true,
            result: serde_json::json!({"list_price_cents": product.price_cents}),
        };
        Ok(Act {
            answer,
            answered: true,
            citations: cited.into_iter().collect(),
            tool_calls: vec![call],
            retrieve_ms,
            ..Default::default()
        })
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

/// Words that ask for a checkout figure rather than the price on the label.
const QUOTE_CUES: &[&str] = &[
    "total",
    "pay",
    "checkout",
    "check out",
    "coupon",
    "voucher",
    "promo",
    "code",
    "discount",
    "after",
    "shipping",
    "deliver",
    "points",
    "cost me",
    "altogether",
    "all in",
    "member price",
    "券",
    "优惠",
    "折",
    "满减",
    "到手",
    "实付",
    "一共",
    "总共",
    "合计",
    "总价",
    "付多少",
    "要付",
    "结算",
    "运费",
    "包邮",
    "积分",
    "会员价",
    "算",
];
/// "不用券", "without a coupon": quote with no coupon at all.
const NO_COUPON: &[&str] = &[
    "不用券",
    "不用优惠券",
    "不使用优惠券",
    "不用店铺券",
    "不使用券",
    "不要券",
    "不用优惠码",
    "没有券",
    "没券",
    "without a coupon",
    "without coupon",
    "without any coupon",
    "without the coupon",
    "without using a coupon",
    "no coupon",
    "don't use a coupon",
    "not use a coupon",
    "not using a coupon",
];
/// "不用积分", "without points": no points, and none offered.
const NO_POINTS: &[&str] = &[
    "不用积分",
    "不使用积分",
    "不抵扣积分",
    "积分不用",
    "without points",
    "without using points",
    "without my points",
    "no points",
    "don't use points",
    "don't use my points",
    "not using points",
];
/// "用积分抵扣", "use my points": as many points as the cart allows.
const USE_POINTS: &[&str] = &[
    "用积分",
    "积分抵",
    "使用积分",
    "用我的积分",
    "use points",
    "use my points",
    "using points",
    "using my points",
    "with points",
    "with my points",
    "redeem",
];
/// The SF next-day upgrade.
const EXPRESS_WORDS: &[&str] = &["顺丰", "次日达", "sf express", "next-day", "next day", "express"];

/// A plain "how much is it": one item, no coupon, points or checkout words.
fn asks_list_price(message: &str, slots: &Slots) -> bool {
    slots.coupon.is_none()
        && slots.points.is_none()
        && slots.quantity.is_none_or(|q| q <= 1)
        && !contains_any(message, QUOTE_CUES)
}

/// The product's own page among `evidence`: a product page about the fewest products.
fn own_page(evidence: &[Evidence]) -> Option<&Evidence> {
    evidence.iter().filter(|e| e.chunk.doc_type == DocType::Product).min_by_key(|e| e.chunk.products.len())
}

/// Whether `text` states `cents` as a yuan amount ("899", "899.00", "1,999 元"), not inside
/// a longer number.
fn mentions_amount(text: &str, cents: i64) -> bool {
    let chars: Vec<char> = text.chars().filter(|c| *c != ',').collect();
    let whole: Vec<char> = (cents / 100).to_string().chars().collect();
    let fraction = format!("{:02}", cents % 100);
    (0..chars.len()).any(|i| {
        let end = i + whole.len();
        let fits = chars.get(i..end) == Some(&whole[..]) && (i == 0 || !chars[i - 1].is_ascii_digit());
        let rest: String = chars[end.min(chars.len())..].iter().take(3).collect();
        let boundary = match rest.strip_prefix('.') {
            Some(decimals) => decimals.starts_with(&fraction),
            None => cents % 100 == 0 && !rest.starts_with(|c: char| c.is_ascii_digit()),
        };
        fits && boundary
    })
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

/// How many of the last questions a follow-up continues.
const RECENT_QUESTIONS: usize = 2;

/// Keeps a question the documents answer (answered or not) for follow-ups: after a follow-up
/// with the questions it continues, else alone. Any other request ends the thread.
fn remember_question(session: &mut Session, message: &str, intent: Intent, lang: Lang) {
    let documents_answer =
        matches!(intent, Intent::PolicyQuestion | Intent::ProductInfo | Intent::HowTo | Intent::FaultDiagnosis);
    if !documents_answer {
        session.recent_questions.clear();
        return;
    }
    if !dialogue::continues(message, lang) {
        session.recent_questions.clear();
    }
    session.recent_questions.push(message.to_string());
    let excess = session.recent_questions.len().saturating_sub(RECENT_QUESTIONS);
    session.recent_questions.drain(..excess);
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

/// A request to start a return now; a question about whether one is possible ("还在七天内吧？",
/// "am I still in time?") only checks eligibility.
/// With a quality problem, asking for an exchange ("帮我换货") asks for it too.
fn wants_return(message: &str, quality: bool) -> bool {
    let asks = contains_any(message, &["?", "？", "吗", "么", "能不能", "可不可以", "还能", "can i", "am i", "is it"]);
    let returns = contains_any(
        message,
        &[
            "我要退",
            "想退",
            "申请退",
            "帮我退",
            "退掉",
            "退货",
            "i want to return",
            "return it",
            "start a return",
            "return my",
            "send it back",
            "refund me",
        ],
    );
    !asks && (returns || (quality && contains_any(message, dialogue::EXCHANGE_WORDS)))
}

/// The refund-timing question for how the order was paid, asked of the policies for an order
/// whose goods are back at the warehouse.
fn refund_question(payment_method: &str, lang: Lang) -> String {
    let (zh, en) = match payment_method {
        "alipay" => ("支付宝", "Alipay"),
        "wechat_pay" => ("微信支付", "WeChat Pay"),
        m if m.starts_with("huabei") => ("花呗", "Huabei"),
        "unionpay_card" => ("银行卡", "bank card"),
        _ => ("信用卡", "credit card"),
    };
    say(lang, format!("{zh} 退款多久到账 退货"), format!("how long does a refund to {en} take"))
}

/// What the message says about the goods: used or worn, opened, unless it says they are not.
fn condition_of(message: &str) -> tools::Condition {
    let unused = contains_any(
        message,
        &[
            "没用过",
            "没有用过",
            "未使用",
            "没使用",
            "没穿过",
            "没有穿",
            "全新",
            "unused",
            "unworn",
            "not used",
            "never used",
            "haven't used",
            "never worn",
            "not worn",
            "haven't worn",
        ],
    );
    let used = !unused
        && contains_any(
            message,
            &[
                "用了",
                "用过",
                "使用过",
                "已使用",
                "穿过",
                "穿了",
                "跑过",
                "洗过",
                "used it",
                "used them",
                "used the",
                "used a",
                "worn",
                "wore",
                "ran in",
            ],
        );
    let unopened = contains_any(message, &["未拆封", "没拆", "没有拆", "没开封", "unopened", "still sealed"]);
    let opened = !unopened
        && contains_any(
            message,
            &["拆封", "拆了", "打开", "开封", "拆开", "opened", "unsealed", "open the", "broke the seal"],
        );
    tools::Condition { used, opened }
}

fn quality_problem(message: &str) -> bool {
    contains_any(
        message,
        &[
            "质量问题",
            "坏了",
            "破损",
            "开胶",
            "脱胶",
            "开线",
            "断线",
            "故障",
            "defect",
            "broken",
            "damaged",
            "faulty",
            "stopped working",
            "came apart",
        ],
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
    replace_tokens(message, |token| (crate::text::normalize_code(token).as_deref() == Some(code)).then(String::new))
}

/// The message with each code-shaped token ("NEW20", "E-04") that `replacement` knows replaced.
fn replace_tokens(message: &str, replacement: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        // The token's neighbours already part it from the words around it; a space between two
        // Chinese characters would split the clause.
        match (!run.is_empty()).then(|| replacement(run)).flatten() {
            Some(words) => out.push_str(&words),
            None => out.push_str(run),
        }
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
        assert_eq!(without_code("purifier E-04 in year 4, R5 too", "E04"), "purifier  in year 4, R5 too");
        assert_eq!(without_code("净化器显示e04怎么办", "E04"), "净化器显示怎么办");
        let coupon_kind = |token: &str| (token == "NEW20").then(|| "new-customer coupon".to_string());
        assert_eq!(replace_tokens("NEW20-C1012 or NEW20?", coupon_kind), "NEW20-C1012 or new-customer coupon?");
        assert_eq!(replace_tokens("NEW20和店铺券能一起用吗", coupon_kind), "new-customer coupon和店铺券能一起用吗");
    }

    #[test]
    fn a_plain_how_much_is_a_list_price_and_checkout_words_ask_for_a_quote() {
        let none = Slots::default();
        assert!(asks_list_price("how much is the Ridge Trail 2", &none));
        assert!(asks_list_price("山脊2多少钱", &none));
        assert!(!asks_list_price("how much do I pay in total for the Ridge Trail 2", &none));
        assert!(!asks_list_price("山脊2到手价多少", &none));
        let coupon = Slots { coupon: Some("HALDEN60".into()), ..Default::default() };
        assert!(!asks_list_price("Ridge Trail 2 with HALDEN60", &coupon));
        let two = Slots { quantity: Some(2), ..Default::default() };
        assert!(!asks_list_price("两双山脊2多少钱", &two));
    }

    #[test]
    fn an_amount_is_found_as_a_whole_number_in_yuan() {
        assert!(mentions_amount("Price: 899.00 CNY", 89900));
        assert!(mentions_amount("售价 899 元", 89900));
        assert!(mentions_amount("costs 1,999.00", 199900));
        assert!(mentions_amount("¥126.65 each", 12665));
        assert!(!mentions_amount("18990 points", 89900));
        assert!(!mentions_amount("8990", 89900));
        assert!(!mentions_amount("899.50", 89900));
        assert!(!mentions_amount("126 yuan", 12665));
    }

    #[test]
    fn messages_are_checked_before_anything_else() {
        assert!(matches!(validate("  "), Err(TurnError::Invalid(_))));
        assert!(matches!(validate(&"x".repeat(MAX_MESSAGE_CHARS + 1)), Err(TurnError::TooLong { .. })));
        assert!(matches!(validate("a\u{0}b"), Err(TurnError::Invalid(_))));
        assert_eq!(validate(" 你好\n ").unwrap(), "你好");
    }
}
