#!/usr/bin/env bash
# reducto config show (issue 21): every setting's effective value and the layer it came
# from, each layer winning over the ones below it (flag > environment > file > default)
# and named (the flag, the variable, the file's path); --json for programs.
# usage: config_show_test.sh REDUCTO REDUCTO_GEN
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"
cd "$W" || exit 1
CONFIG=$W/xdg/reducto/config.toml

# line KEY: the line config show printed for KEY ($W/out).
line() { grep -E "^$1 = " "$W/out"; }
# has KEY VALUE SOURCE: that line shows VALUE, then SOURCE in parentheses.
has() { line "$1" | grep -qE "^$1 = $2 +\($3\)$"; }

expect_ok "defaults" "$R" config show
check "  says there is no configuration file, and where it looked" \
  grep -qxF "# no configuration file ($CONFIG does not exist)" "$W/out"
check "  one line per setting" [ "$(grep -vc '^#' "$W/out")" -eq 32 ]
check "  level = unset (default)" has level unset default
check "  threads = 0 (default)" has threads 0 default
check "  fallback = \"error\" (default)" has fallback '"error"' default
check "  trusted_keys = [] (default)" has trusted_keys '\[\]' default
check "  retention.leftover_max_age = \"3600s\" (default)" has retention.leftover_max_age '"3600s"' default
check "  every line names its source" bash -c "! grep -v '^#' '$W/out' | grep -qvE '\((default|file .+|environment REDUCTO_[A-Z_]+|flag -.+)\)$'"

mkdir -p "$(dirname "$CONFIG")"
cat > "$CONFIG" <<'EOF'
level = 4
threads = 3
corpus = "/srv/corpora/one"
trusted_keys = ["keys/release.pub"]

[chunking]
avg = "16K"

[retention]
corpus_max_age = "90d"
EOF
expect_ok "the file" "$R" config show
check "  is named in the first line" grep -qxF "# configuration file $CONFIG" "$W/out"
check "  level = 4 (file PATH)" has level 4 "file $CONFIG"
check "  threads = 3 (file PATH)" has threads 3 "file $CONFIG"
check "  trusted_keys, relative to the file" has trusted_keys "\[\"$W/xdg/reducto/keys/release.pub\"\]" "file $CONFIG"
check "  chunking.avg = 16384 (file)" has chunking.avg 16384 "file $CONFIG"
check "  retention.corpus_max_age = \"7776000s\" (file)" has retention.corpus_max_age '"7776000s"' "file $CONFIG"
check "  the rest stays default" has block_size 4194304 default

expect_ok "the environment over the file" env REDUCTO_LEVEL=5 REDUCTO_TRUSTED_KEYS=/k/a.pub:/k/b.pub "$R" config show
check "  level = 5 (environment REDUCTO_LEVEL)" has level 5 "environment REDUCTO_LEVEL"
check "  trusted_keys from REDUCTO_TRUSTED_KEYS" has trusted_keys '\["/k/a.pub", "/k/b.pub"\]' "environment REDUCTO_TRUSTED_KEYS"
check "  threads still from the file" has threads 3 "file $CONFIG"

expect_ok "a flag over the environment" env REDUCTO_LEVEL=5 REDUCTO_THREADS=7 \
  "$R" config show --level 6 -c /srv/corpora/two --no-usage --trusted-key c.pub
check "  level = 6 (flag --level)" has level 6 "flag --level"
check "  threads = 7 (environment REDUCTO_THREADS)" has threads 7 "environment REDUCTO_THREADS"
check "  corpus (flag -c)" has corpus '"/srv/corpora/two"' "flag -c"
check "  usage = false (flag --no-usage)" has usage false "flag --no-usage"
check "  trusted_keys (flag --trusted-key)" has trusted_keys '\["c.pub"\]' "flag --trusted-key"
check "  chunking.avg still from the file" has chunking.avg 16384 "file $CONFIG"

printf 'level = 9\n' > "$W/other.toml"
expect_ok "--config FILE" "$R" --config "$W/other.toml" config show
check "  is the file read" grep -qxF "# configuration file $W/other.toml" "$W/out"
check "  and the default one is not" has threads 0 default
check "  level = 9 (file FILE)" has level 9 "file $W/other.toml"

expect_ok "--json" env REDUCTO_THREADS=2 "$R" config show --json --level 7
check "  values, sources and names" python3 - "$W/out" "$CONFIG" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); config = sys.argv[2]
s = {row["key"]: row for row in d["settings"]}
assert d["config_file"] == config, d["config_file"]
assert len(s) == 32
assert s["level"] == {"key": "level", "value": 7, "source": "flag", "flag": "--level"}, s["level"]
assert s["threads"] == {"key": "threads", "value": 2, "source": "environment", "variable": "REDUCTO_THREADS"}
assert s["corpus"]["value"] == "/srv/corpora/one" and s["corpus"]["source"] == "file"
assert s["corpus"]["file"] == config
assert s["chunking.avg"]["value"] == 16384
assert s["retention.corpus_max_age"]["value"] == 7776000
assert s["audit_log"] == {"key": "audit_log", "value": None, "source": "default"}
assert s["usage"]["value"] is True and s["trusted_keys"]["value"][0].endswith("keys/release.pub")
PY
rm "$CONFIG"
expect_ok "--json without a file" "$R" config show --json
check "  config_file is null, and the path looked for given" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["config_file"] is None and d["config_file_looked_for"] == sys.argv[2]' "$W/out" "$CONFIG"

# What the lines say is a config file: those not at their default, read back, give the
# same values.
expect_ok "lines not at their default" env REDUCTO_BLOCK_SIZE=1M "$R" config show --level 2 \
  --max-age 30d --fallback standalone -c "/srv/a \"quoted\" dir" --trusted-key x.pub --trusted-key y.pub
grep -v '^#' "$W/out" | grep -v '(default)$' | sed -E 's/ +\([^()]*\)$//' > "$W/back.toml"
expect_ok "  read back with --config" "$R" --config "$W/back.toml" config show
check "  give the same values" bash -c "[ \"\$(grep -c '(file $W/back.toml)' '$W/out')\" -eq 6 ]"
check "  the quoted corpus path survives" has corpus '"/srv/a \\"quoted\\" dir"' "file $W/back.toml"
check "  the duration too" has retention.corpus_max_age '"2592000s"' "file $W/back.toml"

expect_exit "a bad value is refused, named" 2 "REDUCTO_THREADS must be" \
  env REDUCTO_THREADS=lots "$R" config show
expect_exit "so is an unknown key in the file" 2 "unknown key 'levle'" \
  bash -c "printf 'levle = 3\n' > '$W/bad.toml'; '$R' --config '$W/bad.toml' config show"
expect_exit "config alone asks for a subcommand" 2 "show" "$R" config
expect_ok "reducto help config show" "$R" help config show
check "  lists the setting flags" grep -q -- "--trusted-key" "$W/out"
finish
