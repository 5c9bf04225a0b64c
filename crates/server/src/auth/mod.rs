//! Who is calling, and what they may touch.
//!
//! - [`secret`]: the API key format, generation and hashing.
//! - [`key_cache`]: verified keys kept in memory so the hot path does not hit the database.
//! - [`authenticate`]: the middleware that every route but the health probes sits behind.
//! - [`tenancy`]: the extractor that enforces tenant isolation and role permissions.

pub mod authenticate;
pub mod key_cache;
pub mod secret;
pub mod tenancy;

pub use authenticate::{authenticate, Caller};
pub use key_cache::{KeyCache, TTL as KEY_TTL};
pub use tenancy::{Admin, Approve, Kill, Manage, Read, ReadAudit, TenantAccess};
