//! ARCHITECTURE.md's invariants, checked rather than only written: every `use` declaration
//! and every `crate::`/`super::`/`self::` path in `src/` is read (comments and strings left
//! out), resolved to the file that defines what it names (re-exports followed), and
//!
//! - no import goes up a floor: the shell's `entry` > `cases` > `adapters` > the core (every
//!   module outside `src/shell`), so the core never imports the shell, an adapter never a
//!   use case, a use case never an entry point;
//! - no files import each other in a circle. A module and its own submodules are one unit
//!   (a child using its parent's types, a parent dispatching to its children), so the
//!   circles are looked for at every depth of the module tree: `api/x.rs` → `hooks.rs` →
//!   `api/y.rs` is a circle between `api` and `hooks`.
//!
//! Native and fast: it reads files, it compiles nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path from the crate root, e.g. `["shell", "adapters", "d1"]`.
type ModPath = Vec<String>;

/// The floors, lowest first: the core (every module outside `shell`), then the shell's.
const FLOORS: [&str; 4] = ["core", "adapters", "cases", "entry"];

/// A module's floor; `None` for the shell's root (which only declares the floors) and for
/// a shell module outside them (which `every_shell_file_is_on_a_floor` refuses).
fn floor(module: &[String]) -> Option<usize> {
    match module {
        [shell, ..] if shell != "shell" => Some(0),
        [] => Some(0),
        [_] => None,
        [_, name, ..] => FLOORS.iter().position(|f| f == name).filter(|&i| i > 0),
    }
}

// ---------------------------------------------------------------------------------------
// Reading a file: comments and literals out, then `use` trees and paths.

