//! GitHub's transport: one request over `fetch` with the headers GitHub asks for, a timeout,
//! retries with backoff for transient faults and short rate limits, and the counts a sync
//! reports (and its meter). It sends whatever bearer it is given and knows no credential,
//! so minting an installation token (the App's own endpoints, a JWT) needs nothing else;
//! the credentialed client (`github`) sits on top of it. Rules live in `crate::github`.

use crate::domain::Stats;
use crate::engine::Meter;
use crate::github::{self, api_url, classify_failure, GhError, RateInfo, RetryDecision, RetryPolicy};
use crate::github_app::{self, AccessTokenWire, InstallationId, InstallationWire};
use futures::future::{select, Either};
use futures::pin_mut;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

/// A request that has not answered in this long is abandoned (and retried).
pub const REQUEST_TIMEOUT_MS: u64 = 20_000;
/// One request, as `send_once` sends it.
pub struct Call<'a> {
    pub method: Method,
    pub url: &'a str,
    pub accept: &'a str,
    pub if_none_match: Option<&'a str>,
    /// Leave a 2xx body unread, for the caller to stream (tarballs).
    pub stream: bool,
    /// Speaks as the App itself (a JWT): its refusals are read as the App's.
    pub as_app: bool,
}

impl<'a> Call<'a> {
    pub fn get(url: &'a str, accept: &'a str, if_none_match: Option<&'a str>) -> Call<'a> {
        Call { method: Method::Get, url, accept, if_none_match, stream: false, as_app: false }
    }
}

/// What GitHub answered to one request.
pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub link: Option<String>,
    pub body: Body,
}

pub enum Body {
    Bytes(Vec<u8>),
    /// Left unread, for the caller to stream (tarballs).
    Stream(worker::Response),
}

impl Body {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Body::Bytes(b) => b,
            Body::Stream(_) => &[],
        }
    }
}

pub struct GitHubTransport {
    base: String,
    policy: RetryPolicy,
    stats: Rc<RefCell<Stats>>,
    /// Counts every request made (each retry too) against the slice's budget.
    meter: Option<Rc<Meter>>,
}

impl GitHubTransport {
    pub fn new(base: &str) -> Self {
        GitHubTransport { base: base.to_string(), policy: RetryPolicy::default(), stats: Rc::default(), meter: None }
    }

    pub fn metered(mut self, meter: Rc<Meter>) -> Self {
        self.meter = Some(meter);
        self
    }

    /// The API's URL of `path`.
    pub fn url(&self, path: &str) -> String {
        api_url(&self.base, path)
    }

    /// What was counted so far (shared with the streams this transport opened).
    pub fn stats(&self) -> &Rc<RefCell<Stats>> {
        &self.stats
    }

    /// One logical request: retried on transient faults and short rate-limit waits. A 401
    /// is returned at once, for the caller to renew its credential.
    pub async fn send(&self, call: &Call<'_>, bearer: Option<&str>, what: &str) -> Result<Answer, GhError> {
        let mut attempt = 1;
        loop {
            match self.send_once(call, bearer).await {
                Ok(answer) => return Ok(answer),
                Err(GhError::NotFound(_)) => return Err(GhError::NotFound(what.to_string())),
                Err(err) => match self.policy.decide(attempt, &err, js_sys::Math::random()) {
                    RetryDecision::RetryAfterMs(ms) => {
                        Delay::from(Duration::from_millis(ms)).await;
                        attempt += 1;
                    }
                    RetryDecision::GiveUp => return Err(err),
                },
            }
        }
    }

    async fn send_once(&self, call: &Call<'_>, bearer: Option<&str>) -> Result<Answer, GhError> {
        let Call { url, accept, if_none_match, stream, .. } = *call;
        let headers = Headers::new();
        let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| GhError::Malformed(e.to_string()));
        set("accept", accept)?;
        set("user-agent", github::USER_AGENT)?;
        set("x-github-api-version", github::API_VERSION)?;
        if let Some(token) = bearer {
            set("authorization", &format!("Bearer {token}"))?;
        }
        if let Some(etag) = if_none_match {
            set("if-none-match", etag)?;
        }
        let mut init = RequestInit::new();
        init.with_method(call.method.clone()).with_headers(headers);
        let request = Request::new_with_init(url, &init).map_err(|e| GhError::Malformed(format!("bad URL {url}: {e}")))?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(request);
        let sending = fetch.send_with_signal(&signal);
        let timeout = Delay::from(Duration::from_millis(REQUEST_TIMEOUT_MS));
        pin_mut!(sending, timeout);
        self.stats.borrow_mut().github_requests += 1;
        if let Some(meter) = &self.meter {
            meter.subrequest(1);
        }
        let mut response = match select(sending, timeout).await {
            Either::Left((Ok(r), _)) => r,
            Either::Left((Err(e), _)) => return Err(GhError::Unavailable(format!("connection failed: {e}"))),
            Either::Right(_) => {
                controller.abort();
                return Err(GhError::Unavailable(format!("no answer within {} s", REQUEST_TIMEOUT_MS / 1000)));
            }
        };
        let status = response.status_code();
        let h = response.headers();
        let get = |name: &str| h.get(name).ok().flatten();
        let etag = get("etag");
        let link = get("link");
        let rate = RateInfo {
            remaining: get("x-ratelimit-remaining").and_then(|v| v.parse().ok()),
            reset_at: get("x-ratelimit-reset").and_then(|v| v.parse().ok()),
            retry_after: get("retry-after").and_then(|v| v.parse().ok()),
        };
        if status == 304 {
            self.stats.borrow_mut().github_not_modified += 1;
            return Ok(Answer { status, etag, link, body: Body::Bytes(Vec::new()) });
        }
        if stream && (200..300).contains(&status) {
            return Ok(Answer { status, etag, link, body: Body::Stream(response) });
        }
        let body = response.bytes().await.map_err(|e| GhError::Unavailable(format!("connection dropped while reading: {e}")))?;
        self.stats.borrow_mut().bytes_downloaded += body.len() as u64;
        if (200..300).contains(&status) {
            return Ok(Answer { status, etag, link, body: Body::Bytes(body) });
        }
        let text = String::from_utf8_lossy(&body);
        if call.as_app {
            if let Some(refused) = github_app::app_refusal(status, &text) {
                return Err(refused);
            }
        }
        Err(classify_failure(status, rate, &text, (js_sys::Date::now() / 1000.0) as u64, url))
    }
}

/// The App's own endpoints, authenticated by a JWT (never cached: each answer is fresh).
impl GitHubTransport {
    async fn app_call<T: DeserializeOwned>(&self, method: Method, path: &str, jwt: &str, what: &str) -> Result<T, GhError> {
        let url = self.url(path);
        let call = Call { method, as_app: true, ..Call::get(&url, github::ACCEPT_JSON, None) };
        parse(self.send(&call, Some(jwt), what).await?.body.bytes())
    }

    pub async fn app_installation(&self, id: InstallationId, jwt: &str) -> Result<InstallationWire, GhError> {
        self.app_call(Method::Get, &github_app::installation_path(id), jwt, &format!("installation {id}")).await
    }

    pub async fn mint_installation_token(&self, id: InstallationId, jwt: &str) -> Result<AccessTokenWire, GhError> {
        self.app_call(Method::Post, &github_app::access_tokens_path(id), jwt, &format!("installation {id}")).await
    }
}

pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, GhError> {
    serde_json::from_slice(body).map_err(|e| GhError::Malformed(e.to_string()))
}
