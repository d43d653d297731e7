//! placeholder
pub mod adapter;
pub mod alipay;
pub mod error;
pub mod http;
pub mod keys;
pub mod statement;
pub mod stripe;
pub mod wechat;
