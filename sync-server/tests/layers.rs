//! Layers point down: no import cycle between the server's modules (docs/ARCHITECTURE.md,
//! "Layers"). Reads `src/`, drops comments, string literals and `#[cfg(test)]` items, collects
//! every path into another module (`use crate::a`, `use crate::{a, b::c}`, inline
//! `crate::a::f()`, `super::…` that climbs to the crate root, and the root's re-exports such as
//! `crate::Store`) and fails naming each cycle with the file and line of every edge.
//!
//! Two graphs are checked: the top-level modules of `src/` (`lib.rs` is the root node: it may
//! use every module, and a module naming an item defined in `lib.rs` depends on it), and the
//! first-level modules inside `src/web/` (`web::pages`, `web::read`, …), where `web/mod.rs`
//! (the router) is the root.
//!
//! Tests are allowed to reach anywhere: a `#[cfg(test)]` module is not part of the layering.

// A test: a failed expectation is the failure to report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One source file: its module path below the crate root (`["web", "pages", "map"]`; empty for
/// `lib.rs`) and its text.
struct Source {
    file: String,
    module: Vec<String>,
    text: String,
}

/// Where an edge was seen, to print with the cycle.
#[derive(Clone, Debug)]
struct Seen {
    file: String,
    line: usize,
}

/// Edges between nodes (module paths joined by `::`; `lib` for the crate root), with the first
/// place each was seen.
type Graph = BTreeMap<String, BTreeMap<String, Seen>>;

// ---------------------------------------------------------------------------------------------
// Lexing: comments, strings and chars become spaces (newlines kept, so line numbers hold).

