//! GitHub over `fetch`: headers GitHub asks for, a timeout per request, retries with backoff
//! for transient faults and short rate limits, `Link` pagination, conditional requests, and
//! the request counts a sync reports. Rules live in `crate::github`; this moves bytes.

use crate::auth::sha256_hex;
use crate::domain::{BranchName, CommitSha, RepoName, Stats};
use crate::engine::{ByteSource, GitHub, Meter};
use crate::github::{
    self, api_url, classify_failure, next_link, BranchWire, GhError, GitRefWire, RateInfo, RepoInfo, RetryDecision, RetryPolicy,
    TreeListing,
};
use crate::github_app::{self, AccessTokenWire, InstallationId, InstallationReposWire, InstallationWire};
use crate::shell::adapters::credentials::InstallationTokens;
use crate::shell::adapters::d1::Db;
use futures::future::{select, Either};
use futures::pin_mut;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use worker::{AbortController, ByteStream, Delay, Fetch, Headers, Method, Request, RequestInit, ResponseBody};

/// A request that has not answered in this long is abandoned (and retried).
const REQUEST_TIMEOUT_MS: u64 = 20_000;
/// Pages of branches we follow at most (100 per page): 100,000 branches.
const MAX_BRANCH_PAGES: usize = 1_000;

/// What a request to GitHub carries in `Authorization`.
pub enum Credential {
    Anonymous,
    Token(String),
    /// Installation tokens, minted and renewed as needed (`installation_tokens`).
    Installation(Rc<InstallationTokens>),
}

/// Who a request speaks as: the client's credential, or the App itself (a JWT).
#[derive(Clone, Copy)]
enum Auth<'a> {
    Credential,
    AppJwt(&'a str),
}

/// One request, as `send_once` sends it.
struct Call<'a> {
    method: Method,
    url: &'a str,
    accept: &'a str,
    if_none_match: Option<&'a str>,
    /// Leave a 2xx body unread, for the caller to stream (tarballs).
    stream: bool,
    auth: Auth<'a>,
}

impl<'a> Call<'a> {
    fn get(url: &'a str, accept: &'a str, if_none_match: Option<&'a str>) -> Call<'a> {
        Call { method: Method::Get, url, accept, if_none_match, stream: false, auth: Auth::Credential }
    }
}

pub struct GitHubHttp {
    base: String,
    credential: Credential,
    policy: RetryPolicy,
    stats: Rc<RefCell<Stats>>,
    /// Where JSON answers are kept with their ETags; `None` disables conditional reads.
    cache: Option<Rc<Db>>,
    /// Counts every request made (each retry too) against the slice's budget.
    meter: Option<Rc<Meter>>,
}

/// Answers larger than this are not kept (D1 rows stay small; huge listings are rare).
const CACHE_MAX_BYTES: usize = 512 * 1024;

struct Answer {
    status: u16,
    etag: Option<String>,
    link: Option<String>,
    body: Body,
}

enum Body {
    Bytes(Vec<u8>),
    /// Left unread, for the caller to stream (tarballs).
    Stream(worker::Response),
}

impl Body {
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Bytes(b) => b,
            Body::Stream(_) => &[],
        }
    }
}

/// The result of a conditional read of a branch head.
pub enum HeadCheck {
    NotModified,
    Moved { sha: CommitSha, etag: Option<String> },
}

impl GitHubHttp {
    pub fn new(base: &str, credential: Credential, cache: Option<Rc<Db>>) -> Self {
        GitHubHttp { base: base.to_string(), credential, policy: RetryPolicy::default(), stats: Rc::default(), cache, meter: None }
    }

    /// A personal token, or nobody.
    pub fn with_token(base: &str, token: Option<String>, cache: Option<Rc<Db>>) -> Self {
        Self::new(base, token.map_or(Credential::Anonymous, Credential::Token), cache)
    }

    /// The installation whose tokens this client sends, if any.
    pub fn installation(&self) -> Option<&InstallationTokens> {
        match &self.credential {
            Credential::Installation(tokens) => Some(tokens),
            _ => None,
        }
    }

