//! Tenant isolation, enforced in one place.
//!
//! Every route under `/v1/tenants/{tenant}/…` takes a [`TenantAccess<P>`], where `P` names the
//! permission the route needs. The extractor resolves the tenant and asks
//! [`Principal::may`](sentinel_core::Principal::may). A caller outside the tenant gets `404` —
//! the same answer as for a tenant that does not exist, so existence does not leak — and a caller
//! inside it whose role lacks the permission gets `403`.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use sentinel_core::{Permission, Principal, Role, Tenant};

use super::Caller;
use crate::problem::ApiError;
use crate::AppState;

/// A permission as a type, so that a route's signature states what it requires.
pub trait RequiredPermission: Send + Sync + 'static {
    const PERMISSION: Permission;
}

macro_rules! permissions {
    ($($name:ident),*) => {$(
        #[doc = concat!("Requires [`Permission::", stringify!($name), "`].")]
        pub struct $name;
        impl RequiredPermission for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )*};
}
permissions!(Read, ReadAudit, Manage, Approve, Kill);

/// The caller and the tenant named in the path, checked for `P`.
pub struct TenantAccess<P> {
    pub tenant: Tenant,
    pub caller: Principal,
    _permission: PhantomData<P>,
}

impl<P: RequiredPermission> FromRequestParts<AppState> for TenantAccess<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(caller) = Caller::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))?;
        let name = params
            .iter()
            .find(|(k, _)| *k == "tenant")
            .map(|(_, v)| v.to_string())
            .ok_or_else(|| ApiError::internal("route has no {tenant} parameter"))?;
        let tenant = state.store.tenant(&name).await?;
        let tenant = match tenant {
            Some(t) if caller.role == Role::Admin || caller.tenant_id == Some(t.id) => t,
            _ => return Err(ApiError::not_found(format!("tenant {name:?}"))),
        };
        if !caller.may(tenant.id, P::PERMISSION) {
            return Err(ApiError::forbidden(format!(
                "the {} role may not do this ({:?} needed)",
                caller.role.as_str(),
                P::PERMISSION
            )));
        }
        Ok(TenantAccess {
            tenant,
            caller,
            _permission: PhantomData,
        })
    }
}

/// A caller holding an admin key.
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(caller) = Caller::from_request_parts(parts, state).await?;
        if caller.role.allows(Permission::Admin) {
            Ok(Admin(caller))
        } else {
            Err(ApiError::forbidden("this needs an admin key"))
        }
    }
}