fn strip_comments_and_strings(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let blank =
        |out: &mut Vec<u8>, s: &[u8]| out.extend(s.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }));
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let ident_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            let end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p);
            blank(&mut out, &b[i..end]);
            i = end;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            let mut j = i;
            while j < b.len() {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &b[i..j.min(b.len())]);
            i = j;
        } else if !ident_before
            && (c == b'r' || (c == b'b' && b.get(i + 1) == Some(&b'r')))
            && raw_string_hashes(&b[i..]).is_some()
        {
            let start = if c == b'b' { i + 2 } else { i + 1 };
            let hashes = raw_string_hashes(&b[i..]).unwrap_or(0);
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = start + hashes + 1;
            let end = find(&b[body..], &close).map_or(b.len(), |p| body + p + close.len());
            blank(&mut out, &b[i..end]);
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            blank(&mut out, &b[i..end]);
            i = end;
        } else if c == b'\'' {
            // A char literal ('a', '\n', '\u{1F600}', '"') or a lifetime ('a): a literal closes
            // within a few bytes.
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..].iter().position(|&c| c == b'\'').map(|p| i + 2 + p + 1)
            } else {
                let len = std::str::from_utf8(&b[i + 1..])
                    .ok()
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 2 + len)
            };
            match end {
                Some(end) => {
                    blank(&mut out, &b[i..end]);
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// `r"`, `r#"`, `br##"` …: the number of hashes, if a raw string starts here.
fn raw_string_hashes(b: &[u8]) -> Option<usize> {
    let rest = if b.starts_with(b"br") { &b[2..] } else { &b[1..] };
    let hashes = rest.iter().take_while(|&&c| c == b'#').count();
    (rest.get(hashes) == Some(&b'"')).then_some(hashes)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Blank every item marked `#[cfg(test)]`: up to its `;` or through its matching `{ … }`,
/// whichever comes first.
fn strip_test_items(src: &str) -> String {
    let mut b = src.as_bytes().to_vec();
    let marker = b"#[cfg(test)]";
    let mut from = 0;
    while let Some(p) = find(&b[from..], marker).map(|p| from + p) {
        let mut j = p + marker.len();
        let mut depth = 0usize;
        while j < b.len() {
            match b[j] {
                b';' if depth == 0 => {
                    j += 1;
                    break;
                }
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        for c in &mut b[p..j.min(src.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = j.min(src.len());
    }
    String::from_utf8(b).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Paths into other modules.

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Reads `a::b::{c, d::e}` from `i`: every full path it names (`a::b::c`, `a::b::d::e`), each
/// as its segments. Nested groups are followed.
fn read_paths(b: &[u8], i: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut i = skip_ws(b, i);
    let mut path = prefix;
    loop {
        if b.get(i) == Some(&b'{') {
            i += 1;
            loop {
                i = skip_ws(b, i);
                match b.get(i) {
                    None => return i,
                    Some(b'}') => return i + 1,
                    Some(b',') => i += 1,
                    Some(_) => {
                        let before = i;
                        i = read_paths(b, i, path.clone(), out);
                        if i == before {
                            i += 1;
                        }
                    }
                }
            }
        }
        let start = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        if i == start {
            out.push(path);
            return i;
        }
        let seg = String::from_utf8_lossy(&b[start..i]).into_owned();
        if seg != "self" {
            path.push(seg);
        }
        let j = skip_ws(b, i);
        if b[j..].starts_with(b"::") {
            i = skip_ws(b, j + 2);
        } else {
            out.push(path);
            // `a::b as c`: the new name is not a path.
            if b[j..].starts_with(b"as") && b.get(j + 2).is_some_and(|c| c.is_ascii_whitespace()) {
                let mut k = skip_ws(b, j + 2);
                while k < b.len() && is_ident(b[k]) {
                    k += 1;
                }
                return k;
            }
            return i;
        }
    }
}

/// Every absolute path (below the crate root) that `text`, the source of `module`, names, with
/// its line: `crate::…`, and `super::…` resolved against `module`'s place. `children` are the
/// modules `module` declares (`mod pages;`), reached by a bare `pages::…` path.
fn paths(module: &[String], text: &str, children: &[String]) -> Vec<(Vec<String>, usize)> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let line_at = |i: usize| b[..i].iter().filter(|&&c| c == b'\n').count() + 1;
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b':');
        if !boundary || !is_ident(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        let word = &text[start..i];
        let after = skip_ws(b, i);
        if !b[after..].starts_with(b"::") {
            continue;
        }
        let mut base: Vec<String> = match word {
            "crate" => Vec::new(),
            "super" => {
                // `super::super::x` climbs once per `super`.
                let mut up = 1;
                let mut k = skip_ws(b, after + 2);
                while b[k..].starts_with(b"super") {
                    let m = skip_ws(b, k + 5);
                    if !b[m..].starts_with(b"::") {
                        break;
                    }
                    up += 1;
                    k = skip_ws(b, m + 2);
                }
                i = k;
                let keep = module.len().saturating_sub(up);
                let mut out: Vec<Vec<String>> = Vec::new();
                i = read_paths(b, i, module[..keep].to_vec(), &mut out);
                for p in out {
                    found.push((p, line_at(start)));
                }
                continue;
            }
            w if children.iter().any(|c| c == w) => {
                let mut p = module.to_vec();
                p.push(w.to_string());
                p
            }
            _ => continue,
        };
        let mut out = Vec::new();
        i = read_paths(b, skip_ws(b, after + 2), std::mem::take(&mut base), &mut out);
        for p in out {
            found.push((p, line_at(start)));
        }
    }
    found
}

/// The modules a source declares (`mod x;`, `pub mod x;`, `pub(crate) mod x;`).
fn declared_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        let l = l
            .strip_prefix("pub(crate) ")
            .or_else(|| l.strip_prefix("pub "))
            .unwrap_or(l);
        if let Some(rest) = l.strip_prefix("mod ") {
            let name: String = rest
                .chars()
                .take_while(|&c| c.is_alphanumeric() || c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// A module's re-exports (`pub use store::{Store, Stats};` in lib.rs, `pub use
/// read::alerts::digest_sources;` in web/mod.rs): each name → the absolute path it stands for.
fn reexports(module: &[String], text: &str) -> BTreeMap<String, Vec<String>> {
    let b = text.as_bytes();
    let mut map = BTreeMap::new();
    for marker in [&b"pub use "[..], b"pub(crate) use "] {
        let mut from = 0;
        while let Some(p) = find(&b[from..], marker).map(|p| from + p) {
            let mut out = Vec::new();
            let mut start = p + marker.len();
            let base = if b[start..].starts_with(b"crate::") {
                start += 7;
                Vec::new()
            } else if b[start..].starts_with(b"super::") {
                start += 7;
                module[..module.len().saturating_sub(1)].to_vec()
            } else {
                module.to_vec()
            };
            from = read_paths(b, start, base, &mut out).max(p + marker.len());
            for path in out {
                if let Some(last) = path.last() {
                    map.insert(last.clone(), path);
                }
            }
        }
    }
    map
}

/// The node of a module path: its first segment, or its first two inside a folder listed in
/// `split` (`web::pages`); the crate root (`lib`) when it names an item of lib.rs.
fn node(path: &[String], split: &[&str], modules: &BTreeSet<Vec<String>>) -> String {
    let depth = match path.first() {
        Some(first) if split.contains(&first.as_str()) => 2,
        _ => 1,
    };
    let mut n = path.len().min(depth);
    while n > 0 && !modules.contains(&path[..n].to_vec()) {
        n -= 1;
    }
    if n == 0 {
        "lib".to_string()
    } else {
        path[..n].join("::")
    }
}

/// `path` with every re-exported name replaced by what it stands for (`crate::Store` →
/// `crate::store::Store`, `crate::web::url_enc` → `crate::web::request::url_enc`).
fn resolve(
    mut path: Vec<String>,
    modules: &BTreeSet<Vec<String>>,
    reexported: &BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
) -> Vec<String> {
    // Bounded: a re-export of a re-export resolves in a few steps; a loop cannot hang the test.
    for _ in 0..8 {
        let hit = (0..path.len()).find_map(|i| {
            let (module, name) = (&path[..i], &path[i]);
            if modules.contains(&path[..=i].to_vec()) {
                return None;
            }
            let target = reexported.get(module)?.get(name)?;
            Some((i, target.clone()))
        });
        match hit {
            Some((i, mut target)) if target != path[..=i] => {
                target.extend_from_slice(&path[i + 1..]);
                path = target;
            }
            _ => break,
        }
    }
    path
}

/// The `#[macro_export]` macros a source defines (`macro_rules! params`).
fn exported_macros(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(p) = rest.find("#[macro_export]") {
        rest = &rest[p + "#[macro_export]".len()..];
        let after = rest.trim_start();
        if let Some(def) = after.strip_prefix("macro_rules!") {
            let name: String = def
                .trim_start()
                .chars()
                .take_while(|&c| c.is_alphanumeric() || c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// The types a source defines (`struct X`, `enum X`, `type X`, `trait X`).
fn defined_types(text: &str) -> BTreeSet<String> {
    let b = text.as_bytes();
    let mut out = BTreeSet::new();
    for kw in ["struct", "enum", "type", "trait", "union"] {
        let mut from = 0;
        while let Some(p) = find(&b[from..], kw.as_bytes()).map(|p| from + p) {
            from = p + kw.len();
            let boundary = p == 0 || !is_ident(b[p - 1]);
            if !boundary || !b.get(from).is_some_and(|c| c.is_ascii_whitespace()) {
                continue;
            }
            let start = skip_ws(b, from);
            let mut end = start;
            while end < b.len() && is_ident(b[end]) {
                end += 1;
            }
            if end > start {
                out.insert(text[start..end].to_string());
            }
        }
    }
    out
}

/// Skips a balanced `<…>` at `i`, if there is one.
fn skip_generics(b: &[u8], i: usize) -> usize {
    let i = skip_ws(b, i);
    if b.get(i) != Some(&b'<') {
        return i;
    }
    let mut depth = 0;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'<' => depth += 1,
            b'>' if j > 0 && b[j - 1] != b'-' => {
                depth -= 1;
                if depth == 0 {
                    return skip_ws(b, j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    j
}

/// Inherent `impl Type { … }` blocks of a source (not `impl Trait for Type`): each type's last
/// path segment, with its line.
fn inherent_impls(text: &str) -> Vec<(String, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = find(&b[from..], b"impl").map(|p| from + p) {
        from = p + 4;
        let boundary = (p == 0 || !is_ident(b[p - 1]))
            && b.get(p + 4)
                .is_some_and(|&c| c.is_ascii_whitespace() || c == b'<');
        if !boundary {
            continue;
        }
        let mut i = skip_generics(b, p + 4);
        let mut name = String::new();
        loop {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            if i == start {
                break;
            }
            name = text[start..i].to_string();
            i = skip_generics(b, i);
            if b[i..].starts_with(b"::") {
                i = skip_ws(b, i + 2);
            } else {
                break;
            }
        }
        let next = skip_ws(b, i);
        let is_trait_impl = b[next..].starts_with(b"for") && !b.get(next + 3).is_some_and(|&c| is_ident(c));
        if !name.is_empty() && !is_trait_impl && name != "dyn" {
            let line = b[..p].iter().filter(|&&c| c == b'\n').count() + 1;
            out.push((name, line));
        }
    }
    out
}

/// The dependency graph of `sources`. Nodes are top-level modules, and first-level modules of
/// the folders in `split`; a folder's own `mod.rs` is its node (`web`), above its children.
fn graph(sources: &[Source], split: &[&str]) -> Graph {
    // Every module path and its parents (`web/pages/map.rs` makes `web::pages` a module).
    let modules: BTreeSet<Vec<String>> = sources
        .iter()
        .flat_map(|s| (1..=s.module.len()).map(|n| s.module[..n].to_vec()))
        .collect();
    let mut reexported: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>> = sources
        .iter()
        .map(|s| (s.module.clone(), reexports(&s.module, &s.text)))
        .collect();
    // A `#[macro_export]` macro lives at the crate root by name (`crate::params`), but belongs
    // to the module that defines it (`db`'s `params!`).
    for s in sources {
        for name in exported_macros(&s.text) {
            let mut home = s.module.clone();
            home.push(name.clone());
            reexported.entry(Vec::new()).or_default().insert(name, home);
        }
    }
    let mut g = Graph::new();
    for s in sources {
        let from = node(&s.module, split, &modules);
        g.entry(from.clone()).or_default();
        let children = declared_modules(&s.text);
        for (path, line) in paths(&s.module, &s.text, &children) {
            let path = resolve(path, &modules, &reexported);
            let to = node(&path, split, &modules);
            if to != from {
                g.entry(from.clone()).or_default().entry(to).or_insert(Seen {
                    file: s.file.clone(),
                    line,
                });
            }
        }
    }
    // Methods written outside their type's module are a dependency no `use` line shows: whoever
    // holds a `Store` would call methods another module added to it. So a type's home depends on every module
    // that adds inherent methods to it.
    let defined: Vec<(String, BTreeSet<String>)> = sources
        .iter()
        .map(|s| (node(&s.module, split, &modules), defined_types(&s.text)))
        .collect();
    for s in sources {
        let from = node(&s.module, split, &modules);
        for (ty, line) in inherent_impls(&s.text) {
            let homes: BTreeSet<&String> = defined
                .iter()
                .filter(|(_, types)| types.contains(&ty))
                .map(|(n, _)| n)
                .collect();
            if homes.contains(&from) || homes.len() != 1 {
                continue;
            }
            for home in homes {
                g.entry(home.clone())
                    .or_default()
                    .entry(from.clone())
                    .or_insert(Seen {
                        file: format!("{} (methods of {ty})", s.file),
                        line,
                    });
            }
        }
    }
    g
}

/// Strongly connected components with more than one node (Tarjan), each sorted.
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        let g = t.g;
        for w in g.get(v).into_iter().flat_map(|m| m.keys()) {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out.sort();
    t.out
}

/// One shortest cycle through `comp`'s first node, as its nodes in order.
fn one_cycle(g: &Graph, comp: &[String]) -> Vec<String> {
    let start = &comp[0];
    let inside: BTreeSet<&String> = comp.iter().collect();
    let mut prev: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in g[v].keys().filter(|w| inside.contains(w)) {
            if w == start {
                let mut path = vec![v.clone()];
                let mut at = v;
                while at != start {
                    at = prev[at];
                    path.push(at.clone());
                }
                path.reverse();
                path.push(start.clone());
                return path;
            }
            if !prev.contains_key(w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    comp.to_vec()
}

/// The report for every cycle: its modules, then one cycle edge by edge with where each edge is.
fn report(g: &Graph) -> Option<String> {
    let found = cycles(g);
    if found.is_empty() {
        return None;
    }
    let mut s = String::new();
    for comp in found {
        let _ = writeln!(s, "import cycle among {{{}}}:", comp.join(", "));
        let path = one_cycle(g, &comp);
        for pair in path.windows(2) {
            let seen = &g[&pair[0]][&pair[1]];
            let _ = writeln!(s, "  {} -> {}   ({}:{})", pair[0], pair[1], seen.file, seen.line);
        }
    }
    Some(s)
}

// ---------------------------------------------------------------------------------------------
// Reading src/.

fn read_sources(root: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for p in files {
        let rel = p.strip_prefix(root).expect("under root");
        let mut module: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
        let last = module.pop().unwrap_or_default();
        match last.as_str() {
            // The binary is its own crate (it uses the library by name).
            "main.rs" if module.is_empty() => continue,
            "lib.rs" | "mod.rs" => {}
            other => module.push(other.trim_end_matches(".rs").to_string()),
        }
        let raw = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push(Source {
            file: format!("src/{}", rel.display()),
            module,
            text: strip_test_items(&strip_comments_and_strings(&raw)),
        });
    }
    out
}

#[test]
fn server_modules_have_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let sources = read_sources(&src);
    assert!(
        sources.len() > 30,
        "read {} files from {}",
        sources.len(),
        src.display()
    );
    // The top-level modules, then inside web/ (its first-level modules and web/mod.rs).
    for split in [&[][..], &["web"][..]] {
        let g = graph(&sources, split);
        check(&g);
    }
}

fn check(g: &Graph) {
    if std::env::var_os("FIELDPROOF_PRINT_LAYERS").is_some() {
        for (from, to) in g {
            let to: Vec<&str> = to.keys().map(String::as_str).collect();
            println!("{from} -> {}", to.join(" "));
        }
    }
    if let Some(r) = report(g) {
        panic!("layers must point down (docs/ARCHITECTURE.md, \"Layers\"):\n{r}");
    }
}

// ---------------------------------------------------------------------------------------------
// The checker itself, on planted sources.

fn planted(files: &[(&str, &str)]) -> Vec<Source> {
    files
        .iter()
        .map(|(file, text)| {
            let mut module: Vec<String> = file
                .trim_end_matches(".rs")
                .split('/')
                .map(String::from)
                .collect();
            if module.last().is_some_and(|m| m == "mod" || m == "lib") {
                module.pop();
            }
            Source {
                file: format!("src/{file}"),
                module,
                text: strip_test_items(&strip_comments_and_strings(text)),
            }
        })
        .collect()
}

#[test]
fn checker_names_a_planted_cycle_with_its_lines() {
    let sources = planted(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\npub use c::Thing;\n"),
        ("a.rs", "use crate::{b::{x, y}, b as _};\nuse crate::b::z;\n"),
        ("b.rs", "fn f() {\n    let t = crate::Thing::new();\n}\n"),
        ("c.rs", "use super::a;\n"),
    ]);
    let g = graph(&sources, &[]);
    let r = report(&g).expect("a -> b -> c -> a is a cycle");
    assert!(r.contains("{a, b, c}"), "{r}");
    assert!(r.contains("a -> b   (src/a.rs:1)"), "{r}");
    assert!(r.contains("b -> c   (src/b.rs:2)"), "{r}");
    assert!(r.contains("c -> a   (src/c.rs:1)"), "{r}");
}

#[test]
fn checker_ignores_comments_strings_and_tests() {
    let sources = planted(&[
        ("a.rs", "use crate::b::x;\n"),
        (
            "b.rs",
            "// use crate::a;\n/* crate::a::f() /* nested */ crate::a */\nconst S: &str = \"crate::a::x\";\nconst R: &str = r#\"crate::a\"#;\nfn f<'a>(c: char) -> bool { c == '\"' }\n#[cfg(test)]\nmod tests {\n    use crate::a;\n    fn g() { if true { crate::a::h(); } }\n}\n#[cfg(test)]\nuse crate::a::y;\n",
        ),
    ]);
    let g = graph(&sources, &[]);
    assert_eq!(report(&g), None, "{g:?}");
    assert!(g["a"].contains_key("b"));
}

#[test]
fn checker_follows_folder_submodules_and_super() {
    // web/pages uses web/read through super::super; web/read reaches back into pages: a cycle
    // inside the split folder. A child naming its parent's item (super::Store) is an edge up.
    let sources = planted(&[
        (
            "web/mod.rs",
            "mod pages;\nmod read;\nfn router() { pages::map::page(); }\n",
        ),
        ("web/pages/mod.rs", "pub mod map;\n"),
        ("web/pages/map.rs", "use super::super::read::map as rm;\n"),
        ("web/read/map.rs", "fn f() { crate::web::pages::map::page(); }\n"),
        ("store.rs", "use crate::web::router;\n"),
    ]);
    let g = graph(&sources, &["web"]);
    assert!(g["web"].contains_key("web::pages"), "{g:?}");
    assert!(g["store"].contains_key("web"), "{g:?}");
    let r = report(&g).expect("pages <-> read");
    assert!(r.contains("{web::pages, web::read}"), "{r}");
    assert!(r.contains("(src/web/pages/map.rs:1)"), "{r}");
    assert!(r.contains("(src/web/read/map.rs:1)"), "{r}");
}

#[test]
fn checker_counts_methods_written_outside_their_type() {
    // b adds methods to a's type and uses a: a cycle although a never imports b.
    let sources = planted(&[
        (
            "a.rs",
            "pub struct Thing;\nimpl Thing { fn own(&self) {} }\nimpl Default for Thing { }\n",
        ),
        (
            "b.rs",
            "use crate::a::Thing;\nimpl Thing {\n    fn more(&self) {}\n}\nimpl<T> From<T> for Thing { }\n",
        ),
    ]);
    let g = graph(&sources, &[]);
    let r = report(&g).expect("a <-> b through b's impl block");
    assert!(r.contains("a -> b   (src/b.rs (methods of Thing):2)"), "{r}");
    assert!(r.contains("b -> a   (src/b.rs:1)"), "{r}");
}
