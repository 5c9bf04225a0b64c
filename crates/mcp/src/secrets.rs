//! Where upstream credentials come from. An upstream's `env` and `headers` values are templates
//! (`Bearer ${secret:GITHUB_TOKEN}`) expanded from the tenant's secret store when the upstream
//! is started or connected: the record holds no credential and agents never see one.

use async_trait::async_trait;
use uuid::Uuid;

#[async_trait]
pub trait SecretExpander: Send + Sync + 'static {
    /// `template` with every `${secret:NAME}` replaced by the tenant's secret `NAME`; an error
    /// names a missing secret.
    async fn expand(&self, tenant: Uuid, template: &str) -> Result<String, String>;
}

/// For deployments without a secret store: templates without `${secret:…}` pass unchanged,
/// any reference to a secret is an error.
pub struct NoSecrets;

#[async_trait]
impl SecretExpander for NoSecrets {
    async fn expand(&self, _tenant: Uuid, template: &str) -> Result<String, String> {
        match template.find("${secret:") {
            Some(_) => Err("this server has no secret store to expand ${secret:…}".into()),
            None => Ok(template.to_string()),
        }
    }
}

#[async_trait]
impl SecretExpander for sentinel_pipeline::SecretVault {
    async fn expand(&self, tenant: Uuid, template: &str) -> Result<String, String> {
        sentinel_pipeline::SecretVault::expand(self, tenant, template)
            .await
            .map_err(|e| e.to_string())
    }
}
