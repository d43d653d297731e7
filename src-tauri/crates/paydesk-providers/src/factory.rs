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

/// Builds the adapter for `config`. `certificates` receives the verification certificates
/// the adapter fetches when an answer names an unknown one (WeChat Pay platform certificates
/// by serial, Alipay certificates by `alipay_cert_sn` in certificate mode), so they can be
/// kept; Stripe ignores it.
pub fn build_adapter(
    config: ProviderConfig,
    opts: HttpOptions,
    certificates: Option<Arc<dyn CertificateSink>>,
) -> Result<Box<dyn ProviderAdapter>, ProviderError> {
    Ok(match config {
        ProviderConfig::Alipay(cfg) => {
            let adapter = AlipayAdapter::new(cfg, opts)?;
            match certificates {
                Some(sink) => Box::new(adapter.with_certificate_sink(sink)),
                None => Box::new(adapter),
            }
        }
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
