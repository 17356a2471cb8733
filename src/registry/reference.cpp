// Validation of repository names, tags, digests and upload ids; routing of /v2/ paths.
#include "ecsd/registry/reference.hpp"

namespace ecsd::registry {

namespace {
bool alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool valid_component(std::string_view c) {
  if (c.empty() || !alnum_lower(c.front()) || !alnum_lower(c.back())) return false;
  std::size_t i = 0;
  while (i < c.size()) {
    if (alnum_lower(c[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < c.size() && !alnum_lower(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" || sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}
}  // namespace

bool valid_repository_name(std::string_view name) {
  if (name.size() < 2 || name.size() > 256) return false;
  std::size_t start = 0;
  while (true) {
    auto slash = name.find('/', start);
    if (!valid_component(name.substr(start, slash == std::string_view::npos ? slash : slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; };
  if (!word(tag[0])) return false;
  for (char c : tag)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

bool valid_digest(std::string_view digest) {
  if (digest.size() != 71 || digest.substr(0, 7) != "sha256:") return false;
  for (char c : digest.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool valid_upload_id(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::optional<Route> parse_route(std::string_view path) {
  if (path == "/v2" || path == "/v2/") return Route{Route::Kind::Base, "", ""};
  if (path.substr(0, 4) != "/v2/") return std::nullopt;
  std::string_view rest = path.substr(4);
  if (rest == "_catalog") return Route{Route::Kind::Catalog, "", ""};
  Route r;
  auto finish = [&](std::string_view name, bool ref_ok) -> std::optional<Route> {
    r.name = valid_repository_name(name) ? std::string(name) : std::string();
    if (!ref_ok) r.reference.clear();
    return r;
  };
  // The name may contain "/", so match the suffixes from the right.
  if (rest.size() > 10 && rest.substr(rest.size() - 10) == "/tags/list") {
    r.kind = Route::Kind::Tags;
    return finish(rest.substr(0, rest.size() - 10), true);
  }
  if (rest.size() > 15 && rest.substr(rest.size() - 15) == "/blobs/uploads/") {
    r.kind = Route::Kind::UploadStart;
    return finish(rest.substr(0, rest.size() - 15), true);
  }
  if (rest.size() > 14 && rest.substr(rest.size() - 14) == "/blobs/uploads") {
    r.kind = Route::Kind::UploadStart;
    return finish(rest.substr(0, rest.size() - 14), true);
  }
  if (auto p = rest.rfind("/blobs/uploads/"); p != std::string_view::npos) {
    r.kind = Route::Kind::Upload;
    r.reference = std::string(rest.substr(p + 15));
    return finish(rest.substr(0, p), valid_upload_id(r.reference));
  }
  if (auto p = rest.rfind("/manifests/"); p != std::string_view::npos) {
    r.kind = Route::Kind::Manifest;
    r.reference = std::string(rest.substr(p + 11));
    return finish(rest.substr(0, p), valid_tag(r.reference) || valid_digest(r.reference));
  }
  if (auto p = rest.rfind("/blobs/"); p != std::string_view::npos) {
    r.kind = Route::Kind::Blob;
    r.reference = std::string(rest.substr(p + 7));
    return finish(rest.substr(0, p), valid_digest(r.reference));
  }
  return std::nullopt;
}

}  // namespace ecsd::registry
