//! The providers' side: statement parsers and writers for Alipay, WeChat Pay and Stripe in their
//! real file layouts (`statement`), and one adapter per provider behind [`adapter::ProviderAdapter`]
//! that signs every request and verifies every answer as the provider does (`alipay`, `wechat`,
//! `stripe`), built by the one [`factory`] from a [`factory::ProviderConfig`]; key loading in `keys`;
//! certificates (Alipay SNs, chain validation) in `x509`.
pub mod adapter;
pub mod alipay;
pub mod bank;
mod der;
pub mod error;
pub mod factory;
pub mod fundflow;
pub mod http;
pub mod keys;
pub mod statement;
pub mod stripe;
pub mod wechat;
pub mod x509;
