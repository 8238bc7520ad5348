#!/usr/bin/env bash
# Release archives for people without Rust: Linux x86_64 (.tar.gz) and Windows x86_64
# (.zip), each with the binary and the README, plus SHA256SUMS, all under dist/.
#
# Built from a clean checkout: the committed HEAD is cloned into a temporary directory,
# so nothing uncommitted or ignored in this tree ends up in an archive.
#
# Needs: the two Rust targets (`rustup target add x86_64-unknown-linux-gnu
# x86_64-pc-windows-gnu`), a C compiler for each (cc, and Debian's
# gcc-mingw-w64-x86-64) for the bundled SQLite, zip and sha256sum.
# Set CARGO_TARGET_DIR to reuse a build directory between runs. The binaries keep the
# release profile's line tables (file:line in crash reports: 45-50 MB, 13 MB packed);
# CARGO_PROFILE_RELEASE_STRIP=debuginfo makes them 7-11 MB (3-4 MB packed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dist="$root/dist"
targets=(x86_64-unknown-linux-gnu x86_64-pc-windows-gnu)

for t in "${targets[@]}"; do
    rustup target list --installed | grep -qx "$t" ||
        { echo "missing Rust target $t: rustup target add $t" >&2; exit 1; }
done
command -v x86_64-w64-mingw32-gcc >/dev/null ||
    { echo "missing x86_64-w64-mingw32-gcc: apt-get install gcc-mingw-w64-x86-64" >&2; exit 1; }
command -v zip >/dev/null || { echo "missing zip" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet --no-hardlinks "$root" "$work/src"
git -C "$work/src" checkout --quiet "$(git rev-parse HEAD)"
commit=$(git -C "$work/src" rev-parse --short HEAD)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$work/src/Cargo.toml" | head -n1)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$work/target}"
echo "building brigade $version ($commit) in $work/src"

rm -rf "$dist"
mkdir -p "$dist"
# The archives' timestamps are the commit's and their order fixed. (The binaries are
# not bit-for-bit reproducible: they record the temporary build path.)
stamp=$(git -C "$work/src" log -1 --format=%ct)
for t in "${targets[@]}"; do
    (cd "$work/src" && cargo build --release --locked --target "$t")
    name="brigade-$version-$t"
    stage="$work/stage/$name"
    mkdir -p "$stage"
    exe=brigade
    [[ $t == *windows* ]] && exe=brigade.exe
    cp "$CARGO_TARGET_DIR/$t/release/$exe" "$work/src/README.md" "$stage/"
    touch -d "@$stamp" "$stage" "$stage"/*
    if [[ $t == *windows* ]]; then
        (cd "$work/stage" && TZ=UTC zip -q -X -r "$dist/$name.zip" "$name")
    else
        tar -C "$work/stage" --sort=name --owner=0 --group=0 --numeric-owner \
            --mtime="@$stamp" -cf - "$name" | gzip -n -9 >"$dist/$name.tar.gz"
    fi
done
(cd "$dist" && sha256sum -- *.tar.gz *.zip >SHA256SUMS)
echo "release archives of $commit in dist/:"
cat "$dist/SHA256SUMS"
