// awslogs followers: engine output -> CloudWatch Logs events (design in log_follower.hpp).
#include "ecsd/reconciler/log_follower.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "ecsd/common/arn.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/store/log_repo.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::reconciler {

using nlohmann::json;

namespace {
/// A pending multi-line event is complete once no line joined it for this long.
constexpr std::int64_t kMultilineIdleNs = 2'000'000'000;
/// Reconnects after a broken stream before a follower gives up (the next task pass restarts it).
constexpr int kMaxReconnects = 30;
/// Events written per transaction at most, and the longest a completed event waits for company.
/// A quiet stream is written at the next idle tick (the engine client's stop poll, 250 ms).
constexpr std::size_t kBatchEvents = 2000;
constexpr double kBatchSeconds = 0.1;

std::string meta_key(const std::string& container_id) { return "awslogs:" + container_id; }

std::string regex_escape(char c) {
  static const std::string kSpecial = R"(\^$.|?*+()[]{})";
  return kSpecial.find(c) != std::string::npos ? std::string("\\") + c : std::string(1, c);
}

std::string strftime_regex(const std::string& fmt) {
  std::string out = "^";
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 == fmt.size()) {
      out += regex_escape(fmt[i]);
      continue;
    }
    switch (fmt[++i]) {
      case 'Y': out += R"(\d{4})"; break;
      case 'y': case 'm': case 'd': case 'H': case 'I': case 'M': case 'S': out += R"(\d{2})"; break;
      case 'e': out += R"([ \d]\d)"; break;
      case 'j': out += R"(\d{3})"; break;
      case 'b': case 'h': case 'a': out += "[A-Za-z]{3}"; break;
      case 'B': case 'A': out += "[A-Za-z]+"; break;
      case 'p': out += "(AM|PM|am|pm)"; break;
      case 'L': out += R"(\.\d{3})"; break;
      case 'f': out += R"(\d{1,9})"; break;
      case 'Z': out += "[A-Za-z_/+-]+"; break;
      case 'z': out += R"((Z|[+-]\d{2}:?\d{2}))"; break;
      case 'T': out += R"(\d{2}:\d{2}:\d{2})"; break;
      case 'F': out += R"(\d{4}-\d{2}-\d{2})"; break;
      case '%': out += "%"; break;
      default: out += regex_escape(fmt[i]); break;
    }
  }
  return out;
}
}  // namespace

std::optional<AwslogsConfig> awslogs_config(const json& def) {
  if (!def.contains("logConfiguration") || !def["logConfiguration"].is_object()) return std::nullopt;
  const json& lc = def["logConfiguration"];
  if (lc.value("logDriver", "") != "awslogs") return std::nullopt;
  const json opts = lc.value("options", json::object());
  auto opt = [&](const char* k) { return opts.contains(k) && opts[k].is_string() ? opts[k].get<std::string>() : ""; };
  AwslogsConfig c;
  c.group = opt("awslogs-group");
  c.stream_prefix = opt("awslogs-stream-prefix");
  c.region = opt("awslogs-region");
  c.create_group = opt("awslogs-create-group") == "true";
  c.datetime_format = opt("awslogs-datetime-format");
  c.multiline_pattern = opt("awslogs-multiline-pattern");
  return c;
}

std::string awslogs_stream(const AwslogsConfig& cfg, const std::string& container, const std::string& task_id,
                           const std::string& container_id) {
  if (cfg.stream_prefix.empty()) return container_id;
  return cfg.stream_prefix + "/" + container + "/" + task_id;
}

std::string multiline_regex(const AwslogsConfig& cfg) {
  // The awslogs driver prefers the datetime format when both are set.
  if (!cfg.datetime_format.empty()) return strftime_regex(cfg.datetime_format);
  if (!cfg.multiline_pattern.empty()) return "^(" + cfg.multiline_pattern + ")";
  return "";
}