/// The code of a Rust file with comments, string and char literals blanked (newlines
/// kept, so offsets still give line numbers).
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if let Some(len) = raw_string_start(&c, i) {
            // r"…", r#"…"#, br#"…"#: ends at a quote followed by as many hashes.
            let hashes = c[i..i + len].iter().filter(|&&ch| ch == '#').count();
            for &ch in &c[i..i + len] {
                blank(&mut out, ch);
            }
            i += len;
            while i < c.len() {
                if c[i] == '"' && c[i + 1..].iter().take(hashes).filter(|&&ch| ch == '#').count() == hashes {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += 1 + hashes;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' && (next == Some('\\') || c.get(i + 2) == Some(&'\'')) {
            // A char literal ('x', '\n', '\u{1F600}'); a lifetime ('a) has no closing quote.
            out.push(' ');
            i += 1;
            if c.get(i) == Some(&'\\') {
                out.push(' ');
                i += 1;
            }
            while i < c.len() && c[i] != '\'' {
                blank(&mut out, c[i]);
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// The length of a raw string's opening (`r"`, `r#"`, `br##"`) at `i`, if one starts there.
fn raw_string_start(c: &[char], i: usize) -> Option<usize> {
    if i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    while c.get(j) == Some(&'#') {
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some(j + 1 - i)
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    Colons,
    Open,
    Close,
    Comma,
    Star,
}

fn tokens(tree: &str) -> Vec<Token> {
    let c: Vec<char> = tree.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            ch if ch.is_whitespace() => i += 1,
            ':' if c.get(i + 1) == Some(&':') => {
                out.push(Token::Colons);
                i += 2;
            }
            '{' => {
                out.push(Token::Open);
                i += 1;
            }
            '}' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '*' => {
                out.push(Token::Star);
                i += 1;
            }
            ch if ch.is_alphanumeric() || ch == '_' => {
                let start = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                out.push(Token::Ident(c[start..i].iter().collect()));
            }
            _ => i += 1,
        }
    }
    out
}

/// One leaf of a `use` tree: the path as written, the name it binds (`None` for a glob).
#[derive(Debug, PartialEq)]
struct Leaf {
    path: Vec<String>,
    name: Option<String>,
}

/// The leaves of a `use` tree (the text between `use` and `;`): `a::{b, c::{self, d as e}, f::*}`.
fn use_leaves(tree: &str) -> Vec<Leaf> {
    let toks = tokens(tree);
    let mut pos = 0;
    let mut out = Vec::new();
    subtree(&toks, &mut pos, &[], &mut out);
    out
}

fn subtree(toks: &[Token], pos: &mut usize, prefix: &[String], out: &mut Vec<Leaf>) {
    let mut path = prefix.to_vec();
    if toks.get(*pos) == Some(&Token::Colons) {
        *pos += 1; // `use ::std::…`
    }
    loop {
        match toks.get(*pos) {
            Some(Token::Open) => {
                *pos += 1;
                while !matches!(toks.get(*pos), Some(Token::Close) | None) {
                    subtree(toks, pos, &path, out);
                    if toks.get(*pos) == Some(&Token::Comma) {
                        *pos += 1;
                    }
                }
                *pos += 1;
                return;
            }
            Some(Token::Star) => {
                *pos += 1;
                out.push(Leaf { path, name: None });
                return;
            }
            Some(Token::Ident(id)) => {
                *pos += 1;
                let leaf_self = id == "self" && !path.is_empty() && toks.get(*pos) != Some(&Token::Colons);
                if !leaf_self {
                    path.push(id.clone());
                }
                if toks.get(*pos) == Some(&Token::Colons) {
                    *pos += 1;
                    continue;
                }
                let mut name = path.last().cloned();
                if let (Some(Token::Ident(kw)), Some(Token::Ident(alias))) = (toks.get(*pos), toks.get(*pos + 1)) {
                    if kw == "as" {
                        name = Some(alias.clone());
                        *pos += 2;
                    }
                }
                out.push(Leaf { path, name });
                return;
            }
            _ => return,
        }
    }
}

/// A `use` declaration or a qualified path found in a file.
struct Mention {
    /// The module it is written in (inline modules included).
    module: ModPath,
    leaf: Leaf,
    /// A `pub use` at the file's top level: a re-export.
    reexport: bool,
    line: usize,
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The byte ranges of the inline modules (`mod tests { … }`) of `code`, with their names.
fn inline_modules(code: &str) -> Vec<(usize, usize, String)> {
    let b = code.as_bytes();
    let mut found = Vec::new();
    let mut search = 0;
    while let Some(at) = code[search..].find("mod ").map(|k| k + search) {
        search = at + 4;
        if at > 0 && is_ident(b[at - 1] as char) {
            continue;
        }
        let rest = &code[at + 4..];
        let name: String = rest.trim_start().chars().take_while(|&ch| is_ident(ch)).collect();
        let after = rest.trim_start()[name.len()..].trim_start();
        if name.is_empty() || !after.starts_with('{') {
            continue;
        }
        let open = code.len() - after.len();
        let mut depth = 0;
        for (k, ch) in code[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        found.push((open, open + k, name.clone()));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    found
}

/// Every `use` declaration and every `crate::`, `super::` or `self::` path in `code`.
fn mentions(code: &str, file_module: &ModPath) -> Vec<Mention> {
    let inline = inline_modules(code);
    let module_at = |pos: usize| {
        let mut m = file_module.clone();
        let mut enclosing: Vec<_> = inline.iter().filter(|(open, close, _)| *open < pos && pos < *close).collect();
        enclosing.sort_by_key(|(open, _, _)| *open);
        m.extend(enclosing.iter().map(|(_, _, name)| name.clone()));
        m
    };
    let line_at = |pos: usize| code[..pos].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut in_use = Vec::new();
    let b = code.as_bytes();
    let mut search = 0;
    while let Some(at) = code[search..].find("use").map(|k| k + search) {
        search = at + 3;
        let before_ok = at == 0 || !is_ident(b[at - 1] as char);
        let after_ok = b.get(at + 3).is_some_and(|&ch| (ch as char).is_whitespace() || ch == b':' || ch == b'{');
        if !before_ok || !after_ok {
            continue;
        }
        let Some(end) = code[at..].find(';').map(|k| k + at) else { continue };
        let head = code[..at].trim_end();
        let reexport = (head.ends_with("pub") || head.ends_with(')') && head.rfind("pub(").is_some_and(|p| !head[p..].contains('\n')))
            && inline.iter().all(|(open, close, _)| !(*open < at && at < *close));
        for leaf in use_leaves(&code[at + 3..end]) {
            out.push(Mention { module: module_at(at), leaf, reexport, line: line_at(at) });
        }
        in_use.push((at, end));
        search = end;
    }
    // Paths in the code: `crate::a::b(…)`, `super::x::Y`, `self::z`.
    let starts = ["crate", "super", "self"].into_iter().flat_map(|w| code.match_indices(w).map(move |(pos, _)| (pos, w)));
    for (pos, first) in starts {
        let before = code[..pos].chars().next_back();
        if before.is_some_and(|ch| is_ident(ch) || ch == ':') || in_use.iter().any(|(s, e)| *s <= pos && pos < *e) {
            continue;
        }
        let rest = &code[pos..];
        let mut path = vec![first.to_string()];
        let mut cursor = &rest[first.len()..];
        loop {
            let trimmed = cursor.trim_start();
            let Some(after) = trimmed.strip_prefix("::") else { break };
            let after = after.trim_start();
            let seg: String = after.chars().take_while(|&ch| is_ident(ch)).collect();
            if seg.is_empty() {
                break; // `::<T>` or `::{` in an expression
            }
            cursor = &after[seg.len()..];
            path.push(seg);
        }
        if path.len() > 1 {
            let name = path.last().cloned();
            out.push(Mention { module: module_at(pos), leaf: Leaf { path, name }, reexport: false, line: line_at(pos) });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The crate: files, modules, what each file's mentions resolve to.

struct File {
    path: String,
    module: ModPath,
    code: String,
    mentions: Vec<Mention>,
}

struct Crate {
    files: Vec<File>,
    /// Module path -> index in `files`.
    by_module: BTreeMap<ModPath, usize>,
}

/// The module a file under `src/` is (`lib.rs` the root, `a/mod.rs` and `a.rs` are `a`).
fn module_of(rel: &str) -> ModPath {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

impl Crate {
    fn new(sources: Vec<(String, String)>) -> Crate {
        let mut files = Vec::new();
        let mut by_module = BTreeMap::new();
        for (path, text) in sources {
            let module = module_of(&path);
            let code = strip(&text);
            by_module.insert(module.clone(), files.len());
            let mentions = mentions(&code, &module);
            files.push(File { path, module, code, mentions });
        }
        Crate { files, by_module }
    }

    /// A written path made absolute (from the crate root), or `None` for another crate's.
    fn absolute(&self, written: &[String], module: &ModPath) -> Option<ModPath> {
        let mut base = module.clone();
        let mut rest = written;
        match written.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &written[1..];
            }
            Some("self") => rest = &written[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            Some(first) => {
                // A bare path names a child module of this one (`use d1::Db`), else a crate.
                let mut child = base.clone();
                child.push(first.to_string());
                if !self.by_module.contains_key(&child) {
                    return None;
                }
            }
            None => return None,
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The file that defines what `path` names: the deepest module file on it, through the
    /// re-exports of that module (`pub use`, globs included).
    fn resolve(&self, path: &ModPath, hops: usize) -> Option<usize> {
        let depth = (0..=path.len()).rev().find(|&d| self.by_module.contains_key(&path[..d]))?;
        let file = self.by_module[&path[..depth]];
        if depth == path.len() || hops > 16 {
            return Some(file);
        }
        let name = &path[depth];
        let tail = &path[depth + 1..];
        for m in self.files[file].mentions.iter().filter(|m| m.reexport) {
            let Some(target) = self.absolute(&m.leaf.path, &m.module) else { continue };
            let through = match &m.leaf.name {
                Some(exported) if exported == name => Some(target),
                // A glob re-exports `name` when the module it names defines it.
                None if self.by_module.get(&target).is_some_and(|&g| defines(&self.files[g].code, name)) => {
                    Some([target, vec![name.clone()]].concat())
                }
                _ => None,
            };
            if let Some(target) = through {
                return self.resolve(&[target, tail.to_vec()].concat(), hops + 1);
            }
        }
        Some(file)
    }

    /// Every import of every file: (from, to, line, what was written), self-imports left out.
    fn edges(&self) -> Vec<(usize, usize, usize, String)> {
        let mut out = Vec::new();
        for (i, f) in self.files.iter().enumerate() {
            for m in &f.mentions {
                let Some(abs) = self.absolute(&m.leaf.path, &m.module) else { continue };
                if let Some(j) = self.resolve(&abs, 0) {
                    if j != i {
                        out.push((i, j, m.line, m.leaf.path.join("::")));
                    }
                }
            }
        }
        out
    }
}

/// Whether `code` defines an item called `name` at any level.
fn defines(code: &str, name: &str) -> bool {
    ["fn", "struct", "enum", "trait", "type", "const", "static", "mod", "union", "macro_rules!"].iter().any(|kw| {
        code.match_indices(kw).any(|(at, _)| {
            let before_ok = at == 0 || !is_ident(code.as_bytes()[at - 1] as char);
            let rest = code[at + kw.len()..].trim_start();
            before_ok && rest.starts_with(name) && !rest[name.len()..].starts_with(is_ident)
        })
    })
}

// ---------------------------------------------------------------------------------------
// The checks.

/// Imports that go up a floor, as `file:line imports path (floor a → floor b)`.
fn upward_imports(krate: &Crate) -> Vec<String> {
    let mut out = Vec::new();
    for (from, to, line, written) in krate.edges() {
        let (Some(a), Some(b)) = (floor(&krate.files[from].module), floor(&krate.files[to].module)) else { continue };
        if b > a {
            let (file, target) = (&krate.files[from].path, &krate.files[to].path);
            out.push(format!("{file}:{line} imports {written} ({target}, in {}: up from {})", FLOORS[b], FLOORS[a]));
        }
    }
    out
}

/// Circles of imports, at every depth of the module tree: at depth `d` a file stands for its
/// module's first `d` segments, and a module importing its own ancestor or descendant is no
/// circle (that is the module's inside).
fn cycles(krate: &Crate) -> Vec<(BTreeSet<String>, String)> {
    let edges = krate.edges();
    let max_depth = krate.files.iter().map(|f| f.module.len()).max().unwrap_or(0);
    let mut found = BTreeSet::new();
    for depth in 1..=max_depth {
        let unit = |i: usize| krate.files[i].module.iter().take(depth).cloned().collect::<Vec<_>>();
        let mut graph: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
        for &(from, to, _, _) in &edges {
            let (a, b) = (unit(from), unit(to));
            if a.starts_with(&b) || b.starts_with(&a) {
                continue;
            }
            graph.entry(a).or_default().insert(b.clone());
            graph.entry(b).or_default();
        }
        for scc in strongly_connected(&graph).into_iter().filter(|c| c.len() > 1) {
            let names: Vec<String> = scc.iter().map(|m| m.join("::")).collect();
            let witnesses: Vec<String> = edges
                .iter()
                .filter(|&&(f, t, _, _)| {
                    let (a, b) = (unit(f), unit(t));
                    scc.contains(&a) && scc.contains(&b) && a != b && !a.starts_with(&b) && !b.starts_with(&a)
                })
                .map(|(f, t, line, w)| format!("{}:{line} → {} ({w})", krate.files[*f].path, krate.files[*t].path))
                .collect();
            let shown = witnesses.iter().take(8).cloned().collect::<Vec<_>>().join("; ");
            let more = witnesses.len().saturating_sub(8);
            let witnesses = if more > 0 { format!("{shown}; and {more} more") } else { shown };
            found.insert((names.iter().cloned().collect(), format!("{{{}}}: {witnesses}", names.join(", "))));
        }
    }
    found.into_iter().collect()
}

/// Tarjan's strongly connected components.
fn strongly_connected(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct State<'g> {
        graph: &'g BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'g ModPath, usize>,
        low: BTreeMap<&'g ModPath, usize>,
        stack: Vec<&'g ModPath>,
        on_stack: BTreeSet<&'g ModPath>,
        out: Vec<Vec<ModPath>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g ModPath) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in &graph[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let mut s =
        State { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on_stack: BTreeSet::new(), out: Vec::new() };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn read_src() -> Crate {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).expect("under src/").to_string_lossy().replace('\\', "/");
                sources.push((rel, std::fs::read_to_string(&path).expect("a source file is UTF-8")));
            }
        }
    }
    sources.sort();
    Crate::new(sources)
}

#[test]
fn no_import_goes_up_a_floor() {
    let krate = read_src();
    assert!(krate.files.len() > 50, "src/ was read ({} files)", krate.files.len());
    let up = upward_imports(&krate);
    assert!(up.is_empty(), "imports that go up a floor (entry > cases > adapters > core):\n{}", up.join("\n"));
}

#[test]
fn every_shell_file_is_on_a_floor() {
    let krate = read_src();
    let off: Vec<&str> = krate.files.iter().filter(|f| f.module.len() > 1 && floor(&f.module).is_none()).map(|f| f.path.as_str()).collect();
    assert!(off.is_empty(), "shell files outside entry/, cases/, adapters/: {off:?}");
}

/// Circles known and being removed elsewhere; each must still be there (the test fails
/// once one is gone, so that it is struck from this list), and no other may appear.
/// None now: `api` ↔ `hooks` went when the delivery body moved to `api/hooks.rs`.
const KNOWN_CYCLES: &[&[&str]] = &[];

#[test]
fn no_import_cycles() {
    let krate = read_src();
    let found = cycles(&krate);
    let known: Vec<BTreeSet<String>> = KNOWN_CYCLES.iter().map(|c| c.iter().map(|m| m.to_string()).collect()).collect();
    let new: Vec<&str> = found.iter().filter(|(members, _)| !known.contains(members)).map(|(_, text)| text.as_str()).collect();
    assert!(new.is_empty(), "import cycles:\n{}", new.join("\n"));
    for k in &known {
        assert!(found.iter().any(|(members, _)| members == k), "the circle {k:?} is gone: strike it from KNOWN_CYCLES");
    }
}

/// The reader sees what the shell really imports (a check that reads nothing passes).
#[test]
fn the_shell_is_read() {
    let krate = read_src();
    let edges = krate.edges();
    let named = |from: &str, to: &str| edges.iter().any(|&(f, t, _, _)| krate.files[f].path == from && krate.files[t].path == to);
    assert!(named("shell/entry/fanout.rs", "shell/cases/start.rs"));
    assert!(named("shell/adapters/github.rs", "shell/adapters/github_transport.rs"));
    assert!(named("shell/adapters/credentials/tokens.rs", "shell/adapters/github_transport.rs"));
    assert!(named("shell/adapters/d1/syncs.rs", "shell/adapters/d1/mod.rs"));
    // `crate::shell::adapters::iso` is re-exported from `clock.rs`.
    assert!(named("shell/adapters/credentials/tokens.rs", "shell/adapters/clock.rs"));
}

// ---------------------------------------------------------------------------------------
// The reader and the checks on small crates, table-driven.

fn krate(files: &[(&str, &str)]) -> Crate {
    Crate::new(files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect())
}

/// A `use` tree and its leaves: (path, bound name).
type UseCase<'a> = (&'a str, &'a [(&'a str, Option<&'a str>)]);

#[test]
fn use_trees() {
    let cases: &[UseCase] = &[
        ("crate::a::B", &[("crate::a::B", Some("B"))]),
        ("crate::x::{a, b}", &[("crate::x::a", Some("a")), ("crate::x::b", Some("b"))]),
        ("super::{d1::{self, Db as D}, *}", &[("super::d1", Some("d1")), ("super::d1::Db", Some("D")), ("super", None)]),
        ("self::m::{\n    n::{o,\n p},\n q,\n}", &[("self::m::n::o", Some("o")), ("self::m::n::p", Some("p")), ("self::m::q", Some("q"))]),
        ("{crate::a, std::b}", &[("crate::a", Some("a")), ("std::b", Some("b"))]),
        ("::std::rc::Rc", &[("std::rc::Rc", Some("Rc"))]),
    ];
    for (tree, want) in cases {
        let got: Vec<(String, Option<String>)> = use_leaves(tree).into_iter().map(|l| (l.path.join("::"), l.name)).collect();
        let want: Vec<(String, Option<String>)> = want.iter().map(|(p, n)| (p.to_string(), n.map(str::to_string))).collect();
        assert_eq!(got, want, "{tree}");
    }
}

#[test]
fn comments_and_literals_are_not_code() {
    let cases = [
        ("// use crate::shell::x;\nfn a() {}", false),
        ("/* crate::shell::x /* nested */ crate::shell::y */", false),
        ("let s = \"crate::shell::x\";", false),
        ("let s = r#\"crate::shell::\"x\"#;", false),
        ("let c = '\"'; let p = crate::shell::x();", true),
        ("fn f<'a>(x: &'a str) { crate::shell::x() }", true),
    ];
    for (text, seen) in cases {
        let k = krate(&[("lib.rs", text), ("shell/x.rs", "pub fn x() {}\npub fn y() {}")]);
        assert_eq!(!k.edges().is_empty(), seen, "{text}");
    }
}

/// Files of a small crate, how many imports go up a floor, whether there is a circle.
type CrateCase<'a> = (&'a [(&'a str, &'a str)], usize, bool);

#[test]
fn findings_on_small_crates() {
    let cases: &[CrateCase] = &[
        // Down only: entry → cases → adapters → core.
        (
            &[
                ("shell/entry/e.rs", "use crate::shell::cases::c::run;"),
                ("shell/cases/c.rs", "use crate::shell::adapters::a::A;\npub fn run() {}"),
                ("shell/adapters/a.rs", "use crate::core::T;\npub struct A;"),
                ("core.rs", "pub struct T;"),
            ],
            0,
            false,
        ),
        // An adapter calling a use case, a use case an entry point (a multi-line use).
        (
            &[
                ("shell/cases/c.rs", "use crate::shell::{\n    entry::e::{self},\n};"),
                ("shell/adapters/a.rs", "fn f() { crate::shell::cases::c::g() }"),
                ("shell/entry/e.rs", ""),
            ],
            2,
            false,
        ),
        // The core importing the shell, through `super`.
        (&[("x.rs", "use super::shell::adapters::a::A;"), ("shell/adapters/a.rs", "pub struct A;")], 1, false),
        // A circle between siblings, and one through a re-export.
        (&[("a.rs", "use crate::b::B; pub struct A;"), ("b.rs", "use crate::a::A; pub struct B;")], 0, true),
        (
            &[
                ("p/mod.rs", "mod t; mod c; pub use t::T;"),
                ("p/t.rs", "pub struct T;"),
                ("p/c.rs", "use crate::p::T; pub struct C;"),
                ("q.rs", "use crate::p::T; pub struct Q;"),
            ],
            0,
            false,
        ),
        (
            &[
                ("p/mod.rs", "mod t; pub use t::*;"),
                ("p/t.rs", "use crate::q::Q; pub struct T;"),
                ("q.rs", "use crate::p::T; pub struct Q;"),
            ],
            0,
            true,
        ),
        // A module's parts and its parent are its inside; two of its parts in a circle are not.
        (
            &[
                ("m/mod.rs", "mod x; mod y; pub struct Job; fn f() { x::go() }"),
                ("m/x.rs", "use super::Job; pub fn go() {}"),
                ("m/y.rs", "use super::x::go; mod tests { use super::*; }"),
            ],
            0,
            false,
        ),
        (
            &[("m/mod.rs", "mod x; mod y;"), ("m/x.rs", "use super::y::Y; pub struct X;"), ("m/y.rs", "use super::x::X; pub struct Y;")],
            0,
            true,
        ),
        // api/x.rs → hooks.rs → api/y.rs: `api` and `hooks` in a circle.
        (
            &[
                ("api/mod.rs", "mod x; mod y;"),
                ("api/x.rs", "use crate::hooks::H;"),
                ("api/y.rs", "pub struct V;"),
                ("hooks.rs", "use crate::api::y::V; pub struct H;"),
            ],
            0,
            true,
        ),
    ];
    for (i, (files, up, circles)) in cases.iter().enumerate() {
        let k = krate(files);
        assert_eq!(upward_imports(&k).len(), *up, "case {i}: {:?}", upward_imports(&k));
        assert_eq!(!cycles(&k).is_empty(), *circles, "case {i}: {:?}", cycles(&k));
    }
}
