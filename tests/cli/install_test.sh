#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: the binary, the man page (rendered by man),
# and the bash and zsh completions (bash completes subcommands, corpus subcommands,
# flags and --profile values).
# usage: install_test.sh REDUCTO REDUCTO_GEN (REDUCTO in the build tree's cli/)
set -u
R=$(realpath "$1"); GEN=$(realpath "$2")
source "$(dirname "$0")/test_lib.sh"

BUILD=$(dirname "$(dirname "$R")")
P=$W/prefix
expect_ok "cmake --install into a temporary prefix" cmake --install "$BUILD" --prefix "$P"
check "  bin/reducto" [ -x "$P/bin/reducto" ]
expect_ok "  which runs" "$P/bin/reducto" --version
check "  share/man/man1/reducto.1" [ -s "$P/share/man/man1/reducto.1" ]
check "  bash completion" [ -s "$P/share/bash-completion/completions/reducto" ]
check "  zsh completion" [ -s "$P/share/zsh/site-functions/_reducto" ]

MANWIDTH=100 man -l "$P/share/man/man1/reducto.1" >"$W/man.txt" 2>"$W/err"
check "man renders the page" grep -q "^REDUCTO(1)" "$W/man.txt"
check "  with the commands" grep -qE "^ +compress -c CORPUS" "$W/man.txt"
check "  and the exit status" grep -q "^EXIT STATUS" "$W/man.txt"
check "  with no warning from groff" [ ! -s "$W/err" ]

# complete WORDS...: what the installed bash completion offers for the last word.
complete_words() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _reducto
           complete -p reducto >/dev/null && printf "%s\n" "${COMPREPLY[@]}"' \
    complete "$P/share/bash-completion/completions/reducto" "$@"
}
check "bash completes 'reducto comp' to compress" \
  [ "$(complete_words reducto comp)" = compress ]
check "  'reducto corpus b' to build" [ "$(complete_words reducto corpus b)" = build ]
check "  'reducto -q corpus ver' to verify" [ "$(complete_words reducto -q corpus ver)" = verify ]
check "  'reducto compress --pro' to --profile" \
  [ "$(complete_words reducto compress --pro)" = --profile ]
check "  'reducto compress --profile m' to max" \
  [ "$(complete_words reducto compress --profile m)" = max ]
mkdir -p "$W/dirs/corpus-a"; touch "$W/dirs/file-a"
check "  'reducto compress -c DIR/' to directories only" \
  [ "$(complete_words reducto compress -c "$W/dirs/")" = "$W/dirs/corpus-a" ]
check "  an input to files" \
  [ "$(complete_words reducto compress "$W/dirs/file")" = "$W/dirs/file-a" ]
check "zsh completion parses" zsh -n "$P/share/zsh/site-functions/_reducto"
# zsh_offers PATTERN WORD...: what the installed zsh completion hands zsh's completion
# system for the last word (_describe's list, _values' and _arguments' specs, printed by
# stand-ins for those functions) has a line matching the fixed string PATTERN.
zsh_offers() {
  local pattern=$1; shift
  zsh -f -c '_describe() { print -l -- ${(P)${@[-1]}} }
             _values() { shift; print -l -- "$@" }
             _arguments() { print -l -- "$@" }
             words=("$@"); CURRENT=$#; source "$0"' \
    "$P/share/zsh/site-functions/_reducto" "$@" | grep -qF -- "$pattern"
}
check "zsh offers the subcommands after reducto" zsh_offers "compress:" reducto comp
check "  the corpus subcommands after corpus" zsh_offers "build:" reducto corpus b
check "  the profiles after compress --pro" \
  zsh_offers ":(fast default max)" reducto compress --pro
not() { ! "$@"; }
check "  and not after decompress --pro" \
  not zsh_offers ":(fast default max)" reducto decompress --pro
finish