MultilineJoiner::MultilineJoiner(const std::string& start_pattern) {
  if (start_pattern.empty()) return;
  try {
    start_.emplace(start_pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    spdlog::warn("awslogs: bad multiline pattern {}: {}; one event per line", start_pattern, e.what());
  }
}

void MultilineJoiner::add(const runtime::LogLine& line, std::int64_t ns, int count, std::vector<Event>& out) {
  bool starts = !start_ || std::regex_search(line.text, *start_);
  if (starts || !pending_) {
    if (pending_) out.push_back(std::move(*pending_));
    pending_ = Event{line.ts_ns / 1'000'000, line.text, ns, count};
  } else {
    pending_->message += "\n" + line.text;
    pending_->last_ns = ns;
    pending_->last_count = count;
  }
  pending_seen_ns_ = line.ts_ns;
  if (!start_) {  // one event per line: nothing to wait for
    out.push_back(std::move(*pending_));
    pending_.reset();
  }
}

void MultilineJoiner::flush(std::int64_t idle_before_ns, std::vector<Event>& out) {
  if (!pending_) return;
  if (idle_before_ns != 0 && pending_seen_ns_ >= idle_before_ns) return;
  out.push_back(std::move(*pending_));
  pending_.reset();
}

LogFollowers::LogFollowers(store::Store& store, runtime::ContainerRuntime& runtime) : store_(store), runtime_(runtime) {}

LogFollowers::~LogFollowers() { stop_all(); }

std::string LogFollowers::prepare(const store::Scope& scope, const AwslogsConfig& cfg) {
  if (cfg.group.empty())
    return "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: "
           "must specify a value for log opt 'awslogs-group'";
  return store_.write([&](store::Db& db) -> std::string {
    store::LogRepo repo(db);
    if (repo.find_group(scope, cfg.group)) return "";
    if (!cfg.create_group)
      return "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to "
             "create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.";
    repo.create_group(scope, cfg.group, arn::make("logs", scope.region, scope.account, "log-group:" + cfg.group),
                      static_cast<std::int64_t>(clock().now() * 1000), json::object());
    return "";
  });
}

void LogFollowers::ensure(const store::Scope& scope, const AwslogsConfig& cfg, const std::string& stream,
                          const runtime::ContainerState& c) {
  if (c.status == "created" || c.status == "removing" || c.id.empty()) return;
  std::lock_guard lock(mu_);
  // Join followers that ended, so their threads' resources go; the entries stay as "read to the end".
  for (auto& [id, f] : followers_)
    if (f->finished && f->thread.joinable()) f->thread.join();
  auto it = followers_.find(c.id);
  if (it != followers_.end()) {
    Follower& f = *it->second;
    if (!f.finished || c.status != "running") return;
    // It ran to its end, and the container runs again (restarted): follow from where it stopped.
    if (f.thread.joinable()) f.thread.join();
    followers_.erase(it);
  }
  auto f = std::make_unique<Follower>();
  Follower* raw = f.get();
  raw->thread = std::thread([this, raw, scope, cfg, stream, id = c.id] { run(*raw, scope, cfg, stream, id); });
  followers_[c.id] = std::move(f);
}

void LogFollowers::stop_all() {
  std::map<std::string, std::unique_ptr<Follower>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(followers_);
  }
  for (auto& [id, f] : all) f->stop = true;
  for (auto& [id, f] : all)
    if (f->thread.joinable()) f->thread.join();
}

std::size_t LogFollowers::active() {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [id, f] : followers_) n += f->finished ? 0 : 1;
  return n;
}

