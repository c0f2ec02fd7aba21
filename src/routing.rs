//! Which endpoint a request is for, decided from its method and path alone, so the shell's
//! dispatch is one `match` and the table is tested natively.

/// The request methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Patch,
    Delete,
    Other,
}

impl Verb {
    /// The verb of a request's method as it came on the wire. Read from the raw name: the
    /// `worker` crate reads any method it does not know (`QUERY`, `FOO`) as GET, which
    /// would serve a GET's answer to it (issue 19, defect 11: schemathesis found it).
    pub fn parse(method: &str) -> Verb {
        match method {
            "GET" => Verb::Get,
            "POST" => Verb::Post,
            "PATCH" => Verb::Patch,
            "DELETE" => Verb::Delete,
            _ => Verb::Other,
        }
    }
}

/// An endpoint, with the ids its path carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    OpenApi,
    /// The MCP endpoint (JSON-RPC over POST); it checks `Origin` before the bearer token.
    Mcp,
    CreateUser,
    /// The event stream; it carries its own credential (a stream token) or a bearer token.
    Events(&'a str),
    Webhook,
    /// Arms a test fault (admin token; only with `FAULT_INJECTION=true`).
    ArmFault,
    /// Puts a raw message on the fan-out queue (admin token; only with `FAULT_INJECTION`).
    Enqueue,
    /// The serving isolate's memory and the dead letters (admin token).
    Diagnostics,
    CreateProject,
    ListProjects,
    GetProject(&'a str),
    PatchProject(&'a str),
    DeleteProject(&'a str),
    Branches(&'a str),
    StartSync(&'a str),
    History(&'a str),
    Restore(&'a str),
    Files(&'a str),
    FileHistory(&'a str),
    /// A file's bytes (`?path=&at=`).
    FileContent(&'a str),
    /// The changes between two states (`?from=&to=`).
    Compare(&'a str),
    Memory(&'a str),
    GetSync(&'a str),
    CancelSync(&'a str),
    Changes(&'a str),
    EventsUrl(&'a str),
    /// Grants a GitHub App installation to a user (admin token).
    GrantInstallation,
    ListInstallations,
    InstallationRepositories(&'a str),
    CreateHook(&'a str),
    ListHooks(&'a str),
    /// (project, hook)
    DeleteHook(&'a str, &'a str),
    /// A hook's delivery log: (project, hook).
    HookDeliveries(&'a str, &'a str),
}

impl Route<'_> {
    /// Routes that authenticate with something other than a user's bearer token.
    pub fn own_credentials(&self) -> bool {
        matches!(
            self,
            Route::Health
                | Route::OpenApi
                | Route::Mcp
                | Route::CreateUser
                | Route::Events(_)
                | Route::Webhook
                | Route::ArmFault
                | Route::Enqueue
                | Route::Diagnostics
                | Route::GrantInstallation
        )
    }
}

/// The route for `method` and `path` (a trailing slash is ignored); `None` is a 404.
pub fn route(method: Verb, path: &str) -> Option<Route<'_>> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    use Verb::*;
    Some(match (method, segments.as_slice()) {
        (Get, ["healthz"]) => Route::Health,
        // Streamable HTTP's other methods (GET for a stream, DELETE for a session) are a 405
        // naming POST: this server keeps no session and sends nothing unasked.
        (Post, ["mcp"]) => Route::Mcp,
        (_, ["api", "v1", rest @ ..]) => match (method, rest) {
            (Get, ["openapi.json"]) => Route::OpenApi,
            (Post, ["users"]) => Route::CreateUser,
            (Get, ["events", "project-sync", sync]) => Route::Events(sync),
            (Post, ["webhooks", "github"]) => Route::Webhook,
            (Post, ["_test", "faults"]) => Route::ArmFault,
            (Post, ["_test", "enqueue"]) => Route::Enqueue,
            (Get, ["_diagnostics"]) => Route::Diagnostics,
            (Post, ["projects"]) => Route::CreateProject,
            (Get, ["projects"]) => Route::ListProjects,
            (Get, ["projects", id]) => Route::GetProject(id),
            (Patch, ["projects", id]) => Route::PatchProject(id),
            (Delete, ["projects", id]) => Route::DeleteProject(id),
            (Get, ["projects", id, "branches"]) => Route::Branches(id),
            (Post, ["projects", id, "syncs"]) => Route::StartSync(id),
            (Get, ["projects", id, "syncs"]) => Route::History(id),
            (Post, ["projects", id, "restore"]) => Route::Restore(id),
            (Get, ["projects", id, "files"]) => Route::Files(id),
            (Get, ["projects", id, "files", "history"]) => Route::FileHistory(id),
            (Get, ["projects", id, "files", "content"]) => Route::FileContent(id),
            (Get, ["projects", id, "compare"]) => Route::Compare(id),
            (Get, ["projects", id, "memory"]) => Route::Memory(id),
            (Post, ["projects", id, "hooks"]) => Route::CreateHook(id),
            (Get, ["projects", id, "hooks"]) => Route::ListHooks(id),
            (Delete, ["projects", id, "hooks", hook]) => Route::DeleteHook(id, hook),
            (Get, ["projects", id, "hooks", hook, "deliveries"]) => Route::HookDeliveries(id, hook),
            (Get, ["syncs", id]) => Route::GetSync(id),
            (Post, ["syncs", id, "cancel"]) => Route::CancelSync(id),
            (Get, ["syncs", id, "changes"]) => Route::Changes(id),
            (Get, ["syncs", id, "events-url"]) => Route::EventsUrl(id),
            (Post, ["installations"]) => Route::GrantInstallation,
            (Get, ["installations"]) => Route::ListInstallations,
            (Get, ["installations", id, "repositories"]) => Route::InstallationRepositories(id),
            _ => return None,
        },
        _ => return None,
    })
}

/// The methods `path` answers (the `Allow` header of a 405), or `None` when no method does
/// (a 404). The test-only routes stay hidden: they answer 404 to every other method.
pub fn allowed(path: &str) -> Option<String> {
    let names = [(Verb::Get, "GET"), (Verb::Post, "POST"), (Verb::Patch, "PATCH"), (Verb::Delete, "DELETE")];
    let allow: Vec<&str> = names
        .iter()
        .filter(|(verb, _)| matches!(route(*verb, path), Some(r) if !matches!(r, Route::ArmFault | Route::Enqueue)))
        .map(|(_, name)| *name)
        .collect();
    (!allow.is_empty()).then(|| allow.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the OpenAPI document has an operation for `verb` on a path template that
    /// matches `path` (`{name}` matches one segment).
    fn in_openapi(doc: &serde_json::Value, verb: Verb, path: &str) -> bool {
        let method = format!("{verb:?}").to_lowercase();
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        doc["paths"].as_object().unwrap().iter().any(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(t, s)| t == s || t.starts_with('{'))
                && item.get(&method).is_some()
        })
    }

    #[test]
    fn the_route_table() {
        use Verb::*;
        let cases: &[(Verb, &str, Option<Route>)] = &[
            (Get, "/healthz", Some(Route::Health)),
            (Post, "/healthz", None),
            (Post, "/mcp", Some(Route::Mcp)),
            (Post, "/mcp/", Some(Route::Mcp)),
            (Get, "/mcp", None),
            (Delete, "/mcp", None),
            (Post, "/mcp/x", None),
            (Get, "/api/v1/openapi.json", Some(Route::OpenApi)),
            (Post, "/api/v1/users", Some(Route::CreateUser)),
            (Get, "/api/v1/events/project-sync/s-1", Some(Route::Events("s-1"))),
            (Post, "/api/v1/webhooks/github", Some(Route::Webhook)),
            (Post, "/api/v1/projects/", Some(Route::CreateProject)),
            (Get, "/api/v1/projects", Some(Route::ListProjects)),
            (Get, "/api/v1/projects/p-1", Some(Route::GetProject("p-1"))),
            (Patch, "/api/v1/projects/p-1", Some(Route::PatchProject("p-1"))),
            (Delete, "/api/v1/projects/p-1", Some(Route::DeleteProject("p-1"))),
            (Get, "/api/v1/projects/p-1/branches", Some(Route::Branches("p-1"))),
            (Post, "/api/v1/projects/p-1/syncs", Some(Route::StartSync("p-1"))),
            (Get, "/api/v1/projects/p-1/syncs", Some(Route::History("p-1"))),
            (Post, "/api/v1/projects/p-1/restore", Some(Route::Restore("p-1"))),
            (Get, "/api/v1/projects/p-1/files", Some(Route::Files("p-1"))),
            (Get, "/api/v1/projects/p-1/files/history", Some(Route::FileHistory("p-1"))),
            (Get, "/api/v1/projects/p-1/files/content", Some(Route::FileContent("p-1"))),
            (Get, "/api/v1/projects/p-1/compare", Some(Route::Compare("p-1"))),
            (Get, "/api/v1/projects/p-1/memory", Some(Route::Memory("p-1"))),
            (Post, "/api/v1/projects/p-1/hooks", Some(Route::CreateHook("p-1"))),
            (Get, "/api/v1/projects/p-1/hooks", Some(Route::ListHooks("p-1"))),
            (Delete, "/api/v1/projects/p-1/hooks/h-1", Some(Route::DeleteHook("p-1", "h-1"))),
            (Get, "/api/v1/projects/p-1/hooks/h-1/deliveries", Some(Route::HookDeliveries("p-1", "h-1"))),
            (Get, "/api/v1/projects/p-1/hooks/h-1", None),
            (Get, "/api/v1/syncs/s-1", Some(Route::GetSync("s-1"))),
            (Post, "/api/v1/syncs/s-1/cancel", Some(Route::CancelSync("s-1"))),
            (Get, "/api/v1/syncs/s-1/changes", Some(Route::Changes("s-1"))),
            (Get, "/api/v1/syncs/s-1/events-url", Some(Route::EventsUrl("s-1"))),
            (Post, "/api/v1/_test/faults", Some(Route::ArmFault)),
            (Get, "/api/v1/_diagnostics", Some(Route::Diagnostics)),
            (Post, "/api/v1/_test/enqueue", Some(Route::Enqueue)),
            (Post, "/api/v1/installations", Some(Route::GrantInstallation)),
            (Get, "/api/v1/installations/", Some(Route::ListInstallations)),
            (Get, "/api/v1/installations/42/repositories", Some(Route::InstallationRepositories("42"))),
            (Delete, "/api/v1/installations/42", None),
            (Delete, "/api/v1/syncs/s-1", None),
            (Get, "/api/v2/projects", None),
            (Other, "/api/v1/projects", None),
            (Get, "/", None),
        ];
        for (verb, path, want) in cases {
            assert_eq!(route(*verb, path), *want, "{verb:?} {path}");
        }
        // `/mcp` speaks JSON-RPC, not the REST contract: README documents it, not OpenAPI.
        let documented: Vec<_> =
            cases.iter().filter(|(_, path, want)| want.is_some() && !path.contains("/_test/") && !path.starts_with("/mcp")).collect();
        let doc: serde_json::Value = serde_json::from_str(include_str!("../web/openapi.json")).unwrap();
        for (verb, path, _) in documented {
            assert!(in_openapi(&doc, *verb, path), "{verb:?} {path} is described in web/openapi.json");
        }
        assert!(Route::Webhook.own_credentials());
        assert!(Route::Mcp.own_credentials(), "the Origin check comes before the token");
        for (name, want) in [("GET", Get), ("POST", Post), ("PATCH", Patch), ("DELETE", Delete)] {
            assert_eq!(Verb::parse(name), want);
        }
        for name in ["QUERY", "FOO", "get", "HEAD", "OPTIONS", "TRACE", "PUT", ""] {
            assert_eq!(Verb::parse(name), Other, "{name}");
        }
        for (path, want) in [
            ("/api/v1/projects", Some("GET, POST")),
            ("/api/v1/projects/p-1/", Some("GET, PATCH, DELETE")),
            ("/api/v1/projects/p-1/hooks/h-1", Some("DELETE")),
            ("/healthz", Some("GET")),
            ("/mcp", Some("POST")),
            ("/api/v1/_test/faults", None),
            ("/api/v1/nothing", None),
            ("/", None),
        ] {
            assert_eq!(allowed(path).as_deref(), want, "{path}");
        }
        assert!(Route::GrantInstallation.own_credentials(), "the admin token, not a user's");
        assert!(!Route::ListInstallations.own_credentials());
        assert!(!Route::Files("p").own_credentials());
    }
}
