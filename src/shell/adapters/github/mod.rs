//! GitHub over `fetch`.

mod client;

pub use client::{Credential, GitHubHttp, HeadCheck};
