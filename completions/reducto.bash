# bash completion for reducto: subcommands, corpus/key/audit/config subcommands, each
# command's flags, the values of --profile, and files or directories elsewhere.
# Installed as share/bash-completion/completions/reducto (cmake --install).

_reducto_flags() {
  local global="--config -q --quiet -h --help"
  local chunking="--avg --min --max --normalization"
  local trust="--trusted-key --insecure-skip-verify"
  local passphrase="--passphrase-file --passphrase-env --passphrase-prompt"
  local corpus_key="--corpus-key --corpus-passphrase-file --corpus-passphrase-env
    --corpus-passphrase-prompt"
  case $1 in
    chunk) echo "$chunking --json" ;;
    gc) echo "--max-age --leftover-age --dry-run" ;;
    compress) echo "-c --corpus -o --output -l --level --profile --block-size --standalone
      --no-fallback -f --force -T --threads --cache-size $trust --no-usage --encrypt-key
      $passphrase $corpus_key" ;;
    analyze) echo "-c --corpus -l --level --profile --block-size --sample --window --json -T
      --threads --cache-size $trust $corpus_key" ;;
    decompress) echo "-c --corpus -o --output --max-output -f --force -T --threads
      --cache-size $trust --decrypt-key $passphrase $corpus_key" ;;
    "corpus build") echo "-o --output -f --force --no-fine-index --sign-key --encrypt-key
      $passphrase $chunking" ;;
    "corpus update") echo "--from -o --output -f --force --no-fine-index $trust --sign-key
      $chunking" ;;
    "corpus info" | "corpus list") echo "--json --trusted-key" ;;
    "corpus sign") echo "--sign-key $corpus_key" ;;
    "corpus verify") echo "--trusted-key $corpus_key" ;;
    "corpus optimize") echo "--budget -o --output -f --force --no-fine-index --json
      --max-counted-chunks --sign-key $chunking" ;;
    "corpus prune") echo "-o --output --keep-for --unused-since --profile -f --force $trust
      --sign-key" ;;
    "corpus publish") echo "--to -l --level -T --threads" ;;
    "corpus delete") echo "-f --force" ;;
    "key generate") echo "-o --output -f --force --symmetric" ;;
    "audit verify") echo "--trusted-key" ;;
    "audit show") echo "--operation --corpus --outcome --since" ;;
    report) echo "--json --price-transfer-gb --price-storage-gb-month --transfers-per-month
      --receivers --corpus-changes-per-month --corpus-size -c --corpus --keep-months
      --corpus-copies" ;;
    "config show") echo "--json -c --corpus --fallback -l --level --block-size -T --threads
      --cache-size --max-output --trusted-key --no-usage $chunking --max-age --leftover-age" ;;
  esac
  echo "$global"
}

_reducto() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local commands="chunk corpus gc key compress decompress analyze audit config report"
  # The command so far: the first word that is not a flag (skipping --config's value),
  # and for corpus, key, audit and config the word after it.
  local command="" i word
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    [[ ${COMP_WORDS[i-1]} == --config ]] && continue
    [[ $word == -* ]] && continue
    if [[ -z $command ]]; then
      command=$word
    elif [[ $command == corpus || $command == key || $command == audit || $command == config ]]; then
      command="$command $word"
      break
    else
      break
    fi
  done

  case $prev in
    --profile) COMPREPLY=($(compgen -W "fast default max" -- "$cur")); return ;;
    --outcome) COMPREPLY=($(compgen -W "ok failed" -- "$cur")); return ;;
    -c | --corpus | --from)
      [[ $command != "audit show" ]] && { COMPREPLY=($(compgen -d -- "$cur")); return; } ;;
    --config | -o | --output | --trusted-key | --sign-key | --encrypt-key | --decrypt-key | \
      --corpus-key | --passphrase-file | --corpus-passphrase-file | --keep-for)
      COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac

  if [[ -z $command ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "--config -q --quiet --version -h --help" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    fi
    return
  fi
  case $command in
    corpus)
      COMPREPLY=($(compgen -W "build update info sign verify list optimize prune publish delete" \
        -- "$cur")); return ;;
    key) COMPREPLY=($(compgen -W "generate" -- "$cur")); return ;;
    audit) COMPREPLY=($(compgen -W "verify show" -- "$cur")); return ;;
    config) COMPREPLY=($(compgen -W "show" -- "$cur")); return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_reducto_flags "$command")" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}

complete -o filenames -F _reducto reducto