void LogFollowers::run(Follower& f, store::Scope scope, AwslogsConfig cfg, std::string stream,
                       std::string container_id) {
  const std::string key = meta_key(container_id);
  std::int64_t resume_ns = 0;
  int resume_count = 0;
  store_.read([&](store::Db& db) {
    if (auto v = store::MetaRepo(db).get(key)) {
      json j = json::parse(*v, nullptr, false);
      if (j.is_object()) {
        resume_ns = j.value("ns", std::int64_t{0});
        resume_count = j.value("n", 0);
      }
    }
  });
  // Lines at exactly the resume timestamp that are already stored (the engine's since= is inclusive).
  int skip = resume_count;
  std::int64_t cur_ns = resume_ns;
  int cur_count = resume_count;
  MultilineJoiner joiner(multiline_regex(cfg));
  bool warned = false;

  auto write = [&](std::vector<MultilineJoiner::Event>& events) {
    if (events.empty()) return;
    std::vector<std::pair<std::int64_t, std::string>> batch;
    batch.reserve(events.size());
    for (auto& e : events)
      if (!e.message.empty()) batch.emplace_back(e.ts_ms, std::move(e.message));
    const auto& last = events.back();
    json pos = {{"ns", last.last_ns}, {"n", last.last_count}};
    const std::int64_t now = static_cast<std::int64_t>(clock().now() * 1000);
    bool stored = store_.write([&](store::Db& db) {
      store::LogRepo repo(db);
      auto g = repo.find_group(scope, cfg.group);
      if (!g && cfg.create_group)
        g = repo.create_group(scope, cfg.group, arn::make("logs", scope.region, scope.account, "log-group:" + cfg.group),
                              now, json::object());
      if (!g) return false;  // deleted under a running task: lines are dropped, as CloudWatch would refuse them
      auto s = repo.find_stream(g->id, stream);
      if (!s) s = repo.create_stream(g->id, stream, now);
      repo.append(g->id, s->id, batch, now);
      store::MetaRepo(db).put(key, pos.dump());
      return true;
    });
    if (!stored && !warned) {
      spdlog::warn("awslogs: log group {} of container {} no longer exists; dropping its output", cfg.group, container_id);
      warned = true;
    }
    events.clear();
  };

  // Completed events wait here briefly: the engine sends about one line per chunk when following,
  // and a transaction per line would cap ingest at a few thousand lines a second.
  std::vector<MultilineJoiner::Event> ready;
  double first_ready_at = 0;
  runtime::LogSink sink = [&](std::vector<runtime::LogLine>& lines) {
    for (const auto& line : lines) {
      if (line.ts_ns < resume_ns) continue;
      if (line.ts_ns == resume_ns && skip > 0) {
        --skip;
        continue;
      }
      if (line.ts_ns == cur_ns) {
        ++cur_count;
      } else {
        cur_ns = line.ts_ns;
        cur_count = 1;
      }
      joiner.add(line, cur_ns, cur_count, ready);
    }
    if (lines.empty()) joiner.flush(static_cast<std::int64_t>(clock().now() * 1e9) - kMultilineIdleNs, ready);
    if (ready.empty()) return;
    const double now = clock().monotonic();
    if (first_ready_at == 0) first_ready_at = now;
    if (lines.empty() || ready.size() >= kBatchEvents || now - first_ready_at >= kBatchSeconds) {
      write(ready);
      first_ready_at = 0;
    }
  };

  // The stream (visible in DescribeLogStreams) exists from the start, as with the real driver.
  try {
    store_.write([&](store::Db& db) {
      store::LogRepo repo(db);
      if (auto g = repo.find_group(scope, cfg.group); g && !repo.find_stream(g->id, stream))
        repo.create_stream(g->id, stream, static_cast<std::int64_t>(clock().now() * 1000));
    });
  } catch (const std::exception& e) {
    spdlog::warn("awslogs: cannot create stream {}: {}", stream, e.what());
  }

  for (int attempt = 0; !f.stop && attempt <= kMaxReconnects; ++attempt) {
    try {
      runtime_.follow_logs(container_id, cur_ns > 0 ? cur_ns : resume_ns, true, sink, f.stop);
      break;  // the container stopped and its output is drained, or we were told to stop
    } catch (const runtime::RuntimeError& e) {
      if (e.kind == runtime::RuntimeError::Kind::NotFound) break;
      spdlog::debug("awslogs: following {}: {}; reconnecting", container_id, e.what());
      // Restart from the last line seen: lines up to it are stored or pending in the joiner.
      resume_ns = cur_ns;
      skip = cur_count;
      for (int i = 0; i < 10 && !f.stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } catch (const std::exception& e) {
      spdlog::warn("awslogs: following {}: {}", container_id, e.what());
      break;
    }
  }
  // A multi-line event still pending when we are told to stop is not written: the resume point
  // stays before its lines, so the next follower reads and joins them again.
  try {
    if (!f.stop) joiner.flush(0, ready);
    write(ready);
  } catch (const std::exception& e) {
    spdlog::warn("awslogs: storing the last lines of {}: {}", container_id, e.what());
  }
  f.finished = true;
}

}  // namespace ecsd::reconciler
