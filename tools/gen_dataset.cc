// reducto-gen: writes a deterministic reference and a realistically edited new
// version of it, the default data of the quick-start demo and of the CLI tests.
//
// The reference looks like a software release: database-dump-like text tables and
// machine-code-like binary sections, in tar-like order. The new version applies what
// a nightly update does: rows changed in clusters, rows inserted and deleted, a
// binary section rebuilt with shifted offsets, a section moved, new data appended.
//
// usage: reducto-gen [--size BYTES] [--seed N] REF_OUT TARGET_OUT
//
// With --stream BYTES it writes instead, to stdout and in constant memory, BYTES of
// incompressible, non-repeating data for scale tests: 4 KiB pages of SplitMix64
// output, page k seeded by (seed, k mod period/4K), so the stream repeats with
// --period BYTES (default: never) and two streams of the same seed share their pages;
// --edit-every BYTES overwrites 16 bytes of every such stretch with bytes that differ
// between periods, like the scattered edits of a new version.
//
// usage: reducto-gen --stream BYTES [--seed N] [--period BYTES] [--edit-every BYTES]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

const char* kNames[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
                        "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent",
                        "victor", "walter", "yolanda"};
const char* kCities[] = {"Berlin", "Lisbon", "Oslo", "Osaka", "Lima", "Quito", "Dakar", "Perth",
                         "Tunis", "Split", "Brno", "Turku"};

std::string Row(Rng& rng, uint64_t id) {
  char buf[192];
  int n = std::snprintf(buf, sizeof buf, "%llu\t%s.%s%llu@example.org\t%s\t%llu.%02llu\t2026-%02llu-%02llu\t%s\n",
                        static_cast<unsigned long long>(id), kNames[rng.Below(20)], kNames[rng.Below(20)],
                        static_cast<unsigned long long>(rng.Below(1000)), kCities[rng.Below(12)],
                        static_cast<unsigned long long>(rng.Below(100000)),
                        static_cast<unsigned long long>(rng.Below(100)),
                        static_cast<unsigned long long>(1 + rng.Below(12)),
                        static_cast<unsigned long long>(1 + rng.Below(28)),
                        rng.Below(4) == 0 ? "pending" : "settled");
  return std::string(buf, static_cast<size_t>(n));
}

// Text that compresses like a database dump (about 3-4x with zstd -3).
std::string Table(Rng& rng, uint64_t first_id, size_t bytes) {
  std::string out = "COPY public.accounts (id, email, city, balance, updated, state) FROM stdin;\n";
  for (uint64_t id = first_id; out.size() < bytes; ++id) out += Row(rng, id);
  return out + "\\.\n";
}

// Bytes that compress like machine code (about 1.5-2x): opcodes from a small skewed
// set, with 32-bit displacements.
std::string Binary(Rng& rng, size_t bytes) {
  static const uint8_t kOps[] = {0x48, 0x89, 0x8b, 0xe8, 0x0f, 0x85, 0x74, 0xc3, 0x31, 0xff, 0x41, 0x83};
  std::string out;
  out.reserve(bytes);
  while (out.size() < bytes) {
    out.push_back(static_cast<char>(kOps[rng.Below(12) * rng.Below(12) / 12]));
    if (rng.Below(3) == 0) {
      uint32_t disp = static_cast<uint32_t>(rng.Below(1u << 20));
      out.append(reinterpret_cast<const char*>(&disp), 4);
    }
  }
  out.resize(bytes);
  return out;
}

// Adds `delta` to every 32-bit displacement-like word in [begin, end) with some
// probability: what a relinked binary looks like.
void ShiftAddresses(Rng& rng, std::string& bin, size_t begin, size_t end, uint32_t delta) {
  for (size_t i = begin; i + 4 <= end; i += 4 + rng.Below(2048)) {
    uint32_t v;
    std::memcpy(&v, bin.data() + i, 4);
    v += delta;
    std::memcpy(bin.data() + i, &v, 4);
  }
}

struct Section {
  std::string name;
  std::string body;
};

std::vector<Section> MakeReference(Rng& rng, size_t total) {
  std::vector<Section> sections;
  size_t made = 0;
  uint64_t next_id = 1;
  for (int i = 0; made < total; ++i) {
    size_t size = 512 * 1024 + rng.Below(3 * 1024 * 1024);
    Section s;
    if (i % 3 == 2) {
      s = {"lib/module" + std::to_string(i) + ".so", Binary(rng, size)};
    } else {
      s = {"data/table" + std::to_string(i) + ".sql", Table(rng, next_id, size)};
      next_id += size / 60;
    }
    made += s.body.size();
    sections.push_back(std::move(s));
  }
  return sections;
}

void EditTable(Rng& rng, std::string& body) {
  int edits = 2 + static_cast<int>(rng.Below(4));
  for (int e = 0; e < edits; ++e) {
    size_t at = body.find('\n', rng.Below(body.size()));
    if (at == std::string::npos || at + 1 >= body.size()) continue;
    ++at;
    std::string rows;
    size_t count = 1 + rng.Below(40);
    for (size_t r = 0; r < count; ++r) rows += Row(rng, 90000000 + rng.Below(1000000));
    switch (rng.Below(3)) {
      case 0: body.insert(at, rows); break;                             // New rows.
      case 1: body.erase(at, std::min(rows.size(), body.size() - at)); break;  // Deleted rows.
      default: body.replace(at, std::min(rows.size(), body.size() - at), rows);  // Updated rows.
    }
  }
}

