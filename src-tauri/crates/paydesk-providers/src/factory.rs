//! One adapter factory: whatever the credentials came from (key vault, files named in
//! `paydesk.toml`, the demo sandbox's keys), they resolve to a [`ProviderConfig`], and this is
//! the one place that turns a configuration into a signing, verifying adapter.

use crate::adapter::{CertificateSink, ProviderAdapter};
use crate::alipay::{AlipayAdapter, AlipayConfig};
use crate::error::ProviderError;
use crate::http::HttpOptions;
use crate::stripe::{StripeAdapter, StripeConfig};
use crate::wechat::{WechatAdapter, WechatConfig};
use std::sync::Arc;

/// A provider account's configuration for calls (credentials and base URL).
pub enum ProviderConfig {
    Alipay(AlipayConfig),
    Wechat(WechatConfig),
    Stripe(StripeConfig),
}

/// Builds the adapter for `config`. `certificates` (WeChat Pay only) receives the platform
/// certificates the adapter fetches when an answer names an unknown serial, so they can be
/// kept; other providers ignore it.
pub fn build_adapter(
    config: ProviderConfig,
    opts: HttpOptions,
    certificates: Option<Arc<dyn CertificateSink>>,
) -> Result<Box<dyn ProviderAdapter>, ProviderError> {
    Ok(match config {
        ProviderConfig::Alipay(cfg) => Box::new(AlipayAdapter::new(cfg, opts)?),
        ProviderConfig::Wechat(cfg) => {
            let adapter = WechatAdapter::new(cfg, opts)?;
            match certificates {
                Some(sink) => Box::new(adapter.with_certificate_sink(sink)),
                None => Box::new(adapter),
            }
        }
        ProviderConfig::Stripe(cfg) => Box::new(StripeAdapter::new(cfg, opts)?),
    })
}
