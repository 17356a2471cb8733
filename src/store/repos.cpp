// Row helpers shared by the repos.
#include "ecsd/store/repos.hpp"

namespace ecsd::store::detail {

Record record_from(const Stmt& s) {
  Record r;
  r.id = s.int64(0);
  r.arn = s.text(1);
  r.name = s.text(2);
  r.status = s.text(3);
  r.doc = s.db().parse_doc(s.text_view(4));
  r.version = s.int64(5);
  r.created_at = s.real(6);
  return r;
}

std::vector<Record> all_records(Stmt& s) {
  std::vector<Record> out;
  while (s.step()) out.push_back(record_from(s));
  s.reset();
  return out;
}

std::optional<Record> one_record(Stmt& s) {
  std::optional<Record> out;
  if (s.step()) out = record_from(s);
  s.reset();
  return out;
}

}  // namespace ecsd::store::detail
