use super::*;

/// (pattern, path, matches). Name cases are git's own (t/t3070-wildmatch.sh); path cases
/// follow gitignore: a pattern that matches a directory matches everything in it.
const CASES: &[(&str, &str, bool)] = &[
    // Literal names and `?` / `*` (t3070).
    ("foo", "foo", true),
    ("bar", "foo", false),
    ("???", "foo", true),
    ("??", "foo", false),
    ("*", "foo", true),
    ("f*", "foo", true),
    ("*f", "foo", false),
    ("*foo*", "foo", true),
    ("*ob*a*r*", "foobar", true),
    ("*ab", "aaaaaaabababab", true),
    ("a*b*c", "aXbXc", true),
    ("a*b*c", "abcd", false),
    // Escapes.
    ("foo\\*", "foo*", true),
    ("foo\\*bar", "foobar", false),
    ("f\\\\oo", "f\\oo", true),
    ("a\\?", "a?", true),
    ("a\\?", "ab", false),
    ("\\[x]", "[x]", true),
    ("\\!important", "!important", true),
    // Classes (t3070).
    ("*[al]?", "ball", true),
    ("[ten]", "ten", false),
    ("**[!te]", "ten", true),
    ("**[!ten]", "ten", false),
    ("t[a-g]n", "ten", true),
    ("t[!a-g]n", "ten", false),
    ("t[!a-g]n", "ton", true),
    ("t[^a-g]n", "ton", true),
    ("a[]]b", "a]b", true),
    ("a[]-]b", "a-b", true),
    ("a[]-]b", "a]b", true),
    ("a[]-]b", "aab", false),
    ("a[]a-]b", "aab", true),
    ("]", "]", true),
    ("[\\]]", "]", true),
    ("[a-]", "-", true),
    // `*` and `?` never cross `/` (t3070: "foo*bar" vs "foo/baz/bar").
    ("foo*bar", "foo/baz/bar", false),
    ("foo**bar", "foo/baz/bar", false),
    ("foo?bar", "foo/bar", false),
    ("/foo*", "foo/bar", true),
    ("/f*r", "foo/bar", false),
    // `**` as whole segments (t3070).
    ("foo/**/bar", "foo/baz/bar", true),
    ("foo/**/bar", "foo/b/a/z/bar", true),
    ("foo/**/bar", "foo/bar", true),
    ("foo/**/**/bar", "foo/bar", true),
    ("foo/**/bar", "foo/barx", false),
    ("**/foo", "XXX/foo", true),
    ("**/foo", "foo", true),
    ("**/foo", "XXX/foox", false),
    ("*/foo", "bar/foo", true),
    ("*/foo", "a/bar/foo", false),
    ("**", "a/b/c", true),
    ("foo/**", "foo/x", true),
    ("foo/**", "foo/x/y", true),
    ("foo/**", "foo", false),
    ("foo/**", "foox/y", false),
    ("**/*.md", "README.md", true),
    ("**/*.md", "docs/a/b.md", true),
    ("src/**/*.rs", "src/lib.rs", true),
    ("src/**/*.rs", "src/a/b/c.rs", true),
    ("src/**/*.rs", "tests/a.rs", false),
    // No `/`: a name at any depth, itself or a directory on the way.
    ("*.rs", "src/lib.rs", true),
    ("*.rs", "lib.rs", true),
    ("*.rs", "lib.rsx", false),
    ("docs", "docs/guide/intro.md", true),
    ("guide", "docs/guide/intro.md", true),
    ("intro", "docs/guide/intro.md", false),
    ("[!a]*", "b/c", true),
    // A leading or inner `/` anchors at the root.
    ("/foo", "foo", true),
    ("/foo", "foo/x", true),
    ("/foo", "a/foo", false),
    ("foo/bar", "foo/bar", true),
    ("foo/bar", "a/foo/bar", false),
    ("foo/bar", "foo/bar/baz.txt", true),
    // A trailing `/`: directories only, and everything in them.
    ("foo/", "a/foo/x", true),
    ("foo/", "foo/x", true),
    ("foo/", "a/foo", false),
    ("/build/", "build/out.o", true),
    ("/build/", "src/build/out.o", false),
    ("docs/*/", "docs/api/x.md", true),
    ("docs/*/", "docs/x.md", false),
    // Characters, not bytes.
    ("ü*", "über.txt", true),
    ("?", "ü", true),
    ("*.TXT", "a.txt", false),
];

