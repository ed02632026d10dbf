#!/usr/bin/env python3
"""File-import cycles in the library crates: parses `use crate::..`, `use super::..`,
`use self::..` (and, with --paths, every `crate::a::b` path in code) per file, resolves each
imported path to the file defining it (following `use` re-exports), and prints the strongly
connected components of the file graph (cycles) plus the edges inside them."""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
INLINE_PATHS = "--paths" in sys.argv
SKIP_TESTS = "--no-tests" in sys.argv
CRATES = ["otel-rpc", "otel-sqlx", "otel-mongo", "otel-redis"]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = []
    for line in text.split("\n"):
        # drop // comments (naive: not inside strings; good enough for use lines)
        i = line.find("//")
        if i >= 0:
            line = line[:i]
        out.append(line)
    return "\n".join(out)


def strip_strings(text):
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def remove_test_mods(text):
    """Removes `#[cfg(test)] mod x { ... }` blocks (brace matched)."""
    out = []
    i = 0
    pat = re.compile(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{")
    while True:
        m = pat.search(text, i)
        if not m:
            out.append(text[i:])
            break
        out.append(text[i:m.start()])
        depth = 1
        j = m.end()
        while j < len(text) and depth:
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
            j += 1
        i = j
    return "".join(out)


def expand(tree):
    """`a::{b, c::{d, e as f}}` -> [(['a','b'], 'b'), (['a','c','d'], 'd'), (['a','c','e'], 'f')]"""
    tree = tree.strip()
    res = []
    # split prefix :: { ... }
    depth = 0
    for k, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                prefix = tree[:k].rstrip(":").strip()
                inner = tree[k + 1: tree.rindex("}")]
                parts = split_top(inner)
                pre = [p for p in prefix.split("::") if p] if prefix else []
                for p in parts:
                    for path, alias in expand(p):
                        res.append((pre + path, alias))
                return res
            depth += 1
    alias = None
    m = re.match(r"(.*?)\s+as\s+(\w+)$", tree)
    if m:
        tree, alias = m.group(1), m.group(2)
    path = [p.strip() for p in tree.split("::") if p.strip()]
    if not path:
        return []
    if path[-1] == "self":
        path = path[:-1]
    if alias is None:
        alias = path[-1] if path else None
    return [(path, alias)]


def split_top(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            if cur.strip():
                parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


class Crate:
    def __init__(self, name):
        self.name = name
        self.src = os.path.join(ROOT, name, "src")
        self.files = {}  # module path tuple -> file
        for dp, _, fns in os.walk(self.src):
            for fn in fns:
                if not fn.endswith(".rs"):
                    continue
                full = os.path.join(dp, fn)
                rel = os.path.relpath(full, self.src)[:-3].split(os.sep)
                if rel == ["lib"]:
                    mod = ()
                elif rel[-1] == "mod":
                    mod = tuple(rel[:-1])
                else:
                    mod = tuple(rel)
                self.files[mod] = full
        self.uses = {}  # file -> list of (path, alias, indented)
        for mod, f in self.files.items():
            text = open(f).read()
            text = strip_strings(strip_comments(text))
            if SKIP_TESTS:
                text = remove_test_mods(text)
            self.uses[f] = []
            self.text = getattr(self, "text", {})
            self.text[f] = text
            for m in re.finditer(r"^([ \t]*)(pub(\([^)]*\))?\s+)?use\s+([^;]+);", text, flags=re.M):
                indented = len(m.group(1)) > 0
                for path, alias in expand(m.group(4)):
                    self.uses[f].append((path, alias, indented, mod))

    def module_of(self, f):
        for mod, ff in self.files.items():
            if ff == f:
                return mod

    def absolute(self, path, mod, indented):
        """Turns a use path into an absolute crate path (list) or None (external)."""
        if not path:
            return None
        head = path[0]
        if head == "crate":
            return list(path[1:])
        if head == "self":
            return list(mod) + list(path[1:])
        if head == "super":
            base = list(mod)
            rest = list(path)
            # inside an inline module (indented use), `super` is the file's own module
            if indented:
                rest = rest[1:]
            while rest and rest[0] == "super":
                base = base[:-1]
                rest = rest[1:]
            return base + rest
        # a bare path starting with a child module of this module (2018 uniform paths)
        if tuple(list(mod) + [head]) in self.files:
            return list(mod) + list(path)
        return None

    def resolve(self, apath, seen=None):
        """The file defining the item at absolute path `apath`."""
        seen = seen or set()
        key = tuple(apath)
        if key in seen:
            return None
        seen.add(key)
        # deepest file module prefix
        best = ()
        for k in range(len(apath), -1, -1):
            if tuple(apath[:k]) in self.files:
                best = tuple(apath[:k])
                break
        f = self.files[best]
        rest = apath[len(best):]
        if not rest:
            return f
        # follow a re-export in that file of the first remaining name
        name = rest[0]
        for path, alias, indented, mod in self.uses[f]:
            if indented:
                continue
            if alias == name:
                target = self.absolute(path, best, False)
                if target is None:
                    return f
                return self.resolve(target + rest[1:], seen) or f
        return f


def tarjan(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            strong(v)
    return out


total = 0
for name in CRATES:
    c = Crate(name)
    graph = {f: set() for f in c.files.values()}
    why = {}
    for f, uses in c.uses.items():
        mod = c.module_of(f)
        for path, alias, indented, m in uses:
            a = c.absolute(path, mod, indented)
            if a is None:
                continue
            t = c.resolve(a)
            if t and t != f:
                graph[f].add(t)
                why.setdefault((f, t), []).append("::".join(path))
        if INLINE_PATHS:
            for m in re.finditer(r"(?<![\w:])crate((?:::\w+)+)", c.text[f]):
                parts = m.group(1).strip(":").split("::")
                t = c.resolve(parts)
                if t and t != f:
                    graph[f].add(t)
                    why.setdefault((f, t), []).append("crate::" + "::".join(parts))
    rel = lambda f: os.path.relpath(f, ROOT)
    comps = [sorted(comp) for comp in tarjan(graph) if len(comp) > 1]
    edges = sum(len(v) for v in graph.values())
    print(f"{name}: {len(c.files)} files, {edges} file->file import edges, {len(comps)} cycle(s)")
    for comp in comps:
        total += 1
        print("  cycle:", " ".join(rel(f) for f in comp))
        for f in comp:
            for t in sorted(graph[f]):
                if t in comp:
                    print(f"    {rel(f)} -> {rel(t)}  ({', '.join(sorted(set(why[(f, t)])))})")
print(f"total cycles: {total}")
sys.exit(1 if total else 0)
