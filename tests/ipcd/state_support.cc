#include "state_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "ipc/message.h"
#include "spawn.h"
#include "support/test_util.h"

#ifndef IPCCTL_PATH
#error "tests/ipcd/CMakeLists.txt defines IPCCTL_PATH for the state tests"
#endif

namespace ipc::testing {
namespace {

template <typename T>
T Get(const std::string& bytes, uint64_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

const uint32_t* CrcTable() {
  static uint32_t table[256];
  static const bool done = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      table[i] = c;
    }
    return true;
  }();
  (void)done;
  return table;
}

bool IsLogName(const std::string& name) {
  if (name.size() != 4 + 20 || name.compare(0, 4, "log.") != 0) return false;
  return std::all_of(name.begin() + 4, name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

uint32_t Crc32c(const void* data, size_t size) {
  const uint32_t* table = CrcTable();
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

StateFile ReadStateFile(const std::string& path) {
  StateFile file;
  file.path = path;
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  file.bytes = text.str();
  const std::string& b = file.bytes;
  if (b.size() < kStateFileHeaderBytes) return file;
  file.magic = b.substr(0, 8);
  file.version = Get<uint32_t>(b, 8);
  file.base_seq = Get<uint64_t>(b, 16);
  file.header_ok = Get<uint32_t>(b, 24) == Crc32c(b.data(), 24);
  uint64_t at = kStateFileHeaderBytes;
  while (at + kStateRecordHeaderBytes <= b.size()) {
    const uint32_t length = Get<uint32_t>(b, at);
    if (b.size() - at - kStateRecordHeaderBytes < length) break;
    StateRecordSpan record;
    record.offset = at;
    record.size = kStateRecordHeaderBytes + length;
    record.seq = Get<uint64_t>(b, at + 8);
    record.payload = b.substr(at + kStateRecordHeaderBytes, length);
    record.crc_ok = Get<uint32_t>(b, at + 4) == Crc32c(b.data() + at + 8, 8 + length);
    if (!record.crc_ok) break;
    file.records.push_back(std::move(record));
    at += kStateRecordHeaderBytes + length;
  }
  file.end = at;
  return file;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> LogFiles(const std::string& dir) {
  std::vector<std::string> logs;
  for (const std::string& name : ListDir(dir)) {
    if (IsLogName(name)) logs.push_back(dir + "/" + name);
  }
  return logs;  // Zero-padded, so name order is seq order.
}

std::string NewestLog(const std::string& dir) {
  const std::vector<std::string> logs = LogFiles(dir);
  return logs.empty() ? "" : logs.back();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool MakeDir(const std::string& path) {
  return ::mkdir(path.c_str(), 0700) == 0;
}

bool CopyDir(const std::string& from, const std::string& to) {
  if (!PathExists(to) && !MakeDir(to)) return false;
  for (const std::string& name : ListDir(from)) {
    struct stat st;
    const std::string src = from + "/" + name;
    if (::lstat(src.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (!WriteWholeFile(to + "/" + name, ReadFile(src))) return false;
  }
  return true;
}

bool WriteWholeFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  return static_cast<bool>(out);
}

bool ContainsNumber(const std::string& text, uint64_t number) {
  const std::string n = std::to_string(number);
  for (size_t at = text.find(n); at != std::string::npos;
       at = text.find(n, at + 1)) {
    const bool digit_before = at > 0 && std::isdigit(static_cast<unsigned char>(text[at - 1]));
    const size_t after = at + n.size();
    const bool digit_after =
        after < text.size() && std::isdigit(static_cast<unsigned char>(text[after]));
    if (!digit_before && !digit_after) return true;
  }
  return false;
}

CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms,
                         const std::vector<std::string>& env) {
  CommandResult result;
  TempDir dir;
  const std::string out_path = dir.File("out"), err_path = dir.File("err");
  std::vector<std::string> args = argv;
  std::vector<char*> c_args;
  for (std::string& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return result;
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("STATE_DIRECTORY");
    for (const std::string& e : env) {
      const size_t eq = e.find('=');
      ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
    }
    ::execv(c_args[0], c_args.data());
    ::_exit(127);
  }
  result.exit_code = WaitChild(pid, timeout_ms);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

CommandResult RunIpcctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {IPCCTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

std::string IpcdBinary() { return IPCD_BINARY; }

Result<BareClient> BareClient::Open(const std::string& url) {
  BareClient client;
  IPC_ASSIGN_OR_RETURN(client.channel_, Connect(url, std::chrono::seconds(10)));
  v1::Request hello;
  hello.set_id(++client.last_id_);
  hello.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_CURRENT);
  hello.mutable_hello()->set_client_name("state-test");
  IPC_RETURN_IF_ERROR(SendMessage(client.channel_, hello, std::chrono::seconds(10)));
  IPC_ASSIGN_OR_RETURN(v1::Response reply, client.Receive());
  if (CodeOf(reply) != v1::OK) {
    return Status(ErrorCode::kProtocolError, "hello refused: " + reply.status().message());
  }
  return client;
}

Result<uint64_t> BareClient::SendCall(const v1::Call& call) {
  v1::Request request;
  request.set_id(++last_id_);
  *request.mutable_call() = call;
  IPC_RETURN_IF_ERROR(SendMessage(channel_, request, std::chrono::seconds(10)));
  return request.id();
}

Result<uint64_t> BareClient::SendBatch(const v1::Batch& batch) {
  v1::Request request;
  request.set_id(++last_id_);
  *request.mutable_batch() = batch;
  IPC_RETURN_IF_ERROR(SendMessage(channel_, request, std::chrono::seconds(10)));
  return request.id();
}

Result<v1::Response> BareClient::Receive(int timeout_ms) {
  return ReceiveMessage<v1::Response>(channel_, std::chrono::milliseconds(timeout_ms));
}

Result<v1::Response> BareClient::Call(const v1::Call& call, int timeout_ms) {
  IPC_ASSIGN_OR_RETURN(uint64_t id, SendCall(call));
  IPC_ASSIGN_OR_RETURN(v1::Response response, Receive(timeout_ms));
  if (response.id() != id) {
    return Status(ErrorCode::kProtocolError,
                  "response id " + std::to_string(response.id()) + " for request " +
                      std::to_string(id));
  }
  return response;
}

PersistenceView PersistenceOf(const v1::Stats& stats) {
  PersistenceView view;
  view.present = stats.has_persistence();
  if (!view.present) return view;
  const v1::Persistence& p = stats.persistence();
  view.state_dir = p.state_dir();
  view.fsync = p.fsync();
  view.log_bytes = p.log_bytes();
  view.records_since_snapshot = p.records_since_snapshot();
  view.snapshot_bytes = p.snapshot_bytes();
  view.last_sync_unix_ms = p.last_sync_unix_ms();
  view.last_snapshot_unix_ms = p.last_snapshot_unix_ms();
  view.snapshot_running = p.snapshot_running();
  view.last_write_error = p.last_write_error();
  view.last_seq = p.last_seq();
  return view;
}

std::string DumpState(RawClient& client, const std::string& skip_prefix) {
  std::ostringstream out;
  const v1::Response list = client.List();
  if (CodeOf(list) != v1::OK) return "ListObjects failed: " + list.status().message();
  for (const v1::ObjectInfo& info : list.objects().objects()) {
    if (info.kind() == v1::LOCK || info.kind() == v1::RLOCK) continue;
    if (!skip_prefix.empty() && info.name().rfind(skip_prefix, 0) == 0) continue;
    out << "object '" << info.name() << "' " << v1::Kind_Name(info.kind())
        << " size " << info.size() << " bytes " << info.bytes() << "\n";
    switch (info.kind()) {
      case v1::DICT:
      case v1::NAMESPACE: {
        const v1::Response items = client.Call(MakeCall(info.name(), info.kind(), v1::ITEMS));
        for (const v1::Entry& e : items.result().items()) {
          out << "  [" << e.key() << "] = " << e.value().ShortDebugString() << "\n";
        }
        break;
      }
      case v1::COUNTER:
        out << "  = "
            << client.Call(MakeCall(info.name(), v1::COUNTER, v1::GET))
                   .result()
                   .value()
                   .int_value()
            << "\n";
        break;
      case v1::VALUE:
        out << "  = "
            << client.Call(MakeCall(info.name(), v1::VALUE, v1::GET)).result().value().ShortDebugString()
            << "\n";
        break;
      case v1::LIST: {
        const v1::Response slice = client.Call(MakeCall(info.name(), v1::LIST, v1::SLICE));
        for (const v1::Value& v : slice.result().values()) out << "  - " << v.ShortDebugString() << "\n";
        break;
      }
      case v1::EVENT:
        out << "  set "
            << client.Call(MakeCall(info.name(), v1::EVENT, v1::IS_SET)).result().flag()
            << "\n";
        break;
      default:
        break;
    }
  }
  return out.str();
}

std::vector<v1::Value> DrainQueue(RawClient& client, const std::string& queue,
                                  int limit) {
  std::vector<v1::Value> items;
  for (int i = 0; i < limit; ++i) {
    v1::Call get = MakeCall(queue, v1::QUEUE, v1::GET);
    get.set_timeout_ms(0);
    const v1::Response r = client.Call(get);
    if (CodeOf(r) != v1::OK) break;
    items.push_back(r.result().value());
  }
  return items;
}

}  // namespace ipc::testing