void EditBinary(Rng& rng, std::string& body) {
  size_t begin = rng.Below(body.size() / 2);
  ShiftAddresses(rng, body, begin, begin + body.size() / 8, 0x40);
  body.insert(rng.Below(body.size()), Binary(rng, 1 + rng.Below(4096)));
}

std::vector<Section> MakeTarget(Rng& rng, std::vector<Section> sections) {
  for (auto& s : sections) {
    if (rng.Below(10) < 4) continue;  // Untouched files.
    if (s.name.ends_with(".so")) EditBinary(rng, s.body);
    else EditTable(rng, s.body);
  }
  // A moved file, a removed one and a new one.
  if (sections.size() > 4) {
    Section moved = sections[1];
    sections.erase(sections.begin() + 1);
    sections.insert(sections.end() - 1, std::move(moved));
    sections.erase(sections.begin() + 2);
  }
  sections.push_back({"data/new_table.sql", Table(rng, 95000000, 1024 * 1024)});
  return sections;
}

bool WriteSections(const char* path, const std::vector<Section>& sections) {
  FILE* f = std::fopen(path, "wb");
  if (f == nullptr) return false;
  for (const auto& s : sections) {
    char header[512] = {};  // A tar-like header: name and size, padded.
    std::snprintf(header, sizeof header, "%s\n%zu\n", s.name.c_str(), s.body.size());
    std::fwrite(header, 1, sizeof header, f);
    std::fwrite(s.body.data(), 1, s.body.size(), f);
  }
  return std::fclose(f) == 0;
}

constexpr uint64_t kPage = 4096;

struct StreamSpec {
  uint64_t bytes = 0;
  uint64_t seed = 1;
  uint64_t period = 0;      // 0: no repetition.
  uint64_t edit_every = 0;  // 0: no edits.
};

// Fills `page` (kPage bytes) with page `index` of the stream.
void StreamPage(const StreamSpec& spec, uint64_t index, uint8_t* page) {
  uint64_t pages_per_period = spec.period / kPage;
  uint64_t source = pages_per_period > 0 ? index % pages_per_period : index;
  Rng rng(spec.seed * 0x9e3779b97f4a7c15ULL ^ (source + 1) * 0xd1b54a32d192ed03ULL);
  for (uint64_t i = 0; i < kPage; i += 8) {
    uint64_t v = rng.Next();
    std::memcpy(page + i, &v, 8);
  }
  uint64_t edit_pages = spec.edit_every / kPage;
  if (edit_pages > 0 && index % edit_pages == edit_pages / 2) {
    Rng edit(index * 0xbf58476d1ce4e5b9ULL + spec.seed);
    uint64_t at = edit.Below(kPage - 16);
    for (int i = 0; i < 16; i += 8) {
      uint64_t v = edit.Next();
      std::memcpy(page + at + i, &v, 8);
    }
  }
}

int WriteStream(const StreamSpec& spec) {
  std::vector<uint8_t> buffer(256 * kPage);
  for (uint64_t done = 0, index = 0; done < spec.bytes;) {
    size_t fill = 0;
    for (; fill < buffer.size() && done + fill < spec.bytes; fill += kPage) {
      StreamPage(spec, index++, buffer.data() + fill);
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(fill, spec.bytes - done));
    if (std::fwrite(buffer.data(), 1, n, stdout) != n) {
      std::perror("reducto-gen: cannot write to stdout");
      return 1;
    }
    done += n;
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  size_t size = 64u << 20;
  uint64_t seed = 1;
  StreamSpec stream;
  std::vector<const char*> paths;
  for (int i = 1; i < argc; ++i) {
    auto value = [&] { return std::strtoull(argv[++i], nullptr, 10); };
    if (std::strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
      size = value();
    } else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = value();
    } else if (std::strcmp(argv[i], "--stream") == 0 && i + 1 < argc) {
      stream.bytes = value();
    } else if (std::strcmp(argv[i], "--period") == 0 && i + 1 < argc) {
      stream.period = value();
    } else if (std::strcmp(argv[i], "--edit-every") == 0 && i + 1 < argc) {
      stream.edit_every = value();
    } else {
      paths.push_back(argv[i]);
    }
  }
  if (stream.bytes > 0 && paths.empty()) {
    stream.seed = seed;
    return WriteStream(stream);
  }
  if (paths.size() != 2) {
    std::fprintf(stderr,
                 "usage: reducto-gen [--size BYTES] [--seed N] REF_OUT TARGET_OUT\n"
                 "       reducto-gen --stream BYTES [--seed N] [--period BYTES] "
                 "[--edit-every BYTES] > OUT\n");
    return 2;
  }
  Rng rng(seed);
  auto reference = MakeReference(rng, size);
  auto target = MakeTarget(rng, reference);
  if (!WriteSections(paths[0], reference) || !WriteSections(paths[1], target)) {
    std::perror("reducto-gen: cannot write output");
    return 1;
  }
  return 0;
}
