#!/usr/bin/env python3
"""Checks that every workspace crate declares a rust-version (MSRV) no older than the newest
rust-version among the dependencies it builds with (normal and build dependencies, every
feature the workspace enables, Linux targets), so the declared MSRV is not a claim the
dependencies already break. The code itself is checked against the declared MSRV by clippy's
incompatible_msrv lint.

Usage: cargo metadata --format-version 1 --locked | python3 scripts/ci/check_msrv.py
"""
import json
import sys


def version(text):
    return tuple(int(x) for x in text.split(".")) if text else (0,)


def show(v):
    return ".".join(map(str, v))


def linux(target):
    # Dependencies for other platforms (windows-sys, ...) are not built here.
    return target is None or not any(w in target for w in ("windows", "macos", "wasm", "android", "ios"))


def main():
    meta = json.load(sys.stdin)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    failures = 0
    for member in meta["workspace_members"]:
        pkg = packages[member]
        declared = version(pkg.get("rust_version"))
        seen, stack = set(), [member]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for dep in nodes[node]["deps"]:
                kinds = [k for k in dep["dep_kinds"] if k["kind"] != "dev" and linux(k.get("target"))]
                if kinds:
                    stack.append(dep["pkg"])
        seen.discard(member)
        need, who = max(((version(packages[i].get("rust_version")), packages[i]["name"] + " " + packages[i]["version"]) for i in seen), default=((0,), "nothing"))
        if declared == (0,):
            print(f"{pkg['name']}: no rust-version declared (dependencies need {show(need)}: {who})")
            failures += 1
        elif declared < need:
            print(f"{pkg['name']}: declares rust-version {show(declared)}, but {who} needs {show(need)}")
            failures += 1
        else:
            print(f"{pkg['name']}: rust-version {show(declared)} (newest need among dependencies: {show(need)}, {who})")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
