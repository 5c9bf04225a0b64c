//! The live event stream as the API serves it: who may see which events ([`audience`]), and a
//! subscriber's view of the bus that survives resumes and lag ([`feed`]). The SSE and WebSocket
//! endpoints (`routes/events.rs`) and the webhook notifier read events through a [`Feed`].

pub mod audience;
pub mod feed;

pub use audience::Audience;
pub use feed::{Feed, Item};
