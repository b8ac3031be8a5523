#!/usr/bin/env bash
# Refreshes the GraphiQL assets embedded in the Go binary (server/graphiql/assets).
#
# GraphiQL 5 ships no browser bundle, so we pin the last release line that does
# (graphiql 3.x) and the React 18 UMD builds it needs. The files are committed;
# building or running CaseGraph never needs npm. Run this only to change versions:
#
#   scripts/refresh-graphiql.sh
#
# Bump the versions below, run the script, and review the diff of assets/.
set -euo pipefail

GRAPHIQL_VERSION=3.9.0
REACT_VERSION=18.3.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/server/graphiql/assets"

command -v npm >/dev/null || { echo "refresh-graphiql: npm is required" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# fetch NAME VERSION: npm pack NAME@VERSION into $tmp/NAME (the "package/" dir).
fetch() {
	local name="$1" version="$2" tgz
	mkdir -p "$tmp/$name"
	tgz="$(cd "$tmp/$name" && npm pack --silent "$name@$version")"
	tar -xzf "$tmp/$name/$tgz" -C "$tmp/$name"
}

# copy SRC DST: copy one file, failing if it is missing or empty.
copy() {
	local src="$1" dst="$2"
	if [[ ! -s "$src" ]]; then
		echo "refresh-graphiql: missing or empty: $src" >&2
		exit 1
	fi
	install -m 0644 "$src" "$dest/$dst"
}

# license NAME DST: copy the license file of package NAME (LICENSE, LICENSE.md, ...).
license() {
	local name="$1" dst="$2" f
	for f in "$tmp/$name/package/LICENSE" "$tmp/$name/package/LICENSE.md" "$tmp/$name/package/LICENSE.txt" "$tmp/$name/package/license"; do
		if [[ -s "$f" ]]; then
			copy "$f" "$dst"
			return
		fi
	done
	echo "refresh-graphiql: no license file in $name" >&2
	exit 1
}

fetch graphiql "$GRAPHIQL_VERSION"
fetch react "$REACT_VERSION"
fetch react-dom "$REACT_VERSION"

mkdir -p "$dest"
# graphiql 3.x puts its browser (UMD) bundle at the package root.
copy "$tmp/graphiql/package/graphiql.min.js" graphiql.min.js
copy "$tmp/graphiql/package/graphiql.min.css" graphiql.min.css
copy "$tmp/react/package/umd/react.production.min.js" react.production.min.js
copy "$tmp/react-dom/package/umd/react-dom.production.min.js" react-dom.production.min.js
license graphiql LICENSE.graphiql
license react LICENSE.react
license react-dom LICENSE.react-dom

cat >"$dest/VERSIONS" <<VERSIONS
graphiql $GRAPHIQL_VERSION
react $REACT_VERSION
react-dom $REACT_VERSION
VERSIONS

echo "refresh-graphiql: graphiql@$GRAPHIQL_VERSION react@$REACT_VERSION react-dom@$REACT_VERSION -> ${dest#"$root"/}"
ls -l "$dest"