    pub fn metered(mut self, meter: Rc<Meter>) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Cache entries are per token (different tokens may see different things), never
    /// keyed by the token itself.
    /// An installation's answers are shared by its tokens, whichever is current.
    fn cache_key(&self, url: &str) -> String {
        let scope = match &self.credential {
            Credential::Token(t) => sha256_hex(t.as_bytes())[..16].to_string(),
            Credential::Installation(tokens) => format!("installation-{}", tokens.id()),
            Credential::Anonymous => "anonymous".to_string(),
        };
        format!("{scope} {url}")
    }

    async fn authorization(&self, auth: Auth<'_>) -> Result<Option<String>, GhError> {
        Ok(match (auth, &self.credential) {
            (Auth::AppJwt(jwt), _) => Some(jwt.to_string()),
            (Auth::Credential, Credential::Token(t)) => Some(t.clone()),
            (Auth::Credential, Credential::Installation(tokens)) => Some(tokens.token(self).await?),
            (Auth::Credential, Credential::Anonymous) => None,
        })
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<Answer, GhError> {
        let Call { url, accept, if_none_match, stream, .. } = *call;
        let headers = Headers::new();
        let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| GhError::Malformed(e.to_string()));
        set("accept", accept)?;
        set("user-agent", github::USER_AGENT)?;
        set("x-github-api-version", github::API_VERSION)?;
        if let Some(token) = self.authorization(call.auth).await? {
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
        if let Auth::AppJwt(_) = call.auth {
            if let Some(refused) = github_app::app_refusal(status, &text) {
                return Err(refused);
            }
        }
        Err(classify_failure(status, rate, &text, (js_sys::Date::now() / 1000.0) as u64, url))
    }

    /// One logical GET: retried on transient faults and short rate-limit waits.
    async fn get(&self, url: &str, accept: &str, if_none_match: Option<&str>, what: &str) -> Result<Answer, GhError> {
        self.call(&Call::get(url, accept, if_none_match), what).await
    }

    /// One logical request: retried on transient faults and short rate-limit waits; a 401
    /// to an installation token renews the token once and tries again at once.
    async fn call(&self, call: &Call<'_>, what: &str) -> Result<Answer, GhError> {
        let mut attempt = 1;
        let mut renewed = false;
        loop {
            match self.send_once(call).await {
                Ok(answer) => return Ok(answer),
                Err(GhError::NotFound(_)) => return Err(GhError::NotFound(what.to_string())),
                Err(GhError::Unauthorized) if !renewed && matches!(call.auth, Auth::Credential) => match &self.credential {
                    Credential::Installation(tokens) => {
                        renewed = true;
                        tokens.renew(self).await?;
                    }
                    _ => return Err(GhError::Unauthorized),
                },
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

    /// A JSON GET made conditional by a cached ETag: a 304 is answered from the cache.
    async fn get_cached(&self, url: &str, what: &str) -> Result<Answer, GhError> {
        let Some(db) = &self.cache else {
            return self.get(url, github::ACCEPT_JSON, None, what).await;
        };
        let key = self.cache_key(url);
        let cached = db.cached_get(&key).await.ok().flatten();
        let answer = self.get(url, github::ACCEPT_JSON, cached.as_ref().map(|c| c.etag.as_str()), what).await?;
        match (answer.status, cached) {
            (304, Some(c)) => Ok(Answer { status: 200, etag: Some(c.etag), link: c.link, body: Body::Bytes(c.body.into_bytes()) }),
            (304, None) => Err(GhError::Malformed("304 without a cached answer".into())),
            _ => {
                if let (Some(etag), Body::Bytes(bytes)) = (&answer.etag, &answer.body) {
                    if bytes.len() <= CACHE_MAX_BYTES {
                        if let Ok(text) = std::str::from_utf8(bytes) {
                            let now = crate::shell::adapters::iso(crate::shell::adapters::now_ms());
                            // A cache that cannot be written only costs a full answer next time.
                            let _ = db.store_get(&key, etag, answer.link.as_deref(), text, &now).await;
                        }
                    }
                }
                Ok(answer)
            }
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, GhError> {
        let answer = self.get_cached(&api_url(&self.base, path), what).await?;
        parse(answer.body.bytes())
    }

    pub async fn repo(&self, repo: &RepoName) -> Result<RepoInfo, GhError> {
        self.get_json(&github::repo_path(repo), &format!("repository {repo}")).await
    }

    /// Every branch, following `Link: rel="next"` for as many pages as GitHub has.
    pub async fn branches(&self, repo: &RepoName) -> Result<Vec<BranchWire>, GhError> {
        let mut url = api_url(&self.base, &github::branches_path(repo));
        let mut all = Vec::new();
        for _ in 0..MAX_BRANCH_PAGES {
            let answer = self.get_cached(&url, &format!("repository {repo}")).await?;
            let page: Vec<BranchWire> = parse(answer.body.bytes())?;
            all.extend(page);
            match next_link(answer.link.as_deref()) {
                Some(next) => url = next,
                None => return Ok(all),
            }
        }
        Err(GhError::Malformed(format!("more than {MAX_BRANCH_PAGES} pages of branches")))
    }

    /// The branch head, answered from GitHub's ETag when it has not moved (a free 304).
    pub async fn head_if_moved(&self, repo: &RepoName, branch: &BranchName, etag: Option<&str>) -> Result<HeadCheck, GhError> {
        let url = api_url(&self.base, &github::head_ref_path(repo, branch));
        let answer = self.get(&url, github::ACCEPT_JSON, etag, &format!("branch {branch}")).await?;
        if answer.status == 304 {
            return Ok(HeadCheck::NotModified);
        }
        let wire: GitRefWire = parse(answer.body.bytes())?;
        Ok(HeadCheck::Moved { sha: commit_of(wire, branch)?, etag: answer.etag })
    }
}

/// The App's own endpoints, authenticated by a JWT (never cached: each answer is fresh).
impl GitHubHttp {
    async fn app_call<T: DeserializeOwned>(&self, method: Method, path: &str, jwt: &str, what: &str) -> Result<T, GhError> {
        let url = api_url(&self.base, path);
        let call = Call { method, auth: Auth::AppJwt(jwt), ..Call::get(&url, github::ACCEPT_JSON, None) };
        parse(self.call(&call, what).await?.body.bytes())
    }

    pub async fn app_installation(&self, id: InstallationId, jwt: &str) -> Result<InstallationWire, GhError> {
        self.app_call(Method::Get, &github_app::installation_path(id), jwt, &format!("installation {id}")).await
    }

    pub async fn mint_installation_token(&self, id: InstallationId, jwt: &str) -> Result<AccessTokenWire, GhError> {
        self.app_call(Method::Post, &github_app::access_tokens_path(id), jwt, &format!("installation {id}")).await
    }

    /// A blob's raw bytes as GitHub's answer streams them (never buffered here), with the
    /// length GitHub gave, if any.
    pub async fn blob_stream(&self, repo: &RepoName, sha: &str) -> Result<(ResponseBody, Option<u64>), GhError> {
        let url = api_url(&self.base, &github::blob_path(repo, sha));
        let call = Call { stream: true, ..Call::get(&url, github::ACCEPT_RAW, None) };
        let Body::Stream(response) = self.call(&call, &format!("blob {sha}")).await?.body else {
            return Err(GhError::Malformed("the blob had no body".into()));
        };
        let length = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse().ok());
        Ok((response.body().clone(), length))
    }

    /// One page (100) of the repositories the client's installation token reaches.
    pub async fn installation_repositories(&self, page: u64) -> Result<InstallationReposWire, GhError> {
        let url = api_url(&self.base, &github_app::installation_repositories_path(page));
        parse(self.get(&url, github::ACCEPT_JSON, None, "the installation's repositories").await?.body.bytes())
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, GhError> {
    serde_json::from_slice(body).map_err(|e| GhError::Malformed(e.to_string()))
}

fn commit_of(wire: GitRefWire, branch: &BranchName) -> Result<CommitSha, GhError> {
    if wire.object.kind != "commit" {
        return Err(GhError::Malformed(format!("branch {branch} points at a {}", wire.object.kind)));
    }
    CommitSha::parse(&wire.object.sha).map_err(|e| GhError::Malformed(e.0))
}

impl GitHub for GitHubHttp {
    async fn head(&self, repo: &RepoName, branch: &BranchName) -> Result<CommitSha, GhError> {
        let wire: GitRefWire = self.get_json(&github::head_ref_path(repo, branch), &format!("branch {branch}")).await?;
        commit_of(wire, branch)
    }

    async fn tree(&self, repo: &RepoName, tree_ish: &str, recursive: bool, prefix: &str) -> Result<TreeListing, GhError> {
        // A tree is named by its content: nothing to gain from a conditional read, and two
        // cache queries a listing saved (a walk makes hundreds).
        let url = api_url(&self.base, &github::tree_path(repo, tree_ish, recursive));
        let answer = self.get(&url, github::ACCEPT_JSON, None, &format!("tree {tree_ish}")).await?;
        github::parse_tree(answer.body.bytes(), prefix)
    }

    async fn blob(&self, repo: &RepoName, sha: &str) -> Result<Vec<u8>, GhError> {
        // The raw media type skips base64: a third fewer bytes, and no decoding.
        let url = api_url(&self.base, &github::blob_path(repo, sha));
        match self.get(&url, github::ACCEPT_RAW, None, &format!("blob {sha}")).await?.body {
            Body::Bytes(b) => Ok(b),
            Body::Stream(_) => Err(GhError::Malformed("unexpected stream".into())),
        }
    }

    type Tarball = TarballStream;

    async fn tarball(&self, repo: &RepoName, commit: &CommitSha) -> Result<TarballStream, GhError> {
        // GitHub answers 302 to a short-lived download URL; fetch follows it.
        let url = api_url(&self.base, &github::tarball_path(repo, commit));
        let call = Call { stream: true, ..Call::get(&url, github::ACCEPT_JSON, None) };
        let answer = self.call(&call, &format!("tarball of {commit}")).await?;
        let Body::Stream(response) = answer.body else {
            return Err(GhError::Malformed("the tarball had no body".into()));
        };
        let ResponseBody::Stream(raw) = response.body() else {
            return Err(GhError::Malformed("the tarball had no body".into()));
        };
        let gunzip = DecompressionStream::new("gzip").map_err(|e| GhError::Malformed(format!("no gzip decoder: {e:?}")))?;
        let pair = web_sys::ReadableWritablePair::new(&gunzip.readable(), &gunzip.writable());
        let plain = raw.pipe_through(&pair);
        Ok(TarballStream { inner: ByteStream::from(plain), stats: Rc::clone(&self.stats) })
    }

    fn take_stats(&self) -> Stats {
        std::mem::take(&mut *self.stats.borrow_mut())
    }
}

// web-sys gates DecompressionStream behind an unstable cfg; the runtime has it, so bind it here.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    type DecompressionStream;
    #[wasm_bindgen::prelude::wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<DecompressionStream, wasm_bindgen::JsValue>;
    #[wasm_bindgen::prelude::wasm_bindgen(method, getter)]
    fn readable(this: &DecompressionStream) -> web_sys::ReadableStream;
    #[wasm_bindgen::prelude::wasm_bindgen(method, getter)]
    fn writable(this: &DecompressionStream) -> web_sys::WritableStream;
}

/// The decompressed tarball. Counts what it delivers as downloaded (after decompression,
/// since the compressed length is not known on a chunked download).
pub struct TarballStream {
    inner: ByteStream,
    stats: Rc<RefCell<Stats>>,
}

impl ByteSource for TarballStream {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GhError> {
        let read = self.inner.next();
        let timeout = Delay::from(Duration::from_millis(REQUEST_TIMEOUT_MS));
        pin_mut!(timeout);
        match select(read, timeout).await {
            Either::Left((Some(Ok(chunk)), _)) => {
                self.stats.borrow_mut().bytes_downloaded += chunk.len() as u64;
                Ok(Some(chunk))
            }
            Either::Left((Some(Err(e)), _)) => Err(GhError::Unavailable(format!("tarball download broke: {e}"))),
            Either::Left((None, _)) => Ok(None),
            Either::Right(_) => Err(GhError::Unavailable("the tarball download stalled".into())),
        }
    }
}
