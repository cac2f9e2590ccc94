// The audit log from the command line: what each audited command appends
// (RecordInAuditLog), and `reducto audit verify | show` (docs/audit.md).
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "command.h"
#include "reducto/audit.h"
#include "reducto/corpus.h"
#include "reducto/prune.h"
#include "reducto/signing.h"
#include "session.h"
#include "trust.h"

namespace reducto::cli {
namespace {

// The session whose audit log is `log` when given, else the settings' (none when
// auditing is off or there is nowhere to put it); `sign`: it reads the signing key.
std::unique_ptr<Session> AuditSession(Settings settings, const std::optional<std::string>& log,
                                      bool sign) {
  if (log) settings.audit_log = *log;
  auto session = OpenSession(settings, SessionUse{nullptr, false, sign});
  return session.ok() ? std::move(session).value() : nullptr;  // Without origin: no error.
}

std::string OperationName(const CLI::App& command) {
  const CLI::App* parent = command.get_parent();
  bool nested = parent != nullptr && parent->get_parent() != nullptr;
  return nested ? parent->get_name() + " " + command.get_name() : command.get_name();
}

// The options and arguments as given: "--name value" or "--flag" or the value of a
// positional. Passphrases never appear on the command line, so nothing secret does.
std::vector<std::string> Arguments(const CLI::App& command) {
  std::vector<std::string> args;
  for (const CLI::Option* option : command.get_options()) {
    if (option->count() == 0 || option->get_name() == "--help") continue;
    const bool positional = option->get_name().rfind('-', 0) != 0;
    if (option->get_expected_max() == 0) {  // A flag: its name alone.
      args.push_back(option->get_name());
      continue;
    }
    for (const std::string& value : option->results()) {
      args.push_back(positional ? value : option->get_name() + "=" + value);
    }
  }
  return args;
}

// The id of the corpus the command worked on: at -c/--corpus, -o/--output, --from or
// a positional directory, the first that is a corpus (after the command ran).
std::string CorpusOf(const CLI::App& command) {
  for (const char* name : {"--corpus", "--output", "--from", "dir"}) {
    const CLI::Option* option = nullptr;
    try {
      option = command.get_option(name);
    } catch (const CLI::OptionNotFound&) {
      continue;
    }
    for (const std::string& value : option->results()) {
      auto info = ReadCorpusInfo(value);
      if (info.ok()) return info->id;
    }
  }
  return "";
}

// The corpus the command reported using (AuditNote), else the one its options name.
std::string CorpusOf(const CLI::App& command, const AuditNote& note) {
  if (!note.corpus_id.empty()) return note.corpus_id;
  if (!note.corpus_dir.empty()) {
    if (auto info = ReadCorpusInfo(note.corpus_dir); info.ok()) return info->id;
  }
  return CorpusOf(command);
}

// "ok", "ok: <note>" or "failed: <message>" (docs/audit.md).
std::string Outcome(int exit_code, const AuditNote& note) {
  if (exit_code == 0) return note.outcome_note.empty() ? "ok" : "ok: " + note.outcome_note;
  if (LastFailure().empty()) return "failed (exit " + std::to_string(exit_code) + ")";
  return "failed: " + LastFailure();
}

bool Succeeded(const AuditEntry& entry) {
  return entry.outcome == "ok" || entry.outcome.starts_with("ok: ");
}

}  // namespace

void RecordInAuditLog(const Context& ctx, const CLI::App& command, int exit_code) {
  const std::string operation = OperationName(command);
  if (!IsAuditedOperation(operation)) return;
  // The file and the environment: no flag names the audit log, and the entry is
  // written even when a flag was wrong.
  auto settings = cli::LoadSettings(ctx.config_path);
  if (!settings.ok()) return;  // The command already said what is wrong with them.
  std::unique_ptr<Session> session = AuditSession(*settings, std::nullopt, true);
  if (session == nullptr || session->audit_log().empty()) return;
  AuditEntry entry;
  entry.operation = operation;
  entry.corpus = CorpusOf(command, ctx.audit);
  entry.args = Arguments(command);
  entry.outcome = Outcome(exit_code, ctx.audit);
  (void)session->Record(std::move(entry));  // A failure is a warning, given by Record.
}

namespace {

// `text` with every control character shown as an escape (\n, \t, \xNN; C1 controls as
// \u0080..\u009f, a backslash as \\), so that a logged argument can neither forge a
// line of output nor send escape sequences to the terminal.
std::string EscapeControls(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    char buf[8];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n' || c == '\t' || c == '\r') {
      out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {  // U+0080..U+009F in UTF-8.
      std::snprintf(buf, sizeof buf, "\\u%04x", next);
      out += buf;
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The session of the audit log that `audit verify | show` read: LOG when given, else
// the settings'. InvalidArgument when auditing is off and no LOG is given.
Result<std::unique_ptr<Session>> LogToRead(const Settings& settings,
                                           const std::optional<std::string>& log) {
  std::unique_ptr<Session> session = AuditSession(settings, log, false);
  if (session == nullptr || session->audit_log().empty()) {
    return Status::InvalidArgument("no audit log: pass LOG or set audit_log");
  }
  return session;
}

struct AuditVerifyCommand {
  std::optional<std::string> log;
  TrustFlags trust;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(std::unique_ptr<Session> session, LogToRead(settings, log));
    const std::string* path = &session->audit_log();
    ASSIGN_OR_RETURN(auto trusted, trust.Resolve(settings));
    auto result = VerifyAuditLog(*path, trusted, session->AuditAnchorPath());
    if (!result.ok()) return result.status().WithContext("audit log " + *path);
    std::printf("audit log %s: %llu entries, chain intact, head matches%s\n", path->c_str(),
                static_cast<unsigned long long>(result->entries),
                result->signed_head ? (" (signed by " + result->signer + ")").c_str() : " (unsigned)");
    return std::fflush(stdout) == 0 ? Status::Ok() : Status::Io("cannot write to stdout");
  }
};

// One line per entry, every field escaped (EscapeControls).
void PrintEntry(const AuditEntry& e) {
  std::string args;
  for (const std::string& a : e.args) args += (args.empty() ? "" : " ") + EscapeControls(a);
  std::string corpus = e.corpus.empty() ? "-" : EscapeControls(e.corpus.substr(0, 8));
  std::printf("%4llu %s %s@%s %-15s %-8s %s  %s\n", static_cast<unsigned long long>(e.seq),
              EscapeControls(e.time).c_str(), EscapeControls(e.user).c_str(),
              EscapeControls(e.host).c_str(), EscapeControls(e.operation).c_str(), corpus.c_str(),
              EscapeControls(e.outcome).c_str(), args.c_str());
}

struct AuditShowCommand {
  std::optional<std::string> log;
  std::optional<std::string> operation;
  std::optional<std::string> corpus;
  std::optional<std::string> outcome;
  std::optional<std::string> since;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(std::unique_ptr<Session> session, LogToRead(settings, log));
    const std::string* path = &session->audit_log();
    if (outcome && *outcome != "ok" && *outcome != "failed") {
      return Status::InvalidArgument("--outcome takes ok or failed");
    }
    std::string cutoff;
    if (since) {
      auto seconds = ParseDuration(*since);
      if (!seconds.ok()) return seconds.status().WithContext("--since");
      std::time_t t = std::time(nullptr) - static_cast<std::time_t>(*seconds);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      cutoff = buf;
    }
    ASSIGN_OR_RETURN(auto entries, ReadAuditLog(*path));
    for (const AuditEntry& e : entries) {
      if (operation && e.operation != *operation) continue;
      if (corpus && e.corpus.rfind(*corpus, 0) != 0) continue;
      if (outcome && Succeeded(e) != (*outcome == "ok")) continue;
      if (!cutoff.empty() && e.time < cutoff) continue;
      PrintEntry(e);
    }
    return std::fflush(stdout) == 0 ? Status::Ok() : Status::Io("cannot write to stdout");
  }
};

}  // namespace

void RegisterAuditCommands(CLI::App* app, Context& ctx) {
  auto* audit = app->add_subcommand("audit", "check and read the audit log");
  audit->require_subcommand(1);

  static AuditVerifyCommand verify;
  auto* v = AddCommand(audit, ctx, verify, "verify",
                       "check that no entry of the audit log was edited, removed, reordered or cut");
  v->add_option("log", verify.log, "audit log (default: audit_log, else $XDG_STATE_HOME/reducto/audit.log)");
  verify.trust.Register(v);

  static AuditShowCommand show;
  auto* s = AddCommand(audit, ctx, show, "show", "print the entries of the audit log, filtered");
  s->add_option("log", show.log, "audit log (default as for verify)");
  s->add_option("--operation", show.operation, "only this operation (e.g. compress, \"corpus build\")");
  s->add_option("--corpus", show.corpus, "only entries of this corpus id (a prefix is enough)");
  s->add_option("--outcome", show.outcome, "ok or failed");
  s->add_option("--since", show.since, "only entries of the last DURATION (e.g. 24h, 7d)");
}

}  // namespace reducto::cli
