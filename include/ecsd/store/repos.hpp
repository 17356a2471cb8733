// Row-level helpers shared by the repos (not part of the public store API for handlers).
#pragma once
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store::detail {

/// Reads columns (id, arn, name, status, doc, version, created_at) starting at column 0.
Record record_from(const Stmt& s);
/// Steps `s` to the end collecting records, then resets it.
std::vector<Record> all_records(Stmt& s);
/// Steps `s` once; @return the record if there is one. Resets `s`.
std::optional<Record> one_record(Stmt& s);

}  // namespace ecsd::store::detail