#[test]
fn the_matcher_against_gits_cases() {
    assert!(CASES.len() >= 60, "{} cases", CASES.len());
    for &(pattern, path, want) in CASES {
        let parsed = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
        assert_eq!(parsed.matches(path), want, "{pattern:?} against {path:?}");
    }
}

#[test]
fn bad_patterns_are_refused_naming_them() {
    let long = "a".repeat(MAX_PATTERN_CHARS + 1);
    let cases: &[(&str, &str)] = &[
        ("", "1 to 200 characters"),
        (&long, "1 to 200 characters"),
        ("[abc", "never closed"),
        ("foo\\", "lone `\\`"),
        ("a//b", "empty path segment"),
        ("../x", "`..` segment"),
        ("a/./b", "`.`"),
        ("!keep.md", "negation"),
        ("/", "matches nothing"),
        ("a\tb", "control characters"),
        ("[z-a]", "reversed range"),
    ];
    for &(pattern, why) in cases {
        let err = Pattern::parse(pattern).expect_err(pattern);
        assert!(err.reason.contains(why), "{pattern:?}: {err}");
        assert!(err.to_string().contains(&format!("{pattern:?}")), "the message names the pattern: {err}");
    }
    assert_eq!(Pattern::parse(&"a".repeat(MAX_PATTERN_CHARS)).map(|_| ()), Ok(()));
    let too_many: Vec<String> = (0..=MAX_PATTERNS).map(|i| format!("p{i}")).collect();
    let err = PathFilter::parse(&too_many, &[]).unwrap_err();
    assert_eq!(err.field, "include");
    let err = PathFilter::parse(&["ok"], &["ok", "[bad"]).unwrap_err();
    assert_eq!(err.field, "exclude");
    assert!(err.reason.contains("\"[bad\""), "{}", err.reason);
}

#[test]
fn include_and_exclude_together() {
    let none: [&str; 0] = [];
    let everything = PathFilter::parse(&none, &none).unwrap();
    assert!(everything.is_everything() && everything.admits("any/path"));
    let f = PathFilter::parse(&["/src/", "*.md"], &["*.test.md", "src/generated/"]).unwrap();
    for (path, want) in [
        ("src/lib.rs", true),
        ("README.md", true),
        ("docs/guide.md", true),
        ("docs/guide.test.md", false),
        ("src/generated/api.rs", false),
        ("tests/a.rs", false),
        ("src/README.md", true),
    ] {
        assert_eq!(f.admits(path), want, "{path}");
    }
    assert_eq!(f.include().collect::<Vec<_>>(), ["/src/", "*.md"]);
    assert_eq!(f.exclude().collect::<Vec<_>>(), ["*.test.md", "src/generated/"]);
}

#[test]
fn directories_that_can_hold_nothing_are_known_before_listing() {
    let none: [&str; 0] = [];
    let cases: &[(&[&str], &[&str], &str, bool)] = &[
        (&["/src/**"], &[], "", true),
        (&["/src/**"], &[], "src", true),
        (&["/src/**"], &[], "src/a/b", true),
        (&["/src/**"], &[], "docs", false),
        (&["src/**/*.rs"], &[], "src/deep/er", true),
        (&["src/**/*.rs"], &[], "vendor", false),
        (&["docs/*.md"], &[], "docs", true),
        (&["docs/*.md"], &[], "docs/x", false),
        (&["docs/*.md"], &[], "docs/x.md", true),
        (&["*.md"], &[], "any/where", true),
        (&["build/"], &[], "a/b", true),
        (&[], &["node_modules/"], "node_modules", false),
        (&[], &["node_modules/"], "a/node_modules", false),
        (&[], &["node_modules/"], "a/node_modules/b", false),
        (&[], &["node_modules/"], "src", true),
        (&[], &["/vendor"], "vendor", false),
        (&[], &["/vendor"], "a/vendor", true),
        (&[], &["*.md"], "docs", true),
        (&[], &["*.md"], "notes.md", false),
        (&["/src/"], &["/src/"], "src", false),
    ];
    for &(include, exclude, dir, want) in cases {
        let f = PathFilter::parse(include, if exclude.is_empty() { &none } else { exclude }).unwrap();
        assert_eq!(f.may_hold_under(dir), want, "include {include:?} exclude {exclude:?} under {dir:?}");
    }
}

/// A spread of paths the property tests walk.
const TREE: [&str; 11] = [
    "README.md",
    "src/lib.rs",
    "src/a/b.rs",
    "src/generated/x.rs",
    "docs/guide.md",
    "docs/api/v1.md",
    "vendor/lib/x.js",
    "a/vendor/y.js",
    "node_modules/p/index.js",
    "notes.md/inner.txt",
    "build/out.o",
];

/// Every filter of at most one include and one exclude pattern out of `patterns`.
fn every_filter(patterns: &[&'static str]) -> Vec<(Vec<&'static str>, Vec<&'static str>, PathFilter)> {
    let lists = || patterns.iter().map(|p| vec![*p]).chain([vec![]]);
    lists()
        .flat_map(|include| lists().map(move |exclude| (include.clone(), exclude)))
        .map(|(i, e)| {
            let f = PathFilter::parse(&i, &e).unwrap();
            (i, e, f)
        })
        .collect()
}

/// Whatever the patterns, a directory said to hold nothing holds no admitted path.
#[test]
fn pruning_never_drops_an_admitted_path() {
    let patterns = ["/src/", "*.md", "src/**/*.rs", "docs/*.md", "vendor/", "/vendor", "**/x.*", "build/**", "*/api/", "[!s]*"];
    for (include, exclude, f) in every_filter(&patterns) {
        for path in TREE.iter().filter(|p| f.admits(p)) {
            let names: Vec<&str> = path.split('/').collect();
            for depth in 0..names.len() {
                let dir = names[..depth].join("/");
                assert!(f.may_hold_under(&dir), "{include:?}/{exclude:?}: {path} admitted, yet {dir:?} pruned");
            }
        }
    }
}

/// The directories a walk lists: `(dir, recursively)`, pruning as a sync does.
fn walk(f: &PathFilter, paths: &[&str]) -> Vec<(String, bool)> {
    fn children(paths: &[&str], dir: &str) -> Vec<String> {
        let base = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let mut out: Vec<String> = paths
            .iter()
            .filter_map(|p| p.strip_prefix(base.as_str()))
            .filter_map(|rest| rest.split_once('/').map(|(name, _)| format!("{base}{name}")))
            .collect();
        out.dedup();
        out
    }
    let mut listed = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(dir) = pending.pop() {
        let whole = f.lists_whole(&dir);
        listed.push((dir.clone(), whole));
        if !whole {
            pending.extend(children(paths, &dir).into_iter().filter(|c| f.may_hold_under(c)));
        }
    }
    listed
}

#[test]
fn a_walk_lists_whole_where_nothing_below_can_be_pruned() {
    let none: [&str; 0] = [];
    type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [(&'a str, bool)]);
    let cases: &[Case] = &[
        (&[], &[], &[("", true)]),
        (&["*.md"], &[], &[("", true)]),
        (&["**/*.rs"], &[], &[("", true)]),
        // An excluded top-level directory is never listed, even inside another listing.
        (
            &[],
            &["/vendor"],
            &[("", false), ("a", true), ("build", true), ("docs", true), ("node_modules", true), ("notes.md", true), ("src", true)],
        ),
        // Unanchored: found at the top level; deeper ones drop out of the listing they come in.
        (
            &[],
            &["vendor/"],
            &[("", false), ("a", true), ("build", true), ("docs", true), ("node_modules", true), ("notes.md", true), ("src", true)],
        ),
        (
            &[],
            &["src/generated/"],
            &[
                ("", false),
                ("a", true),
                ("build", true),
                ("docs", true),
                ("node_modules", true),
                ("notes.md", true),
                ("src", false),
                ("src/a", true),
                ("vendor", true),
            ],
        ),
        (&["/src/"], &[], &[("", false), ("src", true)]),
        (&["docs/*.md"], &[], &[("", false), ("docs", false)]),
        (&["src/**/*.rs"], &["/src/generated/"], &[("", false), ("src", false), ("src/a", true)]),
    ];
    for &(include, exclude, want) in cases {
        let f =
            PathFilter::parse(if include.is_empty() { &none } else { include }, if exclude.is_empty() { &none } else { exclude }).unwrap();
        let mut got = walk(&f, &TREE);
        got.sort();
        let want: Vec<(String, bool)> = want.iter().map(|(d, w)| (d.to_string(), *w)).collect();
        assert_eq!(got, want, "include {include:?} exclude {exclude:?}");
    }
}

/// Whatever the patterns, the walk reaches every admitted path, and a directory that a
/// pattern locates (anchored, or at the top level) is never inside anything listed.
#[test]
fn the_walk_reaches_every_admitted_path_and_no_located_pruned_directory() {
    let patterns =
        ["/src/", "*.md", "src/**/*.rs", "docs/*.md", "vendor/", "/vendor", "**/x.*", "build/**", "*/api/", "[!s]*", "/a/vendor/"];
    for (include, exclude, f) in every_filter(&patterns) {
        let listed = walk(&f, &TREE);
        let covers = |path: &str| {
            listed.iter().any(|(dir, whole)| {
                let inside = dir.is_empty() || path.starts_with(&format!("{dir}/"));
                let direct = path.rsplit_once('/').map_or("", |(d, _)| d) == dir;
                inside && (*whole || direct)
            })
        };
        for path in TREE.iter().filter(|p| f.admits(p)) {
            assert!(covers(path), "{include:?}/{exclude:?}: {path} admitted but never listed: {listed:?}");
        }
        for (dir, _) in &listed {
            assert!(f.may_hold_under(dir), "{include:?}/{exclude:?}: {dir:?} listed though it holds nothing");
        }
    }
}

#[test]
fn filters_travel_as_their_two_lists() {
    let f = PathFilter::parse(&["/src/"], &["*.lock"]).unwrap();
    let json = serde_json::to_string(&f).unwrap();
    assert_eq!(json, r#"{"include":["/src/"],"exclude":["*.lock"]}"#);
    assert_eq!(serde_json::from_str::<PathFilter>(&json).unwrap(), f);
    assert_eq!(serde_json::from_str::<PathFilter>("{}").unwrap(), PathFilter::default());
    assert!(serde_json::from_str::<PathFilter>(r#"{"include":["[bad"]}"#).is_err());
}

#[test]
fn a_change_is_filtered_when_the_filter_made_it() {
    let none: [&str; 0] = [];
    let old = PathFilter::parse(&none, &["/docs/"]).unwrap();
    let new = PathFilter::parse(&none, &["/vendor/"]).unwrap();
    assert_eq!(change_reason("added", "docs/a.md", Some(&old), &new), Some("filtered"), "newly admitted");
    assert_eq!(change_reason("removed", "vendor/x.js", Some(&old), &new), Some("filtered"), "no longer admitted");
    assert_eq!(change_reason("added", "src/new.rs", Some(&old), &new), None, "added in git");
    assert_eq!(change_reason("removed", "src/old.rs", Some(&old), &new), None, "removed in git");
    assert_eq!(change_reason("modified", "docs/a.md", Some(&old), &new), None);
    assert_eq!(change_reason("added", "docs/a.md", Some(&new), &new), None, "the same filter filters nothing");
    assert_eq!(change_reason("added", "docs/a.md", None, &new), None, "a first sync");
}

/// The worst patterns the limits allow, against the longest names git allows (255 bytes)
/// in deep paths: each must be parsed and matched in a bounded time, where a backtracking
/// matcher takes for ever (`*?` pairs, runs of `**`, classes between stars). The bound is
/// generous (3 s for the whole table in a debug build, where it takes under one; 0.2 s in
/// a release build); a backtracking matcher never finishes. It runs on a thread of its own, so a matcher that never ends fails the test
/// instead of hanging it.
#[test]
fn adversarial_patterns_match_in_bounded_time() {
    let (done, took) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(match_adversarial_patterns()));
    match took.recv_timeout(std::time::Duration::from_secs(10)) {
        Ok(took) => assert!(took < std::time::Duration::from_secs(3), "took {took:?}"),
        Err(_) => panic!("still matching after 10 s"),
    }
}

fn match_adversarial_patterns() -> std::time::Duration {
    let star_q = "*?".repeat(MAX_PATTERN_CHARS / 2);
    let star_q_x = format!("{}x", "*?".repeat(20));
    let stars = "**/".repeat(MAX_PATTERN_CHARS / 3 - 1) + "x";
    let classes = "*[a-z]".repeat(MAX_PATTERN_CHARS / 6);
    let negated = "*[!b]".repeat(MAX_PATTERN_CHARS / 5);
    let mixed = "a*/".repeat(MAX_PATTERN_CHARS / 3);
    let patterns = [star_q, star_q_x, stars, classes, negated, mixed];
    let name = "a".repeat(255);
    let paths = [name.clone(), format!("{name}/{name}/{name}"), vec![name.as_str(); 16].join("/"), "a/".repeat(100) + "b"];
    let started = std::time::Instant::now();
    let mut filters = Vec::new();
    for pattern in &patterns {
        let parsed = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
        for path in &paths {
            assert!(!parsed.matches(path) || !pattern.ends_with('x'), "{pattern} cannot match a path without an x");
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            let _ = (parsed.open_below(dir), parsed.locates_below(dir));
        }
        filters.push(PathFilter::parse(&[pattern.as_str()], &[pattern.as_str()]).unwrap());
    }
    // A hundred of the worst in each list, as a project may hold them.
    let full: Vec<String> = (0..MAX_PATTERNS).map(|i| format!("{}{i}", "*?".repeat(MAX_PATTERN_CHARS / 2 - 2))).collect();
    filters.push(PathFilter::parse(&full, &full).unwrap());
    for filter in &filters {
        for path in &paths {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            let _ = (filter.admits(path), filter.may_hold_under(dir), filter.lists_whole(dir));
        }
    }
    started.elapsed()
}

/// The adversarial lists a project may hold (100 patterns of 200 characters in each list),
/// timed over many paths: `cargo test --release --lib worst_pattern_costs -- --ignored
/// --nocapture` (bench/pattern-bench.sh) prints the figures recorded in bench/RESULTS.md.
#[test]
#[ignore = "a benchmark: prints figures, asserts nothing about time"]
fn worst_pattern_costs() {
    let n = MAX_PATTERNS;
    let family = |name: &str, f: &dyn Fn(usize) -> String| (name.to_string(), (0..n).map(f).collect::<Vec<String>>());
    let families = [
        family("*? pairs", &|i| format!("{}{i:02}", "*?".repeat(99))),
        family("*a runs", &|i| format!("{}{i:02}", "*a".repeat(99))),
        family("**/ runs", &|i| format!("{}{i:02}", "**/".repeat(66))),
        family("*[!b] classes", &|i| format!("{}{i:02}", "*[!b]".repeat(39))),
        family("*[a-zé] classes", &|i| format!("{}{i:02}", "*[a-zé]".repeat(28))),
        family("a*/ segments", &|i| format!("{}{i:02}", "a*/".repeat(66))),
    ];
    let long = "a".repeat(255);
    let paths: Vec<String> = (0..2_000)
        .map(|i| match i % 4 {
            0 => format!("{long}/{long}/{i}"),
            1 => "a/".repeat(100) + &i.to_string(),
            2 => format!("src/module_{i}/file_name_{i}.rs"),
            _ => format!("{}/{}", "aé".repeat(60), long),
        })
        .collect();
    for (name, list) in &families {
        let started = std::time::Instant::now();
        let filter = PathFilter::parse(list, list).unwrap();
        let parsed = started.elapsed();
        let started = std::time::Instant::now();
        let admitted = paths.iter().filter(|p| filter.admits(p)).count();
        let matched = started.elapsed();
        let started = std::time::Instant::now();
        for p in &paths {
            let dir = p.rsplit_once('/').map_or("", |(d, _)| d);
            let _ = (filter.may_hold_under(dir), filter.lists_whole(dir));
        }
        let walked = started.elapsed();
        println!(
            "{name:>16}: parse {:>6.1} ms; admits {:>6.1} µs/path ({admitted} of {}); directory questions {:>6.1} µs/dir",
            parsed.as_secs_f64() * 1e3,
            matched.as_secs_f64() * 1e6 / paths.len() as f64,
            paths.len(),
            walked.as_secs_f64() * 1e6 / paths.len() as f64,
        );
    }
}
